// Schemas of the ops that rearrange elements without looking at their
// values: Transpose, Concat, Split, Slice, DepthToSpace, SpaceToDepth, Trilu
// and ReverseSequence. Slice's clamping rule (ClampSlice) is shared with the
// CPU kernel so both agree on the output extent.
#include <algorithm>
#include <limits>

#include "ir/ops/tensor_schema_util.h"

namespace frt::tensor {

SliceRange ClampSlice(int64_t start, int64_t end, int64_t step, int64_t dim) {
  if (dim == 0) return {0, step, 0};
  if (start < 0) start += dim;
  if (end < 0) end += dim;
  // ceil(span / |step|) in unsigned arithmetic: |INT64_MIN| and span + |step| overflow int64.
  uint64_t magnitude = step > 0 ? static_cast<uint64_t>(step) : 0 - static_cast<uint64_t>(step);
  int64_t span = 0;
  if (step > 0) {
    start = std::clamp<int64_t>(start, 0, dim);
    end = std::clamp<int64_t>(end, 0, dim);
    span = end - start;
  } else {
    start = std::clamp<int64_t>(start, 0, dim - 1);
    end = std::clamp<int64_t>(end, -1, dim - 1);
    span = start - end;
  }
  int64_t length =
      span <= 0 ? 0 : static_cast<int64_t>((static_cast<uint64_t>(span) - 1) / magnitude + 1);
  return {start, step, length};
}

namespace {

Status InferTranspose(InferContext& ctx) {
  DType dt = ctx.input_dtype(0);
  const Shape* in = ctx.input_shape(0);
  bool has_perm = ctx.attrs().Has("perm");
  std::vector<int64_t> perm = ctx.attrs().GetInts("perm");
  if (!in) {
    if (has_perm) {
      ctx.SetOutput(0, dt, UnknownShape(perm.size()));
    } else {
      ctx.SetOutputDType(0, dt);
    }
    return Status::Ok();
  }
  size_t rank = in->rank();
  if (!has_perm) {
    for (size_t i = 0; i < rank; ++i) perm.push_back(static_cast<int64_t>(rank - 1 - i));
  }
  if (perm.size() != rank) {
    return ctx.Error(StatusCode::kInvalidModel, "perm has ", perm.size(),
                     " entries but the input has rank ", rank);
  }
  std::vector<bool> seen(rank, false);
  std::vector<Dim> out;
  for (int64_t p : perm) {
    if (p < 0 || p >= static_cast<int64_t>(rank) || seen[p]) {
      return ctx.Error(StatusCode::kInvalidModel, "perm is not a permutation of [0, ", rank,
                       "): entry ", p, " is out of range or repeated");
    }
    seen[p] = true;
    out.push_back((*in)[p]);
  }
  ctx.SetOutput(0, dt, Shape(std::move(out)));
  return Status::Ok();
}

Status InferConcat(InferContext& ctx) {
  if (!ctx.attrs().Has("axis")) {
    return ctx.Error(StatusCode::kInvalidModel, "required attribute axis is missing");
  }
  FRT_RETURN_IF_ERROR(CheckSameDTypes(ctx, 0, ctx.num_inputs() - 1));
  DType dt = ctx.input_dtype(0);
  const Shape* first = nullptr;
  for (size_t i = 0; i < ctx.num_inputs(); ++i) {
    if (!ctx.has_input(i)) {
      return ctx.Error(StatusCode::kInvalidModel, "input ", i, " is missing");
    }
    if (!first && ctx.input_shape(i)) first = ctx.input_shape(i);
  }
  if (!first) {
    ctx.SetOutputDType(0, dt);
    return Status::Ok();
  }
  int64_t rank = static_cast<int64_t>(first->rank());
  FRT_ASSIGN_OR_RETURN(int64_t axis, InferAxis(ctx, ctx.attrs().GetInt("axis", 0), rank));
  std::vector<Dim> out = first->dims();
  int64_t total = 0;
  bool total_known = true;
  for (size_t i = 0; i < ctx.num_inputs(); ++i) {
    const Shape* s = ctx.input_shape(i);
    if (!s) {
      total_known = false;
      continue;
    }
    if (static_cast<int64_t>(s->rank()) != rank) {
      return ctx.Error(StatusCode::kInvalidModel, "input ", i, " has shape ", s->ToString(),
                       " but input 0 has rank ", rank, "; all inputs must have the same rank");
    }
    for (int64_t d = 0; d < rank; ++d) {
      if (d == axis) continue;
      if (DimsConflict(out[d], (*s)[d])) {
        return ctx.Error(StatusCode::kInvalidModel, "input ", i, " has shape ", s->ToString(),
                         " which differs from ", first->ToString(), " in dimension ", d,
                         " (only the concat axis ", axis, " may differ)");
      }
      out[d] = MergeDims(out[d], (*s)[d]);
    }
    if ((*s)[axis].is_static()) {
      total += (*s)[axis].value();
    } else {
      total_known = false;
    }
  }
  out[axis] = total_known ? Dim(total) : Dim();
  ctx.SetOutput(0, dt, Shape(std::move(out)));
  return Status::Ok();
}

Status InferSplit(InferContext& ctx) {
  FRT_RETURN_IF_ERROR(RequireDTypeIn(ctx, 1, "split", {DType::kInt64}));
  FRT_RETURN_IF_ERROR(RequireRank(ctx, 1, "split", 1));
  DType dt = ctx.input_dtype(0);
  size_t n = ctx.num_outputs();
  const Shape* in = ctx.input_shape(0);
  bool has_num = ctx.attrs().Has("num_outputs");
  int64_t num = ctx.attrs().GetInt("num_outputs", 0);
  if (has_num && ctx.has_input(1)) {
    return ctx.Error(StatusCode::kInvalidModel,
                     "split input and num_outputs attribute are mutually exclusive");
  }
  if (has_num && (num < 1 || num != static_cast<int64_t>(n))) {
    return ctx.Error(StatusCode::kInvalidModel, "num_outputs is ", num, " but the node has ", n,
                     " outputs");
  }
  if (!in) {
    for (size_t i = 0; i < n; ++i) ctx.SetOutputDType(i, dt);
    return Status::Ok();
  }
  FRT_ASSIGN_OR_RETURN(int64_t axis, InferAxis(ctx, ctx.attrs().GetInt("axis", 0),
                                               static_cast<int64_t>(in->rank())));
  const Dim& dim = (*in)[axis];
  std::vector<Dim> sizes(n);
  if (ctx.has_input(1)) {
    if (auto split = KnownInts(ctx, 1)) {
      if (split->size() != n) {
        return ctx.Error(StatusCode::kInvalidModel, "split has ", split->size(),
                         " entries but the node has ", n, " outputs");
      }
      int64_t sum = 0;
      for (size_t i = 0; i < n; ++i) {
        if ((*split)[i] < 0) {
          return ctx.Error(StatusCode::kInvalidModel, "split[", i, "] = ", (*split)[i],
                           " is negative");
        }
        if (__builtin_add_overflow(sum, (*split)[i], &sum)) {
          return ctx.Error(StatusCode::kInvalidModel, "split entries overflow");
        }
        sizes[i] = Dim((*split)[i]);
      }
      if (dim.is_static() && sum != dim.value()) {
        return ctx.Error(StatusCode::kInvalidModel, "split sums to ", sum, " but axis ", axis,
                         " of input ", in->ToString(), " has size ", dim.value());
      }
    }
  } else if (dim.is_static()) {
    int64_t d = dim.value();
    int64_t parts = static_cast<int64_t>(n);
    if (has_num) {
      // Opset 18: chunks of ceil(d / n), the last one smaller.
      int64_t chunk = (d + parts - 1) / parts;
      int64_t last = d - chunk * (parts - 1);
      if (last < 0) {
        return ctx.Error(StatusCode::kInvalidModel, "cannot split size ", d, " into ", parts,
                         " chunks of ", chunk);
      }
      for (size_t i = 0; i < n; ++i) sizes[i] = Dim(i + 1 == n ? last : chunk);
    } else {
      if (d % parts != 0) {
        return ctx.Error(StatusCode::kInvalidModel, "axis ", axis, " of input ", in->ToString(),
                         " has size ", d, ", not divisible into ", parts, " equal outputs");
      }
      for (size_t i = 0; i < n; ++i) sizes[i] = Dim(d / parts);
    }
  } else if (n == 1) {
    sizes[0] = dim;
  }
  for (size_t i = 0; i < n; ++i) {
    std::vector<Dim> out = in->dims();
    out[axis] = sizes[i];
    ctx.SetOutput(i, dt, Shape(std::move(out)));
  }
  return Status::Ok();
}

// Slicing [0, n) with step 1, n a symbolic dim, out of an axis at least n
// long in every profile (or n long itself) keeps n elements.
Dim SymbolicSliceLength(const InferContext& ctx, const std::optional<std::vector<int64_t>>& starts,
                        const std::optional<std::vector<int64_t>>& steps, size_t i,
                        const Dim& axis_dim) {
  const SymbolicTensor* ends = ctx.input_symbolic(2);
  if (!starts || (*starts)[i] != 0 || (steps && (*steps)[i] != 1) ||
      (!steps && ctx.has_input(4)) || !ends || i >= ends->elems.size()) {
    return Dim();
  }
  const SymDim& end = ends->elems[i];
  if (end.constant || end.symbol.empty()) return Dim();
  Dim n = Dim::Symbol(end.symbol);
  if (axis_dim == n) return n;
  auto bound = SymbolUpperBound(ctx, n);
  if (bound && axis_dim.is_static() && *bound <= axis_dim.value()) return n;
  return Dim();
}

Status InferSlice(InferContext& ctx) {
  for (size_t i = 1; i < 5; ++i) {
    static const char* const kNames[] = {"data", "starts", "ends", "axes", "steps"};
    FRT_RETURN_IF_ERROR(RequireDTypeIn(ctx, i, kNames[i], {DType::kInt32, DType::kInt64}));
    FRT_RETURN_IF_ERROR(RequireRank(ctx, i, kNames[i], 1));
  }
  FRT_RETURN_IF_ERROR(CheckSameDTypes(ctx, 1, 4));
  DType dt = ctx.input_dtype(0);
  const Shape* in = ctx.input_shape(0);
  if (!in) {
    ctx.SetOutputDType(0, dt);
    return Status::Ok();
  }
  int64_t rank = static_cast<int64_t>(in->rank());
  auto starts = KnownInts(ctx, 1);
  auto ends = KnownInts(ctx, 2);
  auto steps = KnownInts(ctx, 4);
  std::optional<std::vector<int64_t>> axes;
  if (ctx.has_input(3)) {
    axes = KnownInts(ctx, 3);
  } else if (auto n = KnownLength(ctx, 1)) {
    axes.emplace();
    for (int64_t i = 0; i < *n; ++i) axes->push_back(i);
  }
  std::vector<Dim> out = in->dims();
  if (!axes) {
    ctx.SetOutput(0, dt, UnknownShape(in->rank()));
    return Status::Ok();
  }
  std::vector<bool> seen(in->rank(), false);
  for (int64_t& a : *axes) {
    FRT_ASSIGN_OR_RETURN(a, InferAxis(ctx, a, rank, "axes entry"));
    if (seen[a]) return ctx.Error(StatusCode::kInvalidModel, "axes lists axis ", a, " twice");
    seen[a] = true;
  }
  size_t n = axes->size();
  auto check_len = [&](const std::optional<std::vector<int64_t>>& v, const char* name) {
    if (v && v->size() != n) {
      return ctx.Error(StatusCode::kInvalidModel, name, " has ", v->size(),
                       " entries but axes has ", n, "; they must have the same length");
    }
    return Status::Ok();
  };
  FRT_RETURN_IF_ERROR(check_len(starts, "starts"));
  FRT_RETURN_IF_ERROR(check_len(ends, "ends"));
  FRT_RETURN_IF_ERROR(check_len(steps, "steps"));
  if (steps) {
    for (size_t i = 0; i < n; ++i) {
      if ((*steps)[i] == 0) {
        return ctx.Error(StatusCode::kInvalidModel, "steps[", i, "] is 0; steps must be nonzero");
      }
    }
  }
  bool steps_known = steps || !ctx.has_input(4);
  for (size_t i = 0; i < n; ++i) {
    int64_t a = (*axes)[i];
    if (!starts || !ends || !steps_known) {
      out[a] = SymbolicSliceLength(ctx, starts, steps, i, (*in)[a]);
      continue;
    }
    int64_t step = steps ? (*steps)[i] : 1;
    int64_t start = (*starts)[i], end = (*ends)[i];
    if ((*in)[a].is_static()) {
      out[a] = Dim(ClampSlice(start, end, step, (*in)[a].value()).length);
    } else if (!(start == 0 && step == 1 && end == std::numeric_limits<int64_t>::max())) {
      out[a] = Dim();  // a full slice keeps a symbolic dim; anything else is unknown
    }
  }
  ctx.SetOutput(0, dt, Shape(std::move(out)));
  return Status::Ok();
}

Status InferDepthSpace(InferContext& ctx, bool to_space) {
  FRT_RETURN_IF_ERROR(RequireRank(ctx, 0, "input", 4));
  DType dt = ctx.input_dtype(0);
  int64_t b = ctx.attrs().GetInt("blocksize", 0);
  if (b <= 0) {
    return ctx.Error(StatusCode::kInvalidModel, "blocksize must be > 0, got ", b);
  }
  if (to_space) {
    std::string mode = ctx.attrs().GetString("mode", "DCR");
    if (mode != "DCR" && mode != "CRD") {
      return ctx.Error(StatusCode::kInvalidModel, "mode \"", mode, "\" must be DCR or CRD");
    }
  }
  const Shape* in = ctx.input_shape(0);
  if (!in) {
    ctx.SetOutput(0, dt, UnknownShape(4));
    return Status::Ok();
  }
  FRT_ASSIGN_OR_RETURN(int64_t bb, CheckedMul(ctx, b, b));
  std::vector<Dim> out = in->dims();
  auto divide = [&](size_t d, int64_t by) -> Status {
    if (!out[d].is_static()) {
      out[d] = Dim();
      return Status::Ok();
    }
    if (out[d].value() % by != 0) {
      return ctx.Error(StatusCode::kInvalidModel, "dimension ", d, " of input ", in->ToString(),
                       " must be divisible by ", by);
    }
    out[d] = Dim(out[d].value() / by);
    return Status::Ok();
  };
  if (to_space) {
    FRT_RETURN_IF_ERROR(divide(1, bb));
    out[2] = ScaleDim(out[2], b);
    out[3] = ScaleDim(out[3], b);
  } else {
    FRT_RETURN_IF_ERROR(divide(2, b));
    FRT_RETURN_IF_ERROR(divide(3, b));
    out[1] = ScaleDim(out[1], bb);
  }
  ctx.SetOutput(0, dt, Shape(std::move(out)));
  return Status::Ok();
}

Status InferDepthToSpace(InferContext& ctx) { return InferDepthSpace(ctx, true); }
Status InferSpaceToDepth(InferContext& ctx) { return InferDepthSpace(ctx, false); }

Status InferTrilu(InferContext& ctx) {
  FRT_RETURN_IF_ERROR(RequireDTypeIn(ctx, 1, "k", {DType::kInt64}));
  FRT_RETURN_IF_ERROR(RequireScalarLike(ctx, 1, "k"));
  const Shape* in = ctx.input_shape(0);
  if (in && in->rank() < 2) {
    return ctx.Error(StatusCode::kInvalidModel, "input has shape ", in->ToString(),
                     " but must have rank >= 2");
  }
  return InferSameAsInput0(ctx);
}

Status InferReverseSequence(InferContext& ctx) {
  FRT_RETURN_IF_ERROR(RequireDTypeIn(ctx, 1, "sequence_lens", {DType::kInt64}));
  FRT_RETURN_IF_ERROR(RequireRank(ctx, 1, "sequence_lens", 1));
  int64_t batch_axis = ctx.attrs().GetInt("batch_axis", 1);
  int64_t time_axis = ctx.attrs().GetInt("time_axis", 0);
  if ((batch_axis != 0 && batch_axis != 1) || (time_axis != 0 && time_axis != 1) ||
      batch_axis == time_axis) {
    return ctx.Error(StatusCode::kInvalidModel, "batch_axis ", batch_axis, " and time_axis ",
                     time_axis, " must be 0 and 1 in some order");
  }
  const Shape* in = ctx.input_shape(0);
  if (in) {
    if (in->rank() < 2) {
      return ctx.Error(StatusCode::kInvalidModel, "input has shape ", in->ToString(),
                       " but must have rank >= 2");
    }
    const Shape* lens = ctx.input_shape(1);
    if (lens && lens->rank() == 1 && DimsConflict((*lens)[0], (*in)[batch_axis])) {
      return ctx.Error(StatusCode::kInvalidModel, "sequence_lens has shape ", lens->ToString(),
                       " but the batch axis of input ", in->ToString(), " has size ",
                       (*in)[batch_axis].value());
    }
  }
  return InferSameAsInput0(ctx);
}

}  // namespace

void RegisterTensorLayoutOps(OpRegistry& r) {
  constexpr auto kInj = FusionKind::kInjective;
  constexpr auto kFollow = PrecisionPolicy::kFollow;
  constexpr int kManyOutputs = std::numeric_limits<int>::max();
  r.Register({OpKind::kTranspose, kInj, kFollow, 1, 1, 1, 1, InferTranspose});
  r.Register({OpKind::kConcat, kInj, kFollow, 1, -1, 1, 1, InferConcat});
  r.Register({OpKind::kSplit, kInj, kFollow, 1, 2, 1, kManyOutputs, InferSplit});
  r.Register({OpKind::kSlice, kInj, kFollow, 3, 5, 1, 1, InferSlice});
  r.Register({OpKind::kDepthToSpace, kInj, kFollow, 1, 1, 1, 1, InferDepthToSpace});
  r.Register({OpKind::kSpaceToDepth, kInj, kFollow, 1, 1, 1, 1, InferSpaceToDepth});
  r.Register({OpKind::kTrilu, kInj, kFollow, 1, 2, 1, 1, InferTrilu});
  r.Register({OpKind::kReverseSequence, kInj, kFollow, 2, 2, 1, 1, InferReverseSequence});
}

}  // namespace frt::tensor
