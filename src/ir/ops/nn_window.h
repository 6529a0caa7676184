// Sliding-window geometry shared by the convolution and pooling schemas and
// their CPU kernels: reading and validating kernel_shape / strides /
// dilations / pads / auto_pad / ceil_mode, and resolving, per spatial axis,
// the output size and the effective begin/end padding. Both shape inference
// and the kernels call the same functions so the two can never disagree.
#pragma once

#include <string>
#include <vector>

#include "ir/graph.h"

namespace frt::nn {

enum class WindowKind : uint8_t {
  kConv,           // Conv, ConvInteger, QLinearConv: floor division, SAME pads by ceil(in/s)
  kPool,           // MaxPool, AveragePool, LpPool: like conv plus ceil_mode
  kConvTranspose,  // ConvTranspose: output grows with the stride
};

// The window attributes of one node, one entry per spatial axis.
struct Window {
  std::string auto_pad = "NOTSET";  // NOTSET, SAME_UPPER, SAME_LOWER or VALID
  Dims kernel;                      // -1 where not known yet (weights of unknown shape)
  Dims strides;
  Dims dilations;
  Dims pads;               // [2 * rank]: every begin, then every end
  bool ceil_mode = false;  // pooling only
  Dims output_padding;     // ConvTranspose only
  Dims output_shape;       // ConvTranspose only: spatial output sizes, or empty

  size_t rank() const { return strides.size(); }
  int64_t EffectiveKernel(size_t d) const { return (kernel[d] - 1) * dilations[d] + 1; }
};

// The resolved geometry of one spatial axis: input position of output o and
// kernel tap k is o * stride - pad_begin + k * dilation (for ConvTranspose the
// roles of input and output swap).
struct AxisGeometry {
  int64_t out = -1;  // -1: unknown (input size or kernel unknown and needed)
  int64_t pad_begin = 0;
  int64_t pad_end = 0;
};

// Reads and validates the window attributes of `node` for `spatial` axes.
// `weight_kernel` holds the weights' spatial dims (-1 where unknown) for the
// convolutions, nullptr for pooling (where kernel_shape is required).
Result<Window> ReadWindow(const Node& node, WindowKind kind, size_t spatial,
                          const Dims* weight_kernel);

// Resolves spatial axis d for input size `in` (-1 = unknown: out is -1 too).
// Errors when the (padded) input is smaller than the kernel window.
Result<AxisGeometry> ResolveAxis(const Node& node, WindowKind kind, const Window& w, size_t d,
                                 int64_t in);

// Resolves every spatial axis of a concrete input.
Result<std::vector<AxisGeometry>> ResolveWindow(const Node& node, WindowKind kind, const Window& w,
                                                const Dims& in_spatial);

// Visits every index of `dims` in row-major order: f(const Dims& index).
// Does nothing when any dim is 0.
template <class F>
void ForEachIndex(const Dims& dims, F&& f) {
  for (int64_t d : dims) {
    if (d <= 0) return;
  }
  Dims idx(dims.size(), 0);
  for (;;) {
    f(static_cast<const Dims&>(idx));
    size_t d = dims.size();
    while (d > 0) {
      --d;
      if (++idx[d] < dims[d]) break;
      idx[d] = 0;
      if (d == 0) return;
    }
    if (dims.empty()) return;
  }
}

}  // namespace frt::nn
