// Schemas of FusedMatMul and FusedConv (docs/fused_ops.md): a GEMM or a
// convolution with an epilogue act(alpha * core + bias + residual). The core's
// shape comes from the same inference as MatMul (with B's last two dims
// swapped under trans_b) and Conv (nn_schema_util.h); bias and residual must
// broadcast to that shape without growing it, and the activation attributes
// must name a known activation (ir/activation.h).
#include "ir/activation.h"
#include "ir/op_families.h"
#include "ir/ops/nn_schema_util.h"

namespace frt {
namespace {

constexpr std::string_view kFloatTypes = "a float type (f16, bf16, f32, f64)";

// Input i (when present with a known shape) broadcasts to `out` without
// changing it: rank <= out's rank and each dim is 1 or out's dim (dims not
// known statically on either side are accepted and checked at run time).
Status CheckBroadcastsTo(const InferContext& ctx, size_t i, std::string_view name,
                         const Shape& out) {
  if (!ctx.has_input(i) || !ctx.input_shape(i)) return Status::Ok();
  const Shape& s = *ctx.input_shape(i);
  bool ok = s.rank() <= out.rank();
  for (size_t d = 0; ok && d < s.rank(); ++d) {
    const Dim& have = s[d];
    const Dim& want = out[out.rank() - s.rank() + d];
    ok = !(have.is_static() && have.value() != 1 && nn::DimsConflict(have, want));
  }
  if (!ok) {
    return ctx.Error(StatusCode::kInvalidModel, name, " has shape ", s.ToString(),
                     " which does not broadcast to the output shape ", out.ToString());
  }
  return Status::Ok();
}

// Checks bias (input bias_index, when given) and residual (input 3) against
// output 0 once its shape is known, and the activation attributes.
Status CheckEpilogue(InferContext& ctx, int bias_index) {
  FRT_RETURN_IF_ERROR(ReadActivation(ctx.node()).status());
  if (bias_index >= 0) {
    FRT_RETURN_IF_ERROR(nn::RequireSameDType(ctx, static_cast<size_t>(bias_index), "bias",
                                             ctx.input_dtype(0), "A"));
  }
  FRT_RETURN_IF_ERROR(nn::RequireSameDType(ctx, 3, "residual", ctx.input_dtype(0), "input 0"));
  const std::optional<Shape>& out = ctx.output_shape(0);
  if (!out) return Status::Ok();
  if (bias_index >= 0) {
    FRT_RETURN_IF_ERROR(CheckBroadcastsTo(ctx, static_cast<size_t>(bias_index), "bias", *out));
  }
  return CheckBroadcastsTo(ctx, 3, "residual", *out);
}

// Y = act(alpha * (A @ op(B)) + bias + residual).
Status InferFusedMatMul(InferContext& ctx) {
  FRT_RETURN_IF_ERROR(nn::RequireDType(ctx, 0, "A", nn::IsComputeFloat, kFloatTypes));
  FRT_RETURN_IF_ERROR(nn::RequireSameDType(ctx, 1, "B", ctx.input_dtype(0), "A"));
  const DType dtype = ctx.input_dtype(0);
  const Shape* as = ctx.input_shape(0);
  const Shape* bs = ctx.input_shape(1);
  for (const Shape* s : {as, bs}) {
    if (s && s->rank() < 2) {
      return ctx.Error(StatusCode::kInvalidModel, "A and B must have rank 2 or more, got ",
                       as ? as->ToString() : "?", " and ", bs ? bs->ToString() : "?");
    }
  }
  const bool trans_b = ctx.attrs().GetInt("trans_b", 0) != 0;
  // MatMul's inference over A and op(B): B's last two dims swapped for trans_b.
  std::optional<Shape> b_op;
  if (bs) {
    std::vector<Dim> d = bs->dims();
    if (trans_b) std::swap(d[d.size() - 1], d[d.size() - 2]);
    b_op = Shape(std::move(d));
  }
  InferContext core(ctx.node(), {{dtype, as, nullptr}, {dtype, b_op ? &*b_op : nullptr, nullptr}});
  FRT_ASSIGN_OR_RETURN(std::optional<Shape> out, nn::MatMulShape(core, 0, 1));
  if (out) {
    ctx.SetOutput(0, dtype, *out);
  } else {
    ctx.SetOutputDType(0, dtype);
  }
  return CheckEpilogue(ctx, 2);
}

// Y = act(conv(X, W) + B + residual): Conv's inference, then the epilogue.
Status InferFusedConv(InferContext& ctx) {
  FRT_RETURN_IF_ERROR(nn::InferConv(ctx));
  return CheckEpilogue(ctx, -1);  // B is checked by Conv's inference (one value per channel)
}

}  // namespace

void RegisterFusedEpilogueOps(OpRegistry& r) {
  r.Register({OpKind::kFusedMatMul, FusionKind::kOutFusable, PrecisionPolicy::kAlways, 2, 4, 1, 1,
              InferFusedMatMul});
  r.Register({OpKind::kFusedConv, FusionKind::kOutFusable, PrecisionPolicy::kAlways, 2, 4, 1, 1,
              InferFusedConv});
}

}  // namespace frt
