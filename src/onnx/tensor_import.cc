// ONNX import rules of the tensor family (shape manipulation and data
// movement). Most ops import unchanged. Adapters rewrite the old forms into
// the IR's (latest) semantics:
//   - attributes that later became inputs turn into constant inputs:
//     Reshape-1 `shape`, Squeeze/Unsqueeze-1/11 `axes`, Split-1/2/11 `split`,
//     Slice-1 `starts`/`ends`/`axes`, Pad-1/2 `paddings`/`pads`/`value`;
//   - Concat-1's optional axis gets its old default of 1;
//   - Scatter-9 (deprecated) becomes ScatterElements;
//   - Dropout before 12 drops `ratio`/`is_test` (inference is an identity);
//     before 10 its mask had the data's type, so it is cast back with CastLike;
//   - EyeLike's `dtype` ONNX type code becomes the IR DType.
#include "onnx/import_context.h"
#include "onnx/import_families.h"
#include "onnx/onnx_types.h"

namespace frt {
namespace {

// Moves int-list attribute `name` into input `index` as an int64 constant,
// if the attribute is present; the inputs before it are padded with absent
// entries.
Status AttrToInput(ImportContext& ctx, std::vector<Value*>& inputs, const std::string& name,
                   size_t index) {
  if (!ctx.attrs().Has(name)) return Status::Ok();
  std::vector<int64_t> v = ctx.attrs().GetInts(name);
  ctx.attrs().Erase(name);
  FRT_ASSIGN_OR_RETURN(Value * c, ctx.AddInt64Constant(v, name));
  if (inputs.size() <= index) inputs.resize(index + 1, nullptr);
  inputs[index] = c;
  return Status::Ok();
}

Status ImportReshape1(ImportContext& ctx) {
  ctx.attrs().Erase("consumed_inputs");
  if (!ctx.attrs().Has("shape")) {
    return ctx.Error(StatusCode::kInvalidModel, "required attribute shape is missing");
  }
  std::vector<Value*> inputs = {ctx.input(0)};
  FRT_RETURN_IF_ERROR(AttrToInput(ctx, inputs, "shape", 1));
  return ctx.Emit(OpKind::kReshape, inputs, ctx.outputs(), ctx.attrs()).status();
}

// Squeeze/Unsqueeze-1/11: `axes` attribute -> input 1.
Status ImportAxesAttr(ImportContext& ctx, OpKind kind) {
  std::vector<Value*> inputs = {ctx.input(0)};
  if (kind == OpKind::kUnsqueeze && !ctx.attrs().Has("axes")) {
    return ctx.Error(StatusCode::kInvalidModel, "required attribute axes is missing");
  }
  FRT_RETURN_IF_ERROR(AttrToInput(ctx, inputs, "axes", 1));
  return ctx.Emit(kind, inputs, ctx.outputs(), ctx.attrs()).status();
}
Status ImportSqueeze1(ImportContext& ctx) { return ImportAxesAttr(ctx, OpKind::kSqueeze); }
Status ImportUnsqueeze1(ImportContext& ctx) { return ImportAxesAttr(ctx, OpKind::kUnsqueeze); }

Status ImportConcat1(ImportContext& ctx) {
  if (!ctx.attrs().Has("axis")) ctx.attrs().Set("axis", int64_t{1});
  return ctx.EmitDirect(OpKind::kConcat).status();
}

// Split-1/2/11: `split` attribute -> input 1 (Split-1 may already pass it as
// an input).
Status ImportSplit1(ImportContext& ctx) {
  std::vector<Value*> inputs = ctx.inputs();
  if (ctx.attrs().Has("split") && inputs.size() > 1 && inputs[1]) {
    return ctx.Error(StatusCode::kInvalidModel,
                     "split is given both as an attribute and as an input");
  }
  FRT_RETURN_IF_ERROR(AttrToInput(ctx, inputs, "split", 1));
  return ctx.Emit(OpKind::kSplit, inputs, ctx.outputs(), ctx.attrs()).status();
}

// Slice-1: starts/ends/axes attributes -> inputs 1..3.
Status ImportSlice1(ImportContext& ctx) {
  if (!ctx.attrs().Has("starts") || !ctx.attrs().Has("ends")) {
    return ctx.Error(StatusCode::kInvalidModel, "required attributes starts and ends are missing");
  }
  std::vector<Value*> inputs = {ctx.input(0)};
  FRT_RETURN_IF_ERROR(AttrToInput(ctx, inputs, "starts", 1));
  FRT_RETURN_IF_ERROR(AttrToInput(ctx, inputs, "ends", 2));
  FRT_RETURN_IF_ERROR(AttrToInput(ctx, inputs, "axes", 3));
  return ctx.Emit(OpKind::kSlice, inputs, ctx.outputs(), ctx.attrs()).status();
}

// Pad-1/2: `paddings` (1) or `pads` (2) and `value` attributes -> inputs.
Status ImportPad2(ImportContext& ctx) {
  std::string pads_name = ctx.attrs().Has("paddings") ? "paddings" : "pads";
  if (!ctx.attrs().Has(pads_name)) {
    return ctx.Error(StatusCode::kInvalidModel, "required attribute pads is missing");
  }
  std::vector<Value*> inputs = {ctx.input(0)};
  FRT_RETURN_IF_ERROR(AttrToInput(ctx, inputs, pads_name, 1));
  float value = ctx.attrs().GetFloat("value", 0.0f);
  ctx.attrs().Erase("value");
  if (value != 0.0f && ctx.attrs().GetString("mode", "constant") == "constant") {
    FRT_ASSIGN_OR_RETURN(Value * v, ctx.AddScalarLike(value, ctx.input(0), "constant_value"));
    inputs.push_back(v);
  }
  return ctx.Emit(OpKind::kPad, inputs, ctx.outputs(), ctx.attrs()).status();
}

Status ImportScatter(ImportContext& ctx) {
  return ctx.EmitDirect(OpKind::kScatterElements).status();
}

// Dropout-1..11: `ratio` (and `is_test`, `consumed_inputs`) attributes only
// matter in training; in inference Dropout is an identity with an all-true
// mask. Before opset 10 the mask had the data's type.
Status ImportDropoutOld(ImportContext& ctx) {
  Attributes attrs;  // none of the old attributes carries over
  Value* mask = ctx.output(1);
  if (!mask || ctx.opset() >= 10) {
    return ctx.Emit(OpKind::kDropout, {ctx.input(0)}, ctx.outputs(), attrs).status();
  }
  FRT_ASSIGN_OR_RETURN(Value * bool_mask, ctx.AddTemp("mask_bool"));
  FRT_RETURN_IF_ERROR(
      ctx.Emit(OpKind::kDropout, {ctx.input(0)}, {ctx.output(0), bool_mask}, attrs).status());
  return ctx.Emit(OpKind::kCastLike, {bool_mask, ctx.input(0)}, {mask}, {}, "mask").status();
}

Status ImportEyeLike(ImportContext& ctx) {
  if (ctx.attrs().Has("dtype")) {
    int64_t code = ctx.attrs().GetInt("dtype", 0);
    auto dtype = DTypeFromOnnx(static_cast<int32_t>(code));
    if (!dtype.ok()) {
      return ctx.Error(StatusCode::kUnsupported, "dtype ", code, " is not supported (",
                       dtype.status().message(), ")");
    }
    ctx.attrs().Set("dtype", static_cast<int64_t>(*dtype));
  }
  return ctx.EmitDirect(OpKind::kEyeLike).status();
}

}  // namespace

void RegisterTensorImports(ImportRuleRegistry& r) {
  r.Add({"Reshape", 1, 4, OpKind::kReshape, ImportReshape1});
  r.AddDirect(OpKind::kReshape, 5);
  r.AddDirect(OpKind::kShape, 1);
  r.AddDirect(OpKind::kSize, 1);
  r.AddDirect(OpKind::kFlatten, 1);
  r.Add({"Squeeze", 1, 12, OpKind::kSqueeze, ImportSqueeze1});
  r.AddDirect(OpKind::kSqueeze, 13);
  r.Add({"Unsqueeze", 1, 12, OpKind::kUnsqueeze, ImportUnsqueeze1});
  r.AddDirect(OpKind::kUnsqueeze, 13);
  r.AddDirect(OpKind::kTranspose, 1);
  r.Add({"Concat", 1, 3, OpKind::kConcat, ImportConcat1});
  r.AddDirect(OpKind::kConcat, 4);
  r.Add({"Split", 1, 12, OpKind::kSplit, ImportSplit1});
  r.AddDirect(OpKind::kSplit, 13);
  r.Add({"Slice", 1, 9, OpKind::kSlice, ImportSlice1});
  r.AddDirect(OpKind::kSlice, 10);
  r.AddDirect(OpKind::kGather, 1);
  r.AddDirect(OpKind::kGatherElements, 11);
  r.AddDirect(OpKind::kGatherND, 11);
  // Scatter was deprecated in opset 11 in favour of ScatterElements.
  r.Add({"Scatter", 9, 10, OpKind::kScatterElements, ImportScatter});
  r.AddDirect(OpKind::kScatterElements, 11);
  r.AddDirect(OpKind::kScatterND, 11);
  r.AddDirect(OpKind::kExpand, 8);
  // Tile-1 (tiles/axis inputs) is not supported.
  r.AddDirect(OpKind::kTile, 6);
  r.Add({"Pad", 1, 10, OpKind::kPad, ImportPad2});
  r.AddDirect(OpKind::kPad, 11);
  r.AddDirect(OpKind::kConstantOfShape, 9);
  r.AddDirect(OpKind::kRange, 11);
  r.AddDirect(OpKind::kIdentity, 1);
  r.Add({"Dropout", 1, 11, OpKind::kDropout, ImportDropoutOld});
  r.AddDirect(OpKind::kDropout, 12);
  r.AddDirect(OpKind::kTrilu, 14);
  r.AddDirect(OpKind::kOneHot, 9);
  r.Add({"EyeLike", 9, kMaxSupportedOpset, OpKind::kEyeLike, ImportEyeLike});
  r.AddDirect(OpKind::kNonZero, 9);
  r.AddDirect(OpKind::kCompress, 9);
  r.AddDirect(OpKind::kDepthToSpace, 1);
  r.AddDirect(OpKind::kSpaceToDepth, 1);
  r.AddDirect(OpKind::kReverseSequence, 10);
  r.AddDirect(OpKind::kUnique, 11);
}

}  // namespace frt
