// Reference kernels of the ops that scan or sort along one axis: CumSum
// (running sums, optionally exclusive and/or reversed) and TopK (a stable
// sort per row, so equal values keep the lower index first, as the spec asks;
// NaN orders above every number, as numpy sorts it).
#include <algorithm>
#include <numeric>
#include <vector>

#include "backends/cpu/reduction_util.h"

namespace frt {
namespace {

using reduction::AxisSplit;

Status CumSumKernel(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  FRT_ASSIGN_OR_RETURN(std::vector<int64_t> axis_v, ctx.input(1).ToInt64Vector());
  if (axis_v.size() != 1) {
    return ctx.Error(StatusCode::kInvalidModel, "axis (input 1) has ", axis_v.size(),
                     " values but must hold one");
  }
  auto axis = NormalizeAxis(axis_v[0], static_cast<int64_t>(x.rank()));
  if (!axis.ok()) return ctx.Error(StatusCode::kOutOfRange, axis.status().message());
  AxisSplit s = reduction::SplitAt(x.dims(), static_cast<size_t>(*axis));
  bool exclusive = ctx.attrs().GetInt("exclusive", 0) != 0;
  bool reverse = ctx.attrs().GetInt("reverse", 0) != 0;
  FRT_ASSIGN_OR_RETURN(Tensor * out, reduction::OutputTensor(ctx, 0, x.dtype(), x.dims()));
  VisitDType(x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* px = x.data<T>();
    T* po = out->data<T>();
    for (int64_t o = 0; o < s.outer; ++o) {
      for (int64_t i = 0; i < s.inner; ++i) {
        // Integers wrap around in 64 bits (defined through uint64_t); floats sum in double.
        uint64_t isum = 0;
        double fsum = 0.0;
        for (int64_t step = 0; step < s.len; ++step) {
          int64_t k = reverse ? s.len - 1 - step : step;
          int64_t at = s.At(o, k, i);
          if constexpr (std::is_integral_v<T>) {
            uint64_t v = static_cast<uint64_t>(static_cast<int64_t>(px[at]));
            if (!exclusive) isum += v;
            po[at] = static_cast<T>(isum);
            if (exclusive) isum += v;
          } else {
            double v = ToDouble(px[at]);
            if (!exclusive) fsum += v;
            po[at] = FromDouble<T>(fsum);
            if (exclusive) fsum += v;
          }
        }
      }
    }
  });
  return Status::Ok();
}

Status TopKKernel(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  FRT_ASSIGN_OR_RETURN(std::vector<int64_t> k_v, ctx.input(1).ToInt64Vector());
  if (k_v.size() != 1) {
    return ctx.Error(StatusCode::kInvalidModel, "K (input 1) has ", k_v.size(),
                     " values but must hold one");
  }
  auto axis = NormalizeAxis(ctx.attrs().GetInt("axis", -1), static_cast<int64_t>(x.rank()));
  if (!axis.ok()) return ctx.Error(StatusCode::kOutOfRange, axis.status().message());
  AxisSplit s = reduction::SplitAt(x.dims(), static_cast<size_t>(*axis));
  int64_t k = k_v[0];
  if (k < 0 || k > s.len) {
    return ctx.Error(StatusCode::kOutOfRange, "K is ", k, " but axis ", *axis,
                     " of input shape ", DimsToString(x.dims()), " allows 0 to ", s.len);
  }
  bool largest = ctx.attrs().GetInt("largest", 1) != 0;
  // sorted=0 leaves the order unspecified, so sorted output serves both.
  Dims out_dims = x.dims();
  out_dims[static_cast<size_t>(*axis)] = k;
  FRT_ASSIGN_OR_RETURN(Tensor * values, reduction::OutputTensor(ctx, 0, x.dtype(), out_dims));
  FRT_ASSIGN_OR_RETURN(Tensor * indices, reduction::OutputTensor(ctx, 1, DType::kInt64, out_dims));
  AxisSplit os = s;
  os.len = k;
  VisitDType(x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* px = x.data<T>();
    T* pv = values->data<T>();
    int64_t* pi = indices->data<int64_t>();
    std::vector<int64_t> order(static_cast<size_t>(s.len));
    for (int64_t o = 0; o < s.outer; ++o) {
      for (int64_t i = 0; i < s.inner; ++i) {
        std::iota(order.begin(), order.end(), int64_t{0});
        std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
          int c = reduction::Compare(px[s.At(o, a, i)], px[s.At(o, b, i)]);
          return largest ? c > 0 : c < 0;
        });
        for (int64_t j = 0; j < k; ++j) {
          pv[os.At(o, j, i)] = px[s.At(o, order[j], i)];
          pi[os.At(o, j, i)] = order[j];
        }
      }
    }
  });
  return Status::Ok();
}

}  // namespace

void RegisterReductionScanKernels(CpuKernelRegistry& r) {
  r.Register(OpKind::kCumSum, CumSumKernel);
  r.Register(OpKind::kTopK, TopKKernel);
}

}  // namespace frt
