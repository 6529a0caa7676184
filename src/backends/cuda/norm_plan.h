// Host-side planning for the CUDA norm and softmax kernels (norm*.cu): which
// register-resident row kernel fits a row length, whether a scale/bias tensor
// can be read as one value per normalized position, and the launch-parameter
// structs the kernels take. Pure functions, unit tested on the CPU
// (norm_test.cc); the kernels themselves are in norm.cu and norm_softmax.cu.
//
// Thread safety: everything here is stateless.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>

#include "core/shape.h"

namespace frt {

class CudaKernelRegistry;
// Softmax, LogSoftmax and FusedSoftmax (norm_softmax.cu); called by
// RegisterCudaNormKernels.
void RegisterCudaSoftmaxKernels(CudaKernelRegistry& r);

namespace cuda_norm {

// Most elements one thread keeps in registers (fp32) in a row kernel; longer
// rows take the looping fallback kernel.
inline constexpr int kMaxItemsPerThread = 32;

// One register-resident row kernel instantiation: `threads` threads per row
// (32: a warp per row, 4 rows per 128-thread block; more: one row per block),
// each doing `chunks` accesses of `vec` consecutive elements. threads == 0
// means the looping fallback kernel (any length).
struct RowConfig {
  int threads = 0;
  int vec = 1;
  int chunks = 0;
  bool fallback() const { return threads == 0; }
  int64_t capacity() const { return int64_t{threads} * vec * chunks; }
};

// The instantiated configs are exactly those with threads in {32, 256, 1024},
// chunks a power of two in [1, 8] (>= 2 for 1024 threads), vec * chunks <=
// kMaxItemsPerThread. Returns the one with the least capacity that holds a row
// of `cols` elements (least padding), or the fallback. `vec` is 1 or the
// vector width the caller proved usable (VectorWidth).
RowConfig ChooseRowConfig(int64_t cols, int vec);

// Elements per 16-byte access when every row start and every pointer in
// `ptrs` (nullptr entries are ignored) is 16-byte aligned and `cols` is a
// multiple of it; else 1.
int VectorWidth(int64_t cols, size_t elem_size, std::initializer_list<const void*> ptrs);

// How a scale / bias tensor maps onto the normalized dims [axis, rank) of X
// (right-aligned numpy broadcasting):
//   kDense: one value per normalized position, row-major (index = column);
//   kExpand: constant over the outer dims but broadcast inside the normalized
//            dims; the kernel first expands it to kDense form;
//   kUnsupported: it varies over dims before `axis`, or does not broadcast.
enum class ParamLayout { kDense, kExpand, kUnsupported };
ParamLayout ClassifyParam(const Dims& param, const Dims& x, size_t axis);

// Build-time version over symbolic shapes: "" when the parameter may fit
// (checked again at run time with ClassifyParam), else the reason.
std::string CheckParamShape(const Shape& param, const Shape& x, size_t axis, const char* what);

// Strides (element units) for reading `param` at each normalized position
// [axis, rank) of X: 0 on broadcast dims. Precondition: ClassifyParam != kUnsupported.
Dims ParamStridesOverNormDims(const Dims& param, const Dims& x, size_t axis);

}  // namespace cuda_norm
}  // namespace frt
