#include "ir/printer.h"

#include <sstream>

namespace frt {
namespace {

std::string Ref(const Value* v) { return v ? "%" + v->name : std::string("<none>"); }

std::string Typed(const Value* v) {
  if (!v) return "<none>";
  return StrCat("%", v->name, ": ", DTypeName(v->dtype),
                v->shape ? v->shape->ToString() : std::string("[?]"));
}

void PrintInto(const Graph& g, int indent, std::ostringstream& os) {
  std::string pad(indent, ' ');
  os << pad << "graph " << g.name << " (";
  for (size_t i = 0; i < g.inputs().size(); ++i) os << (i ? ", " : "") << Typed(g.inputs()[i]);
  os << ") -> (";
  for (size_t i = 0; i < g.outputs().size(); ++i) os << (i ? ", " : "") << Typed(g.outputs()[i]);
  os << ") {\n";
  for (const Value* v : g.values()) {
    if (v->constant && !v->is_graph_input) os << pad << "  const " << Typed(v) << "\n";
  }
  auto order = g.TopologicalOrder();
  std::vector<Node*> nodes = order.ok() ? *order : g.nodes();
  for (const Node* n : nodes) {
    os << pad << "  ";
    for (size_t i = 0; i < n->outputs.size(); ++i) os << (i ? ", " : "") << Typed(n->outputs[i]);
    os << " = " << OpKindName(n->op) << "(";
    for (size_t i = 0; i < n->inputs.size(); ++i) os << (i ? ", " : "") << Ref(n->inputs[i]);
    os << ")";
    std::vector<const Graph*> subgraphs;
    if (!n->attrs.all().empty()) {
      os << " {";
      bool first = true;
      for (const auto& [name, value] : n->attrs.all()) {
        os << (first ? "" : ", ") << name << "=" << AttrValueToString(value);
        first = false;
        if (const auto* sub = std::get_if<std::shared_ptr<Graph>>(&value)) subgraphs.push_back(sub->get());
      }
      os << "}";
    }
    os << "  # " << n->name << "\n";
    for (const Graph* sub : subgraphs) PrintInto(*sub, indent + 4, os);
  }
  os << pad << "}\n";
}

}  // namespace

std::string PrintGraph(const Graph& graph) {
  std::ostringstream os;
  PrintInto(graph, 0, os);
  return os.str();
}

}  // namespace frt
