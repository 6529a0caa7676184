// cuBLASLt execution of the GEMM family (contract and layout choice in
// gemm_lt.h). A run looks its configuration up in the step's cache; on a
// miss it plans the batching and the epilogue (gemm_plan.h), creates the
// descriptors and asks the heuristic for one algorithm; then it enqueues one
// cublasLtMatmul per planned call and, when needed, the post-pass kernel.
#include "backends/cuda/gemm_lt.h"

#include <cublasLt.h>

#include <map>
#include <memory>

#include "backends/cuda/cuda_util.h"
#include "backends/cuda/gemm_epilogue.h"

namespace frt {
namespace {

constexpr size_t kMaxCachedShapes = 64;  // dynamic shapes: bound the per-step cache

const char* LtStatusName(cublasStatus_t s) {
  switch (s) {
    case CUBLAS_STATUS_SUCCESS: return "CUBLAS_STATUS_SUCCESS";
    case CUBLAS_STATUS_NOT_INITIALIZED: return "CUBLAS_STATUS_NOT_INITIALIZED";
    case CUBLAS_STATUS_ALLOC_FAILED: return "CUBLAS_STATUS_ALLOC_FAILED";
    case CUBLAS_STATUS_INVALID_VALUE: return "CUBLAS_STATUS_INVALID_VALUE";
    case CUBLAS_STATUS_ARCH_MISMATCH: return "CUBLAS_STATUS_ARCH_MISMATCH";
    case CUBLAS_STATUS_MAPPING_ERROR: return "CUBLAS_STATUS_MAPPING_ERROR";
    case CUBLAS_STATUS_EXECUTION_FAILED: return "CUBLAS_STATUS_EXECUTION_FAILED";
    case CUBLAS_STATUS_INTERNAL_ERROR: return "CUBLAS_STATUS_INTERNAL_ERROR";
    case CUBLAS_STATUS_NOT_SUPPORTED: return "CUBLAS_STATUS_NOT_SUPPORTED";
    case CUBLAS_STATUS_LICENSE_ERROR: return "CUBLAS_STATUS_LICENSE_ERROR";
    default: return "unknown cuBLAS status";
  }
}

#define FRT_LT_RETURN_IF_ERROR(ctx, expr)                                                   \
  do {                                                                                      \
    const cublasStatus_t frt_lt_status = (expr);                                            \
    if (frt_lt_status != CUBLAS_STATUS_SUCCESS) {                                           \
      return (ctx).Error(StatusCode::kInternal, "cuBLASLt call ", #expr, " failed: ",       \
                         LtStatusName(frt_lt_status), " (", static_cast<int>(frt_lt_status), \
                         ")");                                                              \
    }                                                                                       \
  } while (0)

cudaDataType_t LtType(DType t) {
  switch (t) {
    case DType::kFloat16: return CUDA_R_16F;
    case DType::kBFloat16: return CUDA_R_16BF;
    default: return CUDA_R_32F;
  }
}

// One cached configuration: the plan and the cuBLASLt objects (owned).
struct LtEntry {
  BatchedGemm gemm;
  EpiloguePlan epilogue;
  CollapsedBroadcast post;  // the post-pass addends' view of Y (when epilogue.needs_post())
  cublasLtMatmulDesc_t op = nullptr;
  cublasLtMatrixLayout_t lt_a = nullptr, lt_b = nullptr, lt_c = nullptr, lt_d = nullptr;
  cublasLtMatmulAlgo_t algo{};

  LtEntry() = default;
  LtEntry(const LtEntry&) = delete;
  LtEntry& operator=(const LtEntry&) = delete;
  ~LtEntry() {
    if (op) cublasLtMatmulDescDestroy(op);
    for (cublasLtMatrixLayout_t l : {lt_a, lt_b, lt_c, lt_d}) {
      if (l) cublasLtMatrixLayoutDestroy(l);
    }
  }
};

struct LtPreference {
  cublasLtMatmulPreference_t p = nullptr;
  ~LtPreference() {
    if (p) cublasLtMatmulPreferenceDestroy(p);
  }
};

struct GemmState {
  std::map<std::vector<int64_t>, std::unique_ptr<LtEntry>> cache;
};

void AppendDims(std::vector<int64_t>& key, const DeviceTensor* t) {
  if (t == nullptr) {
    key.push_back(-1);
    return;
  }
  key.push_back(static_cast<int64_t>(t->dims.size()));
  key.insert(key.end(), t->dims.begin(), t->dims.end());
}

int64_t LowBits(const void* p) {
  return static_cast<int64_t>(reinterpret_cast<uintptr_t>(p) & 255);
}

// Alignment of the matrices one operand contributes to every call.
uint32_t OperandAlignment(const void* base, const std::vector<int64_t>& offsets, int64_t stride,
                          int64_t batch, size_t elem) {
  std::vector<uint64_t> v = {static_cast<uint64_t>(reinterpret_cast<uintptr_t>(base))};
  for (int64_t o : offsets) v.push_back(static_cast<uint64_t>(o) * elem);
  if (batch > 1) v.push_back(static_cast<uint64_t>(stride) * elem);
  return CommonAlignment(v);
}

Status CreateLayout(const CudaKernelContext& ctx, cublasLtMatrixLayout_t* layout, DType dtype,
                    int64_t rows, int64_t cols, int64_t batch, int64_t stride) {
  FRT_LT_RETURN_IF_ERROR(ctx, cublasLtMatrixLayoutCreate(layout, LtType(dtype),
                                                         static_cast<uint64_t>(rows),
                                                         static_cast<uint64_t>(cols), rows));
  if (batch > 1) {
    const int32_t count = static_cast<int32_t>(batch);
    FRT_LT_RETURN_IF_ERROR(ctx, cublasLtMatrixLayoutSetAttribute(
                                    *layout, CUBLASLT_MATRIX_LAYOUT_BATCH_COUNT, &count,
                                    sizeof(count)));
    FRT_LT_RETURN_IF_ERROR(ctx, cublasLtMatrixLayoutSetAttribute(
                                    *layout, CUBLASLT_MATRIX_LAYOUT_STRIDED_BATCH_OFFSET, &stride,
                                    sizeof(stride)));
  }
  return Status::Ok();
}

cublasLtEpilogue_t LtEpilogue(const EpiloguePlan& e) {
  switch (e.gemm_activation) {
    case Activation::kRelu:
      return e.bias_vector ? CUBLASLT_EPILOGUE_RELU_BIAS : CUBLASLT_EPILOGUE_RELU;
    case Activation::kGeluTanh:
      return e.bias_vector ? CUBLASLT_EPILOGUE_GELU_BIAS : CUBLASLT_EPILOGUE_GELU;
    default:
      return e.bias_vector ? CUBLASLT_EPILOGUE_BIAS : CUBLASLT_EPILOGUE_DEFAULT;
  }
}

// Plans the product and, when it runs a GEMM, creates the descriptors and
// picks the algorithm for these pointers' alignments.
Result<std::unique_ptr<LtEntry>> CreateEntry(CudaKernelContext& ctx, const GemmArgs& args,
                                             const DeviceTensor& a, const DeviceTensor& b,
                                             DeviceTensor& y, const DeviceTensor* bias,
                                             const DeviceTensor* residual) {
  auto e = std::make_unique<LtEntry>();
  const std::string what = ctx.node().Describe();
  FRT_ASSIGN_OR_RETURN(e->gemm, PlanBatchedGemm(a.dims, b.dims, args.trans_a, args.trans_b, what));
  const BatchedGemm& g = e->gemm;
  EpilogueInput bias_in, residual_in;
  if (bias) bias_in = {args.bias_input, bias->dims, args.bias_scale};
  if (residual) residual_in = {args.residual_input, residual->dims, 1.0f};
  e->epilogue = PlanEpilogue(y.dims, bias_in, residual_in, args.activation, g.k == 0);
  const EpiloguePlan& ep = e->epilogue;
  if (!g.empty && ep.needs_post()) {
    std::vector<Dims> addends;
    for (const EpiloguePlan::Addend& ad : ep.post_addends) {
      addends.push_back(ctx.input(static_cast<size_t>(ad.input)).dims);
    }
    e->post = CollapseBroadcast(y.dims, addends);
    if (e->post.dims.size() > static_cast<size_t>(kGemmEpilogueMaxRank)) {
      return ctx.Error(StatusCode::kUnsupported, "the bias/residual broadcast to ",
                       DimsToString(y.dims), " needs ", e->post.dims.size(),
                       " dimensions; the epilogue kernel handles at most ", kGemmEpilogueMaxRank);
    }
  }
  if (g.empty || !ep.run_gemm) return e;

  // cuBLASLt's view (gemm_lt.h): its A is our B (N x K after op), its B is our A.
  const DType dt = y.dtype;
  const size_t es = DTypeSize(dt);
  const int64_t lt_a_rows = g.trans_b ? g.k : g.n, lt_a_cols = g.trans_b ? g.n : g.k;
  const int64_t lt_b_rows = g.trans_a ? g.m : g.k, lt_b_cols = g.trans_a ? g.k : g.m;
  FRT_RETURN_IF_ERROR(CreateLayout(ctx, &e->lt_a, dt, lt_a_rows, lt_a_cols, g.batch, g.stride_b));
  FRT_RETURN_IF_ERROR(CreateLayout(ctx, &e->lt_b, dt, lt_b_rows, lt_b_cols, g.batch, g.stride_a));
  FRT_RETURN_IF_ERROR(CreateLayout(ctx, &e->lt_c, dt, g.n, g.m, g.batch, g.stride_y));
  FRT_RETURN_IF_ERROR(CreateLayout(ctx, &e->lt_d, dt, g.n, g.m, g.batch, g.stride_y));

  FRT_LT_RETURN_IF_ERROR(ctx, cublasLtMatmulDescCreate(&e->op, CUBLAS_COMPUTE_32F, CUDA_R_32F));
  const int32_t op_a = g.trans_b ? CUBLAS_OP_T : CUBLAS_OP_N;
  const int32_t op_b = g.trans_a ? CUBLAS_OP_T : CUBLAS_OP_N;
  FRT_LT_RETURN_IF_ERROR(ctx, cublasLtMatmulDescSetAttribute(e->op, CUBLASLT_MATMUL_DESC_TRANSA,
                                                             &op_a, sizeof(op_a)));
  FRT_LT_RETURN_IF_ERROR(ctx, cublasLtMatmulDescSetAttribute(e->op, CUBLASLT_MATMUL_DESC_TRANSB,
                                                             &op_b, sizeof(op_b)));
  const uint32_t epilogue = LtEpilogue(ep);
  FRT_LT_RETURN_IF_ERROR(ctx, cublasLtMatmulDescSetAttribute(
                                  e->op, CUBLASLT_MATMUL_DESC_EPILOGUE, &epilogue,
                                  sizeof(epilogue)));
  if (ep.bias_vector) {
    // The bias is in the output type (cuBLASLt's rule for non-IMMA, non-fp8 kernels); its
    // pointer takes part in the heuristic's alignment choice, so it is set before the query.
    const int32_t bias_type = LtType(dt);
    FRT_LT_RETURN_IF_ERROR(ctx, cublasLtMatmulDescSetAttribute(
                                    e->op, CUBLASLT_MATMUL_DESC_BIAS_DATA_TYPE, &bias_type,
                                    sizeof(bias_type)));
    const void* bias_ptr = bias->data;
    FRT_LT_RETURN_IF_ERROR(ctx, cublasLtMatmulDescSetAttribute(
                                    e->op, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &bias_ptr,
                                    sizeof(bias_ptr)));
  }

  const void* c_base = ep.c_input >= 0 ? ctx.input(static_cast<size_t>(ep.c_input)).data : y.data;
  const uint32_t align_a = OperandAlignment(b.data, g.b_offsets, g.stride_b, g.batch, es);
  const uint32_t align_b = OperandAlignment(a.data, g.a_offsets, g.stride_a, g.batch, es);
  const uint32_t align_c = OperandAlignment(c_base, g.y_offsets, g.stride_y, g.batch, es);
  const uint32_t align_d = OperandAlignment(y.data, g.y_offsets, g.stride_y, g.batch, es);
  LtPreference pref;
  FRT_LT_RETURN_IF_ERROR(ctx, cublasLtMatmulPreferenceCreate(&pref.p));
  const uint64_t workspace = ctx.resources().workspace_size;
  FRT_LT_RETURN_IF_ERROR(ctx, cublasLtMatmulPreferenceSetAttribute(
                                  pref.p, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &workspace,
                                  sizeof(workspace)));
  const std::pair<cublasLtMatmulPreferenceAttributes_t, uint32_t> aligns[] = {
      {CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES, align_a},
      {CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES, align_b},
      {CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES, align_c},
      {CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES, align_d}};
  for (const auto& [attr, value] : aligns) {
    FRT_LT_RETURN_IF_ERROR(ctx, cublasLtMatmulPreferenceSetAttribute(pref.p, attr, &value,
                                                                     sizeof(value)));
  }
  cublasLtMatmulHeuristicResult_t result{};
  int found = 0;
  FRT_LT_RETURN_IF_ERROR(ctx, cublasLtMatmulAlgoGetHeuristic(ctx.resources().cublaslt, e->op,
                                                             e->lt_a, e->lt_b, e->lt_c, e->lt_d,
                                                             pref.p, 1, &result, &found));
  if (found < 1 || result.state != CUBLAS_STATUS_SUCCESS) {
    return ctx.Error(StatusCode::kUnsupported, "cuBLASLt has no algorithm for a ",
                     DTypeName(dt), " GEMM with M=", g.m, " N=", g.n, " K=", g.k,
                     " batch=", g.batch, ", epilogue ", epilogue, ", pointer alignments A ",
                     align_b, " B ", align_a, " C ", align_c, " Y ", align_d, " bytes");
  }
  e->algo = result.algo;
  return e;
}

// Enqueues the post-pass over Y.
Status RunPost(CudaKernelContext& ctx, const LtEntry& e, const GemmArgs& args, DeviceTensor& y) {
  GemmEpilogueParams p;
  p.y = y.data;
  p.rank = static_cast<int>(e.post.dims.size());
  p.num_elements = y.num_elements();
  for (int d = 0; d < p.rank; ++d) p.dims[d] = e.post.dims[static_cast<size_t>(d)];
  p.num_addends = static_cast<int>(e.epilogue.post_addends.size());
  for (int i = 0; i < p.num_addends; ++i) {
    const EpiloguePlan::Addend& ad = e.epilogue.post_addends[static_cast<size_t>(i)];
    p.addends[i] = ctx.input(static_cast<size_t>(ad.input)).data;
    p.scales[i] = ad.scale;
    for (int d = 0; d < p.rank; ++d) {
      p.strides[i][d] = e.post.strides[static_cast<size_t>(i)][static_cast<size_t>(d)];
    }
  }
  if (e.epilogue.post_activation) p.activation = args.activation;
  const cudaError_t err =
      LaunchGemmEpilogue(y.dtype, p, ctx.resources().sm_count, ctx.stream());
  if (err != cudaSuccess) {
    return ctx.Error(StatusCode::kInternal, "epilogue kernel launch failed: ",
                     cudaGetErrorName(err), " (", cudaGetErrorString(err), ")");
  }
  return Status::Ok();
}

}  // namespace

Status RunCublasLtGemm(CudaKernelContext& ctx, const GemmArgs& args) {
  const DeviceTensor& a = ctx.input(0);
  const DeviceTensor& b = ctx.input(1);
  DeviceTensor& y = ctx.output(0);
  const DeviceTensor* bias =
      args.bias_input >= 0 && ctx.has_input(static_cast<size_t>(args.bias_input))
          ? &ctx.input(static_cast<size_t>(args.bias_input))
          : nullptr;
  const DeviceTensor* residual =
      args.residual_input >= 0 && ctx.has_input(static_cast<size_t>(args.residual_input))
          ? &ctx.input(static_cast<size_t>(args.residual_input))
          : nullptr;
  const DeviceTensor* operands[] = {&a, &b, bias, residual};
  for (const DeviceTensor* t : operands) {
    if (t && t->dtype != y.dtype) {
      return ctx.Error(StatusCode::kInvalidArgument, "mixed dtypes: an input is ",
                       DTypeName(t->dtype), " but the output is ", DTypeName(y.dtype));
    }
  }
  if (y.num_elements() == 0) return Status::Ok();

  if (!ctx.state()) ctx.state() = std::make_shared<GemmState>();
  auto& state = *static_cast<GemmState*>(ctx.state().get());
  std::vector<int64_t> key;
  AppendDims(key, &a);
  AppendDims(key, &b);
  AppendDims(key, &y);
  AppendDims(key, bias);
  AppendDims(key, residual);
  const DeviceTensor* pointers[] = {&a, &b, &y, bias, residual};
  for (const DeviceTensor* t : pointers) key.push_back(t ? LowBits(t->data) : -1);
  key.push_back(static_cast<int64_t>(ctx.resources().workspace_size));
  auto it = state.cache.find(key);
  if (it == state.cache.end()) {
    if (state.cache.size() >= kMaxCachedShapes) state.cache.clear();
    FRT_ASSIGN_OR_RETURN(std::unique_ptr<LtEntry> entry,
                         CreateEntry(ctx, args, a, b, y, bias, residual));
    it = state.cache.emplace(std::move(key), std::move(entry)).first;
  }
  const LtEntry& e = *it->second;
  const BatchedGemm& g = e.gemm;
  if (g.empty) return Status::Ok();
  if (y.num_elements() != g.m * g.n * g.batch * g.calls()) {
    return ctx.Error(StatusCode::kInternal, "the output ", DimsToString(y.dims), " has ",
                     y.num_elements(), " elements but the product computes ",
                     g.m * g.n * g.batch * g.calls());
  }

  if (!e.epilogue.run_gemm) {
    FRT_RETURN_IF_ERROR(CudaStatus(cudaMemsetAsync(y.data, 0, y.nbytes(), ctx.stream()),
                                   StrCat(ctx.node().Describe(), ": zero-filling the output")));
  } else {
    if (e.epilogue.bias_vector) {
      // Same alignment as the cached one (the key holds the pointer's low bits).
      const void* bias_ptr = bias->data;
      FRT_LT_RETURN_IF_ERROR(ctx, cublasLtMatmulDescSetAttribute(
                                      e.op, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &bias_ptr,
                                      sizeof(bias_ptr)));
    }
    const size_t es = DTypeSize(y.dtype);
    const float alpha = args.alpha;
    const float beta = e.epilogue.c_input >= 0 ? e.epilogue.beta : 0.0f;
    const auto* a_bytes = static_cast<const char*>(a.data);
    const auto* b_bytes = static_cast<const char*>(b.data);
    auto* y_bytes = static_cast<char*>(y.data);
    const char* c_bytes =
        e.epilogue.c_input >= 0
            ? static_cast<const char*>(ctx.input(static_cast<size_t>(e.epilogue.c_input)).data)
            : y_bytes;
    for (int64_t c = 0; c < g.calls(); ++c) {
      const size_t ci = static_cast<size_t>(c);
      const size_t ya = static_cast<size_t>(g.y_offsets[ci]) * es;
      FRT_LT_RETURN_IF_ERROR(
          ctx, cublasLtMatmul(ctx.resources().cublaslt, e.op, &alpha,
                              b_bytes + static_cast<size_t>(g.b_offsets[ci]) * es, e.lt_a,
                              a_bytes + static_cast<size_t>(g.a_offsets[ci]) * es, e.lt_b, &beta,
                              c_bytes + ya, e.lt_c, y_bytes + ya, e.lt_d, &e.algo,
                              ctx.resources().workspace, ctx.resources().workspace_size,
                              ctx.stream()));
    }
  }
  if (e.epilogue.needs_post()) FRT_RETURN_IF_ERROR(RunPost(ctx, e, args, y));
  return Status::Ok();
}

}  // namespace frt
