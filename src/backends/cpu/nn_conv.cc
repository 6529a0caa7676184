// Reference kernels of the convolutions: Conv, ConvTranspose, ConvInteger and
// QLinearConv. One direct (no im2col) N-D loop per direction, templated on
// the accumulator: double for float data, int64 for the integer forms (exact;
// ConvInteger then wraps to int32 like the spec's int32 accumulator would).
// Geometry (output sizes, effective pads) comes from nn_window.h, the same
// code the schemas use.
#include "backends/cpu/nn_kernels.h"
#include "ir/ops/nn_window.h"

namespace frt::nn {
namespace {

// Everything a convolution loop needs besides the data.
struct ConvGeometry {
  Dims x;  // [N, C, spatial...]
  Dims w;  // Conv: [M, C/group, k...]; ConvTranspose: [C, M/group, k...]
  Dims y;  // [N, M, out...]
  int64_t group = 1;
  Window win;
  std::vector<AxisGeometry> axes;
};

Result<ConvGeometry> MakeGeometry(const KernelContext& ctx, WindowKind kind, const Tensor& x,
                                  const Tensor& w, const Tensor& y) {
  ConvGeometry g;
  g.x = x.dims();
  g.w = w.dims();
  g.y = y.dims();
  g.group = ctx.attrs().GetInt("group", 1);
  const size_t spatial = g.x.size() - 2;
  Dims kernel(g.w.begin() + 2, g.w.end());
  FRT_ASSIGN_OR_RETURN(g.win, ReadWindow(ctx.node(), kind, spatial, &kernel));
  Dims in(g.x.begin() + 2, g.x.end());
  FRT_ASSIGN_OR_RETURN(g.axes, ResolveWindow(ctx.node(), kind, g.win, in));
  return g;
}

// Flat offsets, within one channel's spatial block, of spatial index `idx`.
int64_t SpatialOffset(const Dims& idx, const Dims& dims, size_t first) {
  int64_t off = 0;
  for (size_t d = 0; d < idx.size(); ++d) off = off * dims[first + d] + idx[d];
  return off;
}

int64_t Product(const Dims& d, size_t first) {
  int64_t p = 1;
  for (size_t i = first; i < d.size(); ++i) p *= d[i];
  return p;
}

// y[n, m, o] = bias[m] + sum_{c, k} x[n, g*C/G + c, o*s - pb + k*dil] * w[m, c, k]
template <class Acc>
std::vector<Acc> ConvLoop(const ConvGeometry& g, const std::vector<Acc>& x,
                          const std::vector<Acc>& w, const std::vector<Acc>* bias) {
  const size_t spatial = g.x.size() - 2;
  const int64_t n_batch = g.x[0], c_in = g.x[1], m_out = g.w[0];
  const int64_t c_per_group = c_in / g.group, m_per_group = m_out / g.group;
  const int64_t x_plane = Product(g.x, 2), y_plane = Product(g.y, 2), k_plane = Product(g.w, 2);
  const Dims out(g.y.begin() + 2, g.y.end());
  const Dims kernel(g.w.begin() + 2, g.w.end());
  std::vector<Acc> y(static_cast<size_t>(n_batch * m_out * y_plane), Acc(0));
  Dims pos(spatial);
  for (int64_t n = 0; n < n_batch; ++n) {
    for (int64_t m = 0; m < m_out; ++m) {
      const int64_t c0 = (m / m_per_group) * c_per_group;
      ForEachIndex(out, [&](const Dims& o) {
        Acc acc = bias ? (*bias)[m] : Acc(0);
        for (int64_t c = 0; c < c_per_group; ++c) {
          const Acc* xp = x.data() + ((n * c_in) + c0 + c) * x_plane;  // x may be empty
          const Acc* wp = w.data() + (m * c_per_group + c) * k_plane;
          ForEachIndex(kernel, [&](const Dims& k) {
            for (size_t d = 0; d < spatial; ++d) {
              pos[d] = o[d] * g.win.strides[d] - g.axes[d].pad_begin + k[d] * g.win.dilations[d];
              if (pos[d] < 0 || pos[d] >= g.x[d + 2]) return;
            }
            acc += xp[SpatialOffset(pos, g.x, 2)] * wp[SpatialOffset(k, g.w, 2)];
          });
        }
        y[(n * m_out + m) * y_plane + SpatialOffset(o, g.y, 2)] = acc;
      });
    }
  }
  return y;
}

// Scatters each input element through the kernel:
// y[n, g*M/G + m, i*s - pb + k*dil] += x[n, ci, i] * w[ci, m, k], then + bias.
template <class Acc>
std::vector<Acc> ConvTransposeLoop(const ConvGeometry& g, const std::vector<Acc>& x,
                                   const std::vector<Acc>& w, const std::vector<Acc>* bias) {
  const size_t spatial = g.x.size() - 2;
  const int64_t n_batch = g.x[0], c_in = g.x[1], m_per_group = g.w[1];
  const int64_t m_out = m_per_group * g.group, c_per_group = c_in / g.group;
  const int64_t x_plane = Product(g.x, 2), y_plane = Product(g.y, 2), k_plane = Product(g.w, 2);
  const Dims in(g.x.begin() + 2, g.x.end());
  const Dims kernel(g.w.begin() + 2, g.w.end());
  std::vector<Acc> y(static_cast<size_t>(n_batch * m_out * y_plane), Acc(0));
  Dims pos(spatial);
  for (int64_t n = 0; n < n_batch; ++n) {
    for (int64_t ci = 0; ci < c_in; ++ci) {
      const int64_t m0 = (ci / c_per_group) * m_per_group;
      ForEachIndex(in, [&](const Dims& i) {
        const Acc xv = x[(n * c_in + ci) * x_plane + SpatialOffset(i, g.x, 2)];
        ForEachIndex(kernel, [&](const Dims& k) {
          for (size_t d = 0; d < spatial; ++d) {
            pos[d] = i[d] * g.win.strides[d] - g.axes[d].pad_begin + k[d] * g.win.dilations[d];
            if (pos[d] < 0 || pos[d] >= g.y[d + 2]) return;
          }
          const int64_t y_off = SpatialOffset(pos, g.y, 2);
          const int64_t k_off = SpatialOffset(k, g.w, 2);
          for (int64_t m = 0; m < m_per_group; ++m) {
            y[(n * m_out + m0 + m) * y_plane + y_off] +=
                xv * w[(ci * m_per_group + m) * k_plane + k_off];
          }
        });
      });
    }
  }
  if (bias) {
    for (int64_t n = 0; n < n_batch; ++n) {
      for (int64_t m = 0; m < m_out; ++m) {
        for (int64_t p = 0; p < y_plane; ++p) y[(n * m_out + m) * y_plane + p] += (*bias)[m];
      }
    }
  }
  return y;
}

Status CheckBias(const KernelContext& ctx, size_t i, int64_t m) {
  if (!ctx.has_input(i)) return Status::Ok();
  if (ctx.input(i).num_elements() != m) {
    return ctx.Error(StatusCode::kInvalidModel, "bias has ", ctx.input(i).num_elements(),
                     " elements but there are ", m, " output channels");
  }
  return Status::Ok();
}

}  // namespace

Result<std::vector<double>> ConvDoubles(const KernelContext& ctx, const Tensor& y) {
  FRT_ASSIGN_OR_RETURN(ConvGeometry g,
                       MakeGeometry(ctx, WindowKind::kConv, ctx.input(0), ctx.input(1), y));
  FRT_RETURN_IF_ERROR(CheckBias(ctx, 2, g.w[0]));
  std::vector<double> bias = ctx.has_input(2) ? ToDoubles(ctx.input(2)) : std::vector<double>();
  return ConvLoop<double>(g, ToDoubles(ctx.input(0)), ToDoubles(ctx.input(1)),
                          ctx.has_input(2) ? &bias : nullptr);
}

namespace {

Status ConvKernel(KernelContext& ctx) {
  FRT_ASSIGN_OR_RETURN(std::vector<double> y, ConvDoubles(ctx, ctx.output(0)));
  StoreDoubles(y, ctx.output(0));
  return Status::Ok();
}

Status ConvTransposeKernel(KernelContext& ctx) {
  Tensor& y = ctx.output(0);
  FRT_ASSIGN_OR_RETURN(
      ConvGeometry g, MakeGeometry(ctx, WindowKind::kConvTranspose, ctx.input(0), ctx.input(1), y));
  FRT_RETURN_IF_ERROR(CheckBias(ctx, 2, g.w[1] * g.group));
  std::vector<double> bias = ctx.has_input(2) ? ToDoubles(ctx.input(2)) : std::vector<double>();
  StoreDoubles(ConvTransposeLoop<double>(g, ToDoubles(ctx.input(0)), ToDoubles(ctx.input(1)),
                                         ctx.has_input(2) ? &bias : nullptr),
               y);
  return Status::Ok();
}

// Subtracts a zero point (input zp_index: absent = 0, one value, or one per
// leading-dim slice of `data`, i.e. per output channel of the weights).
Result<std::vector<int64_t>> Centered(const KernelContext& ctx, const Tensor& data, size_t zp_index,
                                      const char* what) {
  std::vector<int64_t> v = ToInt64s(data);
  if (!ctx.has_input(zp_index)) return v;
  std::vector<int64_t> zp = ToInt64s(ctx.input(zp_index));
  const int64_t channels = data.rank() > 0 ? data.dims()[0] : 1;
  if (zp.size() != 1 && static_cast<int64_t>(zp.size()) != channels) {
    return ctx.Error(StatusCode::kInvalidModel, what, " zero point has ", zp.size(),
                     " elements but must have 1 or ", channels);
  }
  const int64_t plane = channels > 0 ? data.num_elements() / channels : 0;
  for (size_t i = 0; i < v.size(); ++i) {
    v[i] -= zp.size() == 1 ? zp[0] : zp[static_cast<int64_t>(i) / plane];
  }
  return v;
}

Status ConvIntegerKernel(KernelContext& ctx) {
  Tensor& y = ctx.output(0);
  FRT_ASSIGN_OR_RETURN(ConvGeometry g,
                       MakeGeometry(ctx, WindowKind::kConv, ctx.input(0), ctx.input(1), y));
  if (ctx.has_input(2) && ctx.input(2).num_elements() != 1) {
    return ctx.Error(StatusCode::kInvalidModel, "x_zero_point has ", ctx.input(2).num_elements(),
                     " elements but must be a scalar");
  }
  FRT_ASSIGN_OR_RETURN(std::vector<int64_t> x, Centered(ctx, ctx.input(0), 2, "x"));
  FRT_ASSIGN_OR_RETURN(std::vector<int64_t> w, Centered(ctx, ctx.input(1), 3, "w"));
  StoreInt64s(ConvLoop<int64_t>(g, x, w, nullptr), y);
  return Status::Ok();
}

// One value, or one per output channel: the scale of output channel m.
Result<std::vector<double>> PerChannel(const KernelContext& ctx, size_t i, int64_t channels,
                                       const char* what) {
  std::vector<double> v = ToDoubles(ctx.input(i));
  if (v.size() == 1) return std::vector<double>(static_cast<size_t>(channels), v[0]);
  if (static_cast<int64_t>(v.size()) != channels) {
    return ctx.Error(StatusCode::kInvalidModel, what, " has ", v.size(),
                     " elements but must have 1 or ", channels, " (one per output channel)");
  }
  return v;
}

Status QLinearConvKernel(KernelContext& ctx) {
  Tensor& y = ctx.output(0);
  FRT_ASSIGN_OR_RETURN(ConvGeometry g,
                       MakeGeometry(ctx, WindowKind::kConv, ctx.input(0), ctx.input(3), y));
  const int64_t m_out = g.w[0];
  for (size_t i : {size_t{1}, size_t{2}, size_t{6}, size_t{7}}) {
    if (ctx.input(i).num_elements() != 1) {
      return ctx.Error(StatusCode::kInvalidModel, "input ", i,
                       " (a scale or zero point of x/y) has ", ctx.input(i).num_elements(),
                       " elements but must be a scalar");
    }
  }
  FRT_RETURN_IF_ERROR(CheckBias(ctx, 8, m_out));
  FRT_ASSIGN_OR_RETURN(std::vector<int64_t> x, Centered(ctx, ctx.input(0), 2, "x"));
  FRT_ASSIGN_OR_RETURN(std::vector<int64_t> w, Centered(ctx, ctx.input(3), 5, "w"));
  FRT_ASSIGN_OR_RETURN(std::vector<double> w_scale, PerChannel(ctx, 4, m_out, "w_scale"));
  std::vector<int64_t> bias = ctx.has_input(8) ? ToInt64s(ctx.input(8)) : std::vector<int64_t>();
  std::vector<int64_t> acc = ConvLoop<int64_t>(g, x, w, ctx.has_input(8) ? &bias : nullptr);
  const double x_scale = ctx.input(1).GetAsDouble(0);
  const double y_scale = ctx.input(6).GetAsDouble(0);
  const double y_zp = ctx.input(7).GetAsDouble(0);
  double lo, hi;
  IntegerRange(y.dtype(), &lo, &hi);
  const int64_t plane = Product(g.y, 2);
  std::vector<double> out(acc.size());
  for (size_t i = 0; i < acc.size(); ++i) {
    const int64_t m = (static_cast<int64_t>(i) / plane) % m_out;
    double v = RoundHalfEven(static_cast<double>(acc[i]) * (x_scale * w_scale[m] / y_scale)) + y_zp;
    out[i] = std::min(hi, std::max(lo, v));
  }
  StoreDoubles(out, y);
  return Status::Ok();
}

}  // namespace

void RegisterNnConvKernels(CpuKernelRegistry& r) {
  r.Register(OpKind::kConv, ConvKernel);
  r.Register(OpKind::kConvTranspose, ConvTransposeKernel);
  r.Register(OpKind::kConvInteger, ConvIntegerKernel);
  r.Register(OpKind::kQLinearConv, QLinearConvKernel);
}

}  // namespace frt::nn
