// Schemas of Gelu (opset 20), Swish (opset 24), RMSNormalization (opset 23)
// and FusedPointwise (docs/fused_ops.md), plus FusedPointwise's program
// decoder and validator (fused_pointwise.h). The program's typing is checked
// at shape inference, so a malformed program fails when the graph is built,
// naming the node and the instruction.
#include "ir/ops/fused_pointwise.h"

#include <string>

#include "ir/infer_helpers.h"
#include "ir/op_families.h"
#include "ir/op_registry.h"

namespace frt {
namespace pointwise {
namespace {

enum class Arity { kUnary, kUnaryParam, kCast, kBinary, kTernary, kInvalid };

Arity ArityOf(Opcode op) {
  int64_t v = static_cast<int64_t>(op);
  if (v >= 0 && v <= static_cast<int64_t>(Opcode::kIsNaN)) return Arity::kUnary;
  if (op == Opcode::kSwish || op == Opcode::kLeakyRelu) return Arity::kUnaryParam;
  if (op == Opcode::kCast) return Arity::kCast;
  if (v >= static_cast<int64_t>(Opcode::kAdd) && v <= static_cast<int64_t>(Opcode::kXor)) {
    return Arity::kBinary;
  }
  if (op == Opcode::kWhere || op == Opcode::kClip) return Arity::kTernary;
  return Arity::kInvalid;
}

bool IsFloatRegister(DType t) { return IsRegisterDType(t) && t != DType::kBool; }

}  // namespace

std::string_view OpcodeName(Opcode op) {
  switch (op) {
#define FRT_PW_CASE(name) \
  case Opcode::k##name:   \
    return #name;
    FRT_PW_CASE(Identity) FRT_PW_CASE(Neg) FRT_PW_CASE(Abs) FRT_PW_CASE(Exp) FRT_PW_CASE(Log)
    FRT_PW_CASE(Sqrt) FRT_PW_CASE(Reciprocal) FRT_PW_CASE(Erf) FRT_PW_CASE(Tanh)
    FRT_PW_CASE(Sigmoid) FRT_PW_CASE(Relu) FRT_PW_CASE(Gelu) FRT_PW_CASE(GeluTanh)
    FRT_PW_CASE(Floor) FRT_PW_CASE(Ceil) FRT_PW_CASE(Sin) FRT_PW_CASE(Cos) FRT_PW_CASE(Softplus)
    FRT_PW_CASE(Mish) FRT_PW_CASE(Not) FRT_PW_CASE(IsNaN) FRT_PW_CASE(Swish)
    FRT_PW_CASE(LeakyRelu) FRT_PW_CASE(Cast) FRT_PW_CASE(Add) FRT_PW_CASE(Sub) FRT_PW_CASE(Mul)
    FRT_PW_CASE(Div) FRT_PW_CASE(Pow) FRT_PW_CASE(Max) FRT_PW_CASE(Min) FRT_PW_CASE(Equal)
    FRT_PW_CASE(Less) FRT_PW_CASE(LessOrEqual) FRT_PW_CASE(Greater) FRT_PW_CASE(GreaterOrEqual)
    FRT_PW_CASE(And) FRT_PW_CASE(Or) FRT_PW_CASE(Xor) FRT_PW_CASE(Where) FRT_PW_CASE(Clip)
#undef FRT_PW_CASE
  }
  return "?";
}

bool IsRegisterDType(DType t) {
  return t == DType::kFloat16 || t == DType::kBFloat16 || t == DType::kFloat32 ||
         t == DType::kFloat64 || t == DType::kBool;
}

void AppendInstruction(std::vector<int64_t>& program, const Instruction& ins) {
  program.insert(program.end(), {static_cast<int64_t>(ins.op), ins.dst, ins.a, ins.b, ins.c});
}

namespace {

// Result dtype of one instruction given its operands' dtypes; error text
// (without the node prefix) when the operands do not type-check.
Result<DType> TypeInstruction(const Instruction& ins, const std::vector<DType>& regs,
                              const std::string& where) {
  auto dt = [&](int64_t r) { return regs[static_cast<size_t>(r)]; };
  auto bad = [&](const std::string& why) -> Status {
    return MakeError(StatusCode::kInvalidModel, where, ": ", why);
  };
  auto name = [](DType t) { return std::string(DTypeName(t)); };
  switch (ArityOf(ins.op)) {
    case Arity::kUnary:
    case Arity::kUnaryParam: {
      DType x = dt(ins.a);
      bool logical = ins.op == Opcode::kNot;
      if (ins.op == Opcode::kIdentity) return x;
      if (logical != (x == DType::kBool)) {
        return bad(StrCat("operand r", ins.a, " has dtype ", name(x), " but must be ",
                          logical ? "bool" : "a float type"));
      }
      return ins.op == Opcode::kIsNaN ? DType::kBool : x;
    }
    case Arity::kCast:
      return static_cast<DType>(ins.b);  // validated by the caller
    case Arity::kBinary: {
      DType x = dt(ins.a), y = dt(ins.b);
      bool logical = ins.op == Opcode::kAnd || ins.op == Opcode::kOr || ins.op == Opcode::kXor;
      bool compare = ins.op >= Opcode::kEqual && ins.op <= Opcode::kGreaterOrEqual;
      if (logical) {
        if (x != DType::kBool || y != DType::kBool) {
          return bad(StrCat("operands have dtypes ", name(x), " and ", name(y),
                            " but must both be bool"));
        }
        return DType::kBool;
      }
      if (ins.op == Opcode::kPow) {
        if (!IsFloatRegister(x) || !IsFloatRegister(y)) {
          return bad(StrCat("operands have dtypes ", name(x), " and ", name(y),
                            " but must be float types"));
        }
        return x;
      }
      bool bool_ok = ins.op == Opcode::kEqual;
      if (x != y || (x == DType::kBool && !bool_ok)) {
        return bad(StrCat("operands have dtypes ", name(x), " and ", name(y),
                          " but must share one ", bool_ok ? "dtype" : "float dtype"));
      }
      return compare ? DType::kBool : x;
    }
    case Arity::kTernary: {
      if (ins.op == Opcode::kWhere) {
        if (dt(ins.a) != DType::kBool || dt(ins.b) != dt(ins.c)) {
          return bad(StrCat("condition has dtype ", name(dt(ins.a)), " (must be bool), values ",
                            name(dt(ins.b)), " and ", name(dt(ins.c)), " (must match)"));
        }
        return dt(ins.b);
      }
      DType x = dt(ins.a);  // Clip
      if (!IsFloatRegister(x)) return bad(StrCat("operand has dtype ", name(x), ", not a float"));
      for (int64_t bound : {ins.b, ins.c}) {
        if (bound >= 0 && dt(bound) != x) {
          return bad(StrCat("bound r", bound, " has dtype ", name(dt(bound)), " but x has ",
                            name(x)));
        }
      }
      return x;
    }
    case Arity::kInvalid:
      break;
  }
  return bad("unknown opcode");
}

}  // namespace

Result<Program> DecodeProgram(const Node& node, const std::vector<DType>& input_dtypes) {
  auto error = [&](const auto&... args) -> Status {
    return MakeError(StatusCode::kInvalidModel, node.Describe(), ": ", args...);
  };
  Program p;
  std::vector<int64_t> words = node.attrs.GetInts("program");
  if (words.empty() || words.size() % kInstructionWidth != 0) {
    return error("attribute program has ", words.size(), " ints but must hold a positive multiple"
                 " of ", kInstructionWidth, " (opcode, dst, a, b, c per instruction)");
  }
  if (input_dtypes.empty()) return error("has no inputs");
  p.params = node.attrs.GetFloats("params");
  p.reg_dtypes = input_dtypes;
  for (size_t i = 0; i < input_dtypes.size(); ++i) {
    if (!IsRegisterDType(input_dtypes[i])) {
      return error("input ", i, " has dtype ", DTypeName(input_dtypes[i]),
                   " but must be f16, bf16, f32, f64 or bool");
    }
  }
  const int64_t num_inputs = static_cast<int64_t>(input_dtypes.size());
  for (size_t k = 0; k * kInstructionWidth < words.size(); ++k) {
    const int64_t* w = &words[k * kInstructionWidth];
    Instruction ins{static_cast<Opcode>(w[0]), w[1], w[2], w[3], w[4]};
    std::string where = StrCat("program instruction ", k, " (", OpcodeName(ins.op), ")");
    Arity arity = ArityOf(ins.op);
    if (arity == Arity::kInvalid) return error(where, ": opcode ", w[0], " is not defined");
    int64_t expect_dst = num_inputs + static_cast<int64_t>(k);
    if (ins.dst != expect_dst) {
      return error(where, ": writes r", ins.dst, " but must write r", expect_dst, " (SSA order)");
    }
    // Which slots are registers, which must be -1, which are immediates.
    auto reg = [&](int64_t r, bool optional, const char* slot) -> Status {
      if (optional && r == -1) return Status::Ok();
      if (r < 0 || r >= ins.dst) {
        return error(where, ": source ", slot, " is r", r, " but must be a register below r",
                     ins.dst);
      }
      return Status::Ok();
    };
    auto unused = [&](int64_t r, const char* slot) -> Status {
      if (r == -1) return Status::Ok();
      return error(where, ": slot ", slot, " is ", r, " but this opcode leaves it -1");
    };
    FRT_RETURN_IF_ERROR(reg(ins.a, false, "a"));
    switch (arity) {
      case Arity::kUnary:
        FRT_RETURN_IF_ERROR(unused(ins.b, "b"));
        FRT_RETURN_IF_ERROR(unused(ins.c, "c"));
        break;
      case Arity::kUnaryParam:
        if (ins.b < 0 || ins.b >= static_cast<int64_t>(p.params.size())) {
          return error(where, ": parameter index ", ins.b, " but params holds ", p.params.size(),
                       " values");
        }
        FRT_RETURN_IF_ERROR(unused(ins.c, "c"));
        break;
      case Arity::kCast:
        if (ins.b <= 0 || ins.b > 255 || !IsRegisterDType(static_cast<DType>(ins.b))) {
          return error(where, ": target dtype code ", ins.b,
                       " is not f16, bf16, f32, f64 or bool");
        }
        FRT_RETURN_IF_ERROR(unused(ins.c, "c"));
        break;
      case Arity::kBinary:
        FRT_RETURN_IF_ERROR(reg(ins.b, false, "b"));
        FRT_RETURN_IF_ERROR(unused(ins.c, "c"));
        break;
      case Arity::kTernary: {
        bool optional = ins.op == Opcode::kClip;
        FRT_RETURN_IF_ERROR(reg(ins.b, optional, "b"));
        FRT_RETURN_IF_ERROR(reg(ins.c, optional, "c"));
        break;
      }
      case Arity::kInvalid:
        break;
    }
    Result<DType> t = TypeInstruction(ins, p.reg_dtypes, where);
    if (!t.ok()) return error(t.status().message());
    p.reg_dtypes.push_back(*t);
    p.code.push_back(ins);
  }
  int64_t out = node.attrs.GetInt("output_dtype", 0);
  DType last = p.reg_dtypes.back();
  if (out != static_cast<int64_t>(last)) {
    return error("attribute output_dtype is ", out, " but the last instruction gives ",
                 DTypeName(last), " (", static_cast<int64_t>(last), ")");
  }
  p.output_dtype = last;
  return p;
}

}  // namespace pointwise

namespace {

bool IsComputeFloat(DType t) { return pointwise::IsRegisterDType(t) && t != DType::kBool; }

Status RequireFloat(const InferContext& ctx, size_t i) {
  if (!ctx.has_input(i) || IsComputeFloat(ctx.input_dtype(i))) return Status::Ok();
  return ctx.Error(StatusCode::kInvalidModel, "input ", i, " has dtype ",
                   DTypeName(ctx.input_dtype(i)), " but must be f16, bf16, f32 or f64");
}

Status InferGelu(InferContext& ctx) {
  FRT_RETURN_IF_ERROR(RequireFloat(ctx, 0));
  std::string approx = ctx.attrs().GetString("approximate", "none");
  if (approx != "none" && approx != "tanh") {
    return ctx.Error(StatusCode::kInvalidModel, "approximate is \"", approx,
                     "\" but must be \"none\" or \"tanh\"");
  }
  return InferSameAsInput0(ctx);
}

Status InferSwish(InferContext& ctx) {
  FRT_RETURN_IF_ERROR(RequireFloat(ctx, 0));
  return InferSameAsInput0(ctx);
}

// RMSNormalization-23: Y (dtype of scale) has X's shape; scale broadcasts onto
// X's normalized dims [axis, rank).
Status InferRmsNorm(InferContext& ctx) {
  FRT_RETURN_IF_ERROR(RequireFloat(ctx, 0));
  FRT_RETURN_IF_ERROR(RequireFloat(ctx, 1));
  DType out_dt = ctx.input_dtype(1);
  const Shape* x = ctx.input_shape(0);
  if (x == nullptr) {
    ctx.SetOutputDType(0, out_dt);
    return Status::Ok();
  }
  auto axis = NormalizeAxis(ctx.attrs().GetInt("axis", -1), static_cast<int64_t>(x->rank()));
  if (!axis.ok()) return ctx.Error(StatusCode::kOutOfRange, axis.status().message());
  if (const Shape* s = ctx.input_shape(1)) {
    size_t norm_rank = x->rank() - static_cast<size_t>(*axis);
    bool ok = s->rank() <= norm_rank;
    for (size_t d = 0; ok && d < s->rank(); ++d) {
      const Dim& a = (*s)[d];
      const Dim& b = (*x)[x->rank() - s->rank() + d];
      ok = !(a.is_static() && a.value() != 1 && b.is_static() && a.value() != b.value());
    }
    if (!ok) {
      return ctx.Error(StatusCode::kInvalidModel, "scale has shape ", s->ToString(),
                       " which does not broadcast onto the normalized dims (from axis ", *axis,
                       ") of X's shape ", x->ToString());
    }
  }
  ctx.SetOutput(0, out_dt, *x);
  return Status::Ok();
}

Status InferFusedPointwise(InferContext& ctx) {
  std::vector<DType> dtypes(ctx.num_inputs());
  for (size_t i = 0; i < ctx.num_inputs(); ++i) {
    if (!ctx.has_input(i)) {
      return ctx.Error(StatusCode::kInvalidModel, "input ", i, " is absent; every input is a "
                       "program register and is required");
    }
    dtypes[i] = ctx.input_dtype(i);
  }
  FRT_ASSIGN_OR_RETURN(pointwise::Program program, pointwise::DecodeProgram(ctx.node(), dtypes));
  FRT_ASSIGN_OR_RETURN(std::optional<Shape> shape,
                       BroadcastInputs(ctx, 0, ctx.num_inputs() - 1));
  if (shape) {
    ctx.SetOutput(0, program.output_dtype, *shape);
  } else {
    ctx.SetOutputDType(0, program.output_dtype);
  }
  return Status::Ok();
}

}  // namespace

void RegisterFusedPointwiseOps(OpRegistry& r) {
  constexpr auto kAlways = PrecisionPolicy::kAlways;
  r.Register({OpKind::kGelu, FusionKind::kElementwise, kAlways, 1, 1, 1, 1, InferGelu});
  r.Register({OpKind::kSwish, FusionKind::kElementwise, kAlways, 1, 1, 1, 1, InferSwish});
  // Like LayerNormalization: the mean of squares overflows fp16 easily.
  r.Register({OpKind::kRMSNormalization, FusionKind::kReduction, PrecisionPolicy::kFp32Inside, 2, 2, 1,
              1, InferRmsNorm});
  // Its program fixes every register's dtype (Casts included): keep them.
  r.Register({OpKind::kFusedPointwise, FusionKind::kBroadcast, PrecisionPolicy::kFollow, 1, -1, 1,
              1, InferFusedPointwise});
}

}  // namespace frt
