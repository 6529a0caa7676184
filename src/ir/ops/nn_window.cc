// Window attribute parsing and per-axis geometry for convolution and pooling
// (see nn_window.h). The formulas follow the ONNX operator specs: explicit
// pads use floor((in + pads - window) / stride) + 1 (ceil in pooling's
// ceil_mode, never starting a window in the end padding); SAME_* uses
// ceil(in / stride) outputs and splits the needed padding with the odd unit
// at the end (UPPER) or the beginning (LOWER); ConvTranspose computes
// stride * (in - 1) + output_padding + window - pads, or derives the pads from
// output_shape.
#include "ir/ops/nn_window.h"

#include <algorithm>

namespace frt::nn {
namespace {

int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

int64_t CeilDiv(int64_t a, int64_t b) { return -FloorDiv(-a, b); }

template <class... Args>
Status NodeError(const Node& node, StatusCode code, const Args&... args) {
  return MakeError(code, node.Describe(), ": ", args...);
}

// Window sizes beyond this are nonsense in any real model; rejecting them
// keeps the geometry arithmetic far from int64 overflow on hostile input.
constexpr int64_t kMaxWindowValue = int64_t{1} << 31;
// Likewise for input sizes (a tensor with a zero dim may declare a huge one).
constexpr int64_t kMaxInputDim = int64_t{1} << 56;

// Reads an INTS attribute of `want` entries (default `def` for each when
// absent) and checks every entry lies in [min, kMaxWindowValue].
Result<Dims> ReadInts(const Node& node, const char* name, size_t want, int64_t def, int64_t min) {
  if (!node.attrs.Has(name)) return Dims(want, def);
  Dims v = node.attrs.GetInts(name);
  if (v.size() != want) {
    return NodeError(node, StatusCode::kInvalidModel, "attribute ", name, " has ", v.size(),
                     " values but ", want, " are required (one per spatial axis",
                     std::string(name) == "pads" ? ", begins then ends" : "", ")");
  }
  for (size_t i = 0; i < v.size(); ++i) {
    if (v[i] < min || v[i] > kMaxWindowValue) {
      return NodeError(node, StatusCode::kInvalidModel, "attribute ", name, "[", i, "] is ", v[i],
                       " but must be in [", min, ", ", kMaxWindowValue, "]");
    }
  }
  return v;
}

}  // namespace

Result<Window> ReadWindow(const Node& node, WindowKind kind, size_t spatial,
                          const Dims* weight_kernel) {
  Window w;
  w.auto_pad = node.attrs.GetString("auto_pad", "NOTSET");
  if (w.auto_pad.empty()) w.auto_pad = "NOTSET";
  if (w.auto_pad != "NOTSET" && w.auto_pad != "SAME_UPPER" && w.auto_pad != "SAME_LOWER" &&
      w.auto_pad != "VALID") {
    return NodeError(node, StatusCode::kInvalidModel, "auto_pad is \"", w.auto_pad,
                     "\" but must be NOTSET, SAME_UPPER, SAME_LOWER or VALID");
  }
  if (node.attrs.Has("kernel_shape")) {
    FRT_ASSIGN_OR_RETURN(w.kernel, ReadInts(node, "kernel_shape", spatial, 1, 1));
    if (weight_kernel) {
      for (size_t d = 0; d < spatial; ++d) {
        if ((*weight_kernel)[d] >= 0 && (*weight_kernel)[d] != w.kernel[d]) {
          return NodeError(node, StatusCode::kInvalidModel, "kernel_shape ", DimsToString(w.kernel),
                           " does not match the weights' spatial dims ",
                           DimsToString(*weight_kernel));
        }
      }
    }
  } else if (weight_kernel) {
    w.kernel = *weight_kernel;
    for (size_t d = 0; d < spatial; ++d) {
      if (w.kernel[d] == 0 || w.kernel[d] > kMaxWindowValue) {
        return NodeError(node, StatusCode::kInvalidModel, "the weights' spatial dims ",
                         DimsToString(w.kernel), " must each be in [1, ", kMaxWindowValue, "]");
      }
    }
  } else {
    return NodeError(node, StatusCode::kInvalidModel, "attribute kernel_shape is required");
  }
  FRT_ASSIGN_OR_RETURN(w.strides, ReadInts(node, "strides", spatial, 1, 1));
  FRT_ASSIGN_OR_RETURN(w.dilations, ReadInts(node, "dilations", spatial, 1, 1));
  FRT_ASSIGN_OR_RETURN(w.pads, ReadInts(node, "pads", 2 * spatial, 0, 0));
  if (w.auto_pad != "NOTSET" && node.attrs.Has("pads") &&
      std::any_of(w.pads.begin(), w.pads.end(), [](int64_t p) { return p != 0; })) {
    return NodeError(node, StatusCode::kInvalidModel, "pads ", DimsToString(w.pads),
                     " cannot be combined with auto_pad ", w.auto_pad);
  }
  if (kind == WindowKind::kPool) w.ceil_mode = node.attrs.GetInt("ceil_mode", 0) != 0;
  if (kind == WindowKind::kConvTranspose) {
    FRT_ASSIGN_OR_RETURN(w.output_padding, ReadInts(node, "output_padding", spatial, 0, 0));
    if (node.attrs.Has("output_shape")) {
      Dims os = node.attrs.GetInts("output_shape");
      // Spatial sizes; a full [N, C, spatial...] shape is accepted too.
      if (os.size() == spatial + 2) os.erase(os.begin(), os.begin() + 2);
      if (os.size() != spatial) {
        return NodeError(node, StatusCode::kInvalidModel, "output_shape has ", os.size(),
                         " values but ", spatial, " spatial sizes are required");
      }
      for (int64_t v : os) {
        if (v < 0 || v > kMaxWindowValue) {
          return NodeError(node, StatusCode::kInvalidModel, "output_shape ", DimsToString(os),
                           " has a size outside [0, ", kMaxWindowValue, "]");
        }
      }
      w.output_shape = os;
    }
  }
  return w;
}

Result<AxisGeometry> ResolveAxis(const Node& node, WindowKind kind, const Window& w, size_t d,
                                 int64_t in) {
  AxisGeometry g;
  g.pad_begin = w.pads[d];
  g.pad_end = w.pads[d + w.rank()];
  if (in < 0 || w.kernel[d] < 0) {
    // Some output sizes need neither the input size nor the kernel.
    if (kind == WindowKind::kConvTranspose && !w.output_shape.empty()) {
      g.out = w.output_shape[d];
    } else if (in >= 0 && kind != WindowKind::kConvTranspose &&
               (w.auto_pad == "SAME_UPPER" || w.auto_pad == "SAME_LOWER")) {
      g.out = CeilDiv(in, w.strides[d]);
    }
    return g;
  }
  if (in > kMaxInputDim) {
    return NodeError(node, StatusCode::kOutOfRange, "spatial axis ", d, " has size ", in,
                     ", above the supported maximum ", kMaxInputDim);
  }
  const int64_t s = w.strides[d];
  const int64_t window = w.EffectiveKernel(d);
  const bool same = w.auto_pad == "SAME_UPPER" || w.auto_pad == "SAME_LOWER";
  const bool upper = w.auto_pad == "SAME_UPPER";

  if (kind == WindowKind::kConvTranspose) {
    int64_t scaled = 0;
    if (__builtin_mul_overflow(s, std::max<int64_t>(in, 1), &scaled) || scaled > kMaxInputDim) {
      return NodeError(node, StatusCode::kOutOfRange, "spatial axis ", d, ": input size ", in,
                       " times stride ", s, " exceeds the supported maximum ", kMaxInputDim);
    }
    const int64_t full = s * (in - 1) + w.output_padding[d] + window;
    if (!w.output_shape.empty() || same) {
      g.out = !w.output_shape.empty() ? w.output_shape[d] : in * s;
      int64_t total = full - g.out;
      // Python floor division, as in the spec: a negative total (output
      // larger than the full result) extends the output at its end.
      if (upper) {
        g.pad_begin = FloorDiv(total, 2);
        g.pad_end = total - g.pad_begin;
      } else {
        g.pad_end = FloorDiv(total, 2);
        g.pad_begin = total - g.pad_end;
      }
    } else if (w.auto_pad == "VALID") {
      g.pad_begin = g.pad_end = 0;
      g.out = full;
    } else {
      g.out = full - g.pad_begin - g.pad_end;
    }
    if (g.out < 0) {
      return NodeError(node, StatusCode::kInvalidModel, "spatial axis ", d, ": pads ", g.pad_begin,
                       "+", g.pad_end, " exceed the full transposed output size ", full);
    }
    return g;
  }

  if (same) {
    g.out = CeilDiv(in, s);
    int64_t total = std::max<int64_t>(0, (g.out - 1) * s + window - in);
    g.pad_begin = upper ? total / 2 : total - total / 2;
    g.pad_end = total - g.pad_begin;
    return g;
  }
  if (w.auto_pad == "VALID") g.pad_begin = g.pad_end = 0;
  const int64_t span = in + g.pad_begin + g.pad_end - window;
  if (span < 0) {
    return NodeError(node, StatusCode::kInvalidModel, "spatial axis ", d, ": the kernel window ",
                     window, " (kernel ", w.kernel[d], ", dilation ", w.dilations[d],
                     ") is larger than the padded input ", in + g.pad_begin + g.pad_end, " (input ",
                     in, ", pads ", g.pad_begin, "+", g.pad_end, ")");
  }
  if (kind == WindowKind::kPool && w.ceil_mode) {
    g.out = CeilDiv(span, s) + 1;
    // The last window must start inside the input or its begin padding.
    if ((g.out - 1) * s >= in + g.pad_begin) --g.out;
  } else {
    g.out = span / s + 1;
  }
  return g;
}

Result<std::vector<AxisGeometry>> ResolveWindow(const Node& node, WindowKind kind, const Window& w,
                                                const Dims& in_spatial) {
  std::vector<AxisGeometry> out;
  for (size_t d = 0; d < w.rank(); ++d) {
    FRT_ASSIGN_OR_RETURN(AxisGeometry g, ResolveAxis(node, kind, w, d, in_spatial[d]));
    out.push_back(g);
  }
  return out;
}

}  // namespace frt::nn
