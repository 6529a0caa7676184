// Linear-quantization parameter layout, shared by the QuantizeLinear /
// DequantizeLinear schemas and kernels: whether scale and zero point are
// per-tensor, per-axis or blocked, and which parameter element applies to each
// element of the data tensor.
#pragma once

#include "ir/graph.h"

namespace frt::nn {

struct QuantLayout {
  enum Mode : uint8_t { kPerTensor, kPerAxis, kBlocked } mode = kPerTensor;
  int64_t outer = 1;     // product of the data dims before axis
  int64_t axis_dim = 1;  // data dims[axis]
  int64_t inner = 1;     // product of the data dims after axis
  int64_t block = 1;     // elements of the axis sharing one parameter (1 for per-axis)

  // Index into the scale / zero-point tensor of data element i.
  int64_t ParamIndex(int64_t i) const {
    if (mode == kPerTensor) return 0;
    const int64_t a = (i / inner) % axis_dim;
    if (mode == kPerAxis) return a;
    const int64_t o = i / (inner * axis_dim);
    const int64_t r = i % inner;
    const int64_t blocks = (axis_dim + block - 1) / block;
    return (o * blocks + a / block) * inner + r;
  }
};

// Resolves the layout of a scale with dims `scale` (and an optional zero
// point with dims `zero_point`, nullptr if absent) for data dims `x`, from
// the node's axis and block_size attributes. Errors compare the required
// parameter shape with the given one.
Result<QuantLayout> ResolveQuantLayout(const Node& node, const Dims& x, const Dims& scale,
                                       const Dims* zero_point);

}  // namespace frt::nn
