// Schemas of the control-flow ops If, Loop and Scan (ONNX semantics up to
// opset 21, tensors only). Each node carries its subgraphs as graph attributes
// and, after its explicit inputs, the implicit inputs the importer appends for
// outer-scope reads (control_flow_subgraph.h). Inference validates the
// node/subgraph input and output counts and infers the subgraphs locally;
// shapes that depend on run-time data (trip counts, branch taken) stay unknown.
#include "ir/infer_helpers.h"
#include "ir/op_families.h"
#include "ir/ops/control_flow_subgraph.h"

namespace frt {
namespace {

// A one-element tensor of `want` dtype (If cond, Loop M and cond).
Status CheckScalarInput(const InferContext& ctx, size_t i, const char* what, DType want) {
  if (ctx.input_dtype(i) != want) {
    return ctx.Error(StatusCode::kInvalidModel, what, " (input ", i, ") must be ", DTypeName(want),
                     ", got ", DTypeName(ctx.input_dtype(i)));
  }
  const Shape* s = ctx.input_shape(i);
  if (s && s->is_static()) {
    auto n = NumElements(s->static_dims());
    if (!n.ok() || *n != 1) {
      return ctx.Error(StatusCode::kInvalidArgument, what, " (input ", i,
                       ") must hold exactly one element, got shape ", s->ToString());
    }
  }
  return Status::Ok();
}

// The declared dtype of a subgraph input, when stated, must be `want`.
Status CheckBodyInputDType(const InferContext& ctx, const Graph& body, size_t i, DType want,
                           const char* what) {
  DType declared = body.inputs()[i]->dtype;
  if (declared != DType::kUndefined && want != DType::kUndefined && declared != want) {
    return ctx.Error(StatusCode::kInvalidModel, "subgraph \"", body.name, "\" input ", i, " (\"",
                     body.inputs()[i]->name, "\", ", what, ") is declared ", DTypeName(declared),
                     " but receives ", DTypeName(want));
  }
  return Status::Ok();
}

void SetInfo(InferContext& ctx, size_t i, DType dtype, const std::optional<Shape>& shape) {
  if (shape) {
    ctx.SetOutput(i, dtype, *shape);
  } else {
    ctx.SetOutputDType(i, dtype);
  }
}

std::optional<Shape> InputShape(const InferContext& ctx, size_t i) {
  const Shape* s = ctx.input_shape(i);
  return s ? std::optional<Shape>(*s) : std::nullopt;
}

}  // namespace

Status InferIf(InferContext& ctx) {
  FRT_ASSIGN_OR_RETURN(const Graph* then_g, RequireGraph(ctx, "then_branch"));
  FRT_ASSIGN_OR_RETURN(const Graph* else_g, RequireGraph(ctx, "else_branch"));
  FRT_ASSIGN_OR_RETURN(size_t n_explicit, ExplicitInputCount(ctx));
  if (n_explicit != 1) {
    return ctx.Error(StatusCode::kInvalidModel, "expected 1 input (cond), got ", n_explicit);
  }
  FRT_RETURN_IF_ERROR(CheckScalarInput(ctx, 0, "cond", DType::kBool));
  for (const Graph* g : {then_g, else_g}) {
    if (!g->inputs().empty()) {
      return ctx.Error(StatusCode::kInvalidModel, "branch \"", g->name, "\" takes ",
                       g->inputs().size(), " inputs; If branches take none");
    }
  }
  size_t n_out = then_g->outputs().size();
  if (else_g->outputs().size() != n_out) {
    return ctx.Error(StatusCode::kInvalidModel, "then_branch \"", then_g->name, "\" has ", n_out,
                     " outputs but else_branch \"", else_g->name, "\" has ",
                     else_g->outputs().size(), "; they must match");
  }
  if (ctx.num_outputs() > n_out) {
    return ctx.Error(StatusCode::kInvalidModel, "the node has ", ctx.num_outputs(),
                     " outputs but its branches produce ", n_out);
  }
  FRT_ASSIGN_OR_RETURN(std::vector<TensorInfo> then_out, InferSubgraph(ctx, *then_g, {}));
  FRT_ASSIGN_OR_RETURN(std::vector<TensorInfo> else_out, InferSubgraph(ctx, *else_g, {}));
  const Tensor* cond = ctx.input_value(0);
  bool cond_known = cond && cond->num_elements() == 1;
  for (size_t i = 0; i < ctx.num_outputs(); ++i) {
    const TensorInfo& a = then_out[i];
    const TensorInfo& b = else_out[i];
    if (a.dtype != DType::kUndefined && b.dtype != DType::kUndefined && a.dtype != b.dtype) {
      return ctx.Error(StatusCode::kInvalidModel, "output ", i, " is ", DTypeName(a.dtype),
                       " in then_branch but ", DTypeName(b.dtype),
                       " in else_branch; the branches must agree on dtypes");
    }
    if (cond_known) {
      const TensorInfo& taken = cond->GetAsDouble(0) != 0 ? a : b;
      SetInfo(ctx, i, taken.dtype, taken.shape);
    } else {
      SetInfo(ctx, i, a.dtype != DType::kUndefined ? a.dtype : b.dtype,
              GeneralizeShape(a.shape, b.shape));
    }
  }
  return Status::Ok();
}

Status InferLoop(InferContext& ctx) {
  FRT_ASSIGN_OR_RETURN(const Graph* body, RequireGraph(ctx, "body"));
  FRT_ASSIGN_OR_RETURN(size_t n_explicit, ExplicitInputCount(ctx));
  size_t body_in = body->inputs().size();
  size_t body_out = body->outputs().size();
  if (body_in < 2) {
    return ctx.Error(StatusCode::kInvalidModel, "body \"", body->name, "\" takes ", body_in,
                     " inputs; a Loop body takes iteration_num, cond and the loop-carried values");
  }
  size_t n = body_in - 2;  // loop-carried values
  if (n_explicit != body_in) {
    return ctx.Error(StatusCode::kInvalidModel, "the node has ", n_explicit,
                     " inputs (M, cond and loop-carried values) but body \"", body->name,
                     "\" takes ", body_in, " (iteration_num, cond and ", n,
                     " loop-carried values); they must match");
  }
  if (body_out < 1 + n) {
    return ctx.Error(StatusCode::kInvalidModel, "body \"", body->name, "\" has ", body_out,
                     " outputs; it must return cond and the ", n,
                     " loop-carried values, then any scan outputs (at least ", 1 + n, ")");
  }
  size_t k = body_out - 1 - n;  // scan outputs
  if (ctx.num_outputs() > n + k) {
    return ctx.Error(StatusCode::kInvalidModel, "the node has ", ctx.num_outputs(),
                     " outputs but body \"", body->name, "\" yields ", n,
                     " loop-carried values and ", k, " scan outputs");
  }
  if (ctx.has_input(0)) FRT_RETURN_IF_ERROR(CheckScalarInput(ctx, 0, "M", DType::kInt64));
  if (ctx.has_input(1)) FRT_RETURN_IF_ERROR(CheckScalarInput(ctx, 1, "cond", DType::kBool));
  FRT_RETURN_IF_ERROR(CheckBodyInputDType(ctx, *body, 0, DType::kInt64, "iteration_num"));
  FRT_RETURN_IF_ERROR(CheckBodyInputDType(ctx, *body, 1, DType::kBool, "cond"));
  std::vector<TensorInfo> feeds = {
      {DType::kInt64, Shape::FromDims(LoopCounterDims(*body->inputs()[0])), nullptr},
      {DType::kBool, Shape::FromDims(LoopCounterDims(*body->inputs()[1])), nullptr}};
  for (size_t i = 0; i < n; ++i) {
    if (!ctx.has_input(2 + i)) {
      return ctx.Error(StatusCode::kInvalidModel, "loop-carried input ", i, " (input ", 2 + i,
                       ") is missing");
    }
    FRT_RETURN_IF_ERROR(
        CheckBodyInputDType(ctx, *body, 2 + i, ctx.input_dtype(2 + i), "loop-carried"));
    // Loop-carried shapes may change between iterations: only the declared
    // shape (checked on every iteration) holds for all of them.
    feeds.push_back({ctx.input_dtype(2 + i), DeclaredShape(*body->inputs()[2 + i]), nullptr});
  }
  FRT_ASSIGN_OR_RETURN(std::vector<TensorInfo> outs, InferSubgraph(ctx, *body, feeds));
  if (outs[0].dtype != DType::kUndefined && outs[0].dtype != DType::kBool) {
    return ctx.Error(StatusCode::kInvalidModel, "body \"", body->name,
                     "\" output 0 (cond) must be bool, got ", DTypeName(outs[0].dtype));
  }
  for (size_t i = 0; i < n; ++i) {
    const TensorInfo& o = outs[1 + i];
    DType dt = ctx.input_dtype(2 + i);
    if (o.dtype != DType::kUndefined && o.dtype != dt) {
      return ctx.Error(StatusCode::kInvalidModel, "loop-carried value ", i, " enters body \"",
                       body->name, "\" as ", DTypeName(dt), " but leaves it as ",
                       DTypeName(o.dtype), "; the dtypes must match");
    }
    // Zero iterations return the input; otherwise the last body output.
    if (i < ctx.num_outputs()) {
      SetInfo(ctx, i, dt, GeneralizeShape(InputShape(ctx, 2 + i), o.shape));
    }
  }
  // The scan outputs' length is the trip count, known before running only
  // when no iteration can run: the body's cond output may end any Loop early.
  Dim trips;
  auto m = KnownInts(ctx, 0);
  const Tensor* cond = ctx.has_input(1) ? ctx.input_value(1) : nullptr;
  if ((cond && cond->num_elements() == 1 && cond->GetAsDouble(0) == 0) ||
      (m && m->size() == 1 && (*m)[0] <= 0)) {
    trips = Dim(0);
  }
  for (size_t j = 0; j < k && n + j < ctx.num_outputs(); ++j) {
    const TensorInfo& o = outs[1 + n + j];
    std::optional<Shape> shape;
    if (o.shape) {
      std::vector<Dim> dims = {trips};
      dims.insert(dims.end(), o.shape->dims().begin(), o.shape->dims().end());
      shape = Shape(std::move(dims));
    }
    SetInfo(ctx, n + j, o.dtype, shape);
  }
  return Status::Ok();
}

Status InferScan(InferContext& ctx) {
  FRT_ASSIGN_OR_RETURN(const Graph* body, RequireGraph(ctx, "body"));
  FRT_ASSIGN_OR_RETURN(size_t n_explicit, ExplicitInputCount(ctx));
  if (!ctx.attrs().Has("num_scan_inputs")) {
    return ctx.Error(StatusCode::kInvalidModel, "attribute num_scan_inputs is missing");
  }
  int64_t m_attr = ctx.attrs().GetInt("num_scan_inputs", 0);
  if (m_attr < 1 || static_cast<uint64_t>(m_attr) > n_explicit) {
    return ctx.Error(StatusCode::kInvalidModel, "num_scan_inputs is ", m_attr,
                     "; it must be between 1 and the number of inputs (", n_explicit, ")");
  }
  size_t m = static_cast<size_t>(m_attr);
  size_t n = n_explicit - m;  // state variables
  size_t body_in = body->inputs().size();
  size_t body_out = body->outputs().size();
  if (body_in != n_explicit) {
    return ctx.Error(StatusCode::kInvalidModel, "the node has ", n_explicit, " inputs (", n,
                     " states and ", m, " scan inputs) but body \"", body->name, "\" takes ",
                     body_in, "; they must match");
  }
  if (body_out < n) {
    return ctx.Error(StatusCode::kInvalidModel, "body \"", body->name, "\" has ", body_out,
                     " outputs; it must return the ", n, " states, then any scan outputs");
  }
  size_t k = body_out - n;  // scan outputs
  if (ctx.num_outputs() > n + k) {
    return ctx.Error(StatusCode::kInvalidModel, "the node has ", ctx.num_outputs(),
                     " outputs but body \"", body->name, "\" yields ", n, " states and ", k,
                     " scan outputs");
  }
  auto ints_attr = [&](const char* name, size_t count,
                       bool is_direction) -> Result<std::vector<int64_t>> {
    std::vector<int64_t> v = ctx.attrs().GetInts(name, std::vector<int64_t>(count, 0));
    if (v.size() != count) {
      return ctx.Error(StatusCode::kInvalidModel, "attribute ", name, " has ", v.size(),
                       " entries; expected ", count);
    }
    for (int64_t x : v) {
      if (is_direction && x != 0 && x != 1) {
        return ctx.Error(StatusCode::kInvalidModel, "attribute ", name, " holds ", x,
                         "; directions are 0 (forward) or 1 (reverse)");
      }
    }
    return v;
  };
  FRT_ASSIGN_OR_RETURN(auto in_axes, ints_attr("scan_input_axes", m, false));
  FRT_RETURN_IF_ERROR(ints_attr("scan_input_directions", m, true).status());
  FRT_ASSIGN_OR_RETURN(auto out_axes, ints_attr("scan_output_axes", k, false));
  FRT_RETURN_IF_ERROR(ints_attr("scan_output_directions", k, true).status());

  std::vector<TensorInfo> feeds;
  for (size_t i = 0; i < n_explicit; ++i) {
    if (!ctx.has_input(i)) {
      return ctx.Error(StatusCode::kInvalidModel, "input ", i, " is missing");
    }
    FRT_RETURN_IF_ERROR(CheckBodyInputDType(ctx, *body, i, ctx.input_dtype(i),
                                            i < n ? "state" : "scan input element"));
  }
  Dim seq;
  int64_t seq_from = -1;
  for (size_t i = 0; i < n_explicit; ++i) {
    std::optional<Shape> shape = InputShape(ctx, i);
    if (i >= n && shape) {  // a scan input: its element drops the scan axis
      auto axis = NormalizeAxis(in_axes[i - n], static_cast<int64_t>(shape->rank()));
      if (!axis.ok()) {
        return ctx.Error(StatusCode::kOutOfRange, "scan_input_axes[", i - n,
                         "]: ", axis.status().message(), " (input ", i, " has shape ",
                         shape->ToString(), ")");
      }
      const Dim& len = (*shape)[*axis];
      if (len.is_static()) {
        if (seq.is_static() && seq.value() != len.value()) {
          return ctx.Error(StatusCode::kInvalidArgument, "scan input ", i, " has ", len.value(),
                           " elements along its scan axis but input ", seq_from, " has ",
                           seq.value(), "; all scan inputs must have the same length");
        }
        seq = len;
        seq_from = static_cast<int64_t>(i);
      }
      std::vector<Dim> dims = shape->dims();
      dims.erase(dims.begin() + *axis);
      shape = Shape(std::move(dims));
    }
    std::optional<Shape> declared = DeclaredShape(*body->inputs()[i]);
    std::optional<Shape> merged;
    if (!RefineShape(shape, declared, &merged)) {
      return ctx.Error(StatusCode::kInvalidModel, "body \"", body->name, "\" input ", i, " (\"",
                       body->inputs()[i]->name, "\") is declared ", declared->ToString(),
                       " but receives ", shape->ToString());
    }
    feeds.push_back({ctx.input_dtype(i), merged, nullptr});
  }
  FRT_ASSIGN_OR_RETURN(std::vector<TensorInfo> outs, InferSubgraph(ctx, *body, feeds));
  for (size_t i = 0; i < n; ++i) {
    const TensorInfo& o = outs[i];
    if (o.dtype != DType::kUndefined && o.dtype != ctx.input_dtype(i)) {
      return ctx.Error(StatusCode::kInvalidModel, "state ", i, " enters body \"", body->name,
                       "\" as ", DTypeName(ctx.input_dtype(i)), " but leaves it as ",
                       DTypeName(o.dtype), "; the dtypes must match");
    }
    std::optional<Shape> shape;
    if (!RefineShape(feeds[i].shape, o.shape, &shape)) {
      return ctx.Error(StatusCode::kInvalidModel, "state ", i, " enters body \"", body->name,
                       "\" with shape ", feeds[i].shape->ToString(), " but leaves it with ",
                       o.shape->ToString(), "; Scan states keep their shape");
    }
    if (i < ctx.num_outputs()) SetInfo(ctx, i, ctx.input_dtype(i), shape);
  }
  for (size_t j = 0; j < k && n + j < ctx.num_outputs(); ++j) {
    const TensorInfo& o = outs[n + j];
    std::optional<Shape> shape;
    if (o.shape) {
      auto axis = NormalizeAxis(out_axes[j], static_cast<int64_t>(o.shape->rank()) + 1);
      if (!axis.ok()) {
        return ctx.Error(StatusCode::kOutOfRange, "scan_output_axes[", j,
                         "]: ", axis.status().message(), " (the scan output element has shape ",
                         o.shape->ToString(), ")");
      }
      std::vector<Dim> dims = o.shape->dims();
      dims.insert(dims.begin() + *axis, seq);
      shape = Shape(std::move(dims));
    }
    SetInfo(ctx, n + j, o.dtype, shape);
  }
  return Status::Ok();
}

void RegisterControlFlowOps(OpRegistry& r) {
  // Inputs are variadic: the importer appends implicit (outer-scope) inputs.
  // Zero outputs is legal (every result unused) if pointless.
  r.Register(
      {OpKind::kIf, FusionKind::kOpaque, PrecisionPolicy::kFollow, 1, -1, 0, 1 << 16, InferIf});
  r.Register(
      {OpKind::kLoop, FusionKind::kOpaque, PrecisionPolicy::kFollow, 0, -1, 0, 1 << 16, InferLoop});
  r.Register(
      {OpKind::kScan, FusionKind::kOpaque, PrecisionPolicy::kFollow, 1, -1, 0, 1 << 16, InferScan});
}

}  // namespace frt
