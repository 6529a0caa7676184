#include "ir/graph_clone.h"

#include <unordered_map>

namespace frt {

Result<std::unique_ptr<Graph>> CloneGraph(const Graph& graph, const Graph* parent) {
  auto copy = std::make_unique<Graph>();
  copy->name = graph.name;
  copy->parent = parent;
  std::unordered_map<const Value*, Value*> map;
  for (const Value* v : graph.values()) {
    FRT_ASSIGN_OR_RETURN(Value * nv, copy->AddValue(v->name));
    nv->dtype = v->dtype;
    nv->shape = v->shape;
    nv->constant = v->constant;
    nv->is_outer_scope = v->is_outer_scope;
    map[v] = nv;
  }
  for (const Value* in : graph.inputs()) copy->AddInput(map.at(in));
  for (const Node* n : graph.nodes()) {
    Node* nn = copy->AddNode(n->op, n->name);
    nn->opset = n->opset;
    nn->source_nodes = n->source_nodes;
    for (const Value* in : n->inputs) nn->inputs.push_back(in ? map.at(in) : nullptr);
    for (const Value* out : n->outputs) {
      Value* no = out ? map.at(out) : nullptr;
      if (no) no->producer = nn;
      nn->outputs.push_back(no);
    }
    for (const auto& [name, attr] : n->attrs.all()) {
      if (const auto* sub = std::get_if<std::shared_ptr<Graph>>(&attr)) {
        FRT_ASSIGN_OR_RETURN(std::unique_ptr<Graph> sub_copy, CloneGraph(**sub, copy.get()));
        nn->attrs.Set(name, std::shared_ptr<Graph>(std::move(sub_copy)));
      } else {
        nn->attrs.Set(name, attr);
      }
    }
  }
  for (const Value* out : graph.outputs()) copy->AddOutput(map.at(out));
  return copy;
}

}  // namespace frt
