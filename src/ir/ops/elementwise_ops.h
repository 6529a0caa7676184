// Internal to the elementwise op family's schemas (src/ir/ops/elementwise*.cc):
// the per-concept registration functions called by RegisterElementwiseOps and
// the dtype-set checks they share. Dtype sets follow the ONNX type
// constraints of each op (latest opset up to 21).
#pragma once

#include <cstdint>

#include "ir/infer_helpers.h"
#include "ir/op_registry.h"

namespace frt::elementwise {

void RegisterUnaryOps(OpRegistry& r);   // elementwise.cc: math functions, activations
void RegisterBinaryOps(OpRegistry& r);  // elementwise_binary.cc: arithmetic, compare, logic
void RegisterNaryOps(OpRegistry& r);    // elementwise_nary.cc: Min/Max/Sum/Mean, Where, Clip
void RegisterCastOps(OpRegistry& r);    // elementwise_cast.cc: Cast, CastLike

// Bit set of dtype classes an op input accepts.
enum TypeSet : uint32_t {
  kFloats = 1u << 0,        // f16, bf16, f32, f64
  kSignedInts = 1u << 1,    // i8, i16, i32, i64
  kUnsignedInts = 1u << 2,  // u8, u16, u32, u64
  kBoolType = 1u << 3,      // bool
  kFloat8s = 1u << 4,       // f8e4m3fn, f8e5m2
};
inline constexpr uint32_t kInts = kSignedInts | kUnsignedInts;
inline constexpr uint32_t kNumeric = kFloats | kInts;
inline constexpr uint32_t kSignedNumeric = kFloats | kSignedInts;
inline constexpr uint32_t kAnyType = kNumeric | kBoolType | kFloat8s;

// The class bit of `t` (0 for kUndefined).
uint32_t TypeSetOf(DType t);
// Checks input i (when present) has a dtype in `allowed` (each set here contains the
// ONNX type constraint, so anything else is an invalid model); the error lists the set.
Status RequireTypes(const InferContext& ctx, size_t i, uint32_t allowed);

// Output 0 = input 0's dtype and shape, after checking input 0 is in `Allowed`.
template <uint32_t Allowed>
Status InferUnary(InferContext& ctx) {
  FRT_RETURN_IF_ERROR(RequireTypes(ctx, 0, Allowed));
  return InferSameAsInput0(ctx);
}

}  // namespace frt::elementwise
