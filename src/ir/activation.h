// The activation vocabulary of the fused ops (docs/fused_ops.md): the
// `activation` string attribute of FusedMatMul / FusedConv with its two float
// parameters `activation_alpha` and `activation_beta`, as an enum inside the
// library, plus recognition of a graph node that IS one of these activations
// (so the epilogue fusions can absorb it).
//
// Thread safety: pure functions over their arguments.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "ir/graph.h"

namespace frt {

enum class Activation : uint8_t {
  kNone,       // ""
  kRelu,       // max(x, 0)
  kClip,       // min(max(x, alpha), beta); ReLU6 is clip 0..6
  kLeakyRelu,  // x >= 0 ? x : alpha * x
  kGelu,       // 0.5 x (1 + erf(x / sqrt 2))
  kGeluTanh,   // 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
  kSilu,       // x * sigmoid(x)
  kSigmoid,    // 1 / (1 + exp(-x))
  kTanh,       // tanh(x)
};

// An activation with its parameters. alpha/beta mean: clip min/max (an
// absent bound is -inf/+inf), leaky_relu slope (alpha); unused otherwise (0).
struct ActivationSpec {
  Activation kind = Activation::kNone;
  float alpha = 0.0f;
  float beta = 0.0f;
};

// The attribute spelling: "", "relu", "clip", "leaky_relu", "gelu",
// "gelu_tanh", "silu", "sigmoid", "tanh".
std::string_view ActivationName(Activation a);
// nullopt for a name outside the vocabulary.
std::optional<Activation> ActivationFromName(std::string_view name);

// Reads `activation`, `activation_alpha` and `activation_beta` from a fused
// node. Absent `activation` is kNone; absent parameters take the defaults
// above (leaky_relu slope 0.01, as ONNX LeakyRelu). Error (kInvalidModel,
// naming the node and listing the vocabulary) for an unknown name.
Result<ActivationSpec> ReadActivation(const Node& node);
// Writes the three attributes (alpha/beta only for clip and leaky_relu;
// `activation` is erased for kNone).
void WriteActivation(const ActivationSpec& spec, Attributes& attrs);

// When `node` computes exactly one of the activations above on its input 0
// (Relu; Clip whose min/max inputs are absent or constant one-element
// tensors; LeakyRelu; Gelu with approximate "none" or "tanh"; Swish with
// alpha 1; Sigmoid; Tanh): that activation. nullopt otherwise. Checks the op
// and its parameters only, not dtypes or consumers.
std::optional<ActivationSpec> MatchActivationNode(const Node& node);

}  // namespace frt
