// Elementwise-chain fusion: maximal single-output groups of pointwise ops
// become one FusedPointwise node (ir/ops/fused_pointwise.h) that reads its
// inputs once and writes one output.
//
// Algorithm: nodes are visited in reverse topological order; an unclaimed
// supported node starts a group as its root (the group's only output), and
// the group then absorbs, until nothing changes, every supported unclaimed
// producer of one of its inputs whose output is not name-pinned (graph
// output, subgraph read) and is read only by nodes already in the group. So
// every internal value has all its readers inside the group, no path leaves
// the group except through the root, and the rewrite cannot create a cycle.
// Groups of at least 2 nodes are rewritten: external operands (constants
// included, each once) become inputs in order of first use, members become
// instructions in topological order. The group is skipped when the
// broadcast of its inputs' shapes differs from the root's output shape (the
// fused op's output shape is that broadcast), or a shape is unknown. The
// fused op rounds every instruction like the op it stands for, so the rewrite
// is bit-exact on the CPU reference backend.
//
// Supported nodes: Neg Abs Exp Log Sqrt Reciprocal Erf Tanh Sigmoid Relu Floor
// Ceil Sin Cos Softplus Mish Not IsNaN Gelu Swish LeakyRelu Cast Add Sub Mul
// Div Pow Max Min (any number of inputs: selections are exact) Sum (up to two
// inputs) Equal Less LessOrEqual Greater GreaterOrEqual And Or Xor Where, and
// Clip whose bounds are absent or one-element constants; every
// input and the output must be f16, bf16, f32, f64 or bool (integer tensors,
// e.g. shape arithmetic, are left to the unfused ops).
#include <algorithm>
#include <map>
#include <optional>
#include <set>

#include "ir/op_registry.h"
#include "ir/ops/fused_pointwise.h"
#include "passes/pass_manager.h"
#include "passes/rewrite_util.h"

namespace frt {
namespace {

using pointwise::Instruction;
using pointwise::Opcode;

using Uses = rewrite::ReaderMap;  // one entry per reading input slot

std::optional<Opcode> UnaryOpcode(OpKind k) {
  switch (k) {
    case OpKind::kNeg: return Opcode::kNeg;
    case OpKind::kAbs: return Opcode::kAbs;
    case OpKind::kExp: return Opcode::kExp;
    case OpKind::kLog: return Opcode::kLog;
    case OpKind::kSqrt: return Opcode::kSqrt;
    case OpKind::kReciprocal: return Opcode::kReciprocal;
    case OpKind::kErf: return Opcode::kErf;
    case OpKind::kTanh: return Opcode::kTanh;
    case OpKind::kSigmoid: return Opcode::kSigmoid;
    case OpKind::kRelu: return Opcode::kRelu;
    case OpKind::kFloor: return Opcode::kFloor;
    case OpKind::kCeil: return Opcode::kCeil;
    case OpKind::kSin: return Opcode::kSin;
    case OpKind::kCos: return Opcode::kCos;
    case OpKind::kSoftplus: return Opcode::kSoftplus;
    case OpKind::kMish: return Opcode::kMish;
    case OpKind::kNot: return Opcode::kNot;
    case OpKind::kIsNaN: return Opcode::kIsNaN;
    default: return std::nullopt;
  }
}

// Binary ops and the variadic ones folded left to right (Max, Min, Sum of two).
std::optional<Opcode> BinaryOpcode(OpKind k) {
  switch (k) {
    case OpKind::kAdd: return Opcode::kAdd;
    case OpKind::kSum: return Opcode::kAdd;
    case OpKind::kSub: return Opcode::kSub;
    case OpKind::kMul: return Opcode::kMul;
    case OpKind::kDiv: return Opcode::kDiv;
    case OpKind::kPow: return Opcode::kPow;
    case OpKind::kMax: return Opcode::kMax;
    case OpKind::kMin: return Opcode::kMin;
    case OpKind::kEqual: return Opcode::kEqual;
    case OpKind::kLess: return Opcode::kLess;
    case OpKind::kLessOrEqual: return Opcode::kLessOrEqual;
    case OpKind::kGreater: return Opcode::kGreater;
    case OpKind::kGreaterOrEqual: return Opcode::kGreaterOrEqual;
    case OpKind::kAnd: return Opcode::kAnd;
    case OpKind::kOr: return Opcode::kOr;
    case OpKind::kXor: return Opcode::kXor;
    default: return std::nullopt;
  }
}

bool IsOneElementConstant(const Value* v) {
  return v->constant && !v->is_graph_input && v->constant->num_elements() == 1;
}

bool Supported(const Node& n) {
  const OpSchema* schema = OpRegistry::Global().Find(n.op);
  if (!schema || (schema->fusion != FusionKind::kElementwise &&
                  schema->fusion != FusionKind::kBroadcast)) {
    return false;
  }
  if (n.outputs.size() != 1 || !n.outputs[0] || !n.outputs[0]->shape) return false;
  if (!pointwise::IsRegisterDType(n.outputs[0]->dtype) || n.inputs.empty()) return false;
  for (size_t i = 0; i < n.inputs.size(); ++i) {
    const Value* v = n.inputs[i];
    if (!v) {
      if (n.op == OpKind::kClip && i > 0) continue;  // absent bound
      return false;
    }
    if (!pointwise::IsRegisterDType(v->dtype) || !v->shape) return false;
  }
  switch (n.op) {
    case OpKind::kGelu:
    case OpKind::kSwish:
    case OpKind::kLeakyRelu:
    case OpKind::kCast:
      return n.inputs.size() == 1;
    case OpKind::kWhere:
      return n.inputs.size() == 3;
    case OpKind::kClip:
      for (size_t i = 1; i < n.inputs.size(); ++i) {
        if (n.inputs[i] && !IsOneElementConstant(n.inputs[i])) return false;
      }
      return n.inputs.size() <= 3;
    case OpKind::kMax:
    case OpKind::kMin:
      return true;
    case OpKind::kSum:  // its kernel rounds once over all inputs: pairs only
      return n.inputs.size() <= 2;
    default:
      break;
  }
  if (UnaryOpcode(n.op)) return n.inputs.size() == 1;
  return BinaryOpcode(n.op) && n.inputs.size() == 2;
}

// Program being built: registers of values, the encoded instructions, params.
struct Builder {
  int64_t next = 0;
  std::map<const Value*, int64_t> reg;
  std::vector<int64_t> program;
  std::vector<float> params;

  int64_t Emit(Opcode op, int64_t a, int64_t b = -1, int64_t c = -1) {
    pointwise::AppendInstruction(program, Instruction{op, next, a, b, c});
    return next++;
  }
  int64_t Param(float v) {
    params.push_back(v);
    return static_cast<int64_t>(params.size()) - 1;
  }
  int64_t In(const Node& n, size_t i) const { return n.inputs[i] ? reg.at(n.inputs[i]) : -1; }

  // Emits node n's instructions; returns the register holding its output.
  int64_t EmitNode(const Node& n) {
    int64_t x = In(n, 0);
    switch (n.op) {
      case OpKind::kGelu:
        return Emit(n.attrs.GetString("approximate", "none") == "tanh" ? Opcode::kGeluTanh
                                                                       : Opcode::kGelu,
                    x);
      case OpKind::kSwish:
        return Emit(Opcode::kSwish, x, Param(n.attrs.GetFloat("alpha", 1.0f)));
      case OpKind::kLeakyRelu:
        return Emit(Opcode::kLeakyRelu, x, Param(n.attrs.GetFloat("alpha", 0.01f)));
      case OpKind::kCast:
        return Emit(Opcode::kCast, x, static_cast<int64_t>(n.outputs[0]->dtype));
      case OpKind::kWhere:
        return Emit(Opcode::kWhere, x, In(n, 1), In(n, 2));
      case OpKind::kClip:
        return Emit(Opcode::kClip, x, n.inputs.size() > 1 ? In(n, 1) : -1,
                    n.inputs.size() > 2 ? In(n, 2) : -1);
      default:
        break;
    }
    if (std::optional<Opcode> op = UnaryOpcode(n.op)) return Emit(*op, x);
    Opcode op = *BinaryOpcode(n.op);
    if (n.inputs.size() == 1) return Emit(Opcode::kIdentity, x);  // one-input Max/Min/Sum
    for (size_t i = 1; i < n.inputs.size(); ++i) x = Emit(op, x, In(n, i));
    return x;
  }
};

Status RewriteGroup(Graph& g, std::vector<Node*> group, const std::map<const Node*, size_t>& pos) {
  std::sort(group.begin(), group.end(),
            [&](const Node* a, const Node* b) { return pos.at(a) < pos.at(b); });
  std::set<const Node*> members(group.begin(), group.end());
  Node* root = group.back();
  Builder b;
  std::vector<Value*> inputs;
  std::optional<Shape> shape;
  for (const Node* n : group) {
    for (Value* v : n->inputs) {
      if (!v || (v->producer && members.count(v->producer)) || b.reg.count(v)) continue;
      b.reg[v] = static_cast<int64_t>(inputs.size());
      inputs.push_back(v);
      if (!shape) {
        shape = *v->shape;
        continue;
      }
      Result<Shape> s = BroadcastShapes(*shape, *v->shape);
      if (!s.ok()) return Status::Ok();  // inference would have failed: leave it
      shape = *s;
    }
  }
  Value* out = root->outputs[0];
  if (!shape || !(*shape == *out->shape)) return Status::Ok();
  b.next = static_cast<int64_t>(inputs.size());
  for (const Node* n : group) b.reg[n->outputs[0]] = b.EmitNode(*n);

  Node* fused = g.AddNode(OpKind::kFusedPointwise, root->name);
  fused->opset = 1;
  fused->inputs = inputs;
  fused->attrs.Set("program", b.program);
  if (!b.params.empty()) fused->attrs.Set("params", b.params);
  fused->attrs.Set("output_dtype", static_cast<int64_t>(out->dtype));
  std::vector<DType> dtypes;
  for (const Value* v : inputs) dtypes.push_back(v->dtype);
  Result<pointwise::Program> check = pointwise::DecodeProgram(*fused, dtypes);
  if (!check.ok()) return check.status().WithPrefix("fuse_elementwise built a bad program");
  for (const Node* n : group) {
    fused->source_nodes.insert(fused->source_nodes.end(), n->source_nodes.begin(),
                               n->source_nodes.end());
  }
  std::string base = StrCat(out->name, "/FusedPointwise");
  std::string name = base;
  for (int i = 1; g.FindValue(name); ++i) name = StrCat(base, "_", i);
  FRT_ASSIGN_OR_RETURN(Value * result, g.AddValue(name));
  result->dtype = out->dtype;
  result->shape = out->shape;
  result->producer = fused;
  fused->outputs = {result};
  g.ReplaceAllUses(out, result);
  for (auto it = group.rbegin(); it != group.rend(); ++it) FRT_RETURN_IF_ERROR(g.RemoveNode(*it));
  return Status::Ok();
}

}  // namespace

Status FuseElementwise(Graph& graph) {
  FRT_ASSIGN_OR_RETURN(std::vector<Node*> order, graph.TopologicalOrder());
  std::map<const Node*, size_t> pos;
  for (size_t i = 0; i < order.size(); ++i) pos[order[i]] = i;
  std::set<const Node*> supported;
  for (const Node* n : order) {
    if (Supported(*n)) supported.insert(n);
  }
  const Uses uses = rewrite::CollectReaders(graph);
  std::set<const Node*> claimed;
  std::vector<std::vector<Node*>> groups;
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    Node* root = *it;
    if (!supported.count(root) || claimed.count(root)) continue;
    std::vector<Node*> group = {root};
    std::set<const Node*> members = {root};
    for (bool grew = true; grew;) {
      grew = false;
      for (size_t k = 0; k < group.size(); ++k) {
        for (const Value* v : group[k]->inputs) {
          Node* p = v ? v->producer : nullptr;
          if (!p || members.count(p) || claimed.count(p) || !supported.count(p)) continue;
          const std::vector<Node*>& readers = uses.at(v);
          bool inside = std::all_of(readers.begin(), readers.end(),
                                    [&](const Node* r) { return members.count(r) != 0; });
          if (!inside || graph.IsNamePinned(v)) continue;
          group.push_back(p);
          members.insert(p);
          grew = true;
        }
      }
    }
    claimed.insert(members.begin(), members.end());
    if (group.size() >= 2) groups.push_back(std::move(group));
  }
  // Groups are disjoint and each one's external values are untouched by the
  // others' rewrites (a root's output keeps its readers), so order is free.
  for (std::vector<Node*>& group : groups) FRT_RETURN_IF_ERROR(RewriteGroup(graph, group, pos));
  graph.RemoveDeadValues();
  return Status::Ok();
}

}  // namespace frt
