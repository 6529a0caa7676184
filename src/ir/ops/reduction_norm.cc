// Schemas of the normalizations: LayerNormalization (opset 17),
// BatchNormalization (opset 15, inference and training mode),
// InstanceNormalization, MeanVarianceNormalization, LpNormalization and LRN.
// All of them keep the input's shape; they differ in which elements share
// statistics and in the shapes of their parameter inputs, checked here.
#include "ir/infer_helpers.h"
#include "ir/ops/reduction_ops.h"

namespace frt {
namespace {

using reduction::IsComputeFloatDType;
using reduction::RequireDType;
using reduction::RequireSameDType;

constexpr std::string_view kFloatTypes = "f16, bf16, f32 or f64";

// Rank of input 0 when known and at least `min_rank`; -1 when unknown.
Result<int64_t> InputRank(const InferContext& ctx, size_t min_rank, std::string_view layout) {
  const Shape* in = ctx.input_shape(0);
  if (in == nullptr) return int64_t{-1};
  if (in->rank() < min_rank) {
    return ctx.Error(StatusCode::kInvalidModel, "input 0 has shape ", in->ToString(),
                     " but must have rank ", min_rank, " or more (", layout, ")");
  }
  return static_cast<int64_t>(in->rank());
}

// Checks that input i is a 1-D tensor whose length matches dim 1 (channels) of input 0.
Status RequireChannelVector(const InferContext& ctx, size_t i, std::string_view name) {
  if (!ctx.has_input(i) || ctx.input_shape(i) == nullptr) return Status::Ok();
  const Shape& s = *ctx.input_shape(i);
  const Shape* in = ctx.input_shape(0);
  bool ok = s.rank() == 1;
  if (ok && in && in->rank() >= 2 && s[0].is_static() && (*in)[1].is_static()) {
    ok = s[0].value() == (*in)[1].value();
  }
  if (ok) return Status::Ok();
  return ctx.Error(StatusCode::kInvalidModel, "input ", i, " (", name, ") has shape ",
                   s.ToString(), " but must be 1-D with one value per channel (dim 1 of input 0",
                   in && in->rank() >= 2 ? StrCat(" = ", (*in)[1].ToString()) : std::string(), ")");
}

// True unless `s` surely fails to broadcast unidirectionally onto `target`.
bool BroadcastsOnto(const Shape& s, const Shape& target) {
  if (s.rank() > target.rank()) return false;
  size_t lead = target.rank() - s.rank();
  for (size_t d = 0; d < s.rank(); ++d) {
    const Dim& a = s[d];
    const Dim& b = target[lead + d];
    if (a.is_static() && a.value() != 1 && b.is_static() && a.value() != b.value()) return false;
  }
  return true;
}

Status InferLayerNorm(InferContext& ctx) {
  FRT_RETURN_IF_ERROR(RequireDType(ctx, 0, IsComputeFloatDType, kFloatTypes));
  FRT_RETURN_IF_ERROR(RequireSameDType(ctx, 1, 0));
  FRT_RETURN_IF_ERROR(RequireSameDType(ctx, 2, 0));
  int64_t stash = ctx.attrs().GetInt("stash_type", 1);
  std::optional<DType> stash_dt = reduction::StashDType(stash);
  if (!stash_dt) {
    return ctx.Error(StatusCode::kUnsupported, "stash_type ", stash,
                     " is not a supported float type (1 = f32, 10 = f16, 11 = f64, 16 = bf16)");
  }
  DType dt = ctx.input_dtype(0);
  const Shape* in = ctx.input_shape(0);
  if (in == nullptr) {
    ctx.SetOutputDType(0, dt);
    ctx.SetOutputDType(1, *stash_dt);
    ctx.SetOutputDType(2, *stash_dt);
    return Status::Ok();
  }
  int64_t axis_attr = ctx.attrs().GetInt("axis", -1);
  auto axis = NormalizeAxis(axis_attr, static_cast<int64_t>(in->rank()));
  if (!axis.ok()) return ctx.Error(StatusCode::kOutOfRange, axis.status().message());
  // Scale and B broadcast unidirectionally onto X.
  for (size_t i : {size_t{1}, size_t{2}}) {
    if (!ctx.has_input(i) || ctx.input_shape(i) == nullptr) continue;
    if (!BroadcastsOnto(*ctx.input_shape(i), *in)) {
      return ctx.Error(StatusCode::kInvalidModel, "input ", i, " has shape ",
                       ctx.input_shape(i)->ToString(), " which does not broadcast onto X's shape ",
                       in->ToString());
    }
  }
  ctx.SetOutput(0, dt, *in);
  Shape stats = *in;
  for (size_t d = static_cast<size_t>(*axis); d < in->rank(); ++d) stats[d] = Dim(1);
  ctx.SetOutput(1, *stash_dt, stats);
  ctx.SetOutput(2, *stash_dt, stats);
  return Status::Ok();
}

Status InferBatchNorm(InferContext& ctx) {
  FRT_RETURN_IF_ERROR(RequireDType(ctx, 0, IsComputeFloatDType, kFloatTypes));
  FRT_RETURN_IF_ERROR(RequireDType(ctx, 1, IsComputeFloatDType, kFloatTypes));
  FRT_RETURN_IF_ERROR(RequireSameDType(ctx, 2, 1));
  FRT_RETURN_IF_ERROR(RequireDType(ctx, 3, IsComputeFloatDType, kFloatTypes));
  FRT_RETURN_IF_ERROR(RequireSameDType(ctx, 4, 3));
  FRT_RETURN_IF_ERROR(InputRank(ctx, 2, "N x C x D1 x ...").status());
  const char* names[] = {"X", "scale", "B", "input_mean", "input_var"};
  for (size_t i = 1; i < 5; ++i) FRT_RETURN_IF_ERROR(RequireChannelVector(ctx, i, names[i]));
  bool training = ctx.attrs().GetInt("training_mode", 0) != 0;
  if (!training && (ctx.node().has_output(1) || ctx.node().has_output(2))) {
    return ctx.Error(StatusCode::kInvalidModel,
                     "outputs running_mean and running_var exist only in training mode "
                     "(training_mode=1); this node has training_mode=0");
  }
  FRT_RETURN_IF_ERROR(InferSameAsInput0(ctx));
  DType stat_dt = ctx.input_dtype(3);
  if (const Shape* mean = ctx.input_shape(3)) {
    ctx.SetOutput(1, stat_dt, *mean);
    ctx.SetOutput(2, stat_dt, *mean);
  } else {
    ctx.SetOutputDType(1, stat_dt);
    ctx.SetOutputDType(2, stat_dt);
  }
  return Status::Ok();
}

Status InferInstanceNorm(InferContext& ctx) {
  FRT_RETURN_IF_ERROR(RequireDType(ctx, 0, IsComputeFloatDType, kFloatTypes));
  FRT_RETURN_IF_ERROR(RequireSameDType(ctx, 1, 0));
  FRT_RETURN_IF_ERROR(RequireSameDType(ctx, 2, 0));
  FRT_RETURN_IF_ERROR(InputRank(ctx, 2, "N x C x D1 x ...").status());
  FRT_RETURN_IF_ERROR(RequireChannelVector(ctx, 1, "scale"));
  FRT_RETURN_IF_ERROR(RequireChannelVector(ctx, 2, "B"));
  return InferSameAsInput0(ctx);
}

Status InferMvn(InferContext& ctx) {
  FRT_RETURN_IF_ERROR(RequireDType(ctx, 0, IsComputeFloatDType, kFloatTypes));
  if (const Shape* in = ctx.input_shape(0)) {
    std::vector<int64_t> axes = ctx.attrs().GetInts("axes", {0, 2, 3});
    auto mask = reduction::ResolveReduceAxes(&axes, false, static_cast<int64_t>(in->rank()));
    if (!mask.ok()) {
      return ctx.Error(mask.status().code(), "attribute axes: ", mask.status().message());
    }
  }
  return InferSameAsInput0(ctx);
}

Status InferLpNorm(InferContext& ctx) {
  FRT_RETURN_IF_ERROR(RequireDType(ctx, 0, IsComputeFloatDType, kFloatTypes));
  int64_t p = ctx.attrs().GetInt("p", 2);
  if (p != 1 && p != 2) {
    return ctx.Error(StatusCode::kInvalidModel, "p is ", p, " but must be 1 or 2");
  }
  if (const Shape* in = ctx.input_shape(0)) {
    auto axis = NormalizeAxis(ctx.attrs().GetInt("axis", -1), static_cast<int64_t>(in->rank()));
    if (!axis.ok()) return ctx.Error(StatusCode::kOutOfRange, axis.status().message());
  }
  return InferSameAsInput0(ctx);
}

Status InferLrn(InferContext& ctx) {
  FRT_RETURN_IF_ERROR(RequireDType(ctx, 0, IsComputeFloatDType, kFloatTypes));
  FRT_RETURN_IF_ERROR(InputRank(ctx, 2, "N x C x D1 x ...").status());
  if (!ctx.attrs().Has("size")) {
    return ctx.Error(StatusCode::kInvalidModel, "required attribute size is missing");
  }
  int64_t size = ctx.attrs().GetInt("size", 0);
  if (size <= 0) {
    return ctx.Error(StatusCode::kInvalidModel, "size is ", size, " but must be positive");
  }
  return InferSameAsInput0(ctx);
}

}  // namespace

void RegisterReductionNormOps(OpRegistry& r) {
  // Mean/variance statistics need wide accumulation: never reduced precision.
  r.Register({OpKind::kLayerNormalization, FusionKind::kOpaque, PrecisionPolicy::kFp32Inside, 2, 3, 1,
              3, InferLayerNorm});
  r.Register({OpKind::kBatchNormalization, FusionKind::kOpaque, PrecisionPolicy::kNever, 5, 5, 1,
              3, InferBatchNorm});
  r.Register({OpKind::kInstanceNormalization, FusionKind::kOpaque, PrecisionPolicy::kNever, 3, 3,
              1, 1, InferInstanceNorm});
  r.Register({OpKind::kMeanVarianceNormalization, FusionKind::kOpaque, PrecisionPolicy::kNever, 1,
              1, 1, 1, InferMvn});
  r.Register({OpKind::kLpNormalization, FusionKind::kOpaque, PrecisionPolicy::kNever, 1, 1, 1, 1,
              InferLpNorm});
  r.Register({OpKind::kLRN, FusionKind::kOpaque, PrecisionPolicy::kNever, 1, 1, 1, 1, InferLrn});
}

}  // namespace frt
