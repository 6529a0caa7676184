// Schemas of the ops that change only a tensor's shape metadata or read it:
// Reshape, Flatten, Squeeze, Unsqueeze, Identity, Dropout (inference mode is
// an identity), Shape and Size. Reshape with a constant shape input keeps
// symbolic dims where it can: a 0 copies the input dim, and a -1 becomes the
// input's one leftover symbol when the other factors cancel. Shape and Size
// publish their output value when the dims they read are static.
#include <algorithm>
#include <set>
#include <string>

#include "ir/ops/tensor_schema_util.h"

namespace frt::tensor {
namespace {

// The product of a set of dims split into a static factor and symbols; any
// unknown dim (or an overflow) makes it unknown.
struct Factors {
  int64_t product = 1;
  std::multiset<std::string> symbols;
  bool unknown = false;

  void Add(const Dim& d) {
    if (d.is_static()) {
      if (__builtin_mul_overflow(product, d.value(), &product)) unknown = true;
    } else if (d.is_symbol()) {
      symbols.insert(d.symbol());
    } else {
      unknown = true;
    }
  }
};

// The dim a -1 entry stands for: input elements / other output elements.
Result<Dim> InferMinusOne(const InferContext& ctx, const Shape& in, const std::vector<Dim>& out,
                          size_t minus_one) {
  Factors fin, fout;
  for (const Dim& d : in.dims()) fin.Add(d);
  for (size_t i = 0; i < out.size(); ++i) {
    if (i != minus_one) fout.Add(out[i]);
  }
  if (fin.unknown || fout.unknown) return Dim();
  for (const std::string& s : fout.symbols) {
    auto it = fin.symbols.find(s);
    if (it == fin.symbols.end()) return Dim();
    fin.symbols.erase(it);
  }
  if (fout.product == 0) {
    if (fin.symbols.empty() && fout.symbols.empty()) {
      return ctx.Error(StatusCode::kInvalidModel, "cannot infer the -1 dimension of shape ",
                       Shape(out).ToString(), ": the other dimensions have zero elements");
    }
    return Dim();
  }
  if (fin.symbols.empty()) {
    if (fin.product % fout.product != 0) {
      return ctx.Error(StatusCode::kInvalidModel, "cannot reshape input ", in.ToString(), " to ",
                       Shape(out).ToString(), ": ", fin.product, " elements are not a multiple of ",
                       fout.product);
    }
    return Dim(fin.product / fout.product);
  }
  if (fin.symbols.size() == 1 && fin.product == fout.product) {
    return Dim::Symbol(*fin.symbols.begin());
  }
  return Dim();
}

// A target computed from symbolic dims (batch, sequence, 16): each element
// is its symbol, a constant, a copy (0) or inferred (-1, when the rest allows).
Status InferSymbolicReshape(InferContext& ctx, bool allowzero) {
  const Shape* in = ctx.input_shape(0);
  const SymbolicTensor& target = *ctx.input_symbolic(1);
  std::vector<Dim> out(target.elems.size());
  std::optional<size_t> minus_one;
  for (size_t i = 0; i < target.elems.size(); ++i) {
    const SymDim& t = target.elems[i];
    if (!t.constant) {
      out[i] = t.symbol.empty() ? Dim() : Dim::Symbol(t.symbol);
    } else if (*t.constant == -1 && !minus_one) {
      minus_one = i;
    } else if (*t.constant == 0 && !allowzero) {
      out[i] = in && i < in->rank() ? (*in)[i] : Dim();
    } else if (*t.constant >= 0) {
      out[i] = Dim(*t.constant);
    }  // else: invalid, caught when the value is known (concrete propagation)
  }
  if (minus_one && in) {
    auto d = InferMinusOne(ctx, *in, out, *minus_one);
    if (d.ok()) out[*minus_one] = *d;
  }
  ctx.SetOutput(0, ctx.input_dtype(0), Shape(std::move(out)));
  return Status::Ok();
}

Status InferReshape(InferContext& ctx) {
  FRT_RETURN_IF_ERROR(RequireDTypeIn(ctx, 1, "shape", {DType::kInt64}));
  FRT_RETURN_IF_ERROR(RequireRank(ctx, 1, "shape", 1));
  DType dt = ctx.input_dtype(0);
  bool allowzero = ctx.attrs().GetInt("allowzero", 0) != 0;
  auto vals = KnownInts(ctx, 1);
  if (!vals && ctx.input_symbolic(1)) return InferSymbolicReshape(ctx, allowzero);
  if (!vals) {
    if (auto n = KnownLength(ctx, 1)) {
      ctx.SetOutput(0, dt, UnknownShape(static_cast<size_t>(*n)));
    } else {
      ctx.SetOutputDType(0, dt);
    }
    return Status::Ok();
  }
  const Shape* in = ctx.input_shape(0);
  std::vector<Dim> out(vals->size());
  std::optional<size_t> minus_one;
  bool has_zero = false;
  for (size_t i = 0; i < vals->size(); ++i) {
    int64_t v = (*vals)[i];
    if (v == -1) {
      if (minus_one) {
        return ctx.Error(StatusCode::kInvalidModel, "shape has -1 at positions ", *minus_one,
                         " and ", i, "; at most one dimension may be -1");
      }
      minus_one = i;
    } else if (v < -1) {
      return ctx.Error(StatusCode::kInvalidModel, "shape[", i, "] = ", v,
                       " is invalid (expected >= -1)");
    } else if (v == 0 && !allowzero) {
      if (in && i >= in->rank()) {
        return ctx.Error(StatusCode::kInvalidModel, "shape[", i, "] = 0 copies input dimension ", i,
                         " but the input has rank ", in->rank());
      }
      out[i] = in ? (*in)[i] : Dim();
    } else {
      has_zero = has_zero || v == 0;
      out[i] = Dim(v);
    }
  }
  if (minus_one) {
    if (has_zero) {
      return ctx.Error(StatusCode::kInvalidModel,
                       "shape has both -1 and 0 with allowzero=1, which is ambiguous");
    }
    if (in) {
      FRT_ASSIGN_OR_RETURN(out[*minus_one], InferMinusOne(ctx, *in, out, *minus_one));
    }
  } else if (in && in->is_static() && Shape(out).is_static()) {
    auto nin = NumElements(in->static_dims());
    auto nout = NumElements(Shape(out).static_dims());
    if (!nin.ok() || !nout.ok() || *nin != *nout) {
      return ctx.Error(StatusCode::kInvalidModel, "cannot reshape input ", in->ToString(), " to ",
                       Shape(out).ToString(), ": element counts differ");
    }
  }
  ctx.SetOutput(0, dt, Shape(std::move(out)));
  return Status::Ok();
}

Status InferShape(InferContext& ctx) {
  const Shape* in = ctx.input_shape(0);
  if (!in) {
    ctx.SetOutput(0, DType::kInt64, UnknownShape(1));
    return Status::Ok();
  }
  int64_t rank = static_cast<int64_t>(in->rank());
  auto clamp = [rank](int64_t v) {
    if (v < 0) v += rank;
    return std::clamp<int64_t>(v, 0, rank);
  };
  int64_t start = clamp(ctx.attrs().GetInt("start", 0));
  int64_t end = clamp(ctx.attrs().GetInt("end", rank));
  int64_t len = std::max<int64_t>(0, end - start);
  // Publish the dims as the output value when every dim read is static, so
  // that shape arithmetic downstream (Gather, Concat, Reshape) can be folded.
  std::vector<int64_t> dims;
  for (int64_t d = start; d < start + len; ++d) {
    const Dim& dim = (*in)[static_cast<size_t>(d)];
    if (!dim.is_static()) break;
    dims.push_back(dim.value());
  }
  if (static_cast<int64_t>(dims.size()) == len) {
    ctx.SetOutputValue(0, Tensor::FromVector<int64_t>(dims, {len}));
  } else {
    ctx.SetOutput(0, DType::kInt64, Shape({Dim(len)}));
  }
  return Status::Ok();
}

Status InferSize(InferContext& ctx) {
  const Shape* in = ctx.input_shape(0);
  if (in && in->is_static()) {
    auto n = NumElements(in->static_dims());
    if (n.ok()) {
      ctx.SetOutputValue(0, Tensor::FromVector<int64_t>({*n}, {}));
      return Status::Ok();
    }
  }
  ctx.SetOutput(0, DType::kInt64, Shape());
  return Status::Ok();
}

Status InferFlatten(InferContext& ctx) {
  DType dt = ctx.input_dtype(0);
  const Shape* in = ctx.input_shape(0);
  if (!in) {
    ctx.SetOutput(0, dt, UnknownShape(2));
    return Status::Ok();
  }
  int64_t rank = static_cast<int64_t>(in->rank());
  int64_t axis = ctx.attrs().GetInt("axis", 1);
  // Flatten's axis may equal the rank (everything goes to the first dim).
  if (axis < -rank || axis > rank) {
    return ctx.Error(StatusCode::kOutOfRange, "axis ", axis, " is out of range for rank ", rank,
                     " (expected [", -rank, ", ", rank, "])");
  }
  if (axis < 0) axis += rank;
  size_t a = static_cast<size_t>(axis);
  ctx.SetOutput(0, dt,
                Shape({DimProduct(in->dims(), 0, a), DimProduct(in->dims(), a, in->rank())}));
  return Status::Ok();
}

// Normalized, duplicate-free axes of Squeeze/Unsqueeze.
Result<std::vector<int64_t>> NormalizeAxesList(const InferContext& ctx,
                                               const std::vector<int64_t>& axes, int64_t rank) {
  std::vector<int64_t> out;
  for (int64_t a : axes) {
    FRT_ASSIGN_OR_RETURN(int64_t n, InferAxis(ctx, a, rank, "axes entry"));
    if (std::find(out.begin(), out.end(), n) != out.end()) {
      return ctx.Error(StatusCode::kInvalidModel, "axes lists axis ", n, " twice");
    }
    out.push_back(n);
  }
  return out;
}

Status InferSqueeze(InferContext& ctx) {
  FRT_RETURN_IF_ERROR(RequireDTypeIn(ctx, 1, "axes", {DType::kInt64}));
  FRT_RETURN_IF_ERROR(RequireRank(ctx, 1, "axes", 1));
  DType dt = ctx.input_dtype(0);
  const Shape* in = ctx.input_shape(0);
  if (!in) {
    ctx.SetOutputDType(0, dt);
    return Status::Ok();
  }
  std::vector<Dim> out;
  if (!ctx.has_input(1)) {
    // Without axes every size-1 dim goes; a non-static dim leaves the rank open.
    for (const Dim& d : in->dims()) {
      if (!d.is_static()) {
        ctx.SetOutputDType(0, dt);
        return Status::Ok();
      }
      if (d.value() != 1) out.push_back(d);
    }
    ctx.SetOutput(0, dt, Shape(std::move(out)));
    return Status::Ok();
  }
  auto axes = KnownInts(ctx, 1);
  if (!axes) {
    auto n = KnownLength(ctx, 1);
    if (n && *n <= static_cast<int64_t>(in->rank())) {
      ctx.SetOutput(0, dt, UnknownShape(in->rank() - static_cast<size_t>(*n)));
    } else {
      ctx.SetOutputDType(0, dt);
    }
    return Status::Ok();
  }
  FRT_ASSIGN_OR_RETURN(std::vector<int64_t> norm,
                       NormalizeAxesList(ctx, *axes, static_cast<int64_t>(in->rank())));
  for (size_t i = 0; i < in->rank(); ++i) {
    bool squeezed = std::find(norm.begin(), norm.end(), static_cast<int64_t>(i)) != norm.end();
    if (!squeezed) {
      out.push_back((*in)[i]);
    } else if (DimsConflict((*in)[i], Dim(1))) {
      return ctx.Error(StatusCode::kInvalidModel, "cannot squeeze axis ", i, " of input ",
                       in->ToString(), ": its size is ", (*in)[i].value(), ", not 1");
    }
  }
  ctx.SetOutput(0, dt, Shape(std::move(out)));
  return Status::Ok();
}

Status InferUnsqueeze(InferContext& ctx) {
  FRT_RETURN_IF_ERROR(RequireDTypeIn(ctx, 1, "axes", {DType::kInt64}));
  FRT_RETURN_IF_ERROR(RequireRank(ctx, 1, "axes", 1));
  DType dt = ctx.input_dtype(0);
  const Shape* in = ctx.input_shape(0);
  auto axes = KnownInts(ctx, 1);
  if (!in || !axes) {
    auto n = KnownLength(ctx, 1);
    if (in && n) {
      ctx.SetOutput(0, dt, UnknownShape(in->rank() + static_cast<size_t>(*n)));
    } else {
      ctx.SetOutputDType(0, dt);
    }
    return Status::Ok();
  }
  int64_t out_rank = static_cast<int64_t>(in->rank() + axes->size());
  FRT_ASSIGN_OR_RETURN(std::vector<int64_t> norm, NormalizeAxesList(ctx, *axes, out_rank));
  std::vector<Dim> out;
  size_t next = 0;
  for (int64_t i = 0; i < out_rank; ++i) {
    if (std::find(norm.begin(), norm.end(), i) != norm.end()) {
      out.emplace_back(1);
    } else {
      out.push_back((*in)[next++]);
    }
  }
  ctx.SetOutput(0, dt, Shape(std::move(out)));
  return Status::Ok();
}

Status InferDropout(InferContext& ctx) {
  if (!IsFloat(ctx.input_dtype(0))) {
    return ctx.Error(StatusCode::kInvalidModel, "input 0 (data) has dtype ",
                     DTypeName(ctx.input_dtype(0)), " but must be a float type");
  }
  if (ctx.has_input(1) && !IsFloat(ctx.input_dtype(1))) {
    return ctx.Error(StatusCode::kInvalidModel, "input 1 (ratio) has dtype ",
                     DTypeName(ctx.input_dtype(1)), " but must be a float type");
  }
  FRT_RETURN_IF_ERROR(RequireScalarLike(ctx, 1, "ratio"));
  FRT_RETURN_IF_ERROR(RequireDTypeIn(ctx, 2, "training_mode", {DType::kBool}));
  FRT_RETURN_IF_ERROR(RequireScalarLike(ctx, 2, "training_mode"));
  if (ctx.has_input(1) && ctx.input_value(1) && ctx.input_value(1)->num_elements() == 1) {
    double ratio = ctx.input_value(1)->GetAsDouble(0);
    if (!(ratio >= 0.0 && ratio < 1.0)) {
      return ctx.Error(StatusCode::kInvalidModel, "ratio ", ratio, " must be in [0, 1)");
    }
  }
  FRT_RETURN_IF_ERROR(InferSameAsInput0(ctx));
  if (ctx.input_shape(0)) {
    ctx.SetOutput(1, DType::kBool, *ctx.input_shape(0));
  } else {
    ctx.SetOutputDType(1, DType::kBool);
  }
  return Status::Ok();
}

}  // namespace

void RegisterTensorShapeOps(OpRegistry& r) {
  constexpr auto kInj = FusionKind::kInjective;
  constexpr auto kFollow = PrecisionPolicy::kFollow;
  r.Register({OpKind::kReshape, kInj, kFollow, 2, 2, 1, 1, InferReshape});
  r.Register({OpKind::kFlatten, kInj, kFollow, 1, 1, 1, 1, InferFlatten});
  r.Register({OpKind::kSqueeze, kInj, kFollow, 1, 2, 1, 1, InferSqueeze});
  r.Register({OpKind::kUnsqueeze, kInj, kFollow, 2, 2, 1, 1, InferUnsqueeze});
  r.Register({OpKind::kIdentity, FusionKind::kElementwise, kFollow, 1, 1, 1, 1, InferSameAsInput0});
  r.Register({OpKind::kDropout, FusionKind::kElementwise, kFollow, 1, 3, 1, 2, InferDropout});
  r.Register({OpKind::kShape, FusionKind::kOpaque, kFollow, 1, 1, 1, 1, InferShape});
  r.Register({OpKind::kSize, FusionKind::kOpaque, kFollow, 1, 1, 1, 1, InferSize});
}

}  // namespace frt::tensor
