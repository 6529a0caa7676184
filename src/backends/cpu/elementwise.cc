// Reference kernels for pointwise ops. Floating types compute in double and
// round once on store; integer types compute in their own type (wrap-around
// as in numpy).
#include <cmath>

#include "backends/cpu/broadcast.h"
#include "backends/cpu/kernel.h"
#include "backends/cpu/kernel_families.h"

namespace frt {
namespace {

template <class Op>
Status BinaryKernel(KernelContext& ctx) {
  const Tensor& a = ctx.input(0);
  const Tensor& b = ctx.input(1);
  Tensor& out = ctx.output(0);
  BroadcastIterator<2> it(out.dims(), {BroadcastStrides(a.dims(), out.dims()),
                                       BroadcastStrides(b.dims(), out.dims())});
  VisitDType(a.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* pa = a.data<T>();
    const T* pb = b.data<T>();
    T* po = out.data<T>();
    for (int64_t i = 0; i < out.num_elements(); ++i, it.Next()) {
      if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
        po[i] = static_cast<T>(Op{}(pa[it.offset(0)], pb[it.offset(1)]));
      } else {
        po[i] = FromDouble<T>(Op{}(ToDouble(pa[it.offset(0)]), ToDouble(pb[it.offset(1)])));
      }
    }
  });
  return Status::Ok();
}

struct AddOp { template <class T> T operator()(T x, T y) const { return x + y; } };
struct SubOp { template <class T> T operator()(T x, T y) const { return x - y; } };
struct MulOp { template <class T> T operator()(T x, T y) const { return x * y; } };
struct DivOp {
  template <class T> T operator()(T x, T y) const {
    if constexpr (std::is_integral_v<T>) {
      return y == 0 ? T(0) : static_cast<T>(x / y);  // integer division by zero: defined as 0
    } else {
      return x / y;
    }
  }
};

template <class Op>
Status UnaryKernel(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  Tensor& out = ctx.output(0);
  VisitDType(x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* px = x.data<T>();
    T* po = out.data<T>();
    for (int64_t i = 0; i < out.num_elements(); ++i) {
      if constexpr (std::is_integral_v<T>) {
        po[i] = static_cast<T>(Op{}(static_cast<double>(px[i])));
      } else {
        po[i] = FromDouble<T>(Op{}(ToDouble(px[i])));
      }
    }
  });
  return Status::Ok();
}

struct ReluOp { double operator()(double x) const { return x > 0 ? x : 0.0; } };
struct NegOp { double operator()(double x) const { return -x; } };
struct AbsOp { double operator()(double x) const { return std::fabs(x); } };

}  // namespace

void RegisterElementwiseKernels(CpuKernelRegistry& r) {
  r.Register(OpKind::kAdd, BinaryKernel<AddOp>);
  r.Register(OpKind::kSub, BinaryKernel<SubOp>);
  r.Register(OpKind::kMul, BinaryKernel<MulOp>);
  r.Register(OpKind::kDiv, BinaryKernel<DivOp>);
  r.Register(OpKind::kRelu, UnaryKernel<ReluOp>);
  r.Register(OpKind::kNeg, UnaryKernel<NegOp>);
  r.Register(OpKind::kAbs, UnaryKernel<AbsOp>);
}

}  // namespace frt
