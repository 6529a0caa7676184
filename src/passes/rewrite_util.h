// Internal to the optimizer passes: the graph queries and rewrites that the
// fusion passes share (who reads a value, fresh names, finishing a fusion).
// Header only; everything lives in namespace frt::rewrite.
//
// Thread safety: none (the helpers read or mutate one Graph).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "ir/graph.h"
#include "ir/op_kind.h"

namespace frt::rewrite {

// Which nodes read each value: one entry per reading input slot (Mul(d, d)
// lists its node twice).
using ReaderMap = std::map<const Value*, std::vector<Node*>>;

inline ReaderMap CollectReaders(const Graph& g) {
  ReaderMap readers;
  for (Node* n : g.nodes()) {
    for (const Value* in : n->inputs) {
      if (in) readers[in].push_back(n);
    }
  }
  return readers;
}

// The only node reading `v` once, when `v` is an intermediate that can
// disappear into a fusion: exactly one read in total and not name-pinned
// (graph output, graph input, read by name from a subgraph). Else nullptr.
inline Node* SoleReader(const Graph& g, const ReaderMap& readers, const Value* v) {
  auto it = readers.find(v);
  if (it == readers.end() || it->second.size() != 1 || g.IsNamePinned(v)) return nullptr;
  return it->second[0];
}

// `base`, or `base_1`, `base_2`, ... : the first name no value of `g` has.
inline std::string FreshName(const Graph& g, const std::string& base) {
  std::string name = base;
  for (int i = 1; g.FindValue(name) != nullptr; ++i) name = base + "_" + std::to_string(i);
  return name;
}

// A new constant value holding `t`, named `base` (suffixed when taken).
inline Result<Value*> AddConstant(Graph& g, const std::string& base, Tensor t) {
  FRT_ASSIGN_OR_RETURN(Value * v, g.AddValue(FreshName(g, base)));
  v->dtype = t.dtype();
  v->shape = Shape::FromDims(t.dims());
  v->constant = std::move(t);
  return v;
}

inline void AppendSources(Node& to, const Node& from) {
  to.source_nodes.insert(to.source_nodes.end(), from.source_nodes.begin(),
                         from.source_nodes.end());
}

// Finishes a fusion: `fused` (added by the caller, with its inputs and
// attributes) replaces `nodes` (in graph order), whose result was `old_out`.
// `fused` gets a new output value "<old_out>/<op>" that takes over old_out's
// readers (and graph-output slot, keeping the name observable from outside:
// Graph::ReplaceAllUses) and the provenance of every replaced node; the
// replaced nodes are removed, last first.
inline Status FinishFusion(Graph& g, Node* fused, Value* old_out, const std::vector<Node*>& nodes) {
  for (const Node* n : nodes) AppendSources(*fused, *n);
  FRT_ASSIGN_OR_RETURN(Value * out,
                       g.AddValue(FreshName(g, old_out->name + "/" +
                                                   std::string(OpKindName(fused->op)))));
  out->dtype = old_out->dtype;
  out->shape = old_out->shape;
  out->producer = fused;
  fused->outputs = {out};
  g.ReplaceAllUses(old_out, out);
  for (auto it = nodes.rbegin(); it != nodes.rend(); ++it) {
    FRT_RETURN_IF_ERROR(g.RemoveNode(*it));
  }
  return Status::Ok();
}

}  // namespace frt::rewrite
