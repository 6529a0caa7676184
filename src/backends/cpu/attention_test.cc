// MultiHeadAttention reference kernel vs the same attention spelled with the
// unfused ONNX ops (Reshape, Transpose, MatMul, Mul, Add/Where, Softmax,
// IsNaN/Where guard) on the reference backend, with fresh random inputs.
//
// Tolerance: relative L2 <= 1e-5. Both paths accumulate in double, but the
// unfused graph rounds to float32 after every op (scores, scaled scores,
// probabilities, products) while the fused kernel rounds once; a handful of
// float32 roundings (2^-24 each) on O(1) values stays two orders of magnitude
// below 1e-5, and any indexing error (wrong head, key or mask element) is O(1).
#include <gtest/gtest.h>

#include <limits>
#include <random>

#include "passes/pass_test_util.h"

namespace frt {
namespace {

struct Case {
  int64_t b = 2, sq = 3, sk = 3, heads = 2, d = 4, dv = 4;
  bool packed = false;
  bool causal = false;
  enum MaskKind { kNone, kFloat, kBool } mask = kNone;
  Dims mask_dims;
  bool has_scale = true;
  float scale = 0.37f;
  int fully_masked_row = -1;  // bool mask: query row (all batches, heads) with no key
};

Value* BoolConst(Graph& g, const std::string& name, const Dims& dims, std::mt19937& rng,
                 int fully_masked_row) {
  Tensor t = Tensor::Allocate(DType::kBool, dims).value();
  std::bernoulli_distribution keep(0.7);
  const int64_t sk = dims.back(), sq = dims.size() >= 2 ? dims[dims.size() - 2] : 1;
  for (int64_t e = 0; e < t.num_elements(); ++e) {
    const int64_t row = (e / sk) % sq;
    t.data<bool>()[e] = row == fully_masked_row ? false : keep(rng);
  }
  Value* c = g.AddValue(name).value();
  c->constant = std::move(t);
  c->dtype = DType::kBool;
  c->shape = Shape::FromDims(dims);
  return c;
}

Value* Transposed(Graph& g, const std::string& name, Value* x, std::vector<int64_t> perm) {
  Value* y = Op(g, OpKind::kTranspose, name, {x});
  y->producer->attrs.Set("perm", perm);
  return y;
}

// [B, S, H*w] -> [B, H, S, w] (or, with perm 0,2,3,1, [B, H, w, S]).
Value* Heads(Graph& g, const std::string& name, Value* x, const Case& c, int64_t s, int64_t w,
             std::vector<int64_t> perm) {
  Value* r =
      Op(g, OpKind::kReshape, name + "_r", {x, IntConst(g, name + "_shape", {c.b, s, c.heads, w})});
  return Transposed(g, name, r, perm);
}

// Builds both graphs: `ref` with unfused ops, `fused` with one MultiHeadAttention.
void Build(const Case& c, Graph& ref, Graph& fused, std::mt19937& rng) {
  for (Graph* g : {&ref, &fused}) {
    g->name = "attn";
    std::vector<Value*> qkv;
    if (c.packed) {
      qkv.push_back(Input(*g, "qkv", {c.b, c.sq, c.heads * (2 * c.d + c.dv)}));
    } else {
      qkv.push_back(Input(*g, "q", {c.b, c.sq, c.heads * c.d}));
      qkv.push_back(Input(*g, "k", {c.b, c.sk, c.heads * c.d}));
      qkv.push_back(Input(*g, "v", {c.b, c.sk, c.heads * c.dv}));
    }
    Value* mask = nullptr;
    if (c.mask == Case::kFloat) mask = Input(*g, "mask", c.mask_dims);
    if (c.mask == Case::kBool) {
      std::mt19937 same(rng());  // the same bool mask in both graphs
      mask = BoolConst(*g, "mask", c.mask_dims, same, c.fully_masked_row);
    }
    (void)mask;
  }
  // The bool mask constants must agree: rebuild fused's from ref's tensor.
  if (c.mask == Case::kBool) *fused.FindValue("mask")->constant = *ref.FindValue("mask")->constant;

  // Fused.
  {
    Node* n = fused.AddNode(OpKind::kMultiHeadAttention, "mha");
    n->opset = 1;
    if (c.packed) {
      n->inputs = {fused.FindValue("qkv"), nullptr, nullptr};
    } else {
      n->inputs = {fused.FindValue("q"), fused.FindValue("k"), fused.FindValue("v")};
    }
    if (c.mask != Case::kNone) n->inputs.push_back(fused.FindValue("mask"));
    n->attrs.Set("num_heads", c.heads);
    if (c.has_scale) n->attrs.Set("scale", c.scale);
    if (c.causal) n->attrs.Set("causal", int64_t{1});
    Value* y = fused.AddValue("y").value();
    y->producer = n;
    n->outputs = {y};
    fused.AddOutput(y);
  }
  // Unfused.
  Graph& g = ref;
  Value *q, *k, *v;
  if (c.packed) {
    Value* split = IntConst(g, "split", {c.heads * c.d, c.heads * c.d, c.heads * c.dv});
    Node* n = g.AddNode(OpKind::kSplit, "split_node");
    n->opset = 13;
    n->inputs = {g.FindValue("qkv"), split};
    n->attrs.Set("axis", int64_t{2});
    for (const char* name : {"q", "k", "v"}) {
      Value* o = g.AddValue(name).value();
      o->producer = n;
      n->outputs.push_back(o);
    }
    q = n->outputs[0], k = n->outputs[1], v = n->outputs[2];
  } else {
    q = g.FindValue("q"), k = g.FindValue("k"), v = g.FindValue("v");
  }
  Value* qh = Heads(g, "qh", q, c, c.sq, c.d, {0, 2, 1, 3});
  Value* kt = Heads(g, "kt", k, c, c.sk, c.d, {0, 2, 3, 1});
  Value* vh = Heads(g, "vh", v, c, c.sk, c.dv, {0, 2, 1, 3});
  const float scale = c.has_scale ? c.scale : 1.0f / std::sqrt(static_cast<float>(c.d));
  Value* s = Op(g, OpKind::kMatMul, "scores", {qh, kt});
  s = Op(g, OpKind::kMul, "scaled", {s, ConstNd(g, "scale", {}, {scale})});
  Value* neg_inf = ConstNd(g, "neg_inf", {}, {-std::numeric_limits<float>::infinity()});
  if (c.mask == Case::kFloat) s = Op(g, OpKind::kAdd, "masked", {s, g.FindValue("mask")});
  if (c.mask == Case::kBool) s = Op(g, OpKind::kWhere, "masked", {g.FindValue("mask"), s, neg_inf});
  if (c.causal) {
    Tensor keep = Tensor::Allocate(DType::kBool, {c.sq, c.sk}).value();
    for (int64_t i = 0; i < c.sq; ++i) {
      for (int64_t j = 0; j < c.sk; ++j) keep.data<bool>()[i * c.sk + j] = j <= i + c.sk - c.sq;
    }
    Value* kc = g.AddValue("causal").value();
    kc->constant = std::move(keep);
    kc->dtype = DType::kBool;
    kc->shape = Shape::FromDims({c.sq, c.sk});
    s = Op(g, OpKind::kWhere, "causal_masked", {kc, s, neg_inf});
  }
  Value* p = Op(g, OpKind::kSoftmax, "probs", {s});
  p->producer->attrs.Set("axis", int64_t{-1});
  Value* nan = Op(g, OpKind::kIsNaN, "nan", {p});
  p = Op(g, OpKind::kWhere, "guarded", {nan, ConstNd(g, "zero", {}, {0.0f}), p});
  Value* o = Op(g, OpKind::kMatMul, "pv", {p, vh});
  o = Transposed(g, "pv_t", o, {0, 2, 1, 3});
  g.AddOutput(
      Op(g, OpKind::kReshape, "y", {o, IntConst(g, "y_shape", {c.b, c.sq, c.heads * c.dv})}));
}

void Check(const Case& c) {
  std::mt19937 rng(std::random_device{}());
  Graph ref, fused;
  Build(c, ref, fused, rng);
  for (Graph* g : {&ref, &fused}) {
    Status s = InferGraphShapes(*g);
    ASSERT_TRUE(s.ok()) << s.ToString();
    s = VerifyGraph(*g);
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  EXPECT_EQ(fused.outputs()[0]->shape->ToString(), ref.outputs()[0]->shape->ToString());
  for (int trial = 0; trial < 3; ++trial) {
    auto inputs = RandomInputs(fused, rng);
    if (c.mask == Case::kFloat) {  // some -inf entries, as exporters' masks have
      std::bernoulli_distribution drop(0.2);
      for (float& f : inputs["mask"].span<float>()) {
        if (drop(rng)) f = -std::numeric_limits<float>::infinity();
      }
    }
    std::vector<Tensor> want = RunGraph(ref, inputs), got = RunGraph(fused, inputs);
    ASSERT_EQ(want.size(), 1u);
    ASSERT_EQ(got.size(), 1u);
    ASSERT_EQ(got[0].dims(), want[0].dims());
    EXPECT_LE(RelativeL2(got[0], want[0]), 1e-5);
    if (c.fully_masked_row >= 0) {
      const int64_t w = c.heads * c.dv;
      for (int64_t b = 0; b < c.b; ++b) {
        for (int64_t e = 0; e < w; ++e) {
          EXPECT_EQ(got[0].data<float>()[(b * c.sq + c.fully_masked_row) * w + e], 0.0f);
        }
      }
    }
  }
}

TEST(AttentionKernel, SeparateInputsNoMask) { Check(Case{}); }

TEST(AttentionKernel, DefaultScaleIsInverseSqrtHeadDim) {
  Case c;
  c.has_scale = false;
  c.d = 9;  // 1/3
  Check(c);
}

TEST(AttentionKernel, PackedInputs) {
  Case c;
  c.packed = true;
  c.sq = c.sk = 5;
  c.mask = Case::kFloat;
  c.mask_dims = {2, 1, 1, 5};
  Check(c);
}

TEST(AttentionKernel, FloatMaskBroadcastShapes) {
  for (Dims dims : {Dims{2, 1, 3, 4}, Dims{1, 2, 1, 4}, Dims{3, 4}, Dims{4}, Dims{2, 2, 3, 4}}) {
    SCOPED_TRACE(DimsToString(dims));
    Case c;
    c.sk = 4;
    c.mask = Case::kFloat;
    c.mask_dims = dims;
    Check(c);
  }
}

TEST(AttentionKernel, BoolMaskBroadcastShapes) {
  for (Dims dims : {Dims{2, 1, 1, 6}, Dims{2, 2, 4, 6}, Dims{4, 6}}) {
    SCOPED_TRACE(DimsToString(dims));
    Case c;
    c.sq = 4;
    c.sk = 6;
    c.dv = 3;  // value head size differs from the query's
    c.mask = Case::kBool;
    c.mask_dims = dims;
    Check(c);
  }
}

TEST(AttentionKernel, CausalWithLongerKeys) {
  Case c;
  c.sq = 3;
  c.sk = 7;  // key j masked for query i when j > i + 4
  c.causal = true;
  Check(c);
  c.sq = c.sk = 5;
  c.packed = true;
  Check(c);
}

TEST(AttentionKernel, FullyMaskedRowGivesZeros) {
  Case c;
  c.sq = 4;
  c.sk = 5;
  c.mask = Case::kBool;
  c.mask_dims = {2, 1, 4, 5};
  c.fully_masked_row = 2;
  Check(c);
}

TEST(AttentionKernel, RejectsMaskThatDoesNotBroadcast) {
  Graph g;
  Value* q = Input(g, "q", {1, 2, 4});
  Value* m = Input(g, "m", {3, 2});
  Node* n = g.AddNode(OpKind::kMultiHeadAttention, "mha");
  n->inputs = {q, q, q, m};
  n->attrs.Set("num_heads", int64_t{2});
  Value* y = g.AddValue("y").value();
  y->producer = n;
  n->outputs = {y};
  g.AddOutput(y);
  Status s = InferGraphShapes(g);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.ToString().find("mask"), std::string::npos) << s.ToString();
}

}  // namespace
}  // namespace frt
