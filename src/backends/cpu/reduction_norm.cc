// Reference kernels of the normalizations: LayerNormalization,
// BatchNormalization (inference and training mode), InstanceNormalization,
// MeanVarianceNormalization, LpNormalization and LRN. Statistics are
// population statistics (divide by the count) computed in two passes in
// double; every output rounds once on store.
#include <vector>

#include "backends/cpu/broadcast.h"
#include "backends/cpu/reduction_util.h"
#include "ir/ops/reduction_ops.h"

namespace frt {
namespace {

using reduction::AxisSplit;

// Reads any float tensor as doubles (parameter vectors and statistics).
std::vector<double> AsDoubles(const Tensor& t) {
  std::vector<double> v(static_cast<size_t>(t.num_elements()));
  for (int64_t i = 0; i < t.num_elements(); ++i) v[i] = t.GetAsDouble(i);
  return v;
}

void StoreDoubles(const std::vector<double>& v, Tensor& t) {
  VisitDType(t.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    T* p = t.data<T>();
    for (size_t i = 0; i < v.size(); ++i) p[i] = reduction::StoreDouble<T>(v[i]);
  });
}

Status LayerNormKernel(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  auto axis = NormalizeAxis(ctx.attrs().GetInt("axis", -1), static_cast<int64_t>(x.rank()));
  if (!axis.ok()) return ctx.Error(StatusCode::kOutOfRange, axis.status().message());
  double eps = ctx.attrs().GetFloat("epsilon", 1e-5f);
  AxisSplit s = reduction::SplitAt(x.dims(), static_cast<size_t>(*axis));
  int64_t rows = s.outer;
  int64_t cols = s.len * s.inner;
  std::vector<double> xv = AsDoubles(x);
  std::vector<double> mean(static_cast<size_t>(rows)), inv(static_cast<size_t>(rows));
  for (int64_t r = 0; r < rows; ++r) {
    double sum = 0.0;
    for (int64_t c = 0; c < cols; ++c) sum += xv[r * cols + c];
    double m = sum / static_cast<double>(cols);
    double sq = 0.0;
    for (int64_t c = 0; c < cols; ++c) sq += (xv[r * cols + c] - m) * (xv[r * cols + c] - m);
    mean[r] = m;
    inv[r] = 1.0 / std::sqrt(sq / static_cast<double>(cols) + eps);
  }
  const Tensor& scale = ctx.input(1);
  bool has_bias = ctx.has_input(2);
  Dims bias_strides = has_bias ? BroadcastStrides(ctx.input(2).dims(), x.dims()) : Dims(x.rank());
  BroadcastIterator<2> it(x.dims(), {BroadcastStrides(scale.dims(), x.dims()), bias_strides});
  std::vector<double> y(xv.size());
  for (int64_t i = 0; i < x.num_elements(); ++i, it.Next()) {
    int64_t r = i / cols;
    double b = has_bias ? ctx.input(2).GetAsDouble(it.offset(1)) : 0.0;
    y[i] = (xv[i] - mean[r]) * inv[r] * scale.GetAsDouble(it.offset(0)) + b;
  }
  FRT_ASSIGN_OR_RETURN(Tensor * out, reduction::OutputTensor(ctx, 0, x.dtype(), x.dims()));
  StoreDoubles(y, *out);
  Dims stat_dims = x.dims();
  for (size_t d = static_cast<size_t>(*axis); d < stat_dims.size(); ++d) stat_dims[d] = 1;
  // Inference validated stash_type; its dtype is that of outputs 1 and 2.
  DType stash =
      reduction::StashDType(ctx.attrs().GetInt("stash_type", 1)).value_or(DType::kFloat32);
  FRT_ASSIGN_OR_RETURN(Tensor * mean_out, reduction::OutputTensor(ctx, 1, stash, stat_dims));
  if (mean_out) StoreDoubles(mean, *mean_out);
  FRT_ASSIGN_OR_RETURN(Tensor * inv_out, reduction::OutputTensor(ctx, 2, stash, stat_dims));
  if (inv_out) StoreDoubles(inv, *inv_out);
  return Status::Ok();
}

// Per-channel view of an [N, C, D1, ...] tensor: element (n, c, j) at
// (n * C + c) * spatial + j.
struct ChannelView {
  int64_t n = 1;
  int64_t c = 1;
  int64_t spatial = 1;
};

ChannelView ChannelsOf(const Dims& dims) {
  AxisSplit s = reduction::SplitAt(dims, 1);
  return {s.outer, s.len, s.inner};
}

// Checks that a parameter tensor holds one value per channel.
Status CheckPerChannel(const KernelContext& ctx, size_t i, int64_t channels) {
  if (ctx.input(i).num_elements() == channels) return Status::Ok();
  return ctx.Error(StatusCode::kInvalidArgument, "input ", i, " has shape ",
                   DimsToString(ctx.input(i).dims()), " but the input has ", channels,
                   " channels");
}

Status BatchNormKernel(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  ChannelView v = ChannelsOf(x.dims());
  for (size_t i = 1; i < 5; ++i) FRT_RETURN_IF_ERROR(CheckPerChannel(ctx, i, v.c));
  double eps = ctx.attrs().GetFloat("epsilon", 1e-5f);
  double momentum = ctx.attrs().GetFloat("momentum", 0.9f);
  bool training = ctx.attrs().GetInt("training_mode", 0) != 0;
  std::vector<double> xv = AsDoubles(x);
  std::vector<double> scale = AsDoubles(ctx.input(1)), bias = AsDoubles(ctx.input(2));
  std::vector<double> mean = AsDoubles(ctx.input(3)), var = AsDoubles(ctx.input(4));
  auto at = [&](int64_t n, int64_t c, int64_t j) { return (n * v.c + c) * v.spatial + j; };
  if (training) {
    // Normalize with this batch's statistics; blend them into the running ones.
    double count = static_cast<double>(v.n * v.spatial);
    for (int64_t c = 0; c < v.c; ++c) {
      double sum = 0.0, sq = 0.0;
      for (int64_t n = 0; n < v.n; ++n) {
        for (int64_t j = 0; j < v.spatial; ++j) sum += xv[at(n, c, j)];
      }
      double m = sum / count;
      for (int64_t n = 0; n < v.n; ++n) {
        for (int64_t j = 0; j < v.spatial; ++j) sq += (xv[at(n, c, j)] - m) * (xv[at(n, c, j)] - m);
      }
      double batch_var = sq / count;
      mean[c] = mean[c] * momentum + m * (1.0 - momentum);
      var[c] = var[c] * momentum + batch_var * (1.0 - momentum);
      for (int64_t n = 0; n < v.n; ++n) {
        for (int64_t j = 0; j < v.spatial; ++j) {
          double& e = xv[at(n, c, j)];
          e = (e - m) / std::sqrt(batch_var + eps) * scale[c] + bias[c];
        }
      }
    }
    DType stat_dt = ctx.input(3).dtype();
    Dims stat_dims = ctx.input(3).dims();
    FRT_ASSIGN_OR_RETURN(Tensor * mean_out, reduction::OutputTensor(ctx, 1, stat_dt, stat_dims));
    if (mean_out) StoreDoubles(mean, *mean_out);
    FRT_ASSIGN_OR_RETURN(Tensor * var_out, reduction::OutputTensor(ctx, 2, stat_dt, stat_dims));
    if (var_out) StoreDoubles(var, *var_out);
  } else {
    for (int64_t n = 0; n < v.n; ++n) {
      for (int64_t c = 0; c < v.c; ++c) {
        double k = scale[c] / std::sqrt(var[c] + eps);
        for (int64_t j = 0; j < v.spatial; ++j) {
          double& e = xv[at(n, c, j)];
          e = (e - mean[c]) * k + bias[c];
        }
      }
    }
  }
  FRT_ASSIGN_OR_RETURN(Tensor * out, reduction::OutputTensor(ctx, 0, x.dtype(), x.dims()));
  StoreDoubles(xv, *out);
  return Status::Ok();
}

Status InstanceNormKernel(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  ChannelView v = ChannelsOf(x.dims());
  FRT_RETURN_IF_ERROR(CheckPerChannel(ctx, 1, v.c));
  FRT_RETURN_IF_ERROR(CheckPerChannel(ctx, 2, v.c));
  double eps = ctx.attrs().GetFloat("epsilon", 1e-5f);
  std::vector<double> xv = AsDoubles(x);
  std::vector<double> scale = AsDoubles(ctx.input(1)), bias = AsDoubles(ctx.input(2));
  double count = static_cast<double>(v.spatial);
  for (int64_t g = 0; g < v.n * v.c; ++g) {  // one (n, c) plane at a time
    double* p = xv.data() + g * v.spatial;
    int64_t c = g % v.c;
    double sum = 0.0, sq = 0.0;
    for (int64_t j = 0; j < v.spatial; ++j) sum += p[j];
    double m = sum / count;
    for (int64_t j = 0; j < v.spatial; ++j) sq += (p[j] - m) * (p[j] - m);
    double k = scale[c] / std::sqrt(sq / count + eps);
    for (int64_t j = 0; j < v.spatial; ++j) p[j] = (p[j] - m) * k + bias[c];
  }
  FRT_ASSIGN_OR_RETURN(Tensor * out, reduction::OutputTensor(ctx, 0, x.dtype(), x.dims()));
  StoreDoubles(xv, *out);
  return Status::Ok();
}

// Y = (X - E[X]) / (sqrt(E[(X - E[X])^2]) + 1e-9) over `axes`, as the spec's
// function body computes it (epsilon added to the standard deviation).
Status MvnKernel(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  std::vector<int64_t> axes = ctx.attrs().GetInts("axes", {0, 2, 3});
  auto mask = reduction::ResolveReduceAxes(&axes, false, static_cast<int64_t>(x.rank()));
  if (!mask.ok()) return ctx.Error(mask.status().code(), mask.status().message());
  Dims kept = x.dims();
  int64_t count = 1;
  for (size_t d = 0; d < kept.size(); ++d) {
    if ((*mask)[d]) {
      count *= kept[d];
      kept[d] = 1;
    }
  }
  Dims group_strides = RowMajorStrides(kept);
  for (size_t d = 0; d < kept.size(); ++d) {
    if ((*mask)[d]) group_strides[d] = 0;
  }
  int64_t groups = 1;
  for (int64_t d : kept) groups *= d;
  std::vector<double> xv = AsDoubles(x);
  std::vector<double> mean(static_cast<size_t>(groups), 0.0), sq(static_cast<size_t>(groups), 0.0);
  auto for_each = [&](auto&& f) {
    BroadcastIterator<1> it(x.dims(), {group_strides});
    for (int64_t i = 0; i < x.num_elements(); ++i, it.Next()) f(i, it.offset(0));
  };
  for_each([&](int64_t i, int64_t g) { mean[g] += xv[i]; });
  for (double& m : mean) m /= static_cast<double>(count);
  for_each([&](int64_t i, int64_t g) { sq[g] += (xv[i] - mean[g]) * (xv[i] - mean[g]); });
  for_each([&](int64_t i, int64_t g) {
    double sd = std::sqrt(sq[g] / static_cast<double>(count));
    xv[i] = (xv[i] - mean[g]) / (sd + 1e-9);
  });
  FRT_ASSIGN_OR_RETURN(Tensor * out, reduction::OutputTensor(ctx, 0, x.dtype(), x.dims()));
  StoreDoubles(xv, *out);
  return Status::Ok();
}

// Y = X / ||X||_p along one axis; a zero norm gives 0 (not 0/0), as the ONNX
// reference does.
Status LpNormKernel(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  auto axis = NormalizeAxis(ctx.attrs().GetInt("axis", -1), static_cast<int64_t>(x.rank()));
  if (!axis.ok()) return ctx.Error(StatusCode::kOutOfRange, axis.status().message());
  bool l1 = ctx.attrs().GetInt("p", 2) == 1;
  AxisSplit s = reduction::SplitAt(x.dims(), static_cast<size_t>(*axis));
  std::vector<double> xv = AsDoubles(x);
  for (int64_t o = 0; o < s.outer; ++o) {
    for (int64_t i = 0; i < s.inner; ++i) {
      double norm = 0.0;
      for (int64_t k = 0; k < s.len; ++k) {
        double e = xv[s.At(o, k, i)];
        norm += l1 ? std::fabs(e) : e * e;
      }
      if (!l1) norm = std::sqrt(norm);
      for (int64_t k = 0; k < s.len; ++k) {
        double& e = xv[s.At(o, k, i)];
        e = norm == 0.0 ? 0.0 : e / norm;
      }
    }
  }
  FRT_ASSIGN_OR_RETURN(Tensor * out, reduction::OutputTensor(ctx, 0, x.dtype(), x.dims()));
  StoreDoubles(xv, *out);
  return Status::Ok();
}

// Y = X / (bias + alpha / size * sum of X^2 over the channel window)^beta,
// the window being [c - floor((size-1)/2), c + ceil((size-1)/2)].
Status LrnKernel(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  ChannelView v = ChannelsOf(x.dims());
  int64_t size = ctx.attrs().GetInt("size", 1);
  double alpha = ctx.attrs().GetFloat("alpha", 1e-4f);
  double beta = ctx.attrs().GetFloat("beta", 0.75f);
  double bias = ctx.attrs().GetFloat("bias", 1.0f);
  int64_t before = (size - 1) / 2;
  int64_t after = size / 2;  // ceil((size - 1) / 2)
  std::vector<double> xv = AsDoubles(x);
  std::vector<double> y(xv.size());
  for (int64_t n = 0; n < v.n; ++n) {
    for (int64_t c = 0; c < v.c; ++c) {
      int64_t lo = std::max<int64_t>(0, c - before);
      int64_t hi = std::min<int64_t>(v.c - 1, c + after);
      for (int64_t j = 0; j < v.spatial; ++j) {
        double sum = 0.0;
        for (int64_t cc = lo; cc <= hi; ++cc) {
          double e = xv[(n * v.c + cc) * v.spatial + j];
          sum += e * e;
        }
        int64_t at = (n * v.c + c) * v.spatial + j;
        y[at] = xv[at] / std::pow(bias + alpha / static_cast<double>(size) * sum, beta);
      }
    }
  }
  FRT_ASSIGN_OR_RETURN(Tensor * out, reduction::OutputTensor(ctx, 0, x.dtype(), x.dims()));
  StoreDoubles(y, *out);
  return Status::Ok();
}

}  // namespace

void RegisterReductionNormKernels(CpuKernelRegistry& r) {
  r.Register(OpKind::kLayerNormalization, LayerNormKernel);
  r.Register(OpKind::kBatchNormalization, BatchNormKernel);
  r.Register(OpKind::kInstanceNormalization, InstanceNormKernel);
  r.Register(OpKind::kMeanVarianceNormalization, MvnKernel);
  r.Register(OpKind::kLpNormalization, LpNormKernel);
  r.Register(OpKind::kLRN, LrnKernel);
}

}  // namespace frt
