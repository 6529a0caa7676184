// Algorithm: one walk in topological order decides, per node, whether it runs
// in reduced precision (LowerPrecision's contract); a second rewrites values:
// each float32 output of a lowered node moves to a new reduced-precision value
// (the old value, if a float32 reader or the graph's outputs still need it,
// is recomputed from it by a Cast), and each float32 input of a lowered node
// that is not lowered becomes a converted constant or a Cast.
#include "passes/lower_precision.h"

#include <unordered_map>
#include <unordered_set>

#include "core/float_types.h"
#include "ir/op_registry.h"
#include "ir/ops/fused_pointwise.h"
#include "passes/rewrite_util.h"

namespace frt {
namespace {

bool HasSubgraph(const Node& n) {
  for (const auto& [name, value] : n.attrs.all()) {
    if (std::holds_alternative<std::shared_ptr<Graph>>(value)) return true;
  }
  return false;
}

Result<Tensor> ConvertConstant(const Tensor& t, DType low) {
  FRT_ASSIGN_OR_RETURN(Tensor out, Tensor::Allocate(low, t.dims()));
  const float* src = t.data<float>();
  for (int64_t i = 0; i < t.num_elements(); ++i) {
    if (low == DType::kFloat16) {
      out.data<Float16>()[i] = Float16::FromFloat(src[i]);
    } else {
      out.data<BFloat16>()[i] = BFloat16::FromFloat(src[i]);
    }
  }
  return out;
}

Result<Value*> AddCast(Graph& g, Value* from, DType to, const std::string& name) {
  Node* cast = g.AddNode(OpKind::kCast, rewrite::FreshName(g, name));
  cast->opset = 19;
  cast->attrs.Set("to", static_cast<int64_t>(to));
  cast->inputs = {from};
  if (from->producer) rewrite::AppendSources(*cast, *from->producer);
  FRT_ASSIGN_OR_RETURN(Value * out, g.AddValue(rewrite::FreshName(g, name)));
  out->dtype = to;
  out->shape = from->shape;
  out->producer = cast;
  cast->outputs = {out};
  return out;
}

constexpr int64_t kF32 = static_cast<int64_t>(DType::kFloat32);

// Attributes that name float32 as a result type follow the lowering: Cast's
// `to`, and FusedPointwise's output_dtype and the targets of its Cast instructions
// (its registers take their inputs' dtypes, so a Cast to float32 inside would
// mix float32 with reduced-precision registers).
void RetypeDTypeAttributes(Node& n, DType low) {
  const auto low_code = static_cast<int64_t>(low);
  if (n.op == OpKind::kCast && n.attrs.GetInt("to", 0) == kF32) n.attrs.Set("to", low_code);
  if (n.op != OpKind::kFusedPointwise) return;
  if (n.attrs.GetInt("output_dtype", 0) == kF32) n.attrs.Set("output_dtype", low_code);
  std::vector<int64_t> program = n.attrs.GetInts("program");
  for (size_t i = 0; i + 4 < program.size(); i += 5) {
    if (program[i] == static_cast<int64_t>(pointwise::Opcode::kCast) &&
        program[i + 3] == kF32) {
      program[i + 3] = low_code;
    }
  }
  n.attrs.Set("program", std::move(program));
}

}  // namespace

Result<int> LowerPrecision(Graph& graph, DType low) {
  const std::string suffix = std::string("/") + std::string(DTypeName(low));
  FRT_ASSIGN_OR_RETURN(std::vector<Node*> order, graph.TopologicalOrder());
  std::unordered_set<const Node*> lowered;
  auto is_lowered_value = [&](const Value* v) {
    return v->constant.has_value() || (v->producer && lowered.count(v->producer));
  };
  for (const Node* n : order) {
    const OpSchema* schema = OpRegistry::Global().Find(n->op);
    if (!schema || HasSubgraph(*n)) continue;
    bool reads_f32 = false, writes_f32 = false, all_f32_inputs_lowered = true;
    for (const Value* in : n->inputs) {
      if (!in || in->dtype != DType::kFloat32) continue;
      reads_f32 = true;
      all_f32_inputs_lowered = all_f32_inputs_lowered && is_lowered_value(in);
    }
    for (const Value* out : n->outputs) writes_f32 = writes_f32 || (out && out->dtype == DType::kFloat32);
    if (!reads_f32 && !writes_f32) continue;
    bool lower = false;
    switch (schema->precision) {
      case PrecisionPolicy::kAlways:
      case PrecisionPolicy::kFp32Inside:
        lower = true;
        break;
      case PrecisionPolicy::kFollow:
        if (n->op == OpKind::kCast) {
          // Only a Cast producing float32 (from a lowered or non-float tensor).
          lower = writes_f32 && (!reads_f32 || all_f32_inputs_lowered);
        } else {
          lower = all_f32_inputs_lowered && (reads_f32 || writes_f32);
        }
        break;
      case PrecisionPolicy::kNever:
        break;
    }
    if (lower) lowered.insert(n);
  }
  if (lowered.empty()) return 0;

  rewrite::ReaderMap readers = rewrite::CollectReaders(graph);
  std::unordered_set<const Value*> graph_outputs(graph.outputs().begin(), graph.outputs().end());
  std::unordered_map<Value*, Value*> low_of;  // float32 value -> its reduced-precision twin
  // 1. Outputs of lowered nodes.
  for (Node* n : order) {
    if (!lowered.count(n)) continue;
    for (Value*& out : n->outputs) {
      if (!out || out->dtype != DType::kFloat32) continue;
      FRT_ASSIGN_OR_RETURN(Value * twin, graph.AddValue(rewrite::FreshName(graph, out->name + suffix)));
      twin->dtype = low;
      twin->shape = out->shape;
      twin->producer = n;
      Value* old = out;
      out = twin;
      old->producer = nullptr;
      low_of[old] = twin;
      bool needs_f32 = graph_outputs.count(old) > 0;
      for (const Node* r : readers[old]) needs_f32 = needs_f32 || !lowered.count(r);
      if (needs_f32) {
        // Recompute the float32 value from the twin under its own name.
        Node* cast = graph.AddNode(OpKind::kCast, rewrite::FreshName(graph, old->name + "/to_f32"));
        cast->opset = 19;
        cast->attrs.Set("to", static_cast<int64_t>(DType::kFloat32));
        cast->inputs = {twin};
        cast->outputs = {old};
        rewrite::AppendSources(*cast, *n);
        old->producer = cast;
      }
    }
    RetypeDTypeAttributes(*n, low);
  }
  // 2. Float32 inputs of lowered nodes that are not lowered themselves.
  for (Node* n : order) {
    if (!lowered.count(n)) continue;
    for (Value*& in : n->inputs) {
      if (!in || in->dtype != DType::kFloat32) continue;
      auto it = low_of.find(in);
      if (it == low_of.end()) {
        Value* twin = nullptr;
        if (in->constant) {
          FRT_ASSIGN_OR_RETURN(Tensor t, ConvertConstant(*in->constant, low));
          FRT_ASSIGN_OR_RETURN(twin, rewrite::AddConstant(graph, in->name + suffix, std::move(t)));
        } else {
          FRT_ASSIGN_OR_RETURN(twin, AddCast(graph, in, low, in->name + suffix));
        }
        it = low_of.emplace(in, twin).first;
      }
      in = it->second;
    }
  }
  graph.RemoveDeadValues();
  return static_cast<int>(lowered.size());
}

}  // namespace frt
