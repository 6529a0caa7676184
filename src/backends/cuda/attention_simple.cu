// The fallback MultiHeadAttention kernel: simple and obviously correct, for
// f32 and for head dims the flash kernel does not take (any D, Dv <= 256).
//
// One warp per query row (b, h, i), four rows per 128-thread block. The warp
// keeps q (fp32) in shared memory and walks the keys 32 at a time: lane l
// computes the score of key j0 + l (a dot product over D read from global
// memory), the warp updates the running max and sum of the online softmax
// (all fp32), then the probabilities are broadcast one key at a time and each
// lane accumulates its output columns c = lane + 32*r from the value rows
// (coalesced). Keys past the causal limit are never read; a row with no live
// key writes zeros.
#include <cmath>
#include <cstdint>

#include "backends/cuda/attention_device.h"

namespace frt {
namespace {

using attention_detail::ApplyMask;
using attention_detail::FromFloat;
using attention_detail::MaskRow;
using attention_detail::ToFloat;

constexpr int kRowsPerBlock = 4;
constexpr int kMaxColsPerLane = kSimpleAttentionMaxHeadDim / 32;

__device__ __forceinline__ float WarpMax(float x) {
  for (int o = 16; o > 0; o /= 2) x = fmaxf(x, __shfl_xor_sync(0xffffffffu, x, o));
  return x;
}

__device__ __forceinline__ float WarpSum(float x) {
  for (int o = 16; o > 0; o /= 2) x += __shfl_xor_sync(0xffffffffu, x, o);
  return x;
}

template <class T>
__global__ void __launch_bounds__(kRowsPerBlock * 32) SimpleAttentionKernel(AttentionParams p) {
  __shared__ float q_shared[kRowsPerBlock][kSimpleAttentionMaxHeadDim];
  const int warp = static_cast<int>(threadIdx.x) / 32;
  const int lane = static_cast<int>(threadIdx.x) % 32;
  const int64_t row = static_cast<int64_t>(blockIdx.x) * kRowsPerBlock + warp;
  if (row >= static_cast<int64_t>(p.batch) * p.heads * p.seq_q) return;  // whole warp leaves
  const int64_t i = row % p.seq_q;
  const int64_t h = (row / p.seq_q) % p.heads;
  const int64_t b = row / p.seq_q / p.heads;
  const int d = p.head_dim, dv = p.value_dim;

  const T* q = static_cast<const T*>(p.q) + (b * p.seq_q + i) * p.q_row_stride + p.q_offset + h * d;
  float* qs = q_shared[warp];
  for (int c = lane; c < d; c += 32) qs[c] = ToFloat(q[c]);
  __syncwarp();

  const T* k_head = static_cast<const T*>(p.k) + b * p.seq_k * p.k_row_stride + p.k_offset + h * d;
  const T* v_head = static_cast<const T*>(p.v) + b * p.seq_k * p.v_row_stride + p.v_offset + h * dv;
  const void* mask_row = MaskRow<T>(p, b, h, i);
  // Keys j >= key_end are never live.
  int64_t key_end = p.seq_k;
  if (p.causal) key_end = min(key_end, i + p.seq_k - p.seq_q + 1);

  float acc[kMaxColsPerLane];
#pragma unroll
  for (int r = 0; r < kMaxColsPerLane; ++r) acc[r] = 0.0f;
  float running_max = -INFINITY, running_sum = 0.0f;

  for (int64_t j0 = 0; j0 < key_end; j0 += 32) {
    const int64_t j = j0 + lane;
    float s = -INFINITY;
    if (j < key_end) {
      float add = 0.0f;
      if (ApplyMask<T>(p, mask_row, i, j, 1.0f, &add)) {
        const T* kr = k_head + j * p.k_row_stride;
        float dot = 0.0f;
        for (int c = 0; c < d; ++c) dot = fmaf(qs[c], ToFloat(kr[c]), dot);
        s = dot * p.scale + add;
      }
    }
    const float new_max = fmaxf(running_max, WarpMax(s));
    // With every score so far -inf, subtract 0 instead of -inf (no NaN).
    const float ref = new_max == -INFINITY ? 0.0f : new_max;
    const float alpha = expf(running_max - ref);
    const float prob = expf(s - ref);
    running_sum = running_sum * alpha + WarpSum(prob);
    running_max = new_max;
#pragma unroll
    for (int r = 0; r < kMaxColsPerLane; ++r) acc[r] *= alpha;
    for (int jj = 0; jj < 32; ++jj) {
      const float pj = __shfl_sync(0xffffffffu, prob, jj);
      if (pj == 0.0f) continue;  // uniform over the warp; also covers keys past key_end
      const T* vr = v_head + (j0 + jj) * p.v_row_stride;
#pragma unroll
      for (int r = 0; r < kMaxColsPerLane; ++r) {
        const int c = lane + 32 * r;
        if (c < dv) acc[r] = fmaf(pj, ToFloat(vr[c]), acc[r]);
      }
    }
  }
  const float inv = running_sum > 0.0f ? 1.0f / running_sum : 0.0f;
  T* out = static_cast<T*>(p.out) + (b * p.seq_q + i) * p.heads * dv + h * dv;
#pragma unroll
  for (int r = 0; r < kMaxColsPerLane; ++r) {
    const int c = lane + 32 * r;
    if (c < dv) out[c] = FromFloat<T>(acc[r] * inv);
  }
}

template <class T>
Status Launch(const AttentionParams& p, cudaStream_t stream) {
  const int64_t rows = static_cast<int64_t>(p.batch) * p.heads * p.seq_q;
  if (rows == 0) return Status::Ok();
  const int64_t blocks = (rows + kRowsPerBlock - 1) / kRowsPerBlock;
  if (blocks > 0x7fffffff) {
    return MakeError(StatusCode::kInvalidArgument, "attention needs ", blocks,
                     " blocks, more than a grid holds");
  }
  SimpleAttentionKernel<T><<<static_cast<unsigned>(blocks), kRowsPerBlock * 32, 0, stream>>>(p);
  const cudaError_t e = cudaGetLastError();
  if (e != cudaSuccess) {
    return MakeError(StatusCode::kInternal,
                     "simple attention kernel launch failed: ", cudaGetErrorName(e));
  }
  return Status::Ok();
}

}  // namespace

Status LaunchSimpleAttention(const AttentionParams& p, cudaStream_t stream) {
  switch (p.dtype) {
    case DType::kFloat32:
      return Launch<float>(p, stream);
    case DType::kFloat16:
      return Launch<__half>(p, stream);
    case DType::kBFloat16:
      return Launch<__nv_bfloat16>(p, stream);
    default:
      return MakeError(StatusCode::kInvalidArgument, "simple attention: dtype ", DTypeName(p.dtype),
                       " is not f32, f16 or bf16");
  }
}

}  // namespace frt
