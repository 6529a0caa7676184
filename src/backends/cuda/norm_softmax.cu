// CUDA Softmax, LogSoftmax (opset 13: one axis) and FusedSoftmax
// (Softmax(scale * X + mask), mask broadcast onto X), fp32 math inside.
//
// X is viewed as [outer, len, inner] around the axis.
// - Last axis (inner == 1): a row kernel keeps the row in registers (a warp,
//   or a block of 256 / 1024 threads per row; see ChooseRowConfig), takes the
//   row maximum, then the sum of exp(s - max), then writes: one read and one
//   write, 16-byte vectors when aligned. Rows too long for registers use a
//   looping block kernel that reads the row three times.
// - Other axes: one thread per (outer, inner) column, consecutive threads on
//   consecutive inner positions (coalesced); an online max/sum pass, then the
//   write pass.
// The mask offset of an element is a broadcast offset over X's dims (computed
// once per row / column; along the axis it advances by the mask's stride). A
// mask constant along the axis only matters when it is not finite.
// As on the CPU, a row whose scores are all -inf (or that holds NaN or +inf)
// gives NaN: exp(-inf - -inf) is NaN and nothing special-cases it.
#include <cmath>

#include "backends/cpu/broadcast.h"
#include "backends/cuda/kernel.h"
#include "backends/cuda/norm_device.h"
#include "backends/cuda/norm_plan.h"

namespace frt {
namespace cuda_norm {
namespace {

struct SoftmaxParams {
  const void* x = nullptr;     // [outer, len, inner]
  const void* mask = nullptr;  // broadcast onto X through mask_strides; nullptr: none
  void* y = nullptr;           // [outer, len, inner]
  int64_t outer = 1;
  int64_t len = 1;
  int64_t inner = 1;
  float scale = 1.f;  // s = scale * x + mask
  bool log = false;   // LogSoftmax
  int rank = 0;                          // of X (mask offsets)
  int axis = 0;                          // of X
  int64_t dims[kMaxRank] = {};           // X's dims
  int64_t mask_strides[kMaxRank] = {};   // mask strides over X's dims, 0 where broadcast
};

// The mask's offset of element `linear` of X.
__device__ __forceinline__ int64_t MaskOffset(const SoftmaxParams& p, int64_t linear) {
  return BroadcastOffset(linear, p.rank, p.dims, p.mask_strides);
}

// A mask value shared by a whole row (constant along the axis) shifts every
// score alike, which softmax ignores: add nothing, rather than let fp32 lose
// the scores' low bits to a large shift such as -10000. A non-finite value
// still makes the row NaN, as on the CPU (-inf everywhere, inf - inf, NaN).
__device__ __forceinline__ float RowConstantMask(float m) { return isfinite(m) ? 0.f : m; }

template <class T, int kThreads, int kVec, int kChunks>
__global__ void __launch_bounds__(kThreads == 32 ? 128 : kThreads)
    SoftmaxRowKernel(SoftmaxParams p) {
  constexpr int kRowsPerBlock = kThreads == 32 ? 4 : 1;
  constexpr int kItems = kVec * kChunks;
  __shared__ float smem[kThreads / 32];
  const int tid = threadIdx.x % kThreads;
  const T* x = static_cast<const T*>(p.x);
  const T* mask = static_cast<const T*>(p.mask);
  T* y = static_cast<T*>(p.y);
  const int64_t cols = p.len;
  const int64_t mask_col_stride = p.rank > 0 ? p.mask_strides[p.rank - 1] : 0;
  for (int64_t row = int64_t{blockIdx.x} * kRowsPerBlock + threadIdx.x / kThreads; row < p.outer;
       row += int64_t{gridDim.x} * kRowsPerBlock) {
    const T* xr = x + row * cols;
    const int64_t mrow = mask != nullptr ? MaskOffset(p, row * cols) : 0;
    float v[kItems];
    float m = -INFINITY;
#pragma unroll
    for (int c = 0; c < kChunks; ++c) {
      const int64_t col = (int64_t{c} * kThreads + tid) * kVec;
      float* vc = v + c * kVec;
      if (col < cols) {  // kVec > 1: cols % kVec == 0, so the chunk is all in
        LoadVec<T, kVec>(xr + col, vc);
        if (mask != nullptr) {
          float mk[kVec];
          if (mask_col_stride != 0) {  // stride 1: aligned like X when kVec > 1
            LoadVec<T, kVec>(mask + mrow + col, mk);
          } else {
            const float mv = RowConstantMask(ToF32(mask[mrow]));
#pragma unroll
            for (int j = 0; j < kVec; ++j) mk[j] = mv;
          }
#pragma unroll
          for (int j = 0; j < kVec; ++j) vc[j] = p.scale * vc[j] + mk[j];
        } else if (p.scale != 1.f) {
#pragma unroll
          for (int j = 0; j < kVec; ++j) vc[j] *= p.scale;
        }
#pragma unroll
        for (int j = 0; j < kVec; ++j) m = fmaxf(m, vc[j]);
      }
    }
    m = RowReduce<kThreads>(m, MaxOp(), -INFINITY, smem);
    float sum = 0.f;
#pragma unroll
    for (int c = 0; c < kChunks; ++c) {
      const int64_t col = (int64_t{c} * kThreads + tid) * kVec;
      if (col < cols) {
#pragma unroll
        for (int j = 0; j < kVec; ++j) {
          float e = expf(v[c * kVec + j] - m);
          sum += e;
          if (!p.log) v[c * kVec + j] = e;
        }
      }
    }
    sum = RowReduce<kThreads>(sum, SumOp(), 0.f, smem);
    // Softmax: e / sum; LogSoftmax: (s - max) - log(sum).
    const float k = p.log ? logf(sum) : 1.f / sum;
    T* yr = y + row * cols;
#pragma unroll
    for (int c = 0; c < kChunks; ++c) {
      const int64_t col = (int64_t{c} * kThreads + tid) * kVec;
      if (col < cols) {
        float out[kVec];
#pragma unroll
        for (int j = 0; j < kVec; ++j) {
          float e = v[c * kVec + j];
          out[j] = p.log ? (e - m) - k : e * k;
        }
        StoreVec<T, kVec>(yr + col, out);
      }
    }
  }
}

constexpr int kLoopThreads = 512;

// Any row length (last axis): one block per row, three reads of the row.
template <class T>
__global__ void __launch_bounds__(kLoopThreads) SoftmaxRowLoopKernel(SoftmaxParams p) {
  __shared__ float smem[kLoopThreads / 32];
  const T* x = static_cast<const T*>(p.x);
  const T* mask = static_cast<const T*>(p.mask);
  T* y = static_cast<T*>(p.y);
  const int64_t cols = p.len;
  const int64_t mcs = p.rank > 0 ? p.mask_strides[p.rank - 1] : 0;
  for (int64_t row = blockIdx.x; row < p.outer; row += gridDim.x) {
    const T* xr = x + row * cols;
    const int64_t mrow = mask != nullptr ? MaskOffset(p, row * cols) : 0;
    const float mconst = mask != nullptr && mcs == 0 ? RowConstantMask(ToF32(mask[mrow])) : 0.f;
    auto score = [&](int64_t c) {
      float s = p.scale * ToF32(xr[c]);
      if (mask == nullptr) return s;
      return s + (mcs == 0 ? mconst : ToF32(mask[mrow + c]));
    };
    float m = -INFINITY;
    for (int64_t c = threadIdx.x; c < cols; c += kLoopThreads) m = fmaxf(m, score(c));
    m = BlockReduce<kLoopThreads>(m, MaxOp(), -INFINITY, smem);
    float sum = 0.f;
    for (int64_t c = threadIdx.x; c < cols; c += kLoopThreads) sum += expf(score(c) - m);
    sum = BlockReduce<kLoopThreads>(sum, SumOp(), 0.f, smem);
    const float k = p.log ? logf(sum) : 1.f / sum;
    T* yr = y + row * cols;
    for (int64_t c = threadIdx.x; c < cols; c += kLoopThreads) {
      float d = score(c) - m;
      yr[c] = FromF32<T>(p.log ? d - k : expf(d) * k);
    }
  }
}

// A non-last axis: one thread per (outer, inner) column.
template <class T>
__global__ void __launch_bounds__(256) SoftmaxStridedKernel(SoftmaxParams p) {
  const T* x = static_cast<const T*>(p.x);
  const T* mask = static_cast<const T*>(p.mask);
  T* y = static_cast<T*>(p.y);
  const int64_t columns = p.outer * p.inner;
  const int64_t mstep = mask != nullptr ? p.mask_strides[p.axis] : 0;
  for (int64_t t = int64_t{blockIdx.x} * blockDim.x + threadIdx.x; t < columns;
       t += int64_t{gridDim.x} * blockDim.x) {
    const int64_t o = t / p.inner;
    const int64_t base = o * p.len * p.inner + (t - o * p.inner);
    const int64_t mbase = mask != nullptr ? MaskOffset(p, base) : 0;
    const float mconst =
        mask != nullptr && mstep == 0 ? RowConstantMask(ToF32(mask[mbase])) : 0.f;
    auto score = [&](int64_t k) {
      float s = p.scale * ToF32(x[base + k * p.inner]);
      if (mask == nullptr) return s;
      return s + (mstep == 0 ? mconst : ToF32(mask[mbase + k * mstep]));
    };
    // Online maximum and rescaled sum. -inf terms add nothing (and would give
    // -inf - -inf = NaN); a NaN term or a second +inf poisons the sum, and so
    // does a first +inf, as exp(inf - inf) does on the CPU.
    float m = -INFINITY, sum = 0.f;
    for (int64_t k = 0; k < p.len; ++k) {
      float s = score(k);
      if (s > m) {
        sum = s == INFINITY ? NAN : sum * expf(m - s) + 1.f;
        m = s;
      } else if (s != -INFINITY) {
        sum += expf(s - m);
      }
    }
    const float kk = p.log ? logf(sum) : 1.f / sum;
    for (int64_t k = 0; k < p.len; ++k) {
      float d = score(k) - m;
      y[base + k * p.inner] = FromF32<T>(p.log ? d - kk : expf(d) * kk);
    }
  }
}

template <class T>
void LaunchSoftmax(const SoftmaxParams& p, int vec, cudaStream_t stream) {
  if (p.inner != 1) {
    SoftmaxStridedKernel<T><<<GridFor(p.outer * p.inner, 256), 256, 0, stream>>>(p);
    return;
  }
  RowConfig cfg = ChooseRowConfig(p.len, vec);
  auto launch = [&]<int kThreads, int kVec, int kChunks>() {
    constexpr int kRowsPerBlock = kThreads == 32 ? 4 : 1;
    SoftmaxRowKernel<T, kThreads, kVec, kChunks>
        <<<GridFor(p.outer, kRowsPerBlock), kThreads * kRowsPerBlock, 0, stream>>>(p);
  };
  constexpr int kV = static_cast<int>(16 / sizeof(T));
  bool done = false;
  if (!cfg.fallback()) {
    done = cfg.vec == kV ? DispatchRowConfig<kV>(cfg.threads, cfg.chunks, launch)
                         : DispatchRowConfig<1>(cfg.threads, cfg.chunks, launch);
  }
  if (!done) SoftmaxRowLoopKernel<T><<<GridFor(p.outer, 1), kLoopThreads, 0, stream>>>(p);
}

Status RunSoftmaxCommon(CudaKernelContext& ctx, bool log, bool fused) {
  const DeviceTensor& x = ctx.input(0);
  DeviceTensor& y = ctx.output(0);
  const int64_t rank = static_cast<int64_t>(x.dims.size());
  auto axis = NormalizeAxis(ctx.attrs().GetInt("axis", -1), rank);
  if (!axis.ok()) return ctx.Error(StatusCode::kOutOfRange, axis.status().message());
  if (y.dtype != x.dtype) {
    return ctx.Error(StatusCode::kUnsupported, "Y has dtype ", DTypeName(y.dtype), " but X has ",
                     DTypeName(x.dtype));
  }
  SoftmaxParams p;
  for (int64_t d = 0; d < rank; ++d) {
    int64_t n = x.dims[static_cast<size_t>(d)];
    if (d < *axis) p.outer *= n;
    else if (d == *axis) p.len = n;
    else p.inner *= n;
  }
  if (p.outer * p.len * p.inner == 0) return Status::Ok();
  p.x = x.data;
  p.y = y.data;
  p.log = log;
  p.axis = static_cast<int>(*axis);
  p.scale = fused ? ctx.attrs().GetFloat("scale", 1.0f) : 1.0f;
  const void* mask_vec_ptr = nullptr;  // checked for alignment when read as vectors
  if (fused && ctx.has_input(1)) {
    const DeviceTensor& mask = ctx.input(1);
    auto b = BroadcastDims(x.dims, mask.dims);
    if (!b.ok() || *b != x.dims || mask.dtype != x.dtype) {
      return ctx.Error(StatusCode::kInvalidArgument, "mask ", DTypeName(mask.dtype),
                       DimsToString(mask.dims), " does not broadcast to X ", DTypeName(x.dtype),
                       DimsToString(x.dims));
    }
    if (rank > kMaxRank) {
      return ctx.Error(StatusCode::kUnsupported, "X has rank ", rank, "; a mask needs rank <= ",
                       kMaxRank);
    }
    Dims strides = BroadcastStrides(mask.dims, x.dims);
    p.mask = mask.data;
    p.rank = static_cast<int>(rank);
    for (int64_t d = 0; d < rank; ++d) {
      p.dims[d] = x.dims[static_cast<size_t>(d)];
      p.mask_strides[d] = strides[static_cast<size_t>(d)];
    }
    if (p.mask_strides[rank - 1] != 0) mask_vec_ptr = mask.data;
  }
  int vec = VectorWidth(p.len, DTypeSize(x.dtype), {p.x, p.y, mask_vec_ptr});
  bool ok = VisitFloatType(x.dtype, [&](auto tag) {
    LaunchSoftmax<typename decltype(tag)::type>(p, vec, ctx.stream());
  });
  if (!ok) return ctx.Error(StatusCode::kUnsupported, "dtype ", DTypeName(x.dtype));
  return ctx.LaunchStatus();
}

std::string SupportsSoftmax(const Node& node) {
  std::string why = RequireDTypes(node, {DType::kFloat32, DType::kFloat16, DType::kBFloat16});
  if (!why.empty()) return why;
  if (node.op == OpKind::kFusedSoftmax && node.has_input(1)) {
    const Value* x = node.inputs[0];
    if (node.inputs[1]->dtype != x->dtype) return "mask and X differ in dtype";
    if (x->shape && x->shape->rank() > static_cast<size_t>(kMaxRank)) {
      return StrCat("X has rank ", x->shape->rank(), "; with a mask at most ", kMaxRank,
                    " is supported");
    }
  }
  return "";
}

Status RunSoftmax(CudaKernelContext& ctx) { return RunSoftmaxCommon(ctx, false, false); }
Status RunLogSoftmax(CudaKernelContext& ctx) { return RunSoftmaxCommon(ctx, true, false); }
Status RunFusedSoftmax(CudaKernelContext& ctx) { return RunSoftmaxCommon(ctx, false, true); }

}  // namespace
}  // namespace cuda_norm

void RegisterCudaSoftmaxKernels(CudaKernelRegistry& r) {
  r.Register({"softmax.rows", OpKind::kSoftmax, cuda_norm::SupportsSoftmax, cuda_norm::RunSoftmax,
              nullptr});
  r.Register({"logsoftmax.rows", OpKind::kLogSoftmax, cuda_norm::SupportsSoftmax,
              cuda_norm::RunLogSoftmax, nullptr});
  r.Register({"fused_softmax.rows", OpKind::kFusedSoftmax, cuda_norm::SupportsSoftmax,
              cuda_norm::RunFusedSoftmax, nullptr});
}

}  // namespace frt
