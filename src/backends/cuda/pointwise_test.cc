// GPU conformance of the pointwise CUDA family against the CPU reference
// (double inside): every unary, binary and ternary op in f32, f16 and bf16,
// integer and bool variants, broadcasting (bias rows, columns, scalars, outer
// broadcasts), odd sizes (vector tails, rows that are no vector multiple),
// BERT-large sizes, Cast between every supported dtype pair with special
// values, and FusedPointwise programs made by the optimizer from chains
// (generated with NVRTC). Skipped without a GPU.
//
// Tolerances (relative L2): f32 arithmetic and selections are exact or one
// rounding (1e-6); f32 transcendentals use CUDA's fp32 functions (a few ulp:
// 1e-6); f16 and bf16 inputs compute in fp32 and round once to the output,
// at most half an ulp apart from the reference's one rounding per element:
// f16 2e-3 (ulp 2^-10), bf16 1.5e-2 (ulp 2^-7). Comparisons, Where, Clip,
// Max/Min, integer ops and Casts are exact (0).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <limits>

#include "backends/cuda/gpu_test_util.h"
#include "passes/pass_test_util.h"

namespace frt {
namespace {

using gpu_test::RandomTensor;

constexpr DType kF32 = DType::kFloat32, kF16 = DType::kFloat16, kBF16 = DType::kBFloat16;

double Tolerance(DType t, double f32 = 1e-6) {
  return t == kF16 ? 2e-3 : t == kBF16 ? 1.5e-2 : f32;
}

Value* TypedInput(Graph& g, const std::string& name, DType t, const Dims& dims) {
  Value* v = Input(g, name, dims);
  v->dtype = t;
  return v;
}

// A constant of dtype t with the values of `f` (a float tensor).
Value* TypedConst(Graph& g, const std::string& name, const Tensor& t) {
  Value* v = g.AddValue(name).value();
  v->constant = t;
  v->dtype = t.dtype();
  v->shape = Shape::FromDims(t.dims());
  return v;
}

Tensor IntTensor(DType t, const Dims& dims, uint64_t seed, int64_t lo, int64_t hi) {
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int64_t> d(lo, hi);
  Tensor out = Tensor::Allocate(t, dims).value();
  for (int64_t i = 0; i < out.num_elements(); ++i) {
    const int64_t v = d(rng);
    if (t == DType::kInt64) out.data<int64_t>()[i] = v;
    if (t == DType::kInt32) out.data<int32_t>()[i] = static_cast<int32_t>(v);
    if (t == DType::kBool) out.data<bool>()[i] = v != 0;
  }
  return out;
}

// A one-element tensor of float dtype t holding v.
Tensor FloatScalar(DType t, float v, const Dims& dims = {}) {
  Tensor f = Tensor::FromVector<float>({v}, dims);
  if (t == kF32) return f;
  Tensor out = Tensor::Allocate(t, dims).value();
  if (t == kF16) out.data<Float16>()[0] = Float16::FromFloat(v);
  if (t == kBF16) out.data<BFloat16>()[0] = BFloat16::FromFloat(v);
  return out;
}

// The first row of a [rows, cols] tensor, as a [cols] tensor.
Tensor FirstRow(const Tensor& t) {
  Tensor out = Tensor::Allocate(t.dtype(), {t.dims().back()}).value();
  std::memcpy(out.raw(), t.raw(), out.nbytes());
  return out;
}

// Every layer of the run used `tactic` (host shape steps aside).
void ExpectTactic(const gpu_test::GpuRun& run, const std::string& op, const std::string& tactic) {
  bool found = false;
  for (const LayerInfo& l : run.layers) {
    if (l.op == op) {
      EXPECT_EQ(l.tactic, tactic) << l.name;
      found = true;
    }
  }
  EXPECT_TRUE(found) << "no " << op << " layer";
}

// Builds y = op(inputs...) with attributes, runs it on the GPU and the reference.
gpu_test::GpuRun RunOp(OpKind op, const std::vector<std::pair<std::string, Tensor>>& inputs,
                       double tol, const Attributes& attrs = {},
                       const std::vector<Value*>& extra = {}) {
  Graph g;
  std::vector<Value*> ins;
  std::map<std::string, Tensor> feed;
  for (const auto& [name, t] : inputs) {
    ins.push_back(TypedInput(g, name, t.dtype(), t.dims()));
    feed[name] = t;
  }
  for (Value* v : extra) ins.push_back(v);
  Value* y = Op(g, op, "out", ins);
  y->producer->attrs = attrs;
  g.AddOutput(y);
  Status s = InferGraphShapes(g);
  EXPECT_TRUE(s.ok()) << s.ToString();
  if (!s.ok()) return {};
  auto run = gpu_test::ExpectMatchesReference(g, feed, tol);
  ExpectTactic(run, std::string(OpKindName(op)), "cuda.pointwise");
  return run;
}

// ------------------------------------------------------------------- unary

struct UnaryCase {
  OpKind op;
  float lo, hi;  // input range (the op's domain)
  std::vector<std::pair<std::string, float>> attrs;
  std::string approximate;  // Gelu
};

TEST(CudaPointwiseUnary, EveryOpEveryFloatDType) {
  FRT_SKIP_WITHOUT_GPU();
  const std::vector<UnaryCase> cases = {
      {OpKind::kRelu, -2, 2, {}, ""},
      {OpKind::kSigmoid, -12, 12, {}, ""},
      {OpKind::kTanh, -4, 4, {}, ""},
      {OpKind::kErf, -3, 3, {}, ""},
      {OpKind::kExp, -5, 5, {}, ""},
      {OpKind::kLog, 0.01f, 50, {}, ""},
      {OpKind::kSqrt, 0, 50, {}, ""},
      {OpKind::kReciprocal, 0.25f, 4, {}, ""},
      {OpKind::kNeg, -3, 3, {}, ""},
      {OpKind::kAbs, -3, 3, {}, ""},
      {OpKind::kGelu, -5, 5, {}, "none"},
      {OpKind::kGelu, -5, 5, {}, "tanh"},
      {OpKind::kSwish, -8, 8, {{"alpha", 1.702f}}, ""},
      {OpKind::kLeakyRelu, -3, 3, {{"alpha", 0.2f}}, ""},
      {OpKind::kLeakyRelu, -3, 3, {}, ""},
      {OpKind::kSoftplus, -30, 30, {}, ""},
      {OpKind::kHardSigmoid, -6, 6, {{"alpha", 0.25f}, {"beta", 0.4f}}, ""},
  };
  uint64_t seed = 100;
  for (const UnaryCase& c : cases) {
    for (DType t : {kF32, kF16, kBF16}) {
      // An odd size: the vector loop plus a tail.
      for (const Dims& dims : {Dims{3, 5, 7}, Dims{2, 1024}}) {
        SCOPED_TRACE(StrCat(OpKindName(c.op), " ", c.approximate, " ", DTypeName(t), " ",
                            DimsToString(dims)));
        Attributes attrs;
        for (const auto& [name, v] : c.attrs) attrs.Set(name, v);
        if (!c.approximate.empty()) attrs.Set("approximate", c.approximate);
        RunOp(c.op, {{"x", RandomTensor(t, dims, ++seed, c.lo, c.hi)}}, Tolerance(t), attrs);
      }
    }
  }
}

TEST(CudaPointwiseUnary, IntegerAndBool) {
  FRT_SKIP_WITHOUT_GPU();
  for (DType t : {DType::kInt32, DType::kInt64}) {
    for (OpKind op : {OpKind::kRelu, OpKind::kNeg, OpKind::kAbs}) {
      SCOPED_TRACE(StrCat(OpKindName(op), " ", DTypeName(t)));
      RunOp(op, {{"x", IntTensor(t, {5, 33}, 7, -1000, 1000)}}, 0.0);
    }
  }
  RunOp(OpKind::kNot, {{"x", IntTensor(DType::kBool, {7, 19}, 8, 0, 1)}}, 0.0);
}

TEST(CudaPointwiseUnary, ClipWithConstantAndAbsentBounds) {
  FRT_SKIP_WITHOUT_GPU();
  for (DType t : {kF32, kF16, kBF16}) {
    SCOPED_TRACE(DTypeName(t));
    Tensor lo = FloatScalar(t, -0.5f);
    Tensor hi = FloatScalar(t, 0.75f);
    Tensor x = RandomTensor(t, {4, 37}, 3, -2, 2);
    Graph g;
    Value* xv = TypedInput(g, "x", t, x.dims());
    Value* both =
        Op(g, OpKind::kClip, "both", {xv, TypedConst(g, "lo", lo), TypedConst(g, "hi", hi)});
    Value* max_only = Op(g, OpKind::kClip, "max_only", {xv, nullptr, TypedConst(g, "hi2", hi)});
    Value* min_only = Op(g, OpKind::kClip, "min_only", {xv, TypedConst(g, "lo2", lo)});
    for (Value* v : {both, max_only, min_only}) g.AddOutput(v);
    ASSERT_TRUE(InferGraphShapes(g).ok());
    auto run = gpu_test::ExpectMatchesReference(g, {{"x", x}}, 0.0, {.optimization_level = 0});
    ExpectTactic(run, "Clip", "cuda.pointwise");
  }
  // Integer Clip with a bound given at run time (a graph input).
  Graph g;
  Value* x = TypedInput(g, "x", DType::kInt64, {100});
  Value* lo = TypedInput(g, "lo", DType::kInt64, {});
  g.AddOutput(Op(g, OpKind::kClip, "y", {x, lo}));
  ASSERT_TRUE(InferGraphShapes(g).ok());
  Tensor lo_t = Tensor::FromVector<int64_t>({-7}, {});
  gpu_test::ExpectMatchesReference(
      g, {{"x", IntTensor(DType::kInt64, {100}, 4, -20, 20)}, {"lo", lo_t}}, 0.0);
}

// ------------------------------------------------------------------ binary

TEST(CudaPointwiseBinary, ArithmeticWithBroadcasting) {
  FRT_SKIP_WITHOUT_GPU();
  // (a shape, b shape): same, bias row, odd row (no vector multiple), column,
  // scalar, outer broadcast on both sides, BERT-large bias add.
  const std::vector<std::pair<Dims, Dims>> shapes = {
      {{2, 3, 4}, {2, 3, 4}}, {{2, 3, 4}, {4}},    {{3, 5, 7}, {7}}, {{4, 6, 8}, {4, 6, 1}},
      {{5, 9}, {}},           {{2, 1, 4}, {3, 1}}, {{1}, {3, 5, 7}}, {{8, 384, 1024}, {1024}},
  };
  uint64_t seed = 500;
  for (OpKind op :
       {OpKind::kAdd, OpKind::kSub, OpKind::kMul, OpKind::kDiv, OpKind::kMax, OpKind::kMin}) {
    for (DType t : {kF32, kF16, kBF16}) {
      for (const auto& [da, db] : shapes) {
        SCOPED_TRACE(StrCat(OpKindName(op), " ", DTypeName(t), " ", DimsToString(da), " ",
                            DimsToString(db)));
        const bool div = op == OpKind::kDiv;
        Tensor a = RandomTensor(t, da, ++seed, -2, 2);
        Tensor b = div ? RandomTensor(t, db, ++seed, 0.5f, 2) : RandomTensor(t, db, ++seed, -2, 2);
        const bool exact = op == OpKind::kMax || op == OpKind::kMin || t == kF32;
        RunOp(op, {{"a", a}, {"b", b}}, exact ? (t == kF32 ? 1e-7 : 0.0) : Tolerance(t));
      }
    }
  }
}

TEST(CudaPointwiseBinary, IntegersWrapAndDivideByZeroGivesZero) {
  FRT_SKIP_WITHOUT_GPU();
  for (DType t : {DType::kInt32, DType::kInt64}) {
    for (OpKind op :
         {OpKind::kAdd, OpKind::kSub, OpKind::kMul, OpKind::kDiv, OpKind::kMax, OpKind::kMin}) {
      SCOPED_TRACE(StrCat(OpKindName(op), " ", DTypeName(t)));
      Tensor a = IntTensor(t, {6, 1, 33}, 11, -100000, 100000);
      Tensor b = IntTensor(t, {5, 33}, 12, -3, 3);  // includes 0 and -1
      RunOp(op, {{"a", a}, {"b", b}}, 0.0);
    }
  }
  // int32 overflow wraps.
  Tensor big = Tensor::FromVector<int32_t>({2147483647, -2147483647 - 1, 65536}, {3});
  RunOp(OpKind::kAdd, {{"a", big}, {"b", big}}, 0.0);
  RunOp(OpKind::kMul, {{"a", big}, {"b", big}}, 0.0);
}

TEST(CudaPointwiseBinary, PowWithMixedExponents) {
  FRT_SKIP_WITHOUT_GPU();
  for (DType t : {kF32, kF16, kBF16}) {
    SCOPED_TRACE(DTypeName(t));
    Tensor base = RandomTensor(t, {4, 65}, 21, 0.5f, 2);
    RunOp(OpKind::kPow, {{"a", base}, {"b", RandomTensor(t, {65}, 22, -2, 2)}}, Tolerance(t, 2e-6));
    RunOp(OpKind::kPow, {{"a", base}, {"b", FloatScalar(kF32, 3.0f)}}, Tolerance(t, 2e-6));
    RunOp(OpKind::kPow, {{"a", base}, {"b", Tensor::FromVector<int64_t>({2}, {})}},
          Tolerance(t, 2e-6));
  }
}

TEST(CudaPointwiseBinary, ComparisonsAndLogic) {
  FRT_SKIP_WITHOUT_GPU();
  for (DType t : {kF32, kF16, kBF16, DType::kInt32, DType::kInt64}) {
    const bool is_int = t == DType::kInt32 || t == DType::kInt64;
    Tensor a = is_int ? IntTensor(t, {3, 41}, 31, -3, 3) : RandomTensor(t, {3, 41}, 31, -1, 1);
    // b shares about half of a's values so that Equal and the *OrEqual ops see ties.
    Tensor b = is_int ? IntTensor(t, {3, 41}, 32, -3, 3) : RandomTensor(t, {3, 41}, 32, -1, 1);
    for (int64_t i = 0; i < a.num_elements(); i += 2) {
      std::memcpy(static_cast<char*>(b.raw()) + i * DTypeSize(t),
                  static_cast<const char*>(a.raw()) + i * DTypeSize(t), DTypeSize(t));
    }
    for (OpKind op : {OpKind::kEqual, OpKind::kLess, OpKind::kGreater, OpKind::kLessOrEqual,
                      OpKind::kGreaterOrEqual}) {
      SCOPED_TRACE(StrCat(OpKindName(op), " ", DTypeName(t)));
      RunOp(op, {{"a", a}, {"b", b}}, 0.0);
      RunOp(op, {{"a", a}, {"b", FirstRow(b)}}, 0.0);  // broadcast row
    }
  }
  Tensor p = IntTensor(DType::kBool, {4, 50}, 41, 0, 1);
  Tensor q = IntTensor(DType::kBool, {50}, 42, 0, 1);
  for (OpKind op : {OpKind::kAnd, OpKind::kOr, OpKind::kXor, OpKind::kEqual}) {
    SCOPED_TRACE(OpKindName(op));
    RunOp(op, {{"p", p}, {"q", q}}, 0.0);
  }
}

// ----------------------------------------------------------------- ternary

TEST(CudaPointwiseWhere, EveryValueDTypeWithBroadcasting) {
  FRT_SKIP_WITHOUT_GPU();
  Tensor cond = IntTensor(DType::kBool, {4, 1, 9}, 51, 0, 1);
  for (DType t : {kF32, kF16, kBF16, DType::kInt32, DType::kInt64, DType::kBool}) {
    SCOPED_TRACE(DTypeName(t));
    const bool is_int = t == DType::kInt32 || t == DType::kInt64 || t == DType::kBool;
    Tensor x = is_int ? IntTensor(t, {4, 3, 9}, 52, -9, 9) : RandomTensor(t, {4, 3, 9}, 52);
    Tensor y = is_int ? IntTensor(t, {9}, 53, -9, 9) : RandomTensor(t, {9}, 53);
    RunOp(OpKind::kWhere, {{"c", cond}, {"x", x}, {"y", y}}, 0.0);
    // Same shapes everywhere: the vectorized path.
    Tensor c2 = IntTensor(DType::kBool, {16, 64}, 54, 0, 1);
    Tensor x2 = is_int ? IntTensor(t, {16, 64}, 55, -9, 9) : RandomTensor(t, {16, 64}, 55);
    Tensor y2 = is_int ? IntTensor(t, {16, 64}, 56, -9, 9) : RandomTensor(t, {16, 64}, 56);
    RunOp(OpKind::kWhere, {{"c", c2}, {"x", x2}, {"y", y2}}, 0.0);
  }
}

// -------------------------------------------------------------------- Cast

// Values every Cast must get right: signs, halves, saturation, NaN and infinities.
Tensor SpecialFloats(DType t) {
  const float inf = std::numeric_limits<float>::infinity();
  std::vector<float> v = {
      0.0f,          -0.0f,    0.5f,    -0.5f,    1.5f,
      -2.7f,         2.7f,     127.9f,  128.5f,   -129.0f,
      255.5f,        300.0f,   -300.0f, 65504.0f, 70000.0f,
      1e-8f,         3e9f,     -3e9f,   1e20f,    -1e20f,
      9.2e18f,       -9.3e18f, inf,     -inf,     std::numeric_limits<float>::quiet_NaN(),
      1.0009765625f, 3.14159f};
  for (int i = 0; i < 37; ++i) v.push_back(static_cast<float>(i) * 7.31f - 100.0f);
  Tensor f = Tensor::FromVector<float>(v, {static_cast<int64_t>(v.size())});
  if (t == kF32) return f;
  Tensor out = Tensor::Allocate(t, f.dims()).value();
  for (int64_t i = 0; i < f.num_elements(); ++i) {
    const double d = f.data<float>()[i];
    if (t == DType::kFloat64) out.data<double>()[i] = d;
    if (t == kF16) out.data<Float16>()[i] = Float16::FromFloat(static_cast<float>(d));
    if (t == kBF16) out.data<BFloat16>()[i] = BFloat16::FromFloat(static_cast<float>(d));
  }
  return out;
}

TEST(CudaPointwiseCast, EveryDTypePair) {
  FRT_SKIP_WITHOUT_GPU();
  const std::vector<DType> types = {kF32,          kF16,          kBF16,        DType::kFloat64,
                                    DType::kInt32, DType::kInt64, DType::kInt8, DType::kUInt8,
                                    DType::kBool};
  for (DType from : types) {
    Tensor x;
    if (IsFloat(from)) {
      x = SpecialFloats(from);
    } else {
      Tensor wide = IntTensor(DType::kInt64, {70}, 61, -70000, 70000);
      wide.data<int64_t>()[0] = std::numeric_limits<int64_t>::max();
      wide.data<int64_t>()[1] = std::numeric_limits<int64_t>::min();
      wide.data<int64_t>()[2] = 0;
      x = Tensor::Allocate(from, wide.dims()).value();
      for (int64_t i = 0; i < wide.num_elements(); ++i) {
        const int64_t v = wide.data<int64_t>()[i];
        switch (from) {
          case DType::kInt32: x.data<int32_t>()[i] = static_cast<int32_t>(v); break;
          case DType::kInt64: x.data<int64_t>()[i] = v; break;
          case DType::kInt8: x.data<int8_t>()[i] = static_cast<int8_t>(v); break;
          case DType::kUInt8: x.data<uint8_t>()[i] = static_cast<uint8_t>(v); break;
          default: x.data<bool>()[i] = v % 3 == 0; break;
        }
      }
    }
    for (DType to : types) {
      SCOPED_TRACE(StrCat(DTypeName(from), " -> ", DTypeName(to)));
      Attributes attrs;
      attrs.Set("to", static_cast<int64_t>(to));
      Graph g;
      Value* xv = TypedInput(g, "x", from, x.dims());
      Value* y = Op(g, OpKind::kCast, "y", {xv});
      y->producer->attrs = attrs;
      g.AddOutput(y);
      ASSERT_TRUE(InferGraphShapes(g).ok());
      auto run = gpu_test::RunOnGpu(g, {{"x", x}}, {.optimization_level = 0});
      ASSERT_TRUE(run.ok()) << run.status().ToString();
      auto ref = gpu_test::RunReference(g, {{"x", x}});
      ASSERT_TRUE(ref.ok()) << ref.status().ToString();
      const Tensor& got = run->outputs[0];
      const Tensor& want = (*ref)[0];
      ASSERT_EQ(got.dtype(), to);
      ASSERT_EQ(got.nbytes(), want.nbytes());
      // Bit for bit, except that every NaN equals every NaN.
      for (int64_t i = 0; i < want.num_elements(); ++i) {
        const double g_v = got.GetAsDouble(i), w_v = want.GetAsDouble(i);
        if (std::isnan(w_v)) {
          EXPECT_TRUE(std::isnan(g_v)) << "element " << i;
        } else {
          EXPECT_EQ(g_v, w_v) << "element " << i << " of input " << x.GetAsDouble(i);
        }
      }
    }
  }
}

// Round trips through the reduced float types lose only their rounding.
TEST(CudaPointwiseCast, RoundTrips) {
  FRT_SKIP_WITHOUT_GPU();
  for (DType mid : {kF16, kBF16, DType::kFloat64}) {
    SCOPED_TRACE(DTypeName(mid));
    Graph g;
    Value* x = Input(g, "x", {8, 333});
    Value* a = Op(g, OpKind::kCast, "a", {x});
    a->producer->attrs.Set("to", static_cast<int64_t>(mid));
    Value* b = Op(g, OpKind::kCast, "b", {a});
    b->producer->attrs.Set("to", static_cast<int64_t>(kF32));
    g.AddOutput(b);
    ASSERT_TRUE(InferGraphShapes(g).ok());
    Tensor xt = RandomTensor(kF32, {8, 333}, 71, -100, 100);
    auto run = gpu_test::ExpectMatchesReference(g, {{"x", xt}}, 0.0, {.optimization_level = 0});
    // And the round trip is within the narrow type's rounding of x.
    if (!run.outputs.empty()) {
      EXPECT_LE(gpu_test::RelativeError(run.outputs[0], xt), Tolerance(mid, 0.0) / 4);
    }
  }
}

// --------------------------------------------------------- FusedPointwise

// Builds and checks a graph that the optimizer turns into one FusedPointwise.
void ExpectFused(Graph& g, const std::map<std::string, Tensor>& inputs, double tol_f32,
                 bool reduced_precision = true) {
  ASSERT_TRUE(InferGraphShapes(g).ok());
  struct Mode {
    gpu_test::GpuOptions options;
    double tol;
  };
  std::vector<Mode> modes = {{{}, tol_f32}};
  if (reduced_precision) {
    // Inputs and constants round to the narrow type; intermediates stay in fp32.
    modes.push_back({{.fp16 = true}, 3e-3});
    modes.push_back({{.bf16 = true}, 2e-2});
  }
  for (const Mode& m : modes) {
    SCOPED_TRACE(m.options.fp16 ? "fp16" : m.options.bf16 ? "bf16" : "fp32");
    auto run = gpu_test::ExpectMatchesReference(g, inputs, m.tol, m.options);
    int fused = 0;
    for (const LayerInfo& l : run.layers) {
      if (l.op == "FusedPointwise") {
        EXPECT_EQ(l.tactic, "cuda.fused_pointwise.nvrtc");
        ++fused;
      }
    }
    EXPECT_GE(fused, 1) << "the optimizer made no FusedPointwise layer";
  }
}

// y = tanh(x * c + b) * x with c a [H] constant and b a scalar constant.
void BuildTanhChain(Graph& g, const Dims& dims) {
  const int64_t h = dims.back();
  Value* x = Input(g, "x", dims);
  Value* c = Const(g, "c", RandomData(static_cast<size_t>(h), 81, 0.5f));
  Value* b = ConstNd(g, "b", {}, {0.25f});
  Value* m = Op(g, OpKind::kMul, "m", {x, c});
  Value* a = Op(g, OpKind::kAdd, "a", {m, b});
  Value* t = Op(g, OpKind::kTanh, "t", {a});
  g.AddOutput(Op(g, OpKind::kMul, "y", {t, x}));
}

TEST(CudaPointwiseFused, MulAddTanhMulChain) {
  FRT_SKIP_WITHOUT_GPU();
  for (const Dims& dims : {Dims{2, 16, 64}, Dims{3, 5, 7}, Dims{8, 384, 1024}}) {
    SCOPED_TRACE(DimsToString(dims));
    Graph g;
    BuildTanhChain(g, dims);
    ExpectFused(g, {{"x", RandomTensor(kF32, dims, 82, -2, 2)}}, 1e-6);
  }
}

// Column and row broadcasts together (flat path), and an outer broadcast
// (general path): sigmoid(x * s + g) and relu(p + q) * 0.5.
TEST(CudaPointwiseFused, BroadcastPaths) {
  FRT_SKIP_WITHOUT_GPU();
  {
    Graph g;
    Value* x = Input(g, "x", {2, 16, 64});
    Value* s = Input(g, "s", {2, 16, 1});
    Value* gamma = Const(g, "gamma", RandomData(64, 91));
    Value* m = Op(g, OpKind::kMul, "m", {x, s});
    Value* a = Op(g, OpKind::kAdd, "a", {m, gamma});
    g.AddOutput(Op(g, OpKind::kSigmoid, "y", {a}));
    ExpectFused(
        g, {{"x", RandomTensor(kF32, {2, 16, 64}, 92)}, {"s", RandomTensor(kF32, {2, 16, 1}, 93)}},
        1e-6);
  }
  {
    Graph g;
    Value* p = Input(g, "p", {2, 1, 9});
    Value* q = Input(g, "q", {5, 1});
    Value* a = Op(g, OpKind::kAdd, "a", {p, q});
    Value* r = Op(g, OpKind::kRelu, "r", {a});
    g.AddOutput(Op(g, OpKind::kMul, "y", {r, ConstNd(g, "half", {}, {0.5f})}));
    ExpectFused(
        g, {{"p", RandomTensor(kF32, {2, 1, 9}, 94)}, {"q", RandomTensor(kF32, {5, 1}, 95)}}, 1e-7);
  }
}

// Comparisons, Where and a bool output: leaky relu by hand, and a mask.
TEST(CudaPointwiseFused, SelectionsAndBoolOutputs) {
  FRT_SKIP_WITHOUT_GPU();
  Graph g;
  Value* x = Input(g, "x", {4, 100});
  Value* zero = ConstNd(g, "zero", {}, {0.0f});
  Value* pos = Op(g, OpKind::kGreater, "pos", {x, zero});
  Value* scaled = Op(g, OpKind::kMul, "scaled", {x, ConstNd(g, "slope", {}, {0.1f})});
  Value* leaky = Op(g, OpKind::kWhere, "leaky", {pos, x, scaled});
  Value* e = Op(g, OpKind::kExp, "e", {leaky});
  g.AddOutput(Op(g, OpKind::kSub, "y", {e, ConstNd(g, "one", {}, {1.0f})}));
  Value* neg = Op(g, OpKind::kLess, "neg", {x, ConstNd(g, "m", {}, {-0.5f})});
  Value* big = Op(g, OpKind::kGreater, "big", {x, ConstNd(g, "p", {}, {0.5f})});
  g.AddOutput(Op(g, OpKind::kOr, "mask", {neg, big}));
  // The mask compares reduced-precision values: exact only in fp32.
  ExpectFused(g, {{"x", RandomTensor(kF32, {4, 100}, 101, -2, 2)}}, 2e-6, false);
}

// Activations the optimizer recognizes inside a longer chain: x * sigmoid(1.702 x) + erf.
TEST(CudaPointwiseFused, ActivationsInsideChains) {
  FRT_SKIP_WITHOUT_GPU();
  Graph g;
  Value* x = Input(g, "x", {6, 250});
  Value* y = Input(g, "y", {6, 250});
  Value* sx = Op(g, OpKind::kMul, "sx", {x, ConstNd(g, "k", {}, {1.702f})});
  Value* sg = Op(g, OpKind::kSigmoid, "sg", {sx});
  Value* sw = Op(g, OpKind::kMul, "sw", {x, sg});
  Value* er = Op(g, OpKind::kErf, "er", {y});
  Value* sum = Op(g, OpKind::kAdd, "sum", {sw, er});
  g.AddOutput(Op(g, OpKind::kSqrt, "out", {Op(g, OpKind::kAbs, "abs", {sum})}));
  ExpectFused(g,
              {{"x", RandomTensor(kF32, {6, 250}, 111, -4, 4)},
               {"y", RandomTensor(kF32, {6, 250}, 112, -2, 2)}},
              2e-6);
}

// The generated kernel travels in the engine file: a deserialized engine runs it.
TEST(CudaPointwiseFused, EngineRoundTrip) {
  FRT_SKIP_WITHOUT_GPU();
  Graph g;
  BuildTanhChain(g, {4, 96});
  ASSERT_TRUE(InferGraphShapes(g).ok());
  auto copy = CloneGraph(g);
  ASSERT_TRUE(copy.ok());
  NetworkDefinition net = NetworkDefinition::FromGraph(std::move(*copy));
  BuilderConfig config;
  config.device = DeviceKind::kCuda;
  auto built = Builder::Build(net, config);
  ASSERT_TRUE(built.ok()) << built.status().ToString();
  auto bytes = (*built)->Serialize();
  ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
  auto engine = Engine::Deserialize(bytes->data(), bytes->size(), "fused.engine");
  ASSERT_TRUE(engine.ok()) << engine.status().ToString();
  bool fused = false;
  for (const LayerInfo& l : (*engine)->layers()) fused |= l.tactic == "cuda.fused_pointwise.nvrtc";
  EXPECT_TRUE(fused);
  Tensor x = RandomTensor(kF32, {4, 96}, 121);
  auto xd = DeviceBuffer::Allocate(x.nbytes(), "x").value();
  auto yd = DeviceBuffer::Allocate(x.nbytes(), "y").value();
  ASSERT_EQ(cudaMemcpy(xd.data(), x.raw(), x.nbytes(), cudaMemcpyHostToDevice), cudaSuccess);
  auto ctx = (*engine)->CreateContext();
  ASSERT_TRUE(ctx.ok()) << ctx.status().ToString();
  ASSERT_TRUE((*ctx)->SetTensorAddress("x", xd.data(), x.nbytes()).ok());
  ASSERT_TRUE((*ctx)->SetTensorAddress("y", yd.data(), x.nbytes()).ok());
  // Twice: the second run reuses the loaded module.
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE((*ctx)->Execute().ok());
    Tensor y = Tensor::Allocate(kF32, x.dims()).value();
    ASSERT_EQ(cudaMemcpy(y.raw(), yd.data(), y.nbytes(), cudaMemcpyDeviceToHost), cudaSuccess);
    auto ref = gpu_test::RunReference(g, {{"x", x}});
    ASSERT_TRUE(ref.ok());
    EXPECT_LE(gpu_test::RelativeError(y, (*ref)[0]), 1e-6);
  }
}

// Bandwidth of the kernels on large tensors (not a conformance test; run with
// --gtest_also_run_disabled_tests): bytes read + written per second of GPU
// time, from CUDA events around 20 enqueues.
TEST(CudaPointwisePerf, DISABLED_Bandwidth) {
  FRT_SKIP_WITHOUT_GPU();
  struct Case {
    std::string name;
    std::function<void(Graph&)> build;
    DType dtype;
    double bytes_per_element;  // read + written
  };
  const Dims dims = {64, 1024, 1024};
  const std::vector<Case> cases = {
      {"Add bias f32",
       [&](Graph& g) {
         Value* x = Input(g, "x", dims);
         g.AddOutput(Op(g, OpKind::kAdd, "y", {x, Const(g, "b", RandomData(1024, 1))}));
       },
       kF32, 8},
      {"Mul same-shape f32",
       [&](Graph& g) {
         Value* x = Input(g, "x", dims);
         Value* z = Input(g, "z", dims);
         g.AddOutput(Op(g, OpKind::kMul, "y", {x, z}));
       },
       kF32, 12},
      {"Gelu f16",
       [&](Graph& g) {
         Value* x = TypedInput(g, "x", kF16, dims);
         g.AddOutput(Op(g, OpKind::kGelu, "y", {x}));
       },
       kF16, 4},
      {"Cast f32->f16",
       [&](Graph& g) {
         Value* x = Input(g, "x", dims);
         Value* y = Op(g, OpKind::kCast, "y", {x});
         y->producer->attrs.Set("to", static_cast<int64_t>(kF16));
         g.AddOutput(y);
       },
       kF32, 6},
      {"Fused tanh chain f32", [&](Graph& g) { BuildTanhChain(g, dims); }, kF32, 8},
  };
  for (const Case& c : cases) {
    Graph g;
    c.build(g);
    ASSERT_TRUE(InferGraphShapes(g).ok());
    auto copy = CloneGraph(g);
    ASSERT_TRUE(copy.ok());
    NetworkDefinition net = NetworkDefinition::FromGraph(std::move(*copy));
    BuilderConfig config;
    config.device = DeviceKind::kCuda;
    auto engine = Builder::Build(net, config);
    ASSERT_TRUE(engine.ok()) << engine.status().ToString();
    auto ctx = (*engine)->CreateContext().value();
    std::vector<DeviceBuffer> buffers;
    int64_t n = 1;
    for (int64_t d : dims) n *= d;
    for (const TensorDesc& d : (*engine)->io_tensors()) {
      const size_t bytes = static_cast<size_t>(n) * DTypeSize(d.dtype);
      buffers.push_back(DeviceBuffer::Allocate(bytes, d.name).value());
      ASSERT_EQ(cudaMemset(buffers.back().data(), 0, bytes), cudaSuccess);
      ASSERT_TRUE(ctx->SetTensorAddress(d.name, buffers.back().data(), bytes).ok());
    }
    cudaStream_t stream;
    ASSERT_EQ(cudaStreamCreate(&stream), cudaSuccess);
    ASSERT_TRUE(ctx->Enqueue(stream).ok());  // warm-up (loads generated kernels)
    cudaEvent_t start, stop;
    cudaEventCreate(&start);
    cudaEventCreate(&stop);
    cudaEventRecord(start, stream);
    const int reps = 20;
    for (int i = 0; i < reps; ++i) ASSERT_TRUE(ctx->Enqueue(stream).ok());
    cudaEventRecord(stop, stream);
    ASSERT_EQ(cudaEventSynchronize(stop), cudaSuccess);
    float ms = 0;
    cudaEventElapsedTime(&ms, start, stop);
    const double per = ms / reps;
    std::printf("%-24s %8.1f us  %7.0f GB/s\n", c.name.c_str(), per * 1e3,
                c.bytes_per_element * static_cast<double>(n) / (per * 1e-3) / 1e9);
    cudaEventDestroy(start);
    cudaEventDestroy(stop);
    cudaStreamDestroy(stream);
  }
}

}  // namespace
}  // namespace frt
