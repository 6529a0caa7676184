// Internal to the CUDA tensor family (src/backends/cuda/tensor*.cu): the
// per-concept registration functions, the host-side planning of strided
// copies (pure functions, unit-tested on the CPU), and small helpers that read
// parameter tensors from the host copies the runtime provides.
//
// Data movement kernels see every dtype as opaque elements of 1, 2, 4 or 8
// bytes. A strided copy is described by per-dimension input and output
// strides; planning drops size-1 dims, merges dims that are contiguous on both
// sides, and picks the widest access unit (up to 16 bytes) the layout and the
// pointer alignment allow, so most copies become a few wide, coalesced loads.
//
// Thread safety: everything here is a pure function of its arguments.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "backends/cuda/kernel.h"

namespace frt::cuda_tensor {

// Highest rank a strided kernel handles after planning merged what it could.
inline constexpr int kMaxRank = 6;

void RegisterLayoutKernels(CudaKernelRegistry& r);  // tensor_layout.cu: Transpose, Slice, ...
void RegisterGatherKernels(CudaKernelRegistry& r);  // tensor_gather.cu: Gather, GatherElements
void RegisterPadKernels(CudaKernelRegistry& r);     // tensor_pad.cu: Pad, Tile, Trilu
void RegisterResizeKernels(CudaKernelRegistry& r);  // tensor_resize.cu: Resize

// For every multi-index i of `dims` (row-major order):
//   out[out_base + sum_d i[d] * out_strides[d]] = in[in_base + sum_d i[d] *
//   in_strides[d]]
// in elements of `elem_size` bytes. Strides may be 0 (broadcast) or negative
// (reversed slices); the caller guarantees every address stays in its buffer.
struct StridedCopy {
  Dims dims;
  Dims in_strides;
  Dims out_strides;
  int64_t in_base = 0;
  int64_t out_base = 0;
  int64_t elem_size = 1;  // bytes: 1, 2, 4 or 8 before ToUnits, up to 16 after
};

// Row-major element strides of `dims`.
Dims DenseStrides(const Dims& dims);

// The same copy with size-1 dims dropped and neighbours merged where
// dims[d] and dims[d+1] are contiguous on both the input and the output side
// (in_strides[d] == in_strides[d+1] * dims[d+1], same for out). Rank 0 means a
// single element. A copy with an empty dim is returned unchanged.
StridedCopy SimplifyCopy(const StridedCopy& c);

// The widest access unit in bytes (16, 8, 4, 2 or the element size) such
// that: the innermost dim is contiguous on both sides, its byte length, every
// other stride and both bases are multiples of the unit, and both buffer
// addresses are aligned to it. Precondition: `c` is simplified.
int64_t ChooseUnitBytes(const StridedCopy& c, uintptr_t in_addr, uintptr_t out_addr);

// `c` re-expressed in units of `unit_bytes` (a value ChooseUnitBytes returned).
StridedCopy ToUnits(const StridedCopy& c, int64_t unit_bytes);

// Product of dims[begin, end).
int64_t Product(const Dims& dims, size_t begin, size_t end);

// True when every offset the copy touches is below 2^30 in magnitude on both
// sides, so the kernels may index with int32.
bool FitsInt32(const StridedCopy& c);

// Input dims viewed as `view` (same element count), transposed by `perm`,
// written densely: Transpose, DepthToSpace and SpaceToDepth.
StridedCopy PermuteCopy(const Dims& view, const std::vector<int64_t>& perm, int64_t elem_size);

// "" when `t` moves as opaque elements (1, 2, 4 or 8 bytes), else the reason.
std::string CheckMovableDType(DType t, std::string_view what);
// "" when value `v` has unknown rank or rank <= `max_rank`, else the reason.
std::string CheckRankAtMost(const Value* v, size_t max_rank, std::string_view what);

// The values of parameter input i (any integer dtype) from its host copy.
// Absent input: an empty vector. Present without a host copy: an error naming
// the node and `name`, saying that the value must be a constant or computed
// on the host from shapes.
Result<std::vector<int64_t>> HostInts(const CudaKernelContext& ctx, size_t i,
                                      std::string_view name);
// Same, as doubles (any numeric dtype; Resize's roi and scales).
Result<std::vector<double>> HostDoubles(const CudaKernelContext& ctx, size_t i,
                                        std::string_view name);

// Normalizes `axis` into [0, rank) or errors naming the node.
Result<int64_t> NormalizeAxisFor(const CudaKernelContext& ctx, int64_t axis, int64_t rank);

// Grid size for a grid-stride loop over `work` items with `block` threads:
// enough blocks to fill the device a few times over, never more than needed.
unsigned GridFor(CudaKernelContext& ctx, int64_t work, int block);
unsigned GridFor(int sm_count, int64_t work, int block);

// Calls f(Unit{}) with the plain type of `bytes` bytes that kernels move
// elements as: uint8_t, uint16_t, uint32_t, uint2 (8) or uint4 (16; any other
// value). uint2/uint4 are the CUDA vector types, aligned to their size.
template <class F>
void VisitUnit(int64_t bytes, F&& f) {
  switch (bytes) {
    case 1:
      f(uint8_t{});
      return;
    case 2:
      f(uint16_t{});
      return;
    case 4:
      f(uint32_t{});
      return;
    case 8:
      f(uint2{});
      return;
    default:
      f(uint4{});
      return;
  }
}

// Enqueues the copy on ctx.stream() (plans it first: simplify, vectorize,
// choose the tiled transpose where the innermost dim moves) and returns the
// launch status. Error if the simplified rank exceeds kMaxRank.
Status LaunchStridedCopy(CudaKernelContext& ctx, const StridedCopy& c, const void* in, void* out);

}  // namespace frt::cuda_tensor
