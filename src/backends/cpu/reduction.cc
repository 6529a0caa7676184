// Reference kernels of the reducing ops (Reduce*, ArgMax, ArgMin) and the
// family's kernel registration entry point. Float inputs accumulate in double
// and round once on store. Integer inputs reduce exactly in 64-bit integers
// with wrap-around (numpy's behaviour for the sums and products), except
// ReduceL2 / ReduceLogSum / ReduceLogSumExp, which are defined through
// sqrt/log and go through double. Reducing an empty set gives the operation's
// identity (0 for sums, 1 for products, -inf / +inf or the integer limits for
// max / min, log(0) = -inf for the log sums), as the ONNX spec asks.
#include <vector>

#include "backends/cpu/broadcast.h"
#include "backends/cpu/kernel_families.h"
#include "backends/cpu/reduction_util.h"
#include "ir/ops/reduction_ops.h"

namespace frt {
namespace {

using reduction::StoreDouble;

// Where each input element goes: input dims, per-dim strides into the output
// (0 on reduced dims), the output dims and the elements per output element.
struct ReducePlan {
  Dims in_dims;
  Dims out_strides;
  Dims out_dims;
  int64_t count = 1;
};

Result<ReducePlan> PlanReduce(const KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  std::optional<std::vector<int64_t>> axes;
  if (ctx.has_input(1)) {
    auto v = ctx.input(1).ToInt64Vector();
    if (!v.ok()) return v.status().WithPrefix(ctx.node().Describe());
    axes = std::move(*v);
  }
  bool keepdims = ctx.attrs().GetInt("keepdims", 1) != 0;
  bool noop = ctx.attrs().GetInt("noop_with_empty_axes", 0) != 0;
  auto mask = reduction::ResolveReduceAxes(axes ? &*axes : nullptr, noop,
                                           static_cast<int64_t>(x.rank()));
  if (!mask.ok()) return ctx.Error(mask.status().code(), mask.status().message());
  ReducePlan p;
  p.in_dims = x.dims();
  Dims kept = x.dims();  // reduced dims as 1: the keepdims output shape
  for (size_t d = 0; d < kept.size(); ++d) {
    if ((*mask)[d]) {
      p.count *= kept[d];
      kept[d] = 1;
    }
  }
  p.out_strides = RowMajorStrides(kept);
  for (size_t d = 0; d < kept.size(); ++d) {
    if ((*mask)[d]) {
      p.out_strides[d] = 0;
      if (!keepdims) continue;
    }
    p.out_dims.push_back(kept[d]);
  }
  return p;
}

// Calls f(input index, output index) for every input element in order.
template <class F>
void ForEachElement(const ReducePlan& p, int64_t n, F&& f) {
  BroadcastIterator<1> it(p.in_dims, {p.out_strides});
  for (int64_t i = 0; i < n; ++i, it.Next()) f(i, it.offset(0));
}

// max / min that propagate NaN, as numpy's maximum.reduce does.
double MaxNan(double a, double b) {
  return (std::isnan(a) || std::isnan(b)) ? NAN : std::max(a, b);
}
double MinNan(double a, double b) {
  return (std::isnan(a) || std::isnan(b)) ? NAN : std::min(a, b);
}

// Float path (and integer ops defined through sqrt/log): results in double.
template <class T>
std::vector<double> ReduceInDouble(OpKind op, const T* x, const ReducePlan& p, int64_t n,
                                   int64_t n_out) {
  double init = 0.0;
  if (op == OpKind::kReduceProd) init = 1.0;
  if (op == OpKind::kReduceMax || op == OpKind::kReduceLogSumExp) init = -INFINITY;
  if (op == OpKind::kReduceMin) init = INFINITY;
  std::vector<double> acc(static_cast<size_t>(n_out), init);
  std::vector<double> shift;  // ReduceLogSumExp: per-output max, for a stable exp
  if (op == OpKind::kReduceLogSumExp) {
    ForEachElement(p, n, [&](int64_t i, int64_t o) { acc[o] = MaxNan(acc[o], ToDouble(x[i])); });
    shift = acc;
    for (double& a : acc) a = 0.0;
  }
  ForEachElement(p, n, [&](int64_t i, int64_t o) {
    double v = ToDouble(x[i]);
    double& a = acc[o];
    switch (op) {
      case OpKind::kReduceMax: a = MaxNan(a, v); break;
      case OpKind::kReduceMin: a = MinNan(a, v); break;
      case OpKind::kReduceProd: a *= v; break;
      case OpKind::kReduceL1: a += std::fabs(v); break;
      case OpKind::kReduceL2:
      case OpKind::kReduceSumSquare: a += v * v; break;
      case OpKind::kReduceLogSumExp:
        if (std::isfinite(shift[o])) a += std::exp(v - shift[o]);
        break;
      default: a += v; break;  // Sum, Mean, LogSum
    }
  });
  for (size_t o = 0; o < acc.size(); ++o) {
    double& a = acc[o];
    switch (op) {
      case OpKind::kReduceMean: a = a / static_cast<double>(p.count); break;  // empty: NaN
      case OpKind::kReduceL2: a = std::sqrt(a); break;
      case OpKind::kReduceLogSum: a = std::log(a); break;
      case OpKind::kReduceLogSumExp:
        // A NaN or infinite maximum is the result itself (-inf also for empty sets).
        a = std::isfinite(shift[o]) ? shift[o] + std::log(a) : shift[o];
        break;
      default: break;
    }
  }
  return acc;
}

// Exact integer path with wrap-around in 64 bits: Acc is int64_t or uint64_t.
template <class T>
void ReduceIntegers(OpKind op, const T* x, const ReducePlan& p, int64_t n, T* out,
                    int64_t n_out) {
  using Acc = std::conditional_t<std::is_signed_v<T>, int64_t, uint64_t>;
  Acc init = 0;
  if (op == OpKind::kReduceProd) init = 1;
  if (op == OpKind::kReduceMax) init = static_cast<Acc>(std::numeric_limits<T>::lowest());
  if (op == OpKind::kReduceMin) init = static_cast<Acc>(std::numeric_limits<T>::max());
  std::vector<Acc> acc(static_cast<size_t>(n_out), init);
  auto wrap = [](uint64_t v) { return static_cast<Acc>(v); };  // modular, defined in C++20
  ForEachElement(p, n, [&](int64_t i, int64_t o) {
    Acc v = static_cast<Acc>(x[i]);
    uint64_t u = static_cast<uint64_t>(v);
    Acc& a = acc[o];
    switch (op) {
      case OpKind::kReduceMax: a = std::max(a, v); break;
      case OpKind::kReduceMin: a = std::min(a, v); break;
      case OpKind::kReduceProd: a = wrap(static_cast<uint64_t>(a) * u); break;
      case OpKind::kReduceSumSquare: a = wrap(static_cast<uint64_t>(a) + u * u); break;
      case OpKind::kReduceL1:
        a = wrap(static_cast<uint64_t>(a) + (v < 0 ? uint64_t{0} - u : u));
        break;
      default: a = wrap(static_cast<uint64_t>(a) + u); break;  // Sum, Mean
    }
  });
  for (int64_t o = 0; o < n_out; ++o) {
    Acc a = acc[o];
    if (op == OpKind::kReduceMean) a = p.count == 0 ? 0 : a / static_cast<Acc>(p.count);
    out[o] = static_cast<T>(a);
  }
}

Status ReduceKernel(KernelContext& ctx) {
  FRT_ASSIGN_OR_RETURN(ReducePlan p, PlanReduce(ctx));
  const Tensor& x = ctx.input(0);
  FRT_ASSIGN_OR_RETURN(Tensor * out, reduction::OutputTensor(ctx, 0, x.dtype(), p.out_dims));
  OpKind op = ctx.node().op;
  int64_t n = x.num_elements();
  int64_t n_out = out->num_elements();
  VisitDType(x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* px = x.data<T>();
    T* po = out->data<T>();
    if constexpr (std::is_same_v<T, bool>) {  // only ReduceMax (any) and ReduceMin (all)
      bool is_max = op == OpKind::kReduceMax;
      for (int64_t o = 0; o < n_out; ++o) po[o] = !is_max;
      ForEachElement(p, n, [&](int64_t i, int64_t o) {
        po[o] = is_max ? (po[o] || px[i]) : (po[o] && px[i]);
      });
    } else if constexpr (std::is_integral_v<T>) {
      if (op == OpKind::kReduceL2 || op == OpKind::kReduceLogSum ||
          op == OpKind::kReduceLogSumExp) {
        std::vector<double> r = ReduceInDouble(op, px, p, n, n_out);
        for (int64_t o = 0; o < n_out; ++o) po[o] = StoreDouble<T>(r[o]);
      } else {
        ReduceIntegers(op, px, p, n, po, n_out);
      }
    } else {
      std::vector<double> r = ReduceInDouble(op, px, p, n, n_out);
      for (int64_t o = 0; o < n_out; ++o) po[o] = StoreDouble<T>(r[o]);
    }
  });
  return Status::Ok();
}

// ArgMax / ArgMin: the first extreme (the last with select_last_index); a NaN
// counts as the extreme, as in numpy.
Status ArgReduceKernel(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  auto axis = NormalizeAxis(ctx.attrs().GetInt("axis", 0), static_cast<int64_t>(x.rank()));
  if (!axis.ok()) return ctx.Error(StatusCode::kOutOfRange, axis.status().message());
  reduction::AxisSplit s = reduction::SplitAt(x.dims(), static_cast<size_t>(*axis));
  if (s.len == 0) {
    return ctx.Error(StatusCode::kInvalidArgument, "input shape ", DimsToString(x.dims()),
                     " is empty along axis ", *axis);
  }
  Dims out_dims;
  bool keepdims = ctx.attrs().GetInt("keepdims", 1) != 0;
  for (size_t d = 0; d < x.rank(); ++d) {
    if (static_cast<int64_t>(d) != *axis) out_dims.push_back(x.dims()[d]);
    else if (keepdims) out_dims.push_back(1);
  }
  FRT_ASSIGN_OR_RETURN(Tensor * out, reduction::OutputTensor(ctx, 0, DType::kInt64, out_dims));
  bool want_max = ctx.node().op == OpKind::kArgMax;
  bool last = ctx.attrs().GetInt("select_last_index", 0) != 0;
  int64_t* po = out->data<int64_t>();
  VisitDType(x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* px = x.data<T>();
    for (int64_t o = 0; o < s.outer; ++o) {
      for (int64_t i = 0; i < s.inner; ++i) {
        int64_t best = 0;
        for (int64_t k = 1; k < s.len; ++k) {
          T v = px[s.At(o, k, i)];
          T b = px[s.At(o, best, i)];
          int c = reduction::Compare(v, b);
          if (!want_max && !reduction::IsNan(v) && !reduction::IsNan(b)) c = -c;
          if (c > 0 || (c == 0 && last)) best = k;
        }
        po[o * s.inner + i] = best;
      }
    }
  });
  return Status::Ok();
}

}  // namespace

void RegisterReductionReduceKernels(CpuKernelRegistry& r) {
  for (OpKind k : {OpKind::kReduceSum, OpKind::kReduceMean, OpKind::kReduceMax,
                   OpKind::kReduceMin, OpKind::kReduceProd, OpKind::kReduceL1, OpKind::kReduceL2,
                   OpKind::kReduceLogSum, OpKind::kReduceLogSumExp, OpKind::kReduceSumSquare}) {
    r.Register(k, ReduceKernel);
  }
  r.Register(OpKind::kArgMax, ArgReduceKernel);
  r.Register(OpKind::kArgMin, ArgReduceKernel);
}

void RegisterReductionKernels(CpuKernelRegistry& r) {
  RegisterReductionReduceKernels(r);
  RegisterReductionScanKernels(r);
  RegisterReductionNormKernels(r);
  RegisterReductionSoftmaxKernels(r);
  RegisterReductionLossKernels(r);
}

}  // namespace frt
