// Tests of the FusedMatMul / FusedConv reference kernels against the unfused
// ops on the reference backend (fresh random inputs each run), of their
// schemas' errors, and of the activation vocabulary (ir/activation.h).
//
// Tolerance: the fused kernel rounds to float32 once; the unfused chain rounds
// after each of its ops (MatMul/Conv, alpha Mul, bias Add, residual Add and up
// to eight activation ops), each contributing at most 2^-24 relative error,
// amplified only mildly by the activations' conditioning on N(0, 1) data. A
// relative L2 bound of 1e-6 leaves ample margin over that (~1e-7) while any
// real mistake (wrong bias broadcast, transposition, activation parameter)
// gives errors of order 1e-2 or more.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "ir/activation.h"
#include "passes/pass_test_util.h"

namespace frt {
namespace {

constexpr double kTol = 1e-6;

// The unfused ops of activation `a` applied to x (names get `tag`).
Value* UnfusedActivation(Graph& g, Value* x, const ActivationSpec& a, const std::string& tag) {
  auto k = [&](const std::string& name, float v) { return Const(g, tag + name, {v}); };
  switch (a.kind) {
    case Activation::kNone:
      return x;
    case Activation::kRelu:
      return Op(g, OpKind::kRelu, tag + "relu", {x});
    case Activation::kClip:
      return Op(g, OpKind::kClip, tag + "clip", {x, k("lo", a.alpha), k("hi", a.beta)});
    case Activation::kLeakyRelu: {
      Value* y = Op(g, OpKind::kLeakyRelu, tag + "leaky", {x});
      y->producer->attrs.Set("alpha", a.alpha);
      return y;
    }
    case Activation::kGelu: {  // the exporters' erf form
      Value* d = Op(g, OpKind::kDiv, tag + "div", {x, k("sqrt2", std::sqrt(2.0f))});
      Value* e =
          Op(g, OpKind::kAdd, tag + "add", {Op(g, OpKind::kErf, tag + "erf", {d}), k("one", 1.0f)});
      return Op(g, OpKind::kMul, tag + "half",
                {Op(g, OpKind::kMul, tag + "mul", {x, e}), k("h", 0.5f)});
    }
    case Activation::kGeluTanh: {
      Value* x3 = Op(g, OpKind::kMul, tag + "x3", {Op(g, OpKind::kMul, tag + "x2", {x, x}), x});
      Value* inner = Op(g, OpKind::kAdd, tag + "inner",
                        {x, Op(g, OpKind::kMul, tag + "cx3", {x3, k("c", 0.044715f)})});
      Value* t = Op(g, OpKind::kTanh, tag + "tanh",
                    {Op(g, OpKind::kMul, tag + "scaled",
                        {inner, k("k", static_cast<float>(std::sqrt(2.0 / M_PI)))})});
      Value* e = Op(g, OpKind::kAdd, tag + "add", {t, k("one", 1.0f)});
      return Op(g, OpKind::kMul, tag + "half",
                {Op(g, OpKind::kMul, tag + "mul", {x, e}), k("h", 0.5f)});
    }
    case Activation::kSilu:
      return Op(g, OpKind::kMul, tag + "silu", {x, Op(g, OpKind::kSigmoid, tag + "sig", {x})});
    case Activation::kSigmoid:
      return Op(g, OpKind::kSigmoid, tag + "sigmoid", {x});
    case Activation::kTanh:
      return Op(g, OpKind::kTanh, tag + "tanh", {x});
  }
  return x;
}

// Runs both graphs (same input names and shapes) on fresh random inputs and
// compares every output.
void ExpectSameNumbers(Graph& fused, Graph& ref, const std::string& what) {
  ASSERT_TRUE(InferGraphShapes(fused).ok());
  ASSERT_TRUE(InferGraphShapes(ref).ok());
  Status v = VerifyGraph(fused);
  ASSERT_TRUE(v.ok()) << v.ToString();
  std::mt19937 rng(std::random_device{}());
  for (int trial = 0; trial < 2; ++trial) {
    auto inputs = RandomInputs(fused, rng);
    std::vector<Tensor> got = RunGraph(fused, inputs), want = RunGraph(ref, inputs);
    ASSERT_EQ(got.size(), 1u) << what;
    ASSERT_EQ(want.size(), 1u) << what;
    ASSERT_EQ(got[0].dims(), want[0].dims()) << what;
    EXPECT_LE(RelativeL2(got[0], want[0]), kTol) << what;
  }
}

const ActivationSpec kActivations[] = {
    {Activation::kNone, 0, 0},        {Activation::kRelu, 0, 0},
    {Activation::kClip, -0.5f, 0.7f}, {Activation::kLeakyRelu, 0.2f, 0},
    {Activation::kGelu, 0, 0},        {Activation::kGeluTanh, 0, 0},
    {Activation::kSilu, 0, 0},        {Activation::kSigmoid, 0, 0},
    {Activation::kTanh, 0, 0},
};

struct MatMulCase {
  Dims a, b;  // b as stored (trans_b: last two dims swapped)
  bool trans_b = false;
  float alpha = 1.0f;
  Dims bias;  // empty: none
  bool residual = false;
};

// FusedMatMul(A, B, bias, residual) or the unfused chain; B, bias constants.
void BuildMatMul(Graph& g, const MatMulCase& c, const ActivationSpec& act, bool fused) {
  g.name = fused ? "fused" : "ref";
  Value* a = Input(g, "a", c.a);
  int64_t nb = 1, nbias = 1;
  for (int64_t d : c.b) nb *= d;
  for (int64_t d : c.bias) nbias *= d;
  Value* b = ConstNd(g, "b", c.b, RandomData(static_cast<size_t>(nb), 11));
  Value* bias = c.bias.empty()
                    ? nullptr
                    : ConstNd(g, "bias", c.bias, RandomData(static_cast<size_t>(nbias), 12));
  // Y's shape: numpy broadcast of the batch dims, then [M, N].
  Dims b_op = c.b;
  if (c.trans_b) std::swap(b_op[b_op.size() - 1], b_op[b_op.size() - 2]);
  Dims y_dims =
      BroadcastDims(Dims(c.a.begin(), c.a.end() - 2), Dims(b_op.begin(), b_op.end() - 2)).value();
  y_dims.push_back(c.a[c.a.size() - 2]);
  y_dims.push_back(b_op.back());
  Value* r = c.residual ? Input(g, "r", y_dims) : nullptr;
  if (fused) {
    Value* y = Op(g, OpKind::kFusedMatMul, "y", {a, b, bias, r});
    Node* n = y->producer;
    while (n->inputs.back() == nullptr) n->inputs.pop_back();
    if (c.trans_b) n->attrs.Set("trans_b", int64_t{1});
    if (c.alpha != 1.0f) n->attrs.Set("alpha", c.alpha);
    WriteActivation(act, n->attrs);
    g.AddOutput(y);
    return;
  }
  Value* bb = b;
  if (c.trans_b) {
    std::vector<int64_t> perm;
    for (size_t i = 0; i < c.b.size(); ++i) perm.push_back(static_cast<int64_t>(i));
    std::swap(perm[perm.size() - 1], perm[perm.size() - 2]);
    bb = Op(g, OpKind::kTranspose, "bt", {b});
    bb->producer->attrs.Set("perm", perm);
  }
  Value* y = Op(g, OpKind::kMatMul, "mm", {a, bb});
  if (c.alpha != 1.0f) y = Op(g, OpKind::kMul, "scaled", {y, Const(g, "alpha", {c.alpha})});
  if (bias) y = Op(g, OpKind::kAdd, "biased", {y, bias});
  if (r) y = Op(g, OpKind::kAdd, "res", {y, r});
  g.AddOutput(UnfusedActivation(g, y, act, "act_"));
}

void CheckMatMulCase(const MatMulCase& c) {
  for (const ActivationSpec& act : kActivations) {
    Graph fused, ref;
    BuildMatMul(fused, c, act, true);
    BuildMatMul(ref, c, act, false);
    ExpectSameNumbers(fused, ref, StrCat("activation \"", ActivationName(act.kind), "\""));
  }
}

TEST(FusedEpilogueKernels, MatMulBiasResidualEveryActivation) {
  CheckMatMulCase({{2, 5, 8}, {8, 6}, false, 1.0f, {6}, true});
}

TEST(FusedEpilogueKernels, MatMulBroadcastsBatchDimsWithAlpha) {
  // A [2,1,3,4] x B [3,4,5] -> [2,3,3,5]; bias [1,5].
  CheckMatMulCase({{2, 1, 3, 4}, {3, 4, 5}, false, 0.75f, {1, 5}, true});
}

TEST(FusedEpilogueKernels, MatMulTransB) {
  // B stored [N, K] (Gemm's transB / a Linear layer's weight), batched A.
  CheckMatMulCase({{3, 4, 7}, {5, 7}, true, 1.0f, {5}, false});
  CheckMatMulCase({{2, 4, 7}, {2, 5, 7}, true, -1.5f, {}, true});
}

struct ConvCase {
  Dims x, w;
  int64_t group = 1;
  bool bias = true, residual = true;
};

void BuildConv(Graph& g, const ConvCase& c, const ActivationSpec& act, bool fused) {
  g.name = fused ? "fused" : "ref";
  Value* x = Input(g, "x", c.x);
  int64_t nw = 1;
  for (int64_t d : c.w) nw *= d;
  Value* w = ConstNd(g, "w", c.w, RandomData(static_cast<size_t>(nw), 21, 0.3f));
  Value* b = c.bias ? Const(g, "b", RandomData(static_cast<size_t>(c.w[0]), 22)) : nullptr;
  // strides 2, pads 1 on each spatial side, kernel from W.
  Dims y_dims = {c.x[0], c.w[0]};
  for (size_t d = 2; d < c.x.size(); ++d) y_dims.push_back((c.x[d] + 2 - c.w[d]) / 2 + 1);
  Value* r = c.residual ? Input(g, "r", y_dims) : nullptr;
  auto set_conv_attrs = [&](Node* n) {
    n->attrs.Set("group", c.group);
    n->attrs.Set("strides", std::vector<int64_t>(c.x.size() - 2, 2));
    n->attrs.Set("pads", std::vector<int64_t>(2 * (c.x.size() - 2), 1));
  };
  if (fused) {
    Value* y = Op(g, OpKind::kFusedConv, "y", {x, w, b, r});
    Node* n = y->producer;
    while (n->inputs.back() == nullptr) n->inputs.pop_back();
    set_conv_attrs(n);
    WriteActivation(act, n->attrs);
    g.AddOutput(y);
    return;
  }
  std::vector<Value*> ins = {x, w};
  if (b) ins.push_back(b);
  Value* y = Op(g, OpKind::kConv, "conv", ins);
  set_conv_attrs(y->producer);
  if (r) y = Op(g, OpKind::kAdd, "res", {y, r});
  g.AddOutput(UnfusedActivation(g, y, act, "act_"));
}

TEST(FusedEpilogueKernels, ConvGroupedStridedResidualEveryActivation) {
  for (const ConvCase& c : {ConvCase{{2, 4, 7, 7}, {6, 2, 3, 3}, 2, true, true},
                            ConvCase{{1, 3, 9}, {4, 3, 3}, 1, false, true},
                            ConvCase{{2, 3, 5, 6}, {4, 3, 1, 1}, 1, true, false}}) {
    for (const ActivationSpec& act : kActivations) {
      Graph fused, ref;
      BuildConv(fused, c, act, true);
      BuildConv(ref, c, act, false);
      ExpectSameNumbers(fused, ref,
                        StrCat("x ", DimsToString(c.x), " activation ", ActivationName(act.kind)));
    }
  }
}

TEST(FusedEpilogueKernels, ClipWithLowGreaterThanHighGivesHigh) {
  // ONNX Clip: min(max(x, lo), hi), so lo > hi yields hi everywhere.
  Graph fused, ref;
  MatMulCase c{{3, 4}, {4, 2}, false, 1.0f, {}, false};
  BuildMatMul(fused, c, {Activation::kClip, 1.0f, -1.0f}, true);
  BuildMatMul(ref, c, {Activation::kClip, 1.0f, -1.0f}, false);
  ExpectSameNumbers(fused, ref, "clip 1..-1");
  std::mt19937 rng(7);
  std::vector<Tensor> out = RunGraph(fused, RandomInputs(fused, rng));
  ASSERT_EQ(out.size(), 1u);
  for (float v : out[0].span<float>()) EXPECT_EQ(v, -1.0f);
}

TEST(FusedEpilogueSchemas, RejectsBadBiasResidualAndActivation) {
  {
    Graph g;
    g.name = "bad_bias";
    Value* a = Input(g, "a", {2, 3});
    Value* b = ConstNd(g, "b", {3, 4}, RandomData(12, 1));
    Value* bias = Const(g, "bias", RandomData(5, 2));  // N is 4
    g.AddOutput(Op(g, OpKind::kFusedMatMul, "y", {a, b, bias}));
    Status s = InferGraphShapes(g);
    ASSERT_FALSE(s.ok());
    EXPECT_NE(s.message().find("bias has shape [5]"), std::string::npos) << s.message();
    EXPECT_NE(s.message().find("y_node"), std::string::npos) << s.message();
  }
  {
    Graph g;
    g.name = "bad_residual";
    Value* x = Input(g, "x", {1, 2, 4, 4});
    Value* w = ConstNd(g, "w", {3, 2, 1, 1}, RandomData(6, 1));
    Value* r = Input(g, "r", {1, 2, 4, 4});  // 3 channels out
    g.AddOutput(Op(g, OpKind::kFusedConv, "y", {x, w, nullptr, r}));
    Status s = InferGraphShapes(g);
    ASSERT_FALSE(s.ok());
    EXPECT_NE(s.message().find("residual has shape [1,2,4,4]"), std::string::npos) << s.message();
  }
  {
    Graph g;
    g.name = "bad_act";
    Value* a = Input(g, "a", {2, 3});
    Value* b = ConstNd(g, "b", {3, 4}, RandomData(12, 1));
    Value* y = Op(g, OpKind::kFusedMatMul, "y", {a, b});
    y->producer->attrs.Set("activation", std::string("relu7"));
    g.AddOutput(y);
    Status s = InferGraphShapes(g);
    ASSERT_FALSE(s.ok());
    EXPECT_NE(s.message().find("activation is \"relu7\""), std::string::npos) << s.message();
    EXPECT_NE(s.message().find("y_node"), std::string::npos) << s.message();
  }
  {
    Graph g;  // trans_b: B [N, K] must match A's K on its last dim
    g.name = "bad_trans";
    Value* a = Input(g, "a", {2, 3});
    Value* b = ConstNd(g, "b", {3, 4}, RandomData(12, 1));
    Value* y = Op(g, OpKind::kFusedMatMul, "y", {a, b});
    y->producer->attrs.Set("trans_b", int64_t{1});
    g.AddOutput(y);
    EXPECT_FALSE(InferGraphShapes(g).ok());
  }
}

TEST(Activation, NamesRoundTripAndUnknownNamesAreErrors) {
  for (const ActivationSpec& a : kActivations) {
    EXPECT_EQ(ActivationFromName(ActivationName(a.kind)), a.kind);
  }
  EXPECT_EQ(ActivationFromName("Relu"), std::nullopt);
  Node n;
  n.op = OpKind::kFusedConv;
  n.name = "conv7";
  n.attrs.Set("activation", std::string("swish"));
  Result<ActivationSpec> r = ReadActivation(n);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("conv7"), std::string::npos);
  EXPECT_NE(r.status().message().find("\"swish\""), std::string::npos);
  n.attrs.Set("activation", std::string("clip"));
  n.attrs.Set("activation_alpha", 0.0f);
  r = ReadActivation(n);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->alpha, 0.0f);
  EXPECT_TRUE(std::isinf(r->beta) && r->beta > 0);  // absent max: no upper bound
}

TEST(Activation, RecognizesActivationNodes) {
  Graph g;
  g.name = "acts";
  Value* x = Input(g, "x", {4});
  Value* lo = Const(g, "lo", {0.0f});
  Value* hi = Const(g, "hi", {6.0f});
  Value* relu6 = Op(g, OpKind::kClip, "relu6", {x, lo, hi});
  auto m = MatchActivationNode(*relu6->producer);
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->kind, Activation::kClip);
  EXPECT_EQ(m->alpha, 0.0f);
  EXPECT_EQ(m->beta, 6.0f);
  // A run-time bound is not a fixed activation.
  Value* dyn = Op(g, OpKind::kClip, "dyn", {x, lo, x});
  EXPECT_FALSE(MatchActivationNode(*dyn->producer).has_value());
  Value* gelu = Op(g, OpKind::kGelu, "gelu", {x});
  gelu->producer->attrs.Set("approximate", std::string("tanh"));
  EXPECT_EQ(MatchActivationNode(*gelu->producer)->kind, Activation::kGeluTanh);
  Value* swish = Op(g, OpKind::kSwish, "swish", {x});
  EXPECT_EQ(MatchActivationNode(*swish->producer)->kind, Activation::kSilu);
  swish->producer->attrs.Set("alpha", 1.702f);
  EXPECT_FALSE(MatchActivationNode(*swish->producer).has_value());
  Value* leaky = Op(g, OpKind::kLeakyRelu, "leaky", {x});
  EXPECT_FLOAT_EQ(MatchActivationNode(*leaky->producer)->alpha, 0.01f);
  EXPECT_FALSE(MatchActivationNode(*Op(g, OpKind::kExp, "exp", {x})->producer).has_value());
}

}  // namespace
}  // namespace frt
