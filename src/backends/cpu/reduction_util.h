// Shared by the reduction family's CPU reference kernels
// (src/backends/cpu/reduction*.cc): their registration parts, the
// [outer, axis, inner] view of a tensor around one axis, and safe stores of
// double results into any storage type.
#pragma once

#include <cmath>
#include <limits>
#include <type_traits>

#include "backends/cpu/kernel.h"

namespace frt {

// Registration parts, called by RegisterReductionKernels (reduction.cc).
void RegisterReductionReduceKernels(CpuKernelRegistry& r);   // reduction.cc
void RegisterReductionScanKernels(CpuKernelRegistry& r);     // reduction_scan.cc
void RegisterReductionNormKernels(CpuKernelRegistry& r);     // reduction_norm.cc
void RegisterReductionSoftmaxKernels(CpuKernelRegistry& r);  // reduction_softmax.cc
void RegisterReductionLossKernels(CpuKernelRegistry& r);     // reduction_loss.cc

namespace reduction {

// A row-major tensor seen as [outer, len, inner] around `axis`: element
// (o, k, i) sits at (o * len + k) * inner + i.
struct AxisSplit {
  int64_t outer = 1;
  int64_t len = 1;
  int64_t inner = 1;
  int64_t At(int64_t o, int64_t k, int64_t i) const { return (o * len + k) * inner + i; }
};

inline AxisSplit SplitAt(const Dims& dims, size_t axis) {
  AxisSplit s;
  for (size_t d = 0; d < dims.size(); ++d) {
    if (d < axis) s.outer *= dims[d];
    else if (d == axis) s.len = dims[d];
    else s.inner *= dims[d];
  }
  return s;
}

// Output i with the given dtype and dims: the executor's pre-allocated tensor
// when it fits, else a new one. nullptr when the node lists fewer outputs (an
// absent trailing optional output); an absent output before a present one
// still gets a tensor, which the executor then drops.
inline Result<Tensor*> OutputTensor(KernelContext& ctx, size_t i, DType dtype, const Dims& dims) {
  if (i >= ctx.num_outputs()) return static_cast<Tensor*>(nullptr);
  Tensor& t = ctx.output(i);
  if (t.defined() && t.dtype() == dtype && t.dims() == dims) return &t;
  return ctx.AllocateOutput(i, dtype, dims);
}

// Stores a double into storage type T, rounding once. Integer targets
// truncate toward zero like numpy's astype; NaN becomes 0 and values beyond
// the type's range saturate, so hostile values cannot trigger undefined
// behaviour.
template <class T>
T StoreDouble(double v) {
  if constexpr (std::is_same_v<T, bool>) {
    return v != 0.0;
  } else if constexpr (std::is_integral_v<T>) {
    if (std::isnan(v)) return T(0);
    if (v <= static_cast<double>(std::numeric_limits<T>::lowest())) {
      return std::numeric_limits<T>::lowest();
    }
    if (v >= static_cast<double>(std::numeric_limits<T>::max())) {
      return std::numeric_limits<T>::max();
    }
    return static_cast<T>(v);
  } else {
    return FromDouble<T>(v);
  }
}

template <class T>
bool IsNan(T v) {
  if constexpr (std::is_integral_v<T>) {
    (void)v;
    return false;
  } else {
    return std::isnan(ToDouble(v));
  }
}

// Three-way comparison in T's own precision (exact for 64-bit integers);
// NaN counts as larger than every number and equal to itself, as numpy's
// sort orders it.
template <class T>
int Compare(T a, T b) {
  bool na = IsNan(a);
  bool nb = IsNan(b);
  if (na || nb) return na == nb ? 0 : (na ? 1 : -1);
  if constexpr (kIsSmallFloat<T>) {
    float fa = a.ToFloat();
    float fb = b.ToFloat();
    return fa < fb ? -1 : (fa > fb ? 1 : 0);
  } else {
    return a < b ? -1 : (a > b ? 1 : 0);
  }
}

}  // namespace reduction
}  // namespace frt
