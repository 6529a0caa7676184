// CUDA kernel of Resize for 4-D NCHW images, modes nearest and linear
// (bilinear), every coordinate_transformation_mode except
// tf_crop_and_resize, all nearest rounding modes, f32/f16/bf16 data.
// Semantics and geometry are exactly the CPU reference's
// (src/backends/cpu/misc_resize.cc; output sizes and scales from the shared
// ResolveResize in ir/ops/misc_resize.h).
//
// Two launches: a tiny kernel computes, per output row and per output column,
// the two source taps and their weights into the context's workspace (in
// double precision, with the reference's formulas and no FMA contraction, so
// nearest picks the same pixel even at exact .5 ties); the main kernel then
// reads them per output element. Linear interpolation accumulates in fp32
// (the reference uses double: outputs agree to fp32 rounding). Nearest copies
// the chosen element bit for bit.
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cmath>

#include "backends/cuda/float_convert.cuh"
#include "backends/cuda/tensor_util.h"
#include "ir/ops/misc_resize.h"

namespace frt::cuda_tensor {
namespace {

// Source taps of one output row or column. Nearest uses i0 only.
struct Tap {
  int32_t i0, i1;
  float w0, w1;
};

struct AxisParams {
  int64_t in_len;
  int64_t out_len;
  double scale;
  int identity;  // the reference skips this axis (scale 1, same length, full
                 // roi)
};

struct TapParams {
  AxisParams axis[2];  // H, W
  int coord;           // ResizeCoordMode
  int nearest;         // NearestRounding
  int linear;          // 1: linear, 0: nearest
  int exclude_outside;
};

// The reference's SourceCoordinate, in double, products rounded before any
// addition (__dmul_rn) so no FMA changes a result.
__device__ double SourceCoordinate(int coord, int64_t o, int64_t in, int64_t out, double scale) {
  const double x = static_cast<double>(o);
  const double len_in = static_cast<double>(in);
  const double len_out = __dmul_rn(scale, len_in);
  const bool single = fabs(len_out - 1.0) < 1e-9;
  switch (static_cast<ResizeCoordMode>(coord)) {
    case ResizeCoordMode::kHalfPixel:
      return (x + 0.5) / scale - 0.5;
    case ResizeCoordMode::kHalfPixelSymmetric: {
      const double adjustment = static_cast<double>(out) / len_out;
      const double offset = __dmul_rn(len_in / 2.0, 1.0 - adjustment);
      return offset + (x + 0.5) / scale - 0.5;
    }
    case ResizeCoordMode::kPytorchHalfPixel:
      return single ? -0.5 : (x + 0.5) / scale - 0.5;
    case ResizeCoordMode::kAlignCorners:
      return single ? 0.0 : __dmul_rn(x, len_in - 1.0) / (len_out - 1.0);
    case ResizeCoordMode::kAsymmetric:
      return x / scale;
    case ResizeCoordMode::kTfHalfPixelForNn:
      return (x + 0.5) / scale;
    default:
      return 0.0;  // tf_crop_and_resize: refused by supports
  }
}

// taps: [out_h] rows then [out_w] columns.
__global__ void ResizeTapsKernel(TapParams p, Tap* __restrict__ taps) {
  const int64_t total = p.axis[0].out_len + p.axis[1].out_len;
  for (int64_t t = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; t < total;
       t += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int which = t < p.axis[0].out_len ? 0 : 1;
    const AxisParams& a = p.axis[which];
    const int64_t o = which == 0 ? t : t - p.axis[0].out_len;
    Tap tap;
    if (a.identity) {
      tap = {static_cast<int32_t>(o), static_cast<int32_t>(o), 1.0f, 0.0f};
      taps[t] = tap;
      continue;
    }
    double x = SourceCoordinate(p.coord, o, a.in_len, a.out_len, a.scale);
    if (!(fabs(x) <= 1e15)) x = 0.0;
    // Prefer the tap on the left: an exact integer x gets ratio 1 to the tap
    // below.
    double x0 = floor(x);
    double ratio = x - x0;
    if (ratio == 0.0) {
      x0 -= 1.0;
      ratio = 1.0;
    }
    const int64_t first = static_cast<int64_t>(x0);
    auto clamp = [&](int64_t i) {
      return static_cast<int32_t>(i < 0 ? 0 : (i >= a.in_len ? a.in_len - 1 : i));
    };
    if (!p.linear) {
      bool upper = true;
      if (ratio != 1.0) {
        switch (static_cast<NearestRounding>(p.nearest)) {
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
      }
      const int32_t i = clamp(first + (upper ? 1 : 0));
      tap = {i, i, 1.0f, 0.0f};
    } else {
      double w0 = 1.0 - ratio, w1 = ratio;
      if (p.exclude_outside) {
        if (first < 0 || first >= a.in_len) w0 = 0.0;
        if (first + 1 < 0 || first + 1 >= a.in_len) w1 = 0.0;
        const double sum = w0 + w1;
        if (sum != 0.0) {
          w0 /= sum;
          w1 /= sum;
        }
      }
      tap = {clamp(first), clamp(first + 1), static_cast<float>(w0), static_cast<float>(w1)};
    }
    taps[t] = tap;
  }
}

using cuda_convert::FromFloat;
using cuda_convert::ToFloat;

struct ResizeParams {
  int64_t in_h, in_w;    // input [planes, in_h, in_w]
  int64_t out_h, out_w;  // output [planes, out_h, out_w]
  int64_t total;         // planes * out_h * out_w
};

// in: [N*C, in_h, in_w]; taps: [out_h + out_w]; out: [N*C, out_h, out_w].
template <class T, bool kLinear>
__global__ void ResizeKernel(ResizeParams p, const Tap* __restrict__ taps, const T* __restrict__ in,
                             T* __restrict__ out) {
  const Tap* col_taps = taps + p.out_h;
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < p.total;
       i += step) {
    const int64_t row_all = i / p.out_w;
    const int64_t ow = i - row_all * p.out_w;
    const int64_t plane = row_all / p.out_h;
    const int64_t oh = row_all - plane * p.out_h;
    const T* src = in + plane * p.in_h * p.in_w;
    const Tap th = taps[oh], tw = col_taps[ow];
    if constexpr (!kLinear) {
      out[i] = src[static_cast<int64_t>(th.i0) * p.in_w + tw.i0];
    } else {
      const T* r0 = src + static_cast<int64_t>(th.i0) * p.in_w;
      const T* r1 = src + static_cast<int64_t>(th.i1) * p.in_w;
      // The reference's order: along H first (each source column), then along
      // W.
      const float left = th.w0 * ToFloat(r0[tw.i0]) + th.w1 * ToFloat(r1[tw.i0]);
      const float right = th.w0 * ToFloat(r0[tw.i1]) + th.w1 * ToFloat(r1[tw.i1]);
      out[i] = FromFloat<T>(tw.w0 * left + tw.w1 * right);
    }
  }
}

template <class T>
void LaunchResize(CudaKernelContext& ctx, const ResizeParams& p, bool linear, const Tap* taps,
                  const void* in, void* out) {
  const unsigned grid = GridFor(ctx, p.total, 256);
  const auto* src = static_cast<const T*>(in);
  auto* dst = static_cast<T*>(out);
  if (linear) {
    ResizeKernel<T, true><<<grid, 256, 0, ctx.stream()>>>(p, taps, src, dst);
  } else {
    ResizeKernel<T, false><<<grid, 256, 0, ctx.stream()>>>(p, taps, src, dst);
  }
}

bool IsClose(double a, double b) {
  return std::fabs(a - b) <= 1e-9 * std::max(std::fabs(a), std::fabs(b));
}

// Known values of optional input i for ResolveResize: from the runtime's host
// copy at run time (`ctx` given) or from a constant at build time.
Result<ResizeInput> RunInput(CudaKernelContext& ctx, size_t i, std::string_view name) {
  ResizeInput r;
  if (!ctx.has_input(i) || ctx.input(i).num_elements() == 0) return r;
  r.present = true;
  FRT_ASSIGN_OR_RETURN(r.values, HostDoubles(ctx, i, name));
  return r;
}

ResizeInput BuildInput(const Node& node, size_t i) {
  ResizeInput r;
  if (!node.has_input(i)) return r;
  const Value* v = node.inputs[i];
  if (v->shape && v->shape->is_static()) {
    const Dims dims = v->shape->static_dims();
    if (Product(dims, 0, dims.size()) == 0) return r;  // known empty: absent
  }
  r.present = true;
  if (v->constant) {
    std::vector<double> vals;
    for (int64_t k = 0; k < v->constant->num_elements(); ++k) {
      vals.push_back(v->constant->GetAsDouble(k));
    }
    r.values = std::move(vals);
  }
  return r;
}

std::string SupportsResize(const Node& node) {
  if (!node.has_input(0) || !node.has_output(0)) return "needs X and an output";
  const Value* x = node.inputs[0];
  if (!IsFloatDType(x->dtype) || node.outputs[0]->dtype != x->dtype) {
    return StrCat("X has dtype ", DTypeName(x->dtype), "; f32, f16 or bf16 is supported");
  }
  if (!x->shape || x->shape->rank() != 4) return "X must be a 4-D NCHW tensor";
  auto attrs = ReadResizeAttrs(node, 4);
  if (!attrs.ok()) return attrs.status().message();
  if (attrs->mode == ResizeMode::kCubic) return "mode cubic is not supported (nearest, linear)";
  if (attrs->antialias) return "antialias is not supported";
  if (attrs->coord == ResizeCoordMode::kTfCropAndResize) {
    return "coordinate_transformation_mode tf_crop_and_resize is not supported";
  }
  Dims in(4, -1);
  for (size_t d = 0; d < 4; ++d) {
    if ((*x->shape)[d].is_static()) in[d] = (*x->shape)[d].value();
  }
  auto g = ResolveResize(node, *attrs, in, BuildInput(node, 1), BuildInput(node, 2),
                         BuildInput(node, 3));
  if (!g.ok()) return g.status().message();
  for (size_t d = 0; d < 2; ++d) {
    const bool known = g->scales[d] != 0.0;
    if (known && (!IsClose(g->scales[d], 1.0) || (in[d] >= 0 && g->out[d] != in[d]))) {
      return StrCat("axis ", d, " is resized (scale ", g->scales[d],
                    "); only H and W (axes 2 and 3) may be");
    }
  }
  return "";
}

Status ResizeRun(CudaKernelContext& ctx) {
  const DeviceTensor& x = ctx.input(0);
  DeviceTensor& out = ctx.output(0);
  if (x.dims.size() != 4) {
    return ctx.Error(StatusCode::kUnsupported, "X ", DimsToString(x.dims), " is not 4-D NCHW");
  }
  FRT_ASSIGN_OR_RETURN(ResizeAttrs a, ReadResizeAttrs(ctx.node(), 4));
  FRT_ASSIGN_OR_RETURN(ResizeInput roi, RunInput(ctx, 1, "roi"));
  FRT_ASSIGN_OR_RETURN(ResizeInput scales, RunInput(ctx, 2, "scales"));
  FRT_ASSIGN_OR_RETURN(ResizeInput sizes, RunInput(ctx, 3, "sizes"));
  FRT_ASSIGN_OR_RETURN(ResizeGeometry g, ResolveResize(ctx.node(), a, x.dims, roi, scales, sizes));
  if (g.out != out.dims) {
    return ctx.Error(StatusCode::kInternal, "resizes to ", DimsToString(g.out),
                     " but the output is ", DimsToString(out.dims));
  }
  for (size_t d = 0; d < 2; ++d) {
    if (!IsClose(g.scales[d], 1.0) || g.out[d] != x.dims[d]) {
      return ctx.Error(StatusCode::kUnsupported, "axis ", d, " is resized (scale ", g.scales[d],
                       "); only H and W (axes 2 and 3) may be");
    }
  }
  if (out.num_elements() == 0) return Status::Ok();
  TapParams tp{};
  for (int k = 0; k < 2; ++k) {
    const size_t d = 2 + static_cast<size_t>(k);
    AxisParams& ax = tp.axis[k];
    ax.in_len = x.dims[d];
    ax.out_len = g.out[d];
    ax.scale = g.scales[d];
    if (ax.in_len == 0 || ax.in_len > INT32_MAX) {
      return ctx.Error(StatusCode::kInvalidArgument, "axis ", d, " of X ", DimsToString(x.dims),
                       " cannot be resized (empty, or longer than 2^31 - 1)");
    }
    ax.identity = IsClose(ax.scale, 1.0) && ax.out_len == ax.in_len &&
                  IsClose(g.roi_start[d], 0.0) && IsClose(g.roi_end[d], 1.0);
  }
  tp.coord = static_cast<int>(a.coord);
  tp.nearest = static_cast<int>(a.nearest);
  tp.linear = a.mode == ResizeMode::kLinear ? 1 : 0;
  tp.exclude_outside = a.exclude_outside ? 1 : 0;
  const int64_t num_taps = tp.axis[0].out_len + tp.axis[1].out_len;
  CudaResources& res = ctx.resources();
  const size_t tap_bytes = static_cast<size_t>(num_taps) * sizeof(Tap);
  if (res.workspace == nullptr || tap_bytes > res.workspace_size) {
    return ctx.Error(StatusCode::kResourceExhausted, "the tap tables need ", tap_bytes,
                     " bytes of workspace; the context has ", res.workspace_size);
  }
  auto* taps = static_cast<Tap*>(res.workspace);
  ResizeTapsKernel<<<GridFor(ctx, num_taps, 128), 128, 0, ctx.stream()>>>(tp, taps);
  FRT_RETURN_IF_ERROR(ctx.LaunchStatus());
  ResizeParams p{};
  p.in_h = x.dims[2];
  p.in_w = x.dims[3];
  p.out_h = out.dims[2];
  p.out_w = out.dims[3];
  p.total = out.num_elements();
  const bool linear = tp.linear != 0;
  switch (x.dtype) {
    case DType::kFloat32:
      LaunchResize<float>(ctx, p, linear, taps, x.data, out.data);
      break;
    case DType::kFloat16:
      LaunchResize<__half>(ctx, p, linear, taps, x.data, out.data);
      break;
    case DType::kBFloat16:
      LaunchResize<__nv_bfloat16>(ctx, p, linear, taps, x.data, out.data);
      break;
    default:
      return ctx.Error(StatusCode::kUnsupported, "X has dtype ", DTypeName(x.dtype));
  }
  return ctx.LaunchStatus();
}

}  // namespace

void RegisterResizeKernels(CudaKernelRegistry& r) {
  r.Register({"tensor.resize", OpKind::kResize, SupportsResize, ResizeRun});
}

}  // namespace frt::cuda_tensor
