// Schemas of the pooling ops: MaxPool (with its optional Indices output),
// AveragePool, LpPool, the global pools and MaxUnpool. Window geometry comes
// from nn_window.h, shared with the kernels.
#include "ir/ops/nn_schema_util.h"
#include "ir/ops/nn_window.h"

namespace frt::nn {
namespace {

bool IsMaxPoolType(DType t) { return IsComputeFloat(t) || IsQuant8(t); }

// Checks X is [N, C, spatial...] and returns its rank (0 when unknown).
Result<size_t> PoolInputRank(const InferContext& ctx, size_t min_rank) {
  const Shape* xs = ctx.input_shape(0);
  if (!xs) return size_t{0};
  if (xs->rank() < min_rank) {
    return ctx.Error(StatusCode::kInvalidModel, "input has shape ", xs->ToString(),
                     " but pooling needs rank ", min_rank, " or more ([N, C, spatial...])");
  }
  return xs->rank();
}

// Output shape of a windowed pool, set on outputs [0, num_outputs).
Status InferWindowPool(InferContext& ctx, DType dtype, bool with_indices) {
  FRT_ASSIGN_OR_RETURN(size_t rank, PoolInputRank(ctx, 3));
  if (rank == 0) {
    ctx.SetOutputDType(0, dtype);
    if (with_indices) ctx.SetOutputDType(1, DType::kInt64);
    // The attributes are still checked once the rank is known, at run time.
    return Status::Ok();
  }
  const Shape& xs = *ctx.input_shape(0);
  FRT_ASSIGN_OR_RETURN(Window w, ReadWindow(ctx.node(), WindowKind::kPool, rank - 2, nullptr));
  std::vector<Dim> out(rank);
  out[0] = xs[0];
  out[1] = xs[1];
  for (size_t d = 0; d + 2 < rank; ++d) {
    int64_t in = xs[d + 2].is_static() ? xs[d + 2].value() : -1;
    FRT_ASSIGN_OR_RETURN(AxisGeometry g, ResolveAxis(ctx.node(), WindowKind::kPool, w, d, in));
    if (g.out >= 0) out[d + 2] = Dim(g.out);
  }
  Shape shape(std::move(out));
  ctx.SetOutput(0, dtype, shape);
  if (with_indices) ctx.SetOutput(1, DType::kInt64, shape);
  return Status::Ok();
}

constexpr std::string_view kFloatTypes = "a float type (f16, bf16, f32, f64)";

Status InferMaxPool(InferContext& ctx) {
  FRT_RETURN_IF_ERROR(RequireDType(ctx, 0, "X", IsMaxPoolType,
                                   "a float type (f16, bf16, f32, f64), int8 or uint8"));
  int64_t order = ctx.attrs().GetInt("storage_order", 0);
  if (order != 0 && order != 1) {
    return ctx.Error(StatusCode::kInvalidModel, "storage_order is ", order,
                     " but must be 0 (row major) or 1 (column major)");
  }
  return InferWindowPool(ctx, ctx.input_dtype(0), ctx.num_outputs() > 1);
}

Status InferAveragePool(InferContext& ctx) {
  FRT_RETURN_IF_ERROR(RequireDType(ctx, 0, "X", IsComputeFloat, kFloatTypes));
  return InferWindowPool(ctx, ctx.input_dtype(0), false);
}

Status CheckLpNorm(const InferContext& ctx) {
  int64_t p = ctx.attrs().GetInt("p", 2);
  if (p < 1) {
    return ctx.Error(StatusCode::kInvalidModel, "p is ", p, " but must be at least 1");
  }
  return Status::Ok();
}

Status InferLpPool(InferContext& ctx) {
  FRT_RETURN_IF_ERROR(RequireDType(ctx, 0, "X", IsComputeFloat, kFloatTypes));
  FRT_RETURN_IF_ERROR(CheckLpNorm(ctx));
  return InferWindowPool(ctx, ctx.input_dtype(0), false);
}

// Global pools: [N, C, d1, ...] -> [N, C, 1, ...].
Status InferGlobalPool(InferContext& ctx) {
  if (ctx.node().op == OpKind::kGlobalMaxPool) {
    FRT_RETURN_IF_ERROR(RequireDType(ctx, 0, "X", IsMaxPoolType,
                                     "a float type (f16, bf16, f32, f64), int8 or uint8"));
  } else {
    FRT_RETURN_IF_ERROR(RequireDType(ctx, 0, "X", IsComputeFloat, kFloatTypes));
  }
  if (ctx.node().op == OpKind::kGlobalLpPool) FRT_RETURN_IF_ERROR(CheckLpNorm(ctx));
  FRT_ASSIGN_OR_RETURN(size_t rank, PoolInputRank(ctx, 2));
  if (rank == 0) {
    ctx.SetOutputDType(0, ctx.input_dtype(0));
    return Status::Ok();
  }
  std::vector<Dim> out(rank, Dim(1));
  out[0] = (*ctx.input_shape(0))[0];
  out[1] = (*ctx.input_shape(0))[1];
  ctx.SetOutput(0, ctx.input_dtype(0), Shape(std::move(out)));
  return Status::Ok();
}

Status InferMaxUnpool(InferContext& ctx) {
  FRT_RETURN_IF_ERROR(RequireDType(ctx, 0, "X", IsComputeFloat, kFloatTypes));
  FRT_RETURN_IF_ERROR(RequireSameDType(ctx, 1, "I", DType::kInt64, "the index type"));
  FRT_RETURN_IF_ERROR(RequireSameDType(ctx, 2, "output_shape", DType::kInt64, "the index type"));
  const DType dtype = ctx.input_dtype(0);
  FRT_ASSIGN_OR_RETURN(size_t rank, PoolInputRank(ctx, 3));
  const Shape* is = ctx.input_shape(1);
  if (rank && is) {
    bool same = is->rank() == rank;
    for (size_t d = 0; same && d < rank; ++d) {
      same = !DimsConflict((*is)[d], (*ctx.input_shape(0))[d]);
    }
    if (!same) {
      return ctx.Error(StatusCode::kInvalidModel, "indices have shape ", is->ToString(),
                       " but must have the shape of X ", ctx.input_shape(0)->ToString());
    }
  }
  if (rank == 0) {
    ctx.SetOutputDType(0, dtype);
    return Status::Ok();
  }
  const Shape& xs = *ctx.input_shape(0);
  FRT_ASSIGN_OR_RETURN(Window w, ReadWindow(ctx.node(), WindowKind::kPool, rank - 2, nullptr));
  // Unpooling inverts a floor-mode pool: (in - 1) * stride + kernel - pads.
  std::vector<Dim> inferred(rank);
  inferred[0] = xs[0];
  inferred[1] = xs[1];
  for (size_t d = 0; d + 2 < rank; ++d) {
    if (!xs[d + 2].is_static()) continue;
    int64_t scaled = 0;
    if (__builtin_mul_overflow(xs[d + 2].value(), w.strides[d], &scaled) ||
        scaled > (int64_t{1} << 56)) {
      return ctx.Error(StatusCode::kOutOfRange, "spatial axis ", d, ": input size ",
                       xs[d + 2].value(), " times stride ", w.strides[d], " is too large");
    }
    int64_t v =
        (xs[d + 2].value() - 1) * w.strides[d] + w.kernel[d] - w.pads[d] - w.pads[d + rank - 2];
    if (v < 0) {
      return ctx.Error(StatusCode::kInvalidModel, "spatial axis ", d, ": pads ", w.pads[d], "+",
                       w.pads[d + rank - 2], " exceed the unpooled size");
    }
    inferred[d + 2] = Dim(v);
  }
  if (!ctx.has_input(2)) {
    ctx.SetOutput(0, dtype, Shape(std::move(inferred)));
    return Status::Ok();
  }
  auto shape = KnownInts(ctx, 2);
  if (!shape) {
    ctx.SetOutput(0, dtype, UnknownShape(rank));
    return Status::Ok();
  }
  if (shape->size() != rank) {
    return ctx.Error(StatusCode::kInvalidModel, "output_shape ", DimsToString(*shape), " has ",
                     shape->size(), " values but X has rank ", rank);
  }
  for (size_t d = 0; d < rank; ++d) {
    const Dim& in = inferred[d];
    // The unpooled values land in the leading corner of a larger output.
    bool smaller = in.is_static() && (*shape)[d] < in.value();
    bool batch_mismatch = d < 2 && in.is_static() && (*shape)[d] != in.value();
    if (smaller || batch_mismatch) {
      return ctx.Error(StatusCode::kInvalidModel, "output_shape ", DimsToString(*shape),
                       " is incompatible with the unpooled shape ", Shape(inferred).ToString(),
                       " (N and C must match; spatial sizes may only grow)");
    }
  }
  ctx.SetOutput(0, dtype, Shape::FromDims(*shape));
  return Status::Ok();
}

}  // namespace

void RegisterNnPoolOps(OpRegistry& r) {
  r.Register(
      {OpKind::kMaxPool, FusionKind::kOpaque, PrecisionPolicy::kAlways, 1, 1, 1, 2, InferMaxPool});
  r.Register({OpKind::kAveragePool, FusionKind::kOpaque, PrecisionPolicy::kAlways, 1, 1, 1, 1,
              InferAveragePool});
  r.Register(
      {OpKind::kLpPool, FusionKind::kOpaque, PrecisionPolicy::kNever, 1, 1, 1, 1, InferLpPool});
  for (OpKind k : {OpKind::kGlobalAveragePool, OpKind::kGlobalMaxPool}) {
    r.Register({k, FusionKind::kReduction, PrecisionPolicy::kAlways, 1, 1, 1, 1, InferGlobalPool});
  }
  r.Register({OpKind::kGlobalLpPool, FusionKind::kReduction, PrecisionPolicy::kNever, 1, 1, 1, 1,
              InferGlobalPool});
  r.Register({OpKind::kMaxUnpool, FusionKind::kOpaque, PrecisionPolicy::kFollow, 2, 3, 1, 1,
              InferMaxUnpool});
}

}  // namespace frt::nn
