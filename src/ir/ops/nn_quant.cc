// Schemas of linear quantization: QuantizeLinear and DequantizeLinear
// (per-tensor, per-axis and blocked parameters, integer and fp8 quantized
// types) and DynamicQuantizeLinear; plus the parameter-layout resolution
// shared with the kernels (nn_quant.h). The IR's QuantizeLinear takes its
// output type from the zero point (uint8 without one): the importer turns
// ONNX's output_dtype attribute into a zero-valued zero point.
#include "ir/ops/nn_quant.h"

#include "ir/ops/nn_schema_util.h"

namespace frt::nn {

Result<QuantLayout> ResolveQuantLayout(const Node& node, const Dims& x, const Dims& scale,
                                       const Dims* zero_point) {
  auto error = [&](const auto&... args) {
    return MakeError(StatusCode::kInvalidModel, node.Describe(), ": ", args...);
  };
  if (zero_point && *zero_point != scale) {
    int64_t zn = 1;
    for (int64_t d : *zero_point) zn *= d;
    if (zn != 1) {
      return error("zero point has shape ", DimsToString(*zero_point),
                   " but must match the scale's shape ", DimsToString(scale));
    }
  }
  QuantLayout q;
  int64_t scale_n = 1;
  for (int64_t d : scale) scale_n *= d;
  const int64_t block = node.attrs.GetInt("block_size", 0);
  if (block < 0) return error("block_size is ", block, " but must be 0 or positive");
  if (scale_n == 1) return q;  // per tensor (a scalar or one element)
  const int64_t rank = static_cast<int64_t>(x.size());
  const int64_t axis_attr = node.attrs.GetInt("axis", 1);
  if (axis_attr < -rank || axis_attr >= rank) {
    return error("axis ", axis_attr, " is out of range for rank-", rank, " input ",
                 DimsToString(x));
  }
  const size_t axis = static_cast<size_t>(axis_attr < 0 ? axis_attr + rank : axis_attr);
  for (size_t d = 0; d < x.size(); ++d) {
    if (d < axis) q.outer *= x[d];
    if (d > axis) q.inner *= x[d];
  }
  q.axis_dim = x[axis];
  if (block == 0) {
    if (scale.size() != 1 || scale[0] != x[axis]) {
      return error("scale has shape ", DimsToString(scale),
                   " but per-axis quantization along axis ", axis, " of input ", DimsToString(x),
                   " requires [", x[axis], "] (or a scalar for per-tensor)");
    }
    q.mode = QuantLayout::kPerAxis;
    return q;
  }
  Dims want = x;
  want[axis] = (x[axis] + block - 1) / block;
  if (scale != want) {
    return error("scale has shape ", DimsToString(scale), " but blocked quantization (block_size ",
                 block, ", axis ", axis, ") of input ", DimsToString(x), " requires ",
                 DimsToString(want));
  }
  q.mode = QuantLayout::kBlocked;
  q.block = block;
  return q;
}

namespace {

bool IsQuantizedType(DType t) {
  return t == DType::kInt8 || t == DType::kUInt8 || t == DType::kInt16 || t == DType::kUInt16 ||
         t == DType::kFloat8E4M3FN || t == DType::kFloat8E5M2;
}
bool IsDequantizeInput(DType t) { return IsQuantizedType(t) || t == DType::kInt32; }
bool IsQuantizeInput(DType t) {
  return t == DType::kFloat32 || t == DType::kFloat16 || t == DType::kBFloat16 ||
         t == DType::kFloat64 || t == DType::kInt32;
}
bool IsScaleType(DType t) {
  return t == DType::kFloat32 || t == DType::kFloat16 || t == DType::kBFloat16 ||
         t == DType::kFloat64;
}

// Validates the parameter layout when every shape involved is static.
Status CheckLayout(const InferContext& ctx) {
  const Shape* xs = ctx.input_shape(0);
  const Shape* ss = ctx.input_shape(1);
  const Shape* zs = ctx.has_input(2) ? ctx.input_shape(2) : nullptr;
  if (!xs || !ss || !xs->is_static() || !ss->is_static()) return Status::Ok();
  if (ctx.has_input(2) && (!zs || !zs->is_static())) return Status::Ok();
  Dims z = zs ? zs->static_dims() : Dims();
  return ResolveQuantLayout(ctx.node(), xs->static_dims(), ss->static_dims(), zs ? &z : nullptr)
      .status();
}

Status SetSameShape(InferContext& ctx, size_t out, DType dtype) {
  if (ctx.input_shape(0)) {
    ctx.SetOutput(out, dtype, *ctx.input_shape(0));
  } else {
    ctx.SetOutputDType(out, dtype);
  }
  return Status::Ok();
}

constexpr std::string_view kQuantizedTypes = "int8, uint8, int16, uint16, f8e4m3fn or f8e5m2";

Status InferQuantizeLinear(InferContext& ctx) {
  FRT_RETURN_IF_ERROR(
      RequireDType(ctx, 0, "x", IsQuantizeInput, "a float type (f16, bf16, f32, f64) or int32"));
  // Opsets 10-18 pair int32 data with an f32 scale; 19+ use x's own type.
  if (ctx.input_dtype(1) != DType::kFloat32) {
    FRT_RETURN_IF_ERROR(RequireSameDType(ctx, 1, "y_scale", ctx.input_dtype(0), "x"));
  }
  FRT_RETURN_IF_ERROR(RequireDType(ctx, 2, "y_zero_point", IsQuantizedType, kQuantizedTypes));
  if (ctx.attrs().Has("output_dtype")) {
    return ctx.Error(StatusCode::kInternal,
                     "output_dtype must be rewritten into a zero point at import");
  }
  FRT_RETURN_IF_ERROR(CheckLayout(ctx));
  return SetSameShape(ctx, 0, ctx.has_input(2) ? ctx.input_dtype(2) : DType::kUInt8);
}

Status InferDequantizeLinear(InferContext& ctx) {
  FRT_RETURN_IF_ERROR(RequireDType(ctx, 0, "x", IsDequantizeInput,
                                   "int8, uint8, int16, uint16, int32, f8e4m3fn or f8e5m2"));
  FRT_RETURN_IF_ERROR(
      RequireDType(ctx, 1, "x_scale", IsScaleType, "a float type (f16, bf16, f32, f64)"));
  FRT_RETURN_IF_ERROR(RequireSameDType(ctx, 2, "x_zero_point", ctx.input_dtype(0), "x"));
  FRT_RETURN_IF_ERROR(CheckLayout(ctx));
  return SetSameShape(ctx, 0, ctx.input_dtype(1));
}

bool IsF32(DType t) { return t == DType::kFloat32; }

Status InferDynamicQuantizeLinear(InferContext& ctx) {
  FRT_RETURN_IF_ERROR(RequireDType(ctx, 0, "x", IsF32, "f32"));
  FRT_RETURN_IF_ERROR(SetSameShape(ctx, 0, DType::kUInt8));
  ctx.SetOutput(1, DType::kFloat32, Shape());
  ctx.SetOutput(2, DType::kUInt8, Shape());
  return Status::Ok();
}

}  // namespace

void RegisterNnQuantOps(OpRegistry& r) {
  r.Register({OpKind::kQuantizeLinear, FusionKind::kBroadcast, PrecisionPolicy::kNever, 2, 3, 1, 1,
              InferQuantizeLinear});
  r.Register({OpKind::kDequantizeLinear, FusionKind::kBroadcast, PrecisionPolicy::kNever, 2, 3, 1,
              1, InferDequantizeLinear});
  r.Register({OpKind::kDynamicQuantizeLinear, FusionKind::kOpaque, PrecisionPolicy::kNever, 1, 1, 3,
              3, InferDynamicQuantizeLinear});
}

}  // namespace frt::nn
