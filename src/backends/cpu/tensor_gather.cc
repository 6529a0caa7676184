// Reference kernels of the indexed reads: Gather, GatherElements, GatherND
// and OneHot. Every index is checked against its dimension before use; an
// out-of-range index is an error naming the node (OneHot instead follows its
// spec: such an index selects no position, giving an all-off row).
#include <cmath>

#include "backends/cpu/broadcast.h"
#include "backends/cpu/tensor_kernel_util.h"

namespace frt::tensor_cpu {
namespace {

Status GatherKernel(KernelContext& ctx) {
  const Tensor& data = ctx.input(0);
  FRT_ASSIGN_OR_RETURN(Tensor * out, StaticOutput(ctx, 0));
  FRT_ASSIGN_OR_RETURN(std::vector<int64_t> idx, ReadInts(ctx, 1, "indices"));
  int64_t rank = static_cast<int64_t>(data.rank());
  FRT_ASSIGN_OR_RETURN(int64_t axis, NormalizeAxis(ctx.attrs().GetInt("axis", 0), rank));
  size_t es = DTypeSize(data.dtype());
  int64_t outer = DimsProduct(data.dims(), 0, axis);
  int64_t size = data.dims()[axis];
  int64_t block = DimsProduct(data.dims(), axis + 1, rank) * static_cast<int64_t>(es);
  int64_t n = static_cast<int64_t>(idx.size());
  for (int64_t j = 0; j < n; ++j) {
    FRT_ASSIGN_OR_RETURN(idx[j], NormalizeIndex(ctx, idx[j], size, "index", j));
  }
  std::byte* dst = Bytes(*out);
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t j = 0; j < n; ++j) {
      std::memcpy(dst, Bytes(data) + (o * size + idx[j]) * block, block);
      dst += block;
    }
  }
  return Status::Ok();
}

Status GatherElementsKernel(KernelContext& ctx) {
  const Tensor& data = ctx.input(0);
  FRT_ASSIGN_OR_RETURN(Tensor * out, StaticOutput(ctx, 0));
  int64_t rank = static_cast<int64_t>(data.rank());
  FRT_ASSIGN_OR_RETURN(int64_t axis, NormalizeAxis(ctx.attrs().GetInt("axis", 0), rank));
  size_t es = DTypeSize(data.dtype());
  return ForEachElementsIndex(ctx, data, ctx.input(1), axis, [&](int64_t pos, int64_t offset) {
    std::memcpy(Bytes(*out) + pos * es, Bytes(data) + offset * es, es);
  });
}

Status GatherNDKernel(KernelContext& ctx) {
  const Tensor& data = ctx.input(0);
  const Tensor& indices = ctx.input(1);
  FRT_ASSIGN_OR_RETURN(Tensor * out, StaticOutput(ctx, 0));
  FRT_ASSIGN_OR_RETURN(std::vector<int64_t> idx, ReadInts(ctx, 1, "indices"));
  size_t b = static_cast<size_t>(ctx.attrs().GetInt("batch_dims", 0));
  size_t q = indices.rank();
  int64_t k = indices.dims()[q - 1];
  for (size_t d = 0; d < b; ++d) {
    if (indices.dims()[d] != data.dims()[d]) {
      return ctx.Error(StatusCode::kInvalidArgument, "batch dimension ", d, " of indices ",
                       indices.Describe(), " differs from data ", data.Describe());
    }
  }
  size_t es = DTypeSize(data.dtype());
  int64_t batches = DimsProduct(data.dims(), 0, b);
  int64_t per_batch = DimsProduct(indices.dims(), b, q - 1);  // index tuples per batch entry
  int64_t batch_size = DimsProduct(data.dims(), b, data.rank());
  int64_t slice = DimsProduct(data.dims(), b + k, data.rank());
  Dims strides = RowMajorStrides(data.dims());
  std::byte* dst = Bytes(*out);
  for (int64_t bi = 0; bi < batches; ++bi) {
    for (int64_t t = 0; t < per_batch; ++t) {
      int64_t tuple = bi * per_batch + t;
      int64_t offset = bi * batch_size;
      for (int64_t j = 0; j < k; ++j) {
        int64_t pos = tuple * k + j;
        FRT_ASSIGN_OR_RETURN(int64_t v,
                             NormalizeIndex(ctx, idx[pos], data.dims()[b + j], "index", pos));
        offset += v * strides[b + j];
      }
      std::memcpy(dst, Bytes(data) + offset * es, slice * es);
      dst += slice * es;
    }
  }
  return Status::Ok();
}

Status OneHotKernel(KernelContext& ctx) {
  const Tensor& indices = ctx.input(0);
  const Tensor& values = ctx.input(2);
  FRT_ASSIGN_OR_RETURN(Tensor * out, StaticOutput(ctx, 0));
  if (values.num_elements() != 2) {
    return ctx.Error(StatusCode::kInvalidArgument, "values must hold 2 elements, got ",
                     values.Describe());
  }
  int64_t rank = static_cast<int64_t>(out->rank());
  FRT_ASSIGN_OR_RETURN(int64_t axis, NormalizeAxis(ctx.attrs().GetInt("axis", -1), rank));
  int64_t depth = out->dims()[axis];
  int64_t outer = DimsProduct(out->dims(), 0, axis);
  int64_t inner = DimsProduct(out->dims(), axis + 1, rank);
  size_t es = DTypeSize(values.dtype());
  const std::byte* off = Bytes(values);
  const std::byte* on = Bytes(values) + es;
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t i = 0; i < inner; ++i) {
      // Non-integer indices are cast to int64 (truncation), as the spec says.
      double raw = indices.GetAsDouble(o * inner + i);
      int64_t hot = -1;
      if (std::isfinite(raw) && raw >= -static_cast<double>(depth) &&
          raw < static_cast<double>(depth)) {
        hot = static_cast<int64_t>(raw);
        if (IsInteger(indices.dtype())) {
          hot = VisitDType(indices.dtype(), [&](auto tag) -> int64_t {
            using T = typename decltype(tag)::type;
            if constexpr (std::is_integral_v<T>) {
              return static_cast<int64_t>(indices.data<T>()[o * inner + i]);
            }
            return 0;
          });
        }
        if (hot < 0) hot += depth;
      }
      for (int64_t d = 0; d < depth; ++d) {
        std::memcpy(Bytes(*out) + ((o * depth + d) * inner + i) * es, d == hot ? on : off, es);
      }
    }
  }
  return Status::Ok();
}

}  // namespace

void RegisterTensorGatherKernels(CpuKernelRegistry& r) {
  r.Register(OpKind::kGather, GatherKernel);
  r.Register(OpKind::kGatherElements, GatherElementsKernel);
  r.Register(OpKind::kGatherND, GatherNDKernel);
  r.Register(OpKind::kOneHot, OneHotKernel);
}

}  // namespace frt::tensor_cpu
