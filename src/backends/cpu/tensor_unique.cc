// Reference kernel of Unique: the distinct elements (or, with `axis`, the
// distinct slices along that axis), in ascending order when sorted=1 or in
// order of first occurrence, with first-occurrence indices, inverse indices
// and counts. Values compare numerically in their own type; NaNs compare
// equal to each other and above every number (numpy's equal_nan rule).
#include <cmath>
#include <map>

#include "backends/cpu/tensor_kernel_util.h"

namespace frt::tensor_cpu {
namespace {

// -1, 0, 1 for a < b, a == b, a > b.
template <class T>
int CompareValues(T a, T b) {
  if constexpr (std::is_integral_v<T>) {
    return a < b ? -1 : (b < a ? 1 : 0);
  } else {
    double x = ToDouble(a), y = ToDouble(b);
    bool nx = std::isnan(x), ny = std::isnan(y);
    if (nx || ny) return nx == ny ? 0 : (nx ? 1 : -1);
    return x < y ? -1 : (y < x ? 1 : 0);
  }
}

template <class T>
Status UniqueTyped(KernelContext& ctx) {
  const Tensor& in = ctx.input(0);
  bool has_axis = ctx.attrs().Has("axis");
  Dims dims = has_axis ? in.dims() : Dims{in.num_elements()};
  int64_t rank = static_cast<int64_t>(dims.size());
  int64_t axis = 0;
  if (has_axis) {
    FRT_ASSIGN_OR_RETURN(axis, NormalizeAxis(ctx.attrs().GetInt("axis", 0), rank));
  }
  // Item j is the slice at position j along the axis: elements (o, j, i).
  int64_t n = dims[axis];
  int64_t outer = DimsProduct(dims, 0, axis);
  int64_t inner = DimsProduct(dims, axis + 1, rank);
  const T* x = in.data<T>();
  auto less = [&](int64_t a, int64_t b) {
    for (int64_t o = 0; o < outer; ++o) {
      for (int64_t i = 0; i < inner; ++i) {
        int c = CompareValues(x[(o * n + a) * inner + i], x[(o * n + b) * inner + i]);
        if (c != 0) return c < 0;
      }
    }
    return false;
  };
  std::map<int64_t, int64_t, decltype(less)> ids(less);  // representative item -> id
  std::vector<int64_t> first, counts, inverse(n);
  for (int64_t j = 0; j < n; ++j) {
    auto [it, inserted] = ids.emplace(j, static_cast<int64_t>(first.size()));
    if (inserted) {
      first.push_back(j);
      counts.push_back(0);
    }
    inverse[j] = it->second;
    ++counts[it->second];
  }
  int64_t m = static_cast<int64_t>(first.size());
  std::vector<int64_t> order(m);  // output position -> id
  std::vector<int64_t> position(m);
  if (ctx.attrs().GetInt("sorted", 1) != 0) {
    int64_t p = 0;
    for (const auto& [rep, id] : ids) order[p++] = id;
  } else {
    for (int64_t p = 0; p < m; ++p) order[p] = p;
  }
  for (int64_t p = 0; p < m; ++p) position[order[p]] = p;

  Dims ydims = dims;
  ydims[axis] = m;
  FRT_ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(0, in.dtype(), ydims));
  T* py = y->data<T>();
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t p = 0; p < m; ++p) {
      for (int64_t i = 0; i < inner; ++i) {
        py[(o * m + p) * inner + i] = x[(o * n + first[order[p]]) * inner + i];
      }
    }
  }
  auto write = [&](size_t out, int64_t len, auto value) -> Status {
    if (!ctx.has_output(out)) return Status::Ok();
    FRT_ASSIGN_OR_RETURN(Tensor * t, ctx.AllocateOutput(out, DType::kInt64, {len}));
    for (int64_t k = 0; k < len; ++k) t->data<int64_t>()[k] = value(k);
    return Status::Ok();
  };
  FRT_RETURN_IF_ERROR(write(1, m, [&](int64_t p) { return first[order[p]]; }));
  FRT_RETURN_IF_ERROR(write(2, n, [&](int64_t j) { return position[inverse[j]]; }));
  FRT_RETURN_IF_ERROR(write(3, m, [&](int64_t p) { return counts[order[p]]; }));
  return Status::Ok();
}

Status UniqueKernel(KernelContext& ctx) {
  return VisitDType(ctx.input(0).dtype(),
                    [&](auto tag) { return UniqueTyped<typename decltype(tag)::type>(ctx); });
}

}  // namespace

void RegisterTensorUniqueKernels(CpuKernelRegistry& r) {
  r.Register(OpKind::kUnique, UniqueKernel);
}

}  // namespace frt::tensor_cpu
