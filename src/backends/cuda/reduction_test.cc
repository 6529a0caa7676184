// Tests of the CUDA reduction family (Reduce*, ArgMax, ArgMin). CPU part
// (runs everywhere): the reduction planner (dim merging and classification,
// checked against a direct host emulation on random shapes) and the split
// count. GPU part (skips without a device): every op against the CPU
// reference executor on f32, f16 and bf16 graphs (I/O in that dtype, so the
// reference sees the same inputs), over first / middle / last / several /
// all axes, with and without keepdims, noop_with_empty_axes, long rows that
// split across blocks, and many rows. Tolerances (relative L2): f32 1e-5
// (fp32 accumulation against double), f16 3e-3 and bf16 2e-2 (one rounding
// of each output). ArgMax / ArgMin are exact (tolerance 0), with ties and
// NaNs. Graphs build at optimization level 0.
#include <gtest/gtest.h>

#include <cmath>
#include <numeric>
#include <random>

#include "backends/cuda/gpu_test_util.h"
#include "backends/cuda/kernel.h"
#include "backends/cuda/reduction_plan.h"

namespace frt {
namespace {

using cuda_reduce::PlanReduce;
using cuda_reduce::ReducePlan;

std::mt19937_64& Rng() {
  static std::mt19937_64 rng(std::random_device{}());
  return rng;
}

// ---------------------------------------------------------------- CPU: planner

Dims Strides(const Dims& d) {
  Dims s(d.size(), 1);
  for (size_t i = d.size(); i-- > 1;) s[i - 1] = s[i] * d[i];
  return s;
}

// For every output (in order) the sorted input offsets it reduces, from the
// plan, and directly from the dims and the mask.
std::vector<std::vector<int64_t>> FromPlan(const ReducePlan& p) {
  std::vector<std::vector<int64_t>> out(static_cast<size_t>(p.outputs));
  auto offset = [](int64_t linear, const Dims& dims, const Dims& strides) {
    int64_t off = 0;
    for (size_t d = dims.size(); d-- > 0;) {
      off += (linear % dims[d]) * strides[d];
      linear /= dims[d];
    }
    return off;
  };
  for (int64_t o = 0; o < p.outputs; ++o) {
    for (int64_t j = 0; j < p.len; ++j) {
      int64_t off = 0;
      switch (p.kind) {
        case ReducePlan::Kind::kRows: off = o * p.len + j; break;
        case ReducePlan::Kind::kColumns:
          off = (o / p.inner) * p.len * p.inner + j * p.inner + o % p.inner;
          break;
        case ReducePlan::Kind::kGeneral:
          off = offset(o, p.kept_dims, p.kept_strides) + offset(j, p.red_dims, p.red_strides);
          break;
      }
      out[static_cast<size_t>(o)].push_back(off);
    }
    std::sort(out[static_cast<size_t>(o)].begin(), out[static_cast<size_t>(o)].end());
  }
  return out;
}

std::vector<std::vector<int64_t>> Direct(const Dims& dims, const std::vector<bool>& mask) {
  Dims kept = dims;
  for (size_t d = 0; d < dims.size(); ++d) {
    if (mask[d]) kept[d] = 1;
  }
  Dims ks = Strides(kept), is = Strides(dims);
  int64_t n_out = std::accumulate(kept.begin(), kept.end(), int64_t{1}, std::multiplies<>());
  int64_t n = std::accumulate(dims.begin(), dims.end(), int64_t{1}, std::multiplies<>());
  std::vector<std::vector<int64_t>> out(static_cast<size_t>(n_out));
  for (int64_t i = 0; i < n; ++i) {
    int64_t o = 0, rem = i;
    for (size_t d = dims.size(); d-- > 0;) {
      int64_t idx = rem % dims[d];
      rem /= dims[d];
      if (!mask[d]) o += idx * ks[d];
    }
    out[static_cast<size_t>(o)].push_back(i);
  }
  (void)is;
  return out;
}

TEST(CudaReducePlan, ClassifiesCommonShapes) {
  ReducePlan p = PlanReduce({37, 1000}, {false, true});
  EXPECT_EQ(p.kind, ReducePlan::Kind::kRows);
  EXPECT_EQ(p.outer, 37);
  EXPECT_EQ(p.len, 1000);
  p = PlanReduce({37, 1000}, {true, false});
  EXPECT_EQ(p.kind, ReducePlan::Kind::kColumns);
  EXPECT_EQ(p.inner, 1000);
  p = PlanReduce({4, 6, 130}, {false, true, false});
  EXPECT_EQ(p.kind, ReducePlan::Kind::kColumns);
  EXPECT_EQ(p.outer, 4);
  EXPECT_EQ(p.len, 6);
  EXPECT_EQ(p.inner, 130);
  p = PlanReduce({3, 5, 7, 9}, {false, true, false, true});
  EXPECT_EQ(p.kind, ReducePlan::Kind::kGeneral);
  EXPECT_EQ(p.kept_dims, (Dims{3, 7}));
  EXPECT_EQ(p.red_dims, (Dims{5, 9}));
  EXPECT_EQ(p.red_strides, (Dims{63, 1}));
  // Size-1 dims vanish, so these merge into one row per output.
  p = PlanReduce({2, 1, 5, 1, 7}, {false, false, true, true, true});
  EXPECT_EQ(p.kind, ReducePlan::Kind::kRows);
  EXPECT_EQ(p.len, 35);
  p = PlanReduce({2, 3, 1}, {true, false, true});
  EXPECT_EQ(p.kind, ReducePlan::Kind::kColumns);
  EXPECT_EQ(p.outputs, 3);
  // Nothing reduced: one element per output.
  p = PlanReduce({2, 3}, {false, false});
  EXPECT_EQ(p.len, 1);
  EXPECT_EQ(p.outputs, 6);
  p = PlanReduce({}, {});
  EXPECT_EQ(p.outputs, 1);
  EXPECT_EQ(p.len, 1);
  // A reduced dim of size 0: every output reduces nothing.
  p = PlanReduce({4, 0}, {false, true});
  EXPECT_EQ(p.outputs, 4);
  EXPECT_EQ(p.len, 0);
}

TEST(CudaReducePlan, RandomPlansReduceTheRightElements) {
  for (int trial = 0; trial < 500; ++trial) {
    size_t rank = 1 + Rng()() % 6;
    Dims dims(rank);
    std::vector<bool> mask(rank);
    for (size_t d = 0; d < rank; ++d) {
      dims[d] = 1 + static_cast<int64_t>(Rng()() % 4);
      mask[d] = Rng()() % 2;
    }
    ReducePlan p = PlanReduce(dims, mask);
    EXPECT_EQ(FromPlan(p), Direct(dims, mask)) << DimsToString(dims);
  }
}

TEST(CudaReducePlan, SplitCount) {
  // 4 long rows on a 132-SM device: split to about 1056 blocks.
  EXPECT_EQ(cuda_reduce::SplitCount(4, 1056, 3000000, 4096, 4, 8, 32 << 20), 264);
  EXPECT_EQ(cuda_reduce::SplitCount(2000, 1056, 3000000, 4096, 2000, 8, 32 << 20), 1);
  EXPECT_EQ(cuda_reduce::SplitCount(4, 1056, 5000, 4096, 4, 8, 32 << 20), 1);   // too short
  EXPECT_EQ(cuda_reduce::SplitCount(4, 1056, 20000, 4096, 4, 8, 32 << 20), 4);  // parts >= 4096
  EXPECT_EQ(cuda_reduce::SplitCount(1, 1 << 20, 1 << 30, 64, 1, 8, 32 << 20), 1024);  // capped
  EXPECT_EQ(cuda_reduce::SplitCount(1, 1056, 1 << 20, 64, 1 << 22, 8, 32 << 20), 1);  // no room
}

// ---------------------------------------------------------------- graph helpers

Value* In(Graph& g, const std::string& name, DType dtype, Dims dims) {
  Value* v = g.AddValue(name).value();
  v->dtype = dtype;
  v->shape = Shape::FromDims(dims);
  g.AddInput(v);
  return v;
}

Value* Ints(Graph& g, const std::string& name, std::vector<int64_t> data) {
  Value* v = g.AddValue(name).value();
  const int64_t n = static_cast<int64_t>(data.size());
  v->constant = Tensor::FromVector<int64_t>(data, {n});
  v->dtype = DType::kInt64;
  v->shape = Shape::FromDims({n});
  return v;
}

double Tol(DType t) {
  switch (t) {
    case DType::kFloat16: return 3e-3;
    case DType::kBFloat16: return 2e-2;
    default: return 1e-5;
  }
}

void Check(const Graph& g, const std::map<std::string, Tensor>& inputs, const std::string& tactic,
           double tol) {
  gpu_test::GpuOptions options;
  options.optimization_level = 0;
  gpu_test::GpuRun run = gpu_test::ExpectMatchesReference(g, inputs, tol, options);
  bool found = false;
  for (const LayerInfo& l : run.layers) found = found || l.tactic == tactic;
  EXPECT_TRUE(found) << "no layer ran " << tactic;
}

constexpr DType kDTypes[] = {DType::kFloat32, DType::kFloat16, DType::kBFloat16};

// Random data in [lo, hi) of `dtype`.
Tensor Rand(DType dtype, const Dims& dims, float lo, float hi) {
  return gpu_test::RandomTensor(dtype, dims, Rng()(), lo, hi);
}

// One Reduce op over `axes` (nullopt: no axes input).
// `positive`: data in [0.005, 0.015) instead of [-1, 1). Sums of 10^5+
// zero-mean values cancel to ~1/sqrt(n) of their magnitude, where fp32
// accumulation alone (not the kernel) misses 1e-5 relative; positive data
// keeps those long reductions well conditioned, and small enough that sums
// of 2M values stay below f16's maximum (65504).
void CheckReduce(OpKind op, DType dtype, const Dims& dims, std::optional<std::vector<int64_t>> axes,
                 bool keepdims, bool noop = false, bool positive = false) {
  std::string axes_str = axes ? StrCat("[", axes->size(), " axes]") : "none";
  if (axes) {
    axes_str.clear();
    for (int64_t a : *axes) axes_str += StrCat(a, ",");
  }
  SCOPED_TRACE(StrCat(OpKindName(op), " ", DTypeName(dtype), DimsToString(dims), " axes ",
                      axes_str, " keepdims ", keepdims, " noop ", noop));
  Graph g;
  std::vector<Value*> ins = {In(g, "x", dtype, dims)};
  if (axes) ins.push_back(Ints(g, "axes", *axes));
  Node* n = g.AddNode(op, "reduce");
  n->opset = 18;
  n->inputs = ins;
  n->attrs.Set("keepdims", int64_t{keepdims});
  n->attrs.Set("noop_with_empty_axes", int64_t{noop});
  Value* y = g.AddValue("y").value();
  y->producer = n;
  n->outputs = {y};
  g.AddOutput(y);
  // Positive data where a log or a product needs it; products stay short (see the callers).
  float lo = -1.f, hi = 1.f;
  if (op == OpKind::kReduceLogSum) lo = 0.1f;
  if (op == OpKind::kReduceProd) lo = 0.8f, hi = 1.2f;
  if (positive) lo = 0.005f, hi = 0.015f;
  Check(g, {{"x", Rand(dtype, dims, lo, hi)}}, "cuda.reduce", Tol(dtype));
}

constexpr OpKind kReduceOps[] = {OpKind::kReduceSum,  OpKind::kReduceMean, OpKind::kReduceMax,
                                 OpKind::kReduceMin,  OpKind::kReduceProd,
                                 OpKind::kReduceSumSquare, OpKind::kReduceL1,
                                 OpKind::kReduceL2,  OpKind::kReduceLogSum,
                                 OpKind::kReduceLogSumExp};

// ---------------------------------------------------------------- GPU: Reduce*

TEST(CudaReduceOps, AxesKeepdimsAndDtypes) {
  FRT_SKIP_WITHOUT_GPU();
  for (OpKind op : kReduceOps) {
    for (DType t : kDTypes) {
      for (bool keep : {true, false}) {
        CheckReduce(op, t, {37, 40}, std::vector<int64_t>{1}, keep);       // short rows
        CheckReduce(op, t, {37, 40}, std::vector<int64_t>{0}, keep);       // columns
        CheckReduce(op, t, {4, 6, 130}, std::vector<int64_t>{1}, keep);    // middle axis
        CheckReduce(op, t, {3, 5, 7, 9}, std::vector<int64_t>{1, 3}, keep);  // general
        CheckReduce(op, t, {3, 5, 7, 9}, std::vector<int64_t>{0, -3}, keep); // first two
        CheckReduce(op, t, {3, 5, 7, 9}, std::vector<int64_t>{-1, 2}, keep); // last two
        CheckReduce(op, t, {2, 1, 5, 1}, std::vector<int64_t>{1, 3}, keep);  // size-1 axes
        CheckReduce(op, t, {6, 7}, std::nullopt, keep);                      // all axes
        CheckReduce(op, t, {6, 3, 2}, std::vector<int64_t>{0, 2}, keep);     // narrow general
      }
    }
  }
}

TEST(CudaReduceOps, NoopWithEmptyAxes) {
  FRT_SKIP_WITHOUT_GPU();
  for (OpKind op : {OpKind::kReduceSumSquare, OpKind::kReduceMean, OpKind::kReduceL2}) {
    CheckReduce(op, DType::kFloat32, {5, 7}, std::nullopt, true, /*noop=*/true);
    CheckReduce(op, DType::kFloat16, {5, 7}, std::vector<int64_t>{}, false, /*noop=*/true);
  }
}

TEST(CudaReduceOps, LongAndManyRowsAndColumns) {
  FRT_SKIP_WITHOUT_GPU();
  // Products only over short rows (an fp32 product of n terms drifts by ~n ulps).
  for (OpKind op : {OpKind::kReduceSum, OpKind::kReduceMean, OpKind::kReduceMax,
                    OpKind::kReduceMin, OpKind::kReduceL2, OpKind::kReduceLogSumExp}) {
    for (DType t : kDTypes) {
      CheckReduce(op, t, {37, 1000}, std::vector<int64_t>{1}, true);     // warp rows, vectorized
      CheckReduce(op, t, {37, 1001}, std::vector<int64_t>{-1}, false);   // warp rows, scalar
      CheckReduce(op, t, {9, 8192}, std::vector<int64_t>{1}, true);      // block rows
      CheckReduce(op, t, {3, 1000003}, std::vector<int64_t>{1}, false, false, true);  // split rows
      CheckReduce(op, t, {100000, 64}, std::vector<int64_t>{0}, true, false, true);  // split cols
      CheckReduce(op, t, {3, 70000, 2}, std::vector<int64_t>{1}, true);  // narrow: warp each
      CheckReduce(op, t, {2000000}, std::nullopt, false, false, true);  // everything to 1
      CheckReduce(op, t, {20000}, std::nullopt, false);  // to 1, zero-mean data
    }
  }
  CheckReduce(OpKind::kReduceMean, DType::kFloat16, {128 * 384, 1024}, std::vector<int64_t>{-1},
              true);
  CheckReduce(OpKind::kReduceSum, DType::kFloat32, {128, 384, 1024}, std::vector<int64_t>{1},
              false);
}

TEST(CudaReduceOps, NaNPropagatesThroughMaxAndMin) {
  FRT_SKIP_WITHOUT_GPU();
  for (OpKind op : {OpKind::kReduceMax, OpKind::kReduceMin}) {
    for (DType t : kDTypes) {
      Graph g;
      Dims dims = {16, 300};
      Value* x = In(g, "x", t, dims);
      Node* n = g.AddNode(op, "reduce");
      n->opset = 18;
      n->inputs = {x, Ints(g, "axes", {1})};
      Value* y = g.AddValue("y").value();
      y->producer = n;
      n->outputs = {y};
      g.AddOutput(y);
      Tensor f = Rand(DType::kFloat32, dims, -1.f, 1.f);
      for (int64_t r = 0; r < 16; r += 3) f.data<float>()[r * 300 + (r * 37) % 300] = NAN;
      Tensor in = f;
      if (t != DType::kFloat32) {
        in = Tensor::Allocate(t, dims).value();
        for (int64_t i = 0; i < f.num_elements(); ++i) {
          float v = f.data<float>()[i];
          if (t == DType::kFloat16) in.data<Float16>()[i] = Float16::FromFloat(v);
          else in.data<BFloat16>()[i] = BFloat16::FromFloat(v);
        }
      }
      Check(g, {{"x", in}}, "cuda.reduce", Tol(t));
    }
  }
}

// ---------------------------------------------------------------- GPU: ArgMax / ArgMin

// Values from a few levels (many ties) or continuous, with optional NaNs.
Tensor ArgData(DType dtype, const Dims& dims, bool ties, bool nans) {
  Tensor f = Rand(DType::kFloat32, dims, -1.f, 1.f);
  for (int64_t i = 0; i < f.num_elements(); ++i) {
    float& v = f.data<float>()[i];
    if (ties) v = std::floor(v * 2.5f);
    if (nans && Rng()() % 97 == 0) v = NAN;
  }
  if (dtype == DType::kFloat32) return f;
  Tensor t = Tensor::Allocate(dtype, dims).value();
  for (int64_t i = 0; i < f.num_elements(); ++i) {
    float v = f.data<float>()[i];
    if (dtype == DType::kFloat16) t.data<Float16>()[i] = Float16::FromFloat(v);
    else t.data<BFloat16>()[i] = BFloat16::FromFloat(v);
  }
  return t;
}

void CheckArg(OpKind op, DType dtype, const Dims& dims, int64_t axis, bool keepdims, bool last,
              bool ties, bool nans) {
  SCOPED_TRACE(StrCat(OpKindName(op), " ", DTypeName(dtype), DimsToString(dims), " axis ", axis,
                      " keepdims ", keepdims, " last ", last, " ties ", ties, " nans ", nans));
  Graph g;
  Value* x = In(g, "x", dtype, dims);
  Node* n = g.AddNode(op, "arg");
  n->opset = 13;
  n->inputs = {x};
  n->attrs.Set("axis", axis);
  n->attrs.Set("keepdims", int64_t{keepdims});
  n->attrs.Set("select_last_index", int64_t{last});
  Value* y = g.AddValue("y").value();
  y->producer = n;
  n->outputs = {y};
  g.AddOutput(y);
  Check(g, {{"x", ArgData(dtype, dims, ties, nans)}}, "cuda.argreduce", 0.0);
}

TEST(CudaReduceArg, AxesTiesNaNsAndDtypes) {
  FRT_SKIP_WITHOUT_GPU();
  for (OpKind op : {OpKind::kArgMax, OpKind::kArgMin}) {
    for (DType t : kDTypes) {
      for (bool last : {false, true}) {
        for (bool ties : {false, true}) {
          CheckArg(op, t, {7, 37}, 1, true, last, ties, false);      // warp per row
          CheckArg(op, t, {7, 3000}, -1, false, last, ties, true);   // block per row, NaNs
          CheckArg(op, t, {5, 37, 3}, 1, true, last, ties, false);   // columns
          CheckArg(op, t, {64, 9}, 0, false, last, ties, true);      // first axis
          CheckArg(op, t, {4, 1, 6}, 1, true, last, ties, false);    // length 1
        }
      }
    }
  }
  CheckArg(OpKind::kArgMax, DType::kFloat16, {128 * 384, 1000}, -1, false, false, false, false);
}

}  // namespace
}  // namespace frt
