// Schemas of the matrix products: MatMul (numpy semantics: 1-D operands are
// promoted then squeezed, batch dims broadcast), Gemm (2-D, transposes,
// C broadcast one way to [M, N]), the quantized forms MatMulInteger and
// QLinearMatMul, and Det (batched square matrices).
#include "ir/ops/nn_schema_util.h"

namespace frt::nn {
namespace {

bool IsMatMulType(DType t) {
  return IsComputeFloat(t) || t == DType::kInt32 || t == DType::kInt64 || t == DType::kUInt32 ||
         t == DType::kUInt64;
}

constexpr std::string_view kMatMulTypes =
    "a float type (f16, bf16, f32, f64) or int32/int64/"
    "uint32/uint64";
constexpr std::string_view kQuantTypes = "int8 or uint8";

}  // namespace

Result<std::optional<Shape>> MatMulShape(const InferContext& ctx, size_t a, size_t b) {
  const Shape* as = ctx.input_shape(a);
  const Shape* bs = ctx.input_shape(b);
  if (!as || !bs) return std::optional<Shape>();
  if (as->rank() == 0 || bs->rank() == 0) {
    return ctx.Error(StatusCode::kInvalidModel, "MatMul operands must have rank 1 or more, got ",
                     as->ToString(), " and ", bs->ToString());
  }
  std::vector<Dim> ad = as->dims(), bd = bs->dims();
  const bool a_vec = ad.size() == 1, b_vec = bd.size() == 1;
  if (a_vec) ad.insert(ad.begin(), Dim(1));
  if (b_vec) bd.push_back(Dim(1));
  const Dim& ka = ad[ad.size() - 1];
  const Dim& kb = bd[bd.size() - 2];
  if (DimsConflict(ka, kb)) {
    return ctx.Error(StatusCode::kInvalidModel, "inner dimensions differ: A ", as->ToString(),
                     " has K = ", ka.value(), " but B ", bs->ToString(), " has K = ", kb.value());
  }
  Shape a_batch(std::vector<Dim>(ad.begin(), ad.end() - 2));
  Shape b_batch(std::vector<Dim>(bd.begin(), bd.end() - 2));
  auto batch = BroadcastShapes(a_batch, b_batch);
  if (!batch.ok()) {
    return ctx.Error(StatusCode::kInvalidModel, "batch dimensions of A ", as->ToString(), " and B ",
                     bs->ToString(), " do not broadcast: ", batch.status().message());
  }
  std::vector<Dim> out = batch->dims();
  if (!a_vec) out.push_back(ad[ad.size() - 2]);
  if (!b_vec) out.push_back(bd.back());
  return std::optional<Shape>(Shape(std::move(out)));
}

namespace {

Status SetMatMulOutput(InferContext& ctx, size_t a, size_t b, DType dtype) {
  FRT_ASSIGN_OR_RETURN(std::optional<Shape> shape, MatMulShape(ctx, a, b));
  if (shape) {
    ctx.SetOutput(0, dtype, *shape);
  } else {
    ctx.SetOutputDType(0, dtype);
  }
  return Status::Ok();
}

Status InferMatMul(InferContext& ctx) {
  FRT_RETURN_IF_ERROR(RequireDType(ctx, 0, "A", IsMatMulType, kMatMulTypes));
  FRT_RETURN_IF_ERROR(RequireSameDType(ctx, 1, "B", ctx.input_dtype(0), "A"));
  return SetMatMulOutput(ctx, 0, 1, ctx.input_dtype(0));
}

Status InferGemm(InferContext& ctx) {
  FRT_RETURN_IF_ERROR(RequireDType(ctx, 0, "A", IsMatMulType, kMatMulTypes));
  FRT_RETURN_IF_ERROR(RequireSameDType(ctx, 1, "B", ctx.input_dtype(0), "A"));
  FRT_RETURN_IF_ERROR(RequireSameDType(ctx, 2, "C", ctx.input_dtype(0), "A"));
  const DType dtype = ctx.input_dtype(0);
  const Shape* as = ctx.input_shape(0);
  const Shape* bs = ctx.input_shape(1);
  for (const Shape* s : {as, bs}) {
    if (s && s->rank() != 2) {
      return ctx.Error(StatusCode::kInvalidModel, "A and B must be 2-D matrices, got ",
                       as ? as->ToString() : "?", " and ", bs ? bs->ToString() : "?");
    }
  }
  const bool ta = ctx.attrs().GetInt("transA", 0) != 0;
  const bool tb = ctx.attrs().GetInt("transB", 0) != 0;
  Dim m, n;
  if (as) m = (*as)[ta ? 1 : 0];
  if (bs) n = (*bs)[tb ? 0 : 1];
  if (as && bs && DimsConflict((*as)[ta ? 0 : 1], (*bs)[tb ? 1 : 0])) {
    return ctx.Error(StatusCode::kInvalidModel, "inner dimensions differ: A ", as->ToString(),
                     ta ? " (transposed)" : "", " and B ", bs->ToString(),
                     tb ? " (transposed)" : "", " need the same K");
  }
  Shape out({m, n});
  if (ctx.has_input(2) && ctx.input_shape(2)) {
    const Shape& cs = *ctx.input_shape(2);
    bool ok = cs.rank() <= 2;
    for (size_t i = 0; ok && i < cs.rank(); ++i) {
      const Dim& c = cs[cs.rank() - 1 - i];
      const Dim& o = out[1 - i];
      ok = !(c.is_static() && c.value() != 1 && DimsConflict(c, o));
    }
    if (!ok) {
      return ctx.Error(StatusCode::kInvalidModel, "C has shape ", cs.ToString(),
                       " which does not broadcast to the output ", out.ToString());
    }
  }
  ctx.SetOutput(0, dtype, out);
  return Status::Ok();
}

Status InferMatMulInteger(InferContext& ctx) {
  FRT_RETURN_IF_ERROR(RequireDType(ctx, 0, "A", IsQuant8, kQuantTypes));
  FRT_RETURN_IF_ERROR(RequireDType(ctx, 1, "B", IsQuant8, kQuantTypes));
  FRT_RETURN_IF_ERROR(RequireSameDType(ctx, 2, "a_zero_point", ctx.input_dtype(0), "A"));
  FRT_RETURN_IF_ERROR(RequireSameDType(ctx, 3, "b_zero_point", ctx.input_dtype(1), "B"));
  return SetMatMulOutput(ctx, 0, 1, DType::kInt32);
}

Status InferQLinearMatMul(InferContext& ctx) {
  FRT_RETURN_IF_ERROR(RequireDType(ctx, 0, "a", IsQuant8, kQuantTypes));
  FRT_RETURN_IF_ERROR(RequireDType(ctx, 3, "b", IsQuant8, kQuantTypes));
  FRT_RETURN_IF_ERROR(RequireDType(ctx, 7, "y_zero_point", IsQuant8, kQuantTypes));
  FRT_RETURN_IF_ERROR(RequireSameDType(ctx, 2, "a_zero_point", ctx.input_dtype(0), "a"));
  FRT_RETURN_IF_ERROR(RequireSameDType(ctx, 5, "b_zero_point", ctx.input_dtype(3), "b"));
  for (size_t i : {size_t{1}, size_t{4}, size_t{6}}) {
    FRT_RETURN_IF_ERROR(
        RequireDType(ctx, i, "scale", IsComputeFloat, "a float type (f16, bf16, f32, f64)"));
  }
  return SetMatMulOutput(ctx, 0, 3, ctx.input_dtype(7));
}

Status InferDet(InferContext& ctx) {
  FRT_RETURN_IF_ERROR(
      RequireDType(ctx, 0, "X", IsComputeFloat, "a float type (f16, bf16, f32, f64)"));
  const Shape* xs = ctx.input_shape(0);
  if (!xs) {
    ctx.SetOutputDType(0, ctx.input_dtype(0));
    return Status::Ok();
  }
  if (xs->rank() < 2 || DimsConflict((*xs)[xs->rank() - 1], (*xs)[xs->rank() - 2])) {
    return ctx.Error(StatusCode::kInvalidModel, "input has shape ", xs->ToString(),
                     " but must be [..., M, M] (square matrices)");
  }
  ctx.SetOutput(0, ctx.input_dtype(0),
                Shape(std::vector<Dim>(xs->dims().begin(), xs->dims().end() - 2)));
  return Status::Ok();
}

}  // namespace

void RegisterNnMatMulOps(OpRegistry& r) {
  r.Register({OpKind::kMatMul, FusionKind::kOutFusable, PrecisionPolicy::kAlways, 2, 2, 1, 1,
              InferMatMul});
  r.Register(
      {OpKind::kGemm, FusionKind::kOutFusable, PrecisionPolicy::kAlways, 2, 3, 1, 1, InferGemm});
  r.Register({OpKind::kMatMulInteger, FusionKind::kOutFusable, PrecisionPolicy::kNever, 2, 4, 1, 1,
              InferMatMulInteger});
  r.Register({OpKind::kQLinearMatMul, FusionKind::kOutFusable, PrecisionPolicy::kNever, 8, 8, 1, 1,
              InferQLinearMatMul});
  r.Register({OpKind::kDet, FusionKind::kOpaque, PrecisionPolicy::kNever, 1, 1, 1, 1, InferDet});
}

}  // namespace frt::nn
