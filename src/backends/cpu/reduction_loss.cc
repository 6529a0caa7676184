// Reference kernels of NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss
// (the latter is NLL over log_softmax(scores) along the class axis 1).
// Per element: loss = -input[n, t, d] * weight[t] with t = target[n, d]; a
// target equal to ignore_index contributes neither loss nor weight. "mean"
// divides the summed loss by the summed weights (the element count when
// there are no weights), as the ONNX reference does; a target outside
// [0, C) that is not ignored is an error rather than an out-of-bounds read.
#include <vector>

#include "backends/cpu/reduction_util.h"

namespace frt {
namespace {

using reduction::AxisSplit;

// log_softmax of [N, C, D] scores along C, in double.
std::vector<double> LogSoftmaxOverClasses(const Tensor& x, const AxisSplit& s) {
  std::vector<double> v(static_cast<size_t>(x.num_elements()));
  for (int64_t i = 0; i < x.num_elements(); ++i) v[i] = x.GetAsDouble(i);
  for (int64_t n = 0; n < s.outer; ++n) {
    for (int64_t d = 0; d < s.inner; ++d) {
      double max = -INFINITY;
      for (int64_t c = 0; c < s.len; ++c) max = std::max(max, v[s.At(n, c, d)]);
      double sum = 0.0;
      for (int64_t c = 0; c < s.len; ++c) sum += std::exp(v[s.At(n, c, d)] - max);
      double log_sum = std::log(sum);
      for (int64_t c = 0; c < s.len; ++c) v[s.At(n, c, d)] = v[s.At(n, c, d)] - max - log_sum;
    }
  }
  return v;
}

template <bool kFromScores>
Status LossKernel(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  AxisSplit s = reduction::SplitAt(x.dims(), 1);  // [N, C, d1 * ... * dk]
  FRT_ASSIGN_OR_RETURN(std::vector<int64_t> target, ctx.input(1).ToInt64Vector());
  if (static_cast<int64_t>(target.size()) != s.outer * s.inner) {
    return ctx.Error(StatusCode::kInvalidArgument, "target has shape ",
                     DimsToString(ctx.input(1).dims()), " but the input has shape ",
                     DimsToString(x.dims()));
  }
  bool has_weight = ctx.has_input(2);
  if (has_weight && ctx.input(2).num_elements() != s.len) {
    return ctx.Error(StatusCode::kInvalidArgument, "weight has ", ctx.input(2).num_elements(),
                     " values but the input has ", s.len, " classes");
  }
  bool has_ignore = ctx.attrs().Has("ignore_index");
  int64_t ignore = ctx.attrs().GetInt("ignore_index", 0);
  std::string mode = ctx.attrs().GetString("reduction", "mean");

  std::vector<double> logp;
  if constexpr (kFromScores) {
    logp = LogSoftmaxOverClasses(x, s);
  } else {
    logp.resize(static_cast<size_t>(x.num_elements()));
    for (int64_t i = 0; i < x.num_elements(); ++i) logp[i] = x.GetAsDouble(i);
  }
  std::vector<double> loss(target.size(), 0.0);
  double loss_sum = 0.0, weight_sum = 0.0;
  for (int64_t n = 0; n < s.outer; ++n) {
    for (int64_t d = 0; d < s.inner; ++d) {
      int64_t e = n * s.inner + d;
      int64_t t = target[e];
      if (has_ignore && t == ignore) continue;
      if (t < 0 || t >= s.len) {
        return ctx.Error(StatusCode::kOutOfRange, "target value ", t, " at element ", e,
                         " is outside the class range [0, ", s.len, ")",
                         has_ignore ? StrCat(" and is not ignore_index ", ignore) : "");
      }
      double w = has_weight ? ctx.input(2).GetAsDouble(t) : 1.0;
      loss[e] = -logp[s.At(n, t, d)] * w;
      loss_sum += loss[e];
      weight_sum += w;
    }
  }
  if (mode == "none") {
    FRT_ASSIGN_OR_RETURN(Tensor * out,
                         reduction::OutputTensor(ctx, 0, x.dtype(), ctx.input(1).dims()));
    VisitDType(x.dtype(), [&](auto tag) {
      using T = typename decltype(tag)::type;
      T* po = out->data<T>();
      for (size_t e = 0; e < loss.size(); ++e) po[e] = reduction::StoreDouble<T>(loss[e]);
    });
  } else {
    double value = mode == "sum" ? loss_sum : loss_sum / weight_sum;
    FRT_ASSIGN_OR_RETURN(Tensor * out, reduction::OutputTensor(ctx, 0, x.dtype(), {}));
    VisitDType(x.dtype(), [&](auto tag) {
      using T = typename decltype(tag)::type;
      out->data<T>()[0] = reduction::StoreDouble<T>(value);
    });
  }
  if constexpr (kFromScores) {
    FRT_ASSIGN_OR_RETURN(Tensor * log_prob, reduction::OutputTensor(ctx, 1, x.dtype(), x.dims()));
    if (log_prob) {
      VisitDType(x.dtype(), [&](auto tag) {
        using T = typename decltype(tag)::type;
        for (size_t i = 0; i < logp.size(); ++i) {
          log_prob->data<T>()[i] = reduction::StoreDouble<T>(logp[i]);
        }
      });
    }
  }
  return Status::Ok();
}

}  // namespace

void RegisterReductionLossKernels(CpuKernelRegistry& r) {
  r.Register(OpKind::kNegativeLogLikelihoodLoss, LossKernel<false>);
  r.Register(OpKind::kSoftmaxCrossEntropyLoss, LossKernel<true>);
}

}  // namespace frt
