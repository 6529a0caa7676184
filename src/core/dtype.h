// Element types. Inside the library dtypes are this enum; ONNX's integer codes
// are translated at the importer boundary (src/onnx).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <type_traits>

#include "core/float_types.h"
#include "fusionrt/types.h"

namespace frt {

bool IsFloat(DType t);                // any floating type, incl. fp8
bool IsInteger(DType t);              // signed or unsigned integer (not bool)
bool IsSignedInteger(DType t);

// Maps a C++ storage type to its DType.
template <class T> constexpr DType DTypeOf();
template <> constexpr DType DTypeOf<float>() { return DType::kFloat32; }
template <> constexpr DType DTypeOf<Float16>() { return DType::kFloat16; }
template <> constexpr DType DTypeOf<BFloat16>() { return DType::kBFloat16; }
template <> constexpr DType DTypeOf<double>() { return DType::kFloat64; }
template <> constexpr DType DTypeOf<int8_t>() { return DType::kInt8; }
template <> constexpr DType DTypeOf<uint8_t>() { return DType::kUInt8; }
template <> constexpr DType DTypeOf<int16_t>() { return DType::kInt16; }
template <> constexpr DType DTypeOf<uint16_t>() { return DType::kUInt16; }
template <> constexpr DType DTypeOf<int32_t>() { return DType::kInt32; }
template <> constexpr DType DTypeOf<uint32_t>() { return DType::kUInt32; }
template <> constexpr DType DTypeOf<int64_t>() { return DType::kInt64; }
template <> constexpr DType DTypeOf<uint64_t>() { return DType::kUInt64; }
template <> constexpr DType DTypeOf<bool>() { return DType::kBool; }
template <> constexpr DType DTypeOf<Float8E4M3FN>() { return DType::kFloat8E4M3FN; }
template <> constexpr DType DTypeOf<Float8E5M2>() { return DType::kFloat8E5M2; }

// True for the small float storage types that need ToFloat()/FromFloat().
template <class T>
inline constexpr bool kIsSmallFloat =
    std::is_same_v<T, Float16> || std::is_same_v<T, BFloat16> ||
    std::is_same_v<T, Float8E4M3FN> || std::is_same_v<T, Float8E5M2>;

// Converts any storage type to double / from double (small floats via float).
template <class T>
inline double ToDouble(T v) {
  if constexpr (kIsSmallFloat<T>) {
    return static_cast<double>(v.ToFloat());
  } else {
    return static_cast<double>(v);
  }
}
template <class T>
inline T FromDouble(double v) {
  if constexpr (kIsSmallFloat<T>) {
    return T::FromFloat(static_cast<float>(v));
  } else {
    return static_cast<T>(v);
  }
}

template <class T>
struct TypeTag {
  using type = T;
};

// Calls f(TypeTag<T>{}) with the storage type of `t`. Returns f's result.
// Precondition: t != kUndefined (callers validate dtypes before dispatching).
template <class F>
decltype(auto) VisitDType(DType t, F&& f) {
  switch (t) {
    case DType::kFloat32: return f(TypeTag<float>{});
    case DType::kFloat16: return f(TypeTag<Float16>{});
    case DType::kBFloat16: return f(TypeTag<BFloat16>{});
    case DType::kFloat64: return f(TypeTag<double>{});
    case DType::kInt8: return f(TypeTag<int8_t>{});
    case DType::kUInt8: return f(TypeTag<uint8_t>{});
    case DType::kInt16: return f(TypeTag<int16_t>{});
    case DType::kUInt16: return f(TypeTag<uint16_t>{});
    case DType::kInt32: return f(TypeTag<int32_t>{});
    case DType::kUInt32: return f(TypeTag<uint32_t>{});
    case DType::kInt64: return f(TypeTag<int64_t>{});
    case DType::kUInt64: return f(TypeTag<uint64_t>{});
    case DType::kBool: return f(TypeTag<bool>{});
    case DType::kFloat8E4M3FN: return f(TypeTag<Float8E4M3FN>{});
    case DType::kFloat8E5M2: return f(TypeTag<Float8E5M2>{});
    case DType::kUndefined: break;
  }
  return f(TypeTag<float>{});  // unreachable for validated dtypes
}

}  // namespace frt
