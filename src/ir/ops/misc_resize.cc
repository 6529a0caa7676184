// Schema of Resize (ONNX Resize-19 semantics) and the geometry shared with
// its kernel (misc_resize.h): attribute parsing, and the per-axis output
// size / scale / region of interest, including the sizes-with-aspect-ratio
// policies and the `axes` subset.
#include "ir/ops/misc_resize.h"

#include <algorithm>
#include <cmath>

#include "ir/ops/misc_schema_util.h"

namespace frt {
namespace {

// Output dims above this are refused before any arithmetic can overflow.
constexpr double kMaxResizeDim = 1099511627776.0;  // 2^40

template <class E>
struct Named {
  const char* name;
  E value;
};

template <class E, size_t N>
Result<E> ParseEnum(const Node& node, const char* attr, const std::string& given,
                    const Named<E> (&table)[N]) {
  std::string allowed;
  for (const auto& e : table) {
    if (given == e.name) return e.value;
    allowed += allowed.empty() ? "" : ", ";
    allowed += e.name;
  }
  return MakeError(StatusCode::kUnsupported, node.Describe(), ": ", attr, " \"", given,
                   "\" is not supported (expected one of ", allowed, ")");
}

constexpr Named<ResizeMode> kModes[] = {{"nearest", ResizeMode::kNearest},
                                        {"linear", ResizeMode::kLinear},
                                        {"cubic", ResizeMode::kCubic}};

constexpr Named<ResizeCoordMode> kCoordModes[] = {
    {"half_pixel", ResizeCoordMode::kHalfPixel},
    {"half_pixel_symmetric", ResizeCoordMode::kHalfPixelSymmetric},
    {"pytorch_half_pixel", ResizeCoordMode::kPytorchHalfPixel},
    {"align_corners", ResizeCoordMode::kAlignCorners},
    {"asymmetric", ResizeCoordMode::kAsymmetric},
    {"tf_crop_and_resize", ResizeCoordMode::kTfCropAndResize},
    {"tf_half_pixel_for_nn", ResizeCoordMode::kTfHalfPixelForNn}};

constexpr Named<NearestRounding> kNearestModes[] = {
    {"round_prefer_floor", NearestRounding::kRoundPreferFloor},
    {"round_prefer_ceil", NearestRounding::kRoundPreferCeil},
    {"floor", NearestRounding::kFloor},
    {"ceil", NearestRounding::kCeil}};

constexpr Named<AspectRatioPolicy> kPolicies[] = {{"stretch", AspectRatioPolicy::kStretch},
                                                  {"not_larger", AspectRatioPolicy::kNotLarger},
                                                  {"not_smaller", AspectRatioPolicy::kNotSmaller}};

}  // namespace

Result<ResizeAttrs> ReadResizeAttrs(const Node& node, size_t rank) {
  const Attributes& at = node.attrs;
  ResizeAttrs a;
  FRT_ASSIGN_OR_RETURN(a.mode, ParseEnum(node, "mode", at.GetString("mode", "nearest"), kModes));
  FRT_ASSIGN_OR_RETURN(
      a.coord,
      ParseEnum(node, "coordinate_transformation_mode",
                at.GetString("coordinate_transformation_mode", "half_pixel"), kCoordModes));
  FRT_ASSIGN_OR_RETURN(
      a.nearest, ParseEnum(node, "nearest_mode", at.GetString("nearest_mode", "round_prefer_floor"),
                           kNearestModes));
  FRT_ASSIGN_OR_RETURN(a.policy,
                       ParseEnum(node, "keep_aspect_ratio_policy",
                                 at.GetString("keep_aspect_ratio_policy", "stretch"), kPolicies));
  a.cubic_coeff_a = at.GetFloat("cubic_coeff_a", -0.75f);
  a.extrapolation_value = at.GetFloat("extrapolation_value", 0.0f);
  int64_t exclude = at.GetInt("exclude_outside", 0);
  int64_t antialias = at.GetInt("antialias", 0);
  if ((exclude != 0 && exclude != 1) || (antialias != 0 && antialias != 1)) {
    return MakeError(StatusCode::kInvalidModel, node.Describe(), ": exclude_outside (", exclude,
                     ") and antialias (", antialias, ") must be 0 or 1");
  }
  a.exclude_outside = exclude == 1;
  a.antialias = antialias == 1;
  if (rank == 0) {
    return MakeError(StatusCode::kInvalidModel, node.Describe(),
                     ": input is a scalar but Resize needs rank 1 or more");
  }
  if (!at.Has("axes")) {
    for (size_t d = 0; d < rank; ++d) a.axes.push_back(static_cast<int64_t>(d));
    return a;
  }
  std::vector<bool> seen(rank, false);
  for (int64_t axis : at.GetInts("axes")) {
    auto n = NormalizeAxis(axis, static_cast<int64_t>(rank));
    if (!n.ok()) return n.status().WithPrefix(node.Describe());
    if (seen[*n]) {
      return MakeError(StatusCode::kInvalidModel, node.Describe(), ": axes ",
                       DimsToString(at.GetInts("axes")), " name axis ", *n, " twice");
    }
    seen[*n] = true;
    a.axes.push_back(*n);
  }
  return a;
}

Result<ResizeGeometry> ResolveResize(const Node& node, const ResizeAttrs& attrs, const Dims& in,
                                     const ResizeInput& roi, const ResizeInput& scales,
                                     const ResizeInput& sizes) {
  const size_t rank = in.size();
  const size_t n = attrs.axes.size();
  ResizeGeometry g;
  g.out = in;
  g.scales.assign(rank, 1.0);
  g.roi_start.assign(rank, 0.0);
  g.roi_end.assign(rank, 1.0);
  auto count_error = [&](const char* what, size_t got, size_t want) {
    return MakeError(StatusCode::kInvalidModel, node.Describe(), ": ", what, " has ", got,
                     " values but ", want, " are required (", n, " resized axes)");
  };
  if (attrs.coord == ResizeCoordMode::kTfCropAndResize && roi.present && roi.values) {
    if (roi.values->size() != 2 * n) return count_error("roi", roi.values->size(), 2 * n);
    for (size_t i = 0; i < n; ++i) {
      g.roi_start[attrs.axes[i]] = (*roi.values)[i];
      g.roi_end[attrs.axes[i]] = (*roi.values)[n + i];
    }
  }
  if (scales.present && sizes.present && (!scales.values || !sizes.values)) {
    // One of them may still turn out empty at run time.
    for (int64_t d : attrs.axes) {
      g.out[d] = -1;
      g.scales[d] = 0.0;
    }
    return g;
  }
  if (scales.present && sizes.present) {
    return MakeError(StatusCode::kInvalidModel, node.Describe(),
                     ": both scales and sizes are given; exactly one of them must be non-empty");
  }
  if (!scales.present && !sizes.present) {
    return MakeError(StatusCode::kInvalidModel, node.Describe(),
                     ": neither scales nor sizes is given; exactly one of them is required");
  }
  const ResizeInput& given = scales.present ? scales : sizes;
  if (!given.values) {
    for (int64_t d : attrs.axes) {
      g.out[d] = -1;
      g.scales[d] = 0.0;
    }
    return g;
  }
  const std::vector<double>& v = *given.values;
  if (v.size() != n) return count_error(scales.present ? "scales" : "sizes", v.size(), n);

  if (scales.present) {
    for (size_t i = 0; i < n; ++i) {
      const int64_t d = attrs.axes[i];
      if (!(v[i] > 0.0) || !std::isfinite(v[i])) {
        return MakeError(StatusCode::kInvalidModel, node.Describe(), ": scale ", v[i], " for axis ",
                         d, " must be a positive finite number");
      }
      g.scales[d] = v[i];
      if (in[d] < 0) {
        g.out[d] = -1;
        continue;
      }
      double out = std::floor(v[i] * static_cast<double>(in[d]));
      if (out > kMaxResizeDim) {
        return MakeError(StatusCode::kOutOfRange, node.Describe(), ": scale ", v[i], " makes axis ",
                         d, " of size ", in[d], " too large");
      }
      g.out[d] = static_cast<int64_t>(out);
    }
    return g;
  }

  for (size_t i = 0; i < n; ++i) {
    const int64_t d = attrs.axes[i];
    if (!(v[i] >= 0.0) || v[i] > kMaxResizeDim || v[i] != std::floor(v[i])) {
      return MakeError(StatusCode::kInvalidModel, node.Describe(), ": size ", v[i], " for axis ", d,
                       " must be an integer in [0, 2^40]");
    }
    if (in[d] == 0 && v[i] > 0) {
      return MakeError(StatusCode::kInvalidModel, node.Describe(), ": axis ", d,
                       " is empty and cannot be resized to ", v[i]);
    }
  }
  if (attrs.policy == AspectRatioPolicy::kStretch) {
    for (size_t i = 0; i < n; ++i) {
      const int64_t d = attrs.axes[i];
      g.out[d] = static_cast<int64_t>(v[i]);
      g.scales[d] = in[d] > 0 ? v[i] / static_cast<double>(in[d]) : (in[d] == 0 ? 1.0 : 0.0);
    }
    return g;
  }
  // One scale for every resized axis: the smallest (not_larger) or the
  // largest (not_smaller) of the per-axis ratios; sizes round half up.
  bool known = true;
  double scale = 0.0;
  for (size_t i = 0; i < n; ++i) {
    const int64_t d = attrs.axes[i];
    if (in[d] < 0) {
      known = false;
      continue;
    }
    if (in[d] == 0) continue;
    double s = v[i] / static_cast<double>(in[d]);
    if (scale == 0.0) {
      scale = s;
    } else {
      scale =
          attrs.policy == AspectRatioPolicy::kNotLarger ? std::min(scale, s) : std::max(scale, s);
    }
  }
  for (size_t i = 0; i < n; ++i) {
    const int64_t d = attrs.axes[i];
    if (!known) {
      g.out[d] = -1;
      g.scales[d] = 0.0;
      continue;
    }
    g.scales[d] = scale;
    double out = std::floor(scale * static_cast<double>(in[d]) + 0.5);
    if (out > kMaxResizeDim) {
      return MakeError(StatusCode::kOutOfRange, node.Describe(), ": axis ", d, " would grow to ",
                       out, " elements");
    }
    g.out[d] = static_cast<int64_t>(out);
  }
  return g;
}

namespace {

// What inference knows of optional input i: absent, known empty, unknown or known values.
ResizeInput DescribeInput(const InferContext& ctx, size_t i) {
  ResizeInput r;
  if (!ctx.has_input(i)) return r;
  if (const Shape* s = ctx.input_shape(i)) {
    for (const Dim& d : s->dims()) {
      if (d.is_static() && d.value() == 0) return r;  // empty: same as absent
    }
  }
  r.present = true;
  if (const Tensor* t = ctx.input_value(i)) {
    std::vector<double> v(static_cast<size_t>(t->num_elements()));
    for (int64_t k = 0; k < t->num_elements(); ++k) v[k] = t->GetAsDouble(k);
    r.values = std::move(v);
  }
  return r;
}

Status InferResize(InferContext& ctx) {
  FRT_RETURN_IF_ERROR(
      MiscRequireDType(ctx, 0, "X", IsMiscNumeric, "a numeric type (float or integer, not fp8)"));
  FRT_RETURN_IF_ERROR(MiscRequireDType(ctx, 1, "roi", IsMiscFloat, kMiscFloatTypes));
  FRT_RETURN_IF_ERROR(MiscRequireDType(ctx, 2, "scales", IsMiscFloat, kMiscFloatTypes));
  FRT_RETURN_IF_ERROR(MiscRequireDType(
      ctx, 3, "sizes", [](DType t) { return t == DType::kInt64; }, "int64"));
  for (size_t i = 1; i <= 3; ++i) {
    const char* names[] = {"", "roi", "scales", "sizes"};
    FRT_RETURN_IF_ERROR(MiscRequireRank(ctx, i, names[i], 1));
  }
  const DType dtype = ctx.input_dtype(0);
  const Shape* xs = ctx.input_shape(0);
  if (!xs) {
    ctx.SetOutputDType(0, dtype);
    return Status::Ok();
  }
  FRT_ASSIGN_OR_RETURN(ResizeAttrs attrs, ReadResizeAttrs(ctx.node(), xs->rank()));
  Dims in(xs->rank());
  for (size_t d = 0; d < in.size(); ++d) in[d] = (*xs)[d].is_static() ? (*xs)[d].value() : -1;
  FRT_ASSIGN_OR_RETURN(ResizeGeometry g,
                       ResolveResize(ctx.node(), attrs, in, DescribeInput(ctx, 1),
                                     DescribeInput(ctx, 2), DescribeInput(ctx, 3)));
  std::vector<Dim> out = xs->dims();  // axes outside `axes` keep their (maybe symbolic) dim
  for (int64_t d : attrs.axes) out[d] = g.out[d] >= 0 ? Dim(g.out[d]) : Dim();
  ctx.SetOutput(0, dtype, Shape(std::move(out)));
  return Status::Ok();
}

}  // namespace

void RegisterMiscResizeOps(OpRegistry& r) {
  r.Register(
      {OpKind::kResize, FusionKind::kOpaque, PrecisionPolicy::kAlways, 1, 4, 1, 1, InferResize});
}

}  // namespace frt
