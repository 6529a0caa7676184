// Device-side accumulators of the CUDA Reduce* kernels (reduction.cu): how a
// value enters an accumulator, how two accumulators combine (associative and
// commutative, so any tree order works) and how the result is finished.
// Everything is fp32; ReduceLogSumExp keeps a (max, scaled sum) pair so exp
// never overflows. Max / Min propagate NaN like the CPU reference
// (numpy's maximum.reduce). Include from .cu files only.
#pragma once

#include <cmath>
#include <type_traits>

#include "backends/cuda/norm_device.h"

namespace frt::cuda_reduce {

// What an element contributes and how contributions combine.
enum class Accum { kSum, kSumSquare, kAbsSum, kMax, kMin, kProd, kLogSumExp };
// What is applied to the combined value (ReduceMean / L2 / LogSum share the
// sum accumulators).
enum class Finish : int { kNone, kMean, kSqrt, kLog };

__device__ __forceinline__ float NanMax(float a, float b) {
  return (a != a || b != b) ? NAN : fmaxf(a, b);
}
__device__ __forceinline__ float NanMin(float a, float b) {
  return (a != a || b != b) ? NAN : fminf(a, b);
}

__device__ __forceinline__ float ShflXor(float v, int o) {
  return __shfl_xor_sync(0xffffffffu, v, o);
}
__device__ __forceinline__ float2 ShflXor(float2 v, int o) {
  return make_float2(__shfl_xor_sync(0xffffffffu, v.x, o), __shfl_xor_sync(0xffffffffu, v.y, o));
}

template <Accum kA>
struct Reducer {
  // ReduceLogSumExp: (running max, sum of exp(x - max)); others: one float.
  using Acc = std::conditional_t<kA == Accum::kLogSumExp, float2, float>;

  static __device__ __forceinline__ Acc Identity() {
    if constexpr (kA == Accum::kLogSumExp) return make_float2(-INFINITY, 0.f);
    else if constexpr (kA == Accum::kMax) return -INFINITY;
    else if constexpr (kA == Accum::kMin) return INFINITY;
    else if constexpr (kA == Accum::kProd) return 1.f;
    else return 0.f;
  }
  static __device__ __forceinline__ Acc Load(float x) {
    if constexpr (kA == Accum::kLogSumExp) return make_float2(x, 1.f);
    else if constexpr (kA == Accum::kSumSquare) return x * x;
    else if constexpr (kA == Accum::kAbsSum) return fabsf(x);
    else return x;
  }
  static __device__ __forceinline__ Acc Combine(Acc a, Acc b) {
    if constexpr (kA == Accum::kLogSumExp) {
      float m = NanMax(a.x, b.x);
      // A non-finite maximum is the result itself (Finalize); otherwise both
      // parts have a finite or -inf maximum, and a -inf part adds nothing.
      if (!isfinite(m)) return make_float2(m, 0.f);
      float s = (a.x == -INFINITY ? 0.f : a.y * expf(a.x - m)) +
                (b.x == -INFINITY ? 0.f : b.y * expf(b.x - m));
      return make_float2(m, s);
    } else if constexpr (kA == Accum::kMax) {
      return NanMax(a, b);
    } else if constexpr (kA == Accum::kMin) {
      return NanMin(a, b);
    } else if constexpr (kA == Accum::kProd) {
      return a * b;
    } else {
      return a + b;
    }
  }
  static __device__ __forceinline__ float Finalize(Acc a, Finish f, float count) {
    if constexpr (kA == Accum::kLogSumExp) {
      return isfinite(a.x) ? a.x + logf(a.y) : a.x;
    } else {
      switch (f) {
        case Finish::kMean: return a / count;  // an empty reduction gives 0 / 0 = NaN
        case Finish::kSqrt: return sqrtf(a);
        case Finish::kLog: return logf(a);
        default: return a;
      }
    }
  }

  static __device__ __forceinline__ Acc WarpAll(Acc v) {
#pragma unroll
    for (int o = 16; o > 0; o /= 2) v = Combine(v, ShflXor(v, o));
    return v;
  }
  // Every thread of a kThreads block gets the result; smem holds kThreads / 32 Accs.
  template <int kThreads>
  static __device__ __forceinline__ Acc BlockAll(Acc v, Acc* smem) {
    constexpr int kWarps = kThreads / 32;
    v = WarpAll(v);
    if constexpr (kWarps == 1) {
      return v;
    } else {
      const int lane = threadIdx.x % 32;
      __syncthreads();
      if (lane == 0) smem[threadIdx.x / 32] = v;
      __syncthreads();
      v = lane < kWarps ? smem[lane] : Identity();
      return WarpAll(v);
    }
  }
};

}  // namespace frt::cuda_reduce
