// Reference kernels of Softmax, LogSoftmax and Hardmax along one axis
// (opset 13 semantics). Softmax and LogSoftmax subtract the row maximum
// before exponentiating so large inputs do not overflow.
#include <vector>

#include "backends/cpu/reduction_util.h"

namespace frt {
namespace {

using reduction::AxisSplit;

Result<AxisSplit> SplitAtAxisAttr(const KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  auto axis = NormalizeAxis(ctx.attrs().GetInt("axis", -1), static_cast<int64_t>(x.rank()));
  if (!axis.ok()) return ctx.Error(StatusCode::kOutOfRange, axis.status().message());
  return reduction::SplitAt(x.dims(), static_cast<size_t>(*axis));
}

template <bool kLog>
Status SoftmaxKernel(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  FRT_ASSIGN_OR_RETURN(AxisSplit s, SplitAtAxisAttr(ctx));
  FRT_ASSIGN_OR_RETURN(Tensor * out, reduction::OutputTensor(ctx, 0, x.dtype(), x.dims()));
  VisitDType(x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* px = x.data<T>();
    T* po = out->data<T>();
    for (int64_t o = 0; o < s.outer; ++o) {
      for (int64_t i = 0; i < s.inner; ++i) {
        double max = -INFINITY;
        for (int64_t k = 0; k < s.len; ++k) max = std::max(max, ToDouble(px[s.At(o, k, i)]));
        double sum = 0.0;
        for (int64_t k = 0; k < s.len; ++k) sum += std::exp(ToDouble(px[s.At(o, k, i)]) - max);
        for (int64_t k = 0; k < s.len; ++k) {
          double shifted = ToDouble(px[s.At(o, k, i)]) - max;
          double y = kLog ? shifted - std::log(sum) : std::exp(shifted) / sum;
          po[s.At(o, k, i)] = reduction::StoreDouble<T>(y);
        }
      }
    }
  });
  return Status::Ok();
}

// 1 at the first maximum of each row (numpy argmax order: a NaN counts as
// the maximum), 0 elsewhere.
Status HardmaxKernel(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  FRT_ASSIGN_OR_RETURN(AxisSplit s, SplitAtAxisAttr(ctx));
  FRT_ASSIGN_OR_RETURN(Tensor * out, reduction::OutputTensor(ctx, 0, x.dtype(), x.dims()));
  VisitDType(x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* px = x.data<T>();
    T* po = out->data<T>();
    for (int64_t o = 0; o < s.outer; ++o) {
      for (int64_t i = 0; i < s.inner; ++i) {
        int64_t best = 0;
        for (int64_t k = 1; k < s.len; ++k) {
          if (reduction::Compare(px[s.At(o, k, i)], px[s.At(o, best, i)]) > 0) best = k;
        }
        for (int64_t k = 0; k < s.len; ++k) {
          po[s.At(o, k, i)] = reduction::StoreDouble<T>(k == best ? 1.0 : 0.0);
        }
      }
    }
  });
  return Status::Ok();
}

}  // namespace

void RegisterReductionSoftmaxKernels(CpuKernelRegistry& r) {
  r.Register(OpKind::kSoftmax, SoftmaxKernel<false>);
  r.Register(OpKind::kLogSoftmax, SoftmaxKernel<true>);
  r.Register(OpKind::kHardmax, HardmaxKernel);
}

}  // namespace frt
