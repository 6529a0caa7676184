#include "ir/graph.h"

#include <unordered_map>

namespace frt {

std::string Value::Describe() const {
  return StrCat(name, ": ", DTypeName(dtype), shape ? shape->ToString() : std::string("[?]"));
}

std::string Node::Describe() const {
  return StrCat(OpKindName(op), " (node \"", name, "\", opset ", opset, ")");
}

Result<Value*> Graph::AddValue(const std::string& value_name) {
  if (by_name_.count(value_name)) {
    return MakeError(StatusCode::kInvalidModel, "value name \"", value_name,
                     "\" is defined more than once in graph \"", name, "\"");
  }
  values_.push_back(std::make_unique<Value>());
  Value* v = values_.back().get();
  v->name = value_name;
  by_name_[value_name] = v;
  return v;
}

Value* Graph::FindValue(const std::string& value_name) const {
  auto it = by_name_.find(value_name);
  return it == by_name_.end() ? nullptr : it->second;
}

Node* Graph::AddNode(OpKind op, std::string node_name) {
  nodes_.push_back(std::make_unique<Node>());
  Node* n = nodes_.back().get();
  n->op = op;
  n->name = std::move(node_name);
  return n;
}

void Graph::AddInput(Value* v) {
  v->is_graph_input = true;
  inputs_.push_back(v);
}

std::vector<Node*> Graph::nodes() const {
  std::vector<Node*> out;
  out.reserve(nodes_.size());
  for (const auto& n : nodes_) out.push_back(n.get());
  return out;
}

std::vector<Value*> Graph::values() const {
  std::vector<Value*> out;
  out.reserve(values_.size());
  for (const auto& v : values_) out.push_back(v.get());
  return out;
}

Result<std::vector<Node*>> Graph::TopologicalOrder() const {
  // Kahn's algorithm over producer->consumer edges, stable in insertion order.
  std::unordered_map<const Node*, int> pending;
  std::unordered_map<const Value*, std::vector<Node*>> consumers;
  for (const auto& n : nodes_) {
    int count = 0;
    for (Value* in : n->inputs) {
      if (in && in->producer) {
        ++count;
        consumers[in].push_back(n.get());
      }
    }
    pending[n.get()] = count;
  }
  std::vector<Node*> order;
  order.reserve(nodes_.size());
  for (const auto& n : nodes_) {
    if (pending[n.get()] == 0) order.push_back(n.get());
  }
  for (size_t i = 0; i < order.size(); ++i) {
    for (Value* out : order[i]->outputs) {
      if (!out) continue;
      for (Node* c : consumers[out]) {
        if (--pending[c] == 0) order.push_back(c);
      }
    }
  }
  if (order.size() != nodes_.size()) {
    for (const auto& n : nodes_) {
      if (pending[n.get()] > 0) {
        return MakeError(StatusCode::kInvalidModel, "graph \"", name,
                         "\" has a cycle: ", n->Describe(), " is on, or fed by, a cycle of nodes");
      }
    }
  }
  return order;
}

}  // namespace frt
