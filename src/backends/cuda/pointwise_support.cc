// Build-time `supports` decisions of the pointwise CUDA kernels: a table of
// op kinds with the dtype set each accepts (see pointwise_support.h).
#include "backends/cuda/pointwise_support.h"

#include <algorithm>
#include <initializer_list>

#include "backends/cuda/pointwise_params.h"
#include "ir/ops/fused_pointwise.h"

namespace frt::cuda_pointwise {
namespace {

constexpr OpKind kOps[] = {
    // unary
    OpKind::kRelu, OpKind::kSigmoid, OpKind::kTanh, OpKind::kErf, OpKind::kExp, OpKind::kLog,
    OpKind::kSqrt, OpKind::kReciprocal, OpKind::kNeg, OpKind::kAbs, OpKind::kGelu, OpKind::kSwish,
    OpKind::kLeakyRelu, OpKind::kSoftplus, OpKind::kHardSigmoid, OpKind::kClip, OpKind::kNot,
    // binary
    OpKind::kAdd, OpKind::kSub, OpKind::kMul, OpKind::kDiv, OpKind::kPow, OpKind::kMax,
    OpKind::kMin, OpKind::kEqual, OpKind::kLess, OpKind::kGreater, OpKind::kLessOrEqual,
    OpKind::kGreaterOrEqual, OpKind::kAnd, OpKind::kOr, OpKind::kXor,
    // ternary
    OpKind::kWhere};

bool In(DType t, std::initializer_list<DType> set) {
  return std::find(set.begin(), set.end(), t) != set.end();
}

constexpr auto kF32 = DType::kFloat32;
constexpr auto kF16 = DType::kFloat16;
constexpr auto kBF16 = DType::kBFloat16;
constexpr auto kI32 = DType::kInt32;
constexpr auto kI64 = DType::kInt64;
constexpr auto kBool = DType::kBool;

std::string DTypeError(const char* what, DType t, const char* allowed) {
  return StrCat(what, " has dtype ", DTypeName(t), " but this kernel takes ", allowed);
}

// The common shape rule: the output's rank may exceed kMaxRank only when
// every input has the output's (symbolic) shape, which coalesces to rank 1.
std::string CheckRank(const Node& node) {
  const Value* out = node.outputs[0];
  if (!out->shape || out->shape->rank() <= static_cast<size_t>(kMaxRank)) return "";
  for (const Value* in : node.inputs) {
    if (in && (!in->shape || !(*in->shape == *out->shape))) {
      return StrCat("broadcasting at rank ", out->shape->rank(), " (more than ", kMaxRank, ")");
    }
  }
  return "";
}

// All present inputs share input 0's dtype.
std::string SameDTypes(const Node& node, size_t first = 0) {
  const DType t = node.inputs[first]->dtype;
  for (size_t i = first + 1; i < node.inputs.size(); ++i) {
    if (node.inputs[i] && node.inputs[i]->dtype != t) {
      return StrCat("input ", i, " has dtype ", DTypeName(node.inputs[i]->dtype), " but input ",
                    first, " has ", DTypeName(t));
    }
  }
  return "";
}

std::string CheckDTypes(const Node& node) {
  const DType x = node.inputs[0]->dtype;
  const DType out = node.outputs[0]->dtype;
  const bool is_float = In(x, {kF32, kF16, kBF16});
  const bool is_numeric = is_float || In(x, {kI32, kI64});
  switch (node.op) {
    case OpKind::kRelu:
    case OpKind::kNeg:
    case OpKind::kAbs:
      if (!is_numeric) return DTypeError("input 0", x, "f32, f16, bf16, int32 or int64");
      break;
    case OpKind::kGelu: {
      const std::string approx = node.attrs.GetString("approximate", "none");
      if (approx != "none" && approx != "tanh") {
        return StrCat("approximate is \"", approx, "\" (not none or tanh)");
      }
      [[fallthrough]];
    }
    case OpKind::kSigmoid:
    case OpKind::kTanh:
    case OpKind::kErf:
    case OpKind::kExp:
    case OpKind::kLog:
    case OpKind::kSqrt:
    case OpKind::kReciprocal:
    case OpKind::kSwish:
    case OpKind::kLeakyRelu:
    case OpKind::kSoftplus:
    case OpKind::kHardSigmoid:
      if (!is_float) return DTypeError("input 0", x, "f32, f16 or bf16");
      break;
    case OpKind::kNot:
      if (x != kBool) return DTypeError("input 0", x, "bool");
      break;
    case OpKind::kClip:
      if (!is_numeric) return DTypeError("input 0", x, "f32, f16, bf16, int32 or int64");
      for (size_t i = 1; i < node.inputs.size() && i <= 2; ++i) {
        const Value* b = node.inputs[i];
        if (!b) continue;
        if (b->dtype != x) return StrCat("bound ", i, " has dtype ", DTypeName(b->dtype));
        if (b->shape && b->shape->is_static()) {
          int64_t n = 1;
          for (int64_t d : b->shape->static_dims()) n *= d;
          if (n != 1) return StrCat("bound ", i, " has ", n, " elements (must be 1)");
        }
      }
      if (node.inputs.size() > 3) return "more than 3 inputs";
      return "";
    case OpKind::kAdd:
    case OpKind::kSub:
    case OpKind::kMul:
    case OpKind::kDiv:
    case OpKind::kMax:
    case OpKind::kMin:
      if (!is_numeric) return DTypeError("input 0", x, "f32, f16, bf16, int32 or int64");
      if (node.inputs.size() > 2) return StrCat(node.inputs.size(), " inputs (at most 2)");
      return SameDTypes(node);
    case OpKind::kPow: {
      if (!is_float) return DTypeError("the base", x, "f32, f16 or bf16");
      const DType e = node.inputs[1]->dtype;
      if (e != x && !In(e, {kF32, kI32, kI64})) {
        return DTypeError("the exponent", e, "f32, int32, int64 or the base's dtype");
      }
      return "";
    }
    case OpKind::kEqual:
      if (!is_numeric && x != kBool) {
        return DTypeError("input 0", x, "f32, f16, bf16, int32, int64 or bool");
      }
      return SameDTypes(node);
    case OpKind::kLess:
    case OpKind::kGreater:
    case OpKind::kLessOrEqual:
    case OpKind::kGreaterOrEqual:
      if (!is_numeric) return DTypeError("input 0", x, "f32, f16, bf16, int32 or int64");
      return SameDTypes(node);
    case OpKind::kAnd:
    case OpKind::kOr:
    case OpKind::kXor:
      if (x != kBool) return DTypeError("input 0", x, "bool");
      return SameDTypes(node);
    case OpKind::kWhere: {
      if (x != kBool) return DTypeError("the condition", x, "bool");
      const DType v = node.inputs[1]->dtype;
      if (!In(v, {kF32, kF16, kBF16, kI32, kI64, kBool})) {
        return DTypeError("input 1", v, "f32, f16, bf16, int32, int64 or bool");
      }
      return SameDTypes(node, 1);
    }
    default: return StrCat("op ", OpKindName(node.op), " is not an elementwise op of this kernel");
  }
  // Unary ops: the output keeps the input's dtype.
  if (out != x) return StrCat("output has dtype ", DTypeName(out), ", input ", DTypeName(x));
  return "";
}

}  // namespace

std::span<const OpKind> ElementwiseOps() { return kOps; }

bool GeluIsTanh(const Node& node) { return node.attrs.GetString("approximate", "none") == "tanh"; }

std::string SupportsElementwise(const Node& node) {
  if (!node.has_input(0) || !node.has_output(0)) return "input 0 or output 0 is absent";
  for (size_t i = 1; i < node.inputs.size(); ++i) {
    if (!node.inputs[i] && node.op != OpKind::kClip) return StrCat("input ", i, " is absent");
  }
  size_t want = 0;  // exact input count, 0: checked by CheckDTypes
  switch (node.op) {
    case OpKind::kAdd:
    case OpKind::kSub:
    case OpKind::kMul:
    case OpKind::kDiv:
    case OpKind::kPow:
    case OpKind::kEqual:
    case OpKind::kLess:
    case OpKind::kGreater:
    case OpKind::kLessOrEqual:
    case OpKind::kGreaterOrEqual:
    case OpKind::kAnd:
    case OpKind::kOr:
    case OpKind::kXor: want = 2; break;
    case OpKind::kWhere: want = 3; break;
    case OpKind::kClip:
    case OpKind::kMax:
    case OpKind::kMin: break;
    default: want = 1;
  }
  if (want != 0 && node.inputs.size() != want) {
    return StrCat(node.inputs.size(), " inputs but this kernel takes ", want);
  }
  std::string why = CheckDTypes(node);
  if (!why.empty()) return why;
  return CheckRank(node);
}

std::string SupportsCast(const Node& node) {
  if (!node.has_input(0) || !node.has_output(0)) return "input 0 or output 0 is absent";
  auto ok = [](DType t) {
    return In(t,
              {kF32, kF16, kBF16, DType::kFloat64, kI32, kI64, DType::kInt8, DType::kUInt8, kBool});
  };
  const DType from = node.inputs[0]->dtype, to = node.outputs[0]->dtype;
  if (!ok(from)) return DTypeError("input", from, "f32 f16 bf16 f64 int32 int64 int8 uint8 bool");
  if (!ok(to)) return DTypeError("output", to, "f32 f16 bf16 f64 int32 int64 int8 uint8 bool");
  return "";
}

std::string SupportsFusedPointwise(const Node& node) {
  if (node.inputs.empty() || !node.has_output(0)) return "no inputs or no output";
  if (node.inputs.size() > static_cast<size_t>(kMaxFusedInputs)) {
    return StrCat(node.inputs.size(), " inputs (at most ", kMaxFusedInputs, ")");
  }
  std::vector<DType> dtypes;
  for (size_t i = 0; i < node.inputs.size(); ++i) {
    if (!node.inputs[i]) return StrCat("input ", i, " is absent");
    dtypes.push_back(node.inputs[i]->dtype);
  }
  Result<pointwise::Program> program = pointwise::DecodeProgram(node, dtypes);
  if (!program.ok()) return program.status().message();
  return CheckRank(node);
}

}  // namespace frt::cuda_pointwise
