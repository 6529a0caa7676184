// Host-side helpers of the CUDA tensor family: strided-copy planning
// (dropping size-1 dims, merging contiguous neighbours, choosing the access
// width) and reading parameter tensors from the runtime's host copies.
#include "backends/cuda/tensor_util.h"

#include <algorithm>
#include <cstdlib>

namespace frt::cuda_tensor {

Dims DenseStrides(const Dims& dims) {
  Dims s(dims.size(), 1);
  for (size_t d = dims.size(); d-- > 1;) s[d - 1] = s[d] * dims[d];
  return s;
}

int64_t Product(const Dims& dims, size_t begin, size_t end) {
  int64_t n = 1;
  for (size_t i = begin; i < end && i < dims.size(); ++i) n *= dims[i];
  return n;
}

StridedCopy SimplifyCopy(const StridedCopy& c) {
  for (int64_t d : c.dims) {
    if (d == 0) return c;
  }
  StridedCopy s;
  s.in_base = c.in_base;
  s.out_base = c.out_base;
  s.elem_size = c.elem_size;
  for (size_t d = 0; d < c.dims.size(); ++d) {
    if (c.dims[d] == 1) continue;  // index is always 0: contributes nothing
    if (!s.dims.empty()) {
      // Merge into the previous (outer) dim when both sides step over it as
      // one contiguous run: outer stride == inner stride * inner size.
      int64_t& outer = s.dims.back();
      if (s.in_strides.back() == c.in_strides[d] * c.dims[d] &&
          s.out_strides.back() == c.out_strides[d] * c.dims[d]) {
        outer *= c.dims[d];
        s.in_strides.back() = c.in_strides[d];
        s.out_strides.back() = c.out_strides[d];
        continue;
      }
    }
    s.dims.push_back(c.dims[d]);
    s.in_strides.push_back(c.in_strides[d]);
    s.out_strides.push_back(c.out_strides[d]);
  }
  return s;
}

int64_t ChooseUnitBytes(const StridedCopy& c, uintptr_t in_addr, uintptr_t out_addr) {
  const int64_t es = c.elem_size;
  if (c.dims.empty()) return es;
  const size_t last = c.dims.size() - 1;
  if (c.in_strides[last] != 1 || c.out_strides[last] != 1) return es;
  for (int64_t unit = 16; unit > es; unit /= 2) {
    if (unit % es != 0) continue;
    auto ok = [unit, es](int64_t elems) { return (elems * es) % unit == 0; };
    bool fits = ok(c.dims[last]) && ok(c.in_base) && ok(c.out_base) &&
                in_addr % static_cast<uintptr_t>(unit) == 0 &&
                out_addr % static_cast<uintptr_t>(unit) == 0;
    for (size_t d = 0; d < last && fits; ++d) {
      fits = ok(c.in_strides[d]) && ok(c.out_strides[d]);
    }
    if (fits) return unit;
  }
  return es;
}

StridedCopy ToUnits(const StridedCopy& c, int64_t unit_bytes) {
  if (unit_bytes == c.elem_size || c.dims.empty()) return c;
  const int64_t f = unit_bytes / c.elem_size;
  StridedCopy u = c;
  u.elem_size = unit_bytes;
  const size_t last = c.dims.size() - 1;
  u.dims[last] /= f;
  for (size_t d = 0; d < last; ++d) {
    u.in_strides[d] /= f;
    u.out_strides[d] /= f;
  }
  u.in_base /= f;
  u.out_base /= f;
  return u;
}

bool FitsInt32(const StridedCopy& c) {
  constexpr int64_t kLimit = int64_t{1} << 30;
  int64_t total = Product(c.dims, 0, c.dims.size());
  if (total >= kLimit) return false;
  int64_t in_span = std::llabs(c.in_base), out_span = std::llabs(c.out_base);
  for (size_t d = 0; d < c.dims.size(); ++d) {
    // dims and strides come from real tensors (< 2^62 bytes), so these do not
    // overflow.
    in_span += std::llabs(c.in_strides[d]) * (c.dims[d] - 1);
    out_span += std::llabs(c.out_strides[d]) * (c.dims[d] - 1);
    if (in_span >= kLimit || out_span >= kLimit) return false;
  }
  return true;
}

StridedCopy PermuteCopy(const Dims& view, const std::vector<int64_t>& perm, int64_t elem_size) {
  StridedCopy c;
  c.elem_size = elem_size;
  Dims in_strides = DenseStrides(view);
  for (int64_t p : perm) {
    c.dims.push_back(view[static_cast<size_t>(p)]);
    c.in_strides.push_back(in_strides[static_cast<size_t>(p)]);
  }
  c.out_strides = DenseStrides(c.dims);
  return c;
}

std::string CheckMovableDType(DType t, std::string_view what) {
  size_t es = DTypeSize(t);
  if (es != 1 && es != 2 && es != 4 && es != 8) {
    return StrCat(what, " has dtype ", DTypeName(t), " of ", es,
                  " bytes; only 1, 2, 4 and 8 byte elements are supported");
  }
  return "";
}

std::string CheckRankAtMost(const Value* v, size_t max_rank, std::string_view what) {
  if (v == nullptr || !v->shape || v->shape->rank() <= max_rank) return "";
  return StrCat(what, " has rank ", v->shape->rank(), "; at most ", max_rank, " is supported");
}

namespace {

Result<const Tensor*> HostTensor(const CudaKernelContext& ctx, size_t i, std::string_view name) {
  if (!ctx.has_input(i)) return static_cast<const Tensor*>(nullptr);
  const Tensor* t = ctx.input(i).host;
  if (t == nullptr) {
    const Value* v = i < ctx.node().inputs.size() ? ctx.node().inputs[i] : nullptr;
    return ctx.Error(StatusCode::kUnsupported, "input ", i, " (", name, ", tensor \"",
                     v ? v->name : std::string("?"),
                     "\") is computed on the device; the cuda backend needs it "
                     "as a constant or "
                     "a value computed on the host from input shapes");
  }
  return t;
}

}  // namespace

Result<std::vector<int64_t>> HostInts(const CudaKernelContext& ctx, size_t i,
                                      std::string_view name) {
  FRT_ASSIGN_OR_RETURN(const Tensor* t, HostTensor(ctx, i, name));
  if (t == nullptr) return std::vector<int64_t>();
  auto v = t->ToInt64Vector();
  if (!v.ok()) {
    return ctx.Error(StatusCode::kInvalidModel, "input ", i, " (", name,
                     ") must be an integer tensor, got ", t->Describe());
  }
  return std::move(*v);
}

Result<std::vector<double>> HostDoubles(const CudaKernelContext& ctx, size_t i,
                                        std::string_view name) {
  FRT_ASSIGN_OR_RETURN(const Tensor* t, HostTensor(ctx, i, name));
  std::vector<double> out;
  if (t == nullptr) return out;
  out.reserve(static_cast<size_t>(t->num_elements()));
  for (int64_t k = 0; k < t->num_elements(); ++k) out.push_back(t->GetAsDouble(k));
  return out;
}

Result<int64_t> NormalizeAxisFor(const CudaKernelContext& ctx, int64_t axis, int64_t rank) {
  if (axis < -rank || axis >= rank) {
    return ctx.Error(StatusCode::kInvalidModel, "axis ", axis, " is out of range for rank ", rank,
                     " (expected [", -rank, ", ", rank - 1, "])");
  }
  return axis < 0 ? axis + rank : axis;
}

unsigned GridFor(int sm_count, int64_t work, int block) {
  // 32 blocks per SM of grid-stride loops keep every SM busy without
  // launching millions of blocks for huge tensors.
  int64_t cap = static_cast<int64_t>(std::max(sm_count, 1)) * 32;
  int64_t need = (work + block - 1) / block;
  return static_cast<unsigned>(std::clamp<int64_t>(need, 1, cap));
}

unsigned GridFor(CudaKernelContext& ctx, int64_t work, int block) {
  return GridFor(ctx.resources().sm_count, work, block);
}

}  // namespace frt::cuda_tensor
