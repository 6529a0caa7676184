// CUDA LayerNormalization (output 0 only) and RMSNormalization, and the norm
// family's registration (softmaxes: norm_softmax.cu).
//
// Both view X as [rows, cols] with cols the product of the normalized dims
// [axis, rank). Row kernel: a warp (rows up to 32 * vec * 8 elements) or a
// block of 256 / 1024 threads per row keeps the whole row in registers as
// fp32, so statistics are exact two-pass ones (mean, then the mean of squared
// deviations) without re-reading memory: one read and one write of X. Loads
// and stores are 16-byte vectors when cols is a multiple of the vector width
// and every pointer is aligned, else scalar. Rows past 32 elements per thread
// (32768 vectorized, 8192 scalar) use a looping kernel that re-reads the row
// (three reads for LayerNorm, two for RMSNorm; still fp32 two-pass).
// Scale / bias are read as one value per normalized position; a parameter
// that broadcasts inside the normalized dims is first expanded into the
// workspace by a small kernel.
#include "backends/cuda/kernel.h"
#include "backends/cuda/kernel_families.h"
#include "backends/cuda/norm_device.h"
#include "backends/cuda/norm_plan.h"

namespace frt {
namespace cuda_norm {
namespace {

// Launch parameters of the row normalizations.
struct RowNormParams {
  const void* x = nullptr;      // [rows, cols]
  const void* scale = nullptr;  // [cols]
  const void* bias = nullptr;   // [cols], or nullptr (no bias)
  void* y = nullptr;            // [rows, cols]
  int64_t rows = 0;
  int64_t cols = 0;
  float epsilon = 0.f;
  bool rms = false;  // RMSNormalization: no mean subtraction
};

template <class T, int kThreads, int kVec, int kChunks>
__global__ void __launch_bounds__(kThreads == 32 ? 128 : kThreads)
    RowNormKernel(RowNormParams p) {
  constexpr int kRowsPerBlock = kThreads == 32 ? 4 : 1;
  constexpr int kItems = kVec * kChunks;
  __shared__ float smem[kThreads / 32];
  const int tid = threadIdx.x % kThreads;
  const T* x = static_cast<const T*>(p.x);
  const T* scale = static_cast<const T*>(p.scale);
  const T* bias = static_cast<const T*>(p.bias);
  T* y = static_cast<T*>(p.y);
  const float inv_cols = 1.f / static_cast<float>(p.cols);
  // The row is uniform over a warp (kThreads == 32) or over the block.
  for (int64_t row = int64_t{blockIdx.x} * kRowsPerBlock + threadIdx.x / kThreads; row < p.rows;
       row += int64_t{gridDim.x} * kRowsPerBlock) {
    const T* xr = x + row * p.cols;
    float v[kItems];
#pragma unroll
    for (int c = 0; c < kChunks; ++c) {
      // With kVec > 1 the host guarantees cols % kVec == 0: a chunk is all in or all out.
      const int64_t col = (int64_t{c} * kThreads + tid) * kVec;
      if (col < p.cols) {
        LoadVec<T, kVec>(xr + col, v + c * kVec);
      } else {
#pragma unroll
        for (int j = 0; j < kVec; ++j) v[c * kVec + j] = 0.f;
      }
    }
    float mean = 0.f;
    if (!p.rms) {
      float s = 0.f;
#pragma unroll
      for (int i = 0; i < kItems; ++i) s += v[i];  // padding is 0
      mean = RowReduce<kThreads>(s, SumOp(), 0.f, smem) * inv_cols;
    }
    float sq = 0.f;
#pragma unroll
    for (int c = 0; c < kChunks; ++c) {
      const int64_t col = (int64_t{c} * kThreads + tid) * kVec;
      if (col < p.cols) {
#pragma unroll
        for (int j = 0; j < kVec; ++j) {
          float d = v[c * kVec + j] - mean;
          sq += d * d;
        }
      }
    }
    const float rstd = rsqrtf(RowReduce<kThreads>(sq, SumOp(), 0.f, smem) * inv_cols + p.epsilon);
    T* yr = y + row * p.cols;
#pragma unroll
    for (int c = 0; c < kChunks; ++c) {
      const int64_t col = (int64_t{c} * kThreads + tid) * kVec;
      if (col < p.cols) {
        float sc[kVec], bi[kVec], out[kVec];
        LoadVec<T, kVec>(scale + col, sc);
        if (bias != nullptr) {
          LoadVec<T, kVec>(bias + col, bi);
        } else {
#pragma unroll
          for (int j = 0; j < kVec; ++j) bi[j] = 0.f;
        }
#pragma unroll
        for (int j = 0; j < kVec; ++j) out[j] = (v[c * kVec + j] - mean) * rstd * sc[j] + bi[j];
        StoreVec<T, kVec>(yr + col, out);
      }
    }
  }
}

// Any row length: one block of kLoopThreads per row, re-reading the row.
constexpr int kLoopThreads = 512;

template <class T>
__global__ void __launch_bounds__(kLoopThreads) RowNormLoopKernel(RowNormParams p) {
  __shared__ float smem[kLoopThreads / 32];
  const T* x = static_cast<const T*>(p.x);
  const T* scale = static_cast<const T*>(p.scale);
  const T* bias = static_cast<const T*>(p.bias);
  T* y = static_cast<T*>(p.y);
  const float inv_cols = 1.f / static_cast<float>(p.cols);
  for (int64_t row = blockIdx.x; row < p.rows; row += gridDim.x) {
    const T* xr = x + row * p.cols;
    float mean = 0.f;
    if (!p.rms) {
      float s = 0.f;
      for (int64_t c = threadIdx.x; c < p.cols; c += kLoopThreads) s += ToF32(xr[c]);
      mean = BlockReduce<kLoopThreads>(s, SumOp(), 0.f, smem) * inv_cols;
    }
    float sq = 0.f;
    for (int64_t c = threadIdx.x; c < p.cols; c += kLoopThreads) {
      float d = ToF32(xr[c]) - mean;
      sq += d * d;
    }
    const float rstd =
        rsqrtf(BlockReduce<kLoopThreads>(sq, SumOp(), 0.f, smem) * inv_cols + p.epsilon);
    T* yr = y + row * p.cols;
    for (int64_t c = threadIdx.x; c < p.cols; c += kLoopThreads) {
      float b = bias != nullptr ? ToF32(bias[c]) : 0.f;
      yr[c] = FromF32<T>((ToF32(xr[c]) - mean) * rstd * ToF32(scale[c]) + b);
    }
  }
}

// Expands a parameter broadcast inside the normalized dims into one value per position.
struct ExpandParams {
  const void* src = nullptr;  // the parameter tensor
  void* dst = nullptr;        // [n]: dense over the normalized dims
  int64_t n = 0;
  int rank = 0;                    // normalized dims
  int64_t dims[kMaxRank] = {};     // the normalized dims of X
  int64_t strides[kMaxRank] = {};  // src strides over them (0: broadcast)
};

template <class T>
__global__ void ExpandParamKernel(ExpandParams p) {
  const T* src = static_cast<const T*>(p.src);
  T* dst = static_cast<T*>(p.dst);
  for (int64_t i = int64_t{blockIdx.x} * blockDim.x + threadIdx.x; i < p.n;
       i += int64_t{gridDim.x} * blockDim.x) {
    dst[i] = src[BroadcastOffset(i, p.rank, p.dims, p.strides)];
  }
}

template <class T>
void LaunchRowNorm(const RowNormParams& p, int vec, cudaStream_t stream) {
  RowConfig cfg = ChooseRowConfig(p.cols, vec);
  auto launch = [&]<int kThreads, int kVec, int kChunks>() {
    constexpr int kRowsPerBlock = kThreads == 32 ? 4 : 1;
    RowNormKernel<T, kThreads, kVec, kChunks>
        <<<GridFor(p.rows, kRowsPerBlock), kThreads * kRowsPerBlock, 0, stream>>>(p);
  };
  constexpr int kV = static_cast<int>(16 / sizeof(T));
  bool done = false;
  if (!cfg.fallback()) {
    done = cfg.vec == kV ? DispatchRowConfig<kV>(cfg.threads, cfg.chunks, launch)
                         : DispatchRowConfig<1>(cfg.threads, cfg.chunks, launch);
  }
  if (!done) RowNormLoopKernel<T><<<GridFor(p.rows, 1), kLoopThreads, 0, stream>>>(p);
}

// The parameter input `i` as a dense [cols] device pointer: its own memory,
// or an expanded copy at `workspace` (advanced past it).
Result<const void*> DenseParam(CudaKernelContext& ctx, size_t i, size_t axis, std::byte*& workspace,
                               std::byte* workspace_end) {
  const DeviceTensor& x = ctx.input(0);
  const DeviceTensor& prm = ctx.input(i);
  ParamLayout layout = ClassifyParam(prm.dims, x.dims, axis);
  if (layout == ParamLayout::kDense) return static_cast<const void*>(prm.data);
  if (layout == ParamLayout::kUnsupported) {
    return ctx.Error(StatusCode::kUnsupported, "input ", i, " has shape ", DimsToString(prm.dims),
                     ", which is not constant over the dims before axis ", axis, " of X ",
                     DimsToString(x.dims),
                     " (only per-normalized-position parameters are supported)");
  }
  size_t norm_rank = x.dims.size() - axis;
  if (norm_rank > static_cast<size_t>(kMaxRank)) {
    return ctx.Error(StatusCode::kUnsupported, "input ", i, " broadcasts over ", norm_rank,
                     " normalized dims; at most ", kMaxRank, " are supported");
  }
  ExpandParams e;
  e.src = prm.data;
  e.rank = static_cast<int>(norm_rank);
  e.n = 1;
  Dims strides = ParamStridesOverNormDims(prm.dims, x.dims, axis);
  for (size_t d = 0; d < norm_rank; ++d) {
    e.dims[d] = x.dims[axis + d];
    e.strides[d] = strides[d];
    e.n *= e.dims[d];
  }
  size_t bytes = (static_cast<size_t>(e.n) * DTypeSize(prm.dtype) + 255) / 256 * 256;
  if (workspace + bytes > workspace_end) {
    return ctx.Error(StatusCode::kResourceExhausted, "expanding input ", i, " needs ", bytes,
                     " bytes of workspace; ", workspace_end - workspace, " are left");
  }
  e.dst = workspace;
  workspace += bytes;
  VisitFloatType(prm.dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    ExpandParamKernel<T><<<GridFor(e.n, 256), 256, 0, ctx.stream()>>>(e);
  });
  return static_cast<const void*>(e.dst);
}

Status RunRowNorm(CudaKernelContext& ctx, bool rms) {
  const DeviceTensor& x = ctx.input(0);
  DeviceTensor& y = ctx.output(0);
  auto axis = NormalizeAxis(ctx.attrs().GetInt("axis", -1), static_cast<int64_t>(x.dims.size()));
  if (!axis.ok()) return ctx.Error(StatusCode::kOutOfRange, axis.status().message());
  size_t a = static_cast<size_t>(*axis);
  RowNormParams p;
  p.rows = 1;
  p.cols = 1;
  for (size_t d = 0; d < x.dims.size(); ++d) (d < a ? p.rows : p.cols) *= x.dims[d];
  if (p.rows == 0 || p.cols == 0) return Status::Ok();
  if (y.dtype != x.dtype || ctx.input(1).dtype != x.dtype) {
    return ctx.Error(StatusCode::kUnsupported, "X, scale and Y must share one dtype; given ",
                     DTypeName(x.dtype), ", ", DTypeName(ctx.input(1).dtype), ", ",
                     DTypeName(y.dtype));
  }
  auto* ws = static_cast<std::byte*>(ctx.resources().workspace);
  std::byte* ws_end = ws + ctx.resources().workspace_size;
  FRT_ASSIGN_OR_RETURN(p.scale, DenseParam(ctx, 1, a, ws, ws_end));
  if (!rms && ctx.has_input(2)) {
    FRT_ASSIGN_OR_RETURN(p.bias, DenseParam(ctx, 2, a, ws, ws_end));
  }
  p.x = x.data;
  p.y = y.data;
  p.epsilon = ctx.attrs().GetFloat("epsilon", 1e-5f);
  p.rms = rms;
  int vec = VectorWidth(p.cols, DTypeSize(x.dtype), {p.x, p.y, p.scale, p.bias});
  bool ok = VisitFloatType(x.dtype, [&](auto tag) {
    LaunchRowNorm<typename decltype(tag)::type>(p, vec, ctx.stream());
  });
  if (!ok) return ctx.Error(StatusCode::kUnsupported, "dtype ", DTypeName(x.dtype));
  return ctx.LaunchStatus();
}

// Shared build-time checks: float dtypes, known rank, parameters over the normalized dims.
std::string SupportsRowNorm(const Node& node, size_t num_params) {
  std::string why = RequireDTypes(node, {DType::kFloat32, DType::kFloat16, DType::kBFloat16});
  if (!why.empty()) return why;
  const Value* x = node.inputs[0];
  for (size_t i = 1; i <= num_params; ++i) {
    if (node.has_input(i) && node.inputs[i]->dtype != x->dtype) {
      return StrCat("input ", i, " has dtype ", DTypeName(node.inputs[i]->dtype), " but X has ",
                    DTypeName(x->dtype));
    }
  }
  if (!x->shape) return "the rank of X is unknown";
  auto axis = NormalizeAxis(node.attrs.GetInt("axis", -1), static_cast<int64_t>(x->shape->rank()));
  if (!axis.ok()) return axis.status().message();
  for (size_t i = 1; i <= num_params; ++i) {
    if (!node.has_input(i) || !node.inputs[i]->shape) continue;
    why = CheckParamShape(*node.inputs[i]->shape, *x->shape, static_cast<size_t>(*axis),
                          i == 1 ? "scale" : "bias");
    if (!why.empty()) return why;
  }
  return "";
}

std::string SupportsLayerNorm(const Node& node) {
  if (node.has_output(1) || node.has_output(2)) {
    return "outputs Mean and InvStdDev are not supported (only Y)";
  }
  return SupportsRowNorm(node, 2);
}

std::string SupportsRmsNorm(const Node& node) { return SupportsRowNorm(node, 1); }

Status RunLayerNorm(CudaKernelContext& ctx) { return RunRowNorm(ctx, false); }
Status RunRmsNorm(CudaKernelContext& ctx) { return RunRowNorm(ctx, true); }

}  // namespace
}  // namespace cuda_norm

void RegisterCudaNormKernels(CudaKernelRegistry& r) {
  r.Register({"layernorm.rows", OpKind::kLayerNormalization, cuda_norm::SupportsLayerNorm,
              cuda_norm::RunLayerNorm, nullptr});
  r.Register({"rmsnorm.rows", OpKind::kRMSNormalization, cuda_norm::SupportsRmsNorm,
              cuda_norm::RunRmsNorm, nullptr});
  RegisterCudaSoftmaxKernels(r);
}

}  // namespace frt
