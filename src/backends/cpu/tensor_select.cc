// Reference kernels whose output size depends on input values: NonZero and
// Compress. They allocate their outputs themselves (inference left the
// data-dependent dims unknown).
#include "backends/cpu/broadcast.h"
#include "backends/cpu/tensor_kernel_util.h"

namespace frt::tensor_cpu {
namespace {

Status NonZeroKernel(KernelContext& ctx) {
  const Tensor& in = ctx.input(0);
  int64_t rank = static_cast<int64_t>(in.rank());
  std::vector<int64_t> coords;  // [count, rank], transposed on output
  int64_t flat = 0;
  ForEachIndex(in.dims(), [&](const Dims& idx) {
    if (in.GetAsDouble(flat++) != 0.0) coords.insert(coords.end(), idx.begin(), idx.end());
  });
  int64_t count = rank == 0 ? static_cast<int64_t>(flat > 0 && in.GetAsDouble(0) != 0.0)
                            : static_cast<int64_t>(coords.size()) / rank;
  FRT_ASSIGN_OR_RETURN(Tensor * out, ctx.AllocateOutput(0, DType::kInt64, {rank, count}));
  for (int64_t j = 0; j < count; ++j) {
    for (int64_t d = 0; d < rank; ++d) out->data<int64_t>()[d * count + j] = coords[j * rank + d];
  }
  return Status::Ok();
}

Status CompressKernel(KernelContext& ctx) {
  const Tensor& in = ctx.input(0);
  const Tensor& cond = ctx.input(1);
  bool has_axis = ctx.attrs().Has("axis");
  Dims dims = has_axis ? in.dims() : Dims{in.num_elements()};
  int64_t rank = static_cast<int64_t>(dims.size());
  int64_t axis = 0;
  if (has_axis) {
    FRT_ASSIGN_OR_RETURN(axis, NormalizeAxis(ctx.attrs().GetInt("axis", 0), rank));
  }
  int64_t size = dims[axis];
  std::vector<int64_t> keep;
  for (int64_t i = 0; i < cond.num_elements(); ++i) {
    if (!cond.data<bool>()[i]) continue;
    if (i >= size) {
      return ctx.Error(StatusCode::kOutOfRange, "condition selects position ", i,
                       " but the axis has size ", size);
    }
    keep.push_back(i);
  }
  Dims out_dims = dims;
  out_dims[axis] = static_cast<int64_t>(keep.size());
  FRT_ASSIGN_OR_RETURN(Tensor * out, ctx.AllocateOutput(0, in.dtype(), out_dims));
  size_t es = DTypeSize(in.dtype());
  int64_t outer = DimsProduct(dims, 0, axis);
  int64_t block = DimsProduct(dims, axis + 1, rank) * static_cast<int64_t>(es);
  std::byte* dst = Bytes(*out);
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t i : keep) {
      std::memcpy(dst, Bytes(in) + (o * size + i) * block, block);
      dst += block;
    }
  }
  return Status::Ok();
}

}  // namespace

void RegisterTensorSelectKernels(CpuKernelRegistry& r) {
  r.Register(OpKind::kNonZero, NonZeroKernel);
  r.Register(OpKind::kCompress, CompressKernel);
}

}  // namespace frt::tensor_cpu
