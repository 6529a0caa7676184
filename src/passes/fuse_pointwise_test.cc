// Tests of recognize_activations, fuse_normalization and fuse_elementwise:
// printed IR where the shape of the result matters, the numbers of the fused
// graph against an untouched copy on fresh random inputs (CheckPassNumerics,
// relative L2 <= 1e-5, for Gelu/Swish/Mish/norms, which round once; bit for
// bit for FusedPointwise, which rounds like the ops it replaced), negative
// cases that must stay untouched, and the real exported models (BERT, ViT,
// GPT-2, T5) through the pass pipeline.
#include <gtest/gtest.h>

#include <functional>

#include "ir/ops/fused_pointwise.h"
#include "onnx/importer.h"
#include "passes/pass_manager.h"
#include "passes/pass_test_util.h"

namespace frt {
namespace {

Value* Scalar(Graph& g, const std::string& name, float v) { return ConstNd(g, name, {}, {v}); }

int CountOps(const Graph& g, OpKind op) {
  int n = 0;
  for (const Node* node : g.nodes()) n += node->op == op;
  return n;
}

const Node* FindOp(const Graph& g, OpKind op) {
  for (const Node* node : g.nodes()) {
    if (node->op == op) return node;
  }
  return nullptr;
}

// Runs `pass` and expects the graph unchanged (printed IR and numbers).
void ExpectUntouched(Graph& g, Status (*pass)(Graph&)) {
  ASSERT_TRUE(InferGraphShapes(g).ok());
  std::string before = PrintGraph(g);
  CheckPass(g, pass, before, before);
}


// ---------------------------------------------------------------- activations

// BERT's arrangement: (x * (erf(x / sqrt2) + 1)) * 0.5.
void BuildBertGelu(Graph& g, Value* x, const std::string& p = "") {
  Value* d = Op(g, OpKind::kDiv, p + "d", {x, Scalar(g, p + "sqrt2", 1.4142135381698608f)});
  Value* e = Op(g, OpKind::kErf, p + "e", {d});
  Value* a = Op(g, OpKind::kAdd, p + "a", {e, Scalar(g, p + "one", 1.0f)});
  Value* m = Op(g, OpKind::kMul, p + "m", {x, a});
  g.AddOutput(Op(g, OpKind::kMul, p + "y", {m, Scalar(g, p + "half", 0.5f)}));
}

TEST(FusePointwiseActivations, BertErfGeluBecomesGelu) {
  Graph g;
  g.name = "gelu";
  Value* x = Input(g, "x", {2, 8});
  BuildBertGelu(g, x);
  int k = 0;
  for (Node* n : g.nodes()) n->source_nodes = {StrCat("onnx", k++)};
  ASSERT_TRUE(InferGraphShapes(g).ok());
  auto original = CloneGraph(g);
  ASSERT_TRUE(original.ok());
  CheckPassNumerics(g, RecognizeActivations);
  EXPECT_EQ(PrintGraph(g),
            "graph gelu (%x: f32[2,8]) -> (%y: f32[2,8]) {\n"
            "  %y: f32[2,8] = Gelu(%x) {approximate=\"none\"}  # y_node\n}\n");
  const Node* gelu = FindOp(g, OpKind::kGelu);
  ASSERT_NE(gelu, nullptr);
  EXPECT_EQ(gelu->source_nodes,
            (std::vector<std::string>{"onnx0", "onnx1", "onnx2", "onnx3", "onnx4"}));
}

// Every exporter arrangement: the scale as Div or Mul (constant on either
// side), the 0.5 first / last / on the (1 + erf) factor, operands swapped,
// constants as scalars or [1] tensors.
TEST(FusePointwiseActivations, ErfGeluArrangements) {
  for (int variant = 0; variant < 6; ++variant) {
    SCOPED_TRACE(variant);
    Graph g;
    Value* x = Input(g, "x", {3, 5});
    bool shaped = variant % 2 == 1;
    auto c = [&](const std::string& n, float v) {
      return shaped ? ConstNd(g, n, {1}, {v}) : Scalar(g, n, v);
    };
    Value* d = variant < 3 ? Op(g, OpKind::kMul, "d", {c("k", 0.70710678f), x})
                           : Op(g, OpKind::kMul, "d", {x, c("k", 0.7071067811865476f)});
    Value* e = Op(g, OpKind::kErf, "e", {d});
    Value* a = Op(g, OpKind::kAdd, "a", {c("one", 1.0f), e});
    Value* y;
    switch (variant % 3) {
      case 0: {  // 0.5 first: (x * 0.5) * a
        Value* h = Op(g, OpKind::kMul, "h", {c("half", 0.5f), x});
        y = Op(g, OpKind::kMul, "y", {a, h});
        break;
      }
      case 1: {  // on the factor: x * (a * 0.5)
        Value* h = Op(g, OpKind::kMul, "h", {a, c("half", 0.5f)});
        y = Op(g, OpKind::kMul, "y", {x, h});
        break;
      }
      default: {  // last: 0.5 * (a * x)
        Value* m = Op(g, OpKind::kMul, "m", {a, x});
        y = Op(g, OpKind::kMul, "y", {c("half", 0.5f), m});
      }
    }
    g.AddOutput(y);
    CheckPassNumerics(g, RecognizeActivations);
    EXPECT_EQ(CountOps(g, OpKind::kGelu), 1);
    EXPECT_EQ(g.num_nodes(), 1u);
  }
}

// GPT-2 NewGELU: 0.5 x (1 + tanh(0.79788456 (x + 0.044715 x^3))), x^3 as Pow or products.
TEST(FusePointwiseActivations, TanhGeluBecomesGeluTanh) {
  for (int cube_form = 0; cube_form < 3; ++cube_form) {
    SCOPED_TRACE(cube_form);
    Graph g;
    Value* x = Input(g, "x", {4, 6});
    Value* cube;
    if (cube_form == 0) {
      cube = Op(g, OpKind::kPow, "cube", {x, Scalar(g, "three", 3.0f)});
    } else {
      Value* sq = Op(g, OpKind::kMul, "sq", {x, x});
      cube = Op(g, OpKind::kMul, "cube", cube_form == 1 ? std::vector<Value*>{x, sq}
                                                         : std::vector<Value*>{sq, x});
    }
    Value* w = Op(g, OpKind::kMul, "w", {cube, Scalar(g, "c1", 0.044715f)});
    Value* v = Op(g, OpKind::kAdd, "v", {x, w});
    Value* u = Op(g, OpKind::kMul, "u", {v, Scalar(g, "c2", 0.7978845608028654f)});
    Value* t = Op(g, OpKind::kTanh, "t", {u});
    Value* a = Op(g, OpKind::kAdd, "a", {t, Scalar(g, "one", 1.0f)});
    Value* h = Op(g, OpKind::kMul, "h", {x, Scalar(g, "half", 0.5f)});
    g.AddOutput(Op(g, OpKind::kMul, "y", {h, a}));
    CheckPassNumerics(g, RecognizeActivations);
    const Node* gelu = FindOp(g, OpKind::kGelu);
    ASSERT_NE(gelu, nullptr);
    EXPECT_EQ(gelu->attrs.GetString("approximate"), "tanh");
    EXPECT_EQ(g.num_nodes(), 1u);
  }
}

TEST(FusePointwiseActivations, SiluAndMish) {
  Graph g;
  g.name = "act";
  Value* x = Input(g, "x", {2, 3});
  Value* s = Op(g, OpKind::kSigmoid, "s", {x});
  Value* silu = Op(g, OpKind::kMul, "silu", {s, x});
  Value* sp = Op(g, OpKind::kSoftplus, "sp", {silu});
  Value* t = Op(g, OpKind::kTanh, "t", {sp});
  g.AddOutput(Op(g, OpKind::kMul, "y", {silu, t}));
  ASSERT_TRUE(InferGraphShapes(g).ok());
  CheckPassNumerics(g, RecognizeActivations);
  EXPECT_EQ(PrintGraph(g),
            "graph act (%x: f32[2,3]) -> (%y: f32[2,3]) {\n"
            "  %silu/Swish: f32[2,3] = Swish(%x) {alpha=1}  # silu_node\n"
            "  %y: f32[2,3] = Mish(%silu/Swish)  # y_node\n}\n");
}

TEST(FusePointwiseActivations, NegativeCasesStayUntouched) {
  {  // the erf output is read twice
    Graph g;
    Value* x = Input(g, "x", {4});
    BuildBertGelu(g, x);
    g.AddOutput(Op(g, OpKind::kNeg, "extra", {g.FindValue("e")}));
    ExpectUntouched(g, RecognizeActivations);
  }
  {  // an intermediate is a graph output
    Graph g;
    Value* x = Input(g, "x", {4});
    BuildBertGelu(g, x);
    g.AddOutput(g.FindValue("m"));
    ExpectUntouched(g, RecognizeActivations);
  }
  {  // wrong constant: divides by 2, not sqrt 2
    Graph g;
    Value* x = Input(g, "x", {4});
    BuildBertGelu(g, x);
    g.FindValue("sqrt2")->constant->data<float>()[0] = 2.0f;
    ExpectUntouched(g, RecognizeActivations);
  }
  {  // wrong 0.5 (0.6)
    Graph g;
    Value* x = Input(g, "x", {4});
    BuildBertGelu(g, x);
    g.FindValue("half")->constant->data<float>()[0] = 0.6f;
    ExpectUntouched(g, RecognizeActivations);
  }
  {  // x * sigmoid(z): gated by another tensor
    Graph g;
    Value* x = Input(g, "x", {4});
    Value* z = Input(g, "z", {4});
    g.AddOutput(Op(g, OpKind::kMul, "y", {x, Op(g, OpKind::kSigmoid, "s", {z})}));
    ExpectUntouched(g, RecognizeActivations);
  }
  {  // a scalar x with [1]-shaped constants: the chain's output is [1], not x's []
    Graph g;
    Value* x = Input(g, "x", {});
    Value* d = Op(g, OpKind::kDiv, "d", {x, ConstNd(g, "k", {1}, {1.41421356f})});
    Value* e = Op(g, OpKind::kErf, "e", {d});
    Value* a = Op(g, OpKind::kAdd, "a", {e, ConstNd(g, "one", {1}, {1.0f})});
    Value* m = Op(g, OpKind::kMul, "m", {x, a});
    g.AddOutput(Op(g, OpKind::kMul, "y", {m, ConstNd(g, "half", {1}, {0.5f})}));
    ExpectUntouched(g, RecognizeActivations);
  }
}

// -------------------------------------------------------------- normalization

// ReduceMean(in) over `axis`, keepdims 1, axes as a constant input (the IR
// form of every opset: the importer turns older axes attributes into it).
Value* Mean(Graph& g, const std::string& name, Value* in, int64_t axis) {
  Value* axes = g.AddValue(name + "_axes").value();
  axes->constant = Tensor::FromVector<int64_t>({axis}, {1});
  axes->dtype = DType::kInt64;
  axes->shape = Shape::FromDims({1});
  return Op(g, OpKind::kReduceMean, name, {in, axes});
}

struct NormSpec {
  bool mul_square = false;
  bool reciprocal = false;
  bool gamma = true;
  bool beta = true;
  int64_t axis = -1;
};

// x - mean(x) ... / sqrt(var + eps) [* gamma] [+ beta] over the last axis of [2, 3, 8].
void BuildLayerNorm(Graph& g, const NormSpec& s) {
  Value* x = Input(g, "x", {2, 3, 8});
  auto mean = [&](const std::string& name, Value* in) { return Mean(g, name, in, s.axis); };
  Value* m = mean("mean", x);
  Value* d = Op(g, OpKind::kSub, "d", {x, m});
  Value* sq = s.mul_square ? Op(g, OpKind::kMul, "sq", {d, d})
                           : Op(g, OpKind::kPow, "sq", {d, Scalar(g, "two", 2.0f)});
  Value* var = mean("var", sq);
  Value* ve = Op(g, OpKind::kAdd, "ve", {Scalar(g, "eps", 1e-5f), var});
  Value* sd = Op(g, OpKind::kSqrt, "sd", {ve});
  Value* n = s.reciprocal ? Op(g, OpKind::kMul, "n", {Op(g, OpKind::kReciprocal, "r", {sd}), d})
                          : Op(g, OpKind::kDiv, "n", {d, sd});
  if (s.gamma) n = Op(g, OpKind::kMul, "ng", {n, Const(g, "gamma", RandomData(8, 1))});
  if (s.beta) n = Op(g, OpKind::kAdd, "nb", {Const(g, "beta", RandomData(8, 2)), n});
  g.AddOutput(n);
}

TEST(FusePointwiseNormalization, DecomposedLayerNormBecomesLayerNormalization) {
  Graph g;
  g.name = "ln";
  BuildLayerNorm(g, {});
  CheckPassNumerics(g, FuseNormalization);
  EXPECT_EQ(PrintGraph(g),
            "graph ln (%x: f32[2,3,8]) -> (%nb: f32[2,3,8]) {\n"
            "  const %gamma: f32[8]\n  const %beta: f32[8]\n"
            "  %nb: f32[2,3,8] = LayerNormalization(%x, %gamma, %beta) {axis=-1, "
            "epsilon=1e-05}  # nb_node\n}\n");
}

TEST(FusePointwiseNormalization, LayerNormVariants) {
  // Mul(d, d), Reciprocal + Mul, gamma absent (ones), no beta, axis spelled 2.
  for (int v = 0; v < 4; ++v) {
    SCOPED_TRACE(v);
    NormSpec s;
    s.mul_square = v & 1;
    s.reciprocal = v & 2;
    s.gamma = v != 3;
    s.beta = v == 0;
    s.axis = v == 2 ? 2 : -1;  // the last axis spelled positively
    Graph g;
    BuildLayerNorm(g, s);
    CheckPassNumerics(g, FuseNormalization);
    const Node* ln = FindOp(g, OpKind::kLayerNormalization);
    ASSERT_NE(ln, nullptr);
    EXPECT_EQ(g.num_nodes(), 1u);
    EXPECT_EQ(ln->inputs.size(), s.beta ? 3u : 2u);
  }
}

// T5: x * (1 / sqrt(mean(x^2) + eps)) * weight, weight first.
void BuildRmsNorm(Graph& g, int64_t axis = -1, float exponent = 2.0f) {
  Value* x = Input(g, "x", {2, 5, 16});
  Value* p = Op(g, OpKind::kPow, "p", {x, Scalar(g, "two", exponent)});
  Value* v = Mean(g, "v", p, axis);
  Value* ve = Op(g, OpKind::kAdd, "ve", {v, Scalar(g, "eps", 1e-6f)});
  Value* s = Op(g, OpKind::kSqrt, "s", {ve});
  Value* r = Op(g, OpKind::kDiv, "r", {Scalar(g, "one", 1.0f), s});
  Value* n = Op(g, OpKind::kMul, "n", {x, r});
  g.AddOutput(Op(g, OpKind::kMul, "y", {Const(g, "w", RandomData(16, 3)), n}));
}

TEST(FusePointwiseNormalization, T5RmsNormBecomesRMSNormalization) {
  Graph g;
  g.name = "rms";
  BuildRmsNorm(g);
  CheckPassNumerics(g, FuseNormalization);
  EXPECT_EQ(PrintGraph(g),
            "graph rms (%x: f32[2,5,16]) -> (%y: f32[2,5,16]) {\n"
            "  const %w: f32[16]\n"
            "  %y: f32[2,5,16] = RMSNormalization(%x, %w) {axis=-1, epsilon=1e-06}  # y_node\n"
            "}\n");
}

TEST(FusePointwiseNormalization, NegativeCasesStayUntouched) {
  {  // wrong axis: the mean over axis 1
    Graph g;
    BuildRmsNorm(g, 1);
    ExpectUntouched(g, FuseNormalization);
  }
  {  // x^3, not x^2
    Graph g;
    BuildRmsNorm(g, -1, 3.0f);
    ExpectUntouched(g, FuseNormalization);
  }
  {  // the mean of squares is read twice
    Graph g;
    BuildRmsNorm(g);
    g.AddOutput(Op(g, OpKind::kNeg, "extra", {g.FindValue("v")}));
    ExpectUntouched(g, FuseNormalization);
  }
  {  // LayerNorm whose variance is read twice
    Graph g;
    BuildLayerNorm(g, {});
    g.AddOutput(Op(g, OpKind::kNeg, "extra", {g.FindValue("var")}));
    ExpectUntouched(g, FuseNormalization);
  }
  {  // LayerNorm over a middle axis
    Graph g;
    NormSpec s;
    s.axis = 1;
    BuildLayerNorm(g, s);
    ExpectUntouched(g, FuseNormalization);
  }
}

// When d = x - mean(x) has a reader outside the pattern, the chain is no
// LayerNorm, but what follows d is still an RMSNorm of d (d / sqrt(mean(d^2) +
// eps) * gamma): that is what gets fused, and x - mean(x) stays.
TEST(FusePointwiseNormalization, SharedCentredValueGivesRmsNormOfIt) {
  Graph g;
  BuildLayerNorm(g, {});
  g.AddOutput(Op(g, OpKind::kNeg, "extra", {g.FindValue("d")}));
  CheckPassNumerics(g, FuseNormalization);
  EXPECT_EQ(CountOps(g, OpKind::kLayerNormalization), 0);
  const Node* rms = FindOp(g, OpKind::kRMSNormalization);
  ASSERT_NE(rms, nullptr);
  EXPECT_EQ(rms->inputs[0], g.FindValue("d"));
  EXPECT_EQ(CountOps(g, OpKind::kSub), 1);
  EXPECT_EQ(CountOps(g, OpKind::kAdd), 1);  // beta stays outside: RMSNormalization has none
}

TEST(FusePointwiseNormalization, NonConstantGammaStaysOutside) {
  Graph g;
  BuildRmsNorm(g);
  Value* w = g.FindValue("w");
  g.AddInput(w);  // an overridable initializer is not a constant weight
  CheckPassNumerics(g, FuseNormalization);
  EXPECT_EQ(CountOps(g, OpKind::kRMSNormalization), 1);
  EXPECT_EQ(CountOps(g, OpKind::kMul), 1);  // the weight Mul stays
}

// ------------------------------------------------------------- elementwise

TEST(FusePointwiseElementwise, BroadcastChainOfDifferentRanks) {
  Graph g;
  g.name = "chain";
  Value* x = Input(g, "x", {2, 3, 4});
  Value* b = Input(g, "b", {4});
  Value* s = Input(g, "s", {3, 1});
  Value* t = Op(g, OpKind::kAdd, "t", {x, b});
  Value* u = Op(g, OpKind::kMul, "u", {s, t});
  Value* v = Op(g, OpKind::kTanh, "v", {u});
  g.AddOutput(Op(g, OpKind::kSub, "y", {v, Const(g, "c", {0.5f})}));
  CheckPassBitExact(g, FuseElementwise);
  EXPECT_EQ(PrintGraph(g),
            "graph chain (%x: f32[2,3,4], %b: f32[4], %s: f32[3,1]) -> (%y: f32[2,3,4]) {\n"
            "  const %c: f32[1]\n"
            "  %y: f32[2,3,4] = FusedPointwise(%x, %b, %s, %c) {output_dtype=1, "
            "program=[48,4,0,1,-1,50,5,2,4,-1,8,6,5,-1,-1,49,7,6,3,-1]}  "
            "# y_node\n}\n");
}

// The broadcast of the inputs must be the root's output shape: a [3,1] + [1,4]
// chain broadcasts to [3,4] both ways, so it fuses; every member counted once.
TEST(FusePointwiseElementwise, DiamondWithSharedInternalValue) {
  Graph g;
  Value* a = Input(g, "a", {3, 1});
  Value* b = Input(g, "b", {1, 4});
  Value* e = Op(g, OpKind::kExp, "e", {a});
  Value* p = Op(g, OpKind::kAdd, "p", {e, b});
  Value* q = Op(g, OpKind::kMul, "q", {e, b});
  g.AddOutput(Op(g, OpKind::kDiv, "y", {p, q}));
  CheckPassBitExact(g, FuseElementwise);
  EXPECT_EQ(g.num_nodes(), 1u);
  const Node* f = FindOp(g, OpKind::kFusedPointwise);
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->inputs.size(), 2u);  // a and b, each once
}

// A bool mask chain ending in Where: Greater, Not, Less, And are bool
// registers; the output is float. A second output is the bool mask itself.
TEST(FusePointwiseElementwise, BoolMaskChainAndWhere) {
  Graph g;
  Value* x = Input(g, "x", {4, 5});
  Value* y = Input(g, "y", {5});
  Value* gt = Op(g, OpKind::kGreater, "gt", {x, y});
  Value* ng = Op(g, OpKind::kNot, "ng", {gt});
  Value* lt = Op(g, OpKind::kLess, "lt", {x, Scalar(g, "half", 0.5f)});
  Value* mask = Op(g, OpKind::kAnd, "mask", {ng, lt});
  Value* w = Op(g, OpKind::kWhere, "w", {mask, x, Op(g, OpKind::kNeg, "ny", {y})});
  g.AddOutput(Op(g, OpKind::kMul, "out", {w, Scalar(g, "two", 2.0f)}));
  // Bool-valued group: Or(Equal(x, 0), IsNaN(x)) feeds a graph output directly.
  Value* z = Op(g, OpKind::kEqual, "z", {x, Scalar(g, "zero", 0.0f)});
  g.AddOutput(Op(g, OpKind::kOr, "bad", {z, Op(g, OpKind::kIsNaN, "nan", {x})}));
  ASSERT_TRUE(InferGraphShapes(g).ok());
  auto original = CloneGraph(g);
  ASSERT_TRUE(original.ok());
  CheckPassBitExact(g, FuseElementwise);  // the float output (and the bool one) bit for bit
  EXPECT_EQ(CountOps(g, OpKind::kFusedPointwise), 2);
  EXPECT_EQ(g.num_nodes(), 2u);
  // Again with exact zeros planted in x, so that Equal(x, 0) fires.
  std::mt19937 rng(std::random_device{}());
  auto inputs = RandomInputs(g, rng);
  for (int i = 0; i < 20; i += 3) inputs["x"].data<float>()[i] = 0.0f;
  std::vector<Tensor> want = RunGraph(**original, inputs), got = RunGraph(g, inputs);
  ASSERT_EQ(want.size(), 2u);
  ASSERT_EQ(got.size(), 2u);
  ASSERT_EQ(got[1].dtype(), DType::kBool);
  ExpectBitIdentical(want, got);
}

// Casts round inside the program: x -> f16 -> f32 keeps the f16 rounding.
TEST(FusePointwiseElementwise, CastRoundsInsideTheProgram) {
  Graph g;
  Value* x = Input(g, "x", {64});
  Value* h = Op(g, OpKind::kCast, "h", {x});
  h->producer->attrs.Set("to", static_cast<int64_t>(DType::kFloat16));
  Value* f = Op(g, OpKind::kCast, "f", {h});
  f->producer->attrs.Set("to", static_cast<int64_t>(DType::kFloat32));
  g.AddOutput(Op(g, OpKind::kSub, "y", {f, x}));  // the f16 rounding error itself
  ASSERT_TRUE(InferGraphShapes(g).ok());
  auto original = CloneGraph(g);
  ASSERT_TRUE(original.ok());
  CheckPassBitExact(g, FuseElementwise);
  EXPECT_EQ(g.num_nodes(), 1u);
  std::mt19937 rng(std::random_device{}());
  auto inputs = RandomInputs(g, rng);
  std::vector<Tensor> want = RunGraph(**original, inputs), got = RunGraph(g, inputs);
  ExpectBitIdentical(want, got);
  double err = 0;
  for (float e : got[0].span<float>()) err += std::fabs(e);
  EXPECT_GT(err, 0.0);  // the rounding happened
}

TEST(FusePointwiseElementwise, ClipLeakyReluAndMaxChain) {
  Graph g;
  Value* x = Input(g, "x", {3, 7});
  Value* y = Input(g, "y", {7});
  Value* l = Op(g, OpKind::kLeakyRelu, "l", {x});
  l->producer->attrs.Set("alpha", 0.2f);
  Value* m = Op(g, OpKind::kMax, "m", {l, y, Scalar(g, "floor", -0.5f)});
  g.AddOutput(Op(g, OpKind::kClip, "c", {m, Scalar(g, "lo", -0.25f), Scalar(g, "hi", 0.75f)}));
  CheckPassBitExact(g, FuseElementwise);
  EXPECT_EQ(g.num_nodes(), 1u);
  EXPECT_EQ(FindOp(g, OpKind::kFusedPointwise)->attrs.GetFloats("params"),
            std::vector<float>{0.2f});
}

TEST(FusePointwiseElementwise, GroupsStopAtSharedValuesOutputsAndIntegers) {
  {  // t is read outside the chain: {t} and {v, y} stay apart, singles stay as they are
    Graph g;
    g.name = "split";
    Value* x = Input(g, "x", {4});
    Value* t = Op(g, OpKind::kExp, "t", {x});
    Value* v = Op(g, OpKind::kNeg, "v", {t});
    g.AddOutput(Op(g, OpKind::kAbs, "y", {v}));
    g.AddOutput(Op(g, OpKind::kMatMul, "mm", {t, t}));
    CheckPassBitExact(g, FuseElementwise);
    EXPECT_EQ(CountOps(g, OpKind::kExp), 1);
    EXPECT_EQ(CountOps(g, OpKind::kFusedPointwise), 1);
    EXPECT_EQ(FindOp(g, OpKind::kFusedPointwise)->inputs, std::vector<Value*>{g.FindValue("t")});
  }
  {  // an intermediate that is a graph output keeps its own node
    Graph g;
    Value* x = Input(g, "x", {4});
    Value* t = Op(g, OpKind::kExp, "t", {x});
    g.AddOutput(t);
    g.AddOutput(Op(g, OpKind::kNeg, "y", {t}));
    ExpectUntouched(g, FuseElementwise);
  }
  {  // integer arithmetic is left alone
    Graph g;
    Value* x = g.AddValue("x").value();
    x->dtype = DType::kInt64;
    x->shape = Shape::FromDims({3});
    g.AddInput(x);
    Value* k = g.AddValue("k").value();
    k->constant = Tensor::FromVector<int64_t>({2}, {1});
    k->dtype = DType::kInt64;
    k->shape = Shape::FromDims({1});
    g.AddOutput(Op(g, OpKind::kMul, "y", {Op(g, OpKind::kAdd, "a", {x, k}), k}));
    ASSERT_TRUE(InferGraphShapes(g).ok());
    std::string before = PrintGraph(g);
    ASSERT_TRUE(FuseElementwise(g).ok());
    EXPECT_EQ(PrintGraph(g), before);
  }
  {  // a scalar chain with a [1] constant changes shape: [] -> [1]; ok to fuse (root is [1])
    Graph g;
    Value* x = Input(g, "x", {});
    Value* c = Op(g, OpKind::kClip, "c", {Op(g, OpKind::kExp, "e", {x}), Const(g, "lo", {0}),
                                          nullptr});
    g.AddOutput(c);
    ExpectUntouched(g, FuseElementwise);  // Clip's output is [] but the inputs broadcast to [1]
  }
}

// ------------------------------------------------------------- real models

struct ModelCase {
  const char* name;
  OpKind op;
  int count;
  const char* attr;   // string attribute to check (or nullptr)
  const char* value;
};

TEST(FusePointwiseModels, ExportedModelsGetTheirFusedOps) {
  for (const ModelCase& c : {ModelCase{"bert", OpKind::kGelu, 2, "approximate", "none"},
                             ModelCase{"vit", OpKind::kGelu, 2, "approximate", "none"},
                             ModelCase{"gpt2", OpKind::kGelu, 2, "approximate", "tanh"},
                             ModelCase{"t5enc", OpKind::kRMSNormalization, 5, nullptr, nullptr}}) {
    SCOPED_TRACE(c.name);
    auto model = ImportOnnxFile(StrCat(FRT_SOURCE_DIR, "/tests/models/tiny/", c.name, ".onnx"));
    ASSERT_TRUE(model.ok()) << model.status().ToString();
    Graph& g = **model;
    ASSERT_TRUE(InferGraphShapes(g).ok());
    // The passes up to and including the two recognizers.
    for (const Pass& p : RegisteredPasses()) {
      Status s = p.run(g);
      ASSERT_TRUE(s.ok()) << p.name << ": " << s.ToString();
      ASSERT_TRUE(InferGraphShapes(g).ok()) << p.name;
      if (std::string(p.name) == "fuse_normalization") break;
    }
    ASSERT_TRUE(VerifyGraph(g).ok());
    EXPECT_EQ(CountOps(g, c.op), c.count);
    for (const Node* n : g.nodes()) {
      if (n->op != c.op) continue;
      if (c.attr) {
        EXPECT_EQ(n->attrs.GetString(c.attr), c.value);
      }
      EXPECT_GE(n->source_nodes.size(), 5u);  // provenance: every replaced ONNX node
    }
  }
}

}  // namespace
}  // namespace frt
