// Reference kernels of If and Loop, plus the helpers they share with Scan.
// Subgraphs run through the executor (ctx.RunSubgraph); every feed and result
// is checked against the subgraph's declared types, which inference relies on.
// Results leave the node as deep copies: a subgraph may return one of its
// constants or an input unchanged, and the node's outputs must not alias them.
#include <cstring>

#include "backends/cpu/control_flow_kernels.h"
#include "backends/cpu/kernel_families.h"
#include "ir/ops/control_flow_subgraph.h"

namespace frt {

Result<std::vector<Tensor>> RunCheckedSubgraph(const KernelContext& ctx, const Graph& body,
                                               const std::vector<Tensor>& feeds,
                                               std::string_view what) {
  if (feeds.size() != body.inputs().size()) {
    return ctx.Error(StatusCode::kInvalidModel, what, ": subgraph \"", body.name, "\" takes ",
                     body.inputs().size(), " inputs, given ", feeds.size());
  }
  for (size_t i = 0; i < feeds.size(); ++i) {
    if (!MatchesDeclared(*body.inputs()[i], feeds[i])) {
      return ctx.Error(StatusCode::kInvalidModel, what, ": subgraph \"", body.name, "\" input ", i,
                       " is declared ", body.inputs()[i]->Describe(), " but receives ",
                       feeds[i].Describe());
    }
  }
  auto outs = ctx.RunSubgraph(body, feeds);
  if (!outs.ok()) return outs.status().WithPrefix(StrCat(ctx.node().Describe(), ": ", what));
  if (outs->size() != body.outputs().size()) {
    return ctx.Error(StatusCode::kInternal, what, ": subgraph \"", body.name, "\" returned ",
                     outs->size(), " results for ", body.outputs().size(), " outputs");
  }
  for (size_t i = 0; i < outs->size(); ++i) {
    if (!MatchesDeclared(*body.outputs()[i], (*outs)[i])) {
      return ctx.Error(StatusCode::kInvalidModel, what, ": subgraph \"", body.name, "\" output ", i,
                       " is declared ", body.outputs()[i]->Describe(), " but computes ",
                       (*outs)[i].Describe());
    }
  }
  return outs;
}

Status AllocateEmptyOutput(KernelContext& ctx, InferFn infer, size_t i) {
  if (ctx.output(i).defined()) return Status::Ok();  // static shape: pre-allocated, empty
  std::vector<Shape> shapes(ctx.num_inputs());
  std::vector<InferContext::InputInfo> infos(ctx.num_inputs());
  for (size_t j = 0; j < ctx.num_inputs(); ++j) {
    if (!ctx.has_input(j)) continue;
    shapes[j] = Shape::FromDims(ctx.input(j).dims());
    infos[j] = {ctx.input(j).dtype(), &shapes[j], &ctx.input(j)};
  }
  InferContext ictx(ctx.node(), std::move(infos));
  FRT_RETURN_IF_ERROR(infer(ictx));
  if (ictx.output_dtype(i) == DType::kUndefined) {
    return ctx.Error(StatusCode::kUnsupported, "output ", i,
                     " is empty (no iteration ran) and its dtype cannot be inferred; declare the "
                     "subgraph output's type");
  }
  Dims dims = {0};
  if (const auto& shape = ictx.output_shape(i)) {
    dims.clear();
    for (const Dim& d : shape->dims()) dims.push_back(d.is_static() ? d.value() : 0);
  }
  return ctx.AllocateOutput(i, ictx.output_dtype(i), dims).status();
}

namespace {

Status SetClonedOutput(KernelContext& ctx, size_t i, const Tensor& t) {
  auto copy = t.Clone();
  if (!copy.ok()) return copy.status().WithPrefix(ctx.node().Describe());
  ctx.SetOutput(i, std::move(*copy));
  return Status::Ok();
}

Status IfKernel(KernelContext& ctx) {
  const Tensor& cond = ctx.input(0);
  if (cond.num_elements() != 1) {  // inference checks this too; kernels never trust blindly
    return ctx.Error(StatusCode::kInvalidArgument, "cond must hold one element, got ",
                     cond.Describe());
  }
  bool take_then = cond.GetAsDouble(0) != 0;
  const char* name = take_then ? "then_branch" : "else_branch";
  std::shared_ptr<Graph> branch = ctx.attrs().GetGraph(name);
  if (!branch) return ctx.Error(StatusCode::kInvalidModel, "graph attribute ", name, " is missing");
  FRT_ASSIGN_OR_RETURN(std::vector<Tensor> outs, RunCheckedSubgraph(ctx, *branch, {}, name));
  for (size_t i = 0; i < ctx.num_outputs(); ++i) {
    if (!ctx.has_output(i)) continue;
    if (i >= outs.size()) {
      return ctx.Error(StatusCode::kInvalidModel, name, " produces ", outs.size(),
                       " outputs; the node has ", ctx.num_outputs());
    }
    FRT_RETURN_IF_ERROR(SetClonedOutput(ctx, i, outs[i]));
  }
  return Status::Ok();
}

// A tensor of `dims` (one element) holding v, for iteration_num and cond.
template <class T>
Result<Tensor> CounterTensor(const Dims& dims, T v) {
  FRT_ASSIGN_OR_RETURN(Tensor t, Tensor::Allocate(DTypeOf<T>(), dims));
  t.data<T>()[0] = v;
  return t;
}

Status LoopKernel(KernelContext& ctx) {
  std::shared_ptr<Graph> body = ctx.attrs().GetGraph("body");
  if (!body || body->inputs().size() < 2 || body->outputs().size() < body->inputs().size() - 1) {
    return ctx.Error(StatusCode::kInvalidModel, "missing or malformed body graph");
  }
  const size_t n = body->inputs().size() - 2;       // loop-carried values
  const size_t k = body->outputs().size() - 1 - n;  // scan outputs
  if (NumExplicitInputs(ctx.node()) != n + 2) {
    return ctx.Error(StatusCode::kInvalidModel, "input count does not match body \"", body->name,
                     "\"");
  }
  const bool has_m = ctx.has_input(0);
  const bool has_cond = ctx.has_input(1);
  const int64_t max_trips = has_m ? ctx.input(0).data<int64_t>()[0] : 0;
  bool cond = has_cond ? ctx.input(1).data<bool>()[0] : true;
  const Dims iter_dims = LoopCounterDims(*body->inputs()[0]);
  const Dims cond_dims = LoopCounterDims(*body->inputs()[1]);
  std::vector<Tensor> carried;
  for (size_t i = 0; i < n; ++i) carried.push_back(ctx.input(2 + i));
  std::vector<std::vector<Tensor>> scans(k);
  size_t scan_bytes = 0;
  int64_t trips = 0;
  for (; cond && (!has_m || trips < max_trips); ++trips) {
    if (trips >= kMaxLoopIterations) {
      return ctx.Error(StatusCode::kResourceExhausted, "ran ", kMaxLoopIterations,
                       " iterations without stopping; FusionRT stops Loops at this limit");
    }
    std::vector<Tensor> feeds;
    FRT_ASSIGN_OR_RETURN(Tensor iter, CounterTensor<int64_t>(iter_dims, trips));
    FRT_ASSIGN_OR_RETURN(Tensor cond_in, CounterTensor<bool>(cond_dims, cond));
    feeds.push_back(std::move(iter));
    feeds.push_back(std::move(cond_in));
    feeds.insert(feeds.end(), carried.begin(), carried.end());
    FRT_ASSIGN_OR_RETURN(std::vector<Tensor> outs,
                         RunCheckedSubgraph(ctx, *body, feeds, StrCat("body iteration ", trips)));
    const Tensor& cond_out = outs[0];
    if (cond_out.dtype() != DType::kBool || cond_out.num_elements() != 1) {
      return ctx.Error(StatusCode::kInvalidModel, "body output 0 (cond) must be a one-element ",
                       "bool tensor, got ", cond_out.Describe(), " at iteration ", trips);
    }
    // The body's cond output ends the loop even when the node has no cond
    // input: the ONNX spec calls it ignored there, but onnxruntime honours it
    // and exported models are validated against onnxruntime.
    cond = cond_out.data<bool>()[0];
    for (size_t i = 0; i < n; ++i) {
      if (outs[1 + i].dtype() != carried[i].dtype()) {
        return ctx.Error(StatusCode::kInvalidModel, "loop-carried value ", i, " enters as ",
                         DTypeName(carried[i].dtype()), " but the body returns ",
                         outs[1 + i].Describe(), " at iteration ", trips);
      }
      carried[i] = outs[1 + i];
    }
    for (size_t j = 0; j < k; ++j) {
      if (n + j >= ctx.num_outputs() || !ctx.has_output(n + j)) continue;  // unused: not kept
      const Tensor& s = outs[1 + n + j];
      if (!scans[j].empty() &&
          (s.dims() != scans[j][0].dims() || s.dtype() != scans[j][0].dtype())) {
        return ctx.Error(StatusCode::kInvalidModel, "scan output ", j, " is ", s.Describe(),
                         " at iteration ", trips, " but ", scans[j][0].Describe(),
                         " at iteration 0; a scan output keeps one dtype and shape");
      }
      scan_bytes += s.nbytes();
      if (scan_bytes > HostAllocationLimit()) {
        return ctx.Error(StatusCode::kResourceExhausted, "scan outputs exceed the host ",
                         "allocation limit of ", HostAllocationLimit(), " bytes at iteration ",
                         trips);
      }
      scans[j].push_back(s);
    }
  }
  for (size_t i = 0; i < n && i < ctx.num_outputs(); ++i) {
    if (ctx.has_output(i)) FRT_RETURN_IF_ERROR(SetClonedOutput(ctx, i, carried[i]));
  }
  for (size_t j = 0; j < k && n + j < ctx.num_outputs(); ++j) {
    if (!ctx.has_output(n + j)) continue;
    if (scans[j].empty()) {
      FRT_RETURN_IF_ERROR(AllocateEmptyOutput(ctx, InferLoop, n + j));
      continue;
    }
    const Tensor& first = scans[j][0];
    Dims dims = {trips};
    dims.insert(dims.end(), first.dims().begin(), first.dims().end());
    FRT_ASSIGN_OR_RETURN(Tensor * out, ctx.AllocateOutput(n + j, first.dtype(), dims));
    auto* dst = static_cast<std::byte*>(out->raw());
    for (const Tensor& s : scans[j]) {
      if (s.nbytes() > 0) std::memcpy(dst, s.raw(), s.nbytes());
      dst += s.nbytes();
    }
  }
  return Status::Ok();
}

}  // namespace

void RegisterControlFlowKernels(CpuKernelRegistry& r) {
  r.Register(OpKind::kIf, IfKernel);
  r.Register(OpKind::kLoop, LoopKernel);
  r.Register(OpKind::kScan, ScanKernel);
}

}  // namespace frt
