// Host-side planning of the norm / softmax row kernels (see norm_plan.h).
#include "backends/cuda/norm_plan.h"

#include <cstdint>

#include "fusionrt/status.h"

namespace frt::cuda_norm {

RowConfig ChooseRowConfig(int64_t cols, int vec) {
  struct Candidate {
    int threads;
    int chunks;
  };
  // In increasing capacity for a fixed vec; the kernels instantiate these.
  static constexpr Candidate kCandidates[] = {{32, 1},  {32, 2},  {32, 4},   {32, 8},
                                              {256, 1}, {256, 2}, {256, 4},  {256, 8},
                                              {1024, 2}, {1024, 4}, {1024, 8}};
  for (const Candidate& c : kCandidates) {
    if (vec * c.chunks > kMaxItemsPerThread) continue;
    RowConfig r{c.threads, vec, c.chunks};
    if (r.capacity() >= cols) return r;
  }
  return RowConfig{};
}

int VectorWidth(int64_t cols, size_t elem_size, std::initializer_list<const void*> ptrs) {
  if (elem_size == 0 || 16 % elem_size != 0) return 1;
  int vec = static_cast<int>(16 / elem_size);
  if (cols % vec != 0) return 1;
  for (const void* p : ptrs) {
    if (p != nullptr && reinterpret_cast<uintptr_t>(p) % 16 != 0) return 1;
  }
  return vec;
}

ParamLayout ClassifyParam(const Dims& param, const Dims& x, size_t axis) {
  if (param.size() > x.size() || axis > x.size()) return ParamLayout::kUnsupported;
  size_t lead = x.size() - param.size();
  int64_t n = 1, cols = 1;
  for (size_t d = axis; d < x.size(); ++d) cols *= x[d];
  for (size_t j = 0; j < param.size(); ++j) {
    size_t d = lead + j;
    int64_t p = param[j];
    if (d < axis && p != 1) return ParamLayout::kUnsupported;
    if (p != 1 && p != x[d]) return ParamLayout::kUnsupported;
    n *= p;
  }
  return n == cols ? ParamLayout::kDense : ParamLayout::kExpand;
}

std::string CheckParamShape(const Shape& param, const Shape& x, size_t axis, const char* what) {
  if (param.rank() > x.rank()) {
    return StrCat(what, " has shape ", param.ToString(), " of higher rank than X ", x.ToString());
  }
  size_t lead = x.rank() - param.rank();
  for (size_t j = 0; j < param.rank(); ++j) {
    size_t d = lead + j;
    const Dim& p = param[j];
    if (d < axis && p.is_static() && p.value() != 1) {
      return StrCat(what, " has shape ", param.ToString(), " which varies over dim ", d,
                    " of X ", x.ToString(), ", before the normalized dims (axis ", axis, ")");
    }
    if (d < axis && !p.is_static()) {
      return StrCat(what, " has shape ", param.ToString(), " whose dim ", j,
                    " (over X's dim ", d, ", before axis ", axis, ") is not known to be 1");
    }
  }
  return "";
}

Dims ParamStridesOverNormDims(const Dims& param, const Dims& x, size_t axis) {
  size_t lead = x.size() - param.size();
  Dims strides(x.size() - axis, 0);
  int64_t s = 1;
  for (size_t j = param.size(); j-- > 0;) {
    size_t d = lead + j;
    if (d >= axis && param[j] != 1) strides[d - axis] = s;
    s *= param[j];
  }
  return strides;
}

}  // namespace frt::cuda_norm
