// The GEMM family's post-pass: what cuBLASLt's epilogues cannot do, applied
// in place to the GEMM's output Y (gemm_plan.h decides what runs here):
//   Y = act(Y + scale[0] * addend[0] + scale[1] * addend[1])
// with each addend broadcast to Y through element strides (0 on broadcast
// dims), computed in float and rounded once to Y's dtype. Used for erf GELU,
// SiLU, clip and the other activations of ir/activation.h, for biases and
// residuals that must broadcast, and for K == 0 (Y zero-filled first).
//
// Thread safety: enqueues on the given stream only; no host state.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "core/dtype.h"
#include "ir/activation.h"

namespace frt {

inline constexpr int kGemmEpilogueMaxRank = 8;
inline constexpr int kGemmEpilogueMaxAddends = 2;

struct GemmEpilogueParams {
  void* y = nullptr;  // [dims...] dense row-major, read and written in place
  const void* addends[kGemmEpilogueMaxAddends] = {};  // nullptr when unused; Y's dtype
  float scales[kGemmEpilogueMaxAddends] = {1.0f, 1.0f};
  int64_t strides[kGemmEpilogueMaxAddends][kGemmEpilogueMaxRank] = {};  // elements, per Y dim
  int64_t dims[kGemmEpilogueMaxRank] = {};                              // Y's (collapsed) dims
  int rank = 1;                                                         // 1..kGemmEpilogueMaxRank
  int num_addends = 0;
  int64_t num_elements = 0;
  ActivationSpec activation;
};

// Enqueues the post-pass for Y of `dtype` (f32, f16 or bf16) on `stream`;
// `sm_count` sizes the grid. Returns the launch error (cudaGetLastError).
cudaError_t LaunchGemmEpilogue(DType dtype, const GemmEpilogueParams& params, int sm_count,
                               cudaStream_t stream);

}  // namespace frt
