// CUDA ArgMax / ArgMin (f32 / f16 / bf16 input, int64 output; keepdims and
// select_last_index). The input is viewed as [outer, len, inner] around the
// axis. A candidate is (value, index); "better" is a total order, so any
// reduction tree picks the same winner as the CPU reference's scan: a NaN
// beats every number (numpy's argmax/argmin), a larger (ArgMax) or smaller
// (ArgMin) number beats others, and ties (equal numbers, or two NaNs) go to
// the lower index, or the higher one with select_last_index.
// - inner == 1: a warp (len <= 1024) or a 256-thread block per row;
// - otherwise: a thread per (outer, inner) column, coalesced along inner.
#include "backends/cuda/kernel.h"
#include "backends/cuda/norm_device.h"

namespace frt {
namespace cuda_reduce {
namespace {

using cuda_norm::GridFor;
using cuda_norm::ToF32;

struct ArgParams {
  const void* x = nullptr;  // [outer, len, inner]
  int64_t* y = nullptr;     // [outer, inner]
  int64_t outer = 1, len = 1, inner = 1;
  bool is_max = true;
  bool last = false;  // select_last_index
};

struct Cand {
  float v;
  int64_t i;  // -1: no candidate yet
};

__device__ __forceinline__ bool Better(const Cand& a, const Cand& b, bool is_max, bool last) {
  if (a.i < 0) return false;
  if (b.i < 0) return true;
  const bool an = a.v != a.v, bn = b.v != b.v;
  if (an != bn) return an;
  if (!an && a.v != b.v) return is_max ? a.v > b.v : a.v < b.v;
  return last ? a.i > b.i : a.i < b.i;
}

__device__ __forceinline__ Cand ShflXor(const Cand& c, int o) {
  Cand r;
  r.v = __shfl_xor_sync(0xffffffffu, c.v, o);
  r.i = __shfl_xor_sync(0xffffffffu, static_cast<long long>(c.i), o);
  return r;
}

__device__ __forceinline__ Cand WarpBest(Cand c, bool is_max, bool last) {
#pragma unroll
  for (int o = 16; o > 0; o /= 2) {
    Cand other = ShflXor(c, o);
    if (Better(other, c, is_max, last)) c = other;
  }
  return c;
}

// inner == 1: kThreads 32 = a warp per row (8 rows per block), else the block.
template <class T, int kThreads>
__global__ void __launch_bounds__(256) ArgRowsKernel(ArgParams p) {
  constexpr int kRowsPerBlock = 256 / kThreads;
  __shared__ Cand smem[kThreads / 32];
  const T* x = static_cast<const T*>(p.x);
  const int tid = threadIdx.x % kThreads;
  for (int64_t row = int64_t{blockIdx.x} * kRowsPerBlock + threadIdx.x / kThreads; row < p.outer;
       row += int64_t{gridDim.x} * kRowsPerBlock) {
    const T* xr = x + row * p.len;
    Cand best{0.f, -1};
    for (int64_t k = tid; k < p.len; k += kThreads) {
      Cand c{ToF32(xr[k]), k};
      if (Better(c, best, p.is_max, p.last)) best = c;
    }
    best = WarpBest(best, p.is_max, p.last);
    if constexpr (kThreads > 32) {
      const int lane = threadIdx.x % 32;
      __syncthreads();
      if (lane == 0) smem[threadIdx.x / 32] = best;
      __syncthreads();
      best = lane < kThreads / 32 ? smem[lane] : Cand{0.f, -1};
      best = WarpBest(best, p.is_max, p.last);
    }
    if (tid == 0) p.y[row] = best.i;
  }
}

template <class T>
__global__ void __launch_bounds__(256) ArgColumnsKernel(ArgParams p) {
  const T* x = static_cast<const T*>(p.x);
  const int64_t columns = p.outer * p.inner;
  for (int64_t t = int64_t{blockIdx.x} * blockDim.x + threadIdx.x; t < columns;
       t += int64_t{gridDim.x} * blockDim.x) {
    const int64_t o = t / p.inner;
    const T* xc = x + o * p.len * p.inner + (t - o * p.inner);
    Cand best{0.f, -1};
    for (int64_t k = 0; k < p.len; ++k) {
      Cand c{ToF32(xc[k * p.inner]), k};
      if (Better(c, best, p.is_max, p.last)) best = c;
    }
    p.y[t] = best.i;
  }
}

Status RunArgReduce(CudaKernelContext& ctx) {
  const DeviceTensor& x = ctx.input(0);
  DeviceTensor& y = ctx.output(0);
  const int64_t rank = static_cast<int64_t>(x.dims.size());
  auto axis = NormalizeAxis(ctx.attrs().GetInt("axis", 0), rank);
  if (!axis.ok()) return ctx.Error(StatusCode::kOutOfRange, axis.status().message());
  ArgParams p;
  for (int64_t d = 0; d < rank; ++d) {
    int64_t n = x.dims[static_cast<size_t>(d)];
    if (d < *axis) p.outer *= n;
    else if (d == *axis) p.len = n;
    else p.inner *= n;
  }
  if (p.outer * p.inner == 0) return Status::Ok();
  if (p.len == 0) {
    return ctx.Error(StatusCode::kInvalidArgument, "input shape ", DimsToString(x.dims),
                     " is empty along axis ", *axis);
  }
  if (y.dtype != DType::kInt64 || y.num_elements() != p.outer * p.inner) {
    return ctx.Error(StatusCode::kInternal, "output ", DTypeName(y.dtype), DimsToString(y.dims),
                     " does not hold ", p.outer * p.inner, " i64 indices");
  }
  p.x = x.data;
  p.y = y.ptr<int64_t>();
  p.is_max = ctx.node().op == OpKind::kArgMax;
  p.last = ctx.attrs().GetInt("select_last_index", 0) != 0;
  cudaStream_t s = ctx.stream();
  bool ok = cuda_norm::VisitFloatType(x.dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    if (p.inner != 1) {
      ArgColumnsKernel<T><<<GridFor(p.outer * p.inner, 256), 256, 0, s>>>(p);
    } else if (p.len <= 1024) {
      ArgRowsKernel<T, 32><<<GridFor(p.outer, 8), 256, 0, s>>>(p);
    } else {
      ArgRowsKernel<T, 256><<<GridFor(p.outer, 1), 256, 0, s>>>(p);
    }
  });
  if (!ok) return ctx.Error(StatusCode::kUnsupported, "dtype ", DTypeName(x.dtype));
  return ctx.LaunchStatus();
}

std::string SupportsArgReduce(const Node& node) {
  if (!IsFloatDType(node.inputs[0]->dtype)) {
    return StrCat("input dtype ", DTypeName(node.inputs[0]->dtype),
                  " (only f32, f16 and bf16 are supported)");
  }
  return "";
}

}  // namespace
}  // namespace cuda_reduce

void RegisterCudaArgReduceKernels(CudaKernelRegistry& r) {
  r.Register({"argreduce", OpKind::kArgMax, cuda_reduce::SupportsArgReduce,
              cuda_reduce::RunArgReduce, nullptr});
  r.Register({"argreduce", OpKind::kArgMin, cuda_reduce::SupportsArgReduce,
              cuda_reduce::RunArgReduce, nullptr});
}

}  // namespace frt
