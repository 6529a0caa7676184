// Reduced precision for GPU builds (--fp16 / --bf16): float32 tensors of the
// layers allowed to run in reduced precision become fp16 or bf16.
#pragma once

#include "ir/graph.h"

namespace frt {

// Which layers are lowered, from each op's precision policy:
//  - kAlways and kFp32Inside layers with float32 data are lowered (kFp32Inside
//    kernels take reduced-precision inputs and outputs but compute in float32:
//    norms, softmax);
//  - kFollow layers (data movement, pointwise) are lowered when every float32
//    tensor they read is lowered or a constant, so that a lone data-movement
//    layer between float32 layers stays float32; Cast is never lowered except
//    a Cast to float32 reading a lowered tensor or a non-float one;
//  - kNever layers, control flow and layers without float32 data stay as they are.
// Float32 weights read by lowered layers are converted once; a Cast joins each
// lowered tensor to its float32 readers, and each float32 tensor to its
// lowered readers. Graph inputs and outputs keep their names and float32
// dtypes (TensorRT's default: I/O in the network's types).
// Returns how many layers were lowered. Shapes are re-inferred by the caller.
Result<int> LowerPrecision(Graph& graph, DType low);

}  // namespace frt
