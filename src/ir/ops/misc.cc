// Schemas of the misc op family (resize, grid sampling, recurrent networks,
// detection, signal processing): the family's registration entry point and
// the inference helpers shared by its concept files (misc_resize.cc,
// misc_grid_sample.cc, misc_rnn.cc, misc_detection.cc, misc_signal.cc).
#include "ir/op_families.h"
#include "ir/ops/misc_schema_util.h"

namespace frt {

bool IsMiscFloat(DType t) {
  return t == DType::kFloat16 || t == DType::kBFloat16 || t == DType::kFloat32 ||
         t == DType::kFloat64;
}

bool IsMiscNumeric(DType t) { return IsMiscFloat(t) || IsInteger(t); }

bool IsMiscIndex(DType t) { return t == DType::kInt32 || t == DType::kInt64; }

Status MiscRequireDType(const InferContext& ctx, size_t i, std::string_view name, bool (*ok)(DType),
                        std::string_view what) {
  if (!ctx.has_input(i) || ok(ctx.input_dtype(i))) return Status::Ok();
  return ctx.Error(StatusCode::kUnsupported, "input ", i, " (", name, ") has dtype ",
                   DTypeName(ctx.input_dtype(i)), " but ", what, " is required");
}

Status MiscRequireRank(const InferContext& ctx, size_t i, std::string_view name, size_t rank) {
  if (!ctx.has_input(i) || !ctx.input_shape(i) || ctx.input_shape(i)->rank() == rank) {
    return Status::Ok();
  }
  return ctx.Error(StatusCode::kInvalidModel, "input ", i, " (", name, ") has shape ",
                   ctx.input_shape(i)->ToString(), " but must have rank ", rank);
}

Status MiscRequireScalar(const InferContext& ctx, size_t i, std::string_view name,
                         bool allow_empty) {
  if (!ctx.has_input(i) || !ctx.input_shape(i)) return Status::Ok();
  const Shape& s = *ctx.input_shape(i);
  bool one = true;
  for (const Dim& d : s.dims()) one = one && !MiscDimsConflict(d, Dim(1));
  if (one) return Status::Ok();
  if (allow_empty && s.rank() == 1 && s[0].is_static() && s[0].value() == 0) return Status::Ok();
  return ctx.Error(StatusCode::kInvalidModel, "input ", i, " (", name, ") has shape ", s.ToString(),
                   " but must be a scalar");
}

std::optional<int64_t> MiscKnownScalarInt(const InferContext& ctx, size_t i) {
  auto v = KnownInts(ctx, i);
  if (!v || v->size() != 1) return std::nullopt;
  return (*v)[0];
}

std::optional<double> MiscKnownScalarFloat(const InferContext& ctx, size_t i) {
  if (!ctx.has_input(i) || !ctx.input_value(i)) return std::nullopt;
  const Tensor& t = *ctx.input_value(i);
  if (t.num_elements() != 1) return std::nullopt;
  return t.GetAsDouble(0);
}

void RegisterMiscOps(OpRegistry& r) {
  RegisterMiscResizeOps(r);
  RegisterMiscGridSampleOps(r);
  RegisterMiscRnnOps(r);
  RegisterMiscDetectionOps(r);
  RegisterMiscSignalOps(r);
}

}  // namespace frt
