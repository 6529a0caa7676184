// Schemas of the tensor op family (shape manipulation and data movement): the
// family's registration entry point and the inference helpers shared by its
// concept files (tensor_shape.cc, tensor_create.cc, tensor_layout.cc,
// tensor_pad.cc, tensor_gather.cc, tensor_select.cc).
#include "ir/op_families.h"
#include "ir/ops/tensor_schema_util.h"

namespace frt {
namespace tensor {

Result<int64_t> InferAxis(const InferContext& ctx, int64_t axis, int64_t rank,
                          std::string_view what) {
  if (axis < -rank || axis >= rank) {
    return ctx.Error(StatusCode::kOutOfRange, what, " ", axis, " is out of range for rank ", rank,
                     " (expected [", -rank, ", ", rank - 1, "])");
  }
  return axis < 0 ? axis + rank : axis;
}

Status RequireDTypeIn(const InferContext& ctx, size_t i, std::string_view name,
                      std::initializer_list<DType> allowed) {
  if (!ctx.has_input(i)) return Status::Ok();
  std::string list;
  for (DType t : allowed) {
    if (t == ctx.input_dtype(i)) return Status::Ok();
    list += StrCat(list.empty() ? "" : " or ", DTypeName(t));
  }
  return ctx.Error(StatusCode::kInvalidModel, "input ", i, " (", name, ") has dtype ",
                   DTypeName(ctx.input_dtype(i)), " but must be ", list);
}

Status RequireRank(const InferContext& ctx, size_t i, std::string_view name, size_t rank) {
  if (!ctx.has_input(i) || !ctx.input_shape(i) || ctx.input_shape(i)->rank() == rank) {
    return Status::Ok();
  }
  return ctx.Error(StatusCode::kInvalidModel, "input ", i, " (", name, ") has shape ",
                   ctx.input_shape(i)->ToString(), " but must have rank ", rank);
}

Status RequireScalarLike(const InferContext& ctx, size_t i, std::string_view name) {
  if (!ctx.has_input(i) || !ctx.input_shape(i)) return Status::Ok();
  const Shape& s = *ctx.input_shape(i);
  if (s.rank() == 0 || (s.rank() == 1 && !DimsConflict(s[0], Dim(1)))) return Status::Ok();
  return ctx.Error(StatusCode::kInvalidModel, "input ", i, " (", name, ") has shape ", s.ToString(),
                   " but must be a scalar or a 1-element 1-D tensor");
}

std::optional<int64_t> KnownLength(const InferContext& ctx, size_t i) {
  // Callers turn the length into an output rank (a vector of that many Dims),
  // and a declared shape costs nothing to inflate: i64[1 << 40] declared in a
  // model or an engine file must not become a 16 TiB allocation. Longer is
  // treated as unknown.
  constexpr int64_t kMaxRankFromLength = int64_t{1} << 16;
  if (!ctx.has_input(i)) return std::nullopt;
  if (ctx.input_value(i)) return ctx.input_value(i)->num_elements();
  const Shape* s = ctx.input_shape(i);
  if (!s || s->rank() != 1 || !(*s)[0].is_static()) return std::nullopt;
  if ((*s)[0].value() > kMaxRankFromLength) return std::nullopt;
  return (*s)[0].value();
}

Result<int64_t> CheckedMul(const InferContext& ctx, int64_t a, int64_t b) {
  int64_t r = 0;
  if (__builtin_mul_overflow(a, b, &r)) {
    return ctx.Error(StatusCode::kOutOfRange, "dimension ", a, " * ", b,
                     " overflows a 64-bit integer");
  }
  return r;
}

Dim DimProduct(const std::vector<Dim>& dims, size_t begin, size_t end) {
  int64_t product = 1;
  bool unknown = false;
  int symbols = 0;
  const Dim* symbol = nullptr;
  for (size_t i = begin; i < end; ++i) {
    const Dim& d = dims[i];
    if (d.is_static()) {
      if (d.value() == 0) return Dim(0);
      if (__builtin_mul_overflow(product, d.value(), &product)) unknown = true;
    } else if (d.is_symbol()) {
      ++symbols;
      symbol = &d;
    } else {
      unknown = true;
    }
  }
  if (unknown) return Dim();
  if (symbols == 0) return Dim(product);
  if (symbols == 1 && product == 1) return *symbol;
  return Dim();
}

Dim ScaleDim(const Dim& d, int64_t factor) {
  if (factor == 0) return Dim(0);
  if (factor == 1) return d;
  int64_t r = 0;
  if (!d.is_static() || __builtin_mul_overflow(d.value(), factor, &r)) return Dim();
  return Dim(r);
}

Dim MergeDims(const Dim& a, const Dim& b) {
  if (a.is_static()) return a;
  if (b.is_static()) return b;
  if (a.is_symbol()) return a;
  return b;
}

}  // namespace tensor

void RegisterTensorOps(OpRegistry& r) {
  tensor::RegisterTensorShapeOps(r);
  tensor::RegisterTensorCreateOps(r);
  tensor::RegisterTensorLayoutOps(r);
  tensor::RegisterTensorPadOps(r);
  tensor::RegisterTensorGatherOps(r);
  tensor::RegisterTensorSelectOps(r);
}

}  // namespace frt
