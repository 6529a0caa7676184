// Reference kernels of the elementwise family's ops over several broadcast
// operands: variadic Min/Max/Sum/Mean, Where and Clip. Sum and Mean
// accumulate floats in double and round once; Min/Max/Where/Clip select
// values, so they copy them without any conversion.
#include <algorithm>

#include "backends/cpu/elementwise_kernels.h"

namespace frt::elementwise {
namespace {

// Folds inputs 0..n-1 elementwise with Op::Combine, in Acc = T for integers
// and double for floats, then stores Op::Finish(acc, n).
template <class Op>
Status VariadicKernel(KernelContext& ctx) {
  Dims dims = ctx.input(0).dims();
  for (size_t k = 1; k < ctx.num_inputs(); ++k) {
    FRT_ASSIGN_OR_RETURN(dims, BroadcastDims(dims, ctx.input(k).dims()));
  }
  DType dtype = ctx.input(0).dtype();
  FRT_ASSIGN_OR_RETURN(Tensor * out, OutputTensor(ctx, 0, dtype, dims));
  VisitDType(dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    using Acc = std::conditional_t<kIsInt<T>, T, double>;
    std::vector<Acc> acc(static_cast<size_t>(out->num_elements()));
    for (size_t k = 0; k < ctx.num_inputs(); ++k) {
      const Tensor& in = ctx.input(k);
      const T* pin = in.data<T>();
      ForEachBroadcast<1>(dims, {&in}, [&](int64_t i, const std::array<int64_t, 1>& off) {
        Acc v;
        if constexpr (kIsInt<T>) {
          v = pin[off[0]];
        } else {
          v = ToDouble(pin[off[0]]);
        }
        acc[i] = k == 0 ? v : Op::Combine(acc[i], v);
      });
    }
    T* po = out->data<T>();
    for (size_t i = 0; i < acc.size(); ++i) {
      if constexpr (kIsInt<T>) {
        po[i] = acc[i];
      } else {
        po[i] = ConvertValue<T>(Op::Finish(acc[i], ctx.num_inputs()));
      }
    }
  });
  return Status::Ok();
}

// Min and Max propagate NaN, as numpy.minimum/maximum do.
struct MinOp {
  template <class A>
  static A Combine(A x, A y) {
    if constexpr (std::is_floating_point_v<A>) {
      if (std::isnan(x) || std::isnan(y)) return x + y;
    }
    return std::min(x, y);
  }
  static double Finish(double acc, size_t) { return acc; }
};
struct MaxOp {
  template <class A>
  static A Combine(A x, A y) {
    if constexpr (std::is_floating_point_v<A>) {
      if (std::isnan(x) || std::isnan(y)) return x + y;
    }
    return std::max(x, y);
  }
  static double Finish(double acc, size_t) { return acc; }
};
struct SumOp {
  template <class A>
  static A Combine(A x, A y) {
    if constexpr (kIsInt<A>) return WrapAdd(x, y);
    return x + y;
  }
  static double Finish(double acc, size_t) { return acc; }
};
struct MeanOp {
  template <class A>
  static A Combine(A x, A y) {
    return SumOp::Combine(x, y);
  }
  static double Finish(double acc, size_t n) { return acc / static_cast<double>(n); }
};

Status WhereKernel(KernelContext& ctx) {
  const Tensor& cond = ctx.input(0);
  const Tensor& x = ctx.input(1);
  const Tensor& y = ctx.input(2);
  FRT_ASSIGN_OR_RETURN(Dims dims, BroadcastDims(cond.dims(), x.dims()));
  FRT_ASSIGN_OR_RETURN(dims, BroadcastDims(dims, y.dims()));
  FRT_ASSIGN_OR_RETURN(Tensor * out, OutputTensor(ctx, 0, x.dtype(), dims));
  const bool* pc = cond.data<bool>();
  VisitDType(x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* px = x.data<T>();
    const T* py = y.data<T>();
    T* po = out->data<T>();
    ForEachBroadcast<3>(dims, {&cond, &x, &y}, [&](int64_t i, const std::array<int64_t, 3>& off) {
      po[i] = pc[off[0]] ? px[off[1]] : py[off[2]];
    });
  });
  return Status::Ok();
}

// Clip: min(max(x, lo), hi); an absent bound does not clip. When lo > hi every
// value becomes hi (ONNX). NaN inputs stay NaN (both comparisons are false).
Status ClipKernel(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  for (size_t i = 1; i <= 2; ++i) {
    if (ctx.has_input(i) && ctx.input(i).num_elements() != 1) {
      return ctx.Error(StatusCode::kInvalidArgument, "input ", i, " (", i == 1 ? "min" : "max",
                       ") has shape ", DimsToString(ctx.input(i).dims()),
                       " but must hold one value");
    }
  }
  FRT_ASSIGN_OR_RETURN(Tensor * out, OutputTensor(ctx, 0, x.dtype(), x.dims()));
  VisitDType(x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    // Compares in T for integers (exact) and in double for floats.
    auto key = [](T v) {
      if constexpr (kIsInt<T>) {
        return v;
      } else {
        return ToDouble(v);
      }
    };
    const T* lo = ctx.has_input(1) ? ctx.input(1).data<T>() : nullptr;
    const T* hi = ctx.has_input(2) ? ctx.input(2).data<T>() : nullptr;
    const T* px = x.data<T>();
    T* po = out->data<T>();
    for (int64_t i = 0; i < x.num_elements(); ++i) {
      T v = px[i];
      if (lo && key(v) < key(*lo)) v = *lo;
      if (hi && key(v) > key(*hi)) v = *hi;
      po[i] = v;
    }
  });
  return Status::Ok();
}

}  // namespace

void RegisterNaryKernels(CpuKernelRegistry& r) {
  r.Register(OpKind::kMin, VariadicKernel<MinOp>);
  r.Register(OpKind::kMax, VariadicKernel<MaxOp>);
  r.Register(OpKind::kSum, VariadicKernel<SumOp>);
  r.Register(OpKind::kMean, VariadicKernel<MeanOp>);
  r.Register(OpKind::kWhere, WhereKernel);
  r.Register(OpKind::kClip, ClipKernel);
}

}  // namespace frt::elementwise
