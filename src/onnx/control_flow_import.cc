// ONNX import rules of If, Loop and Scan. The semantics for tensors are the
// same from If-1, Loop-1 and Scan-9 to opset 21 (later versions only widened
// the type lists to sequences/optionals, which FusionRT does not support and
// the importer rejects when it reads the subgraph's types). Every rule appends
// the values the subgraphs read from enclosing scopes as implicit inputs
// (control_flow_subgraph.h), so that topological order and value lifetimes in
// the enclosing graph account for those reads. Scan-8 (batch axis 0, scan
// axis 1) is rewritten into a Scan over the batch whose body is a Scan-9 over
// the sequence; its optional sequence_lens input is not supported.
#include <set>

#include "ir/ops/control_flow_subgraph.h"
#include "onnx/import_context.h"
#include "onnx/import_families.h"

namespace frt {
namespace {

// The value named `name` as seen from `g`: its own, or a new outer-scope
// reference to an enclosing graph's value (as the importer creates them).
Result<Value*> ResolveInScope(Graph& g, const std::string& name) {
  if (Value* v = g.FindValue(name)) return v;
  for (const Graph* p = g.parent; p; p = p->parent) {
    if (const Value* outer = p->FindValue(name)) {
      FRT_ASSIGN_OR_RETURN(Value * v, g.AddValue(name));
      v->is_outer_scope = true;
      v->dtype = outer->dtype;
      v->shape = outer->shape;
      return v;
    }
  }
  return nullptr;
}

// Appends to `inputs` one value of `g` per name the `bodies` read from
// enclosing scopes (nested subgraphs were imported first and already turned
// their own reads into reads of these bodies), and records the count.
Status AddImplicitInputs(const ImportContext& ctx, Graph& g,
                         const std::vector<const Graph*>& bodies, std::vector<Value*>& inputs,
                         Attributes& attrs) {
  std::set<std::string> names;
  for (const Graph* body : bodies) {
    for (const Value* v : body->values()) {
      if (v->is_outer_scope) names.insert(v->name);
    }
  }
  for (const std::string& name : names) {
    FRT_ASSIGN_OR_RETURN(Value * v, ResolveInScope(g, name));
    if (!v) {
      return ctx.Error(StatusCode::kInvalidModel, "a subgraph reads \"", name,
                       "\", which no enclosing graph defines");
    }
    inputs.push_back(v);
  }
  attrs.Set(kImplicitInputsAttr, static_cast<int64_t>(names.size()));
  return Status::Ok();
}

Result<std::shared_ptr<Graph>> GraphAttr(const ImportContext& ctx, Attributes& attrs,
                                         const char* name) {
  std::shared_ptr<Graph> g = attrs.GetGraph(name);
  if (!g) return ctx.Error(StatusCode::kInvalidModel, "graph attribute \"", name, "\" is missing");
  return g;
}

Status ImportIf(ImportContext& ctx) {
  Attributes attrs = ctx.attrs();
  FRT_ASSIGN_OR_RETURN(auto then_g, GraphAttr(ctx, attrs, "then_branch"));
  FRT_ASSIGN_OR_RETURN(auto else_g, GraphAttr(ctx, attrs, "else_branch"));
  std::vector<Value*> inputs = ctx.inputs();
  FRT_RETURN_IF_ERROR(
      AddImplicitInputs(ctx, ctx.graph(), {then_g.get(), else_g.get()}, inputs, attrs));
  return ctx.Emit(OpKind::kIf, std::move(inputs), ctx.outputs(), std::move(attrs)).status();
}

Status ImportLoop(ImportContext& ctx) {
  Attributes attrs = ctx.attrs();
  FRT_ASSIGN_OR_RETURN(auto body, GraphAttr(ctx, attrs, "body"));
  std::vector<Value*> inputs = ctx.inputs();
  // M and cond are optional; a node listing neither still has both slots.
  while (inputs.size() < 2) inputs.push_back(nullptr);
  FRT_RETURN_IF_ERROR(AddImplicitInputs(ctx, ctx.graph(), {body.get()}, inputs, attrs));
  return ctx.Emit(OpKind::kLoop, std::move(inputs), ctx.outputs(), std::move(attrs)).status();
}

Status ImportScan(ImportContext& ctx) {
  Attributes attrs = ctx.attrs();
  FRT_ASSIGN_OR_RETURN(auto body, GraphAttr(ctx, attrs, "body"));
  std::vector<Value*> inputs = ctx.inputs();
  FRT_RETURN_IF_ERROR(AddImplicitInputs(ctx, ctx.graph(), {body.get()}, inputs, attrs));
  return ctx.Emit(OpKind::kScan, std::move(inputs), ctx.outputs(), std::move(attrs)).status();
}

// Scan-8: inputs (sequence_lens?, states..., scan inputs...), every input
// and output batched along axis 0, scan inputs scanned along axis 1. Becomes
//   Scan(states..., scan inputs...) over axis 0 (the batch), num_scan_inputs = all,
//     body: (state_b..., input_b...) -> Scan-9(state_b..., input_b...) with the
//           original body, directions and scan axes 0 -> (final_b..., scan_b...)
// whose scan outputs, stacked over the batch, are exactly Scan-8's outputs.
Status ImportScan8(ImportContext& ctx) {
  Attributes attrs = ctx.attrs();
  FRT_ASSIGN_OR_RETURN(auto body, GraphAttr(ctx, attrs, "body"));
  if (ctx.input(0) != nullptr) {
    return ctx.Error(StatusCode::kUnsupported, "the sequence_lens input (variable-length ",
                     "sequences) of Scan-8 is not supported; omit it when all sequences are ",
                     "full length, or export with opset 9 or later");
  }
  if (!attrs.Has("num_scan_inputs")) {
    return ctx.Error(StatusCode::kInvalidModel, "attribute num_scan_inputs is missing");
  }
  std::vector<Value*> explicit_inputs(ctx.inputs().begin() + (ctx.num_inputs() > 0 ? 1 : 0),
                                      ctx.inputs().end());
  if (explicit_inputs.empty()) {
    return ctx.Error(StatusCode::kInvalidModel, "no initial states or scan inputs given");
  }
  for (size_t i = 0; i < explicit_inputs.size(); ++i) {
    if (!explicit_inputs[i]) {
      return ctx.Error(StatusCode::kInvalidModel, "input ", i + 1, " is missing");
    }
  }
  if (body->inputs().size() != explicit_inputs.size()) {
    return ctx.Error(StatusCode::kInvalidModel, "the node has ", explicit_inputs.size(),
                     " states and scan inputs but body \"", body->name, "\" takes ",
                     body->inputs().size());
  }
  const std::string base = ctx.proto().name().empty() ? "Scan" : ctx.proto().name();
  auto batch = std::make_shared<Graph>();
  batch->name = StrCat(body->name, "/per_batch");
  batch->parent = &ctx.graph();
  // Names of the new graph's own values must not shadow what the body reads.
  std::set<std::string> taken;
  for (const Value* v : body->values()) {
    if (v->is_outer_scope) taken.insert(v->name);
  }
  int counter = 0;
  auto fresh = [&](const char* hint) -> Result<Value*> {
    for (;;) {
      std::string name = StrCat(base, "/scan8_", hint, "_", counter++);
      if (taken.count(name) || batch->FindValue(name)) continue;
      bool outer = false;
      for (const Graph* p = batch->parent; p && !outer; p = p->parent) {
        outer = p->FindValue(name) != nullptr;
      }
      if (!outer) return batch->AddValue(name);
    }
  };
  std::vector<Value*> inner_inputs;
  for (size_t i = 0; i < explicit_inputs.size(); ++i) {
    FRT_ASSIGN_OR_RETURN(Value * v, fresh("in"));
    v->dtype = explicit_inputs[i]->dtype;  // shape: the input's minus the batch axis
    batch->AddInput(v);
    inner_inputs.push_back(v);
  }
  std::vector<Value*> inner_outputs;
  for (size_t i = 0; i < body->outputs().size(); ++i) {
    FRT_ASSIGN_OR_RETURN(Value * v, fresh("out"));
    inner_outputs.push_back(v);
  }
  Attributes inner_attrs;
  inner_attrs.Set("body", body);
  inner_attrs.Set("num_scan_inputs", attrs.GetInt("num_scan_inputs", 0));
  if (attrs.Has("directions")) {
    inner_attrs.Set("scan_input_directions", attrs.GetInts("directions"));
  }
  body->parent = batch.get();
  FRT_RETURN_IF_ERROR(AddImplicitInputs(ctx, *batch, {body.get()}, inner_inputs, inner_attrs));
  Node* inner = batch->AddNode(OpKind::kScan, StrCat(base, "/per_batch"));
  inner->opset = ctx.opset();
  inner->inputs = std::move(inner_inputs);
  inner->outputs = inner_outputs;
  inner->attrs = std::move(inner_attrs);
  inner->source_nodes = {ctx.proto().name()};
  for (Value* out : inner_outputs) {
    out->producer = inner;
    batch->AddOutput(out);
  }
  Attributes outer_attrs;
  outer_attrs.Set("body", batch);
  outer_attrs.Set("num_scan_inputs", static_cast<int64_t>(explicit_inputs.size()));
  FRT_RETURN_IF_ERROR(
      AddImplicitInputs(ctx, ctx.graph(), {batch.get()}, explicit_inputs, outer_attrs));
  return ctx.Emit(OpKind::kScan, std::move(explicit_inputs), ctx.outputs(), std::move(outer_attrs))
      .status();
}

}  // namespace

void RegisterControlFlowImports(ImportRuleRegistry& r) {
  r.Add({"If", 1, kMaxSupportedOpset, OpKind::kIf, ImportIf});
  r.Add({"Loop", 1, kMaxSupportedOpset, OpKind::kLoop, ImportLoop});
  r.Add({"Scan", 8, 8, OpKind::kScan, ImportScan8});
  r.Add({"Scan", 9, kMaxSupportedOpset, OpKind::kScan, ImportScan});
}

}  // namespace frt
