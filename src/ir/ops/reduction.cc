// Schemas of the reducing ops (Reduce*, ArgMax, ArgMin), the family's
// registration entry point and the helpers its schema files share. Reduce*
// follow opset 18: the axes are an optional int64 input next to the keepdims
// and noop_with_empty_axes attributes; the importer rewrites older opsets'
// `axes` attribute into that input.
#include "ir/infer_helpers.h"
#include "ir/op_families.h"
#include "ir/ops/reduction_ops.h"

namespace frt {
namespace reduction {

bool IsComputeFloatDType(DType t) {
  return t == DType::kFloat32 || t == DType::kFloat16 || t == DType::kBFloat16 ||
         t == DType::kFloat64;
}

bool IsNumericDType(DType t) { return IsComputeFloatDType(t) || IsInteger(t); }

Result<std::vector<bool>> ResolveReduceAxes(const std::vector<int64_t>* axes, bool noop,
                                            int64_t rank) {
  std::vector<bool> mask(static_cast<size_t>(rank), false);
  if (axes == nullptr || axes->empty()) {
    if (!noop) mask.assign(static_cast<size_t>(rank), true);
    return mask;
  }
  for (int64_t a : *axes) {
    if (a < -rank || a >= rank) {
      return MakeError(StatusCode::kOutOfRange, "axis ", a, " is out of range for a rank-", rank,
                       " input (allowed: ", -rank, " to ", rank - 1, ")");
    }
    size_t n = static_cast<size_t>(a < 0 ? a + rank : a);
    if (mask[n]) {
      return MakeError(StatusCode::kInvalidModel, "axis ", a, " names dimension ", n,
                       ", which is already listed");
    }
    mask[n] = true;
  }
  return mask;
}

std::optional<DType> StashDType(int64_t code) {
  switch (code) {  // onnx::TensorProto::DataType codes
    case 1: return DType::kFloat32;
    case 10: return DType::kFloat16;
    case 11: return DType::kFloat64;
    case 16: return DType::kBFloat16;
    default: return std::nullopt;
  }
}

Status RequireDType(const InferContext& ctx, size_t i, bool (*ok)(DType), std::string_view what) {
  if (!ctx.has_input(i) || ok(ctx.input_dtype(i))) return Status::Ok();
  return ctx.Error(StatusCode::kUnsupported, "input ", i, " has dtype ",
                   DTypeName(ctx.input_dtype(i)), " but ", what, " is required");
}

Status RequireSameDType(const InferContext& ctx, size_t i, size_t ref) {
  if (!ctx.has_input(i) || ctx.input_dtype(i) == ctx.input_dtype(ref)) return Status::Ok();
  return ctx.Error(StatusCode::kInvalidModel, "input ", i, " has dtype ",
                   DTypeName(ctx.input_dtype(i)), " but must match input ", ref, " (",
                   DTypeName(ctx.input_dtype(ref)), ")");
}

Status RequireRank(const InferContext& ctx, size_t i, size_t rank) {
  if (!ctx.has_input(i) || ctx.input_shape(i) == nullptr) return Status::Ok();
  if (ctx.input_shape(i)->rank() == rank) return Status::Ok();
  return ctx.Error(StatusCode::kInvalidModel, "input ", i, " has shape ",
                   ctx.input_shape(i)->ToString(), " but must have rank ", rank);
}

}  // namespace reduction

namespace {

using reduction::RequireDType;

bool IsNumericOrBool(DType t) { return reduction::IsNumericDType(t) || t == DType::kBool; }

Status InferReduce(InferContext& ctx) {
  bool bool_ok = ctx.node().op == OpKind::kReduceMax || ctx.node().op == OpKind::kReduceMin;
  if (bool_ok) {
    FRT_RETURN_IF_ERROR(RequireDType(ctx, 0, IsNumericOrBool, "a numeric type or bool"));
  } else {
    FRT_RETURN_IF_ERROR(RequireDType(ctx, 0, reduction::IsNumericDType, "a numeric type"));
  }
  DType dt = ctx.input_dtype(0);
  bool keepdims = ctx.attrs().GetInt("keepdims", 1) != 0;
  bool noop = ctx.attrs().GetInt("noop_with_empty_axes", 0) != 0;
  std::optional<std::vector<int64_t>> axes;
  if (ctx.has_input(1)) {
    if (ctx.input_dtype(1) != DType::kInt64) {
      return ctx.Error(StatusCode::kInvalidModel, "axes (input 1) has dtype ",
                       DTypeName(ctx.input_dtype(1)), " but must be i64");
    }
    FRT_RETURN_IF_ERROR(reduction::RequireRank(ctx, 1, 1));
    axes = KnownInts(ctx, 1);
    const Shape* as = ctx.input_shape(1);
    if (!axes && as && as->rank() == 1 && as->dims()[0].is_static() && as->dims()[0].value() == 0) {
      axes = std::vector<int64_t>();  // an empty axes input needs no value
    }
  }
  const Shape* in = ctx.input_shape(0);
  if (in == nullptr) {
    ctx.SetOutputDType(0, dt);
    return Status::Ok();
  }
  int64_t rank = static_cast<int64_t>(in->rank());
  if (ctx.has_input(1) && !axes) {
    // Which axes is unknown; the output rank is known when dims are kept, or
    // when the axes input has a known non-zero length.
    const Shape* as = ctx.input_shape(1);
    if (keepdims) {
      ctx.SetOutput(0, dt, UnknownShape(in->rank()));
    } else if (as && as->rank() == 1 && as->dims()[0].is_static() && as->dims()[0].value() > 0) {
      int64_t n = as->dims()[0].value();
      if (n > rank) {
        return ctx.Error(StatusCode::kInvalidModel, "axes has ", n,
                         " entries but the input has rank ", rank);
      }
      ctx.SetOutput(0, dt, UnknownShape(static_cast<size_t>(rank - n)));
    } else {
      ctx.SetOutputDType(0, dt);
    }
    return Status::Ok();
  }
  auto mask = reduction::ResolveReduceAxes(axes ? &*axes : nullptr, noop, rank);
  if (!mask.ok()) return ctx.Error(mask.status().code(), mask.status().message());
  std::vector<Dim> out;
  for (size_t d = 0; d < in->rank(); ++d) {
    if (!(*mask)[d]) {
      out.push_back((*in)[d]);
    } else if (keepdims) {
      out.emplace_back(1);
    }
  }
  ctx.SetOutput(0, dt, Shape(std::move(out)));
  return Status::Ok();
}

Status InferArgReduce(InferContext& ctx) {
  FRT_RETURN_IF_ERROR(RequireDType(ctx, 0, reduction::IsNumericDType, "a numeric type"));
  const Shape* in = ctx.input_shape(0);
  if (in == nullptr) {
    ctx.SetOutputDType(0, DType::kInt64);
    return Status::Ok();
  }
  int64_t axis_attr = ctx.attrs().GetInt("axis", 0);
  auto axis = NormalizeAxis(axis_attr, static_cast<int64_t>(in->rank()));
  if (!axis.ok()) return ctx.Error(StatusCode::kOutOfRange, axis.status().message());
  const Dim& len = (*in)[static_cast<size_t>(*axis)];
  if (len.is_static() && len.value() == 0) {
    return ctx.Error(StatusCode::kInvalidArgument, "axis ", axis_attr, " of input shape ",
                     in->ToString(),
                     " is empty; an index of the extreme needs at least one element");
  }
  bool keepdims = ctx.attrs().GetInt("keepdims", 1) != 0;
  std::vector<Dim> out;
  for (size_t d = 0; d < in->rank(); ++d) {
    if (static_cast<int64_t>(d) != *axis) {
      out.push_back((*in)[d]);
    } else if (keepdims) {
      out.emplace_back(1);
    }
  }
  ctx.SetOutput(0, DType::kInt64, Shape(std::move(out)));
  return Status::Ok();
}

}  // namespace

void RegisterReductionReduceOps(OpRegistry& r) {
  // Sums, means and norms lose accuracy in reduced precision; max/min only select.
  for (OpKind k : {OpKind::kReduceSum, OpKind::kReduceMean, OpKind::kReduceProd,
                   OpKind::kReduceL1, OpKind::kReduceL2, OpKind::kReduceLogSum,
                   OpKind::kReduceLogSumExp, OpKind::kReduceSumSquare}) {
    r.Register({k, FusionKind::kReduction, PrecisionPolicy::kNever, 1, 2, 1, 1, InferReduce});
  }
  for (OpKind k : {OpKind::kReduceMax, OpKind::kReduceMin}) {
    r.Register({k, FusionKind::kReduction, PrecisionPolicy::kFollow, 1, 2, 1, 1, InferReduce});
  }
  for (OpKind k : {OpKind::kArgMax, OpKind::kArgMin}) {
    r.Register({k, FusionKind::kReduction, PrecisionPolicy::kFollow, 1, 1, 1, 1, InferArgReduce});
  }
}

void RegisterReductionOps(OpRegistry& r) {
  RegisterReductionReduceOps(r);
  RegisterReductionScanOps(r);
  RegisterReductionNormOps(r);
  RegisterReductionSoftmaxOps(r);
}

}  // namespace frt
