// A BERT-shaped encoder built by hand with the NetworkDefinition API, for
// runtime and memory-planning tests: x f32[batch, seq, hidden] (dynamic batch
// and seq) through `layers` encoder layers (Q/K/V projections, scaled
// dot-product attention over `heads` heads, output projection + residual +
// LayerNorm, GELU (erf form) FFN + residual + LayerNorm). Weights are random
// (fixed seed) and shared by all layers to keep the test's memory small;
// activations, which is what the tests look at, are the real sizes.
#pragma once

#include "fusionrt/network.h"

namespace frt::testing_util {

struct BertShape {
  int layers = 12;
  int64_t hidden = 768;
  int64_t heads = 12;
  int64_t ffn = 3072;
};

Result<NetworkDefinition> MakeBertNetwork(const BertShape& shape, uint64_t seed = 1);

}  // namespace frt::testing_util
