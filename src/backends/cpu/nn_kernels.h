// Internal to the nn family's CPU reference kernels (src/backends/cpu/nn*.cc):
// the per-concept registration functions called by RegisterNnKernels and
// small conversions between tensors and plain double / int64 buffers, which
// let each kernel run one straightforward loop whatever the element type.
// Everything here lives in namespace frt::nn so that family-local names cannot
// collide at link time with other families' helpers.
#pragma once

#include <cmath>
#include <vector>

#include "backends/cpu/kernel.h"
#include "backends/cpu/tensor_values.h"

namespace frt::nn {

using frt::ToDoubles;  // backends/cpu/tensor_values.h

void RegisterNnConvKernels(CpuKernelRegistry& r);    // nn_conv.cc
void RegisterNnPoolKernels(CpuKernelRegistry& r);    // nn_pool.cc
void RegisterNnMatMulKernels(CpuKernelRegistry& r);  // nn_matmul.cc
void RegisterNnEinsumKernels(CpuKernelRegistry& r);  // nn_einsum.cc
void RegisterNnQuantKernels(CpuKernelRegistry& r);   // nn_quant.cc

// Float cores shared with the fused kernels (fused_epilogue.cc), in double:
// numpy.matmul of a [.., M, K] and b [.., K, N] (batch dims broadcast; sets
// *out_dims), and ONNX Conv of the node's inputs X, W, B (optional) into
// y's dims (y only gives the shape). Errors name the node.
Result<std::vector<double>> MatMulDoubles(const KernelContext& ctx, const Dims& a_dims,
                                          const std::vector<double>& a, const Dims& b_dims,
                                          const std::vector<double>& b, Dims* out_dims);
Result<std::vector<double>> ConvDoubles(const KernelContext& ctx, const Tensor& y);

// Every element of an integer tensor as int64 (exact).
std::vector<int64_t> ToInt64s(const Tensor& t);
// Stores `v` into `out` (same element count), rounding once to out's dtype.
// Integer outputs take the value truncated toward zero (callers round first).
void StoreDoubles(const std::vector<double>& v, Tensor& out);
// Stores exact integers into an integer tensor (wrapping like a C++ cast).
void StoreInt64s(const std::vector<int64_t>& v, Tensor& out);

// Round half to even (the ONNX quantizers' rounding) in the default
// floating-point environment.
inline double RoundHalfEven(double v) { return std::nearbyint(v); }

// The [min, max] range of an integer dtype as doubles.
void IntegerRange(DType t, double* lo, double* hi);

}  // namespace frt::nn
