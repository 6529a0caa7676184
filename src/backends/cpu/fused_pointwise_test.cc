// Reference kernels of Gelu, Swish, RMSNormalization and FusedPointwise
// against the unfused ONNX ops they replace, on fresh random inputs, plus the
// program validator's error messages.
//
// Tolerance: the fused kernels compute in double and round once; the unfused
// graphs round to float32 after each of their 3..8 ops. Each rounding is at
// most 2^-24 relative, so a relative L2 error of 1e-6 (about 16 ulps) leaves
// room for the accumulation while still catching any wrong constant or
// formula (those show up at 1e-3 and above).
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "ir/ops/fused_pointwise.h"
#include "passes/pass_test_util.h"

namespace frt {
namespace {

constexpr double kTol = 1e-6;

Value* Scalar(Graph& g, const std::string& name, float v) { return ConstNd(g, name, {}, {v}); }

// Fresh inputs from N(0, scale^2) for every graph input (float32).
std::map<std::string, Tensor> Inputs(const Graph& g, float scale) {
  std::mt19937 rng(std::random_device{}());
  std::map<std::string, Tensor> in = RandomInputs(g, rng);
  for (auto& [name, t] : in) {
    for (float& f : t.span<float>()) f *= scale;
  }
  return in;
}

// Runs both graphs (same input names) and compares output 0.
void ExpectSameOutputs(Graph& fused, Graph& unfused, float scale, double tol = kTol) {
  ASSERT_TRUE(InferGraphShapes(fused).ok());
  ASSERT_TRUE(InferGraphShapes(unfused).ok());
  ASSERT_TRUE(VerifyGraph(fused).ok());
  for (int trial = 0; trial < 3; ++trial) {
    auto in = Inputs(fused, scale);
    std::vector<Tensor> got = RunGraph(fused, in), want = RunGraph(unfused, in);
    ASSERT_EQ(got.size(), 1u);
    ASSERT_EQ(want.size(), 1u);
    ASSERT_EQ(got[0].dims(), want[0].dims());
    ASSERT_EQ(got[0].dtype(), want[0].dtype());
    EXPECT_LE(RelativeL2(got[0], want[0]), tol);
  }
}

TEST(FusedPointwiseKernels, GeluMatchesErfDecomposition) {
  Graph fused, unfused;
  Value* fx = Input(fused, "x", {4, 33});
  Value* y = Op(fused, OpKind::kGelu, "y", {fx});
  fused.AddOutput(y);
  Value* x = Input(unfused, "x", {4, 33});
  Value* d = Op(unfused, OpKind::kDiv, "d", {x, Scalar(unfused, "k", std::sqrt(2.0f))});
  Value* a = Op(unfused, OpKind::kAdd, "a",
                {Op(unfused, OpKind::kErf, "e", {d}), Scalar(unfused, "one", 1.0f)});
  Value* m = Op(unfused, OpKind::kMul, "m", {x, a});
  unfused.AddOutput(Op(unfused, OpKind::kMul, "y", {m, Scalar(unfused, "half", 0.5f)}));
  ExpectSameOutputs(fused, unfused, 3.0f);
}

TEST(FusedPointwiseKernels, GeluTanhMatchesGpt2Decomposition) {
  Graph fused, unfused;
  Value* fx = Input(fused, "x", {5, 17});
  Value* y = Op(fused, OpKind::kGelu, "y", {fx});
  y->producer->attrs.Set("approximate", std::string("tanh"));
  fused.AddOutput(y);
  Graph& u = unfused;
  Value* x = Input(u, "x", {5, 17});
  Value* cube = Op(u, OpKind::kPow, "cube", {x, Scalar(u, "three", 3.0f)});
  Value* v = Op(u, OpKind::kAdd, "v",
                {x, Op(u, OpKind::kMul, "w", {cube, Scalar(u, "c1", 0.044715f)})});
  Value* t = Op(u, OpKind::kTanh, "t",
                {Op(u, OpKind::kMul, "uu", {v, Scalar(u, "c2", 0.7978845608f)})});
  Value* a = Op(u, OpKind::kAdd, "a", {t, Scalar(u, "one", 1.0f)});
  Value* h = Op(u, OpKind::kMul, "h", {x, Scalar(u, "half", 0.5f)});
  u.AddOutput(Op(u, OpKind::kMul, "y", {h, a}));
  ExpectSameOutputs(fused, unfused, 2.0f);
}

TEST(FusedPointwiseKernels, GeluRejectsUnknownApproximation) {
  Graph g;
  Value* y = Op(g, OpKind::kGelu, "y", {Input(g, "x", {3})});
  y->producer->attrs.Set("approximate", std::string("fast"));
  g.AddOutput(y);
  Status s = InferGraphShapes(g);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("\"fast\""), std::string::npos) << s.message();
}

TEST(FusedPointwiseKernels, SwishMatchesXTimesSigmoidAlphaX) {
  Graph fused, unfused;
  Value* y = Op(fused, OpKind::kSwish, "y", {Input(fused, "x", {64})});
  y->producer->attrs.Set("alpha", 1.702f);
  fused.AddOutput(y);
  Value* x = Input(unfused, "x", {64});
  Value* ax = Op(unfused, OpKind::kMul, "ax", {x, Scalar(unfused, "alpha", 1.702f)});
  unfused.AddOutput(Op(unfused, OpKind::kMul, "y", {x, Op(unfused, OpKind::kSigmoid, "s", {ax})}));
  ExpectSameOutputs(fused, unfused, 4.0f);
}

TEST(FusedPointwiseKernels, RmsNormMatchesDecomposition) {
  Graph fused, unfused;
  std::vector<float> w = RandomData(24, 7);
  Value* y = Op(fused, OpKind::kRMSNormalization, "y",
                {Input(fused, "x", {3, 4, 24}), Const(fused, "w", w)});
  y->producer->attrs.Set("epsilon", 1e-6f);
  fused.AddOutput(y);
  Graph& u = unfused;
  Value* x = Input(u, "x", {3, 4, 24});
  Value* axes = u.AddValue("axes").value();
  axes->constant = Tensor::FromVector<int64_t>({-1}, {1});
  axes->dtype = DType::kInt64;
  axes->shape = Shape::FromDims({1});
  Value* v = Op(u, OpKind::kReduceMean, "v", {Op(u, OpKind::kMul, "sq", {x, x}), axes});
  Value* s = Op(u, OpKind::kSqrt, "s", {Op(u, OpKind::kAdd, "ve", {v, Scalar(u, "eps", 1e-6f)})});
  Value* n = Op(u, OpKind::kDiv, "n", {x, s});
  u.AddOutput(Op(u, OpKind::kMul, "y", {n, Const(u, "w", w)}));
  ExpectSameOutputs(fused, unfused, 2.0f);
}

// axis -2 normalizes the last two dims together; scale [5, 1] broadcasts onto them.
TEST(FusedPointwiseKernels, RmsNormOverTwoAxesWithBroadcastScale) {
  Graph g;
  Value* y = Op(g, OpKind::kRMSNormalization, "y",
                {Input(g, "x", {2, 5, 3}), ConstNd(g, "w", {5, 1}, RandomData(5, 9))});
  y->producer->attrs.Set("axis", int64_t{-2});
  y->producer->attrs.Set("epsilon", 0.01f);
  g.AddOutput(y);
  ASSERT_TRUE(InferGraphShapes(g).ok());
  auto in = Inputs(g, 1.0f);
  std::vector<Tensor> got = RunGraph(g, in);
  ASSERT_EQ(got.size(), 1u);
  const float* x = in["x"].data<float>();
  const float* w = g.FindValue("w")->constant->data<float>();
  for (int b = 0; b < 2; ++b) {
    double sq = 0;
    for (int k = 0; k < 15; ++k) sq += double(x[b * 15 + k]) * x[b * 15 + k];
    double inv = 1 / std::sqrt(sq / 15 + double(0.01f));
    for (int k = 0; k < 15; ++k) {
      float want = static_cast<float>(x[b * 15 + k] * inv * w[k / 3]);
      EXPECT_EQ(got[0].data<float>()[b * 15 + k], want) << b << "," << k;
    }
  }
}

// A program over inputs of ranks 3, 1, 2 and 0 with float and bool registers:
//   y = Where(x > b, Clip(x * s, -1, 1), LeakyRelu(b - c)) + Cast<f32>(Not(x > b))
TEST(FusedPointwiseKernels, ProgramMatchesUnfusedOps) {
  using pointwise::Opcode;
  Graph fused, unfused;
  // Registers: 0 x[2,3,4], 1 b[4], 2 s[3,1], 3 c[], 4 lo, 5 hi.
  Value* fin[] = {Input(fused, "x", {2, 3, 4}), Input(fused, "b", {4}),
                  Input(fused, "s", {3, 1}), Input(fused, "c", {}),
                  Scalar(fused, "lo", -1.0f), Scalar(fused, "hi", 1.0f)};
  Value* y = Op(fused, OpKind::kFusedPointwise, "y", std::vector<Value*>(fin, fin + 6));
  std::vector<int64_t> program;
  auto emit = [&](Opcode op, int64_t dst, int64_t a, int64_t b = -1, int64_t c = -1) {
    pointwise::AppendInstruction(program, {op, dst, a, b, c});
  };
  emit(Opcode::kGreater, 6, 0, 1);
  emit(Opcode::kMul, 7, 0, 2);
  emit(Opcode::kClip, 8, 7, 4, 5);
  emit(Opcode::kSub, 9, 1, 3);
  emit(Opcode::kLeakyRelu, 10, 9, 0);
  emit(Opcode::kWhere, 11, 6, 8, 10);
  emit(Opcode::kNot, 12, 6);
  emit(Opcode::kCast, 13, 12, static_cast<int64_t>(DType::kFloat32));
  emit(Opcode::kAdd, 14, 11, 13);
  y->producer->attrs.Set("program", program);
  y->producer->attrs.Set("params", std::vector<float>{0.3f});
  y->producer->attrs.Set("output_dtype", static_cast<int64_t>(DType::kFloat32));
  fused.AddOutput(y);

  Graph& u = unfused;
  Value* x = Input(u, "x", {2, 3, 4});
  Value* b = Input(u, "b", {4});
  Value* s = Input(u, "s", {3, 1});
  Value* c = Input(u, "c", {});
  Value* gt = Op(u, OpKind::kGreater, "gt", {x, b});
  Value* cl = Op(u, OpKind::kClip, "cl", {Op(u, OpKind::kMul, "xs", {x, s}),
                                          Scalar(u, "lo", -1.0f), Scalar(u, "hi", 1.0f)});
  Value* lr = Op(u, OpKind::kLeakyRelu, "lr", {Op(u, OpKind::kSub, "bc", {b, c})});
  lr->producer->attrs.Set("alpha", 0.3f);
  Value* w = Op(u, OpKind::kWhere, "w", {gt, cl, lr});
  Value* nf = Op(u, OpKind::kCast, "nf", {Op(u, OpKind::kNot, "ng", {gt})});
  nf->producer->attrs.Set("to", static_cast<int64_t>(DType::kFloat32));
  u.AddOutput(Op(u, OpKind::kAdd, "y", {w, nf}));
  ASSERT_TRUE(InferGraphShapes(fused).ok());
  ASSERT_TRUE(InferGraphShapes(unfused).ok());
  EXPECT_EQ(y->shape->ToString(), "[2,3,4]");
  // Each instruction rounds like the unfused op's kernel: bit-identical.
  for (int trial = 0; trial < 3; ++trial) {
    auto in = Inputs(fused, 1.5f);
    ExpectBitIdentical(RunGraph(fused, in), RunGraph(unfused, in));
  }
}

// f16 registers round after every instruction, as the f16 unfused ops do.
TEST(FusedPointwiseKernels, Float16ProgramRoundsLikeTheUnfusedOps) {
  using pointwise::Opcode;
  auto half_input = [](Graph& g, const std::string& name) {
    Value* v = Input(g, name, {40});
    v->dtype = DType::kFloat16;
    return v;
  };
  Graph fused, unfused;
  Value* y = Op(fused, OpKind::kFusedPointwise, "y",
                {half_input(fused, "a"), half_input(fused, "b")});
  std::vector<int64_t> program;
  pointwise::AppendInstruction(program, {Opcode::kMul, 2, 0, 1, -1});
  pointwise::AppendInstruction(program, {Opcode::kExp, 3, 2, -1, -1});
  pointwise::AppendInstruction(program, {Opcode::kDiv, 4, 3, 0, -1});
  y->producer->attrs.Set("program", program);
  y->producer->attrs.Set("output_dtype", static_cast<int64_t>(DType::kFloat16));
  fused.AddOutput(y);
  Value* a = half_input(unfused, "a");
  Value* b = half_input(unfused, "b");
  Value* e = Op(unfused, OpKind::kExp, "e", {Op(unfused, OpKind::kMul, "m", {a, b})});
  unfused.AddOutput(Op(unfused, OpKind::kDiv, "y", {e, a}));
  for (Graph* g : {&fused, &unfused}) {
    for (Node* n : g->nodes()) n->outputs[0]->dtype = DType::kFloat16;
    ASSERT_TRUE(InferGraphShapes(*g).ok());
  }
  std::mt19937 rng(std::random_device{}());
  std::normal_distribution<float> dist;
  for (int trial = 0; trial < 3; ++trial) {
    std::map<std::string, Tensor> in;
    for (const char* name : {"a", "b"}) {
      Tensor t = Tensor::Allocate(DType::kFloat16, {40}).value();
      for (Float16& h : t.span<Float16>()) h = Float16::FromFloat(dist(rng));
      in[name] = std::move(t);
    }
    ExpectBitIdentical(RunGraph(fused, in), RunGraph(unfused, in));
  }
}

// Validation: each malformed program is rejected with the node and the instruction named.
TEST(FusedPointwiseKernels, ProgramValidationErrorsNameNodeAndInstruction) {
  using pointwise::Opcode;
  struct Case {
    std::vector<int64_t> program;
    int64_t output_dtype;
    const char* expect;
  };
  const int64_t f32 = static_cast<int64_t>(DType::kFloat32);
  const int64_t b8 = static_cast<int64_t>(DType::kBool);
  const Case cases[] = {
      {{48, 2, 0, 1}, f32, "positive multiple of 5"},
      {{99, 2, 0, 1, -1}, f32, "opcode 99 is not defined"},
      {{48, 3, 0, 1, -1}, f32, "must write r2"},
      {{48, 2, 0, 2, -1}, f32, "source b is r2"},
      {{48, 2, 0, 1, 7}, f32, "slot c is 7"},
      {{55, 2, 0, 1, -1, 48, 3, 2, 0, -1}, f32, "instruction 1 (Add)"},
      {{60, 2, 0, 1, -1}, b8, "must both be bool"},
      {{33, 2, 0, 0, -1}, f32, "parameter index 0"},
      {{40, 2, 0, static_cast<int64_t>(DType::kInt32), -1}, f32, "target dtype code"},
      {{48, 2, 0, 1, -1}, b8, "output_dtype"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.expect);
    Graph g;
    Value* y = Op(g, OpKind::kFusedPointwise, "y", {Input(g, "a", {3}), Input(g, "b", {3})});
    y->producer->attrs.Set("program", c.program);
    y->producer->attrs.Set("output_dtype", c.output_dtype);
    g.AddOutput(y);
    Status s = InferGraphShapes(g);
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.code(), StatusCode::kInvalidModel);
    EXPECT_NE(s.message().find("y_node"), std::string::npos) << s.message();
    EXPECT_NE(s.message().find(c.expect), std::string::npos) << s.message();
  }
}

TEST(FusedPointwiseKernels, ProgramRejectsNonBroadcastingInputs) {
  Graph g;
  Value* y = Op(g, OpKind::kFusedPointwise, "y", {Input(g, "a", {3}), Input(g, "b", {4})});
  std::vector<int64_t> program;
  pointwise::AppendInstruction(program, {pointwise::Opcode::kAdd, 2, 0, 1, -1});
  y->producer->attrs.Set("program", program);
  y->producer->attrs.Set("output_dtype", static_cast<int64_t>(DType::kFloat32));
  g.AddOutput(y);
  EXPECT_FALSE(InferGraphShapes(g).ok());
}

}  // namespace
}  // namespace frt
