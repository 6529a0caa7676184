// The IR: a Graph owns Values (tensors flowing between nodes) and Nodes
// (op applications). Values are produced by at most one node; graph inputs and
// constants (initializers) have no producer. An absent optional input is a
// nullptr entry in Node::inputs.
//
// Ownership: the Graph owns every Value and Node; raw pointers stay valid until
// the graph is destroyed or the object is removed. Not thread safe for writes;
// concurrent const access is safe.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "ir/attributes.h"
#include "ir/op_kind.h"

namespace frt {

class Node;

struct Value {
  std::string name;
  DType dtype = DType::kUndefined;
  std::optional<Shape> shape;         // nullopt: rank unknown
  Node* producer = nullptr;           // nullptr for inputs, constants, outer-scope refs
  std::optional<Tensor> constant;     // initializer / folded constant data
  bool is_graph_input = false;
  bool is_outer_scope = false;        // in a subgraph: refers to an enclosing graph's value

  std::string Describe() const;       // "x: f32[batch,3]"
};

class Node {
 public:
  OpKind op = OpKind::kIdentity;
  std::string name;                   // ONNX node name (may be empty in the model)
  int opset = 0;                      // ONNX op version the node was imported from
  std::vector<Value*> inputs;         // nullptr = absent optional input
  std::vector<Value*> outputs;        // nullptr = absent optional output
  Attributes attrs;
  std::vector<std::string> source_nodes;  // original ONNX node names (fusion provenance)

  // `Softmax (node "attn/sm", opset 13)`: the prefix of every error about this node.
  std::string Describe() const;
  bool has_input(size_t i) const { return i < inputs.size() && inputs[i] != nullptr; }
  bool has_output(size_t i) const { return i < outputs.size() && outputs[i] != nullptr; }
};

class Graph {
 public:
  Graph() = default;
  Graph(const Graph&) = delete;
  Graph& operator=(const Graph&) = delete;

  std::string name;

  // Creates a value; error if the name is already used in this graph.
  Result<Value*> AddValue(const std::string& name);
  Value* FindValue(const std::string& name) const;  // nullptr if absent
  Node* AddNode(OpKind op, std::string name);
  void AddInput(Value* v);
  void AddOutput(Value* v) { outputs_.push_back(v); }

  const std::vector<Value*>& inputs() const { return inputs_; }
  const std::vector<Value*>& outputs() const { return outputs_; }
  std::vector<Node*> nodes() const;
  std::vector<Value*> values() const;
  size_t num_nodes() const { return nodes_.size(); }

  // Nodes ordered so that producers come before consumers; error names a node
  // on the cycle if there is one.
  Result<std::vector<Node*>> TopologicalOrder() const;

  // Largest size each named symbolic dim takes in the build's optimization
  // profiles (set by the builder before the optimizer runs; empty otherwise).
  // Shape inference uses it to prove facts such as "slicing [0, sequence) of
  // a 512-long axis yields sequence elements" (sequence <= 512 in every
  // profile). Not stored in engine files.
  std::map<std::string, int64_t> symbol_upper_bounds;

  // Enclosing graph of a subgraph (If/Loop/Scan body); nullptr at top level.
  const Graph* parent = nullptr;

  // --- Mutation helpers for optimizer passes. None of them touches subgraphs. ---

  // True when `v`'s name is observable from outside the node list: a graph
  // input or output, or an implicit input of a control-flow node (its
  // subgraphs read it by name). Such a value may not be renamed.
  bool IsNamePinned(const Value* v) const;

  // Every node input in this graph that is `from` becomes `to` (explicit and
  // implicit inputs alike). Graph outputs keep their names: for each output
  // slot holding `from`,
  //  - if `to` is produced by a node and is not name-pinned, `to` takes
  //    `from`'s name and fills the slot (no copy at run time);
  //  - otherwise a new Identity node copies `to` into a new value that takes
  //    `from`'s name (the output must differ by name from `to`).
  // An implicit input that is `from` is handled the same way, since a
  // subgraph reads it by `from`'s name. Afterwards `from` has no uses, is no
  // graph output and may have been renamed to a fresh name; its producer is
  // unchanged (callers remove it with RemoveNode). Precondition: `from` and
  // `to` belong to this graph, have the same dtype, and `from` is not a graph
  // input. Shapes are not updated: re-run InferGraphShapes.
  void ReplaceAllUses(Value* from, Value* to);

  // Removes `node`. Error (kInternal, naming the node) if one of its outputs
  // is still read by another node or is a graph output. Its output values
  // stay in the graph without a producer until RemoveDeadValues.
  Status RemoveNode(Node* node);

  // Removes values that no node reads or produces and that are neither graph
  // inputs nor outputs (outputs of removed nodes, unused constants).
  void RemoveDeadValues();

 private:
  // Gives `v` a new name (registered in by_name_); the name must be free.
  void Rename(Value* v, const std::string& new_name);
  // A name not used in this graph, derived from `base`.
  std::string FreshName(const std::string& base) const;

  std::vector<std::unique_ptr<Value>> values_;
  std::vector<std::unique_ptr<Node>> nodes_;
  std::map<std::string, Value*> by_name_;
  std::vector<Value*> inputs_;
  std::vector<Value*> outputs_;
};

}  // namespace frt
