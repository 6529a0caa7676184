// Reference kernels of the pooling ops: MaxPool (values and flat Indices),
// AveragePool, LpPool, the global pools and MaxUnpool. Every windowed pool
// walks the same taps: input position o * stride - pad_begin + k * dilation
// along each spatial axis, skipping taps outside the input. AveragePool with
// count_include_pad counts the taps inside the explicitly padded extent (not
// the extra ceil_mode overhang), as the ONNX reference does.
#include <algorithm>
#include <limits>

#include "backends/cpu/nn_kernels.h"
#include "ir/ops/nn_window.h"

namespace frt::nn {
namespace {

struct PoolGeometry {
  int64_t channels = 0;  // N * C planes
  Dims in;               // input spatial dims
  Dims out;              // output spatial dims
  Window win;
  std::vector<AxisGeometry> axes;
};

Result<PoolGeometry> MakePoolGeometry(const KernelContext& ctx, const Tensor& x) {
  PoolGeometry g;
  const Dims& xd = x.dims();
  g.channels = xd[0] * xd[1];
  g.in.assign(xd.begin() + 2, xd.end());
  FRT_ASSIGN_OR_RETURN(g.win, ReadWindow(ctx.node(), WindowKind::kPool, g.in.size(), nullptr));
  FRT_ASSIGN_OR_RETURN(g.axes, ResolveWindow(ctx.node(), WindowKind::kPool, g.win, g.in));
  for (const AxisGeometry& a : g.axes) g.out.push_back(a.out);
  return g;
}

int64_t Product(const Dims& d) {
  int64_t p = 1;
  for (int64_t v : d) p *= v;
  return p;
}

int64_t RowMajor(const Dims& idx, const Dims& dims) {
  int64_t off = 0;
  for (size_t d = 0; d < idx.size(); ++d) off = off * dims[d] + idx[d];
  return off;
}

int64_t ColumnMajor(const Dims& idx, const Dims& dims) {
  int64_t off = 0;
  for (size_t d = idx.size(); d-- > 0;) off = off * dims[d] + idx[d];
  return off;
}

// Calls f(plane, out_offset, taps) for every output element, where `taps`
// lists the in-input spatial positions of its window and `padded_taps`
// counts the taps inside the explicitly padded extent.
template <class F>
void ForEachWindow(const PoolGeometry& g, F&& f) {
  const size_t spatial = g.in.size();
  std::vector<Dims> taps;
  Dims pos(spatial);
  for (int64_t c = 0; c < g.channels; ++c) {
    ForEachIndex(g.out, [&](const Dims& o) {
      taps.clear();
      int64_t padded_taps = 0;
      ForEachIndex(g.win.kernel, [&](const Dims& k) {
        bool inside = true, in_padded = true;
        for (size_t d = 0; d < spatial; ++d) {
          pos[d] = o[d] * g.win.strides[d] - g.axes[d].pad_begin + k[d] * g.win.dilations[d];
          inside = inside && pos[d] >= 0 && pos[d] < g.in[d];
          in_padded = in_padded && pos[d] < g.in[d] + g.axes[d].pad_end;
        }
        if (in_padded) ++padded_taps;
        if (inside) taps.push_back(pos);
      });
      f(c, c * Product(g.out) + RowMajor(o, g.out), taps, padded_taps);
    });
  }
}

Status MaxPoolKernel(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  FRT_ASSIGN_OR_RETURN(PoolGeometry g, MakePoolGeometry(ctx, x));
  const bool column_major = ctx.attrs().GetInt("storage_order", 0) == 1;
  const bool want_indices = ctx.has_output(1);
  const int64_t plane = Product(g.in);
  Tensor& y = ctx.output(0);
  int64_t* indices = want_indices ? ctx.output(1).data<int64_t>() : nullptr;
  VisitDType(x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* px = x.data<T>();
    T* py = y.data<T>();
    ForEachWindow(g, [&](int64_t c, int64_t out, const std::vector<Dims>& taps, int64_t) {
      // An all-padding window yields 0 and index -1, like the ONNX reference.
      T best = FromDouble<T>(0.0);
      int64_t best_index = -1;
      for (const Dims& p : taps) {
        const T v = px[c * plane + RowMajor(p, g.in)];
        if (best_index < 0 || ToDouble(v) > ToDouble(best)) {
          best = v;
          best_index = c * plane + (column_major ? ColumnMajor(p, g.in) : RowMajor(p, g.in));
        }
      }
      py[out] = best;
      if (indices) indices[out] = best_index;
    });
  });
  return Status::Ok();
}

Status AveragePoolKernel(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  FRT_ASSIGN_OR_RETURN(PoolGeometry g, MakePoolGeometry(ctx, x));
  const bool include_pad = ctx.attrs().GetInt("count_include_pad", 0) != 0;
  const int64_t plane = Product(g.in);
  const std::vector<double> xv = ToDoubles(x);
  std::vector<double> y(static_cast<size_t>(ctx.output(0).num_elements()));
  ForEachWindow(g, [&](int64_t c, int64_t out, const std::vector<Dims>& taps, int64_t padded) {
    double sum = 0;
    for (const Dims& p : taps) sum += xv[c * plane + RowMajor(p, g.in)];
    const int64_t count = include_pad ? padded : static_cast<int64_t>(taps.size());
    y[out] =
        count > 0 ? sum / static_cast<double>(count) : std::numeric_limits<double>::quiet_NaN();
  });
  StoreDoubles(y, ctx.output(0));
  return Status::Ok();
}

Status LpPoolKernel(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  FRT_ASSIGN_OR_RETURN(PoolGeometry g, MakePoolGeometry(ctx, x));
  const double p = static_cast<double>(ctx.attrs().GetInt("p", 2));
  const int64_t plane = Product(g.in);
  const std::vector<double> xv = ToDoubles(x);
  std::vector<double> y(static_cast<size_t>(ctx.output(0).num_elements()));
  ForEachWindow(g, [&](int64_t c, int64_t out, const std::vector<Dims>& taps, int64_t) {
    double sum = 0;  // padding contributes |0|^p = 0
    for (const Dims& t : taps) sum += std::pow(std::fabs(xv[c * plane + RowMajor(t, g.in)]), p);
    y[out] = std::pow(sum, 1.0 / p);
  });
  StoreDoubles(y, ctx.output(0));
  return Status::Ok();
}

// Global pools reduce each [N, C] plane to one value.
Status GlobalPoolKernel(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  const int64_t channels = x.dims()[0] * x.dims()[1];
  const int64_t plane = channels > 0 ? x.num_elements() / channels : 0;
  const OpKind op = ctx.node().op;
  Tensor& y = ctx.output(0);
  if (op == OpKind::kGlobalMaxPool) {
    // Exact copy of the winning element (int8/uint8 stay exact).
    VisitDType(x.dtype(), [&](auto tag) {
      using T = typename decltype(tag)::type;
      const T* px = x.data<T>();
      T* py = y.data<T>();
      for (int64_t c = 0; c < channels; ++c) {
        T best = plane > 0 ? px[c * plane] : FromDouble<T>(0.0);
        for (int64_t i = 1; i < plane; ++i) {
          if (ToDouble(px[c * plane + i]) > ToDouble(best)) best = px[c * plane + i];
        }
        py[c] = best;
      }
    });
    return Status::Ok();
  }
  const std::vector<double> xv = ToDoubles(x);
  const double p = static_cast<double>(ctx.attrs().GetInt("p", 2));
  std::vector<double> out(static_cast<size_t>(channels));
  for (int64_t c = 0; c < channels; ++c) {
    double acc = 0;
    for (int64_t i = 0; i < plane; ++i) {
      const double v = xv[c * plane + i];
      acc += op == OpKind::kGlobalLpPool ? std::pow(std::fabs(v), p) : v;
    }
    out[c] =
        op == OpKind::kGlobalLpPool ? std::pow(acc, 1.0 / p) : acc / static_cast<double>(plane);
  }
  StoreDoubles(out, y);
  return Status::Ok();
}

// MaxUnpool scatters X into zeros of the unpooled shape ((in - 1) * stride +
// kernel - pads) at the flat positions in I (as MaxPool produced them). With
// an output_shape input the unpooled block sits in the leading corner of the
// larger output, as in the ONNX reference and test data.
Status MaxUnpoolKernel(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  const Tensor& ind = ctx.input(1);
  Tensor& y = ctx.output(0);
  if (ind.dims() != x.dims()) {
    return ctx.Error(StatusCode::kInvalidModel, "indices ", ind.Describe(),
                     " must have the shape of X ", x.Describe());
  }
  const size_t rank = x.rank();
  FRT_ASSIGN_OR_RETURN(Window w, ReadWindow(ctx.node(), WindowKind::kPool, rank - 2, nullptr));
  Dims unpooled = {x.dims()[0], x.dims()[1]};
  for (size_t d = 0; d + 2 < rank; ++d) {
    unpooled.push_back((x.dims()[d + 2] - 1) * w.strides[d] + w.kernel[d] - w.pads[d] -
                       w.pads[d + rank - 2]);
  }
  const int64_t total = Product(unpooled);
  const std::vector<int64_t> idx = ToInt64s(ind);
  for (size_t i = 0; i < idx.size(); ++i) {
    if (idx[i] < 0 || idx[i] >= total) {
      return ctx.Error(StatusCode::kOutOfRange, "index ", idx[i], " at position ", i,
                       " is outside the unpooled tensor ", DimsToString(unpooled), " (", total,
                       " elements)");
    }
  }
  Dims coord(rank);
  VisitDType(x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* px = x.data<T>();
    T* py = y.data<T>();
    for (size_t i = 0; i < idx.size(); ++i) {
      int64_t rest = idx[i];
      for (size_t d = rank; d-- > 0;) {
        coord[d] = rest % unpooled[d];
        rest /= unpooled[d];
      }
      py[RowMajor(coord, y.dims())] = px[i];
    }
  });
  return Status::Ok();
}

}  // namespace

void RegisterNnPoolKernels(CpuKernelRegistry& r) {
  r.Register(OpKind::kMaxPool, MaxPoolKernel);
  r.Register(OpKind::kAveragePool, AveragePoolKernel);
  r.Register(OpKind::kLpPool, LpPoolKernel);
  r.Register(OpKind::kGlobalAveragePool, GlobalPoolKernel);
  r.Register(OpKind::kGlobalMaxPool, GlobalPoolKernel);
  r.Register(OpKind::kGlobalLpPool, GlobalPoolKernel);
  r.Register(OpKind::kMaxUnpool, MaxUnpoolKernel);
}

}  // namespace frt::nn
