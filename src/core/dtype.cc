#include "core/dtype.h"

namespace frt {

size_t DTypeSize(DType t) {
  switch (t) {
    case DType::kFloat64: case DType::kInt64: case DType::kUInt64: return 8;
    case DType::kFloat32: case DType::kInt32: case DType::kUInt32: return 4;
    case DType::kFloat16: case DType::kBFloat16: case DType::kInt16: case DType::kUInt16: return 2;
    case DType::kInt8: case DType::kUInt8: case DType::kBool:
    case DType::kFloat8E4M3FN: case DType::kFloat8E5M2: return 1;
    case DType::kUndefined: return 0;
  }
  return 0;
}

std::string_view DTypeName(DType t) {
  switch (t) {
    case DType::kFloat32: return "f32";
    case DType::kFloat16: return "f16";
    case DType::kBFloat16: return "bf16";
    case DType::kFloat64: return "f64";
    case DType::kInt8: return "i8";
    case DType::kUInt8: return "u8";
    case DType::kInt16: return "i16";
    case DType::kUInt16: return "u16";
    case DType::kInt32: return "i32";
    case DType::kUInt32: return "u32";
    case DType::kInt64: return "i64";
    case DType::kUInt64: return "u64";
    case DType::kBool: return "bool";
    case DType::kFloat8E4M3FN: return "f8e4m3fn";
    case DType::kFloat8E5M2: return "f8e5m2";
    case DType::kUndefined: return "undefined";
  }
  return "undefined";
}

bool IsFloat(DType t) {
  return t == DType::kFloat32 || t == DType::kFloat16 || t == DType::kBFloat16 ||
         t == DType::kFloat64 || t == DType::kFloat8E4M3FN || t == DType::kFloat8E5M2;
}

bool IsSignedInteger(DType t) {
  return t == DType::kInt8 || t == DType::kInt16 || t == DType::kInt32 || t == DType::kInt64;
}

bool IsInteger(DType t) {
  return IsSignedInteger(t) || t == DType::kUInt8 || t == DType::kUInt16 ||
         t == DType::kUInt32 || t == DType::kUInt64;
}

}  // namespace frt
