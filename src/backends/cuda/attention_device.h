// Device helpers shared by the MultiHeadAttention kernels: dtype conversions
// to and from fp32, and the mask / causal rule of one score element. Included
// by attention_*.cu only (device code: not for .cc files).
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cstdint>

#include "backends/cuda/float_convert.cuh"
#include "backends/cuda/attention_params.h"

namespace frt::attention_detail {

using cuda_convert::FromFloat;
using cuda_convert::ToFloat;

// Applies the causal rule and the mask to query i, key j (both in range).
// Returns false when the key is masked out; otherwise adds a float mask's
// value times `mask_mul` to *score. `mask_row` points at the mask element of
// (b, h, i, 0): stride p.mask_stride[3] per key.
template <class T>
__device__ __forceinline__ bool ApplyMask(const AttentionParams& p, const void* mask_row, int64_t i,
                                          int64_t j, float mask_mul, float* score) {
  if (p.causal && j > i + p.seq_k - p.seq_q) return false;
  if (p.mask_kind == AttentionMaskKind::kBool) {
    return static_cast<const uint8_t*>(mask_row)[j * p.mask_stride[3]] != 0;
  }
  if (p.mask_kind == AttentionMaskKind::kFloat) {
    *score += mask_mul * ToFloat(static_cast<const T*>(mask_row)[j * p.mask_stride[3]]);
  }
  return true;
}

// The mask element of (b, h, i, 0), or nullptr without a mask. Only valid
// (dereferenced) for i < Sq.
template <class T>
__device__ __forceinline__ const void* MaskRow(const AttentionParams& p, int64_t b, int64_t h,
                                               int64_t i) {
  if (p.mask_kind == AttentionMaskKind::kNone) return nullptr;
  const int64_t off = b * p.mask_stride[0] + h * p.mask_stride[1] + i * p.mask_stride[2];
  if (p.mask_kind == AttentionMaskKind::kBool) return static_cast<const uint8_t*>(p.mask) + off;
  return static_cast<const T*>(p.mask) + off;
}

}  // namespace frt::attention_detail
