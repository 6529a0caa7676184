#include "ir/verifier.h"

#include <unordered_set>

#include "ir/op_registry.h"

namespace frt {

Status VerifyGraph(const Graph& g) {
  auto bug = [](const auto&... args) { return MakeError(StatusCode::kInternal, args...); };
  std::unordered_set<const Value*> owned;
  for (const Value* v : g.values()) owned.insert(v);
  std::unordered_set<const Value*> produced;
  for (const Node* n : g.nodes()) {
    const OpSchema* schema = OpRegistry::Global().Find(n->op);
    if (!schema) return bug(n->Describe(), ": op has no schema");
    int n_in = static_cast<int>(n->inputs.size());
    if (n_in < schema->min_inputs || (schema->max_inputs >= 0 && n_in > schema->max_inputs)) {
      // Trailing absent optionals are allowed beyond max only if null.
      bool trailing_null = true;
      for (int i = std::max(0, schema->max_inputs); i < n_in; ++i) trailing_null &= n->inputs[i] == nullptr;
      if (n_in < schema->min_inputs || !trailing_null) {
        return bug(n->Describe(), ": has ", n_in, " inputs, schema allows ", schema->min_inputs, "..",
                   schema->max_inputs);
      }
    }
    for (const Value* in : n->inputs) {
      if (in && !owned.count(in)) return bug(n->Describe(), ": input \"", in->name, "\" belongs to another graph");
    }
    for (const Value* out : n->outputs) {
      if (!out) continue;
      if (!owned.count(out)) return bug(n->Describe(), ": output \"", out->name, "\" belongs to another graph");
      if (out->producer != n) return bug(n->Describe(), ": output \"", out->name, "\" names another producer");
      if (!produced.insert(out).second) return bug("value \"", out->name, "\" is produced twice");
      if (out->constant || out->is_graph_input) {
        return bug("value \"", out->name, "\" is produced by ", n->Describe(),
                   " but is also a constant or graph input");
      }
    }
    for (const auto& [name, attr] : n->attrs.all()) {
      if (const auto* sub = std::get_if<std::shared_ptr<Graph>>(&attr)) {
        Status s = VerifyGraph(**sub);
        if (!s.ok()) return s.WithPrefix(StrCat(n->Describe(), " attribute ", name));
      }
    }
  }
  for (const Value* out : g.outputs()) {
    if (!owned.count(out)) return bug("graph output \"", out->name, "\" belongs to another graph");
    if (!out->producer && !out->constant && !out->is_graph_input && !out->is_outer_scope) {
      return bug("graph output \"", out->name, "\" is not defined");
    }
  }
  return g.TopologicalOrder().status();
}

}  // namespace frt
