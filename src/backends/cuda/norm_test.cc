// Tests of the CUDA norm family (LayerNormalization, RMSNormalization,
// Softmax, LogSoftmax, FusedSoftmax). CPU part (runs everywhere): row-config
// choice, vector width, scale/bias layout classification and supports()
// decisions. GPU part (skips without a device): every op against the CPU
// reference executor (double inside), on graphs whose I/O is already f32 /
// f16 / bf16 (so the reference sees the same rounded inputs and the error is
// the kernel's own), and on f32 graphs built with fp16 / bf16 lowering.
// Tolerances (relative L2): f32 1e-5 (fp32 math against double: ~1e-7 per
// element, plus exp/rsqrt ulps); f16 3e-3 and bf16 2e-2 (one rounding of the
// output, 2^-11 and 2^-8 relative, plus input rounding in lowered builds).
// Graphs build at optimization level 0 so no pass rewrites the op under
// test; each GPU test checks that the layer ran the expected tactic.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>

#include "backends/cuda/gpu_test_util.h"
#include "backends/cuda/kernel.h"
#include "backends/cuda/norm_plan.h"
#include "ir/shape_inference.h"

namespace frt {
namespace {

using cuda_norm::ChooseRowConfig;
using cuda_norm::ClassifyParam;
using cuda_norm::ParamLayout;
using cuda_norm::RowConfig;

// ---------------------------------------------------------------- CPU: planning

TEST(CudaNormPlan, RowConfigHoldsTheRowWithLeastPadding) {
  for (int vec : {1, 4, 8}) {
    int64_t max_capacity = 0;
    for (int64_t cols = 1; cols <= 40000; cols += (cols < 2048 ? 1 : 37)) {
      RowConfig c = ChooseRowConfig(cols, vec);
      if (c.fallback()) {
        EXPECT_GT(cols, 1024 * vec * std::min(8, 32 / vec)) << cols << " vec " << vec;
        continue;
      }
      EXPECT_EQ(c.vec, vec);
      EXPECT_GE(c.capacity(), cols) << cols << " vec " << vec;
      EXPECT_LE(c.vec * c.chunks, cuda_norm::kMaxItemsPerThread);
      EXPECT_TRUE(c.threads == 32 || c.threads == 256 || c.threads == 1024);
      // Least padding: half the capacity would not hold the row, unless the
      // config is the smallest one.
      if (c.capacity() > 32 * vec) {
        EXPECT_GT(cols * 2, c.capacity()) << cols << " vec " << vec;
      }
      max_capacity = std::max(max_capacity, c.capacity());
    }
    EXPECT_EQ(max_capacity, 1024 * vec * std::min(8, 32 / vec));
  }
  // BERT hidden sizes: a warp per row in f16 (vec 8), a block for 4096.
  RowConfig c = ChooseRowConfig(768, 8);
  EXPECT_EQ(c.threads, 32);
  EXPECT_EQ(c.chunks, 4);
  c = ChooseRowConfig(1024, 4);
  EXPECT_EQ(c.threads, 32);
  EXPECT_EQ(c.chunks, 8);
  c = ChooseRowConfig(4096, 8);
  EXPECT_EQ(c.threads, 256);
  EXPECT_EQ(c.chunks, 2);
  EXPECT_TRUE(ChooseRowConfig(8193, 1).fallback());
  EXPECT_FALSE(ChooseRowConfig(8192, 1).fallback());
  EXPECT_TRUE(ChooseRowConfig(32769, 8).fallback());
}

TEST(CudaNormPlan, VectorWidthNeedsAlignmentAndMultiple) {
  alignas(16) static char buf[64];
  EXPECT_EQ(cuda_norm::VectorWidth(1024, 2, {buf, buf + 32}), 8);
  EXPECT_EQ(cuda_norm::VectorWidth(1024, 4, {buf, nullptr}), 4);
  EXPECT_EQ(cuda_norm::VectorWidth(1000, 4, {buf}), 4);
  EXPECT_EQ(cuda_norm::VectorWidth(1001, 4, {buf}), 1);
  EXPECT_EQ(cuda_norm::VectorWidth(1004, 2, {buf}), 1);  // not a multiple of 8
  EXPECT_EQ(cuda_norm::VectorWidth(1024, 2, {buf, buf + 2}), 1);
}

TEST(CudaNormPlan, ParamLayout) {
  Dims x = {2, 3, 4, 8};
  EXPECT_EQ(ClassifyParam({8}, x, 3), ParamLayout::kDense);
  EXPECT_EQ(ClassifyParam({1, 8}, x, 3), ParamLayout::kDense);
  EXPECT_EQ(ClassifyParam({1, 1, 1, 8}, x, 3), ParamLayout::kDense);
  EXPECT_EQ(ClassifyParam({4, 8}, x, 2), ParamLayout::kDense);
  EXPECT_EQ(ClassifyParam({8}, x, 2), ParamLayout::kExpand);
  EXPECT_EQ(ClassifyParam({4, 1}, x, 2), ParamLayout::kExpand);
  EXPECT_EQ(ClassifyParam({1}, x, 3), ParamLayout::kExpand);
  EXPECT_EQ(ClassifyParam({}, x, 1), ParamLayout::kExpand);
  EXPECT_EQ(ClassifyParam({3, 4, 8}, x, 2), ParamLayout::kUnsupported);  // varies over dim 1
  EXPECT_EQ(ClassifyParam({5}, x, 3), ParamLayout::kUnsupported);
  EXPECT_EQ(ClassifyParam({1, 2, 3, 4, 8}, x, 3), ParamLayout::kUnsupported);
  // X [4,3,4] axis 1: 12 columns; a [4,3,1] parameter has 12 values but varies over dim 0.
  EXPECT_EQ(ClassifyParam({4, 3, 1}, {4, 3, 4}, 1), ParamLayout::kUnsupported);
  EXPECT_EQ(cuda_norm::ParamStridesOverNormDims({4, 1}, x, 2), (Dims{1, 0}));
  EXPECT_EQ(cuda_norm::ParamStridesOverNormDims({8}, x, 2), (Dims{0, 1}));
  EXPECT_EQ(cuda_norm::ParamStridesOverNormDims({3, 1, 8}, x, 1), (Dims{8, 0, 1}));
  Shape xs({Dim::Symbol("b"), Dim(3), Dim(8)});
  EXPECT_EQ(cuda_norm::CheckParamShape(Shape::FromDims({8}), xs, 2, "scale"), "");
  EXPECT_EQ(cuda_norm::CheckParamShape(Shape::FromDims({1, 3, 8}), xs, 1, "scale"), "");
  EXPECT_NE(cuda_norm::CheckParamShape(Shape::FromDims({3, 8}), xs, 2, "scale"), "");
  EXPECT_NE(cuda_norm::CheckParamShape(Shape({Dim::Symbol("b"), Dim(3), Dim(8)}), xs, 1, "scale"),
            "");
}

// ---------------------------------------------------------------- graph helpers

std::mt19937_64& Rng() {
  static std::mt19937_64 rng(std::random_device{}());
  return rng;
}

Value* In(Graph& g, const std::string& name, DType dtype, Dims dims) {
  Value* v = g.AddValue(name).value();
  v->dtype = dtype;
  v->shape = Shape::FromDims(dims);
  g.AddInput(v);
  return v;
}

Value* ConstOf(Graph& g, const std::string& name, Tensor t) {
  Value* v = g.AddValue(name).value();
  v->dtype = t.dtype();
  v->shape = Shape::FromDims(t.dims());
  v->constant = std::move(t);
  return v;
}

Tensor Rand(DType dtype, const Dims& dims, float lo = -1.f, float hi = 1.f) {
  return gpu_test::RandomTensor(dtype, dims, Rng()(), lo, hi);
}

// An f32 tensor converted to `dtype` (keeps infinities).
Tensor ConvertTo(const Tensor& f, DType dtype) {
  if (dtype == DType::kFloat32) return f;
  Tensor t = Tensor::Allocate(dtype, f.dims()).value();
  for (int64_t i = 0; i < f.num_elements(); ++i) {
    float v = f.data<float>()[i];
    if (dtype == DType::kFloat16) {
      t.data<Float16>()[i] = Float16::FromFloat(v);
    } else {
      t.data<BFloat16>()[i] = BFloat16::FromFloat(v);
    }
  }
  return t;
}

Node* AddOp(Graph& g, OpKind op, std::vector<Value*> ins, Attributes attrs) {
  Node* n = g.AddNode(op, "op");
  n->opset = op == OpKind::kRMSNormalization ? 23 : (op == OpKind::kLayerNormalization ? 17 : 13);
  n->inputs = std::move(ins);
  n->attrs = std::move(attrs);
  Value* y = g.AddValue("y").value();
  y->producer = n;
  n->outputs = {y};
  g.AddOutput(y);
  return n;
}

Attributes Attrs(std::initializer_list<std::pair<const char*, AttrValue>> list) {
  Attributes a;
  for (const auto& [k, v] : list) a.Set(k, v);
  return a;
}

double Tol(DType t) {
  switch (t) {
    case DType::kFloat16: return 3e-3;
    case DType::kBFloat16: return 2e-2;
    default: return 1e-5;
  }
}

bool HasCastKernel() { return !CudaKernelRegistry::Global().ForOp(OpKind::kCast).empty(); }

// Builds at level 0 (lowered to `low` when not f32), runs, compares with the
// reference and checks that a layer ran `tactic`.
void Check(const Graph& g, const std::map<std::string, Tensor>& inputs, const std::string& tactic,
           double tol, DType low = DType::kFloat32) {
  gpu_test::GpuOptions options;
  options.optimization_level = 0;
  options.fp16 = low == DType::kFloat16;
  options.bf16 = low == DType::kBFloat16;
  gpu_test::GpuRun run = gpu_test::ExpectMatchesReference(g, inputs, tol, options);
  bool found = false;
  for (const LayerInfo& l : run.layers) found = found || l.tactic == tactic;
  EXPECT_TRUE(found) << "no layer ran " << tactic;
}

constexpr DType kDTypes[] = {DType::kFloat32, DType::kFloat16, DType::kBFloat16};

// ---------------------------------------------------------------- CPU: supports()

std::string Why(Graph& g, OpKind op, const std::string& tactic) {
  EXPECT_TRUE(InferGraphShapes(g).ok());
  const CudaKernel* k = CudaKernelRegistry::Global().Find(op, "cuda." + tactic);
  EXPECT_NE(k, nullptr) << tactic;
  for (Node* n : g.nodes()) {
    if (n->op == op && k) return k->supports(*n);
  }
  return "no node";
}

TEST(CudaNormSupports, RefusesWhatTheKernelsCannotRun) {
  {
    Graph g;
    Value* x = In(g, "x", DType::kFloat32, {2, 3, 8});
    AddOp(g, OpKind::kLayerNormalization, {x, ConstOf(g, "s", Rand(DType::kFloat32, {8}))}, {});
    EXPECT_EQ(Why(g, OpKind::kLayerNormalization, "layernorm.rows"), "");
  }
  {  // Mean output requested
    Graph g;
    Value* x = In(g, "x", DType::kFloat32, {2, 3, 8});
    Node* n =
        AddOp(g, OpKind::kLayerNormalization, {x, ConstOf(g, "s", Rand(DType::kFloat32, {8}))}, {});
    Value* mean = g.AddValue("mean").value();
    mean->producer = n;
    n->outputs.push_back(mean);
    EXPECT_NE(Why(g, OpKind::kLayerNormalization, "layernorm.rows"), "");
  }
  {  // scale varying over a dim before the axis
    Graph g;
    Value* x = In(g, "x", DType::kFloat32, {2, 3, 8});
    AddOp(g, OpKind::kLayerNormalization, {x, ConstOf(g, "s", Rand(DType::kFloat32, {3, 8}))},
          Attrs({{"axis", int64_t{2}}}));
    EXPECT_NE(Why(g, OpKind::kLayerNormalization, "layernorm.rows"), "");
  }
  {
    Graph g;
    Value* x = In(g, "x", DType::kFloat16, {4, 16});
    AddOp(g, OpKind::kRMSNormalization, {x, ConstOf(g, "s", Rand(DType::kFloat16, {16}))}, {});
    EXPECT_EQ(Why(g, OpKind::kRMSNormalization, "rmsnorm.rows"), "");
  }
  {  // RMSNorm with scale in another dtype than X
    Graph g;
    Value* x = In(g, "x", DType::kFloat32, {4, 16});
    AddOp(g, OpKind::kRMSNormalization, {x, ConstOf(g, "s", Rand(DType::kFloat16, {16}))}, {});
    EXPECT_NE(Why(g, OpKind::kRMSNormalization, "rmsnorm.rows"), "");
  }
  {
    Graph g;
    Value* x = In(g, "x", DType::kBFloat16, {2, 4, 5, 5});
    Value* m = In(g, "m", DType::kBFloat16, {2, 1, 1, 5});
    AddOp(g, OpKind::kFusedSoftmax, {x, m}, Attrs({{"scale", 0.5f}}));
    EXPECT_EQ(Why(g, OpKind::kFusedSoftmax, "fused_softmax.rows"), "");
  }
  {  // f64 is not supported on the GPU
    Graph g;
    Value* x = In(g, "x", DType::kFloat64, {2, 5});
    AddOp(g, OpKind::kSoftmax, {x}, {});
    EXPECT_NE(Why(g, OpKind::kSoftmax, "softmax.rows"), "");
  }
}

// ---------------------------------------------------------------- GPU: LayerNorm / RMSNorm

// LayerNorm or RMSNorm over X [dims] from `axis`, with scale (and bias) of
// `param_dims`; X is offset by 3 so the mean matters.
void CheckNorm(OpKind op, DType dtype, const Dims& dims, int64_t axis, const Dims& param_dims,
               bool bias, DType low = DType::kFloat32) {
  SCOPED_TRACE(StrCat(OpKindName(op), " ", DTypeName(dtype), DimsToString(dims), " axis ", axis,
                      " params ", DimsToString(param_dims), bias ? " +bias" : "",
                      low != DType::kFloat32 ? StrCat(" lowered to ", DTypeName(low)) : ""));
  Graph g;
  Value* x = In(g, "x", dtype, dims);
  std::vector<Value*> ins = {x, ConstOf(g, "scale", Rand(dtype, param_dims, 0.5f, 1.5f))};
  if (bias) ins.push_back(ConstOf(g, "bias", Rand(dtype, param_dims)));
  AddOp(g, op, ins, Attrs({{"axis", axis}, {"epsilon", 1e-5f}}));
  // Lowered builds round X to the low type: keep it near 0 so that rounding stays small.
  float lo = low == DType::kFloat32 ? 2.f : -1.f;
  float hi = low == DType::kFloat32 ? 4.f : 1.f;
  std::string tactic =
      op == OpKind::kLayerNormalization ? "cuda.layernorm.rows" : "cuda.rmsnorm.rows";
  Check(g, {{"x", Rand(dtype, dims, lo, hi)}}, tactic,
        Tol(low != DType::kFloat32 ? low : dtype), low);
}

TEST(CudaNormLayerNorm, RowLengthsAndDtypes) {
  FRT_SKIP_WITHOUT_GPU();
  for (DType t : kDTypes) {
    CheckNorm(OpKind::kLayerNormalization, t, {3, 37}, -1, {37}, true);      // odd: scalar warp
    CheckNorm(OpKind::kLayerNormalization, t, {5, 1000}, -1, {1000}, true);  // vectorized
    CheckNorm(OpKind::kLayerNormalization, t, {6, 1001}, -1, {1001}, false); // scalar block
    CheckNorm(OpKind::kLayerNormalization, t, {4, 7, 768}, -1, {768}, true); // BERT-base
    CheckNorm(OpKind::kLayerNormalization, t, {3, 8192}, -1, {8192}, true);  // long rows
    CheckNorm(OpKind::kLayerNormalization, t, {2, 40000}, -1, {40000}, true);  // looping kernel
    CheckNorm(OpKind::kLayerNormalization, t, {2, 8200}, -1, {8200}, true);  // looping if scalar
    CheckNorm(OpKind::kLayerNormalization, t, {1, 64}, -1, {64}, false);
  }
}

TEST(CudaNormLayerNorm, AxesAndBroadcastParams) {
  FRT_SKIP_WITHOUT_GPU();
  for (DType t : kDTypes) {
    CheckNorm(OpKind::kLayerNormalization, t, {2, 6, 64}, 1, {6, 64}, true);   // 2 normalized dims
    CheckNorm(OpKind::kLayerNormalization, t, {2, 6, 64}, 1, {1, 64}, true);   // expanded
    CheckNorm(OpKind::kLayerNormalization, t, {3, 5, 7}, -2, {5, 1}, true);    // expanded, odd
    CheckNorm(OpKind::kLayerNormalization, t, {4, 16}, 1, {1}, false);         // scalar scale
    CheckNorm(OpKind::kLayerNormalization, t, {4, 5, 16}, 0, {5, 16}, true);   // one row
    CheckNorm(OpKind::kLayerNormalization, t, {4, 3, 16}, -1, {1, 1, 16}, true);
  }
}

TEST(CudaNormLayerNorm, BertLargeManyRows) {
  FRT_SKIP_WITHOUT_GPU();
  CheckNorm(OpKind::kLayerNormalization, DType::kFloat16, {128 * 384, 1024}, -1, {1024}, true);
  CheckNorm(OpKind::kLayerNormalization, DType::kFloat32, {128 * 384, 1024}, -1, {1024}, true);
}

TEST(CudaNormLayerNorm, LoweredBuilds) {
  FRT_SKIP_WITHOUT_GPU();
  if (!HasCastKernel()) GTEST_SKIP() << "no cuda Cast kernel yet (pointwise family)";
  for (DType low : {DType::kFloat16, DType::kBFloat16}) {
    CheckNorm(OpKind::kLayerNormalization, DType::kFloat32, {8, 384, 1024}, -1, {1024}, true, low);
    CheckNorm(OpKind::kLayerNormalization, DType::kFloat32, {5, 37}, -1, {37}, true, low);
  }
}

TEST(CudaNormRmsNorm, RowLengthsAxesAndDtypes) {
  FRT_SKIP_WITHOUT_GPU();
  for (DType t : kDTypes) {
    CheckNorm(OpKind::kRMSNormalization, t, {3, 37}, -1, {37}, false);
    CheckNorm(OpKind::kRMSNormalization, t, {5, 1000}, -1, {1000}, false);
    CheckNorm(OpKind::kRMSNormalization, t, {2, 3, 4096}, -1, {4096}, false);
    CheckNorm(OpKind::kRMSNormalization, t, {3, 8192}, -1, {8192}, false);
    CheckNorm(OpKind::kRMSNormalization, t, {2, 40000}, -1, {40000}, false);
    CheckNorm(OpKind::kRMSNormalization, t, {2, 6, 64}, 1, {6, 64}, false);
    CheckNorm(OpKind::kRMSNormalization, t, {2, 6, 64}, 1, {64}, false);  // expanded
  }
  CheckNorm(OpKind::kRMSNormalization, DType::kBFloat16, {128 * 384, 1024}, -1, {1024}, false);
}

TEST(CudaNormRmsNorm, LoweredBuilds) {
  FRT_SKIP_WITHOUT_GPU();
  if (!HasCastKernel()) GTEST_SKIP() << "no cuda Cast kernel yet (pointwise family)";
  for (DType low : {DType::kFloat16, DType::kBFloat16}) {
    CheckNorm(OpKind::kRMSNormalization, DType::kFloat32, {16, 4096}, -1, {4096}, false, low);
  }
}

// ---------------------------------------------------------------- GPU: softmaxes

void CheckSoftmax(OpKind op, DType dtype, const Dims& dims, int64_t axis, float range = 1.f,
                  DType low = DType::kFloat32) {
  SCOPED_TRACE(StrCat(OpKindName(op), " ", DTypeName(dtype), DimsToString(dims), " axis ", axis,
                      " range ", range,
                      low != DType::kFloat32 ? StrCat(" lowered to ", DTypeName(low)) : ""));
  Graph g;
  AddOp(g, op, {In(g, "x", dtype, dims)}, Attrs({{"axis", axis}}));
  std::string tactic = op == OpKind::kSoftmax ? "cuda.softmax.rows" : "cuda.logsoftmax.rows";
  Check(g, {{"x", Rand(dtype, dims, -range, range)}}, tactic,
        Tol(low != DType::kFloat32 ? low : dtype), low);
}

TEST(CudaNormSoftmax, LastAxisRowLengths) {
  FRT_SKIP_WITHOUT_GPU();
  for (OpKind op : {OpKind::kSoftmax, OpKind::kLogSoftmax}) {
    for (DType t : kDTypes) {
      CheckSoftmax(op, t, {7, 37}, -1);
      CheckSoftmax(op, t, {3, 1000}, -1);
      CheckSoftmax(op, t, {3, 1001}, 1);
      CheckSoftmax(op, t, {2, 3, 8192}, -1);
      CheckSoftmax(op, t, {2, 40000}, -1);  // looping kernel
      CheckSoftmax(op, t, {4, 5, 1}, -1);   // one element per row
    }
  }
}

TEST(CudaNormSoftmax, OtherAxes) {
  FRT_SKIP_WITHOUT_GPU();
  for (OpKind op : {OpKind::kSoftmax, OpKind::kLogSoftmax}) {
    for (DType t : kDTypes) {
      CheckSoftmax(op, t, {5, 37, 3}, 1);
      CheckSoftmax(op, t, {64, 9}, 0);
      CheckSoftmax(op, t, {2, 300, 70}, -2);
      CheckSoftmax(op, t, {3, 2, 2, 5}, 0);
    }
  }
}

TEST(CudaNormSoftmax, LargeMagnitudesStayStable) {
  FRT_SKIP_WITHOUT_GPU();
  for (OpKind op : {OpKind::kSoftmax, OpKind::kLogSoftmax}) {
    CheckSoftmax(op, DType::kFloat32, {16, 1000}, -1, 80.f);
    CheckSoftmax(op, DType::kFloat32, {16, 20000}, -1, 80.f);
    CheckSoftmax(op, DType::kFloat32, {7, 100, 5}, 1, 80.f);
    // f16 / bf16 inputs: the reference sees the same rounded values.
    CheckSoftmax(op, DType::kFloat16, {16, 1000}, -1, 80.f);
    CheckSoftmax(op, DType::kBFloat16, {16, 1000}, -1, 80.f);
  }
}

TEST(CudaNormSoftmax, AttentionSizedAndLowered) {
  FRT_SKIP_WITHOUT_GPU();
  CheckSoftmax(OpKind::kSoftmax, DType::kFloat16, {8, 16, 384, 384}, -1);
  if (!HasCastKernel()) GTEST_SKIP() << "no cuda Cast kernel yet (pointwise family)";
  for (DType low : {DType::kFloat16, DType::kBFloat16}) {
    CheckSoftmax(OpKind::kSoftmax, DType::kFloat32, {4, 12, 128, 128}, -1, 1.f, low);
    CheckSoftmax(OpKind::kLogSoftmax, DType::kFloat32, {64, 1000}, -1, 1.f, low);
    CheckSoftmax(OpKind::kSoftmax, DType::kFloat32, {4, 33, 6}, 1, 1.f, low);
  }
}

// FusedSoftmax over X [dims] along `axis` with a mask of `mask_dims` (none if
// empty) whose entries are 0 or -10000 (about a quarter), or with -inf rows.
void CheckFused(DType dtype, const Dims& dims, const Dims& mask_dims, int64_t axis, float scale,
                bool inf_mask = false, DType low = DType::kFloat32) {
  SCOPED_TRACE(StrCat("FusedSoftmax ", DTypeName(dtype), DimsToString(dims), " mask ",
                      DimsToString(mask_dims), " axis ", axis,
                      low != DType::kFloat32 ? StrCat(" lowered to ", DTypeName(low)) : ""));
  Graph g;
  std::vector<Value*> ins = {In(g, "x", dtype, dims)};
  std::map<std::string, Tensor> inputs = {{"x", Rand(dtype, dims, -4.f, 4.f)}};
  if (!mask_dims.empty()) {
    ins.push_back(In(g, "mask", dtype, mask_dims));
    Tensor m = Rand(DType::kFloat32, mask_dims, 0.f, 1.f);
    for (float& v : m.span<float>()) {
      float masked = inf_mask ? -std::numeric_limits<float>::infinity() : -10000.f;
      v = v < 0.25f ? masked : v - 0.5f;
    }
    if (inf_mask) {
      // One line along the axis fully -inf: NaN there, as on the CPU. Last
      // axis: the mask's first row; another axis (mask full along it and the
      // last dim): every element whose last index is 0.
      const float ninf = -std::numeric_limits<float>::infinity();
      bool last_axis = axis == -1 || axis == static_cast<int64_t>(dims.size()) - 1;
      for (int64_t i = 0; i < m.num_elements(); ++i) {
        if (last_axis ? i < mask_dims.back() : i % mask_dims.back() == 0) m.data<float>()[i] = ninf;
      }
    }
    inputs["mask"] = ConvertTo(m, dtype);
  }
  AddOp(g, OpKind::kFusedSoftmax, ins, Attrs({{"axis", axis}, {"scale", scale}}));
  Check(g, inputs, "cuda.fused_softmax.rows", Tol(low != DType::kFloat32 ? low : dtype), low);
}

TEST(CudaNormFusedSoftmax, BroadcastMasks) {
  FRT_SKIP_WITHOUT_GPU();
  for (DType t : kDTypes) {
    CheckFused(t, {2, 4, 33, 33}, {2, 1, 1, 33}, -1, 0.125f);   // padding mask [B,1,1,S]
    CheckFused(t, {2, 4, 32, 32}, {2, 1, 1, 32}, -1, 0.125f);   // vectorized mask reads
    CheckFused(t, {2, 4, 33, 33}, {1, 1, 33, 33}, -1, 1.f);     // causal-style [1,1,S,S]
    CheckFused(t, {2, 4, 16, 40}, {2, 4, 16, 1}, -1, 0.5f);     // one value per row
    CheckFused(t, {2, 4, 16, 40}, {40}, -1, 2.f);               // lower rank
    CheckFused(t, {2, 4, 16, 40}, {}, -1, 0.3f);                // no mask
    CheckFused(t, {2, 3, 1500}, {2, 1, 1500}, -1, 0.7f);        // block per row
    CheckFused(t, {2, 2, 20000}, {2, 1, 20000}, -1, 0.7f);      // looping kernel
    CheckFused(t, {2, 2, 20000}, {2, 2, 1}, -1, 0.7f);          // looping, one per row
    CheckFused(t, {2, 4, 9, 33}, {2, 1, 1, 33}, 2, 0.125f);     // constant along the axis
    CheckFused(t, {2, 4, 9, 33}, {2, 1, 9, 1}, 2, 0.125f);      // non-last axis
    CheckFused(t, {5, 6, 7}, {5, 6, 7}, 0, 1.f);                // full mask, first axis
  }
}

TEST(CudaNormFusedSoftmax, FullyMaskedRowsGiveNaN) {
  FRT_SKIP_WITHOUT_GPU();
  for (DType t : kDTypes) {
    CheckFused(t, {2, 3, 5, 24}, {1, 1, 5, 24}, -1, 1.f, true);
    CheckFused(t, {2, 3, 5, 37}, {1, 1, 5, 37}, -1, 1.f, true);
    CheckFused(t, {2, 3, 5, 12000}, {1, 1, 5, 12000}, -1, 1.f, true);
    CheckFused(t, {2, 3, 24, 5}, {1, 1, 24, 5}, 2, 1.f, true);  // strided kernel
    CheckFused(t, {2, 3, 5, 24}, {1, 1, 5, 1}, -1, 1.f, true);    // one mask value per row
    CheckFused(t, {2, 3, 5, 9000}, {2, 3, 5, 1}, -1, 1.f, true);  // the same, looping
    CheckFused(t, {2, 3, 24, 5}, {1, 1, 1, 5}, 2, 1.f, true);     // constant along the axis
  }
}

TEST(CudaNormFusedSoftmax, BertLargeAndLowered) {
  FRT_SKIP_WITHOUT_GPU();
  CheckFused(DType::kFloat16, {8, 16, 384, 384}, {8, 1, 1, 384}, -1, 0.125f);
  if (!HasCastKernel()) GTEST_SKIP() << "no cuda Cast kernel yet (pointwise family)";
  for (DType low : {DType::kFloat16, DType::kBFloat16}) {
    CheckFused(DType::kFloat32, {4, 12, 128, 128}, {4, 1, 1, 128}, -1, 0.125f, false, low);
  }
}

}  // namespace
}  // namespace frt
