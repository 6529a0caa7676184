// Device helpers shared by the norm, softmax and reduction kernels (norm*.cu,
// reduction*.cu): float conversion of f32/f16/bf16 storage, vector loads and
// stores, warp / block reductions in fp32, broadcast offsets, and the host
// side dtype visitor, row-config dispatcher and grid sizing. Include from .cu
// files only.
//
// Contracts: LoadVec/StoreVec with kVec > 1 need a pointer aligned to
// kVec * sizeof(T) bytes (the host checks alignment before picking a
// vectorized kernel). The reductions must be reached by every thread of the
// warp (WarpReduce) or of the block (BlockReduce), with uniform control flow.
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cstdint>
#include <type_traits>

#include "core/tensor.h"

namespace frt::cuda_norm {

inline constexpr int kMaxRank = 8;  // dims/strides arrays in kernel params

template <class T>
__device__ __forceinline__ float ToF32(T v) {
  if constexpr (std::is_same_v<T, float>) {
    return v;
  } else if constexpr (std::is_same_v<T, __half>) {
    return __half2float(v);
  } else {
    return __bfloat162float(v);
  }
}

template <class T>
__device__ __forceinline__ T FromF32(float v) {
  if constexpr (std::is_same_v<T, float>) {
    return v;
  } else if constexpr (std::is_same_v<T, __half>) {
    return __float2half_rn(v);
  } else {
    return __float2bfloat16_rn(v);
  }
}

// kVec elements of T moved as one aligned memory access.
template <class T, int kVec>
struct alignas(sizeof(T) * kVec) Packed {
  T v[kVec];
};

template <class T, int kVec>
__device__ __forceinline__ void LoadVec(const T* p, float* out) {
  Packed<T, kVec> pk = *reinterpret_cast<const Packed<T, kVec>*>(p);
#pragma unroll
  for (int j = 0; j < kVec; ++j) out[j] = ToF32(pk.v[j]);
}

template <class T, int kVec>
__device__ __forceinline__ void StoreVec(T* p, const float* in) {
  Packed<T, kVec> pk;
#pragma unroll
  for (int j = 0; j < kVec; ++j) pk.v[j] = FromF32<T>(in[j]);
  *reinterpret_cast<Packed<T, kVec>*>(p) = pk;
}

struct SumOp {
  __device__ __forceinline__ float operator()(float a, float b) const { return a + b; }
};
// fmaxf ignores a NaN operand; softmax relies on that only for the
// row maximum, where a NaN input poisons the sum anyway (as on the CPU).
struct MaxOp {
  __device__ __forceinline__ float operator()(float a, float b) const { return fmaxf(a, b); }
};

// Butterfly reduction over groups of kWidth lanes (kWidth a power of two <= 32);
// every lane of the group gets the result. All 32 lanes must call it.
template <int kWidth, class F>
__device__ __forceinline__ float WarpReduce(float v, F f) {
#pragma unroll
  for (int o = kWidth / 2; o > 0; o /= 2) v = f(v, __shfl_xor_sync(0xffffffffu, v, o));
  return v;
}

// Reduction over a block of kThreads (a multiple of 32, <= 1024) threads;
// every thread gets the result. `smem` holds kThreads / 32 floats. Safe to
// call repeatedly with the same `smem` (the leading barrier keeps a previous
// call's readers ahead of this call's writers).
template <int kThreads, class F>
__device__ __forceinline__ float BlockReduce(float v, F f, float identity, float* smem) {
  constexpr int kWarps = kThreads / 32;
  v = WarpReduce<32>(v, f);
  if constexpr (kWarps == 1) {
    return v;
  } else {
    const int lane = threadIdx.x % 32;
    const int warp = threadIdx.x / 32;
    __syncthreads();
    if (lane == 0) smem[warp] = v;
    __syncthreads();
    v = lane < kWarps ? smem[lane] : identity;
    return WarpReduce<32>(v, f);
  }
}

// Reduction over the kThreads threads that share one row: a warp
// (kThreads == 32, no barrier) or the whole block.
template <int kThreads, class F>
__device__ __forceinline__ float RowReduce(float v, F f, float identity, float* smem) {
  if constexpr (kThreads == 32) {
    return WarpReduce<32>(v, f);
  } else {
    return BlockReduce<kThreads>(v, f, identity, smem);
  }
}

// Offset of element `linear` (row-major over dims[0..rank)) in a tensor
// broadcast onto those dims with `strides` (0 on broadcast dims).
__device__ __forceinline__ int64_t BroadcastOffset(int64_t linear, int rank, const int64_t* dims,
                                                   const int64_t* strides) {
  int64_t off = 0;
  for (int d = rank - 1; d >= 0; --d) {
    int64_t n = dims[d];
    int64_t i = linear % n;
    linear /= n;
    off += i * strides[d];
  }
  return off;
}

}  // namespace frt::cuda_norm

namespace frt::cuda_norm {

template <class T>
struct TypeTag {
  using type = T;
};

// Calls f(TypeTag<T>{}) with T the storage type of a float dtype (f32, f16,
// bf16); false for any other dtype.
template <class F>
bool VisitFloatType(DType t, F&& f) {
  switch (t) {
    case DType::kFloat32: f(TypeTag<float>{}); return true;
    case DType::kFloat16: f(TypeTag<__half>{}); return true;
    case DType::kBFloat16: f(TypeTag<__nv_bfloat16>{}); return true;
    default: return false;
  }
}

// Calls launch.template operator()<kThreads, kVec, kChunks>() for the
// instantiated row config equal to `cfg` (see ChooseRowConfig); false when
// `cfg` is not one of them (the caller takes its fallback).
template <int kVec, class L>
bool DispatchRowConfig(int threads, int chunks, L&& launch) {
  bool done = false;
  auto one = [&]<int kThreads, int kChunks>() {
    if constexpr (kVec * kChunks <= 32) {
      if (!done && threads == kThreads && chunks == kChunks) {
        launch.template operator()<kThreads, kVec, kChunks>();
        done = true;
      }
    }
  };
  one.template operator()<32, 1>();
  one.template operator()<32, 2>();
  one.template operator()<32, 4>();
  one.template operator()<32, 8>();
  one.template operator()<256, 1>();
  one.template operator()<256, 2>();
  one.template operator()<256, 4>();
  one.template operator()<256, 8>();
  one.template operator()<1024, 2>();
  one.template operator()<1024, 4>();
  one.template operator()<1024, 8>();
  return done;
}

// Blocks for a grid-stride loop over `units` work items of `per_block` each:
// enough to cover them, capped so the grid stays far below CUDA's 2^31 - 1.
inline unsigned GridFor(int64_t units, int64_t per_block) {
  int64_t blocks = (units + per_block - 1) / per_block;
  if (blocks < 1) blocks = 1;
  if (blocks > (int64_t{1} << 30)) blocks = int64_t{1} << 30;
  return static_cast<unsigned>(blocks);
}

}  // namespace frt::cuda_norm
