#include "ir/infer_helpers.h"

namespace frt {

Status InferSameAsInput0(InferContext& ctx) {
  if (ctx.input_shape(0)) {
    ctx.SetOutput(0, ctx.input_dtype(0), *ctx.input_shape(0));
  } else {
    ctx.SetOutputDType(0, ctx.input_dtype(0));
  }
  return Status::Ok();
}

Status CheckSameDTypes(InferContext& ctx, size_t first, size_t last) {
  DType want = ctx.input_dtype(first);
  for (size_t i = first + 1; i <= last && i < ctx.num_inputs(); ++i) {
    if (ctx.has_input(i) && ctx.input_dtype(i) != want) {
      return ctx.Error(StatusCode::kInvalidModel, "input ", i, " has dtype ",
                       DTypeName(ctx.input_dtype(i)), " but input ", first, " has ",
                       DTypeName(want), "; they must match");
    }
  }
  return Status::Ok();
}

Result<std::optional<Shape>> BroadcastInputs(const InferContext& ctx, size_t first, size_t last) {
  std::optional<Shape> out;
  for (size_t i = first; i <= last && i < ctx.num_inputs(); ++i) {
    if (!ctx.has_input(i)) continue;
    if (!ctx.input_shape(i)) return std::optional<Shape>();
    if (!out) {
      out = *ctx.input_shape(i);
      continue;
    }
    auto b = BroadcastShapes(*out, *ctx.input_shape(i));
    if (!b.ok()) return ctx.Error(b.status().code(), b.status().message());
    out = *b;
  }
  return out;
}

static Status InferBroadcastAs(InferContext& ctx, DType dtype) {
  FRT_ASSIGN_OR_RETURN(std::optional<Shape> shape, BroadcastInputs(ctx, 0, ctx.num_inputs() - 1));
  if (shape) {
    ctx.SetOutput(0, dtype, *shape);
  } else {
    ctx.SetOutputDType(0, dtype);
  }
  return Status::Ok();
}

Status InferBroadcast(InferContext& ctx) {
  FRT_RETURN_IF_ERROR(CheckSameDTypes(ctx, 0, ctx.num_inputs() - 1));
  return InferBroadcastAs(ctx, ctx.input_dtype(0));
}

Status InferBroadcastBool(InferContext& ctx) {
  FRT_RETURN_IF_ERROR(CheckSameDTypes(ctx, 0, ctx.num_inputs() - 1));
  return InferBroadcastAs(ctx, DType::kBool);
}

std::optional<std::vector<int64_t>> KnownInts(const InferContext& ctx, size_t i) {
  if (!ctx.has_input(i) || ctx.input_value(i) == nullptr) return std::nullopt;
  auto v = ctx.input_value(i)->ToInt64Vector();
  if (!v.ok()) return std::nullopt;
  return *v;
}

Shape UnknownShape(size_t rank) { return Shape(std::vector<Dim>(rank)); }

std::optional<std::vector<Dim>> SymbolicShapeValue(const InferContext& ctx, size_t i) {
  const SymbolicTensor* t = ctx.input_symbolic(i);
  if (t == nullptr || t->scalar) return std::nullopt;
  std::vector<Dim> dims;
  for (const SymDim& e : t->elems) {
    if (e.constant) {
      dims.push_back(*e.constant >= 0 ? Dim(*e.constant) : Dim());
    } else {
      dims.push_back(e.symbol.empty() ? Dim() : Dim::Symbol(e.symbol));
    }
  }
  return dims;
}

std::optional<int64_t> SymbolUpperBound(const InferContext& ctx, const Dim& d) {
  if (d.is_static()) return d.value();
  const auto* bounds = ctx.symbol_upper_bounds();
  if (!d.is_symbol() || bounds == nullptr) return std::nullopt;
  auto it = bounds->find(d.symbol());
  if (it == bounds->end()) return std::nullopt;
  return it->second;
}

}  // namespace frt
