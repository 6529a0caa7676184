// Schemas of the convolutions: Conv, ConvTranspose and the quantized forms
// ConvInteger and QLinearConv. One inference routine checks the data/weight
// layout (channels against group, weight rank against input rank, bias
// length) and computes [N, M, spatial...] through the shared window geometry
// (nn_window.h); symbolic or unknown dims propagate as unknown.
#include "ir/ops/nn_schema_util.h"
#include "ir/ops/nn_window.h"

namespace frt::nn {
namespace {

struct ConvInputs {
  size_t x = 0;
  size_t w = 1;
  int bias = 2;  // -1: none
  WindowKind kind = WindowKind::kConv;
};

Status InferConvShape(InferContext& ctx, const ConvInputs& io, DType out_dtype) {
  const Shape* xs = ctx.input_shape(io.x);
  const Shape* ws = ctx.input_shape(io.w);
  const int64_t group = ctx.attrs().GetInt("group", 1);
  if (group < 1) {
    return ctx.Error(StatusCode::kInvalidModel, "group is ", group, " but must be at least 1");
  }
  const bool transpose = io.kind == WindowKind::kConvTranspose;
  size_t rank = xs ? xs->rank() : ws ? ws->rank() : 0;
  if (rank == 0) {
    ctx.SetOutputDType(0, out_dtype);
    return Status::Ok();
  }
  if (rank < 3) {
    return ctx.Error(StatusCode::kInvalidModel, "input ", xs ? "X" : "W", " has rank ", rank,
                     " but a convolution needs rank 3 or more ([N, C, spatial...])");
  }
  if (xs && ws && xs->rank() != ws->rank()) {
    return ctx.Error(StatusCode::kInvalidModel, "weights ", ws->ToString(), " have rank ",
                     ws->rank(), " but must have the input's rank ", xs->rank(), " (input ",
                     xs->ToString(), ")");
  }
  const size_t spatial = rank - 2;
  Dim out_channels;
  if (ws) {
    const Dim& w0 = (*ws)[0];
    const Dim& w1 = (*ws)[1];
    if (!transpose) {
      if (w0.is_static() && w0.value() % group != 0) {
        return ctx.Error(StatusCode::kInvalidModel, "weights have ", w0.value(),
                         " output channels, not a multiple of group ", group);
      }
      if (xs && (*xs)[1].is_static() && w1.is_static() && (*xs)[1].value() != w1.value() * group) {
        return ctx.Error(StatusCode::kInvalidModel, "input has ", (*xs)[1].value(),
                         " channels but weights ", ws->ToString(), " with group ", group,
                         " require ", w1.value() * group, " (W[1] * group)");
      }
      out_channels = w0;
    } else {
      if (xs && DimsConflict((*xs)[1], w0)) {
        return ctx.Error(StatusCode::kInvalidModel, "input has ", (*xs)[1].value(),
                         " channels but weights ", ws->ToString(), " require ", w0.value(),
                         " (W[0])");
      }
      if (w0.is_static() && w0.value() % group != 0) {
        return ctx.Error(StatusCode::kInvalidModel, "weights have ", w0.value(),
                         " input channels, not a multiple of group ", group);
      }
      if (w1.is_static()) out_channels = Dim(w1.value() * group);
    }
  } else if (xs && (*xs)[1].is_static() && (*xs)[1].value() % group != 0) {
    return ctx.Error(StatusCode::kInvalidModel, "input has ", (*xs)[1].value(),
                     " channels, not a multiple of group ", group);
  }
  if (io.bias >= 0 && ctx.has_input(io.bias) && ctx.input_shape(io.bias)) {
    const Shape& bs = *ctx.input_shape(io.bias);
    if (bs.rank() != 1 || DimsConflict(bs[0], out_channels)) {
      return ctx.Error(StatusCode::kInvalidModel, "bias has shape ", bs.ToString(),
                       " but must be 1-D with one value per output channel (",
                       out_channels.ToString(), ")");
    }
  }
  Dims weight_kernel(spatial, -1);
  for (size_t d = 0; ws && d < spatial; ++d) {
    if ((*ws)[d + 2].is_static()) weight_kernel[d] = (*ws)[d + 2].value();
  }
  FRT_ASSIGN_OR_RETURN(Window w, ReadWindow(ctx.node(), io.kind, spatial, &weight_kernel));
  std::vector<Dim> out(rank);
  if (xs) out[0] = (*xs)[0];
  out[1] = out_channels;
  for (size_t d = 0; d < spatial; ++d) {
    int64_t in = xs && (*xs)[d + 2].is_static() ? (*xs)[d + 2].value() : -1;
    FRT_ASSIGN_OR_RETURN(AxisGeometry g, ResolveAxis(ctx.node(), io.kind, w, d, in));
    if (g.out >= 0) out[d + 2] = Dim(g.out);
  }
  ctx.SetOutput(0, out_dtype, Shape(std::move(out)));
  return Status::Ok();
}

constexpr std::string_view kFloatTypes = "a float type (f16, bf16, f32, f64)";
constexpr std::string_view kQuantTypes = "int8 or uint8";

}  // namespace

Status InferConv(InferContext& ctx) {
  FRT_RETURN_IF_ERROR(RequireDType(ctx, 0, "X", IsComputeFloat, kFloatTypes));
  FRT_RETURN_IF_ERROR(RequireSameDType(ctx, 1, "W", ctx.input_dtype(0), "X"));
  FRT_RETURN_IF_ERROR(RequireSameDType(ctx, 2, "B", ctx.input_dtype(0), "X"));
  return InferConvShape(ctx, {0, 1, 2, WindowKind::kConv}, ctx.input_dtype(0));
}

namespace {

Status InferConvTranspose(InferContext& ctx) {
  FRT_RETURN_IF_ERROR(RequireDType(ctx, 0, "X", IsComputeFloat, kFloatTypes));
  FRT_RETURN_IF_ERROR(RequireSameDType(ctx, 1, "W", ctx.input_dtype(0), "X"));
  FRT_RETURN_IF_ERROR(RequireSameDType(ctx, 2, "B", ctx.input_dtype(0), "X"));
  return InferConvShape(ctx, {0, 1, 2, WindowKind::kConvTranspose}, ctx.input_dtype(0));
}

// Output channels of the weights at input w (-1 when unknown).
int64_t OutChannels(const InferContext& ctx, size_t w) {
  const Shape* ws = ctx.input_shape(w);
  return ws && ws->rank() > 0 && (*ws)[0].is_static() ? (*ws)[0].value() : -1;
}

Status InferConvInteger(InferContext& ctx) {
  FRT_RETURN_IF_ERROR(RequireDType(ctx, 0, "x", IsQuant8, kQuantTypes));
  FRT_RETURN_IF_ERROR(RequireDType(ctx, 1, "w", IsQuant8, kQuantTypes));
  FRT_RETURN_IF_ERROR(RequireSameDType(ctx, 2, "x_zero_point", ctx.input_dtype(0), "x"));
  FRT_RETURN_IF_ERROR(RequireSameDType(ctx, 3, "w_zero_point", ctx.input_dtype(1), "w"));
  FRT_RETURN_IF_ERROR(CheckQuantParam(ctx, 2, "x_zero_point", 0));
  FRT_RETURN_IF_ERROR(CheckQuantParam(ctx, 3, "w_zero_point", OutChannels(ctx, 1)));
  return InferConvShape(ctx, {0, 1, -1, WindowKind::kConv}, DType::kInt32);
}

bool IsF32(DType t) { return t == DType::kFloat32; }

Status InferQLinearConv(InferContext& ctx) {
  FRT_RETURN_IF_ERROR(RequireDType(ctx, 0, "x", IsQuant8, kQuantTypes));
  FRT_RETURN_IF_ERROR(RequireDType(ctx, 3, "w", IsQuant8, kQuantTypes));
  FRT_RETURN_IF_ERROR(RequireDType(ctx, 7, "y_zero_point", IsQuant8, kQuantTypes));
  FRT_RETURN_IF_ERROR(RequireSameDType(ctx, 2, "x_zero_point", ctx.input_dtype(0), "x"));
  FRT_RETURN_IF_ERROR(RequireSameDType(ctx, 5, "w_zero_point", ctx.input_dtype(3), "w"));
  for (size_t i : {size_t{1}, size_t{4}, size_t{6}}) {
    FRT_RETURN_IF_ERROR(RequireDType(ctx, i, "scale", IsF32, "f32"));
  }
  FRT_RETURN_IF_ERROR(RequireSameDType(ctx, 8, "B", DType::kInt32, "the int32 accumulator"));
  const int64_t m = OutChannels(ctx, 3);
  FRT_RETURN_IF_ERROR(CheckQuantParam(ctx, 1, "x_scale", 0));
  FRT_RETURN_IF_ERROR(CheckQuantParam(ctx, 2, "x_zero_point", 0));
  FRT_RETURN_IF_ERROR(CheckQuantParam(ctx, 4, "w_scale", m));
  FRT_RETURN_IF_ERROR(CheckQuantParam(ctx, 5, "w_zero_point", m));
  FRT_RETURN_IF_ERROR(CheckQuantParam(ctx, 6, "y_scale", 0));
  FRT_RETURN_IF_ERROR(CheckQuantParam(ctx, 7, "y_zero_point", 0));
  return InferConvShape(ctx, {0, 3, 8, WindowKind::kConv}, ctx.input_dtype(7));
}

}  // namespace

void RegisterNnConvOps(OpRegistry& r) {
  r.Register(
      {OpKind::kConv, FusionKind::kOutFusable, PrecisionPolicy::kAlways, 2, 3, 1, 1, InferConv});
  r.Register({OpKind::kConvTranspose, FusionKind::kOutFusable, PrecisionPolicy::kAlways, 2, 3, 1, 1,
              InferConvTranspose});
  r.Register({OpKind::kConvInteger, FusionKind::kOutFusable, PrecisionPolicy::kNever, 2, 4, 1, 1,
              InferConvInteger});
  r.Register({OpKind::kQLinearConv, FusionKind::kOutFusable, PrecisionPolicy::kNever, 8, 9, 1, 1,
              InferQLinearConv});
}

}  // namespace frt::nn
