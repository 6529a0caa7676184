// Registration functions of the pointwise CUDA family's files, called by
// RegisterCudaPointwiseKernels (pointwise.cu). Internal to the family.
#pragma once

#include "backends/cuda/kernel.h"

namespace frt::cuda_pointwise {

void RegisterUnaryKernels(CudaKernelRegistry& r);   // pointwise.cu: unary ops, Clip, Where
void RegisterBinaryKernels(CudaKernelRegistry& r);  // pointwise_binary.cu
void RegisterCastKernels(CudaKernelRegistry& r);    // pointwise_cast.cu
void RegisterFusedKernels(CudaKernelRegistry& r);   // pointwise_fused.cc: FusedPointwise (NVRTC)

// The tactic name (without "cuda.") of the compiled elementwise kernels.
inline constexpr char kElementwiseTactic[] = "pointwise";

}  // namespace frt::cuda_pointwise
