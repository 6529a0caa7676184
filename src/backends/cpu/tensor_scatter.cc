// Reference kernels of the indexed writes: ScatterElements and ScatterND,
// with reductions none/add/mul/max/min applied in index order (duplicates
// accumulate, as in the ONNX reference). `none` is a byte copy for any dtype;
// the reductions compute floats in double and round on store, integers
// exactly in their own type with wrap-around, and bools as or (add, max) /
// and (mul, min).
#include <algorithm>
#include <cmath>

#include "backends/cpu/broadcast.h"
#include "backends/cpu/tensor_kernel_util.h"

namespace frt::tensor_cpu {
namespace {

enum class Reduction { kNone, kAdd, kMul, kMax, kMin };

Reduction ParseReduction(const KernelContext& ctx) {
  std::string r = ctx.attrs().GetString("reduction", "none");
  if (r == "add") return Reduction::kAdd;
  if (r == "mul") return Reduction::kMul;
  if (r == "max") return Reduction::kMax;
  if (r == "min") return Reduction::kMin;
  return Reduction::kNone;
}

template <class T>
T Combine(Reduction red, T a, T b) {
  if constexpr (std::is_same_v<T, bool>) {
    return (red == Reduction::kAdd || red == Reduction::kMax) ? (a || b) : (a && b);
  } else if constexpr (std::is_integral_v<T>) {
    // Unsigned arithmetic wraps without undefined behaviour.
    using U = std::make_unsigned_t<T>;
    switch (red) {
      case Reduction::kAdd:
        return static_cast<T>(static_cast<U>(a) + static_cast<U>(b));
      case Reduction::kMul:
        return static_cast<T>(static_cast<uint64_t>(static_cast<U>(a)) *
                              static_cast<uint64_t>(static_cast<U>(b)));
      case Reduction::kMax:
        return std::max(a, b);
      case Reduction::kMin:
        return std::min(a, b);
      case Reduction::kNone:
        break;
    }
    return b;
  } else {
    double x = ToDouble(a), y = ToDouble(b);
    if ((red == Reduction::kMax || red == Reduction::kMin) && (std::isnan(x) || std::isnan(y))) {
      return FromDouble<T>(std::nan(""));  // NaN propagates, as numpy's maximum/minimum
    }
    switch (red) {
      case Reduction::kAdd:
        return FromDouble<T>(x + y);
      case Reduction::kMul:
        return FromDouble<T>(x * y);
      case Reduction::kMax:
        return FromDouble<T>(std::max(x, y));
      case Reduction::kMin:
        return FromDouble<T>(std::min(x, y));
      case Reduction::kNone:
        break;
    }
    return b;
  }
}

// Writes `count` elements of `src` onto `dst` with the reduction.
void Apply(Reduction red, DType dtype, std::byte* dst, const std::byte* src, int64_t count) {
  size_t es = DTypeSize(dtype);
  if (red == Reduction::kNone) {
    std::memcpy(dst, src, count * es);
    return;
  }
  VisitDType(dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    for (int64_t i = 0; i < count; ++i) {
      T a, b;
      std::memcpy(&a, dst + i * es, es);
      std::memcpy(&b, src + i * es, es);
      T r = Combine<T>(red, a, b);
      std::memcpy(dst + i * es, &r, es);
    }
  });
}

Status ScatterElementsKernel(KernelContext& ctx) {
  const Tensor& data = ctx.input(0);
  const Tensor& indices = ctx.input(1);
  const Tensor& updates = ctx.input(2);
  FRT_ASSIGN_OR_RETURN(Tensor * out, StaticOutput(ctx, 0));
  int64_t rank = static_cast<int64_t>(data.rank());
  FRT_ASSIGN_OR_RETURN(int64_t axis, NormalizeAxis(ctx.attrs().GetInt("axis", 0), rank));
  if (updates.dims() != indices.dims()) {
    return ctx.Error(StatusCode::kInvalidArgument, "updates ", updates.Describe(), " and indices ",
                     indices.Describe(), " must have the same shape");
  }
  Reduction red = ParseReduction(ctx);
  std::memcpy(out->raw(), data.raw(), data.nbytes());
  size_t es = DTypeSize(data.dtype());
  return ForEachElementsIndex(ctx, data, indices, axis, [&](int64_t pos, int64_t offset) {
    Apply(red, data.dtype(), Bytes(*out) + offset * es, Bytes(updates) + pos * es, 1);
  });
}

Status ScatterNDKernel(KernelContext& ctx) {
  const Tensor& data = ctx.input(0);
  const Tensor& indices = ctx.input(1);
  const Tensor& updates = ctx.input(2);
  FRT_ASSIGN_OR_RETURN(Tensor * out, StaticOutput(ctx, 0));
  FRT_ASSIGN_OR_RETURN(std::vector<int64_t> idx, ReadInts(ctx, 1, "indices"));
  size_t q = indices.rank();
  int64_t k = indices.dims()[q - 1];
  Dims want(indices.dims().begin(), indices.dims().end() - 1);
  want.insert(want.end(), data.dims().begin() + k, data.dims().end());
  if (updates.dims() != want) {
    return ctx.Error(StatusCode::kInvalidArgument, "updates ", updates.Describe(),
                     " must have shape ", DimsToString(want), " for data ", data.Describe(),
                     " and indices ", indices.Describe());
  }
  Reduction red = ParseReduction(ctx);
  std::memcpy(out->raw(), data.raw(), data.nbytes());
  size_t es = DTypeSize(data.dtype());
  int64_t tuples = DimsProduct(indices.dims(), 0, q - 1);
  int64_t slice = DimsProduct(data.dims(), k, data.rank());
  Dims strides = RowMajorStrides(data.dims());
  for (int64_t t = 0; t < tuples; ++t) {
    int64_t offset = 0;
    for (int64_t j = 0; j < k; ++j) {
      int64_t pos = t * k + j;
      FRT_ASSIGN_OR_RETURN(int64_t v, NormalizeIndex(ctx, idx[pos], data.dims()[j], "index", pos));
      offset += v * strides[j];
    }
    Apply(red, data.dtype(), Bytes(*out) + offset * es, Bytes(updates) + t * slice * es, slice);
  }
  return Status::Ok();
}

}  // namespace

void RegisterTensorScatterKernels(CpuKernelRegistry& r) {
  r.Register(OpKind::kScatterElements, ScatterElementsKernel);
  r.Register(OpKind::kScatterND, ScatterNDKernel);
}

}  // namespace frt::tensor_cpu
