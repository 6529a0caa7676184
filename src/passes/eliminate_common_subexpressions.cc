// Common subexpression elimination: walks the nodes in topological order and
// keys each by (op, opset, input Value pointers in order, attributes, which
// outputs exist). A node whose key was seen before is a duplicate: readers of
// its outputs are redirected to the first node's outputs and it is removed.
// Because the walk is topological and redirection happens before later nodes
// are keyed, whole duplicated chains collapse in one pass.
// Not merged: random ops (each node is an independent sample), nodes with
// subgraph attributes (comparing graphs is not worth it here), and nodes
// without inputs other than Constant (nothing to share). Attribute equality
// is exact: tensors compare dtype, dims and bytes; floats compare by bits, so
// that -0.0 and 0.0 stay apart and NaN equals an identical NaN.
// Small constants with equal dtype, dims and bytes are merged first (exporters
// repeat the same scalar per layer), so that nodes reading them compare equal.
#include <cstring>
#include <map>

#include "ir/op_predicates.h"
#include "passes/pass_manager.h"

namespace frt {
namespace {

template <class T>
bool BitsEqual(const T& a, const T& b) {
  return std::memcmp(&a, &b, sizeof(T)) == 0;
}

bool AttrEqual(const AttrValue& a, const AttrValue& b) {
  if (a.index() != b.index()) return false;
  if (const auto* fa = std::get_if<float>(&a)) return BitsEqual(*fa, std::get<float>(b));
  if (const auto* va = std::get_if<std::vector<float>>(&a)) {
    const auto& vb = std::get<std::vector<float>>(b);
    return va->size() == vb.size() &&
           (va->empty() || std::memcmp(va->data(), vb.data(), va->size() * sizeof(float)) == 0);
  }
  if (const auto* ta = std::get_if<Tensor>(&a)) {
    const Tensor& tb = std::get<Tensor>(b);
    if (ta->dtype() != tb.dtype() || ta->dims() != tb.dims()) return false;
    return ta->nbytes() == 0 || std::memcmp(ta->raw(), tb.raw(), ta->nbytes()) == 0;
  }
  if (const auto* ia = std::get_if<int64_t>(&a)) return *ia == std::get<int64_t>(b);
  if (const auto* sa = std::get_if<std::string>(&a)) return *sa == std::get<std::string>(b);
  if (const auto* la = std::get_if<std::vector<int64_t>>(&a)) {
    return *la == std::get<std::vector<int64_t>>(b);
  }
  if (const auto* ls = std::get_if<std::vector<std::string>>(&a)) {
    return *ls == std::get<std::vector<std::string>>(b);
  }
  return false;  // subgraphs: never equal here
}

bool SameComputation(const Node& a, const Node& b) {
  if (a.op != b.op || a.opset != b.opset || a.inputs != b.inputs) return false;
  if (a.outputs.size() != b.outputs.size()) return false;
  for (size_t i = 0; i < a.outputs.size(); ++i) {
    if ((a.outputs[i] == nullptr) != (b.outputs[i] == nullptr)) return false;
  }
  const auto& aa = a.attrs.all();
  const auto& ba = b.attrs.all();
  if (aa.size() != ba.size()) return false;
  for (auto ia = aa.begin(), ib = ba.begin(); ia != aa.end(); ++ia, ++ib) {
    if (ia->first != ib->first || !AttrEqual(ia->second, ib->second)) return false;
  }
  return true;
}

bool Mergeable(const Node& n) {
  if (IsRandomOp(n.op) || HasGraphAttr(n)) return false;
  return !n.inputs.empty() || n.op == OpKind::kConstant;
}

// Readers of a small constant read the first constant with the same bytes.
void MergeEqualConstants(Graph& graph) {
  constexpr size_t kMaxBytes = 4096;  // weights stay apart: comparing them is not worth it
  std::map<std::pair<DType, Dims>, std::vector<Value*>> seen;
  for (Value* v : graph.values()) {
    if (!v->constant || v->is_graph_input || v->producer || graph.IsNamePinned(v)) continue;
    const Tensor& t = *v->constant;
    if (t.nbytes() > kMaxBytes) continue;
    std::vector<Value*>& bucket = seen[{t.dtype(), t.dims()}];
    Value* same = nullptr;
    for (Value* c : bucket) {
      if (t.nbytes() == 0 || std::memcmp(c->constant->raw(), t.raw(), t.nbytes()) == 0) {
        same = c;
        break;
      }
    }
    if (same) {
      graph.ReplaceAllUses(v, same);
    } else {
      bucket.push_back(v);
    }
  }
}

}  // namespace

Status EliminateCommonSubexpressions(Graph& graph) {
  MergeEqualConstants(graph);
  FRT_ASSIGN_OR_RETURN(std::vector<Node*> order, graph.TopologicalOrder());
  // Bucketed by a cheap key; SameComputation decides within a bucket.
  std::map<std::pair<OpKind, std::vector<const Value*>>, std::vector<Node*>> seen;
  for (Node* node : order) {
    if (!Mergeable(*node)) continue;
    std::vector<const Value*> ins(node->inputs.begin(), node->inputs.end());
    std::vector<Node*>& bucket = seen[{node->op, ins}];
    Node* original = nullptr;
    for (Node* candidate : bucket) {
      if (SameComputation(*candidate, *node)) {
        original = candidate;
        break;
      }
    }
    if (!original) {
      bucket.push_back(node);
      continue;
    }
    for (size_t i = 0; i < node->outputs.size(); ++i) {
      if (!node->outputs[i]) continue;
      if (original->outputs[i]->dtype != node->outputs[i]->dtype) continue;
      graph.ReplaceAllUses(node->outputs[i], original->outputs[i]);
    }
    Status removed = graph.RemoveNode(node);
    // A dtype mismatch above (not expected for equal computations) keeps readers.
    if (!removed.ok()) continue;
  }
  graph.RemoveDeadValues();
  return Status::Ok();
}

}  // namespace frt
