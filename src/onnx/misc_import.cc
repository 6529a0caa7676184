// ONNX import rules of the misc family (resize, grid sampling, recurrent
// networks, detection, signal processing). The IR holds one semantics per op,
// the latest up to opset 21; adapters rewrite the older forms:
//   Resize-10 and Upsample-1/7/9 -> Resize with asymmetric coordinates and
//     floor rounding for nearest (what those versions computed), scales as an input;
//   RNN/GRU/LSTM-1: drop output_sequence (outputs are optional since opset 7);
//   GridSample-16: modes bilinear/bicubic are named linear/cubic since 20;
//   RoiAlign-10: behaved as coordinate_transformation_mode "output_half_pixel";
//   DFT-17: the axis attribute (default 1) becomes DFT-20's axis input;
//   window ops and MelWeightMatrix: output_datatype is an ONNX type code and
//     is stored as the IR DType (static_cast<int64_t>(DType)).
#include "onnx/import_context.h"
#include "onnx/import_families.h"
#include "onnx/onnx_types.h"

namespace frt {
namespace {

// Old upsampling forms interpolate on asymmetric coordinates; nearest picks floor(x).
Attributes UpsampleResizeAttrs(ImportContext& ctx) {
  Attributes attrs;
  std::string mode = ctx.attrs().GetString("mode", "nearest");
  if (mode == "bilinear") mode = "linear";  // Upsample-1 spelling
  attrs.Set("mode", mode);
  attrs.Set("coordinate_transformation_mode", std::string("asymmetric"));
  if (mode == "nearest") attrs.Set("nearest_mode", std::string("floor"));
  return attrs;
}

Status EmitUpsample(ImportContext& ctx, Value* scales) {
  if (!ctx.input(0) || !scales) {
    return ctx.Error(StatusCode::kInvalidModel, "needs the input X and scales");
  }
  return ctx
      .Emit(OpKind::kResize, {ctx.input(0), nullptr, scales}, {ctx.output(0)},
            UpsampleResizeAttrs(ctx))
      .status();
}

// Resize-10 and Upsample-9/10: (X, scales).
Status ImportScalesInputResize(ImportContext& ctx) { return EmitUpsample(ctx, ctx.input(1)); }

// Upsample-7: scales is an attribute.
Status ImportUpsample7(ImportContext& ctx) {
  if (!ctx.attrs().Has("scales")) {
    return ctx.Error(StatusCode::kInvalidModel, "the scales attribute is required");
  }
  std::vector<float> s = ctx.attrs().GetFloats("scales");
  Tensor t = Tensor::FromVector(s, {static_cast<int64_t>(s.size())});
  FRT_ASSIGN_OR_RETURN(Value * scales, ctx.AddConstant(std::move(t), "scales"));
  return EmitUpsample(ctx, scales);
}

// Upsample-1: NCHW input, height_scale and width_scale attributes.
Status ImportUpsample1(ImportContext& ctx) {
  if (!ctx.attrs().Has("height_scale") || !ctx.attrs().Has("width_scale")) {
    return ctx.Error(StatusCode::kInvalidModel,
                     "the height_scale and width_scale attributes are required");
  }
  std::vector<float> s = {1.0f, 1.0f, ctx.attrs().GetFloat("height_scale"),
                          ctx.attrs().GetFloat("width_scale")};
  FRT_ASSIGN_OR_RETURN(Value * scales, ctx.AddConstant(Tensor::FromVector(s, {4}), "scales"));
  return EmitUpsample(ctx, scales);
}

// RNN/GRU/LSTM before opset 7: output_sequence only said Y was optional.
// GRU-1 also spelled its default direction "foward".
Status ImportRecurrentV1(ImportContext& ctx, OpKind kind) {
  ctx.attrs().Erase("output_sequence");
  if (ctx.attrs().GetString("direction", "forward") == "foward") {
    ctx.attrs().Set("direction", std::string("forward"));
  }
  return ctx.EmitDirect(kind).status();
}
Status ImportRnn1(ImportContext& ctx) { return ImportRecurrentV1(ctx, OpKind::kRNN); }
Status ImportGru1(ImportContext& ctx) { return ImportRecurrentV1(ctx, OpKind::kGRU); }
Status ImportLstm1(ImportContext& ctx) { return ImportRecurrentV1(ctx, OpKind::kLSTM); }

Status ImportGridSample16(ImportContext& ctx) {
  std::string mode = ctx.attrs().GetString("mode", "bilinear");
  if (mode == "bilinear") mode = "linear";
  if (mode == "bicubic") mode = "cubic";
  ctx.attrs().Set("mode", mode);
  return ctx.EmitDirect(OpKind::kGridSample).status();
}

Status ImportRoiAlign10(ImportContext& ctx) {
  ctx.attrs().Set("coordinate_transformation_mode", std::string("output_half_pixel"));
  return ctx.EmitDirect(OpKind::kRoiAlign).status();
}

// DFT-17: axis attribute (default 1) -> DFT-20's optional axis input.
Status ImportDft17(ImportContext& ctx) {
  int64_t axis = ctx.attrs().GetInt("axis", 1);
  ctx.attrs().Erase("axis");
  FRT_ASSIGN_OR_RETURN(Value * axis_value,
                       ctx.AddConstant(Tensor::FromVector<int64_t>({axis}, {}), "axis"));
  std::vector<Value*> inputs = ctx.inputs();
  inputs.resize(3, nullptr);
  inputs[2] = axis_value;
  return ctx.Emit(OpKind::kDFT, inputs, ctx.outputs(), ctx.attrs()).status();
}

// output_datatype: ONNX TensorProto code (default FLOAT) -> IR DType.
Status ImportWithOutputDType(ImportContext& ctx, OpKind kind) {
  int64_t code = ctx.attrs().GetInt("output_datatype", 1);
  auto dtype = DTypeFromOnnx(static_cast<int32_t>(code));
  if (!dtype.ok()) {
    return ctx.Error(StatusCode::kUnsupported, "output_datatype ", code, " is not supported (",
                     dtype.status().message(), ")");
  }
  ctx.attrs().Set("output_datatype", static_cast<int64_t>(*dtype));
  return ctx.EmitDirect(kind).status();
}
Status ImportHannWindow(ImportContext& ctx) {
  return ImportWithOutputDType(ctx, OpKind::kHannWindow);
}
Status ImportHammingWindow(ImportContext& ctx) {
  return ImportWithOutputDType(ctx, OpKind::kHammingWindow);
}
Status ImportBlackmanWindow(ImportContext& ctx) {
  return ImportWithOutputDType(ctx, OpKind::kBlackmanWindow);
}
Status ImportMelWeightMatrix(ImportContext& ctx) {
  return ImportWithOutputDType(ctx, OpKind::kMelWeightMatrix);
}

}  // namespace

void RegisterMiscImports(ImportRuleRegistry& r) {
  // Resizing. Resize-11..19 only added attributes whose defaults keep the
  // old meaning (tf_half_pixel_for_nn of 11/12 stays valid in the IR).
  r.Add({"Resize", 10, 10, OpKind::kResize, ImportScalesInputResize});
  r.AddDirect(OpKind::kResize, 11);
  r.Add({"Upsample", 1, 6, OpKind::kResize, ImportUpsample1});
  r.Add({"Upsample", 7, 8, OpKind::kResize, ImportUpsample7});
  // Upsample is deprecated from opset 10 but still read the way opset 9 defined it.
  r.Add({"Upsample", 9, kMaxSupportedOpset, OpKind::kResize, ImportScalesInputResize});
  r.Add({"GridSample", 16, 19, OpKind::kGridSample, ImportGridSample16});
  r.AddDirect(OpKind::kGridSample, 20);

  // Recurrent networks: opset 14 only added `layout` (default 0).
  r.Add({"RNN", 1, 6, OpKind::kRNN, ImportRnn1});
  r.AddDirect(OpKind::kRNN, 7);
  r.Add({"GRU", 1, 6, OpKind::kGRU, ImportGru1});
  r.AddDirect(OpKind::kGRU, 7);
  r.Add({"LSTM", 1, 6, OpKind::kLSTM, ImportLstm1});
  r.AddDirect(OpKind::kLSTM, 7);

  // Detection.
  r.Add({"RoiAlign", 10, 15, OpKind::kRoiAlign, ImportRoiAlign10});
  r.AddDirect(OpKind::kRoiAlign, 16);
  r.AddDirect(OpKind::kMaxRoiPool, 1);
  r.AddDirect(OpKind::kNonMaxSuppression, 10);

  // Signal processing.
  r.Add({"HannWindow", 17, kMaxSupportedOpset, OpKind::kHannWindow, ImportHannWindow});
  r.Add({"HammingWindow", 17, kMaxSupportedOpset, OpKind::kHammingWindow, ImportHammingWindow});
  r.Add({"BlackmanWindow", 17, kMaxSupportedOpset, OpKind::kBlackmanWindow, ImportBlackmanWindow});
  r.Add(
      {"MelWeightMatrix", 17, kMaxSupportedOpset, OpKind::kMelWeightMatrix, ImportMelWeightMatrix});
  r.Add({"DFT", 17, 19, OpKind::kDFT, ImportDft17});
  r.AddDirect(OpKind::kDFT, 20);
  r.AddDirect(OpKind::kSTFT, 17);
}

}  // namespace frt
