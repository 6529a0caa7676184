// Resize geometry shared by the Resize schema and its CPU kernel: reading and
// validating the attributes, and resolving, per axis, the output size, the
// scale used by the coordinate transform and the region of interest. Both
// shape inference and the kernel call the same functions so that the two can
// never disagree on an output size.
//
// Semantics are ONNX Resize-19 (with tf_half_pixel_for_nn of Resize-11 kept
// so that opset 11/12 models import unchanged).
#pragma once

#include <optional>
#include <vector>

#include "ir/graph.h"

namespace frt {

enum class ResizeMode : uint8_t { kNearest, kLinear, kCubic };

enum class ResizeCoordMode : uint8_t {
  kHalfPixel,
  kHalfPixelSymmetric,
  kPytorchHalfPixel,
  kAlignCorners,
  kAsymmetric,
  kTfCropAndResize,
  kTfHalfPixelForNn,  // Resize-11 only: (x + 0.5) / scale
};

enum class NearestRounding : uint8_t { kRoundPreferFloor, kRoundPreferCeil, kFloor, kCeil };

enum class AspectRatioPolicy : uint8_t { kStretch, kNotLarger, kNotSmaller };

struct ResizeAttrs {
  ResizeMode mode = ResizeMode::kNearest;
  ResizeCoordMode coord = ResizeCoordMode::kHalfPixel;
  NearestRounding nearest = NearestRounding::kRoundPreferFloor;
  AspectRatioPolicy policy = AspectRatioPolicy::kStretch;
  double cubic_coeff_a = -0.75;
  double extrapolation_value = 0.0;
  bool exclude_outside = false;
  bool antialias = false;
  std::vector<int64_t> axes;  // normalized into [0, rank); all axes when the attribute is absent
};

// Reads and validates the attributes of a Resize node whose input has `rank`.
Result<ResizeAttrs> ReadResizeAttrs(const Node& node, size_t rank);

// What is known of the optional inputs roi (1), scales (2) and sizes (3).
// `present` is false for an absent input or one known to be empty; `values`
// is nullopt when the input is present but its values are not known yet.
struct ResizeInput {
  bool present = false;
  std::optional<std::vector<double>> values;
};

struct ResizeGeometry {
  Dims out;                       // -1 where unknown
  std::vector<double> scales;     // per axis; 0 where unknown
  std::vector<double> roi_start;  // per axis, in normalized input coordinates
  std::vector<double> roi_end;
};

// Resolves the output size and coordinate parameters of every axis. `in`
// holds the input dims, -1 where unknown. Errors on invalid scales, sizes or roi.
Result<ResizeGeometry> ResolveResize(const Node& node, const ResizeAttrs& attrs, const Dims& in,
                                     const ResizeInput& roi, const ResizeInput& scales,
                                     const ResizeInput& sizes);

}  // namespace frt
