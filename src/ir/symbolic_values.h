// Symbolic contents of shape tensors: what the Shape -> Gather -> Unsqueeze ->
// Concat chains of exported models compute, element by element, in terms of
// the graph's symbolic dims ("batch", "sequence") and constants. The shape
// passes use it to turn Reshape/Expand targets that are computed at run time
// into constants, and to recognise layout round trips (Reshape, Transpose,
// Reshape back) whose targets come from such chains.
//
// Only small integer tensors of rank 0 or 1 are tracked. An element whose
// value is neither a constant nor a plain symbolic dim (batch*sequence, a
// data-dependent value) is unknown.
//
// Thread safety: a pure function of the graph; results hold Value pointers
// valid while the graph is not modified.
#pragma once

#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "ir/graph.h"

namespace frt {

// One element: an integer constant (any sign: Reshape targets hold -1), a
// named symbolic dim, or unknown (neither).
struct SymDim {
  std::optional<int64_t> constant;
  std::string symbol;

  static SymDim Const(int64_t v) { return SymDim{v, {}}; }
  static SymDim Unknown() { return SymDim{}; }
  static SymDim Of(const Dim& d);  // a shape dim as an element
  bool known() const { return constant.has_value() || !symbol.empty(); }
};

struct SymbolicTensor {
  std::vector<SymDim> elems;
  bool scalar = false;  // rank 0 (one element) rather than rank 1
};
using SymbolicValues = std::unordered_map<const Value*, SymbolicTensor>;

// Walks the top-level graph in topological order. Tracks integer constants of
// rank <= 1 (up to 64 elements), Shape and Size of values with a known rank,
// and Gather (axis 0, constant indices), Unsqueeze/Squeeze/Reshape of such
// tensors to rank 0 or 1, Concat (axis 0), Slice (constant parameters), Cast
// between integer types, Identity, and elementwise Add/Sub/Mul/Div/Max/Min
// (exact when both sides are constants; x+0, x-0, x*1, x/1 keep x).
SymbolicValues ComputeSymbolicValues(const Graph& graph);

// One step of the same walk: adds `node`'s output (when a rule applies) to
// `values`, which must hold what is known of its inputs. Used by shape
// inference, which interleaves it with inferring each node's shapes.
void AddSymbolicOutputs(const Node& node, SymbolicValues& values);

// The symbolic contents of `v`: its entry in `values`, or its contents when it
// is a small integer constant; nullopt otherwise.
std::optional<SymbolicTensor> SymbolicContents(const SymbolicValues& values, const Value* v);

// True when `s` is certainly the size `d`: the same constant or the same named
// symbol (unknown never matches).
bool Matches(const SymDim& s, const Dim& d);
// The same for two shape dims.
bool SameDim(const Dim& a, const Dim& b);

}  // namespace frt
