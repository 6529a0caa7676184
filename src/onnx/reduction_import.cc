// ONNX import rules of the reduction family. The IR holds each op's latest
// semantics (up to opset 21); adapters rewrite the older forms:
//  - Reduce* before opset 18 (ReduceSum before 13): the `axes` attribute
//    becomes a constant axes input.
//  - Softmax / LogSoftmax / Hardmax before opset 13 coerce the input to 2-D
//    at `axis` (default 1) and normalize over the whole trailing block. When
//    the import can prove that block is the axis alone (axis -1, or known
//    dims after the axis all 1) the node imports as the per-axis op;
//    otherwise it becomes Shape(x), Flatten(x, axis) -> op(axis=-1) ->
//    Reshape(allowzero=1) back to x's shape, as onnx-tensorrt does. Why a
//    rewrite rather than an internal "coerce to 2-D" attribute: the IR keeps
//    ONE meaning per op, so no backend kernel or fusion pass can forget a
//    mode flag. The price: shapes of intermediate values are unknown during
//    import, so legacy nodes on them take the 4-node form until a
//    shape-aware pass folds Flatten/Reshape away when the dims after `axis`
//    turn out to be 1 (the usual case: exporters put the last axis there).
//  - TopK before opset 10: the `k` attribute becomes a constant K input.
//  - BatchNormalization before opset 14: drops consumed_inputs / is_test /
//    spatial (inference mode); per-activation statistics (spatial=0) and the
//    old training outputs are rejected with the reason.
//  - InstanceNormalization before opset 6: drops consumed_inputs.
#include "onnx/import_context.h"
#include "onnx/import_families.h"

namespace frt {
namespace {

// Inputs the node may not use before `opset` (they were attributes then).
Status RejectExtraInputs(ImportContext& ctx, size_t max_inputs) {
  for (size_t i = max_inputs; i < ctx.num_inputs(); ++i) {
    if (ctx.input(i)) {
      return ctx.Error(StatusCode::kInvalidModel, "has ", ctx.num_inputs(),
                       " inputs but this opset takes at most ", max_inputs);
    }
  }
  return Status::Ok();
}

Status ImportReduceAxesAttribute(ImportContext& ctx) {
  const OpKind kind = ctx.kind();
  FRT_RETURN_IF_ERROR(RejectExtraInputs(ctx, 1));
  Attributes attrs = ctx.attrs();
  std::vector<Value*> inputs = {ctx.input(0)};
  // Old opsets: absent or empty axes reduce everything, which an absent axes
  // input with noop_with_empty_axes=0 (the default) also means.
  std::vector<int64_t> axes = attrs.GetInts("axes");
  attrs.Erase("axes");
  attrs.Erase("noop_with_empty_axes");
  if (!axes.empty()) {
    FRT_ASSIGN_OR_RETURN(Value * v, ctx.AddInt64Constant(axes, "axes"));
    inputs.push_back(v);
  }
  return ctx.Emit(kind, std::move(inputs), ctx.outputs(), std::move(attrs)).status();
}

Status ImportLegacySoftmax(ImportContext& ctx) {
  const OpKind kind = ctx.kind();
  Attributes attrs = ctx.attrs();
  int64_t axis = attrs.GetInt("axis", 1);
  Value* x = ctx.input(0);
  // The coerced form equals the per-axis form when every dim after `axis` is 1.
  bool per_axis = axis == -1;
  if (!per_axis && x && x->shape) {
    auto rank = static_cast<int64_t>(x->shape->rank());
    auto a = NormalizeAxis(axis, rank);
    if (!a.ok()) return ctx.Error(StatusCode::kOutOfRange, a.status().message());
    per_axis = true;
    for (int64_t d = *a + 1; d < rank; ++d) {
      const Dim& dim = (*x->shape)[static_cast<size_t>(d)];
      per_axis = per_axis && dim.is_static() && dim.value() == 1;
    }
  }
  attrs.Set("axis", axis);
  if (per_axis) return ctx.Emit(kind, ctx.inputs(), ctx.outputs(), std::move(attrs)).status();

  FRT_ASSIGN_OR_RETURN(Value * shape, ctx.AddTemp("shape"));
  FRT_RETURN_IF_ERROR(ctx.Emit(OpKind::kShape, {x}, {shape}, {}, "shape").status());
  FRT_ASSIGN_OR_RETURN(Value * flat, ctx.AddTemp("flat"));
  Attributes flatten;
  flatten.Set("axis", axis);
  FRT_RETURN_IF_ERROR(ctx.Emit(OpKind::kFlatten, {x}, {flat}, flatten, "flatten").status());
  FRT_ASSIGN_OR_RETURN(Value * y2d, ctx.AddTemp("rows"));
  attrs.Set("axis", int64_t{-1});
  FRT_RETURN_IF_ERROR(ctx.Emit(kind, {flat}, {y2d}, attrs, "rows").status());
  Attributes reshape;
  reshape.Set("allowzero", int64_t{1});  // the target is x's own shape, zeros included
  return ctx.Emit(OpKind::kReshape, {y2d, shape}, ctx.outputs(), reshape, "restore").status();
}

Status ImportTopKAttribute(ImportContext& ctx) {
  FRT_RETURN_IF_ERROR(RejectExtraInputs(ctx, 1));
  Attributes attrs = ctx.attrs();
  if (!attrs.Has("k")) {
    return ctx.Error(StatusCode::kInvalidModel, "required attribute k is missing");
  }
  int64_t k = attrs.GetInt("k");
  attrs.Erase("k");
  FRT_ASSIGN_OR_RETURN(Value * kv, ctx.AddConstant(Tensor::FromVector<int64_t>({k}, {1}), "k"));
  return ctx.Emit(OpKind::kTopK, {ctx.input(0), kv}, ctx.outputs(), std::move(attrs)).status();
}

Status ImportLegacyBatchNorm(ImportContext& ctx) {
  size_t outputs = 0;
  for (Value* v : ctx.outputs()) outputs += v != nullptr;
  if (outputs > 1) {
    return ctx.Error(StatusCode::kUnsupported,
                     "training-mode outputs (mean, var, saved_mean, saved_var) of "
                     "BatchNormalization before opset 14 are not supported; only Y (inference)");
  }
  const Attributes& in = ctx.attrs();
  if (in.GetInt("spatial", 1) == 0) {
    Value* x = ctx.input(0);
    // Without spatial dims, per-activation and per-channel statistics coincide.
    if (!(x && x->shape && x->shape->rank() == 2)) {
      return ctx.Error(StatusCode::kUnsupported,
                       "spatial=0 (statistics per activation instead of per channel) is "
                       "supported only for 2-D inputs");
    }
  }
  // is_test=0 with Y as the only output still computes with the given
  // statistics: opset 7+ tells the modes apart by the outputs, and exporters
  // of inference models often left is_test unset.
  Attributes attrs;
  attrs.Set("epsilon", in.GetFloat("epsilon", 1e-5f));
  attrs.Set("momentum", in.GetFloat("momentum", 0.9f));
  return ctx.Emit(OpKind::kBatchNormalization, ctx.inputs(), ctx.outputs(), std::move(attrs))
      .status();
}

Status ImportLegacyInstanceNorm(ImportContext& ctx) {
  Attributes attrs = ctx.attrs();
  attrs.Erase("consumed_inputs");  // a memory-reuse hint of opset 1, no meaning for the math
  return ctx.Emit(OpKind::kInstanceNormalization, ctx.inputs(), ctx.outputs(), std::move(attrs))
      .status();
}

}  // namespace

void RegisterReductionImports(ImportRuleRegistry& r) {
  r.Add({"ReduceSum", 1, 12, OpKind::kReduceSum, ImportReduceAxesAttribute});
  r.AddDirect(OpKind::kReduceSum, 13);
  for (OpKind k : {OpKind::kReduceMean, OpKind::kReduceMax, OpKind::kReduceMin,
                   OpKind::kReduceProd, OpKind::kReduceL1, OpKind::kReduceL2,
                   OpKind::kReduceLogSum, OpKind::kReduceLogSumExp, OpKind::kReduceSumSquare}) {
    r.Add({OpKindName(k), 1, 17, k, ImportReduceAxesAttribute});
    r.AddDirect(k, 18);
  }
  r.AddDirect(OpKind::kArgMax, 1);  // later opsets only add select_last_index (default 0)
  r.AddDirect(OpKind::kArgMin, 1);
  for (OpKind k : {OpKind::kSoftmax, OpKind::kLogSoftmax, OpKind::kHardmax}) {
    r.Add({OpKindName(k), 1, 12, k, ImportLegacySoftmax});
    r.AddDirect(k, 13);
  }
  r.AddDirect(OpKind::kLayerNormalization, 17);
  r.Add({"BatchNormalization", 1, 13, OpKind::kBatchNormalization, ImportLegacyBatchNorm});
  r.AddDirect(OpKind::kBatchNormalization, 14);
  r.Add({"InstanceNormalization", 1, 5, OpKind::kInstanceNormalization, ImportLegacyInstanceNorm});
  r.AddDirect(OpKind::kInstanceNormalization, 6);
  r.AddDirect(OpKind::kMeanVarianceNormalization, 9);
  r.AddDirect(OpKind::kLpNormalization, 1);
  r.AddDirect(OpKind::kLRN, 1);
  r.AddDirect(OpKind::kCumSum, 11);
  r.Add({"TopK", 1, 9, OpKind::kTopK, ImportTopKAttribute});
  r.AddDirect(OpKind::kTopK, 10);  // opset 10 lacks largest/sorted; their defaults match
  r.AddDirect(OpKind::kNegativeLogLikelihoodLoss, 12);
  r.AddDirect(OpKind::kSoftmaxCrossEntropyLoss, 12);
}

}  // namespace frt
