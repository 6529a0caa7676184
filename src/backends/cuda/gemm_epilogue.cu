// The GEMM family's post-pass kernel (gemm_epilogue.h): a grid-stride loop
// over Y, one element per thread and step, float arithmetic, rounded once.
// Addend offsets come from decomposing the flat index over Y's collapsed dims
// (rank 1 or 2 in the common bias/residual cases, see CollapseBroadcast).
// With no addend (the erf-GELU-after-bias-epilogue case) a vectorized variant
// moves 16 bytes per thread and step when Y is 16-byte aligned.
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <algorithm>

#include "backends/cuda/float_convert.cuh"
#include "backends/cuda/gemm_epilogue.h"

namespace frt {
namespace {

using cuda_convert::FromFloat;
using cuda_convert::ToFloat;

// The activations of ir/activation.h, as backends/cpu/activation.h computes
// them (in float here; accurate expf/erff/tanhf, not the fast intrinsics).
__device__ __forceinline__ float Activate(const ActivationSpec& a, float x) {
  switch (a.kind) {
    case Activation::kNone:
      return x;
    case Activation::kRelu:
      return x > 0.0f ? x : 0.0f;
    case Activation::kClip:
      if (x < a.alpha) x = a.alpha;
      if (x > a.beta) x = a.beta;
      return x;
    case Activation::kLeakyRelu:
      return x >= 0.0f ? x : a.alpha * x;
    case Activation::kGelu:
      return 0.5f * x * (1.0f + erff(x * 0.70710678118654752f));
    case Activation::kGeluTanh:
      return 0.5f * x * (1.0f + tanhf(0.79788456080286536f * (x + 0.044715f * x * x * x)));
    case Activation::kSilu:
      return x / (1.0f + expf(-x));  // expf(-x) = inf for very negative x gives -0, not NaN
    case Activation::kSigmoid:
      return 1.0f / (1.0f + expf(-x));
    case Activation::kTanh:
      return tanhf(x);
  }
  return x;
}

template <class T, int kAddends>
__global__ void GemmEpilogueKernel(GemmEpilogueParams p) {
  T* y = static_cast<T*>(p.y);
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
       i < p.num_elements; i += step) {
    float v = ToFloat(y[i]);
    if constexpr (kAddends > 0) {
      int64_t offset[kAddends] = {};
      int64_t rest = i;
      for (int d = p.rank - 1; d >= 0; --d) {
        const int64_t idx = rest % p.dims[d];
        rest /= p.dims[d];
#pragma unroll
        for (int a = 0; a < kAddends; ++a) offset[a] += idx * p.strides[a][d];
      }
#pragma unroll
      for (int a = 0; a < kAddends; ++a) {
        v += p.scales[a] * ToFloat(static_cast<const T*>(p.addends[a])[offset[a]]);
      }
    }
    y[i] = FromFloat<T>(Activate(p.activation, v));
  }
}

// Activation only, 16 bytes per access. Precondition: y 16-byte aligned and
// num_elements a multiple of kVec.
template <class T>
__global__ void GemmActivationVecKernel(GemmEpilogueParams p) {
  constexpr int kVec = 16 / sizeof(T);
  struct alignas(16) Pack {
    T v[kVec];
  };
  Pack* y = static_cast<Pack*>(p.y);
  const int64_t packs = p.num_elements / kVec;
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < packs;
       i += step) {
    Pack pk = y[i];
#pragma unroll
    for (int j = 0; j < kVec; ++j) pk.v[j] = FromFloat<T>(Activate(p.activation, ToFloat(pk.v[j])));
    y[i] = pk;
  }
}

template <class T>
cudaError_t Launch(const GemmEpilogueParams& p, int sm_count, cudaStream_t stream) {
  constexpr int kThreads = 256;
  constexpr int kVec = 16 / sizeof(T);
  const bool vec = p.num_addends == 0 && reinterpret_cast<uintptr_t>(p.y) % 16 == 0 &&
                   p.num_elements % kVec == 0;
  const int64_t work = vec ? p.num_elements / kVec : p.num_elements;
  // Enough blocks to fill every SM several times; the grid-stride loop covers the rest.
  const int64_t max_blocks = static_cast<int64_t>(std::max(sm_count, 1)) * 32;
  const int64_t wanted = (work + kThreads - 1) / kThreads;
  const int blocks = static_cast<int>(std::max<int64_t>(1, std::min(max_blocks, wanted)));
  if (vec) {
    GemmActivationVecKernel<T><<<blocks, kThreads, 0, stream>>>(p);
  } else if (p.num_addends == 0) {
    GemmEpilogueKernel<T, 0><<<blocks, kThreads, 0, stream>>>(p);
  } else if (p.num_addends == 1) {
    GemmEpilogueKernel<T, 1><<<blocks, kThreads, 0, stream>>>(p);
  } else {
    GemmEpilogueKernel<T, 2><<<blocks, kThreads, 0, stream>>>(p);
  }
  return cudaGetLastError();
}

}  // namespace

cudaError_t LaunchGemmEpilogue(DType dtype, const GemmEpilogueParams& params, int sm_count,
                               cudaStream_t stream) {
  if (params.num_elements <= 0) return cudaSuccess;
  if (params.num_addends < 0 || params.num_addends > kGemmEpilogueMaxAddends ||
      params.rank < 1 || params.rank > kGemmEpilogueMaxRank) {
    return cudaErrorInvalidValue;
  }
  switch (dtype) {
    case DType::kFloat32:
      return Launch<float>(params, sm_count, stream);
    case DType::kFloat16:
      return Launch<__half>(params, sm_count, stream);
    case DType::kBFloat16:
      return Launch<__nv_bfloat16>(params, sm_count, stream);
    default:
      return cudaErrorInvalidValue;
  }
}

}  // namespace frt
