// Symbolic shape-tensor contents, computed forward in topological order: each
// rule below reads its inputs' symbolic contents (or constant tensors) and
// produces its output's, and gives up (no entry) whenever anything is unknown
// that it would need.
#include "ir/symbolic_values.h"

#include <algorithm>
#include <limits>

namespace frt {
namespace {

constexpr size_t kMaxElements = 64;

bool IsIntType(DType t) { return t == DType::kInt64 || t == DType::kInt32; }

// Integer contents of a constant of rank <= 1, as int64.
std::optional<std::vector<int64_t>> ConstInts(const Value* v) {
  if (!v || !v->constant || v->is_graph_input) return std::nullopt;
  const Tensor& t = *v->constant;
  if (t.dims().size() > 1 || static_cast<size_t>(t.num_elements()) > kMaxElements) {
    return std::nullopt;
  }
  std::vector<int64_t> out(static_cast<size_t>(t.num_elements()));
  for (size_t i = 0; i < out.size(); ++i) {
    if (t.dtype() == DType::kInt64) {
      out[i] = t.data<int64_t>()[i];
    } else if (t.dtype() == DType::kInt32) {
      out[i] = t.data<int32_t>()[i];
    } else {
      return std::nullopt;
    }
  }
  return out;
}

class Analysis {
 public:
  explicit Analysis(SymbolicValues& out) : values_(out) {}

  const SymbolicTensor* Get(const Value* v) {
    if (!v) return nullptr;
    auto it = values_.find(v);
    if (it != values_.end()) return &it->second;
    if (auto ints = ConstInts(v)) {
      SymbolicTensor t;
      t.scalar = v->constant->dims().empty();
      for (int64_t i : *ints) t.elems.push_back(SymDim::Const(i));
      return &(values_[v] = std::move(t));
    }
    return nullptr;
  }

  void Visit(const Node& n) {
    if (n.outputs.empty() || !n.outputs[0] || !IsIntType(n.outputs[0]->dtype)) return;
    std::optional<SymbolicTensor> r = Rule(n);
    if (r && r->elems.size() <= kMaxElements) values_[n.outputs[0]] = std::move(*r);
  }

 private:
  std::optional<SymbolicTensor> Rule(const Node& n) {
    switch (n.op) {
      case OpKind::kShape: return ShapeOf(n);
      case OpKind::kIdentity:
      case OpKind::kCast: return Copy(n.inputs[0]);
      case OpKind::kGather: return GatherOf(n);
      case OpKind::kUnsqueeze:
      case OpKind::kSqueeze:
      case OpKind::kReshape: return ReshapeSmall(n);
      case OpKind::kConcat: return ConcatOf(n);
      case OpKind::kSlice: return SliceOf(n);
      case OpKind::kAdd:
      case OpKind::kSub:
      case OpKind::kMul:
      case OpKind::kDiv:
      case OpKind::kMax:
      case OpKind::kMin: return Arith(n);
      case OpKind::kConstantOfShape: return Fill(n);
      case OpKind::kWhere: return Select(n);
      default: return std::nullopt;
    }
  }

  std::optional<SymbolicTensor> Copy(const Value* v) {
    const SymbolicTensor* t = Get(v);
    return t ? std::optional<SymbolicTensor>(*t) : std::nullopt;
  }

  std::optional<SymbolicTensor> ShapeOf(const Node& n) {
    const Value* x = n.inputs[0];
    if (!x || !x->shape) return std::nullopt;
    int64_t rank = static_cast<int64_t>(x->shape->rank());
    auto clamp = [rank](int64_t a) { return std::clamp(a < 0 ? a + rank : a, int64_t{0}, rank); };
    int64_t start = clamp(n.attrs.GetInt("start", 0));
    int64_t end = clamp(n.attrs.GetInt("end", rank));
    SymbolicTensor t;
    for (int64_t i = start; i < end; ++i) {
      t.elems.push_back(SymDim::Of((*x->shape)[static_cast<size_t>(i)]));
    }
    return t;
  }

  std::optional<SymbolicTensor> GatherOf(const Node& n) {
    const SymbolicTensor* data = Get(n.inputs[0]);
    auto idx = ConstInts(n.has_input(1) ? n.inputs[1] : nullptr);
    if (!data || data->scalar || !idx || n.attrs.GetInt("axis", 0) != 0) return std::nullopt;
    SymbolicTensor t;
    t.scalar = n.inputs[1]->constant->dims().empty();
    int64_t size = static_cast<int64_t>(data->elems.size());
    for (int64_t i : *idx) {
      if (i < 0) i += size;
      if (i < 0 || i >= size) return std::nullopt;
      t.elems.push_back(data->elems[static_cast<size_t>(i)]);
    }
    return t;
  }

  // Unsqueeze/Squeeze/Reshape between rank 0 and rank 1 keep the elements.
  std::optional<SymbolicTensor> ReshapeSmall(const Node& n) {
    const SymbolicTensor* in = Get(n.inputs[0]);
    const Value* y = n.outputs[0];
    if (!in || !y->shape || y->shape->rank() > 1) return std::nullopt;
    SymbolicTensor t = *in;
    t.scalar = y->shape->rank() == 0;
    if (t.scalar && t.elems.size() != 1) return std::nullopt;
    return t;
  }

  std::optional<SymbolicTensor> ConcatOf(const Node& n) {
    if (n.attrs.GetInt("axis", 0) != 0 && n.attrs.GetInt("axis", 0) != -1) return std::nullopt;
    SymbolicTensor t;
    for (const Value* v : n.inputs) {
      const SymbolicTensor* in = Get(v);
      if (!in || in->scalar) return std::nullopt;
      t.elems.insert(t.elems.end(), in->elems.begin(), in->elems.end());
    }
    return t;
  }

  std::optional<SymbolicTensor> SliceOf(const Node& n) {
    const SymbolicTensor* in = Get(n.inputs[0]);
    auto starts = ConstInts(n.has_input(1) ? n.inputs[1] : nullptr);
    auto ends = ConstInts(n.has_input(2) ? n.inputs[2] : nullptr);
    if (!in || in->scalar || !starts || !ends || starts->size() != 1 || ends->size() != 1) {
      return std::nullopt;
    }
    if (n.has_input(3)) {
      auto axes = ConstInts(n.inputs[3]);
      if (!axes || axes->size() != 1 || ((*axes)[0] != 0 && (*axes)[0] != -1)) return std::nullopt;
    }
    int64_t step = 1;
    if (n.has_input(4)) {
      auto steps = ConstInts(n.inputs[4]);
      if (!steps || steps->size() != 1) return std::nullopt;
      step = (*steps)[0];
    }
    if (step != 1) return std::nullopt;
    int64_t size = static_cast<int64_t>(in->elems.size());
    auto clamp = [size](int64_t a) {
      if (a < 0) a = a < std::numeric_limits<int64_t>::min() / 2 ? 0 : a + size;
      return std::clamp(a, int64_t{0}, size);
    };
    int64_t b = clamp((*starts)[0]), e = clamp((*ends)[0]);
    SymbolicTensor t;
    for (int64_t i = b; i < e; ++i) t.elems.push_back(in->elems[static_cast<size_t>(i)]);
    return t;
  }

  // ConstantOfShape of a small constant shape: that many copies of the value.
  std::optional<SymbolicTensor> Fill(const Node& n) {
    const SymbolicTensor* shape = Get(n.inputs[0]);
    const Tensor* value = n.attrs.GetTensor("value");
    if (!shape || shape->elems.size() > 1 || !value || value->num_elements() != 1) {
      return std::nullopt;
    }
    auto v = value->ToInt64Vector();
    if (!v.ok()) return std::nullopt;
    SymbolicTensor t;
    t.scalar = shape->elems.empty();
    int64_t count = 1;
    if (!shape->elems.empty()) {
      if (!shape->elems[0].constant || *shape->elems[0].constant > int64_t{kMaxElements}) {
        return std::nullopt;
      }
      count = *shape->elems[0].constant;
    }
    t.elems.assign(static_cast<size_t>(std::max<int64_t>(count, 0)), SymDim::Const((*v)[0]));
    return t;
  }

  // Where(Equal(p, q), a, b): exporters compute Expand targets this way (a -1
  // in p means "keep"). An element compares when both sides are constants,
  // or when a symbolic size (never negative) faces a negative constant.
  std::optional<SymbolicTensor> Select(const Node& n) {
    const Value* cond = n.inputs[0];
    const Node* eq = cond ? cond->producer : nullptr;
    if (!eq || eq->op != OpKind::kEqual || !n.has_input(1) || !n.has_input(2)) return std::nullopt;
    const SymbolicTensor* p = Get(eq->inputs[0]);
    const SymbolicTensor* q = eq->has_input(1) ? Get(eq->inputs[1]) : nullptr;
    const SymbolicTensor* a = Get(n.inputs[1]);
    const SymbolicTensor* b = Get(n.inputs[2]);
    if (!p || !q || !a || !b) return std::nullopt;
    size_t size = std::max({p->elems.size(), q->elems.size(), a->elems.size(), b->elems.size()});
    auto at = [size](const SymbolicTensor* t, size_t i) -> const SymDim* {
      if (t->elems.size() == size) return &t->elems[i];
      return t->elems.size() == 1 ? &t->elems[0] : nullptr;
    };
    SymbolicTensor t;
    t.scalar = p->scalar && q->scalar && a->scalar && b->scalar;
    for (size_t i = 0; i < size; ++i) {
      const SymDim *x = at(p, i), *y = at(q, i), *u = at(a, i), *w = at(b, i);
      if (!x || !y || !u || !w) return std::nullopt;
      std::optional<bool> equal;
      if (x->constant && y->constant) {
        equal = *x->constant == *y->constant;
      } else if ((!x->symbol.empty() && y->constant && *y->constant < 0) ||
                 (!y->symbol.empty() && x->constant && *x->constant < 0)) {
        equal = false;
      } else if (!x->symbol.empty() && x->symbol == y->symbol) {
        equal = true;
      }
      t.elems.push_back(!equal ? SymDim::Unknown() : *equal ? *u : *w);
    }
    return t;
  }

  std::optional<SymbolicTensor> Arith(const Node& n) {
    const SymbolicTensor* a = Get(n.inputs[0]);
    const SymbolicTensor* b = n.has_input(1) ? Get(n.inputs[1]) : nullptr;
    if (!a || !b) return std::nullopt;
    size_t size = std::max(a->elems.size(), b->elems.size());
    if ((a->elems.size() != size && a->elems.size() != 1) ||
        (b->elems.size() != size && b->elems.size() != 1)) {
      return std::nullopt;
    }
    SymbolicTensor t;
    t.scalar = a->scalar && b->scalar;
    for (size_t i = 0; i < size; ++i) {
      const SymDim& x = a->elems[a->elems.size() == 1 ? 0 : i];
      const SymDim& y = b->elems[b->elems.size() == 1 ? 0 : i];
      t.elems.push_back(Combine(n.op, x, y));
    }
    return t;
  }

  static SymDim Combine(OpKind op, const SymDim& x, const SymDim& y) {
    if (x.constant && y.constant) {
      int64_t p = *x.constant, q = *y.constant;
      switch (op) {
        case OpKind::kAdd: return SymDim::Const(p + q);
        case OpKind::kSub: return SymDim::Const(p - q);
        case OpKind::kMul: return SymDim::Const(p * q);
        case OpKind::kDiv:  // ONNX integer Div truncates toward zero, like C++
          return q != 0 ? SymDim::Const(p / q) : SymDim::Unknown();
        case OpKind::kMax: return SymDim::Const(std::max(p, q));
        case OpKind::kMin: return SymDim::Const(std::min(p, q));
        default: return SymDim::Unknown();
      }
    }
    auto is = [](const SymDim& d, int64_t v) { return d.constant && *d.constant == v; };
    if ((op == OpKind::kAdd && is(y, 0)) || (op == OpKind::kSub && is(y, 0)) ||
        (op == OpKind::kMul && is(y, 1)) || (op == OpKind::kDiv && is(y, 1))) {
      return x;
    }
    if ((op == OpKind::kAdd && is(x, 0)) || (op == OpKind::kMul && is(x, 1))) return y;
    return SymDim::Unknown();
  }

  SymbolicValues& values_;
};

}  // namespace

std::optional<SymbolicTensor> SymbolicContents(const SymbolicValues& values, const Value* v) {
  auto it = values.find(v);
  if (it != values.end()) return it->second;
  auto ints = ConstInts(v);
  if (!ints) return std::nullopt;
  SymbolicTensor t;
  t.scalar = v->constant->dims().empty();
  for (int64_t i : *ints) t.elems.push_back(SymDim::Const(i));
  return t;
}

SymDim SymDim::Of(const Dim& d) {
  if (d.is_static()) return Const(d.value());
  if (d.is_symbol()) return SymDim{std::nullopt, d.symbol()};
  return Unknown();
}

bool Matches(const SymDim& s, const Dim& d) {
  if (s.constant) return d.is_static() && d.value() == *s.constant;
  return !s.symbol.empty() && d.is_symbol() && d.symbol() == s.symbol;
}

bool SameDim(const Dim& a, const Dim& b) { return Matches(SymDim::Of(a), b); }

SymbolicValues ComputeSymbolicValues(const Graph& graph) {
  SymbolicValues values;
  auto order = graph.TopologicalOrder();
  if (!order.ok()) return values;
  Analysis analysis(values);
  for (const Node* n : *order) analysis.Visit(*n);
  return values;
}

void AddSymbolicOutputs(const Node& node, SymbolicValues& values) {
  Analysis(values).Visit(node);
}

}  // namespace frt
