// Reference kernels of the ops that build a tensor from values: Expand
// (broadcast copy), ConstantOfShape (fill), Range (arithmetic sequence) and
// EyeLike (ones on a diagonal). Output shapes come from inference, which saw
// every input value.
#include "backends/cpu/broadcast.h"
#include "backends/cpu/tensor_kernel_util.h"

namespace frt::tensor_cpu {
namespace {

Status ExpandKernel(KernelContext& ctx) {
  const Tensor& in = ctx.input(0);
  FRT_ASSIGN_OR_RETURN(Tensor * out, StaticOutput(ctx, 0));
  StridedCopy(Bytes(in), 0, BroadcastStrides(in.dims(), out->dims()), out->dims(), Bytes(*out),
              DTypeSize(in.dtype()));
  return Status::Ok();
}

Status ConstantOfShapeKernel(KernelContext& ctx) {
  FRT_ASSIGN_OR_RETURN(Tensor * out, StaticOutput(ctx, 0));
  const Tensor* value = ctx.attrs().GetTensor("value");
  if (value == nullptr) return Status::Ok();  // default: float 0, and outputs start zeroed
  size_t es = DTypeSize(out->dtype());
  for (int64_t i = 0; i < out->num_elements(); ++i) {
    std::memcpy(Bytes(*out) + i * es, value->raw(), es);
  }
  return Status::Ok();
}

Status RangeKernel(KernelContext& ctx) {
  FRT_ASSIGN_OR_RETURN(Tensor * out, StaticOutput(ctx, 0));
  const Tensor& start = ctx.input(0);
  const Tensor& delta = ctx.input(2);
  VisitDType(out->dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    T* po = out->data<T>();
    if constexpr (std::is_integral_v<T>) {
      // Exact integer steps; unsigned arithmetic because i * delta alone may leave the
      // signed range even though start + i * delta stays within [start, limit).
      auto s = static_cast<uint64_t>(start.data<T>()[0]);
      auto d = static_cast<uint64_t>(delta.data<T>()[0]);
      for (int64_t i = 0; i < out->num_elements(); ++i) {
        po[i] = static_cast<T>(s + static_cast<uint64_t>(i) * d);
      }
    } else {
      double s = start.GetAsDouble(0), d = delta.GetAsDouble(0);
      for (int64_t i = 0; i < out->num_elements(); ++i) {
        po[i] = FromDouble<T>(s + static_cast<double>(i) * d);
      }
    }
  });
  return Status::Ok();
}

Status EyeLikeKernel(KernelContext& ctx) {
  FRT_ASSIGN_OR_RETURN(Tensor * out, StaticOutput(ctx, 0));
  int64_t rows = out->dims()[0], cols = out->dims()[1];
  int64_t k = ctx.attrs().GetInt("k", 0);
  std::memset(out->raw(), 0, out->nbytes());
  VisitDType(out->dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    T one = FromDouble<T>(1.0);
    if (k >= cols || k <= -rows) return;  // no diagonal inside; also keeps i + k from overflowing
    for (int64_t i = 0; i < rows; ++i) {
      int64_t j = i + k;
      if (j >= 0 && j < cols) out->data<T>()[i * cols + j] = one;
    }
  });
  return Status::Ok();
}

}  // namespace

void RegisterTensorCreateKernels(CpuKernelRegistry& r) {
  r.Register(OpKind::kExpand, ExpandKernel);
  r.Register(OpKind::kConstantOfShape, ConstantOfShapeKernel);
  r.Register(OpKind::kRange, RangeKernel);
  r.Register(OpKind::kEyeLike, EyeLikeKernel);
}

}  // namespace frt::tensor_cpu
