// Schemas of the per-axis normalized exponentials (Softmax, LogSoftmax,
// Hardmax; opset 13 semantics: one axis, default -1) and of the losses built
// on them (NegativeLogLikelihoodLoss, SoftmaxCrossEntropyLoss). The opset < 13
// "coerce to 2-D" form is rewritten by the importer (reduction_import.cc).
#include "ir/infer_helpers.h"
#include "ir/ops/reduction_ops.h"

namespace frt {
namespace {

using reduction::IsComputeFloatDType;
using reduction::RequireDType;

constexpr std::string_view kFloatTypes = "f16, bf16, f32 or f64";

Status InferSoftmax(InferContext& ctx) {
  FRT_RETURN_IF_ERROR(RequireDType(ctx, 0, IsComputeFloatDType, kFloatTypes));
  if (const Shape* in = ctx.input_shape(0)) {
    auto axis = NormalizeAxis(ctx.attrs().GetInt("axis", -1), static_cast<int64_t>(in->rank()));
    if (!axis.ok()) return ctx.Error(StatusCode::kOutOfRange, axis.status().message());
  }
  return InferSameAsInput0(ctx);
}

bool IsIndexDType(DType t) { return t == DType::kInt32 || t == DType::kInt64; }

// Inputs: scores [N, C, d1..dk], target [N, d1..dk], optional weight [C].
// Output 0: per-element losses (target's shape) or a scalar when reduced.
Status InferLoss(InferContext& ctx) {
  FRT_RETURN_IF_ERROR(RequireDType(ctx, 0, IsComputeFloatDType, kFloatTypes));
  FRT_RETURN_IF_ERROR(RequireDType(ctx, 1, IsIndexDType, "i32 or i64 (class indices)"));
  FRT_RETURN_IF_ERROR(reduction::RequireSameDType(ctx, 2, 0));
  FRT_RETURN_IF_ERROR(reduction::RequireRank(ctx, 2, 1));
  std::string mode = ctx.attrs().GetString("reduction", "mean");
  if (mode != "none" && mode != "sum" && mode != "mean") {
    return ctx.Error(StatusCode::kInvalidModel, "reduction is \"", mode,
                     "\" but must be \"none\", \"sum\" or \"mean\"");
  }
  DType dt = ctx.input_dtype(0);
  const Shape* in = ctx.input_shape(0);
  const Shape* target = ctx.input_shape(1);
  if (in && in->rank() < 2) {
    return ctx.Error(StatusCode::kInvalidModel, "input 0 has shape ", in->ToString(),
                     " but must have rank 2 or more (N x C x d1 x ...)");
  }
  if (in && target) {
    bool ok = target->rank() + 1 == in->rank();
    for (size_t d = 0; ok && d < target->rank(); ++d) {
      const Dim& t = (*target)[d];
      const Dim& x = (*in)[d == 0 ? 0 : d + 1];
      ok = !(t.is_static() && x.is_static() && t.value() != x.value());
    }
    if (!ok) {
      return ctx.Error(StatusCode::kInvalidModel, "target (input 1) has shape ",
                       target->ToString(), " but must be the input's shape ", in->ToString(),
                       " without dim 1 (classes)");
    }
  }
  if (in && ctx.has_input(2) && ctx.input_shape(2)) {
    const Dim& w = (*ctx.input_shape(2))[0];
    const Dim& c = (*in)[1];
    if (w.is_static() && c.is_static() && w.value() != c.value()) {
      return ctx.Error(StatusCode::kInvalidModel, "weight (input 2) has ", w.value(),
                       " values but the input has ", c.value(), " classes");
    }
  }
  if (mode != "none") {
    ctx.SetOutput(0, dt, Shape());
  } else if (target) {
    ctx.SetOutput(0, dt, *target);
  } else if (in) {
    ctx.SetOutput(0, dt, UnknownShape(in->rank() - 1));
  } else {
    ctx.SetOutputDType(0, dt);
  }
  if (ctx.num_outputs() > 1) {  // SoftmaxCrossEntropyLoss's log_prob
    if (in) {
      ctx.SetOutput(1, dt, *in);
    } else {
      ctx.SetOutputDType(1, dt);
    }
  }
  return Status::Ok();
}

}  // namespace

void RegisterReductionSoftmaxOps(OpRegistry& r) {
  // exp/log over a sum: keep in fp32. Hardmax only selects.
  r.Register({OpKind::kSoftmax, FusionKind::kOpaque, PrecisionPolicy::kFp32Inside, 1, 1, 1, 1,
              InferSoftmax});
  r.Register({OpKind::kLogSoftmax, FusionKind::kOpaque, PrecisionPolicy::kFp32Inside, 1, 1, 1, 1,
              InferSoftmax});
  r.Register({OpKind::kHardmax, FusionKind::kOpaque, PrecisionPolicy::kFollow, 1, 1, 1, 1,
              InferSoftmax});
  r.Register({OpKind::kNegativeLogLikelihoodLoss, FusionKind::kReduction, PrecisionPolicy::kNever,
              2, 3, 1, 1, InferLoss});
  r.Register({OpKind::kSoftmaxCrossEntropyLoss, FusionKind::kReduction, PrecisionPolicy::kNever,
              2, 3, 1, 2, InferLoss});
}

}  // namespace frt
