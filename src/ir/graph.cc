#include "ir/graph.h"

#include <algorithm>
#include <unordered_map>
#include <unordered_set>

#include "ir/ops/control_flow_subgraph.h"

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

namespace {
// Node inputs at positions >= this are implicit (outer-scope reads by name).
size_t FirstImplicitInput(const Node& n) { return NumExplicitInputs(n); }
}  // namespace

bool Graph::IsNamePinned(const Value* v) const {
  if (v->is_graph_input) return true;
  if (std::find(outputs_.begin(), outputs_.end(), v) != outputs_.end()) return true;
  for (const auto& n : nodes_) {
    for (size_t i = FirstImplicitInput(*n); i < n->inputs.size(); ++i) {
      if (n->inputs[i] == v) return true;
    }
  }
  return false;
}

std::string Graph::FreshName(const std::string& base) const {
  for (int i = 0;; ++i) {
    std::string candidate = StrCat(base, "__", i);
    if (!by_name_.count(candidate)) return candidate;
  }
}

void Graph::Rename(Value* v, const std::string& new_name) {
  auto it = by_name_.find(v->name);
  if (it != by_name_.end() && it->second == v) by_name_.erase(it);
  v->name = new_name;
  by_name_[new_name] = v;
}

void Graph::ReplaceAllUses(Value* from, Value* to) {
  if (from == to) return;
  // `named` is the value that will carry from's name where the name is
  // observable (graph outputs, implicit inputs); other uses simply read `to`.
  Value* named = to;
  if (IsNamePinned(from)) {
    const std::string name = from->name;
    if (to->producer != nullptr && !IsNamePinned(to)) {
      // Cheapest: `to` is an internal value, so it can simply take the name.
      Rename(from, FreshName(name));
      Rename(to, name);
    } else {
      // `to` has a name of its own that must survive (an input, another
      // output, a subgraph read, a constant): copy it into a new value.
      Rename(from, FreshName(name));
      values_.push_back(std::make_unique<Value>());
      named = values_.back().get();
      named->dtype = to->dtype;
      named->shape = to->shape;
      named->name = name;
      by_name_[name] = named;
      Node* copy = AddNode(OpKind::kIdentity, name + "/keep_name");
      copy->opset = 13;
      copy->inputs = {to};
      copy->outputs = {named};
      named->producer = copy;
      if (from->producer) copy->source_nodes = from->producer->source_nodes;
    }
  }
  for (const auto& n : nodes_) {
    size_t first_implicit = FirstImplicitInput(*n);
    for (size_t i = 0; i < n->inputs.size(); ++i) {
      if (n->inputs[i] == from) n->inputs[i] = i >= first_implicit ? named : to;
    }
  }
  for (Value*& out : outputs_) {
    if (out == from) out = named;
  }
}

Status Graph::RemoveNode(Node* node) {
  std::unordered_set<const Value*> outs;
  for (Value* v : node->outputs) {
    if (v) outs.insert(v);
  }
  for (const auto& n : nodes_) {
    if (n.get() == node) continue;
    for (const Value* in : n->inputs) {
      if (in && outs.count(in)) {
        return MakeError(StatusCode::kInternal, "cannot remove ", node->Describe(),
                         ": its output \"", in->name, "\" is still read by ", n->Describe());
      }
    }
  }
  for (const Value* out : outputs_) {
    if (outs.count(out)) {
      return MakeError(StatusCode::kInternal, "cannot remove ", node->Describe(), ": its output \"",
                       out->name, "\" is a graph output");
    }
  }
  auto it = std::find_if(nodes_.begin(), nodes_.end(),
                         [node](const std::unique_ptr<Node>& n) { return n.get() == node; });
  if (it == nodes_.end()) {
    return MakeError(StatusCode::kInternal, "cannot remove ", node->Describe(),
                     ": not a node of graph \"", name, "\"");
  }
  for (Value* v : node->outputs) {
    if (v && v->producer == node) v->producer = nullptr;
  }
  nodes_.erase(it);
  return Status::Ok();
}

void Graph::RemoveDeadValues() {
  std::unordered_set<const Value*> live(inputs_.begin(), inputs_.end());
  live.insert(outputs_.begin(), outputs_.end());
  for (const auto& n : nodes_) {
    live.insert(n->inputs.begin(), n->inputs.end());
    live.insert(n->outputs.begin(), n->outputs.end());
  }
  for (auto& v : values_) {
    if (live.count(v.get())) continue;
    auto it = by_name_.find(v->name);
    if (it != by_name_.end() && it->second == v.get()) by_name_.erase(it);
    v.reset();
  }
  values_.erase(std::remove(values_.begin(), values_.end(), nullptr), values_.end());
}

}  // namespace frt
