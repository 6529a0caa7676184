// CPU tests of the pointwise CUDA family's host code: broadcast planning
// (checked against a naive broadcast on random shapes by replaying the
// kernels' index arithmetic), vectorization and grid decisions, `supports`
// decisions, FusedPointwise code generation with NVRTC compiling the result
// to PTX (NVRTC needs no GPU), and the tactic blob encoding.
#include "backends/cuda/pointwise_codegen.h"

#include <gtest/gtest.h>

#include <random>

#include "backends/cuda/pointwise_params.h"
#include "backends/cuda/pointwise_support.h"
#include "ir/ops/fused_pointwise.h"

namespace frt::cuda_pointwise {
namespace {

Result<BroadcastPlan> Plan(const Dims& out, std::vector<Dims> ins) {
  return PlanBroadcast(out, ins);
}

TEST(CudaCodegenPlan, SameShapeCoalescesToRankOne) {
  auto p = Plan({2, 3, 4}, {{2, 3, 4}, {2, 3, 4}});
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->n, 24);
  EXPECT_EQ(p->rank, 1);
  EXPECT_EQ(p->dims, (Dims{24}));
  EXPECT_TRUE(p->flat);
  EXPECT_EQ(p->modes, (std::vector<InputMode>{kFull, kFull}));
}

TEST(CudaCodegenPlan, BiasBroadcastIsRow) {
  auto p = Plan({2, 3, 4}, {{2, 3, 4}, {4}});
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->dims, (Dims{6, 4}));
  EXPECT_EQ(p->modes, (std::vector<InputMode>{kFull, kRow}));
  EXPECT_EQ(p->rows[1], 4);
  EXPECT_TRUE(p->flat);
  auto q = Plan({2, 3, 4}, {{3, 4}, {2, 3, 4}});
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->dims, (Dims{2, 12}));
  EXPECT_EQ(q->modes, (std::vector<InputMode>{kRow, kFull}));
  EXPECT_EQ(q->rows[0], 12);
}

TEST(CudaCodegenPlan, ScalarsAndColumns) {
  auto p = Plan({5, 7, 9}, {{5, 7, 9}, {}, {1, 1}, {5, 7, 1}});
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->dims, (Dims{35, 9}));
  EXPECT_EQ(p->modes, (std::vector<InputMode>{kFull, kScalar, kScalar, kCol}));
  EXPECT_EQ(p->rows[3], 9);
  EXPECT_TRUE(p->flat);
  // Scalar outputs.
  auto r0 = Plan({}, {{}, {}});
  ASSERT_TRUE(r0.ok()) << r0.status().ToString();
  EXPECT_EQ(r0->n, 1);
  EXPECT_EQ(r0->rank, 1);
  auto s = Plan({1}, {{}, {1}});
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->n, 1);
  EXPECT_EQ(s->rank, 1);
  EXPECT_TRUE(s->flat);
}

TEST(CudaCodegenPlan, OuterBroadcastNeedsGeneralPath) {
  auto p = Plan({2, 3, 4}, {{2, 1, 4}, {3, 1}});
  ASSERT_TRUE(p.ok());
  EXPECT_FALSE(p->flat);
  EXPECT_EQ(p->dims, (Dims{2, 3, 4}));
  EXPECT_EQ(p->strides[0], (Dims{4, 0, 1}));
  EXPECT_EQ(p->strides[1], (Dims{0, 1, 0}));
}

TEST(CudaCodegenPlan, Errors) {
  auto bad = Plan({2, 3}, {{2, 4}});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("[2,4]"), std::string::npos);
  auto higher = Plan({3}, {{2, 3}});
  EXPECT_FALSE(higher.ok());
  // Alternating broadcast dims do not merge: rank 10 stays 10.
  Dims out(10, 2), in(10, 2);
  for (size_t d = 0; d < 10; d += 2) in[d] = 1;
  auto deep = Plan(out, {out, in});
  ASSERT_FALSE(deep.ok());
  EXPECT_EQ(deep.status().code(), StatusCode::kUnsupported);
  // The same rank with same shapes coalesces and is fine.
  EXPECT_TRUE(Plan(out, {out, out}).ok());
}

// Offsets of every input for output element i, as the general kernel computes them.
std::vector<int64_t> GeneralOffsets(const BroadcastPlan& p, int64_t i) {
  std::vector<int64_t> off(p.strides.size(), 0);
  int64_t idx = i;
  for (int d = p.rank - 1; d > 0; --d) {
    const int64_t q = idx / p.dims[d], c = idx - q * p.dims[d];
    for (size_t k = 0; k < off.size(); ++k) off[k] += c * p.strides[k][d];
    idx = q;
  }
  for (size_t k = 0; k < off.size(); ++k) off[k] += idx * p.strides[k][0];
  return off;
}

// As the flat kernel computes them.
int64_t FlatOffset(const BroadcastPlan& p, size_t k, int64_t i) {
  switch (p.modes[k]) {
    case kScalar: return 0;
    case kRow: return i % p.rows[k];
    case kCol: return i / p.rows[k];
    default: return i;
  }
}

// Naive numpy broadcasting: the flat index of input `in` for output index i.
int64_t NaiveOffset(const Dims& out, const Dims& in, int64_t i) {
  Dims coord(out.size());
  for (size_t d = out.size(); d-- > 0;) {
    coord[d] = i % out[d];
    i /= out[d];
  }
  int64_t off = 0;
  for (size_t j = 0; j < in.size(); ++j) {
    const size_t d = j + out.size() - in.size();
    off = off * in[j] + (in[j] == 1 ? 0 : coord[d]);
  }
  return off;
}

TEST(CudaCodegenPlan, RandomShapesMatchNaiveBroadcast) {
  std::mt19937 rng(std::random_device{}());
  int flat_cases = 0, general_cases = 0;
  for (int trial = 0; trial < 300; ++trial) {
    const int rank = std::uniform_int_distribution<int>(0, 6)(rng);
    Dims out(rank);
    for (int64_t& d : out) d = std::uniform_int_distribution<int>(1, 5)(rng);
    const int n_in = std::uniform_int_distribution<int>(1, 4)(rng);
    std::vector<Dims> ins;
    for (int k = 0; k < n_in; ++k) {
      const int r = std::uniform_int_distribution<int>(0, rank)(rng);
      Dims in(out.end() - r, out.end());
      for (int64_t& d : in) {
        if (rng() % 3 == 0) d = 1;
      }
      ins.push_back(in);
    }
    auto p = Plan(out, ins);
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    (p->flat ? flat_cases : general_cases)++;
    for (int64_t i = 0; i < p->n; ++i) {
      std::vector<int64_t> off = GeneralOffsets(*p, i);
      for (int k = 0; k < n_in; ++k) {
        const int64_t want = NaiveOffset(out, ins[k], i);
        ASSERT_EQ(off[k], want) << "trial " << trial << " input " << k << " element " << i;
        if (p->flat) {
          ASSERT_EQ(FlatOffset(*p, k, i), want) << "flat, input " << k;
        }
      }
    }
  }
  EXPECT_GT(flat_cases, 10);
  EXPECT_GT(general_cases, 10);
}

TEST(CudaCodegenPlan, VectorizationNeedsAlignmentAndWholeRows) {
  auto p = Plan({6, 8}, {{6, 8}, {8}});
  ASSERT_TRUE(p.ok());
  alignas(64) static float buf[64];
  const std::vector<int> sizes = {4, 4, 4};
  const void* aligned[] = {buf, buf + 4, buf + 8};
  EXPECT_TRUE(CanVectorize(*p, 4, aligned, sizes));
  const void* misaligned[] = {buf, buf + 1, buf + 8};
  EXPECT_FALSE(CanVectorize(*p, 4, misaligned, sizes));
  EXPECT_FALSE(CanVectorize(*p, 16, aligned, sizes));  // row 8 is not a multiple of 16
  auto g = Plan({2, 3, 4}, {{2, 1, 4}, {3, 1}});
  EXPECT_FALSE(CanVectorize(*g, 4, aligned, sizes));
  EXPECT_EQ(VectorWidth(std::vector<int>{4, 2}), 4);
  EXPECT_EQ(VectorWidth(std::vector<int>{2, 2, 1}), 8);
  EXPECT_EQ(VectorWidth(std::vector<int>{1}), 16);
  EXPECT_EQ(VectorWidth(std::vector<int>{8, 1}), 2);
  EXPECT_EQ(GridBlocks(1, 256, 132), 1u);
  EXPECT_EQ(GridBlocks(256 * 10 + 1, 256, 132), 11u);
  EXPECT_EQ(GridBlocks(int64_t{1} << 40, 256, 132), 132u * 8);
}

// ------------------------------------------------------------------ supports

struct NodeBuilder {
  Graph g;
  Value* V(DType t, Dims dims) {
    Value* v = g.AddValue(StrCat("v", count++)).value();
    v->dtype = t;
    v->shape = Shape::FromDims(dims);
    return v;
  }
  Node* N(OpKind op, std::vector<Value*> ins, Value* out) {
    Node* n = g.AddNode(op, StrCat("n", count++));
    n->inputs = std::move(ins);
    n->outputs = {out};
    return n;
  }
  int count = 0;
};

TEST(CudaCodegenSupports, ElementwiseDTypes) {
  NodeBuilder b;
  const DType f32 = DType::kFloat32, f16 = DType::kFloat16, bf16 = DType::kBFloat16;
  const DType i64 = DType::kInt64, f64 = DType::kFloat64, boolean = DType::kBool;
  auto bin = [&](OpKind op, DType a, DType c, DType out) {
    return SupportsElementwise(*b.N(op, {b.V(a, {2, 3}), b.V(c, {3})}, b.V(out, {2, 3})));
  };
  EXPECT_EQ(bin(OpKind::kAdd, f32, f32, f32), "");
  EXPECT_EQ(bin(OpKind::kMul, bf16, bf16, bf16), "");
  EXPECT_EQ(bin(OpKind::kAdd, i64, i64, i64), "");
  EXPECT_NE(bin(OpKind::kAdd, f64, f64, f64), "");
  EXPECT_NE(bin(OpKind::kAdd, f32, f16, f32), "");
  EXPECT_EQ(bin(OpKind::kPow, f16, f32, f16), "");
  EXPECT_EQ(bin(OpKind::kPow, f32, i64, f32), "");
  EXPECT_NE(bin(OpKind::kPow, f32, f64, f32), "");
  EXPECT_NE(bin(OpKind::kPow, i64, i64, i64), "");
  EXPECT_EQ(bin(OpKind::kLess, i64, i64, boolean), "");
  EXPECT_EQ(bin(OpKind::kEqual, boolean, boolean, boolean), "");
  EXPECT_NE(bin(OpKind::kLess, boolean, boolean, boolean), "");
  EXPECT_EQ(bin(OpKind::kAnd, boolean, boolean, boolean), "");
  EXPECT_NE(bin(OpKind::kAnd, f32, f32, boolean), "");

  auto unary = [&](OpKind op, DType t) {
    return SupportsElementwise(*b.N(op, {b.V(t, {4})}, b.V(t, {4})));
  };
  EXPECT_EQ(unary(OpKind::kTanh, f16), "");
  EXPECT_NE(unary(OpKind::kTanh, i64), "");
  EXPECT_EQ(unary(OpKind::kNeg, i64), "");
  EXPECT_EQ(unary(OpKind::kNot, boolean), "");
  EXPECT_NE(unary(OpKind::kNot, f32), "");
  Node* gelu = b.N(OpKind::kGelu, {b.V(f32, {4})}, b.V(f32, {4}));
  EXPECT_EQ(SupportsElementwise(*gelu), "");
  EXPECT_FALSE(GeluIsTanh(*gelu));
  gelu->attrs.Set("approximate", std::string("tanh"));
  EXPECT_EQ(SupportsElementwise(*gelu), "");
  EXPECT_TRUE(GeluIsTanh(*gelu));
  gelu->attrs.Set("approximate", std::string("sigmoid"));
  EXPECT_NE(SupportsElementwise(*gelu), "");

  Node* where =
      b.N(OpKind::kWhere, {b.V(boolean, {2, 1}), b.V(i64, {3}), b.V(i64, {})}, b.V(i64, {2, 3}));
  EXPECT_EQ(SupportsElementwise(*where), "");
  Node* bad_where =
      b.N(OpKind::kWhere, {b.V(f32, {3}), b.V(f32, {3}), b.V(f32, {3})}, b.V(f32, {3}));
  EXPECT_NE(SupportsElementwise(*bad_where), "");

  Node* clip = b.N(OpKind::kClip, {b.V(f16, {5}), nullptr, b.V(f16, {})}, b.V(f16, {5}));
  EXPECT_EQ(SupportsElementwise(*clip), "");
  Node* clip_vec = b.N(OpKind::kClip, {b.V(f32, {5}), b.V(f32, {2})}, b.V(f32, {5}));
  EXPECT_NE(SupportsElementwise(*clip_vec), "");

  // Deep broadcasting is refused at build time; deep same-shape ops are fine.
  Dims deep(9, 2), deep_b(9, 2);
  deep_b[0] = 1;
  EXPECT_NE(
      SupportsElementwise(*b.N(OpKind::kAdd, {b.V(f32, deep), b.V(f32, deep_b)}, b.V(f32, deep))),
      "");
  EXPECT_EQ(
      SupportsElementwise(*b.N(OpKind::kAdd, {b.V(f32, deep), b.V(f32, deep)}, b.V(f32, deep))),
      "");
}

TEST(CudaCodegenSupports, CastDTypes) {
  NodeBuilder b;
  auto cast = [&](DType from, DType to) {
    return SupportsCast(*b.N(OpKind::kCast, {b.V(from, {3})}, b.V(to, {3})));
  };
  EXPECT_EQ(cast(DType::kFloat32, DType::kFloat16), "");
  EXPECT_EQ(cast(DType::kFloat64, DType::kBFloat16), "");
  EXPECT_EQ(cast(DType::kBool, DType::kInt8), "");
  EXPECT_EQ(cast(DType::kUInt8, DType::kInt64), "");
  EXPECT_NE(cast(DType::kFloat32, DType::kFloat8E4M3FN), "");
  EXPECT_NE(cast(DType::kUInt16, DType::kFloat32), "");
}

// ---------------------------------------------------------------- codegen

// A FusedPointwise node over inputs of `dtypes` with `program` (5 ints per
// instruction) and `params`.
struct FusedNode {
  NodeBuilder b;
  Node* node = nullptr;
  FusedNode(const std::vector<DType>& dtypes, const std::vector<int64_t>& program,
            const std::vector<float>& params, DType out) {
    std::vector<Value*> ins;
    for (DType t : dtypes) ins.push_back(b.V(t, {4, 8}));
    node = b.N(OpKind::kFusedPointwise, ins, b.V(out, {4, 8}));
    node->attrs.Set("program", program);
    if (!params.empty()) node->attrs.Set("params", params);
    node->attrs.Set("output_dtype", static_cast<int64_t>(out));
  }
  Result<GeneratedKernel> Generate() const {
    std::vector<DType> dtypes;
    for (const Value* v : node->inputs) dtypes.push_back(v->dtype);
    FRT_ASSIGN_OR_RETURN(pointwise::Program p, pointwise::DecodeProgram(*node, dtypes));
    return GenerateFusedSource(p, dtypes);
  }
};

constexpr int64_t Op(pointwise::Opcode op) { return static_cast<int64_t>(op); }
using pointwise::Opcode;

// tanh(x * c + b) * x in f32: the chain the optimizer makes of Mul -> Add -> Tanh -> Mul.
TEST(CudaCodegenFused, GeneratesStraightLineCode) {
  const DType f32 = DType::kFloat32;
  FusedNode f({f32, f32, f32}, {Op(Opcode::kMul),  3, 0, 1,  -1, Op(Opcode::kAdd), 4, 3, 2, -1,
                                Op(Opcode::kTanh), 5, 4, -1, -1, Op(Opcode::kMul), 6, 5, 0, -1},
              {}, f32);
  EXPECT_EQ(SupportsFusedPointwise(*f.node), "");
  auto g = f.Generate();
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  EXPECT_EQ(g->vec, 4);
  const std::string& s = g->source;
  EXPECT_EQ(s.find("#include"), std::string::npos);
  EXPECT_NE(s.find("extern \"C\" __global__ void __launch_bounds__(256) frt_fused_pointwise("),
            std::string::npos);
  EXPECT_NE(s.find("const float r3 = (r0 * r1);  // Mul"), std::string::npos) << s;
  EXPECT_NE(s.find("const float r4 = (r3 + r2);  // Add"), std::string::npos);
  EXPECT_NE(s.find("const float r5 = frt_tanh(r4);  // Tanh"), std::string::npos);
  EXPECT_NE(s.find("const float r6 = (r5 * r0);  // Mul"), std::string::npos);
  EXPECT_NE(s.find("return r6;"), std::string::npos);
  auto ptx = CompileWithNvrtc(s, "compute_90", "test");
  ASSERT_TRUE(ptx.ok()) << ptx.status().ToString() << "\n" << s;
  const std::string text(ptx->begin(), ptx->end());
  EXPECT_NE(text.find(".entry frt_fused_pointwise"), std::string::npos);
}

// f16 in, bf16 and f16 casts, Swish/LeakyRelu parameters, Where/Clip/compare,
// bool output: every kind of typing the generator emits.
TEST(CudaCodegenFused, MixedDTypesCompile) {
  const DType f16 = DType::kFloat16, bf16 = DType::kBFloat16, f32 = DType::kFloat32;
  const DType f64 = DType::kFloat64, boolean = DType::kBool;
  // r0 f16, r1 f16 (scalar), r2 bool, r3 f64
  FusedNode f({f16, f16, boolean, f64},
              {Op(Opcode::kSwish),
               4,
               0,
               0,
               -1,  // r4 f16
               Op(Opcode::kLeakyRelu),
               5,
               4,
               1,
               -1,  // r5 f16
               Op(Opcode::kClip),
               6,
               5,
               -1,
               1,  // r6 f16 (max only)
               Op(Opcode::kCast),
               7,
               6,
               static_cast<int64_t>(bf16),
               -1,  // r7 bf16
               Op(Opcode::kCast),
               8,
               7,
               static_cast<int64_t>(f64),
               -1,  // r8 f64
               Op(Opcode::kPow),
               9,
               8,
               3,
               -1,  // r9 f64
               Op(Opcode::kCast),
               10,
               9,
               static_cast<int64_t>(f16),
               -1,  // r10 f16
               Op(Opcode::kWhere),
               11,
               2,
               10,
               0,  // r11 f16
               Op(Opcode::kLess),
               12,
               11,
               1,
               -1,  // r12 bool
               Op(Opcode::kXor),
               13,
               12,
               2,
               -1},  // r13 bool
              {1.5f, 0.01f}, boolean);
  ASSERT_EQ(SupportsFusedPointwise(*f.node), "");
  auto g = f.Generate();
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  EXPECT_EQ(g->vec, 2);  // the f64 input is the widest
  const std::string& s = g->source;
  EXPECT_NE(s.find("const float r0 = frt_h2f(v0);"), std::string::npos) << s;
  EXPECT_NE(s.find("const bool r2 = (v2 != 0);"), std::string::npos);
  EXPECT_NE(s.find("const double r3 = v3;"), std::string::npos);
  EXPECT_NE(s.find("frt_swish(r0, (float)__int_as_float(0x3fc00000))"), std::string::npos);
  EXPECT_NE(s.find("const float r6 = frt_clip_hi(r5, r1);"), std::string::npos);
  EXPECT_NE(s.find("const float r7 = frt_round_bf16(r6);"), std::string::npos);
  EXPECT_NE(s.find("const double r8 = (double)r7;"), std::string::npos);
  EXPECT_NE(s.find("const double r9 = (double)frt_pow(r8, r3);"), std::string::npos);
  EXPECT_NE(s.find("const float r10 = frt_round_f16(r9);"), std::string::npos);
  EXPECT_NE(s.find("return (frt_u8)(r13 ? 1 : 0);"), std::string::npos);
  auto ptx = CompileWithNvrtc(s, "compute_90", "test");
  ASSERT_TRUE(ptx.ok()) << ptx.status().ToString() << "\n" << s;
  // f32 output of an f16 program rounds nothing but the Cast.
  FusedNode h(
      {f16, f32},
      {Op(Opcode::kCast), 2, 0, static_cast<int64_t>(f32), -1, Op(Opcode::kAdd), 3, 2, 1, -1}, {},
      f32);
  auto gh = h.Generate();
  ASSERT_TRUE(gh.ok()) << gh.status().ToString();
  EXPECT_EQ(gh->vec, 4);
  EXPECT_NE(gh->source.find("const float r2 = r0;"), std::string::npos);
  EXPECT_TRUE(CompileWithNvrtc(gh->source, "compute_80", "test").ok());
}

// Every opcode once, on f32 and on f64 registers, compiles.
TEST(CudaCodegenFused, EveryOpcodeCompiles) {
  for (DType t : {DType::kFloat32, DType::kFloat64, DType::kBFloat16}) {
    SCOPED_TRACE(DTypeName(t));
    std::vector<int64_t> prog;
    int64_t next = 2;  // r0, r1: inputs of dtype t
    int64_t last_float = 0;
    auto add = [&](Opcode op, int64_t a, int64_t b, int64_t c) {
      prog.insert(prog.end(), {Op(op), next, a, b, c});
      return next++;
    };
    for (Opcode op :
         {Opcode::kIdentity, Opcode::kNeg, Opcode::kAbs, Opcode::kExp, Opcode::kLog, Opcode::kSqrt,
          Opcode::kReciprocal, Opcode::kErf, Opcode::kTanh, Opcode::kSigmoid, Opcode::kRelu,
          Opcode::kGelu, Opcode::kGeluTanh, Opcode::kFloor, Opcode::kCeil, Opcode::kSin,
          Opcode::kCos, Opcode::kSoftplus, Opcode::kMish}) {
      last_float = add(op, last_float, -1, -1);
    }
    last_float = add(Opcode::kSwish, last_float, 0, -1);
    last_float = add(Opcode::kLeakyRelu, last_float, 0, -1);
    for (Opcode op : {Opcode::kAdd, Opcode::kSub, Opcode::kMul, Opcode::kDiv, Opcode::kPow,
                      Opcode::kMax, Opcode::kMin}) {
      last_float = add(op, last_float, 1, -1);
    }
    last_float = add(Opcode::kClip, last_float, 0, 1);
    int64_t cond = add(Opcode::kIsNaN, last_float, -1, -1);
    for (Opcode op : {Opcode::kEqual, Opcode::kLess, Opcode::kLessOrEqual, Opcode::kGreater,
                      Opcode::kGreaterOrEqual}) {
      const int64_t c = add(op, last_float, 1, -1);
      cond = add(Opcode::kAnd, cond, c, -1);
    }
    cond = add(Opcode::kOr, cond, add(Opcode::kNot, cond, -1, -1), -1);
    cond = add(Opcode::kXor, cond, cond, -1);
    add(Opcode::kWhere, cond, last_float, 1);
    FusedNode f({t, t}, prog, {0.25f}, t);
    ASSERT_EQ(SupportsFusedPointwise(*f.node), "");
    auto g = f.Generate();
    ASSERT_TRUE(g.ok()) << g.status().ToString();
    auto ptx = CompileWithNvrtc(g->source, "compute_90", "test");
    ASSERT_TRUE(ptx.ok()) << ptx.status().ToString();
  }
}

TEST(CudaCodegenFused, RejectsWhatItCannotRun) {
  const DType f32 = DType::kFloat32;
  FusedNode bad({f32}, {Op(Opcode::kAdd), 5, 0, 0, -1}, {}, f32);  // not SSA
  EXPECT_NE(SupportsFusedPointwise(*bad.node), "");
  std::vector<DType> many(kMaxFusedInputs + 1, f32);
  std::vector<int64_t> prog;
  int64_t acc = 0;
  for (int64_t k = 1; k <= kMaxFusedInputs; ++k) {
    const int64_t dst = kMaxFusedInputs + k;
    prog.insert(prog.end(), {Op(Opcode::kAdd), dst, acc, k, -1});
    acc = dst;
  }
  FusedNode wide(many, prog, {}, f32);
  EXPECT_NE(SupportsFusedPointwise(*wide.node), "");
  // A source NVRTC rejects gives the log in the error.
  auto broken = CompileWithNvrtc("this is not C++", "compute_90", "node X");
  ASSERT_FALSE(broken.ok());
  EXPECT_NE(broken.status().message().find("node X"), std::string::npos);
}

TEST(CudaCodegenFused, BlobRoundTripAndCorruption) {
  FusedBlob blob;
  blob.vec = 8;
  blob.num_inputs = 3;
  blob.compute_capability = 90;
  blob.kernel_name = kFusedKernelName;
  blob.cubin = {1, 2, 3, 4, 5, 250};
  std::vector<uint8_t> bytes = EncodeFusedBlob(blob);
  auto back = DecodeFusedBlob(bytes, "n");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->vec, 8u);
  EXPECT_EQ(back->num_inputs, 3u);
  EXPECT_EQ(back->compute_capability, 90u);
  EXPECT_EQ(back->kernel_name, kFusedKernelName);
  EXPECT_EQ(back->cubin, blob.cubin);
  for (size_t cut : {size_t{0}, size_t{5}, bytes.size() - 1}) {
    auto r = DecodeFusedBlob(std::span(bytes).first(cut), "n");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidEngine);
  }
  std::vector<uint8_t> foreign = bytes;
  foreign[0] = 'X';
  EXPECT_FALSE(DecodeFusedBlob(foreign, "n").ok());
  std::vector<uint8_t> bad_vec = bytes;
  bad_vec[12] = 3;  // vector width 3
  EXPECT_FALSE(DecodeFusedBlob(bad_vec, "n").ok());
}

}  // namespace
}  // namespace frt::cuda_pointwise
