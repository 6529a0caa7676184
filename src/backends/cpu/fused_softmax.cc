// Reference kernel of FusedSoftmax: s = scale * x + mask (mask broadcast to
// x's shape) in double, then softmax along the axis with the row maximum
// subtracted, rounded once to x's dtype. Like Softmax, a row whose scores are
// all -inf gives NaN.
#include <cmath>
#include <vector>

#include "backends/cpu/broadcast.h"
#include "backends/cpu/kernel_families.h"
#include "backends/cpu/reduction_util.h"

namespace frt {
namespace {

Status FusedSoftmaxKernel(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  auto axis = NormalizeAxis(ctx.attrs().GetInt("axis", -1), static_cast<int64_t>(x.rank()));
  if (!axis.ok()) return ctx.Error(StatusCode::kOutOfRange, axis.status().message());
  double scale = ctx.attrs().GetFloat("scale", 1.0f);
  std::vector<double> s(static_cast<size_t>(x.num_elements()));
  VisitDType(x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    for (size_t i = 0; i < s.size(); ++i) s[i] = scale * ToDouble(x.data<T>()[i]);
  });
  if (ctx.has_input(1)) {
    const Tensor& mask = ctx.input(1);
    auto shape = BroadcastDims(x.dims(), mask.dims());
    if (!shape.ok() || *shape != x.dims()) {
      return ctx.Error(StatusCode::kInvalidArgument, "mask ", DimsToString(mask.dims()),
                       " does not broadcast to X ", DimsToString(x.dims()));
    }
    BroadcastIterator<1> it(x.dims(), {BroadcastStrides(mask.dims(), x.dims())});
    VisitDType(mask.dtype(), [&](auto tag) {
      using T = typename decltype(tag)::type;
      for (size_t i = 0; i < s.size(); ++i, it.Next()) s[i] += ToDouble(mask.data<T>()[it.offset(0)]);
    });
  }
  reduction::AxisSplit split = reduction::SplitAt(x.dims(), static_cast<size_t>(*axis));
  FRT_ASSIGN_OR_RETURN(Tensor * out, reduction::OutputTensor(ctx, 0, x.dtype(), x.dims()));
  VisitDType(x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    T* po = out->data<T>();
    for (int64_t o = 0; o < split.outer; ++o) {
      for (int64_t i = 0; i < split.inner; ++i) {
        double max = -INFINITY;
        for (int64_t k = 0; k < split.len; ++k) max = std::max(max, s[split.At(o, k, i)]);
        double sum = 0.0;
        for (int64_t k = 0; k < split.len; ++k) sum += std::exp(s[split.At(o, k, i)] - max);
        for (int64_t k = 0; k < split.len; ++k) {
          po[split.At(o, k, i)] =
              reduction::StoreDouble<T>(std::exp(s[split.At(o, k, i)] - max) / sum);
        }
      }
    }
  });
  return Status::Ok();
}

}  // namespace

void RegisterFusedSoftmaxKernels(CpuKernelRegistry& r) {
  r.Register(OpKind::kFusedSoftmax, FusedSoftmaxKernel);
}

}  // namespace frt
