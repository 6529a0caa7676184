// Schemas of the signal-processing ops: the Hann / Hamming / Blackman window
// generators and MelWeightMatrix (output_datatype holds an IR DType, set by
// the importer), DFT (opset 20: axis is an optional input, default -2;
// complex values are a trailing dim of 2, real ones a trailing dim of 1) and
// STFT. Their output sizes depend on input values: with unknown values the
// dims stay unknown until run time.
#include "ir/ops/misc_schema_util.h"

namespace frt {
namespace {

// output_datatype: a DType stored as int64 (absent: f32).
Result<DType> OutputDType(const InferContext& ctx) {
  const int64_t v = ctx.attrs().GetInt("output_datatype", static_cast<int64_t>(DType::kFloat32));
  const DType t = static_cast<DType>(v);
  if (v <= 0 || v > static_cast<int64_t>(DType::kFloat8E5M2) || !IsMiscNumeric(t)) {
    return ctx.Error(StatusCode::kUnsupported, "output_datatype ", v,
                     " is not a supported numeric IR dtype");
  }
  return t;
}

Status InferWindow(InferContext& ctx) {
  FRT_RETURN_IF_ERROR(MiscRequireDType(ctx, 0, "size", IsMiscIndex, "int32 or int64"));
  FRT_RETURN_IF_ERROR(MiscRequireScalar(ctx, 0, "size"));
  const int64_t periodic = ctx.attrs().GetInt("periodic", 1);
  if (periodic != 0 && periodic != 1) {
    return ctx.Error(StatusCode::kInvalidModel, "periodic is ", periodic, " but must be 0 or 1");
  }
  FRT_ASSIGN_OR_RETURN(DType dtype, OutputDType(ctx));
  Dim size;
  if (auto n = MiscKnownScalarInt(ctx, 0)) {
    if (*n < 0) return ctx.Error(StatusCode::kInvalidModel, "size is ", *n, " but must be >= 0");
    size = Dim(*n);
  }
  ctx.SetOutput(0, dtype, Shape({size}));
  return Status::Ok();
}

Status InferMelWeightMatrix(InferContext& ctx) {
  const char* names[] = {"num_mel_bins", "dft_length", "sample_rate", "lower_edge_hertz",
                         "upper_edge_hertz"};
  for (size_t i = 0; i < 5; ++i) {
    FRT_RETURN_IF_ERROR(MiscRequireScalar(ctx, i, names[i]));
    FRT_RETURN_IF_ERROR(i < 3 ? MiscRequireDType(ctx, i, names[i], IsMiscIndex, "int32 or int64")
                              : MiscRequireDType(ctx, i, names[i], IsMiscFloat, kMiscFloatTypes));
  }
  FRT_ASSIGN_OR_RETURN(DType dtype, OutputDType(ctx));
  Dim bins, mels;
  if (auto n = MiscKnownScalarInt(ctx, 0)) {
    if (*n <= 0) {
      return ctx.Error(StatusCode::kInvalidModel, "num_mel_bins is ", *n, " but must be positive");
    }
    mels = Dim(*n);
  }
  if (auto n = MiscKnownScalarInt(ctx, 1)) {
    if (*n <= 0) {
      return ctx.Error(StatusCode::kInvalidModel, "dft_length is ", *n, " but must be positive");
    }
    bins = Dim(*n / 2 + 1);
  }
  if (auto rate = MiscKnownScalarInt(ctx, 2); rate && *rate <= 0) {
    return ctx.Error(StatusCode::kInvalidModel, "sample_rate is ", *rate, " but must be positive");
  }
  ctx.SetOutput(0, dtype, Shape({bins, mels}));
  return Status::Ok();
}

Status InferDft(InferContext& ctx) {
  FRT_RETURN_IF_ERROR(MiscRequireDType(ctx, 0, "input", IsMiscFloat, kMiscFloatTypes));
  FRT_RETURN_IF_ERROR(MiscRequireDType(ctx, 1, "dft_length", IsMiscIndex, "int32 or int64"));
  FRT_RETURN_IF_ERROR(MiscRequireDType(ctx, 2, "axis", IsMiscIndex, "int32 or int64"));
  FRT_RETURN_IF_ERROR(MiscRequireScalar(ctx, 1, "dft_length"));
  FRT_RETURN_IF_ERROR(MiscRequireScalar(ctx, 2, "axis"));
  const int64_t inverse = ctx.attrs().GetInt("inverse", 0);
  const int64_t onesided = ctx.attrs().GetInt("onesided", 0);
  if ((inverse != 0 && inverse != 1) || (onesided != 0 && onesided != 1)) {
    return ctx.Error(StatusCode::kInvalidModel, "inverse (", inverse, ") and onesided (", onesided,
                     ") must be 0 or 1");
  }
  const DType dtype = ctx.input_dtype(0);
  const Shape* xs = ctx.input_shape(0);
  if (!xs) {
    ctx.SetOutputDType(0, dtype);
    return Status::Ok();
  }
  const int64_t rank = static_cast<int64_t>(xs->rank());
  if (rank < 2 ||
      (MiscDimsConflict((*xs)[rank - 1], Dim(1)) && MiscDimsConflict((*xs)[rank - 1], Dim(2)))) {
    return ctx.Error(StatusCode::kInvalidModel, "input has shape ", xs->ToString(),
                     " but must be [signal dims..., 1 or 2] (real or complex)");
  }
  std::vector<Dim> out = xs->dims();
  out[rank - 1] = Dim(inverse == 1 && onesided == 1 ? 1 : 2);
  std::optional<int64_t> axis =
      ctx.has_input(2) ? MiscKnownScalarInt(ctx, 2) : std::optional<int64_t>(-2);
  std::optional<int64_t> length = ctx.has_input(1) ? MiscKnownScalarInt(ctx, 1) : std::nullopt;
  if (length && *length <= 0) {
    return ctx.Error(StatusCode::kInvalidModel, "dft_length is ", *length, " but must be positive");
  }
  if (!axis) {  // any signal dim may change
    for (int64_t d = 0; d + 1 < rank; ++d) out[d] = Dim();
    ctx.SetOutput(0, dtype, Shape(std::move(out)));
    return Status::Ok();
  }
  const int64_t a = *axis < 0 ? *axis + rank : *axis;
  if (a < 0 || a >= rank - 1) {
    return ctx.Error(StatusCode::kOutOfRange, "axis ", *axis, " is not a signal axis of rank-",
                     rank, " input (allowed: [", -rank, ", -2] or [0, ", rank - 2, "])");
  }
  const Dim& in = (*xs)[a];
  std::optional<int64_t> n = length;
  if (!ctx.has_input(1) && in.is_static()) {
    n = inverse == 1 && onesided == 1 ? 2 * (in.value() - 1) : in.value();
    if (*n <= 0) {
      return ctx.Error(StatusCode::kInvalidModel, "axis ", a, " of size ", in.value(),
                       " gives an empty transform; pass dft_length");
    }
  }
  out[a] = !n ? Dim() : Dim(inverse == 0 && onesided == 1 ? *n / 2 + 1 : *n);
  ctx.SetOutput(0, dtype, Shape(std::move(out)));
  return Status::Ok();
}

Status InferStft(InferContext& ctx) {
  FRT_RETURN_IF_ERROR(MiscRequireDType(ctx, 0, "signal", IsMiscFloat, kMiscFloatTypes));
  FRT_RETURN_IF_ERROR(MiscRequireDType(ctx, 1, "frame_step", IsMiscIndex, "int32 or int64"));
  FRT_RETURN_IF_ERROR(MiscRequireDType(ctx, 3, "frame_length", IsMiscIndex, "int32 or int64"));
  if (ctx.has_input(2) && ctx.input_dtype(2) != ctx.input_dtype(0)) {
    return ctx.Error(StatusCode::kInvalidModel, "window has dtype ", DTypeName(ctx.input_dtype(2)),
                     " but the signal has ", DTypeName(ctx.input_dtype(0)), "; they must match");
  }
  FRT_RETURN_IF_ERROR(MiscRequireScalar(ctx, 1, "frame_step"));
  FRT_RETURN_IF_ERROR(MiscRequireScalar(ctx, 3, "frame_length"));
  FRT_RETURN_IF_ERROR(MiscRequireRank(ctx, 0, "signal", 3));
  FRT_RETURN_IF_ERROR(MiscRequireRank(ctx, 2, "window", 1));
  const int64_t onesided = ctx.attrs().GetInt("onesided", 1);
  if (onesided != 0 && onesided != 1) {
    return ctx.Error(StatusCode::kInvalidModel, "onesided is ", onesided, " but must be 0 or 1");
  }
  const Shape* xs = ctx.input_shape(0);
  if (xs && MiscDimsConflict((*xs)[2], Dim(1)) && MiscDimsConflict((*xs)[2], Dim(2))) {
    return ctx.Error(StatusCode::kInvalidModel, "signal has shape ", xs->ToString(),
                     " but must be [batch, length, 1 or 2]");
  }
  const Dim batch = xs ? (*xs)[0] : Dim();
  const Dim length = xs ? (*xs)[1] : Dim();
  // frame_length: the input, else the window's length, else the whole signal.
  Dim frame = length;
  if (ctx.has_input(3)) {
    auto v = MiscKnownScalarInt(ctx, 3);
    frame = v ? Dim(*v) : Dim();
    if (v && *v <= 0) {
      return ctx.Error(StatusCode::kInvalidModel, "frame_length is ", *v, " but must be positive");
    }
  } else if (ctx.has_input(2)) {
    frame = ctx.input_shape(2) ? (*ctx.input_shape(2))[0] : Dim();
  }
  if (ctx.has_input(2) && ctx.input_shape(2) && MiscDimsConflict((*ctx.input_shape(2))[0], frame)) {
    return ctx.Error(StatusCode::kInvalidModel, "window has shape ", ctx.input_shape(2)->ToString(),
                     " but frame_length is ", frame.ToString());
  }
  auto step = MiscKnownScalarInt(ctx, 1);
  if (step && *step <= 0) {
    return ctx.Error(StatusCode::kInvalidModel, "frame_step is ", *step, " but must be positive");
  }
  Dim frames, bins;
  if (frame.is_static()) bins = Dim(onesided == 1 ? frame.value() / 2 + 1 : frame.value());
  if (step && frame.is_static() && length.is_static()) {
    if (frame.value() > length.value()) {
      return ctx.Error(StatusCode::kInvalidModel, "frame_length ", frame.value(),
                       " exceeds the signal length ", length.value());
    }
    frames = Dim((length.value() - frame.value()) / *step + 1);
  }
  ctx.SetOutput(0, ctx.input_dtype(0), Shape({batch, frames, bins, Dim(2)}));
  return Status::Ok();
}

}  // namespace

void RegisterMiscSignalOps(OpRegistry& r) {
  for (OpKind k : {OpKind::kHannWindow, OpKind::kHammingWindow, OpKind::kBlackmanWindow}) {
    r.Register({k, FusionKind::kOpaque, PrecisionPolicy::kFollow, 1, 1, 1, 1, InferWindow});
  }
  r.Register({OpKind::kMelWeightMatrix, FusionKind::kOpaque, PrecisionPolicy::kFollow, 5, 5, 1, 1,
              InferMelWeightMatrix});
  r.Register({OpKind::kDFT, FusionKind::kOpaque, PrecisionPolicy::kNever, 1, 3, 1, 1, InferDft});
  r.Register({OpKind::kSTFT, FusionKind::kOpaque, PrecisionPolicy::kNever, 2, 4, 1, 1, InferStft});
}

}  // namespace frt
