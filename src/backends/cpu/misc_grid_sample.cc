// Reference kernel of GridSample over any number of spatial axes. For each
// output location the normalized grid coordinates are mapped to input
// coordinates, out-of-range coordinates are clamped or reflected by the
// padding mode, and the value is interpolated from the 1 (nearest), 2^r
// (linear) or 4^r (cubic, Keys a = -0.75) surrounding taps, taps outside the
// input being read through the padding mode again, as ONNX's reference does.
#include <algorithm>
#include <cmath>

#include "backends/cpu/misc_kernel_util.h"

namespace frt {
namespace {

enum class Padding { kZeros, kBorder, kReflection };

// Reflects x by the borders [lo, hi] until it lies inside.
double Reflect(double x, double lo, double hi) {
  const double range = hi - lo;
  if (range <= 0.0) return lo;
  if (x < lo) {
    const double dx = lo - x;
    const double n = std::floor(dx / range);
    const double r = dx - n * range;
    return std::fmod(n, 2.0) == 0.0 ? lo + r : hi - r;
  }
  if (x > hi) {
    const double dx = x - hi;
    const double n = std::floor(dx / range);
    const double r = dx - n * range;
    return std::fmod(n, 2.0) == 0.0 ? hi - r : lo + r;
  }
  return x;
}

struct AxisInfo {
  int64_t size = 0;
  double lo = 0.0;  // border: the coordinates of the input's extent
  double hi = 0.0;
};

// The input index read for tap i along one axis, or -1 for a zero (padding "zeros").
int64_t TapIndex(int64_t i, const AxisInfo& a, Padding padding) {
  switch (padding) {
    case Padding::kZeros:
      return i >= 0 && i < a.size ? i : -1;
    case Padding::kBorder:
      return std::clamp<int64_t>(i, 0, a.size - 1);
    case Padding::kReflection: {
      const int64_t r = static_cast<int64_t>(Reflect(static_cast<double>(i), a.lo, a.hi));
      return std::clamp<int64_t>(r, 0, a.size - 1);
    }
  }
  return -1;
}

void CubicWeights(double t, double w[4]) {
  constexpr double A = -0.75;
  const double t1 = t + 1.0, q = 1.0 - t, q1 = 2.0 - t;
  w[0] = ((A * t1 - 5 * A) * t1 + 8 * A) * t1 - 4 * A;
  w[1] = ((A + 2) * t - (A + 3)) * t * t + 1;
  w[2] = ((A + 2) * q - (A + 3)) * q * q + 1;
  w[3] = ((A * q1 - 5 * A) * q1 + 8 * A) * q1 - 4 * A;
}

Status GridSampleKernel(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  const Tensor& grid = ctx.input(1);
  const size_t r = x.rank() - 2;
  if (x.rank() < 3 || grid.rank() != r + 2 || grid.dims()[r + 1] != static_cast<int64_t>(r) ||
      grid.dims()[0] != x.dims()[0]) {
    return ctx.Error(StatusCode::kInvalidModel, "grid ", DimsToString(grid.dims()),
                     " does not match X ", DimsToString(x.dims()));
  }
  const std::string mode = ctx.attrs().GetString("mode", "linear");
  const std::string pad_name = ctx.attrs().GetString("padding_mode", "zeros");
  const Padding padding = pad_name == "border"       ? Padding::kBorder
                          : pad_name == "reflection" ? Padding::kReflection
                                                     : Padding::kZeros;
  const bool align = ctx.attrs().GetInt("align_corners", 0) == 1;
  const int64_t batch = x.dims()[0], channels = x.dims()[1];
  std::vector<AxisInfo> axes(r);
  int64_t in_size = 1, out_size = 1;
  for (size_t i = 0; i < r; ++i) {
    AxisInfo& a = axes[i];
    a.size = x.dims()[i + 2];
    a.lo = align ? 0.0 : -0.5;
    a.hi = align ? static_cast<double>(a.size) - 1.0 : static_cast<double>(a.size) - 0.5;
    in_size *= a.size;
    out_size *= grid.dims()[i + 1];
  }
  Tensor& out = ctx.output(0);
  if (out.num_elements() == 0) return Status::Ok();
  if (in_size == 0) {
    return ctx.Error(StatusCode::kInvalidModel, "X ", DimsToString(x.dims()),
                     " has an empty spatial axis to sample from");
  }
  const std::vector<double> xv = ToDoubles(x);
  const std::vector<double> gv = ToDoubles(grid);
  std::vector<double> yv(static_cast<size_t>(out.num_elements()), 0.0);

  const int64_t taps_per_axis = mode == "nearest" ? 1 : mode == "linear" ? 2 : 4;
  std::vector<std::vector<int64_t>> tap_index(r);
  std::vector<std::vector<double>> tap_weight(r);
  for (int64_t n = 0; n < batch; ++n) {
    for (int64_t o = 0; o < out_size; ++o) {
      const double* g = gv.data() + (n * out_size + o) * static_cast<int64_t>(r);
      for (size_t i = 0; i < r; ++i) {
        const AxisInfo& a = axes[i];
        // Grid coordinates list the innermost axis first.
        const double u = g[r - 1 - i];
        const double len = static_cast<double>(a.size);
        double c = align ? (u + 1.0) / 2.0 * (len - 1.0) : ((u + 1.0) * len - 1.0) / 2.0;
        if (mode == "nearest") c = std::nearbyint(c);  // ties to even, as PyTorch
        if (c < a.lo || c > a.hi) {
          if (padding == Padding::kBorder) c = std::clamp(c, 0.0, len - 1.0);
          if (padding == Padding::kReflection) c = Reflect(c, a.lo, a.hi);
        }
        tap_index[i].assign(static_cast<size_t>(taps_per_axis), -1);
        tap_weight[i].assign(static_cast<size_t>(taps_per_axis), 0.0);
        // NaN, or far outside with zero padding: every tap reads a zero.
        if (!std::isfinite(c) || std::fabs(c) > 1e15) continue;
        if (mode == "nearest") {
          tap_index[i][0] = TapIndex(static_cast<int64_t>(c), a, padding);
          tap_weight[i][0] = 1.0;
          continue;
        }
        const double f = std::floor(c);
        const double t = c - f;
        const int64_t base = static_cast<int64_t>(f);
        if (mode == "linear") {
          tap_index[i] = {TapIndex(base, a, padding), TapIndex(base + 1, a, padding)};
          tap_weight[i] = {1.0 - t, t};
        } else {
          double w[4];
          CubicWeights(t, w);
          for (int64_t k = 0; k < 4; ++k) {
            tap_index[i][k] = TapIndex(base - 1 + k, a, padding);
            tap_weight[i][k] = w[k];
          }
        }
      }
      // Sum over every combination of per-axis taps (an odometer over r digits).
      std::vector<int64_t> digit(r, 0);
      for (;;) {
        double w = 1.0;
        int64_t offset = 0;
        bool zero = false;
        for (size_t i = 0; i < r; ++i) {
          const int64_t idx = tap_index[i][digit[i]];
          if (idx < 0) zero = true;
          offset = offset * axes[i].size + idx;
          w *= tap_weight[i][digit[i]];
        }
        if (!zero && w != 0.0) {
          for (int64_t c = 0; c < channels; ++c) {
            yv[(n * channels + c) * out_size + o] += w * xv[(n * channels + c) * in_size + offset];
          }
        }
        size_t i = r;
        while (i > 0 && ++digit[i - 1] == taps_per_axis) digit[--i] = 0;
        if (i == 0) break;
      }
    }
  }
  MiscStoreCast(out, yv);
  return Status::Ok();
}

}  // namespace

void RegisterMiscGridSampleKernels(CpuKernelRegistry& r) {
  r.Register(OpKind::kGridSample, GridSampleKernel);
}

}  // namespace frt
