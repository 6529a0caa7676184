// MultiHeadAttention on CUDA: the flash (f16/bf16 tensor-core) and simple
// (fallback) kernels against the CPU reference kernel (double inside), on
// hand-built graphs with one kMultiHeadAttention node, fresh random inputs;
// plus CPU-only checks of the parameter and kernel-choice helpers.
//
// Tolerances (relative L2 over the whole output):
//  - f32, 1e-5: the simple kernel computes in fp32 (dot products over <= 128
//    terms, softmax, P.V over <= 4096 keys); accumulated rounding stays around
//    1e-6, while any indexing mistake (wrong head, key, mask element) is O(1).
//  - f16, 5e-3: q, k, v are rounded to f16 at the graph's input casts (2^-11
//    relative), so the scores move by ~1e-3 and the probabilities are rounded
//    to f16 again before P.V; the output, rounded to f16 once more, lands near
//    1e-3.
//  - bf16, 3e-2: the same with 8 mantissa bits (2^-8 per rounding), ~1e-2.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>

#include "backends/cuda/attention_params.h"
#include "backends/cuda/gpu_test_util.h"
#include "ir/shape_inference.h"

namespace frt {
namespace {

using gpu_test::GpuOptions;
using gpu_test::RandomTensor;

enum class Precision { kF32, kF16, kBF16 };

struct MhaCase {
  int64_t b = 2, sq = 64, sk = 64, heads = 2, d = 64, dv = 64;
  bool packed = false;
  bool causal = false;
  enum MaskKind { kNone, kFloat, kBool } mask = kNone;
  Dims mask_dims;
  bool bert_mask = false;         // float mask of 0 / -10000 (padding) instead of random values
  float scale = NAN;              // NaN: attribute absent (1/sqrt(D))
  int64_t fully_masked_row = -1;  // bool mask: this query row attends to nothing
};

// A case without mask, packing or causality.
MhaCase MakeCase(int64_t b, int64_t sq, int64_t sk, int64_t heads, int64_t d, int64_t dv) {
  MhaCase c;
  c.b = b, c.sq = sq, c.sk = sk, c.heads = heads, c.d = d, c.dv = dv;
  return c;
}

// The graph: inputs "q", "k", "v" (or "qkv"), optional float "mask" input or
// bool mask constant, one MultiHeadAttention node, output "y".
std::unique_ptr<Graph> BuildGraph(const MhaCase& c, std::mt19937_64& rng) {
  auto g = std::make_unique<Graph>();
  g->name = "mha";
  auto input = [&](const std::string& name, Dims dims) {
    Value* v = g->AddValue(name).value();
    v->dtype = DType::kFloat32;
    v->shape = Shape::FromDims(dims);
    g->AddInput(v);
    return v;
  };
  Node* n = g->AddNode(OpKind::kMultiHeadAttention, "attn");
  n->opset = 1;
  if (c.packed) {
    n->inputs = {input("qkv", {c.b, c.sq, c.heads * 3 * c.d}), nullptr, nullptr};
  } else {
    n->inputs = {input("q", {c.b, c.sq, c.heads * c.d}), input("k", {c.b, c.sk, c.heads * c.d}),
                 input("v", {c.b, c.sk, c.heads * c.dv})};
  }
  if (c.mask == MhaCase::kFloat) n->inputs.push_back(input("mask", c.mask_dims));
  if (c.mask == MhaCase::kBool) {
    Tensor t = Tensor::Allocate(DType::kBool, c.mask_dims).value();
    std::bernoulli_distribution keep(0.7);
    const int64_t sk = c.mask_dims.back();
    const int64_t sq = c.mask_dims.size() >= 2 ? c.mask_dims[c.mask_dims.size() - 2] : 1;
    for (int64_t e = 0; e < t.num_elements(); ++e) {
      t.data<bool>()[e] = (e / sk) % sq == c.fully_masked_row ? false : keep(rng);
    }
    Value* m = g->AddValue("mask").value();
    m->constant = std::move(t);
    m->dtype = DType::kBool;
    m->shape = Shape::FromDims(c.mask_dims);
    n->inputs.push_back(m);
  }
  n->attrs.Set("num_heads", c.heads);
  if (!std::isnan(c.scale)) n->attrs.Set("scale", c.scale);
  if (c.causal) n->attrs.Set("causal", int64_t{1});
  Value* y = g->AddValue("y").value();
  y->producer = n;
  n->outputs = {y};
  g->AddOutput(y);
  Status s = InferGraphShapes(*g);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return g;
}

std::map<std::string, Tensor> MakeInputs(const Graph& g, const MhaCase& c, std::mt19937_64& rng) {
  std::map<std::string, Tensor> inputs;
  for (const Value* in : g.inputs()) {
    const Dims dims = in->shape->static_dims();
    if (in->name == "mask") {
      Tensor m = RandomTensor(DType::kFloat32, dims, rng(), -2.0f, 2.0f);
      std::bernoulli_distribution drop(0.15);
      for (int64_t e = 0; e < m.num_elements(); ++e) {
        float& f = m.data<float>()[e];
        if (c.bert_mask) {
          // Batch b pads its last 8*b + 3 keys, as a tokenizer's attention mask does.
          const int64_t sk = dims.back(), b = dims[0] > 1 ? e / (m.num_elements() / dims[0]) : 0;
          f = (e % sk) >= sk - (8 * b + 3) ? -10000.0f : 0.0f;
        } else if (drop(rng)) {
          f = -std::numeric_limits<float>::infinity();
        }
      }
      inputs[in->name] = std::move(m);
    } else {
      // Wide enough that the softmax is far from uniform (scores of O(1) after scaling).
      inputs[in->name] = RandomTensor(DType::kFloat32, dims, rng(), -2.0f, 2.0f);
    }
  }
  return inputs;
}

GpuOptions OptionsFor(Precision p) {
  GpuOptions o;
  o.fp16 = p == Precision::kF16;
  o.bf16 = p == Precision::kBF16;
  return o;
}

double ToleranceFor(Precision p) {
  switch (p) {
    case Precision::kF32:
      return 1e-5;  // fp32 throughout (see the file comment)
    case Precision::kF16:
      return 5e-3;  // f16 inputs and probabilities
    case Precision::kBF16:
      return 3e-2;  // bf16 inputs and probabilities
  }
  return 0;
}

// Runs the case on the GPU in `precision`, compares with the reference and
// checks that the attention layer ran `tactic`. Returns the GPU output.
Tensor Check(const MhaCase& c, Precision precision, const std::string& tactic) {
  std::mt19937_64 rng(std::random_device{}());
  std::unique_ptr<Graph> g = BuildGraph(c, rng);
  const auto inputs = MakeInputs(*g, c, rng);
  gpu_test::GpuRun run =
      gpu_test::ExpectMatchesReference(*g, inputs, ToleranceFor(precision), OptionsFor(precision));
  int found = 0;
  for (const LayerInfo& l : run.layers) {
    if (l.op != OpKindName(OpKind::kMultiHeadAttention)) continue;
    ++found;
    EXPECT_EQ(l.tactic, tactic);
  }
  EXPECT_EQ(found, 1) << "the engine has no (or several) MultiHeadAttention layers";
  return run.outputs.empty() ? Tensor() : std::move(run.outputs[0]);
}

void CheckAllPrecisions(const MhaCase& c, bool flash_for_half) {
  const std::string half_tactic = flash_for_half ? "cuda.attention.flash" : "cuda.attention.simple";
  {
    SCOPED_TRACE("f32");
    Check(c, Precision::kF32, "cuda.attention.simple");
  }
  {
    SCOPED_TRACE("f16");
    Check(c, Precision::kF16, half_tactic);
  }
  {
    SCOPED_TRACE("bf16");
    Check(c, Precision::kBF16, half_tactic);
  }
}

TEST(CudaAttention, BertBaseWithPaddingMask) {
  FRT_SKIP_WITHOUT_GPU();
  MhaCase c = MakeCase(2, 128, 128, 12, 64, 64);
  c.mask = MhaCase::kFloat;
  c.mask_dims = {2, 1, 1, 128};
  c.bert_mask = true;
  CheckAllPrecisions(c, true);
}

TEST(CudaAttention, BertLargeSeq384) {
  FRT_SKIP_WITHOUT_GPU();
  MhaCase c = MakeCase(1, 384, 384, 16, 64, 64);
  c.mask = MhaCase::kFloat;
  c.mask_dims = {1, 1, 1, 384};
  c.bert_mask = true;
  CheckAllPrecisions(c, true);
}

TEST(CudaAttention, PackedQkvWithScale) {
  FRT_SKIP_WITHOUT_GPU();
  MhaCase c = MakeCase(2, 77, 77, 4, 64, 64);
  c.packed = true;
  c.scale = 0.09f;
  CheckAllPrecisions(c, true);
}

TEST(CudaAttention, CausalGpt2Length200) {
  FRT_SKIP_WITHOUT_GPU();
  MhaCase c = MakeCase(2, 200, 200, 12, 64, 64);
  c.packed = true;
  c.causal = true;
  CheckAllPrecisions(c, true);
}

TEST(CudaAttention, CrossAttentionSqDiffersFromSk) {
  FRT_SKIP_WITHOUT_GPU();
  MhaCase c = MakeCase(2, 37, 150, 3, 64, 64);
  c.mask = MhaCase::kFloat;
  c.mask_dims = {2, 1, 37, 150};  // random values with some -inf
  CheckAllPrecisions(c, true);
}

TEST(CudaAttention, CausalMoreQueriesThanKeysLeavesZeroRows) {
  FRT_SKIP_WITHOUT_GPU();
  // Query i sees keys j <= i - 32: rows 0..31 have no key and must be zeros.
  MhaCase c = MakeCase(1, 80, 48, 2, 64, 64);
  c.causal = true;
  for (Precision p : {Precision::kF32, Precision::kF16}) {
    Tensor y = Check(c, p, p == Precision::kF32 ? "cuda.attention.simple" : "cuda.attention.flash");
    if (y.num_elements() == 0) continue;
    for (int64_t e = 0; e < 32 * c.heads * c.dv; ++e) ASSERT_EQ(y.GetAsDouble(e), 0.0) << e;
  }
}

TEST(CudaAttention, CausalFewerQueriesThanKeys) {
  FRT_SKIP_WITHOUT_GPU();
  MhaCase c = MakeCase(2, 70, 300, 2, 128, 128);
  c.causal = true;
  c.mask = MhaCase::kFloat;
  c.mask_dims = {1, 1, 70, 300};
  CheckAllPrecisions(c, true);
}

TEST(CudaAttention, HeadDim128Seq1024) {
  FRT_SKIP_WITHOUT_GPU();
  MhaCase c = MakeCase(1, 1024, 1024, 2, 128, 128);
  CheckAllPrecisions(c, true);
}

TEST(CudaAttention, BoolMaskWithFullyMaskedRow) {
  FRT_SKIP_WITHOUT_GPU();
  MhaCase c = MakeCase(2, 100, 100, 3, 64, 64);
  c.mask = MhaCase::kBool;
  c.mask_dims = {2, 1, 100, 100};
  c.fully_masked_row = 17;
  for (Precision p : {Precision::kF32, Precision::kF16, Precision::kBF16}) {
    Tensor y = Check(c, p, p == Precision::kF32 ? "cuda.attention.simple" : "cuda.attention.flash");
    if (y.num_elements() == 0) continue;
    const int64_t w = c.heads * c.dv;
    for (int64_t b = 0; b < c.b; ++b) {
      for (int64_t e = 0; e < w; ++e) {
        ASSERT_EQ(y.GetAsDouble((b * c.sq + c.fully_masked_row) * w + e), 0.0) << b << " " << e;
      }
    }
  }
}

TEST(CudaAttention, BoolMaskBroadcastOverBatch) {
  FRT_SKIP_WITHOUT_GPU();
  MhaCase c = MakeCase(2, 65, 129, 2, 32, 32);
  c.mask = MhaCase::kBool;
  c.mask_dims = {65, 129};  // rank 2: [Sq, Sk] for every batch and head
  CheckAllPrecisions(c, true);
}

TEST(CudaAttention, LongSequence4096) {
  FRT_SKIP_WITHOUT_GPU();
  MhaCase c = MakeCase(1, 4096, 4096, 2, 64, 64);
  CheckAllPrecisions(c, true);
}

TEST(CudaAttention, FallbackForOtherHeadDims) {
  FRT_SKIP_WITHOUT_GPU();
  // D = 40 (not a multiple of 16), D = 256 (above 128), Dv != D: the simple kernel.
  MhaCase odd = MakeCase(2, 33, 47, 3, 40, 40);
  odd.mask = MhaCase::kFloat;
  odd.mask_dims = {2, 3, 33, 47};
  CheckAllPrecisions(odd, false);
  MhaCase wide = MakeCase(1, 50, 50, 2, 256, 256);
  wide.causal = true;
  CheckAllPrecisions(wide, false);
  MhaCase uneven = MakeCase(1, 20, 70, 4, 64, 24);
  CheckAllPrecisions(uneven, false);
}

TEST(CudaAttention, FlashForOtherMultiplesOf16) {
  FRT_SKIP_WITHOUT_GPU();
  for (int64_t d : {16, 48, 80, 96}) {
    SCOPED_TRACE(d);
    MhaCase c = MakeCase(1, 90, 90, 2, d, d);
    c.causal = d == 48;
    Check(c, Precision::kF16, "cuda.attention.flash");
  }
}

// ---- CPU-only: parameters and kernel choice --------------------------------

TEST(CudaAttentionParams, MaskStridesBroadcastFromTheRight) {
  const std::array<int64_t, 4> scores = {2, 12, 128, 256};
  auto s = AttentionMaskStrides({2, 1, 1, 256}, scores);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(*s, (std::array<int64_t, 4>{256, 0, 0, 1}));
  s = AttentionMaskStrides({2, 1, 128, 256}, scores);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(*s, (std::array<int64_t, 4>{128 * 256, 0, 256, 1}));
  s = AttentionMaskStrides({128, 256}, scores);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(*s, (std::array<int64_t, 4>{0, 0, 256, 1}));
  s = AttentionMaskStrides({2, 12, 128, 1}, scores);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(*s, (std::array<int64_t, 4>{12 * 128, 128, 1, 0}));
  EXPECT_FALSE(AttentionMaskStrides({3, 1, 1, 256}, scores).ok());
  EXPECT_FALSE(AttentionMaskStrides({1, 1, 1, 1, 256}, scores).ok());
}

TEST(CudaAttentionParams, SeparateAndPackedLayouts) {
  const Dims q = {2, 10, 96}, k = {2, 30, 96}, v = {2, 30, 48};
  auto p =
      MakeAttentionParams(DType::kFloat16, q, &k, &v, nullptr, DType::kUndefined, 6, true, NAN);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->head_dim, 16);
  EXPECT_EQ(p->value_dim, 8);
  EXPECT_EQ(p->seq_q, 10);
  EXPECT_EQ(p->seq_k, 30);
  EXPECT_EQ(p->q_row_stride, 96);
  EXPECT_EQ(p->v_row_stride, 48);
  EXPECT_EQ(p->k_offset, 0);
  EXPECT_TRUE(p->causal);
  EXPECT_FLOAT_EQ(p->scale, 0.25f);
  EXPECT_EQ(p->mask_kind, AttentionMaskKind::kNone);

  const Dims qkv = {3, 7, 3 * 4 * 32}, mask = {3, 1, 1, 7};
  p = MakeAttentionParams(DType::kBFloat16, qkv, nullptr, nullptr, &mask, DType::kBool, 4, false,
                          0.5f);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->head_dim, 32);
  EXPECT_EQ(p->value_dim, 32);
  EXPECT_EQ(p->seq_k, 7);
  EXPECT_EQ(p->q_row_stride, 384);
  EXPECT_EQ(p->k_row_stride, 384);
  EXPECT_EQ(p->q_offset, 0);
  EXPECT_EQ(p->k_offset, 128);
  EXPECT_EQ(p->v_offset, 256);
  EXPECT_FLOAT_EQ(p->scale, 0.5f);
  EXPECT_EQ(p->mask_kind, AttentionMaskKind::kBool);
  EXPECT_EQ(p->mask_stride, (std::array<int64_t, 4>{7, 0, 0, 1}));

  // Errors: width not divisible, key/value mismatch, mask dtype, mask shape.
  EXPECT_FALSE(MakeAttentionParams(DType::kFloat16, {3, 7, 100}, nullptr, nullptr, nullptr,
                                   DType::kUndefined, 4, false, NAN)
                   .ok());
  const Dims k_bad = {2, 31, 96};
  EXPECT_FALSE(
      MakeAttentionParams(DType::kFloat16, q, &k_bad, &v, nullptr, DType::kUndefined, 6, false, NAN)
          .ok());
  const Dims m = {2, 1, 10, 30}, m_bad = {2, 1, 11, 30};
  EXPECT_FALSE(
      MakeAttentionParams(DType::kFloat16, q, &k, &v, &m, DType::kFloat32, 6, false, NAN).ok());
  EXPECT_FALSE(
      MakeAttentionParams(DType::kFloat16, q, &k, &v, &m_bad, DType::kBool, 6, false, NAN).ok());
  EXPECT_TRUE(
      MakeAttentionParams(DType::kFloat16, q, &k, &v, &m, DType::kFloat16, 6, false, NAN).ok());
}

TEST(CudaAttentionParams, KernelChoice) {
  EXPECT_EQ(FlashAttentionUnsupported(DType::kFloat16, 64, 64), "");
  EXPECT_EQ(FlashAttentionUnsupported(DType::kBFloat16, 128, 128), "");
  EXPECT_EQ(FlashAttentionUnsupported(DType::kFloat16, 48, 48), "");
  EXPECT_NE(FlashAttentionUnsupported(DType::kFloat32, 64, 64), "");
  EXPECT_NE(FlashAttentionUnsupported(DType::kFloat16, 40, 40), "");
  EXPECT_NE(FlashAttentionUnsupported(DType::kFloat16, 256, 256), "");
  EXPECT_NE(FlashAttentionUnsupported(DType::kFloat16, 64, 32), "");
  EXPECT_NE(FlashAttentionUnsupported(DType::kFloat16, 0, 0), "");
  EXPECT_EQ(SimpleAttentionUnsupported(DType::kFloat32, 256, 256), "");
  EXPECT_EQ(SimpleAttentionUnsupported(DType::kFloat16, 40, 24), "");
  EXPECT_NE(SimpleAttentionUnsupported(DType::kFloat32, 264, 64), "");
  EXPECT_NE(SimpleAttentionUnsupported(DType::kFloat64, 64, 64), "");
}

TEST(CudaAttentionParams, AlignmentCheckOfTheFlashKernel) {
  const Dims qkv = {2, 9, 3 * 2 * 64};
  auto p = MakeAttentionParams(DType::kFloat16, qkv, nullptr, nullptr, nullptr, DType::kUndefined,
                               2, false, NAN);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  alignas(16) static char buffer[64];  // addresses only; never dereferenced
  p->q = p->k = p->v = buffer;
  p->out = buffer + 16;
  EXPECT_TRUE(FlashAttentionAligned(*p));
  p->out = buffer + 2;  // an f16 element off
  EXPECT_FALSE(FlashAttentionAligned(*p));
  p->out = buffer;
  p->k = buffer + 8;
  EXPECT_FALSE(FlashAttentionAligned(*p));
  p->k = buffer;
  p->q_row_stride += 4;  // 8-byte row starts
  EXPECT_FALSE(FlashAttentionAligned(*p));
}

TEST(CudaAttentionParams, SupportsReadsTheNode) {
  std::mt19937_64 rng(7);
  MhaCase c = MakeCase(2, 16, 16, 2, 64, 64);
  std::unique_ptr<Graph> g = BuildGraph(c, rng);
  Node* n = g->nodes()[0];
  EXPECT_NE(FlashAttentionSupports(*n), "");  // f32
  EXPECT_EQ(SimpleAttentionSupports(*n), "");
  for (Value* v : {n->inputs[0], n->inputs[1], n->inputs[2], n->outputs[0]}) {
    v->dtype = DType::kFloat16;
  }
  EXPECT_EQ(FlashAttentionSupports(*n), "");
  n->inputs[1]->dtype = DType::kBFloat16;  // mixed dtypes
  EXPECT_NE(FlashAttentionSupports(*n), "");
  EXPECT_NE(SimpleAttentionSupports(*n), "");

  c.packed = true;
  c.d = c.dv = 128;
  g = BuildGraph(c, rng);
  n = g->nodes()[0];
  for (Value* v : {n->inputs[0], n->outputs[0]}) v->dtype = DType::kBFloat16;
  EXPECT_EQ(FlashAttentionSupports(*n), "");
  n->inputs[0]->shape = Shape({Dim(2), Dim(16), Dim::Symbol("width")});  // D unknown at build time
  EXPECT_NE(FlashAttentionSupports(*n), "");
  EXPECT_NE(SimpleAttentionSupports(*n), "");
}

}  // namespace
}  // namespace frt
