// Reference kernel of Resize. Interpolation is separable: the kernel resizes
// one axis at a time (in the order of `axes`), each output position reading a
// few input taps with weights from the nearest / linear / cubic filter,
// optionally stretched for antialiasing, exactly as ONNX's numpy reference.
// Geometry (output sizes, scales, roi) comes from ir/ops/misc_resize.h, shared
// with shape inference.
#include "ir/ops/misc_resize.h"

#include <algorithm>
#include <cmath>

#include "backends/cpu/misc_kernel_util.h"

namespace frt {
namespace {

// Input coordinate of output index `o` along one axis.
double SourceCoordinate(const ResizeAttrs& a, int64_t o, int64_t in, int64_t out, double scale,
                        double roi_start, double roi_end) {
  const double x = static_cast<double>(o);
  const double len_in = static_cast<double>(in);
  // The reference compares the real-valued output length scale * in (not the
  // rounded size) with 1; the tolerance absorbs (1 / n) * n rounding.
  const double len_out = scale * len_in;
  const bool single = std::fabs(len_out - 1.0) < 1e-9;
  switch (a.coord) {
    case ResizeCoordMode::kHalfPixel:
      return (x + 0.5) / scale - 0.5;
    case ResizeCoordMode::kHalfPixelSymmetric: {
      const double adjustment = static_cast<double>(out) / len_out;
      const double offset = len_in / 2.0 * (1.0 - adjustment);
      return offset + (x + 0.5) / scale - 0.5;
    }
    case ResizeCoordMode::kPytorchHalfPixel:
      return single ? -0.5 : (x + 0.5) / scale - 0.5;
    case ResizeCoordMode::kAlignCorners:
      return single ? 0.0 : x * (len_in - 1.0) / (len_out - 1.0);
    case ResizeCoordMode::kAsymmetric:
      return x / scale;
    case ResizeCoordMode::kTfCropAndResize: {
      const double span = (roi_end - roi_start) * (len_in - 1.0);
      const double base = single ? span / 2.0 : x * span / (len_out - 1.0);
      return base + roi_start * (len_in - 1.0);
    }
    case ResizeCoordMode::kTfHalfPixelForNn:
      return (x + 0.5) / scale;
  }
  return 0.0;
}

// Filter weights for the taps around a source coordinate whose distance to
// the tap on its left is `ratio` in (0, 1]. Even tap counts; the taps are
// floor(x) - (n/2 - 1) ... floor(x) + n/2.
std::vector<double> FilterWeights(const ResizeAttrs& a, double ratio, double scale) {
  switch (a.mode) {
    case ResizeMode::kNearest: {
      if (ratio == 1.0) return {0.0, 1.0};
      bool upper = false;
      switch (a.nearest) {
        case NearestRounding::kRoundPreferFloor:
          upper = ratio > 0.5;
          break;
        case NearestRounding::kRoundPreferCeil:
          upper = ratio >= 0.5;
          break;
        case NearestRounding::kFloor:
          upper = false;
          break;
        case NearestRounding::kCeil:
          upper = true;
          break;
      }
      return {upper ? 0.0 : 1.0, upper ? 1.0 : 0.0};
    }
    case ResizeMode::kLinear: {
      if (!a.antialias) return {1.0 - ratio, ratio};
      const double s = std::min(scale, 1.0);
      const int64_t start = static_cast<int64_t>(std::floor(-1.0 / s)) + 1;
      const int64_t taps = 2 - 2 * start;
      std::vector<double> w(static_cast<size_t>(taps));
      double sum = 0.0;
      for (int64_t i = 0; i < taps; ++i) {
        double arg = (static_cast<double>(start + i) - ratio) * s;
        w[i] = std::clamp(1.0 - std::fabs(arg), 0.0, 1.0);
        sum += w[i];
      }
      for (double& v : w) v /= sum;
      return w;
    }
    case ResizeMode::kCubic: {
      const double A = a.cubic_coeff_a;
      if (!a.antialias) {
        const double r1 = ratio + 1.0, q = 1.0 - ratio, q1 = q + 1.0;
        return {((A * r1 - 5 * A) * r1 + 8 * A) * r1 - 4 * A,
                ((A + 2) * ratio - (A + 3)) * ratio * ratio + 1,
                ((A + 2) * q - (A + 3)) * q * q + 1, ((A * q1 - 5 * A) * q1 + 8 * A) * q1 - 4 * A};
      }
      const double s = std::min(scale, 1.0);
      auto keys = [A](double x) {
        x = std::fabs(x);
        if (x <= 1) return ((A + 2) * x - (A + 3)) * x * x + 1;
        if (x < 2) return ((A * x - 5 * A) * x + 8 * A) * x - 4 * A;
        return 0.0;
      };
      const int64_t start = static_cast<int64_t>(std::floor(-2.0 / s)) + 1;
      const int64_t taps = 2 - 2 * start;
      std::vector<double> w(static_cast<size_t>(taps));
      double sum = 0.0;
      for (int64_t i = 0; i < taps; ++i) {
        w[i] = keys(s * (static_cast<double>(start + i) - ratio));
        sum += w[i];
      }
      for (double& v : w) v /= sum;
      return w;
    }
  }
  return {0.0, 1.0};
}

// Taps and weights of every output position along one axis.
struct AxisPlan {
  int64_t taps = 0;
  std::vector<int64_t> index;     // [out * taps], clamped into [0, in)
  std::vector<double> weight;     // [out * taps]
  std::vector<char> extrapolate;  // [out]: tf_crop_and_resize outside the input
};

AxisPlan PlanAxis(const ResizeAttrs& a, int64_t in, int64_t out, double scale, double roi_start,
                  double roi_end) {
  AxisPlan p;
  p.extrapolate.assign(static_cast<size_t>(out), 0);
  for (int64_t o = 0; o < out; ++o) {
    double x = SourceCoordinate(a, o, in, out, scale, roi_start, roi_end);
    if (a.coord == ResizeCoordMode::kTfCropAndResize &&
        !(x >= 0.0 && x <= static_cast<double>(in - 1))) {
      p.extrapolate[o] = 1;  // also for a NaN roi; the taps below go unused
      x = 0.0;
    }
    if (!(std::fabs(x) <= 1e15)) x = 0.0;  // keeps the integer conversions below defined
    // Prefer the tap on the left: an exact integer x gets ratio 1 to the tap below.
    double x0 = std::floor(x);
    double ratio = x - x0;
    if (ratio == 0.0) {
      x0 -= 1.0;
      ratio = 1.0;
    }
    std::vector<double> w = FilterWeights(a, ratio, scale);
    const int64_t taps = static_cast<int64_t>(w.size());
    if (p.taps == 0) {
      p.taps = taps;
      p.index.resize(static_cast<size_t>(out * taps));
      p.weight.resize(static_cast<size_t>(out * taps));
    }
    const int64_t first = static_cast<int64_t>(x0) - (taps / 2 - 1);
    if (a.exclude_outside) {
      double sum = 0.0;
      for (int64_t k = 0; k < taps; ++k) {
        if (first + k < 0 || first + k >= in) w[k] = 0.0;
        sum += w[k];
      }
      if (sum != 0.0) {
        for (double& v : w) v /= sum;
      }
    }
    for (int64_t k = 0; k < taps; ++k) {
      p.index[o * taps + k] = std::clamp<int64_t>(first + k, 0, in - 1);
      p.weight[o * taps + k] = w[k];
    }
  }
  return p;
}

bool IsClose(double a, double b) {
  return std::fabs(a - b) <= 1e-9 * std::max(std::fabs(a), std::fabs(b));
}

ResizeInput KernelInput(const KernelContext& ctx, size_t i) {
  ResizeInput r;
  if (!ctx.has_input(i) || ctx.input(i).num_elements() == 0) return r;
  r.present = true;
  r.values = ToDoubles(ctx.input(i));
  return r;
}

Status ResizeKernel(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  FRT_ASSIGN_OR_RETURN(ResizeAttrs a, ReadResizeAttrs(ctx.node(), x.rank()));
  FRT_ASSIGN_OR_RETURN(ResizeGeometry g, ResolveResize(ctx.node(), a, x.dims(), KernelInput(ctx, 1),
                                                       KernelInput(ctx, 2), KernelInput(ctx, 3)));
  std::vector<double> data = ToDoubles(x);
  Dims cur = x.dims();
  for (int64_t axis : a.axes) {
    const int64_t in_len = cur[axis];
    const int64_t out_len = g.out[axis];
    if (IsClose(g.scales[axis], 1.0) && out_len == in_len && IsClose(g.roi_start[axis], 0.0) &&
        IsClose(g.roi_end[axis], 1.0)) {
      continue;  // identity along this axis
    }
    int64_t outer = 1, inner = 1;
    for (int64_t d = 0; d < axis; ++d) outer *= cur[d];
    for (size_t d = axis + 1; d < cur.size(); ++d) inner *= cur[d];
    int64_t total = 0;
    if (__builtin_mul_overflow(outer * inner, out_len, &total)) total = -1;
    FRT_RETURN_IF_ERROR(MiscCheckScratch(ctx, total));
    std::vector<double> next(static_cast<size_t>(total), 0.0);
    if (total > 0 && in_len == 0) {
      return ctx.Error(StatusCode::kInvalidModel, "axis ", axis, " is empty and cannot be resized");
    }
    if (total > 0) {
      AxisPlan p = PlanAxis(a, in_len, out_len, g.scales[axis], g.roi_start[axis], g.roi_end[axis]);
      for (int64_t b = 0; b < outer; ++b) {
        const double* src = data.data() + b * in_len * inner;
        double* dst = next.data() + b * out_len * inner;
        for (int64_t o = 0; o < out_len; ++o) {
          for (int64_t i = 0; i < inner; ++i) {
            double v = a.extrapolation_value;
            if (!p.extrapolate[o]) {
              v = 0.0;
              for (int64_t k = 0; k < p.taps; ++k) {
                v += p.weight[o * p.taps + k] * src[p.index[o * p.taps + k] * inner + i];
              }
            }
            dst[o * inner + i] = v;
          }
        }
      }
    }
    data = std::move(next);
    cur[axis] = out_len;
  }
  Tensor* out = &ctx.output(0);
  if (!out->defined()) {
    FRT_ASSIGN_OR_RETURN(out, ctx.AllocateOutput(0, x.dtype(), cur));
  }
  if (cur != out->dims()) {
    return ctx.Error(StatusCode::kInternal, "resized to ", DimsToString(cur), " but the output is ",
                     DimsToString(out->dims()));
  }
  MiscStoreSaturated(*out, data);
  return Status::Ok();
}

}  // namespace

void RegisterMiscResizeKernels(CpuKernelRegistry& r) { r.Register(OpKind::kResize, ResizeKernel); }

}  // namespace frt
