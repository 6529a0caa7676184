// Internal to the elementwise family's CPU reference kernels
// (src/backends/cpu/elementwise*.cc): per-concept registration functions and
// the building blocks they share: value conversion with ONNX Cast semantics,
// wrap-around integer arithmetic without signed-overflow UB, and a broadcast
// loop over N inputs.
//
// Numerics: floats compute in double and round once on store (ConvertValue),
// integers compute exactly in their own type and wrap like numpy.
#pragma once

#include <array>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>

#include "backends/cpu/broadcast.h"
#include "backends/cpu/kernel.h"

namespace frt::elementwise {

void RegisterUnaryKernels(CpuKernelRegistry& r);   // elementwise.cc
void RegisterBinaryKernels(CpuKernelRegistry& r);  // elementwise_binary.cc
void RegisterNaryKernels(CpuKernelRegistry& r);    // elementwise_nary.cc
void RegisterCastKernels(CpuKernelRegistry& r);    // elementwise_cast.cc

// Integer storage types (bool excluded: it is a logical type here).
template <class T>
inline constexpr bool kIsInt = std::is_integral_v<T> && !std::is_same_v<T, bool>;
template <class T>
inline constexpr bool kIsFp8 = std::is_same_v<T, Float8E4M3FN> || std::is_same_v<T, Float8E5M2>;

// Unsigned type of at least `unsigned int` width, so that the usual integer
// promotions cannot turn unsigned arithmetic into signed (overflowing) int.
template <class T>
using WrapType =
    std::conditional_t<(sizeof(T) < sizeof(unsigned)), unsigned, std::make_unsigned_t<T>>;

template <class T>
T WrapAdd(T a, T b) {
  return static_cast<T>(static_cast<WrapType<T>>(a) + static_cast<WrapType<T>>(b));
}
template <class T>
T WrapSub(T a, T b) {
  return static_cast<T>(static_cast<WrapType<T>>(a) - static_cast<WrapType<T>>(b));
}
template <class T>
T WrapMul(T a, T b) {
  return static_cast<T>(static_cast<WrapType<T>>(a) * static_cast<WrapType<T>>(b));
}
template <class T>
T WrapNeg(T a) {
  return static_cast<T>(WrapType<T>{0} - static_cast<WrapType<T>>(a));
}

// double -> float rounding to odd: exact values stay, others truncate toward
// zero with the last mantissa bit set. A later round-to-nearest into a format
// at least 2 bits narrower (f16, bf16, fp8) then equals one direct rounding,
// so double -> f16 does not round twice.
inline float RoundToOddFloat(double d) {
  float f = static_cast<float>(d);
  if (!std::isfinite(f) || static_cast<double>(f) == d) return f;
  uint32_t bits = std::bit_cast<uint32_t>(f);
  if (std::fabs(static_cast<double>(f)) > std::fabs(d)) --bits;  // sign-magnitude: toward zero
  return std::bit_cast<float>(bits | 1u);
}

// Float -> integer: truncation toward zero (ONNX Cast, numpy astype). Values
// out of range are undefined in ONNX; here they saturate and NaN gives 0,
// which is also what CUDA's conversions do, so the backends agree.
template <class To>
To FloatToInt(double d) {
  using L = std::numeric_limits<To>;
  if (std::isnan(d)) return To{0};
  d = std::trunc(d);
  if (d <= static_cast<double>(L::min())) return L::min();  // 0 or -2^digits: exact
  if (d >= std::ldexp(1.0, L::digits)) return L::max();     // 2^digits = max + 1
  return static_cast<To>(d);
}

// Converts one value between any two storage types with ONNX Cast
// semantics: integer -> integer wraps (two's complement), float -> integer
// truncates, anything -> bool is "!= 0" (NaN is true), bool -> x is 0 or 1,
// float -> float rounds to nearest even. `saturate` applies to fp8 targets
// (Cast-19): out-of-range values clamp to the largest finite value instead of
// becoming inf/NaN.
template <class To, class From>
To ConvertValue(From v, bool saturate = true) {
  if constexpr (std::is_same_v<To, From>) {
    return v;
  } else if constexpr (std::is_same_v<From, bool>) {
    return ConvertValue<To, int>(v ? 1 : 0, saturate);
  } else if constexpr (std::is_same_v<To, bool>) {
    return ToDouble(v) != 0.0;
  } else if constexpr (kIsInt<To> && kIsInt<From>) {
    return static_cast<To>(v);
  } else if constexpr (kIsInt<To>) {
    return FloatToInt<To>(ToDouble(v));
  } else if constexpr (kIsFp8<To>) {
    return To::FromFloat(RoundToOddFloat(ToDouble(v)), saturate);
  } else if constexpr (kIsSmallFloat<To>) {
    return To::FromFloat(RoundToOddFloat(ToDouble(v)));
  } else if constexpr (kIsSmallFloat<From>) {
    return static_cast<To>(v.ToFloat());
  } else {
    return static_cast<To>(v);  // among float, double and integers: one rounding
  }
}

// Output i: the tensor pre-allocated from inference, or a new one.
inline Result<Tensor*> OutputTensor(KernelContext& ctx, size_t i, DType dtype, const Dims& dims) {
  Tensor& t = ctx.output(i);
  if (t.defined() && t.dtype() == dtype && t.dims() == dims) return &t;
  return ctx.AllocateOutput(i, dtype, dims);
}

// Calls f(i, offsets) for every element i (row-major) of an output of shape
// `out`, where offsets[k] is the flat index of the element of inputs[k]
// broadcast onto it. Precondition: every input broadcasts to `out`.
template <size_t N, class F>
void ForEachBroadcast(const Dims& out, const std::array<const Tensor*, N>& inputs, F&& f) {
  int64_t n = 1;
  for (int64_t d : out) n *= d;
  bool same = true;
  for (const Tensor* t : inputs) same = same && t->dims() == out;
  std::array<int64_t, N> offsets{};
  if (same) {  // no broadcasting: every offset is i
    for (int64_t i = 0; i < n; ++i) {
      offsets.fill(i);
      f(i, offsets);
    }
    return;
  }
  std::array<Dims, N> strides;
  for (size_t k = 0; k < N; ++k) strides[k] = BroadcastStrides(inputs[k]->dims(), out);
  BroadcastIterator<N> it(out, std::move(strides));
  for (int64_t i = 0; i < n; ++i, it.Next()) {
    for (size_t k = 0; k < N; ++k) offsets[k] = it.offset(k);
    f(i, offsets);
  }
}

}  // namespace frt::elementwise
