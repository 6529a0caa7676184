// Host-side planning of the CUDA Reduce* kernels (reduction.cu): resolves
// the axes and simplifies the reduction by dropping size-1 dims and merging
// neighbouring dims that are both reduced or both kept, so most reductions
// become one of two contiguous forms:
//   kRows:    [outer, len] reducing the contiguous last group (len elements
//             per output, adjacent in memory);
//   kColumns: [outer, len, inner] reducing the middle group (outputs adjacent
//             in memory, reduced elements `inner` apart);
//   kGeneral: anything else (kept and reduced groups interleave more than
//             once): kept and reduced dims with their input strides.
// Pure functions, unit tested on the CPU (reduction_test.cc).
//
// Thread safety: stateless.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "core/shape.h"

namespace frt::cuda_reduce {

struct ReducePlan {
  enum class Kind { kRows, kColumns, kGeneral };
  Kind kind = Kind::kColumns;
  int64_t outer = 1;  // kRows / kColumns
  int64_t len = 1;    // reduced elements per output (every kind)
  int64_t inner = 1;  // kColumns (1 for kRows)
  // kGeneral: merged kept dims (the output's order) and reduced dims, each
  // with its input strides.
  Dims kept_dims, kept_strides, red_dims, red_strides;
  int64_t outputs = 1;  // elements of the output
};

// `reduced[d]` says whether input dim d is reduced (reduction::ResolveReduceAxes).
ReducePlan PlanReduce(const Dims& in, const std::vector<bool>& reduced);

// How many parts to split each output's `len` elements into so that about
// `target_blocks` blocks run when only `blocks` would otherwise, with each part
// at least `min_part` elements; 1 for no split. Capped at 1024 and so that
// outputs * parts partials of `partial_bytes` each fit in `workspace` bytes.
int64_t SplitCount(int64_t blocks, int64_t target_blocks, int64_t len, int64_t min_part,
                   int64_t outputs, size_t partial_bytes, size_t workspace);

}  // namespace frt::cuda_reduce
