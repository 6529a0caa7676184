// Tests of the CUDA GEMM family (gemm.cc, gemm_lt.cc, gemm_plan.cc,
// gemm_epilogue.cu). CPU tests check the host planning: batch broadcasting
// into strided-batched calls (against the reference MatMul, by executing the
// plan on the host), the epilogue split, alignment and broadcast collapsing,
// and supports(). GPU tests (skipped without a device) build small graphs in
// f32, f16 and bf16 and compare with the CPU reference executor (double
// inside), checking that the layer ran "cuda.gemm.cublaslt".
//
// Tolerances (relative L2 against the double reference):
//  - f32 1e-5: cuBLASLt runs CUBLAS_COMPUTE_32F (no TF32); the fp32 sum of
//    K <= 3072 products of values in [-1, 1) has a relative error of a few
//    1e-7 in L2 (random rounding errors grow like sqrt(K) * 2^-24).
//  - f16 5e-3: the graphs take f16 inputs directly (the reference rounds the
//    same inputs); products accumulate in f32, so the error is the output's
//    rounding (2^-11 relative, about 3e-4 in L2) plus, where the post-pass
//    runs after a cuBLASLt epilogue, one more rounding of the intermediate.
//  - bf16 3e-2: as f16 with bf16's 2^-8 rounding (about 2.3e-3 in L2 per
//    rounding), plus the same double rounding in the post-pass cases.
#include <gtest/gtest.h>

#include <cstring>

#include "backends/cuda/gemm_epilogue.h"
#include "backends/cuda/gemm_plan.h"
#include "backends/cuda/gpu_test_util.h"
#include "backends/cuda/kernel.h"
#include "ir/shape_inference.h"

namespace frt {
namespace {

using gpu_test::ExpectMatchesReference;
using gpu_test::GpuOptions;
using gpu_test::GpuRun;
using gpu_test::RandomTensor;

// ---------------------------------------------------------------------------
// Graph building helpers.

Value* GraphInput(Graph& g, const std::string& name, DType dtype, const Dims& dims) {
  Value* v = g.AddValue(name).value();
  v->dtype = dtype;
  v->shape = Shape::FromDims(dims);
  g.AddInput(v);
  return v;
}

Value* Weight(Graph& g, const std::string& name, DType dtype, const Dims& dims, uint64_t seed) {
  Value* v = g.AddValue(name).value();
  v->constant = RandomTensor(dtype, dims, seed);
  v->dtype = dtype;
  v->shape = Shape::FromDims(dims);
  return v;
}

Node* AddOp(Graph& g, OpKind op, const std::string& out, std::vector<Value*> inputs,
            int opset = 13) {
  Node* n = g.AddNode(op, out + "_node");
  n->opset = opset;
  n->inputs = std::move(inputs);
  Value* v = g.AddValue(out).value();
  v->producer = n;
  n->outputs = {v};
  return n;
}

// Infers shapes (the reference executor and the builder need them) and marks `out`.
void Finish(Graph& g, Node* last) {
  g.AddOutput(last->outputs[0]);
  Status s = InferGraphShapes(g);
  ASSERT_TRUE(s.ok()) << s.ToString();
}

// Fresh random values for every graph input, in the input's dtype.
std::map<std::string, Tensor> Inputs(const Graph& g, uint64_t seed) {
  std::map<std::string, Tensor> in;
  for (const Value* v : g.inputs()) {
    in[v->name] = RandomTensor(v->dtype, v->shape->static_dims(), seed++);
  }
  return in;
}

struct DTypeCase {
  DType dtype;
  double tolerance;  // see the file comment
};
constexpr DTypeCase kDTypes[] = {
    {DType::kFloat32, 1e-5}, {DType::kFloat16, 5e-3}, {DType::kBFloat16, 3e-2}};

// The layer that computes `op` ran the cuBLASLt tactic.
void ExpectCublasLtLayer(const GpuRun& run, const std::string& op) {
  bool found = false;
  for (const LayerInfo& l : run.layers) {
    if (l.op != op) continue;
    found = true;
    EXPECT_EQ(l.tactic, "cuda.gemm.cublaslt") << l.name;
  }
  EXPECT_TRUE(found) << "no " << op << " layer in the engine";
}

// MatMul(A, B) with both operands graph inputs (or B a constant weight).
void CheckMatMul(const Dims& a, const Dims& b, bool b_constant, uint64_t seed) {
  for (const DTypeCase& c : kDTypes) {
    SCOPED_TRACE(StrCat(DTypeName(c.dtype), " ", DimsToString(a), " x ", DimsToString(b)));
    Graph g;
    Value* va = GraphInput(g, "a", c.dtype, a);
    Value* vb =
        b_constant ? Weight(g, "w", c.dtype, b, seed + 100) : GraphInput(g, "b", c.dtype, b);
    Node* mm = AddOp(g, OpKind::kMatMul, "y", {va, vb});
    Finish(g, mm);
    GpuRun run = ExpectMatchesReference(g, Inputs(g, seed), c.tolerance);
    ExpectCublasLtLayer(run, "MatMul");
  }
}

// ---------------------------------------------------------------------------
// CPU tests: planning.

// Executes a BatchedGemm plan on the host (doubles) for row-major operands.
std::vector<double> ExecutePlan(const BatchedGemm& g, const std::vector<double>& a,
                                const std::vector<double>& b, size_t out_size) {
  std::vector<double> y(out_size, std::nan(""));
  for (int64_t c = 0; c < g.calls(); ++c) {
    for (int64_t t = 0; t < g.batch; ++t) {
      const int64_t oa = g.a_offsets[c] + t * g.stride_a;
      const int64_t ob = g.b_offsets[c] + t * g.stride_b;
      const int64_t oy = g.y_offsets[c] + t * g.stride_y;
      for (int64_t i = 0; i < g.m; ++i) {
        for (int64_t j = 0; j < g.n; ++j) {
          double acc = 0;
          for (int64_t k = 0; k < g.k; ++k) {
            const double av = a.at(oa + (g.trans_a ? k * g.m + i : i * g.k + k));
            const double bv = b.at(ob + (g.trans_b ? j * g.k + k : k * g.n + j));
            acc += av * bv;
          }
          y.at(oy + i * g.n + j) = acc;
        }
      }
    }
  }
  return y;
}

// The plan, executed on the host, equals the reference MatMul for these dims.
void CheckPlanMatchesReference(const Dims& a, const Dims& b) {
  SCOPED_TRACE(StrCat(DimsToString(a), " x ", DimsToString(b)));
  Graph g;
  Value* va = GraphInput(g, "a", DType::kFloat32, a);
  Value* vb = GraphInput(g, "b", DType::kFloat32, b);
  Node* mm = AddOp(g, OpKind::kMatMul, "y", {va, vb});
  Finish(g, mm);
  auto inputs = Inputs(g, 7);
  auto ref = gpu_test::RunReference(g, inputs);
  ASSERT_TRUE(ref.ok()) << ref.status().ToString();
  auto plan = PlanBatchedGemm(a, b, false, false, "test");
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  const Tensor& want = (*ref)[0];
  std::vector<double> av, bv;
  for (float f : inputs["a"].span<float>()) av.push_back(f);
  for (float f : inputs["b"].span<float>()) bv.push_back(f);
  std::vector<double> got = ExecutePlan(*plan, av, bv, static_cast<size_t>(want.num_elements()));
  ASSERT_EQ(static_cast<int64_t>(got.size()), want.num_elements());
  for (int64_t i = 0; i < want.num_elements(); ++i) {
    ASSERT_NEAR(got[static_cast<size_t>(i)], want.GetAsDouble(i), 1e-4) << "element " << i;
  }
}

TEST(CudaGemmPlan, FoldsWeightBatchIntoM) {
  auto p = PlanBatchedGemm({2, 3, 5, 7}, {7, 11}, false, false, "t");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->m, 30);
  EXPECT_EQ(p->n, 11);
  EXPECT_EQ(p->k, 7);
  EXPECT_EQ(p->batch, 1);
  EXPECT_EQ(p->calls(), 1);
}

TEST(CudaGemmPlan, AttentionIsOneStridedBatch) {
  auto p = PlanBatchedGemm({2, 4, 8, 16}, {2, 4, 16, 8}, false, false, "t");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->batch, 8);
  EXPECT_EQ(p->calls(), 1);
  EXPECT_EQ(p->stride_a, 8 * 16);
  EXPECT_EQ(p->stride_b, 16 * 8);
  EXPECT_EQ(p->stride_y, 8 * 8);
}

TEST(CudaGemmPlan, BroadcastOperandGetsStrideZero) {
  auto p = PlanBatchedGemm({7, 13}, {3, 13, 5}, false, false, "t");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->batch, 3);
  EXPECT_EQ(p->calls(), 1);
  EXPECT_EQ(p->stride_a, 0);
  EXPECT_EQ(p->stride_b, 13 * 5);
}

TEST(CudaGemmPlan, CrossBroadcastLoopsOverOuterBatches) {
  // Out batch [2, 3]: A varies over dim 0 only, B over dim 1 only.
  auto p = PlanBatchedGemm({2, 1, 4, 5}, {3, 5, 6}, false, false, "t");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->batch, 3);
  ASSERT_EQ(p->calls(), 2);
  EXPECT_EQ(p->stride_a, 0);
  EXPECT_EQ(p->stride_b, 30);
  EXPECT_EQ(p->a_offsets, (std::vector<int64_t>{0, 20}));
  EXPECT_EQ(p->b_offsets, (std::vector<int64_t>{0, 0}));
  EXPECT_EQ(p->y_offsets, (std::vector<int64_t>{0, 3 * 24}));
}

TEST(CudaGemmPlan, OneDimensionalOperands) {
  auto p = PlanBatchedGemm({13}, {13, 7}, false, false, "t");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->m, 1);
  EXPECT_EQ(p->n, 7);
  p = PlanBatchedGemm({2, 5, 13}, {13}, false, false, "t");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->m, 10);
  EXPECT_EQ(p->n, 1);
}

TEST(CudaGemmPlan, TransposedOperands) {
  auto p = PlanBatchedGemm({9, 4}, {6, 9}, true, true, "t");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->m, 4);
  EXPECT_EQ(p->n, 6);
  EXPECT_EQ(p->k, 9);
  // trans_b with a batched A still folds A's batch into M.
  p = PlanBatchedGemm({2, 3, 9}, {6, 9}, false, true, "t");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->m, 6);
  EXPECT_EQ(p->calls(), 1);
}

TEST(CudaGemmPlan, Errors) {
  EXPECT_FALSE(PlanBatchedGemm({3, 4}, {5, 6}, false, false, "t").ok());
  EXPECT_FALSE(PlanBatchedGemm({2, 3, 4}, {3, 4, 6}, false, false, "t").ok());
  EXPECT_FALSE(PlanBatchedGemm({}, {4, 6}, false, false, "t").ok());
  auto p = PlanBatchedGemm({3, 4}, {5, 6}, false, false, "node X");
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.status().ToString().find("node X"), std::string::npos);
}

TEST(CudaGemmPlan, EmptyProducts) {
  auto p = PlanBatchedGemm({0, 3, 4}, {4, 5}, false, false, "t");
  ASSERT_TRUE(p.ok());
  EXPECT_TRUE(p->empty);
  p = PlanBatchedGemm({3, 0}, {0, 5}, false, false, "t");  // K = 0: Y is not empty
  ASSERT_TRUE(p.ok());
  EXPECT_FALSE(p->empty);
  EXPECT_EQ(p->k, 0);
}

TEST(CudaGemmPlan, ExecutedPlansMatchReferenceMatMul) {
  const std::pair<Dims, Dims> cases[] = {
      {{5, 7}, {7, 3}},           {{2, 3, 5, 7}, {7, 4}},      {{2, 4, 5, 6}, {2, 4, 6, 3}},
      {{5, 6}, {3, 6, 2}},        {{2, 1, 4, 5}, {3, 5, 6}},   {{2, 3, 4, 5}, {3, 5, 2}},
      {{3, 1, 2, 4, 5}, {2, 1, 5, 3}}, {{7}, {7, 3}},          {{2, 5, 7}, {7}},
      {{1, 3, 4}, {2, 1, 4, 2}},  {{2, 1, 3, 4}, {1, 3, 4, 2}}, {{6}, {2, 6, 3}}};
  for (const auto& [a, b] : cases) CheckPlanMatchesReference(a, b);
}

TEST(CudaGemmEpiloguePlan, RowBiasUsesBiasEpilogue) {
  ActivationSpec relu{Activation::kRelu};
  EpiloguePlan p = PlanEpilogue({4, 8, 16}, {2, {16}}, {}, relu, false);
  EXPECT_TRUE(p.bias_vector);
  EXPECT_EQ(p.c_input, -1);
  EXPECT_EQ(p.gemm_activation, Activation::kRelu);
  EXPECT_FALSE(p.needs_post());
  p = PlanEpilogue({4, 8, 16}, {2, {1, 1, 16}}, {}, {}, false);
  EXPECT_TRUE(p.bias_vector);
}

TEST(CudaGemmEpiloguePlan, ResidualIsCAndErfGeluRunsAfter) {
  ActivationSpec gelu{Activation::kGelu};
  EpiloguePlan p = PlanEpilogue({8, 16}, {2, {16}}, {3, {8, 16}}, gelu, false);
  EXPECT_TRUE(p.bias_vector);
  EXPECT_EQ(p.c_input, 3);
  EXPECT_EQ(p.beta, 1.0f);
  EXPECT_EQ(p.gemm_activation, Activation::kNone);  // cuBLASLt's GELU is the tanh one
  EXPECT_TRUE(p.post_activation);
  EXPECT_TRUE(p.post_addends.empty());
  p = PlanEpilogue({8, 16}, {2, {16}}, {}, {Activation::kGeluTanh}, false);
  EXPECT_EQ(p.gemm_activation, Activation::kGeluTanh);
  EXPECT_FALSE(p.needs_post());
}

TEST(CudaGemmEpiloguePlan, BroadcastAddendsMoveActivationToPostPass) {
  // A scaled [N] bias (Gemm beta 0.5) and a residual broadcast over rows.
  EpiloguePlan p =
      PlanEpilogue({8, 16}, {2, {16}, 0.5f}, {3, {1, 16}}, {Activation::kRelu}, false);
  EXPECT_FALSE(p.bias_vector);
  EXPECT_EQ(p.c_input, -1);
  ASSERT_EQ(p.post_addends.size(), 2u);
  EXPECT_EQ(p.post_addends[0].input, 2);
  EXPECT_EQ(p.post_addends[0].scale, 0.5f);
  EXPECT_EQ(p.post_addends[1].input, 3);
  EXPECT_EQ(p.gemm_activation, Activation::kNone);
  EXPECT_TRUE(p.post_activation);
  // A full-shaped bias with beta becomes C; a full residual then goes to the post-pass.
  p = PlanEpilogue({8, 16}, {2, {8, 16}, 0.25f}, {3, {8, 16}}, {}, false);
  EXPECT_EQ(p.c_input, 2);
  EXPECT_EQ(p.beta, 0.25f);
  ASSERT_EQ(p.post_addends.size(), 1u);
  EXPECT_EQ(p.post_addends[0].input, 3);
  // A per-row bias [M, 1] is not cuBLASLt's bias vector.
  p = PlanEpilogue({8, 16}, {2, {8, 1}}, {}, {}, false);
  EXPECT_FALSE(p.bias_vector);
  EXPECT_EQ(p.post_addends.size(), 1u);
}

TEST(CudaGemmEpiloguePlan, ZeroKRunsEverythingInPostPass) {
  EpiloguePlan p = PlanEpilogue({8, 16}, {2, {16}}, {3, {8, 16}}, {Activation::kRelu}, true);
  EXPECT_FALSE(p.run_gemm);
  EXPECT_FALSE(p.bias_vector);
  EXPECT_EQ(p.post_addends.size(), 2u);
  EXPECT_TRUE(p.post_activation);
}

TEST(CudaGemmEpiloguePlan, CollapseBroadcast) {
  CollapsedBroadcast c = CollapseBroadcast({2, 3, 4}, {{4}});
  EXPECT_EQ(c.dims, (Dims{6, 4}));
  EXPECT_EQ(c.strides[0], (Dims{0, 1}));
  c = CollapseBroadcast({2, 3, 4}, {{2, 3, 4}, {4}});
  EXPECT_EQ(c.dims, (Dims{6, 4}));
  EXPECT_EQ(c.strides[0], (Dims{4, 1}));
  EXPECT_EQ(c.strides[1], (Dims{0, 1}));
  c = CollapseBroadcast({2, 3, 4}, {{3, 1}});
  EXPECT_EQ(c.dims, (Dims{2, 3, 4}));
  EXPECT_EQ(c.strides[0], (Dims{0, 1, 0}));
  c = CollapseBroadcast({1, 5, 1, 4}, {{5, 1, 4}});
  EXPECT_EQ(c.dims, (Dims{20}));
  EXPECT_EQ(c.strides[0], (Dims{1}));
  c = CollapseBroadcast({1, 1}, {{1}});
  EXPECT_EQ(c.dims, (Dims{1}));
  EXPECT_EQ(c.strides[0], (Dims{0}));
}

TEST(CudaGemmEpiloguePlan, CommonAlignment) {
  EXPECT_EQ(CommonAlignment({0x1000}), 256u);
  EXPECT_EQ(CommonAlignment({0x1000, 6}), 2u);
  EXPECT_EQ(CommonAlignment({0x1010, 0x1000}), 16u);
  EXPECT_EQ(CommonAlignment({0}), 256u);
}

// supports(): dtype rules, read through the registry as the builder does.
TEST(CudaGemmSupports, DTypes) {
  const CudaKernelRegistry& r = CudaKernelRegistry::Global();
  for (OpKind op : {OpKind::kMatMul, OpKind::kGemm, OpKind::kFusedMatMul}) {
    const CudaKernel* k = r.Find(op, "cuda.gemm.cublaslt");
    ASSERT_NE(k, nullptr) << OpKindName(op);
    for (DType t : {DType::kFloat32, DType::kFloat16, DType::kBFloat16}) {
      Graph g;
      Node* n = AddOp(g, op, "y",
                      {GraphInput(g, "a", t, {4, 8}), GraphInput(g, "b", t, {8, 4})});
      Finish(g, n);
      EXPECT_EQ(k->supports(*n), "") << OpKindName(op) << " " << DTypeName(t);
    }
    Graph mixed;
    Node* n = AddOp(mixed, op, "y",
                    {GraphInput(mixed, "a", DType::kFloat16, {4, 8}),
                     GraphInput(mixed, "b", DType::kFloat32, {8, 4})});
    n->outputs[0]->dtype = DType::kFloat16;
    EXPECT_NE(k->supports(*n), "") << OpKindName(op) << " with mixed dtypes";
    Graph ints;
    n = AddOp(ints, op, "y",
              {GraphInput(ints, "a", DType::kInt32, {4, 8}),
               GraphInput(ints, "b", DType::kInt32, {8, 4})});
    n->outputs[0]->dtype = DType::kInt32;
    EXPECT_NE(k->supports(*n), "") << OpKindName(op) << " on int32";
  }
}

TEST(CudaGemmSupports, FusedMatMulRejectsUnknownActivation) {
  const CudaKernel* k = CudaKernelRegistry::Global().Find(OpKind::kFusedMatMul,
                                                          "cuda.gemm.cublaslt");
  ASSERT_NE(k, nullptr);
  Graph g;
  Node* n = AddOp(g, OpKind::kFusedMatMul, "y",
                  {GraphInput(g, "a", DType::kFloat32, {4, 8}),
                   GraphInput(g, "b", DType::kFloat32, {8, 4})});
  n->outputs[0]->dtype = DType::kFloat32;
  n->attrs.Set("activation", std::string("softplus"));
  EXPECT_NE(k->supports(*n), "");
}

// ---------------------------------------------------------------------------
// GPU tests: MatMul.

TEST(CudaGemmMatMul, TwoDimensional) {
  FRT_SKIP_WITHOUT_GPU();
  CheckMatMul({64, 96}, {96, 80}, false, 1);
  CheckMatMul({1, 7}, {7, 13}, false, 2);    // odd sizes, M = 1
  CheckMatMul({3, 33}, {33, 65}, true, 3);   // odd sizes, weight
}

TEST(CudaGemmMatMul, ThreeDimensionalTimesWeights) {
  FRT_SKIP_WITHOUT_GPU();
  CheckMatMul({2, 17, 96}, {96, 40}, true, 4);
  CheckMatMul({3, 5, 13}, {13, 7}, false, 5);
}

TEST(CudaGemmMatMul, AttentionLikeBatched) {
  FRT_SKIP_WITHOUT_GPU();
  CheckMatMul({2, 4, 33, 16}, {2, 4, 16, 33}, false, 6);  // Q.K^T
  CheckMatMul({2, 4, 33, 33}, {2, 4, 33, 16}, false, 7);  // P.V
}

TEST(CudaGemmMatMul, BroadcastBatch) {
  FRT_SKIP_WITHOUT_GPU();
  CheckMatMul({9, 12}, {4, 12, 7}, false, 8);           // A broadcast: stride 0
  CheckMatMul({3, 1, 9, 12}, {5, 12, 7}, false, 9);     // outer loop over A's batch
  CheckMatMul({2, 3, 9, 12}, {3, 12, 7}, false, 10);    // B broadcast over the first dim
  CheckMatMul({1, 3, 9, 12}, {2, 1, 12, 7}, false, 11); // each side broadcast somewhere
}

TEST(CudaGemmMatMul, OneDimensionalOperands) {
  FRT_SKIP_WITHOUT_GPU();
  CheckMatMul({13}, {13, 7}, false, 12);
  CheckMatMul({2, 5, 13}, {13}, false, 13);
  CheckMatMul({13}, {3, 13, 7}, false, 14);
}

TEST(CudaGemmMatMul, BertLikeSizes) {
  FRT_SKIP_WITHOUT_GPU();
  CheckMatMul({128, 768}, {768, 3072}, true, 15);
  CheckMatMul({1, 128, 3072}, {3072, 768}, true, 16);  // K = 3072
  CheckMatMul({2, 384, 1024}, {1024, 1024}, true, 17); // BERT-large hidden, seq 384
}

// K = 0: Y is the epilogue over zeros (bias, activation); M = 0: nothing runs.
TEST(CudaGemmMatMul, ZeroSizes) {
  FRT_SKIP_WITHOUT_GPU();
  CheckMatMul({3, 0}, {0, 5}, false, 18);
  CheckMatMul({0, 4}, {4, 5}, false, 19);
  CheckMatMul({2, 0, 4}, {2, 4, 5}, false, 20);
  for (const DTypeCase& c : kDTypes) {
    SCOPED_TRACE(DTypeName(c.dtype));
    Graph g;
    Node* n = AddOp(g, OpKind::kFusedMatMul, "y",
                    {GraphInput(g, "a", c.dtype, {2, 3, 0}), GraphInput(g, "b", c.dtype, {0, 5}),
                     Weight(g, "bias", c.dtype, {5}, 21)},
                    1);
    n->attrs.Set("activation", std::string("gelu_tanh"));
    Finish(g, n);
    GpuRun run = ExpectMatchesReference(g, Inputs(g, 22), c.tolerance);
    ExpectCublasLtLayer(run, "FusedMatMul");
  }
}

// One context, several runs: a dynamic batch dim changes the cached key
// (new plan, new heuristic query) and a repeated shape reuses its entry with
// new data; every run must match the reference.
TEST(CudaGemmMatMul, RepeatedRunsWithDynamicShapes) {
  FRT_SKIP_WITHOUT_GPU();
  Graph g;
  Value* a = g.AddValue("a").value();
  a->dtype = DType::kFloat32;
  a->shape = Shape({Dim::Symbol("batch"), Dim(33), Dim(40)});
  g.AddInput(a);
  Node* mm = AddOp(g, OpKind::kFusedMatMul, "y",
                   {a, Weight(g, "w", DType::kFloat32, {40, 24}, 3),
                    Weight(g, "bias", DType::kFloat32, {24}, 4)},
                   1);
  mm->attrs.Set("activation", std::string("gelu"));
  Finish(g, mm);
  auto copy = CloneGraph(g);
  ASSERT_TRUE(copy.ok());
  NetworkDefinition net = NetworkDefinition::FromGraph(std::move(*copy));
  BuilderConfig config;
  config.device = DeviceKind::kCuda;
  OptimizationProfile profile;
  ASSERT_TRUE(profile.SetShapes("a", {1, 33, 40}, {2, 33, 40}, {4, 33, 40}).ok());
  config.profiles.push_back(profile);
  auto engine = Builder::Build(net, config);
  ASSERT_TRUE(engine.ok()) << engine.status().ToString();
  auto ctx = (*engine)->CreateContext();
  ASSERT_TRUE(ctx.ok()) << ctx.status().ToString();
  auto in_buf = DeviceBuffer::Allocate(4 * 33 * 40 * 4, "a");
  auto out_buf = DeviceBuffer::Allocate(4 * 33 * 24 * 4, "y");
  ASSERT_TRUE(in_buf.ok() && out_buf.ok());
  const int64_t batches[] = {1, 3, 3, 2, 4, 1};
  for (size_t r = 0; r < std::size(batches); ++r) {
    SCOPED_TRACE(StrCat("run ", r, " batch ", batches[r]));
    Tensor t = RandomTensor(DType::kFloat32, {batches[r], 33, 40}, 100 + r);
    ASSERT_EQ(cudaMemcpy(in_buf->data(), t.raw(), t.nbytes(), cudaMemcpyHostToDevice),
              cudaSuccess);
    ASSERT_EQ(cudaMemset(out_buf->data(), 0xFF, out_buf->size()), cudaSuccess);
    ASSERT_TRUE((*ctx)->SetInputShape("a", t.dims()).ok());
    ASSERT_TRUE((*ctx)->SetTensorAddress("a", in_buf->data(), t.nbytes()).ok());
    ASSERT_TRUE((*ctx)->SetTensorAddress("y", out_buf->data(), out_buf->size()).ok());
    Status s = (*ctx)->Execute();
    ASSERT_TRUE(s.ok()) << s.ToString();
    Tensor got = Tensor::Allocate(DType::kFloat32, {batches[r], 33, 24}).value();
    ASSERT_EQ(cudaMemcpy(got.raw(), out_buf->data(), got.nbytes(), cudaMemcpyDeviceToHost),
              cudaSuccess);
    auto ref = gpu_test::RunReference(g, {{"a", t}});
    ASSERT_TRUE(ref.ok()) << ref.status().ToString();
    EXPECT_LE(gpu_test::RelativeError(got, (*ref)[0]), 1e-5);
  }
}

// ---------------------------------------------------------------------------
// GPU tests: Gemm (optimization level 0, so that the Gemm node itself runs:
// the optimizer turns a Gemm with transA = 0 into FusedMatMul).

struct GemmCase {
  Dims a, b, c;  // c empty: no C
  int trans_a, trans_b;
  float alpha, beta;
};

void CheckGemm(const GemmCase& gc, uint64_t seed) {
  for (const DTypeCase& d : kDTypes) {
    SCOPED_TRACE(StrCat(DTypeName(d.dtype), " A ", DimsToString(gc.a), " B ", DimsToString(gc.b),
                        " C ", DimsToString(gc.c), " transA ", gc.trans_a, " transB ",
                        gc.trans_b));
    Graph g;
    std::vector<Value*> ins = {GraphInput(g, "a", d.dtype, gc.a),
                               Weight(g, "b", d.dtype, gc.b, seed + 50)};
    if (!gc.c.empty()) ins.push_back(Weight(g, "c", d.dtype, gc.c, seed + 60));
    Node* n = AddOp(g, OpKind::kGemm, "y", ins);
    n->attrs.Set("transA", static_cast<int64_t>(gc.trans_a));
    n->attrs.Set("transB", static_cast<int64_t>(gc.trans_b));
    n->attrs.Set("alpha", gc.alpha);
    n->attrs.Set("beta", gc.beta);
    Finish(g, n);
    GpuRun run = ExpectMatchesReference(g, Inputs(g, seed), d.tolerance,
                                        GpuOptions{.optimization_level = 0});
    ExpectCublasLtLayer(run, "Gemm");
  }
}

TEST(CudaGemmGemm, TransBWithRowBias) {
  FRT_SKIP_WITHOUT_GPU();
  CheckGemm({{33, 65}, {47, 65}, {47}, 0, 1, 1.0f, 1.0f}, 20);    // bias epilogue
  CheckGemm({{128, 768}, {768, 768}, {768}, 0, 1, 1.0f, 1.0f}, 21);  // BERT projection
}

TEST(CudaGemmGemm, TransAAlphaBetaAndBroadcastC) {
  FRT_SKIP_WITHOUT_GPU();
  CheckGemm({{65, 33}, {65, 47}, {33, 47}, 1, 0, 0.5f, 0.75f}, 22);  // C as a matrix, beta
  CheckGemm({{65, 33}, {47, 65}, {33, 1}, 1, 1, 1.5f, 2.0f}, 23);    // per-row C: post-pass
  CheckGemm({{7, 13}, {13, 5}, {1}, 0, 0, 1.0f, -1.0f}, 24);         // scalar C
  CheckGemm({{7, 13}, {13, 5}, {5}, 0, 0, 1.0f, 0.5f}, 25);          // scaled row C
  CheckGemm({{7, 13}, {13, 5}, {}, 0, 0, 2.0f, 1.0f}, 26);           // no C
}

// ---------------------------------------------------------------------------
// GPU tests: FusedMatMul, built directly.

struct FusedCase {
  Dims a = {}, b = {};
  bool trans_b = false;
  float alpha = 1.0f;
  Dims bias = {};      // empty: none
  Dims residual = {};  // empty: none
  std::string activation = {};
  float act_alpha = 0.0f, act_beta = 0.0f;
};

void CheckFused(const FusedCase& fc, uint64_t seed) {
  for (const DTypeCase& d : kDTypes) {
    SCOPED_TRACE(StrCat(DTypeName(d.dtype), " A ", DimsToString(fc.a), " B ", DimsToString(fc.b),
                        " bias ", DimsToString(fc.bias), " residual ",
                        DimsToString(fc.residual), " act '", fc.activation, "'"));
    Graph g;
    std::vector<Value*> ins = {GraphInput(g, "a", d.dtype, fc.a),
                               Weight(g, "w", d.dtype, fc.b, seed + 50)};
    if (!fc.bias.empty() || !fc.residual.empty()) {
      ins.push_back(fc.bias.empty() ? nullptr : Weight(g, "bias", d.dtype, fc.bias, seed + 60));
    }
    if (!fc.residual.empty()) ins.push_back(GraphInput(g, "res", d.dtype, fc.residual));
    Node* n = AddOp(g, OpKind::kFusedMatMul, "y", ins, 1);
    n->attrs.Set("alpha", fc.alpha);
    n->attrs.Set("trans_b", static_cast<int64_t>(fc.trans_b));
    if (!fc.activation.empty()) {
      n->attrs.Set("activation", fc.activation);
      if (fc.activation == "clip" || fc.activation == "leaky_relu") {
        n->attrs.Set("activation_alpha", fc.act_alpha);
      }
      if (fc.activation == "clip") n->attrs.Set("activation_beta", fc.act_beta);
    }
    Finish(g, n);
    GpuRun run = ExpectMatchesReference(g, Inputs(g, seed), d.tolerance);
    ExpectCublasLtLayer(run, "FusedMatMul");
  }
}

TEST(CudaGemmFusedMatMul, Bias) {
  FRT_SKIP_WITHOUT_GPU();
  CheckFused({.a = {2, 17, 96}, .b = {96, 40}, .bias = {40}}, 30);
  CheckFused({.a = {3, 33}, .b = {65, 33}, .trans_b = true, .alpha = 0.5f, .bias = {65}}, 31);
}

TEST(CudaGemmFusedMatMul, BiasRelu) {
  FRT_SKIP_WITHOUT_GPU();
  CheckFused({.a = {2, 17, 96}, .b = {96, 40}, .bias = {40}, .activation = "relu"}, 32);
}

TEST(CudaGemmFusedMatMul, BiasErfGelu) {
  FRT_SKIP_WITHOUT_GPU();
  CheckFused({.a = {2, 17, 96}, .b = {96, 40}, .bias = {40}, .activation = "gelu"}, 33);
  CheckFused({.a = {1, 128, 768}, .b = {768, 3072}, .bias = {3072}, .activation = "gelu"}, 34);
}

TEST(CudaGemmFusedMatMul, BiasTanhGelu) {
  FRT_SKIP_WITHOUT_GPU();
  CheckFused({.a = {2, 17, 96}, .b = {96, 40}, .bias = {40}, .activation = "gelu_tanh"}, 35);
  CheckFused({.a = {3, 33}, .b = {33, 65}, .activation = "gelu_tanh"}, 36);  // no bias
}

TEST(CudaGemmFusedMatMul, BiasResidual) {
  FRT_SKIP_WITHOUT_GPU();
  CheckFused({.a = {2, 17, 96}, .b = {96, 40}, .bias = {40}, .residual = {2, 17, 40}}, 37);
  CheckFused(
      {.a = {1, 128, 3072}, .b = {3072, 768}, .bias = {768}, .residual = {1, 128, 768}}, 38);
}

TEST(CudaGemmFusedMatMul, ResidualWithActivation) {
  FRT_SKIP_WITHOUT_GPU();
  // C = residual, then the activation: in cuBLASLt's epilogue (relu) or in the post-pass.
  CheckFused({.a = {2, 17, 96}, .b = {96, 40}, .residual = {2, 17, 40}, .activation = "relu"},
             39);
  CheckFused({.a = {2, 17, 96}, .b = {96, 40}, .bias = {40}, .residual = {2, 17, 40},
              .activation = "silu"},
             40);
  CheckFused({.a = {5, 24}, .b = {24, 9}, .residual = {5, 9}, .activation = "leaky_relu",
              .act_alpha = 0.1f},
             41);
  CheckFused({.a = {5, 24}, .b = {24, 9}, .bias = {9}, .activation = "clip", .act_alpha = -0.5f,
              .act_beta = 0.5f},
             42);
  CheckFused({.a = {5, 24}, .b = {24, 9}, .bias = {9}, .activation = "sigmoid"}, 43);
  CheckFused({.a = {5, 24}, .b = {24, 9}, .bias = {9}, .activation = "tanh"}, 44);
}

TEST(CudaGemmFusedMatMul, BroadcastBiasAndResidual) {
  FRT_SKIP_WITHOUT_GPU();
  // A residual broadcast over the batch and a per-row bias: both in the post-pass.
  CheckFused({.a = {3, 10, 24}, .b = {24, 12}, .bias = {10, 1}, .residual = {10, 12},
              .activation = "gelu"},
             45);
  CheckFused({.a = {3, 10, 24}, .b = {24, 12}, .bias = {1}, .residual = {3, 1, 12}}, 46);
}

TEST(CudaGemmFusedMatMul, BatchedWeightsAndTransB) {
  FRT_SKIP_WITHOUT_GPU();
  CheckFused({.a = {2, 4, 9, 16}, .b = {2, 4, 16, 9}, .bias = {9}, .activation = "relu"}, 47);
  CheckFused({.a = {2, 4, 9, 16}, .b = {4, 9, 16}, .trans_b = true, .bias = {9},
              .residual = {2, 4, 9, 9}, .activation = "gelu"},
             48);
}

// ---------------------------------------------------------------------------
// GPU tests: FusedMatMul from the optimizer (MatMul + Add + activation + Add).

// The optimizer fused the whole chain: one FusedMatMul layer on a cuda tactic
// and no MatMul, Add or activation layer left.
void ExpectOneFusedLayer(const GpuRun& run) {
  int fused = 0;
  for (const LayerInfo& l : run.layers) {
    EXPECT_TRUE(l.op != "MatMul" && l.op != "Add" && l.op != "Gelu" && l.op != "Relu") << l.op;
    if (l.op != "FusedMatMul") continue;
    ++fused;
    EXPECT_TRUE(l.tactic.starts_with("cuda.")) << l.tactic;
  }
  EXPECT_EQ(fused, 1);
}

TEST(CudaGemmFusedMatMul, FromOptimizerPatterns) {
  FRT_SKIP_WITHOUT_GPU();
  for (const DTypeCase& d : kDTypes) {
    for (const char* approx : {"none", "tanh"}) {
      SCOPED_TRACE(StrCat(DTypeName(d.dtype), " gelu approximate=", approx));
      Graph g;
      Value* x = GraphInput(g, "x", d.dtype, {2, 20, 64});
      Node* mm = AddOp(g, OpKind::kMatMul, "mm", {x, Weight(g, "w", d.dtype, {64, 48}, 70)});
      Node* add = AddOp(g, OpKind::kAdd, "biased",
                        {mm->outputs[0], Weight(g, "bias", d.dtype, {48}, 71)});
      Node* gelu = AddOp(g, OpKind::kGelu, "y", {add->outputs[0]}, 20);
      gelu->attrs.Set("approximate", std::string(approx));
      Finish(g, gelu);
      ExpectOneFusedLayer(ExpectMatchesReference(g, Inputs(g, 72), d.tolerance));
    }
    {
      SCOPED_TRACE(StrCat(DTypeName(d.dtype), " bias + relu + residual"));
      Graph g;
      Value* x = GraphInput(g, "x", d.dtype, {2, 20, 64});
      Value* r = GraphInput(g, "r", d.dtype, {2, 20, 48});
      Node* mm = AddOp(g, OpKind::kMatMul, "mm", {x, Weight(g, "w", d.dtype, {64, 48}, 73)});
      Node* add = AddOp(g, OpKind::kAdd, "biased",
                        {Weight(g, "bias", d.dtype, {48}, 74), mm->outputs[0]});
      Node* res = AddOp(g, OpKind::kAdd, "summed", {add->outputs[0], r});
      Node* relu = AddOp(g, OpKind::kRelu, "y", {res->outputs[0]});
      Finish(g, relu);
      ExpectOneFusedLayer(ExpectMatchesReference(g, Inputs(g, 75), d.tolerance));
    }
  }
}

// The f32 graph built with fp16 / bf16 allowed: lower_precision converts the
// GEMM (Casts at the graph's edges, which other CUDA families provide). The
// inputs' rounding to the low type adds about one rounding to the errors
// above, so the tolerances stay those of the dtype.
TEST(CudaGemmLowered, BiasGeluMatMul) {
  FRT_SKIP_WITHOUT_GPU();
  for (bool bf16 : {false, true}) {
    SCOPED_TRACE(bf16 ? "bf16" : "fp16");
    Graph g;
    Value* x = GraphInput(g, "x", DType::kFloat32, {2, 33, 96});
    Node* mm = AddOp(g, OpKind::kFusedMatMul, "y",
                     {x, Weight(g, "w", DType::kFloat32, {96, 40}, 80),
                      Weight(g, "bias", DType::kFloat32, {40}, 81)},
                     1);
    mm->attrs.Set("activation", std::string("gelu"));
    Finish(g, mm);
    GpuRun run = ExpectMatchesReference(g, Inputs(g, 82), bf16 ? 3e-2 : 5e-3,
                                        GpuOptions{.fp16 = !bf16, .bf16 = bf16});
    bool found = false;
    for (const LayerInfo& l : run.layers) {
      if (l.op != "FusedMatMul") continue;
      found = true;
      EXPECT_EQ(l.tactic, "cuda.gemm.cublaslt");
      EXPECT_EQ(l.precision, bf16 ? DType::kBFloat16 : DType::kFloat16);
    }
    EXPECT_TRUE(found);
  }
}

}  // namespace
}  // namespace frt
