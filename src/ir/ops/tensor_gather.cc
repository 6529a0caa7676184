// Schemas of the indexed reads and writes: Gather, GatherElements, GatherND,
// ScatterElements, ScatterND (reductions none/add/mul/max/min) and OneHot.
// Index values are checked by the kernels (they are data); inference checks
// dtypes, ranks and the shape relations between data, indices and updates.
#include "ir/ops/tensor_schema_util.h"

namespace frt::tensor {
namespace {

constexpr std::initializer_list<DType> kIndexTypes = {DType::kInt32, DType::kInt64};

Status InferGather(InferContext& ctx) {
  FRT_RETURN_IF_ERROR(RequireDTypeIn(ctx, 1, "indices", kIndexTypes));
  DType dt = ctx.input_dtype(0);
  const Shape* data = ctx.input_shape(0);
  const Shape* idx = ctx.input_shape(1);
  if (data && data->rank() == 0) {
    return ctx.Error(StatusCode::kInvalidModel, "data must have rank >= 1, got a scalar");
  }
  if (!data || !idx) {
    ctx.SetOutputDType(0, dt);
    return Status::Ok();
  }
  FRT_ASSIGN_OR_RETURN(int64_t axis, InferAxis(ctx, ctx.attrs().GetInt("axis", 0),
                                               static_cast<int64_t>(data->rank())));
  std::vector<Dim> out(data->dims().begin(), data->dims().begin() + axis);
  out.insert(out.end(), idx->dims().begin(), idx->dims().end());
  out.insert(out.end(), data->dims().begin() + axis + 1, data->dims().end());
  ctx.SetOutput(0, dt, Shape(std::move(out)));
  return Status::Ok();
}

Status InferGatherElements(InferContext& ctx) {
  FRT_RETURN_IF_ERROR(RequireDTypeIn(ctx, 1, "indices", kIndexTypes));
  DType dt = ctx.input_dtype(0);
  const Shape* data = ctx.input_shape(0);
  const Shape* idx = ctx.input_shape(1);
  if (data) {
    if (data->rank() == 0) {
      return ctx.Error(StatusCode::kInvalidModel, "data must have rank >= 1, got a scalar");
    }
    FRT_RETURN_IF_ERROR(
        InferAxis(ctx, ctx.attrs().GetInt("axis", 0), static_cast<int64_t>(data->rank())).status());
    if (idx && idx->rank() != data->rank()) {
      return ctx.Error(StatusCode::kInvalidModel, "indices has shape ", idx->ToString(),
                       " but data has shape ", data->ToString(), "; ranks must match");
    }
  }
  if (idx) {
    ctx.SetOutput(0, dt, *idx);
  } else {
    ctx.SetOutputDType(0, dt);
  }
  return Status::Ok();
}

Status InferGatherND(InferContext& ctx) {
  FRT_RETURN_IF_ERROR(RequireDTypeIn(ctx, 1, "indices", {DType::kInt64}));
  DType dt = ctx.input_dtype(0);
  const Shape* data = ctx.input_shape(0);
  const Shape* idx = ctx.input_shape(1);
  int64_t b = ctx.attrs().GetInt("batch_dims", 0);
  if (b < 0) return ctx.Error(StatusCode::kInvalidModel, "batch_dims ", b, " is negative");
  if (!data || !idx) {
    ctx.SetOutputDType(0, dt);
    return Status::Ok();
  }
  int64_t r = static_cast<int64_t>(data->rank());
  int64_t q = static_cast<int64_t>(idx->rank());
  if (r < 1 || q < 1 || b >= std::min(r, q)) {
    return ctx.Error(StatusCode::kInvalidModel, "data ", data->ToString(), " and indices ",
                     idx->ToString(), " must have rank >= 1 and > batch_dims ", b);
  }
  for (int64_t i = 0; i < b; ++i) {
    if (DimsConflict((*data)[i], (*idx)[i])) {
      return ctx.Error(StatusCode::kInvalidModel, "batch dimension ", i, " differs: data ",
                       data->ToString(), ", indices ", idx->ToString());
    }
  }
  const Dim& last = (*idx)[q - 1];
  if (!last.is_static()) {
    ctx.SetOutputDType(0, dt);
    return Status::Ok();
  }
  if (last.value() < 1 || last.value() > r - b) {
    return ctx.Error(StatusCode::kInvalidModel, "the last dimension of indices ", idx->ToString(),
                     " must be in [1, ", r - b, "] for data ", data->ToString());
  }
  std::vector<Dim> out(idx->dims().begin(), idx->dims().end() - 1);
  for (int64_t i = 0; i < b; ++i) out[i] = MergeDims(out[i], (*data)[i]);
  out.insert(out.end(), data->dims().begin() + b + last.value(), data->dims().end());
  ctx.SetOutput(0, dt, Shape(std::move(out)));
  return Status::Ok();
}

Status CheckReduction(const InferContext& ctx) {
  std::string red = ctx.attrs().GetString("reduction", "none");
  if (red != "none" && red != "add" && red != "mul" && red != "max" && red != "min") {
    return ctx.Error(StatusCode::kInvalidModel, "reduction \"", red,
                     "\" must be none, add, mul, max or min");
  }
  return Status::Ok();
}

Status InferScatterElements(InferContext& ctx) {
  FRT_RETURN_IF_ERROR(RequireDTypeIn(ctx, 1, "indices", kIndexTypes));
  if (ctx.input_dtype(2) != ctx.input_dtype(0)) {
    return ctx.Error(StatusCode::kInvalidModel, "updates has dtype ", DTypeName(ctx.input_dtype(2)),
                     " but data has ", DTypeName(ctx.input_dtype(0)));
  }
  FRT_RETURN_IF_ERROR(CheckReduction(ctx));
  const Shape* data = ctx.input_shape(0);
  const Shape* idx = ctx.input_shape(1);
  const Shape* upd = ctx.input_shape(2);
  if (data) {
    if (data->rank() == 0) {
      return ctx.Error(StatusCode::kInvalidModel, "data must have rank >= 1, got a scalar");
    }
    FRT_RETURN_IF_ERROR(
        InferAxis(ctx, ctx.attrs().GetInt("axis", 0), static_cast<int64_t>(data->rank())).status());
    if (idx && idx->rank() != data->rank()) {
      return ctx.Error(StatusCode::kInvalidModel, "indices has shape ", idx->ToString(),
                       " but data has shape ", data->ToString(), "; ranks must match");
    }
  }
  if (idx && upd) {
    bool same = idx->rank() == upd->rank();
    for (size_t i = 0; same && i < idx->rank(); ++i) same = !DimsConflict((*idx)[i], (*upd)[i]);
    if (!same) {
      return ctx.Error(StatusCode::kInvalidModel, "updates has shape ", upd->ToString(),
                       " but indices has shape ", idx->ToString(), "; they must match");
    }
  }
  return InferSameAsInput0(ctx);
}

Status InferScatterND(InferContext& ctx) {
  FRT_RETURN_IF_ERROR(RequireDTypeIn(ctx, 1, "indices", {DType::kInt64}));
  if (ctx.input_dtype(2) != ctx.input_dtype(0)) {
    return ctx.Error(StatusCode::kInvalidModel, "updates has dtype ", DTypeName(ctx.input_dtype(2)),
                     " but data has ", DTypeName(ctx.input_dtype(0)));
  }
  FRT_RETURN_IF_ERROR(CheckReduction(ctx));
  const Shape* data = ctx.input_shape(0);
  const Shape* idx = ctx.input_shape(1);
  const Shape* upd = ctx.input_shape(2);
  if (data && idx && upd) {
    int64_t r = static_cast<int64_t>(data->rank());
    int64_t q = static_cast<int64_t>(idx->rank());
    if (r < 1 || q < 1) {
      return ctx.Error(StatusCode::kInvalidModel, "data ", data->ToString(), " and indices ",
                       idx->ToString(), " must have rank >= 1");
    }
    const Dim& last = (*idx)[q - 1];
    if (last.is_static()) {
      int64_t k = last.value();
      if (k < 1 || k > r) {
        return ctx.Error(StatusCode::kInvalidModel, "the last dimension of indices ",
                         idx->ToString(), " must be in [1, ", r, "] for data ", data->ToString());
      }
      std::vector<Dim> want(idx->dims().begin(), idx->dims().end() - 1);
      want.insert(want.end(), data->dims().begin() + k, data->dims().end());
      bool same = want.size() == upd->rank();
      for (size_t i = 0; same && i < want.size(); ++i) same = !DimsConflict(want[i], (*upd)[i]);
      if (!same) {
        return ctx.Error(StatusCode::kInvalidModel, "updates has shape ", upd->ToString(),
                         " but must be ", Shape(want).ToString(), " for data ", data->ToString(),
                         " and indices ", idx->ToString());
      }
    }
  }
  return InferSameAsInput0(ctx);
}

Status InferOneHot(InferContext& ctx) {
  if (!IsFloat(ctx.input_dtype(0)) && !IsInteger(ctx.input_dtype(0))) {
    return ctx.Error(StatusCode::kInvalidModel, "input 0 (indices) has dtype ",
                     DTypeName(ctx.input_dtype(0)), " but must be numeric");
  }
  if (!IsFloat(ctx.input_dtype(1)) && !IsInteger(ctx.input_dtype(1))) {
    return ctx.Error(StatusCode::kInvalidModel, "input 1 (depth) has dtype ",
                     DTypeName(ctx.input_dtype(1)), " but must be numeric");
  }
  FRT_RETURN_IF_ERROR(RequireScalarLike(ctx, 1, "depth"));
  FRT_RETURN_IF_ERROR(RequireRank(ctx, 2, "values", 1));
  const Shape* vals = ctx.input_shape(2);
  if (vals && vals->rank() == 1 && DimsConflict((*vals)[0], Dim(2))) {
    return ctx.Error(StatusCode::kInvalidModel, "values has shape ", vals->ToString(),
                     " but must hold exactly 2 elements (off, on)");
  }
  DType dt = ctx.input_dtype(2);
  const Shape* idx = ctx.input_shape(0);
  if (!idx) {
    ctx.SetOutputDType(0, dt);
    return Status::Ok();
  }
  int64_t rank = static_cast<int64_t>(idx->rank()) + 1;
  FRT_ASSIGN_OR_RETURN(int64_t axis, InferAxis(ctx, ctx.attrs().GetInt("axis", -1), rank));
  Dim depth;
  if (const Tensor* d = ctx.input_value(1); d && d->num_elements() == 1) {
    double v = d->GetAsDouble(0);
    if (!(v >= 1.0 && v < 9.0e18)) {
      return ctx.Error(StatusCode::kInvalidModel, "depth ", v, " must be >= 1");
    }
    depth = Dim(static_cast<int64_t>(v));
  }
  std::vector<Dim> out = idx->dims();
  out.insert(out.begin() + axis, depth);
  ctx.SetOutput(0, dt, Shape(std::move(out)));
  return Status::Ok();
}

}  // namespace

void RegisterTensorGatherOps(OpRegistry& r) {
  constexpr auto kInj = FusionKind::kInjective;
  constexpr auto kFollow = PrecisionPolicy::kFollow;
  r.Register({OpKind::kGather, kInj, kFollow, 2, 2, 1, 1, InferGather});
  r.Register({OpKind::kGatherElements, kInj, kFollow, 2, 2, 1, 1, InferGatherElements});
  r.Register({OpKind::kGatherND, kInj, kFollow, 2, 2, 1, 1, InferGatherND});
  r.Register(
      {OpKind::kScatterElements, FusionKind::kOpaque, kFollow, 3, 3, 1, 1, InferScatterElements});
  r.Register({OpKind::kScatterND, FusionKind::kOpaque, kFollow, 3, 3, 1, 1, InferScatterND});
  r.Register({OpKind::kOneHot, FusionKind::kOpaque, kFollow, 3, 3, 1, 1, InferOneHot});
}

}  // namespace frt::tensor
