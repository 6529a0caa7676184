// Element types and concrete shapes shared by the public API and the library.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

namespace frt {

// Element type of a tensor. Names as printed by DTypeName(): f32, f16, bf16,
// f64, i8, u8, i16, u16, i32, u32, i64, u64, bool, f8e4m3fn, f8e5m2.
enum class DType : uint8_t {
  kUndefined = 0,
  kFloat32,
  kFloat16,
  kBFloat16,
  kFloat64,
  kInt8,
  kUInt8,
  kInt16,
  kUInt16,
  kInt32,
  kUInt32,
  kInt64,
  kUInt64,
  kBool,
  kFloat8E4M3FN,
  kFloat8E5M2,
};

// Bytes per element (0 for kUndefined).
size_t DTypeSize(DType t);
std::string_view DTypeName(DType t);

// A concrete shape: one size per dimension.
using Dims = std::vector<int64_t>;

}  // namespace frt
