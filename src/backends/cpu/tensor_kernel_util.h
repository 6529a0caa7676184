// Internal to the tensor family's CPU kernels (src/backends/cpu/tensor*.cc):
// the per-concept registration functions and the bytewise helpers they share.
// Data movement ops handle every dtype the same way, as elements of
// DTypeSize(dtype) bytes, so most kernels never dispatch on the type.
#pragma once

#include <cstring>
#include <functional>
#include <string_view>
#include <vector>

#include "backends/cpu/kernel.h"

namespace frt::tensor_cpu {

void RegisterTensorShapeKernels(CpuKernelRegistry& r);    // tensor_shape.cc
void RegisterTensorCreateKernels(CpuKernelRegistry& r);   // tensor_create.cc
void RegisterTensorLayoutKernels(CpuKernelRegistry& r);   // tensor_layout.cc
void RegisterTensorPadKernels(CpuKernelRegistry& r);      // tensor_pad.cc (Pad, Tile, Trilu, ...)
void RegisterTensorGatherKernels(CpuKernelRegistry& r);   // tensor_gather.cc
void RegisterTensorScatterKernels(CpuKernelRegistry& r);  // tensor_scatter.cc
void RegisterTensorSelectKernels(CpuKernelRegistry& r);   // tensor_select.cc
void RegisterTensorUniqueKernels(CpuKernelRegistry& r);   // tensor_unique.cc

inline std::byte* Bytes(Tensor& t) { return static_cast<std::byte*>(t.raw()); }
inline const std::byte* Bytes(const Tensor& t) { return static_cast<const std::byte*>(t.raw()); }

// Output i as pre-allocated by the executor. The executor runs the op's
// inference with every input value known before the kernel, so ops whose
// output shape follows from input shapes and values always get one; a
// missing one is an internal error, not a crash.
Result<Tensor*> StaticOutput(KernelContext& ctx, size_t i);

// Copies all bytes of `in` into pre-allocated output i (Reshape-like ops).
// The element counts must match; inference guarantees it.
Status CopyToOutput(KernelContext& ctx, const Tensor& in, size_t i);

// Integer input i read as int64 values; the error names `name`.
Result<std::vector<int64_t>> ReadInts(const KernelContext& ctx, size_t i, std::string_view name);

// `index` in [-size, size) mapped into [0, size); out of range is an error
// that names the node, `what` and `position` (the flat position of the index).
Result<int64_t> NormalizeIndex(const KernelContext& ctx, int64_t index, int64_t size,
                               std::string_view what, int64_t position);

// Product of dims[begin, end).
int64_t DimsProduct(const Dims& dims, size_t begin, size_t end);

// Copies a strided view of `in` into the dense `out`: output element with
// multi-index i reads input element base + sum_d(i[d] * in_strides[d]).
// Covers Transpose (permuted strides), Slice (scaled strides and a base),
// Expand (zero strides) and the depth/space rearrangements.
void StridedCopy(const std::byte* in, int64_t base, const Dims& in_strides, const Dims& out_dims,
                 std::byte* out, size_t elem_size);

// Transposes `in` (viewed with dims `in_dims`) by `perm` into `out`.
void PermuteCopy(const std::byte* in, const Dims& in_dims, const std::vector<int64_t>& perm,
                 std::byte* out, size_t elem_size);

// The addressing of GatherElements/ScatterElements: for every element of
// `indices` (position `pos` in row-major order) calls f(pos, offset), where
// `offset` is the data element at the same coordinates except on `axis`,
// which takes the index value. Checks that indices fits data on the other
// axes and that every index value is in range, before calling f at all.
// Precondition: indices and data have the same rank.
Status ForEachElementsIndex(const KernelContext& ctx, const Tensor& data, const Tensor& indices,
                            int64_t axis, const std::function<void(int64_t, int64_t)>& f);

// Calls f(index) for every multi-index of `dims` in row-major order.
template <class F>
void ForEachIndex(const Dims& dims, F&& f) {
  for (int64_t d : dims) {
    if (d <= 0) return;
  }
  Dims index(dims.size(), 0);
  for (;;) {
    f(static_cast<const Dims&>(index));
    size_t d = dims.size();
    for (; d-- > 0;) {
      if (++index[d] < dims[d]) break;
      index[d] = 0;
    }
    if (d == static_cast<size_t>(-1)) return;
  }
}

}  // namespace frt::tensor_cpu
