// Schemas of the elementwise family's unary ops (math functions, activations,
// predicates), the family's registration entry point and its dtype-set
// helpers. Unary ops keep their input's shape; only the predicates (IsNaN,
// IsInf) change the dtype, to bool.
#include <string>

#include "ir/op_families.h"
#include "ir/ops/elementwise_ops.h"

namespace frt {
namespace elementwise {

uint32_t TypeSetOf(DType t) {
  if (t == DType::kFloat8E4M3FN || t == DType::kFloat8E5M2) return kFloat8s;
  if (IsFloat(t)) return kFloats;
  if (IsSignedInteger(t)) return kSignedInts;
  if (IsInteger(t)) return kUnsignedInts;
  if (t == DType::kBool) return kBoolType;
  return 0;
}

namespace {

std::string DescribeTypeSet(uint32_t set) {
  std::string out;
  auto add = [&](uint32_t bit, const char* names) {
    if (!(set & bit)) return;
    if (!out.empty()) out += ", ";
    out += names;
  };
  add(kFloats, "f16, bf16, f32, f64");
  add(kFloat8s, "f8e4m3fn, f8e5m2");
  add(kSignedInts, "i8, i16, i32, i64");
  add(kUnsignedInts, "u8, u16, u32, u64");
  add(kBoolType, "bool");
  return out;
}

}  // namespace

Status RequireTypes(const InferContext& ctx, size_t i, uint32_t allowed) {
  if (!ctx.has_input(i)) return Status::Ok();
  DType t = ctx.input_dtype(i);
  if (TypeSetOf(t) & allowed) return Status::Ok();
  return ctx.Error(StatusCode::kInvalidModel, "input ", i, " has dtype ", DTypeName(t),
                   " but must be one of: ", DescribeTypeSet(allowed));
}

namespace {

Status InferPredicate(InferContext& ctx) {
  FRT_RETURN_IF_ERROR(RequireTypes(ctx, 0, kFloats | kFloat8s));
  if (ctx.input_shape(0)) {
    ctx.SetOutput(0, DType::kBool, *ctx.input_shape(0));
  } else {
    ctx.SetOutputDType(0, DType::kBool);
  }
  return Status::Ok();
}

Status InferCelu(InferContext& ctx) {
  if (ctx.attrs().GetFloat("alpha", 1.0f) == 0.0f) {
    return ctx.Error(StatusCode::kInvalidModel, "alpha is 0 but Celu divides by it");
  }
  return InferUnary<kFloats>(ctx);
}

void Unary(OpRegistry& r, OpKind k, InferFn infer, PrecisionPolicy p = PrecisionPolicy::kAlways) {
  r.Register({k, FusionKind::kElementwise, p, 1, 1, 1, 1, infer});
}

}  // namespace

void RegisterUnaryOps(OpRegistry& r) {
  // Functions that overflow or lose accuracy in fp16 stay in fp32, as in
  // PyTorch autocast's fp32 list.
  for (OpKind k : {OpKind::kExp, OpKind::kLog, OpKind::kReciprocal, OpKind::kAcos, OpKind::kAsin,
                   OpKind::kAcosh, OpKind::kAsinh, OpKind::kAtanh, OpKind::kCosh, OpKind::kSinh,
                   OpKind::kTan, OpKind::kSoftplus}) {
    Unary(r, k, InferUnary<kFloats>, PrecisionPolicy::kNever);
  }
  for (OpKind k : {OpKind::kAtan, OpKind::kCeil, OpKind::kCos, OpKind::kFloor, OpKind::kRound,
                   OpKind::kSin, OpKind::kSqrt, OpKind::kTanh, OpKind::kSigmoid, OpKind::kElu,
                   OpKind::kSelu, OpKind::kHardSigmoid, OpKind::kHardSwish, OpKind::kSoftsign,
                   OpKind::kThresholdedRelu, OpKind::kMish, OpKind::kLeakyRelu}) {
    Unary(r, k, InferUnary<kFloats>);
  }
  Unary(r, OpKind::kCelu, InferCelu);
  for (OpKind k : {OpKind::kAbs, OpKind::kSign, OpKind::kErf, OpKind::kShrink}) {
    Unary(r, k, InferUnary<kNumeric>);
  }
  for (OpKind k : {OpKind::kNeg, OpKind::kRelu}) Unary(r, k, InferUnary<kSignedNumeric>);
  // Predicates must see the input's own precision: a narrower type turns
  // large finite values into infinities.
  for (OpKind k : {OpKind::kIsNaN, OpKind::kIsInf}) {
    Unary(r, k, InferPredicate, PrecisionPolicy::kFollow);
  }
  Unary(r, OpKind::kNot, InferUnary<kBoolType>, PrecisionPolicy::kFollow);
}

}  // namespace elementwise

void RegisterElementwiseOps(OpRegistry& r) {
  elementwise::RegisterUnaryOps(r);
  elementwise::RegisterBinaryOps(r);
  elementwise::RegisterNaryOps(r);
  elementwise::RegisterCastOps(r);
}

}  // namespace frt
