// CPU reference kernels of the nn family (convolution, pooling, matrix
// products, quantization): the registration entry point and the buffer
// conversions shared by the concept files (nn_conv.cc, nn_pool.cc,
// nn_matmul.cc, nn_einsum.cc, nn_quant.cc).
#include <limits>

#include "backends/cpu/kernel_families.h"
#include "backends/cpu/nn_kernels.h"

namespace frt {
namespace nn {

std::vector<int64_t> ToInt64s(const Tensor& t) {
  std::vector<int64_t> v(static_cast<size_t>(t.num_elements()));
  VisitDType(t.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    if constexpr (std::is_integral_v<T>) {
      const T* p = t.data<T>();
      for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<int64_t>(p[i]);
    }
  });
  return v;
}

void StoreDoubles(const std::vector<double>& v, Tensor& out) {
  VisitDType(out.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    T* p = out.data<T>();
    for (size_t i = 0; i < v.size(); ++i) {
      if constexpr (std::is_same_v<T, bool>) {
        p[i] = v[i] != 0;
      } else if constexpr (std::is_integral_v<T>) {
        // Out-of-range doubles are undefined in a cast: clamp first.
        double lo = static_cast<double>(std::numeric_limits<T>::lowest());
        double hi = static_cast<double>(std::numeric_limits<T>::max());
        double x = std::isnan(v[i]) ? 0.0 : v[i] < lo ? lo : v[i] >= hi ? hi : v[i];
        p[i] = x >= hi ? std::numeric_limits<T>::max() : static_cast<T>(x);
      } else {
        p[i] = FromDouble<T>(v[i]);
      }
    }
  });
}

void StoreInt64s(const std::vector<int64_t>& v, Tensor& out) {
  VisitDType(out.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    T* p = out.data<T>();
    for (size_t i = 0; i < v.size(); ++i) {
      if constexpr (std::is_integral_v<T>) {
        p[i] = static_cast<T>(v[i]);
      } else {
        p[i] = FromDouble<T>(static_cast<double>(v[i]));
      }
    }
  });
}

void IntegerRange(DType t, double* lo, double* hi) {
  VisitDType(t, [&](auto tag) {
    using T = typename decltype(tag)::type;
    if constexpr (std::is_integral_v<T>) {
      *lo = static_cast<double>(std::numeric_limits<T>::lowest());
      *hi = static_cast<double>(std::numeric_limits<T>::max());
    } else {
      *lo = -std::numeric_limits<double>::infinity();
      *hi = std::numeric_limits<double>::infinity();
    }
  });
}

}  // namespace nn

void RegisterNnKernels(CpuKernelRegistry& r) {
  nn::RegisterNnConvKernels(r);
  nn::RegisterNnPoolKernels(r);
  nn::RegisterNnMatMulKernels(r);
  nn::RegisterNnEinsumKernels(r);
  nn::RegisterNnQuantKernels(r);
}

}  // namespace frt
