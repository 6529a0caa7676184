// CPU reference kernels of the tensor family (shape manipulation and data
// movement): the registration entry point and the bytewise helpers shared by
// the concept files (see tensor_kernel_util.h).
#include "backends/cpu/broadcast.h"
#include "backends/cpu/kernel_families.h"
#include "backends/cpu/tensor_kernel_util.h"

namespace frt {
namespace tensor_cpu {

Result<Tensor*> StaticOutput(KernelContext& ctx, size_t i) {
  if (i >= ctx.num_outputs() || !ctx.output(i).defined()) {
    return ctx.Error(StatusCode::kInternal, "output ", i,
                     " was not pre-allocated although its shape follows from the inputs");
  }
  return &ctx.output(i);
}

Status CopyToOutput(KernelContext& ctx, const Tensor& in, size_t i) {
  FRT_ASSIGN_OR_RETURN(Tensor * out, StaticOutput(ctx, i));
  if (out->nbytes() != in.nbytes()) {
    return ctx.Error(StatusCode::kInternal, "output ", i, " ", out->Describe(),
                     " does not hold the ", in.nbytes(), " bytes of input ", in.Describe());
  }
  if (in.nbytes() > 0) std::memcpy(out->raw(), in.raw(), in.nbytes());
  return Status::Ok();
}

Result<std::vector<int64_t>> ReadInts(const KernelContext& ctx, size_t i, std::string_view name) {
  if (!ctx.has_input(i)) return std::vector<int64_t>();
  auto v = ctx.input(i).ToInt64Vector();
  if (!v.ok()) {
    return ctx.Error(StatusCode::kInvalidModel, "input ", i, " (", name,
                     ") must be an integer tensor, got ", ctx.input(i).Describe());
  }
  return std::move(*v);
}

Result<int64_t> NormalizeIndex(const KernelContext& ctx, int64_t index, int64_t size,
                               std::string_view what, int64_t position) {
  if (index < -size || index >= size) {
    return ctx.Error(StatusCode::kOutOfRange, what, " ", index, " at position ", position,
                     " is out of range for a dimension of size ", size, " (expected [", -size, ", ",
                     size - 1, "])");
  }
  return index < 0 ? index + size : index;
}

int64_t DimsProduct(const Dims& dims, size_t begin, size_t end) {
  int64_t n = 1;
  for (size_t i = begin; i < end && i < dims.size(); ++i) n *= dims[i];
  return n;
}

void StridedCopy(const std::byte* in, int64_t base, const Dims& in_strides, const Dims& out_dims,
                 std::byte* out, size_t elem_size) {
  int64_t n = DimsProduct(out_dims, 0, out_dims.size());
  if (n <= 0) return;
  size_t rank = out_dims.size();
  if (rank == 0) {
    std::memcpy(out, in + base * elem_size, elem_size);
    return;
  }
  int64_t inner = out_dims[rank - 1];
  int64_t inner_stride = in_strides[rank - 1];
  Dims index(rank, 0);
  int64_t offset = base;
  for (int64_t o = 0; o < n; o += inner) {
    std::byte* dst = out + o * elem_size;
    if (inner_stride == 1) {
      std::memcpy(dst, in + offset * elem_size, inner * elem_size);
    } else {
      for (int64_t j = 0; j < inner; ++j) {
        std::memcpy(dst + j * elem_size, in + (offset + j * inner_stride) * elem_size, elem_size);
      }
    }
    for (size_t d = rank - 1; d-- > 0;) {
      if (++index[d] < out_dims[d]) {
        offset += in_strides[d];
        break;
      }
      offset -= in_strides[d] * (out_dims[d] - 1);
      index[d] = 0;
    }
  }
}

void PermuteCopy(const std::byte* in, const Dims& in_dims, const std::vector<int64_t>& perm,
                 std::byte* out, size_t elem_size) {
  Dims strides = RowMajorStrides(in_dims);
  Dims out_dims(perm.size()), out_strides(perm.size());
  for (size_t d = 0; d < perm.size(); ++d) {
    out_dims[d] = in_dims[perm[d]];
    out_strides[d] = strides[perm[d]];
  }
  StridedCopy(in, 0, out_strides, out_dims, out, elem_size);
}

Status ForEachElementsIndex(const KernelContext& ctx, const Tensor& data, const Tensor& indices,
                            int64_t axis, const std::function<void(int64_t, int64_t)>& f) {
  for (size_t d = 0; d < data.rank(); ++d) {
    if (static_cast<int64_t>(d) != axis && indices.dims()[d] > data.dims()[d]) {
      return ctx.Error(StatusCode::kInvalidArgument, "indices ", indices.Describe(),
                       " exceeds data ", data.Describe(), " on axis ", d);
    }
  }
  FRT_ASSIGN_OR_RETURN(std::vector<int64_t> idx, ReadInts(ctx, 1, "indices"));
  int64_t size = data.dims()[axis];
  for (int64_t pos = 0; pos < static_cast<int64_t>(idx.size()); ++pos) {
    FRT_ASSIGN_OR_RETURN(idx[pos], NormalizeIndex(ctx, idx[pos], size, "index", pos));
  }
  Dims strides = RowMajorStrides(data.dims());
  int64_t pos = 0;
  ForEachIndex(indices.dims(), [&](const Dims& i) {
    int64_t offset = 0;
    for (size_t d = 0; d < i.size(); ++d) {
      offset += (static_cast<int64_t>(d) == axis ? idx[pos] : i[d]) * strides[d];
    }
    f(pos++, offset);
  });
  return Status::Ok();
}

}  // namespace tensor_cpu

void RegisterTensorKernels(CpuKernelRegistry& r) {
  tensor_cpu::RegisterTensorShapeKernels(r);
  tensor_cpu::RegisterTensorCreateKernels(r);
  tensor_cpu::RegisterTensorLayoutKernels(r);
  tensor_cpu::RegisterTensorPadKernels(r);
  tensor_cpu::RegisterTensorGatherKernels(r);
  tensor_cpu::RegisterTensorScatterKernels(r);
  tensor_cpu::RegisterTensorSelectKernels(r);
  tensor_cpu::RegisterTensorUniqueKernels(r);
}

}  // namespace frt
