// Schemas of the detection ops: RoiAlign (opset 16 semantics, with
// coordinate_transformation_mode), MaxRoiPool and NonMaxSuppression (whose
// number of selected boxes is data dependent).
#include "ir/ops/misc_schema_util.h"

namespace frt {
namespace {

// Checks X is [N, C, H, W] and rois is [num_rois, cols]; returns num_rois (maybe unknown).
Result<Dim> CheckRoiInputs(InferContext& ctx, int64_t cols) {
  FRT_RETURN_IF_ERROR(MiscRequireDType(ctx, 0, "X", IsMiscFloat, kMiscFloatTypes));
  FRT_RETURN_IF_ERROR(CheckSameDTypes(ctx, 0, 1));
  FRT_RETURN_IF_ERROR(MiscRequireRank(ctx, 0, "X", 4));
  FRT_RETURN_IF_ERROR(MiscRequireRank(ctx, 1, "rois", 2));
  Dim rois;
  if (const Shape* rs = ctx.input_shape(1)) {
    if (MiscDimsConflict((*rs)[1], Dim(cols))) {
      return ctx.Error(StatusCode::kInvalidModel, "rois has shape ", rs->ToString(),
                       " but must be [num_rois, ", cols, "]");
    }
    rois = (*rs)[0];
  }
  return rois;
}

Dim Channels(const InferContext& ctx) {
  return ctx.input_shape(0) ? (*ctx.input_shape(0))[1] : Dim();
}

Status InferRoiAlign(InferContext& ctx) {
  FRT_ASSIGN_OR_RETURN(Dim rois, CheckRoiInputs(ctx, 4));
  FRT_RETURN_IF_ERROR(MiscRequireDType(ctx, 2, "batch_indices", IsMiscIndex, "int32 or int64"));
  FRT_RETURN_IF_ERROR(MiscRequireRank(ctx, 2, "batch_indices", 1));
  if (const Shape* bs = ctx.input_shape(2)) {
    if (MiscDimsConflict((*bs)[0], rois)) {
      return ctx.Error(StatusCode::kInvalidModel, "batch_indices has shape ", bs->ToString(),
                       " but there are ", rois.ToString(), " rois");
    }
    if (!rois.is_static()) rois = (*bs)[0];
  }
  const Attributes& at = ctx.attrs();
  const std::string mode = at.GetString("mode", "avg");
  const std::string coord = at.GetString("coordinate_transformation_mode", "half_pixel");
  if (mode != "avg" && mode != "max") {
    return ctx.Error(StatusCode::kUnsupported, "mode \"", mode, "\" is not avg or max");
  }
  if (coord != "half_pixel" && coord != "output_half_pixel") {
    return ctx.Error(StatusCode::kUnsupported, "coordinate_transformation_mode \"", coord,
                     "\" is not half_pixel or output_half_pixel");
  }
  const int64_t oh = at.GetInt("output_height", 1), ow = at.GetInt("output_width", 1);
  const int64_t ratio = at.GetInt("sampling_ratio", 0);
  if (oh <= 0 || ow <= 0 || ratio < 0) {
    return ctx.Error(StatusCode::kInvalidModel, "output_height (", oh, ") and output_width (", ow,
                     ") must be positive and sampling_ratio (", ratio, ") not negative");
  }
  ctx.SetOutput(0, ctx.input_dtype(0), Shape({rois, Channels(ctx), Dim(oh), Dim(ow)}));
  return Status::Ok();
}

Status InferMaxRoiPool(InferContext& ctx) {
  FRT_ASSIGN_OR_RETURN(Dim rois, CheckRoiInputs(ctx, 5));
  const std::vector<int64_t> pooled = ctx.attrs().GetInts("pooled_shape");
  if (pooled.size() != 2 || pooled[0] <= 0 || pooled[1] <= 0) {
    return ctx.Error(StatusCode::kInvalidModel, "pooled_shape is ", DimsToString(pooled),
                     " but must be two positive sizes [height, width]");
  }
  ctx.SetOutput(0, ctx.input_dtype(0),
                Shape({rois, Channels(ctx), Dim(pooled[0]), Dim(pooled[1])}));
  return Status::Ok();
}

Status InferNonMaxSuppression(InferContext& ctx) {
  FRT_RETURN_IF_ERROR(MiscRequireDType(ctx, 0, "boxes", IsMiscFloat, kMiscFloatTypes));
  FRT_RETURN_IF_ERROR(MiscRequireDType(ctx, 1, "scores", IsMiscFloat, kMiscFloatTypes));
  FRT_RETURN_IF_ERROR(
      MiscRequireDType(ctx, 2, "max_output_boxes_per_class", IsMiscIndex, "int32 or int64"));
  FRT_RETURN_IF_ERROR(MiscRequireDType(ctx, 3, "iou_threshold", IsMiscFloat, kMiscFloatTypes));
  FRT_RETURN_IF_ERROR(MiscRequireDType(ctx, 4, "score_threshold", IsMiscFloat, kMiscFloatTypes));
  FRT_RETURN_IF_ERROR(MiscRequireRank(ctx, 0, "boxes", 3));
  FRT_RETURN_IF_ERROR(MiscRequireRank(ctx, 1, "scores", 3));
  const Shape* bs = ctx.input_shape(0);
  const Shape* ss = ctx.input_shape(1);
  if (bs && MiscDimsConflict((*bs)[2], Dim(4))) {
    return ctx.Error(StatusCode::kInvalidModel, "boxes has shape ", bs->ToString(),
                     " but must be [batch, spatial, 4]");
  }
  if (bs && ss && (MiscDimsConflict((*bs)[0], (*ss)[0]) || MiscDimsConflict((*bs)[1], (*ss)[2]))) {
    return ctx.Error(StatusCode::kInvalidModel, "scores has shape ", ss->ToString(), " but boxes ",
                     bs->ToString(), " needs [batch, classes, spatial]");
  }
  for (size_t i = 2; i <= 4; ++i) {
    const char* names[] = {"", "", "max_output_boxes_per_class", "iou_threshold",
                           "score_threshold"};
    FRT_RETURN_IF_ERROR(MiscRequireScalar(ctx, i, names[i], /*allow_empty=*/true));
  }
  if (auto iou = MiscKnownScalarFloat(ctx, 3); iou && !(*iou >= 0.0 && *iou <= 1.0)) {
    return ctx.Error(StatusCode::kInvalidModel, "iou_threshold is ", *iou,
                     " but must be in [0, 1]");
  }
  const int64_t center = ctx.attrs().GetInt("center_point_box", 0);
  if (center != 0 && center != 1) {
    return ctx.Error(StatusCode::kInvalidModel, "center_point_box is ", center,
                     " but must be 0 or 1");
  }
  ctx.SetOutput(0, DType::kInt64, Shape({Dim(), Dim(3)}));
  return Status::Ok();
}

}  // namespace

void RegisterMiscDetectionOps(OpRegistry& r) {
  r.Register({OpKind::kRoiAlign, FusionKind::kOpaque, PrecisionPolicy::kAlways, 3, 3, 1, 1,
              InferRoiAlign});
  r.Register({OpKind::kMaxRoiPool, FusionKind::kOpaque, PrecisionPolicy::kAlways, 2, 2, 1, 1,
              InferMaxRoiPool});
  r.Register({OpKind::kNonMaxSuppression, FusionKind::kOpaque, PrecisionPolicy::kNever, 2, 5, 1, 1,
              InferNonMaxSuppression});
}

}  // namespace frt
