// Host-side planning of the CUDA GEMM family (see gemm_plan.h): batch
// broadcasting into strided-batched calls, the epilogue split between
// cuBLASLt and the post-pass, pointer alignment, and broadcast collapsing.
#include "backends/cuda/gemm_plan.h"

#include <algorithm>
#include <limits>

#include "backends/cpu/broadcast.h"

namespace frt {
namespace {

int64_t Product(const Dims& d, size_t from, size_t to) {
  int64_t p = 1;
  for (size_t i = from; i < to; ++i) p *= d[i];
  return p;
}

// An operand's batch dims `x` over the suffix [s, r) of the output batch
// `out`: one strided batch is possible when it is all broadcast (stride 0)
// or all present (consecutive matrices).
bool LinearSuffix(const Dims& x, const Dims& out, size_t s) {
  const auto from = static_cast<ptrdiff_t>(s);
  return Product(x, s, x.size()) == 1 || std::equal(x.begin() + from, x.end(), out.begin() + from);
}

// True when `bias` is a row of `out`'s last dim: [N] or [1, .., 1, N].
bool IsRow(const Dims& bias, const Dims& out) {
  if (bias.empty() || out.empty() || bias.size() > out.size()) return false;
  for (size_t i = 0; i + 1 < bias.size(); ++i) {
    if (bias[i] != 1) return false;
  }
  return bias.back() == out.back();
}

}  // namespace

Result<BatchedGemm> PlanBatchedGemm(const Dims& a_in, const Dims& b_in, bool trans_a,
                                    bool trans_b, std::string_view what) {
  if (a_in.empty() || b_in.empty() || (a_in.size() == 1 && trans_a) ||
      (b_in.size() == 1 && trans_b)) {
    return MakeError(StatusCode::kInvalidArgument, what, ": cannot multiply A ",
                     DimsToString(a_in), " by B ", DimsToString(b_in),
                     trans_a || trans_b ? " with transposed operands of rank 1" : "");
  }
  Dims a = a_in, b = b_in;
  if (a.size() == 1) a.insert(a.begin(), 1);
  if (b.size() == 1) b.push_back(1);
  const size_t ra = a.size(), rb = b.size();
  BatchedGemm g;
  g.trans_a = trans_a;
  g.trans_b = trans_b;
  g.m = trans_a ? a[ra - 1] : a[ra - 2];
  g.k = trans_a ? a[ra - 2] : a[ra - 1];
  g.n = trans_b ? b[rb - 2] : b[rb - 1];
  const int64_t kb = trans_b ? b[rb - 1] : b[rb - 2];
  if (kb != g.k) {
    return MakeError(StatusCode::kInvalidArgument, what, ": inner dimensions differ: A ",
                     DimsToString(a_in), trans_a ? " (transposed)" : "", " has K = ", g.k,
                     " but B ", DimsToString(b_in), trans_b ? " (transposed)" : "", " has K = ",
                     kb);
  }
  // Batch dims, padded to one rank with leading 1s, and their broadcast.
  const size_t r = std::max(ra, rb) - 2;
  Dims ap(r, 1), bp(r, 1), ob(r, 1);
  std::copy(a.begin(), a.end() - 2, ap.begin() + static_cast<ptrdiff_t>(r - (ra - 2)));
  std::copy(b.begin(), b.end() - 2, bp.begin() + static_cast<ptrdiff_t>(r - (rb - 2)));
  for (size_t d = 0; d < r; ++d) {
    if (ap[d] == bp[d] || bp[d] == 1) {
      ob[d] = ap[d];
    } else if (ap[d] == 1) {
      ob[d] = bp[d];
    } else {
      return MakeError(StatusCode::kInvalidArgument, what, ": batch dimensions of A ",
                       DimsToString(a_in), " and B ", DimsToString(b_in), " do not broadcast");
    }
  }
  const int64_t batches = Product(ob, 0, r);
  if (batches == 0 || g.m == 0 || g.n == 0) {
    g.empty = true;
    return g;
  }
  const int64_t mat_a = g.m * g.k, mat_b = g.k * g.n, mat_y = g.m * g.n;
  // B without batch: A's (and Y's) matrices are consecutive rows of one [batches*M, K] matrix.
  if (Product(bp, 0, r) == 1 && !trans_a) {
    g.m *= batches;
    g.a_offsets = {0};
    g.b_offsets = {0};
    g.y_offsets = {0};
    return g;
  }
  size_t s = 0;  // first batch dim of the strided-batched suffix
  while (s < r && !(LinearSuffix(ap, ob, s) && LinearSuffix(bp, ob, s))) ++s;
  g.batch = Product(ob, s, r);
  if (g.batch > std::numeric_limits<int32_t>::max()) {
    return MakeError(StatusCode::kUnsupported, what, ": ", g.batch,
                     " matrices in one strided batch exceed cuBLASLt's int32 batch count");
  }
  g.stride_a = Product(ap, s, r) == 1 ? 0 : mat_a;
  g.stride_b = Product(bp, s, r) == 1 ? 0 : mat_b;
  g.stride_y = mat_y;
  // Element strides of each operand over the outer batch dims (0 where broadcast).
  Dims sa(s), sb(s);
  for (size_t d = 0; d < s; ++d) {
    sa[d] = ap[d] == 1 ? 0 : Product(ap, d + 1, r) * mat_a;
    sb[d] = bp[d] == 1 ? 0 : Product(bp, d + 1, r) * mat_b;
  }
  const int64_t outer = Product(ob, 0, s);
  g.a_offsets.reserve(static_cast<size_t>(outer));
  g.b_offsets.reserve(static_cast<size_t>(outer));
  g.y_offsets.reserve(static_cast<size_t>(outer));
  Dims index(s, 0);
  for (int64_t c = 0; c < outer; ++c) {
    int64_t oa = 0, obb = 0;
    for (size_t d = 0; d < s; ++d) {
      oa += index[d] * sa[d];
      obb += index[d] * sb[d];
    }
    g.a_offsets.push_back(oa);
    g.b_offsets.push_back(obb);
    g.y_offsets.push_back(c * g.batch * mat_y);
    for (size_t d = s; d-- > 0;) {  // row-major increment of the outer index
      if (++index[d] < ob[d]) break;
      index[d] = 0;
    }
  }
  return g;
}

EpiloguePlan PlanEpilogue(const Dims& out, const EpilogueInput& bias,
                          const EpilogueInput& residual, const ActivationSpec& act, bool k_zero) {
  EpiloguePlan p;
  if (k_zero) {
    p.run_gemm = false;
    if (bias.input >= 0) p.post_addends.push_back({bias.input, bias.scale});
    if (residual.input >= 0) p.post_addends.push_back({residual.input, residual.scale});
    p.post_activation = act.kind != Activation::kNone;
    return p;
  }
  if (bias.input >= 0) {
    if (bias.scale == 1.0f && IsRow(bias.dims, out)) {
      p.bias_vector = true;
    } else if (bias.dims == out) {
      p.c_input = bias.input;
      p.beta = bias.scale;
    } else {
      p.post_addends.push_back({bias.input, bias.scale});
    }
  }
  if (residual.input >= 0) {
    if (residual.dims == out && p.c_input < 0) {
      p.c_input = residual.input;
      p.beta = residual.scale;
    } else {
      p.post_addends.push_back({residual.input, residual.scale});
    }
  }
  if (act.kind != Activation::kNone) {
    // cuBLASLt's GELU epilogue is the tanh approximation: only kGeluTanh maps to it.
    const bool lt_act = act.kind == Activation::kRelu || act.kind == Activation::kGeluTanh;
    if (lt_act && p.post_addends.empty()) {
      p.gemm_activation = act.kind;
    } else {
      p.post_activation = true;
    }
  }
  return p;
}

uint32_t CommonAlignment(const std::vector<uint64_t>& values) {
  uint64_t align = 256;
  for (uint64_t v : values) {
    if (v != 0) align = std::min(align, v & (~v + 1));  // lowest set bit
  }
  return static_cast<uint32_t>(align);
}

uint32_t CommonAlignment(std::initializer_list<uint64_t> values) {
  return CommonAlignment(std::vector<uint64_t>(values));
}

CollapsedBroadcast CollapseBroadcast(const Dims& out, const std::vector<Dims>& addends) {
  std::vector<Dims> full;
  for (const Dims& a : addends) full.push_back(BroadcastStrides(a, out));
  CollapsedBroadcast c;
  c.strides.resize(addends.size());
  for (size_t d = 0; d < out.size(); ++d) {
    if (out[d] == 1) continue;
    bool merge = !c.dims.empty();
    for (size_t i = 0; merge && i < addends.size(); ++i) {
      merge = c.strides[i].back() == full[i][d] * out[d];
    }
    if (merge) {
      c.dims.back() *= out[d];
      for (size_t i = 0; i < addends.size(); ++i) c.strides[i].back() = full[i][d];
    } else {
      c.dims.push_back(out[d]);
      for (size_t i = 0; i < addends.size(); ++i) c.strides[i].push_back(full[i][d]);
    }
  }
  if (c.dims.empty()) {
    c.dims = {1};
    for (Dims& s : c.strides) s = {0};
  }
  return c;
}

}  // namespace frt
