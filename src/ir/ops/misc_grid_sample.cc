// Schema of GridSample (ONNX GridSample-20 semantics: N-D, modes linear /
// nearest / cubic, padding zeros / border / reflection).
#include "ir/ops/misc_schema_util.h"

namespace frt {
namespace {

Status InferGridSample(InferContext& ctx) {
  FRT_RETURN_IF_ERROR(
      MiscRequireDType(ctx, 0, "X", IsMiscNumeric, "a numeric type (float or integer, not fp8)"));
  FRT_RETURN_IF_ERROR(MiscRequireDType(ctx, 1, "grid", IsMiscFloat, kMiscFloatTypes));
  const std::string mode = ctx.attrs().GetString("mode", "linear");
  if (mode != "linear" && mode != "nearest" && mode != "cubic") {
    return ctx.Error(StatusCode::kUnsupported, "mode \"", mode,
                     "\" is not supported (expected linear, nearest or cubic)");
  }
  const std::string padding = ctx.attrs().GetString("padding_mode", "zeros");
  if (padding != "zeros" && padding != "border" && padding != "reflection") {
    return ctx.Error(StatusCode::kUnsupported, "padding_mode \"", padding,
                     "\" is not supported (expected zeros, border or reflection)");
  }
  const int64_t align = ctx.attrs().GetInt("align_corners", 0);
  if (align != 0 && align != 1) {
    return ctx.Error(StatusCode::kInvalidModel, "align_corners is ", align, " but must be 0 or 1");
  }
  const DType dtype = ctx.input_dtype(0);
  const Shape* xs = ctx.input_shape(0);
  const Shape* gs = ctx.input_shape(1);
  if (xs && xs->rank() < 3) {
    return ctx.Error(StatusCode::kInvalidModel, "X has shape ", xs->ToString(),
                     " but must be (N, C, D1, ..., Dr) with r >= 1");
  }
  if (gs && gs->rank() < 3) {
    return ctx.Error(StatusCode::kInvalidModel, "grid has shape ", gs->ToString(),
                     " but must be (N, D1_out, ..., Dr_out, r) with r >= 1");
  }
  if (xs && gs) {
    const size_t r = xs->rank() - 2;
    if (gs->rank() != r + 2 || MiscDimsConflict((*gs)[r + 1], Dim(static_cast<int64_t>(r))) ||
        MiscDimsConflict((*gs)[0], (*xs)[0])) {
      return ctx.Error(StatusCode::kInvalidModel, "grid has shape ", gs->ToString(),
                       " but X of shape ", xs->ToString(), " needs (N, D1_out, ..., D", r, "_out, ",
                       r, ")");
    }
  }
  if (!gs) {
    if (xs) {
      ctx.SetOutput(0, dtype, UnknownShape(xs->rank()));
    } else {
      ctx.SetOutputDType(0, dtype);
    }
    return Status::Ok();
  }
  std::vector<Dim> out;
  out.push_back((*gs)[0].is_static() || !xs ? (*gs)[0] : (*xs)[0]);
  out.push_back(xs ? (*xs)[1] : Dim());
  for (size_t d = 1; d + 1 < gs->rank(); ++d) out.push_back((*gs)[d]);
  ctx.SetOutput(0, dtype, Shape(std::move(out)));
  return Status::Ok();
}

}  // namespace

void RegisterMiscGridSampleOps(OpRegistry& r) {
  r.Register({OpKind::kGridSample, FusionKind::kOpaque, PrecisionPolicy::kAlways, 2, 2, 1, 1,
              InferGridSample});
}

}  // namespace frt
