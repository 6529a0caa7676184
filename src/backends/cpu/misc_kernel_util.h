// Internal to the misc op family's CPU kernels (src/backends/cpu/misc*.cc):
// the per-concept registration functions called by RegisterMiscKernels, and
// the conversions the kernels share: every kernel reads its inputs as double,
// computes in double and rounds once when storing.
#pragma once

#include <cmath>
#include <limits>
#include <type_traits>
#include <vector>

#include "backends/cpu/kernel.h"
#include "backends/cpu/tensor_values.h"

namespace frt {

void RegisterMiscResizeKernels(CpuKernelRegistry& r);      // misc_resize.cc
void RegisterMiscGridSampleKernels(CpuKernelRegistry& r);  // misc_grid_sample.cc
void RegisterMiscRnnKernels(CpuKernelRegistry& r);         // misc_rnn.cc
void RegisterMiscDetectionKernels(CpuKernelRegistry& r);   // misc_detection.cc
void RegisterMiscSignalKernels(CpuKernelRegistry& r);      // misc_signal.cc (windows, mel)
void RegisterMiscDftKernels(CpuKernelRegistry& r);         // misc_dft.cc (DFT, STFT)

// Fails with kResourceExhausted when `elements` doubles of scratch memory
// would exceed the host allocation limit (hostile shapes).
Status MiscCheckScratch(const KernelContext& ctx, int64_t elements);

// double -> T as numpy's saturate_cast does after a float computation:
// integers round half to even and clamp to their range, floats round once.
template <class T>
T MiscSaturate(double v) {
  if constexpr (std::is_same_v<T, bool>) {
    return v != 0.0;
  } else if constexpr (std::is_integral_v<T>) {
    if (std::isnan(v)) return T(0);
    const double r = std::nearbyint(v);
    if (r <= static_cast<double>(std::numeric_limits<T>::lowest())) {
      return std::numeric_limits<T>::lowest();
    }
    if (r >= static_cast<double>(std::numeric_limits<T>::max())) {
      return std::numeric_limits<T>::max();
    }
    return static_cast<T>(r);
  } else {
    return FromDouble<T>(v);
  }
}

// double -> T as numpy's astype does: integers truncate toward zero (clamped
// here instead of undefined behaviour), floats round once.
template <class T>
T MiscCast(double v) {
  if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
    return MiscSaturate<T>(std::trunc(v));
  } else {
    return MiscSaturate<T>(v);
  }
}

// Writes `v` into `t` (same element count) with MiscSaturate.
void MiscStoreSaturated(Tensor& t, const std::vector<double>& v);
// Writes `v` into `t` (same element count) with MiscCast.
void MiscStoreCast(Tensor& t, const std::vector<double>& v);

}  // namespace frt
