// One registration function per CUDA kernel family (one file or a few each);
// CudaKernelRegistry::Global() calls them all, in this order.
#pragma once

namespace frt {

class CudaKernelRegistry;

void RegisterCudaGemmKernels(CudaKernelRegistry& r);       // gemm*.cc: MatMul, Gemm, FusedMatMul
void RegisterCudaNormKernels(CudaKernelRegistry& r);       // norm*.cu: LayerNorm, RMSNorm, Softmax
void RegisterCudaAttentionKernels(CudaKernelRegistry& r);  // attention*.cu: MultiHeadAttention
void RegisterCudaPointwiseKernels(CudaKernelRegistry& r);  // pointwise*.cu: unary, binary, Cast, FusedPointwise
void RegisterCudaTensorKernels(CudaKernelRegistry& r);     // tensor*.cu: reshape, transpose, gather, concat, slice
void RegisterCudaReductionKernels(CudaKernelRegistry& r);  // reduction*.cu: Reduce*, ArgMax
void RegisterCudaConvKernels(CudaKernelRegistry& r);       // conv*.cc: Conv, FusedConv, pooling (cuDNN)

}  // namespace frt
