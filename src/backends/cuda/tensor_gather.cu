// CUDA kernels of the indexed reads Gather and GatherElements (ONNX
// semantics, CPU reference src/backends/cpu/tensor_gather.cc). Indices are
// int32 or int64 on the device; negative ones wrap once (-1 is the last).
//
// Out-of-range indices: a kernel cannot return an error, and the CPU
// reference's error would need a device-to-host round trip, so an index
// outside [-size, size) never reads memory and produces zeros (all-zero
// bytes of the element type) in the output positions it selects.
//
// Gather views data as [outer, size, inner] and the output as
// [outer, n, inner]; the inner run is copied in units of up to 16 bytes.
// With long rows (the embedding case: axis 0 of [V, H]) a block copies one
// row per iteration and reads its index once; short rows use one thread per
// unit.
#include <cuda_runtime.h>

#include "backends/cuda/tensor_util.h"

namespace frt::cuda_tensor {
namespace {

struct GatherParams {
  int64_t axis_size;    // data dims[axis]
  int64_t inner;        // units per row: product of data dims after axis, in units
  int64_t num_indices;  // elements of indices
  int64_t rows;         // outer * num_indices
  int64_t total;        // rows * inner
};

template <class Idx>
__device__ __forceinline__ int64_t WrapIndex(Idx raw, int64_t size) {
  int64_t v = static_cast<int64_t>(raw);
  return v < 0 ? v + size : v;  // still out of range when below -size: caller zero-fills
}

// data: [outer, axis_size, inner] units; indices: [num_indices]; out: [rows,
// inner].
template <class Unit, class Idx, class Index>
__global__ void GatherFlatKernel(GatherParams p, const Unit* __restrict__ data,
                                 const Idx* __restrict__ indices, Unit* __restrict__ out) {
  const Index total = static_cast<Index>(p.total);
  const Index inner = static_cast<Index>(p.inner);
  const Index n = static_cast<Index>(p.num_indices);
  const Index step = static_cast<Index>(gridDim.x) * static_cast<Index>(blockDim.x);
  for (Index i = static_cast<Index>(blockIdx.x) * static_cast<Index>(blockDim.x) +
                 static_cast<Index>(threadIdx.x);
       i < total; i += step) {
    const Index row = i / inner;
    const Index col = i - row * inner;
    const Index o = row / n;
    const Index j = row - o * n;
    const int64_t idx = WrapIndex(indices[j], p.axis_size);
    Unit v{};
    if (idx >= 0 && idx < p.axis_size) {
      v = data[(static_cast<int64_t>(o) * p.axis_size + idx) * p.inner + col];
    }
    out[i] = v;
  }
}

template <class Unit, class Idx>
__global__ void GatherRowKernel(GatherParams p, const Unit* __restrict__ data,
                                const Idx* __restrict__ indices, Unit* __restrict__ out) {
  for (int64_t row = blockIdx.x; row < p.rows; row += gridDim.x) {
    const int64_t o = row / p.num_indices;
    const int64_t j = row - o * p.num_indices;
    const int64_t idx = WrapIndex(indices[j], p.axis_size);
    const bool valid = idx >= 0 && idx < p.axis_size;
    const Unit* src = data + (o * p.axis_size + (valid ? idx : 0)) * p.inner;
    Unit* dst = out + row * p.inner;
    for (int64_t k = threadIdx.x; k < p.inner; k += blockDim.x) {
      Unit v{};
      if (valid) v = src[k];
      dst[k] = v;
    }
  }
}

template <class Unit, class Idx>
void LaunchGather(CudaKernelContext& ctx, const GatherParams& p, const void* data,
                  const void* indices, void* out) {
  const auto* d = static_cast<const Unit*>(data);
  const auto* ind = static_cast<const Idx*>(indices);
  auto* o = static_cast<Unit*>(out);
  const int sm = ctx.resources().sm_count;
  if (p.inner >= 32) {
    const int block = static_cast<int>(std::min<int64_t>(256, (p.inner + 31) / 32 * 32));
    GatherRowKernel<Unit, Idx>
        <<<GridFor(sm, p.rows * block, block), block, 0, ctx.stream()>>>(p, d, ind, o);
    return;
  }
  const unsigned grid = GridFor(sm, p.total, 256);
  constexpr int64_t kLimit = int64_t{1} << 30;
  if (p.total < kLimit && p.rows < kLimit) {
    GatherFlatKernel<Unit, Idx, int32_t><<<grid, 256, 0, ctx.stream()>>>(p, d, ind, o);
  } else {
    GatherFlatKernel<Unit, Idx, int64_t><<<grid, 256, 0, ctx.stream()>>>(p, d, ind, o);
  }
}

template <class Unit>
void LaunchGatherIdx(CudaKernelContext& ctx, const GatherParams& p, const void* data,
                     const DeviceTensor& indices, void* out) {
  if (indices.dtype == DType::kInt32) {
    LaunchGather<Unit, int32_t>(ctx, p, data, indices.data, out);
  } else {
    LaunchGather<Unit, int64_t>(ctx, p, data, indices.data, out);
  }
}

std::string SupportsGather(const Node& node) {
  if (!node.has_input(0) || !node.has_input(1) || !node.has_output(0)) {
    return "needs data, indices and an output";
  }
  std::string why = CheckMovableDType(node.inputs[0]->dtype, "data");
  if (!why.empty()) return why;
  const DType it = node.inputs[1]->dtype;
  if (it != DType::kInt32 && it != DType::kInt64) {
    return StrCat("indices have dtype ", DTypeName(it), "; int32 or int64 is supported");
  }
  if (node.outputs[0]->dtype != node.inputs[0]->dtype) {
    return StrCat("output dtype ", DTypeName(node.outputs[0]->dtype), " differs from data ",
                  DTypeName(node.inputs[0]->dtype));
  }
  return "";
}

Status GatherRun(CudaKernelContext& ctx) {
  const DeviceTensor& data = ctx.input(0);
  const DeviceTensor& indices = ctx.input(1);
  DeviceTensor& out = ctx.output(0);
  const int64_t rank = static_cast<int64_t>(data.dims.size());
  FRT_ASSIGN_OR_RETURN(int64_t axis, NormalizeAxisFor(ctx, ctx.attrs().GetInt("axis", 0), rank));
  const int64_t es = static_cast<int64_t>(DTypeSize(data.dtype));
  const int64_t outer = Product(data.dims, 0, static_cast<size_t>(axis));
  const int64_t inner = Product(data.dims, static_cast<size_t>(axis) + 1, data.dims.size());
  GatherParams p{};
  p.axis_size = data.dims[axis];
  p.num_indices = indices.num_elements();
  p.rows = outer * p.num_indices;
  if (out.num_elements() != p.rows * inner) {
    return ctx.Error(StatusCode::kInternal, "output ", DimsToString(out.dims), " does not hold ",
                     outer, " x ", p.num_indices, " x ", inner, " gathered elements");
  }
  if (out.num_elements() == 0) return Status::Ok();
  // The widest unit dividing a row whose rows and buffers are all aligned to
  // it.
  int64_t unit = 16;
  const auto da = reinterpret_cast<uintptr_t>(data.data),
             oa = reinterpret_cast<uintptr_t>(out.data);
  while (unit > es && ((inner * es) % unit != 0 || da % unit != 0 || oa % unit != 0)) unit /= 2;
  p.inner = inner * es / unit;
  p.total = p.rows * p.inner;
  VisitUnit(unit, [&](auto tag) {
    LaunchGatherIdx<decltype(tag)>(ctx, p, data.data, indices, out.data);
  });
  return ctx.LaunchStatus();
}

// GatherElements: out[i] = data[i with axis coordinate replaced by indices[i]].
struct ElementsParams {
  int rank;
  int axis;
  int64_t axis_size;               // data dims[axis]
  int64_t idx_dims[kMaxRank];      // [rank] indices (= output) dims
  int64_t data_strides[kMaxRank];  // [rank] row-major element strides of data
  int64_t total;                   // elements of indices
};

template <class T, class Idx>
__global__ void GatherElementsKernel(ElementsParams p, const T* __restrict__ data,
                                     const Idx* __restrict__ indices, T* __restrict__ out) {
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < p.total;
       i += step) {
    const int64_t idx = WrapIndex(indices[i], p.axis_size);
    T v{};
    if (idx >= 0 && idx < p.axis_size) {
      int64_t rem = i, off = 0;
      for (int d = p.rank - 1; d >= 0; --d) {
        const int64_t q = rem / p.idx_dims[d];
        const int64_t c = rem - q * p.idx_dims[d];
        off += (d == p.axis ? idx : c) * p.data_strides[d];
        rem = q;
      }
      v = data[off];
    }
    out[i] = v;
  }
}

template <class T>
void LaunchElements(CudaKernelContext& ctx, const ElementsParams& p, const void* data,
                    const DeviceTensor& indices, void* out) {
  const unsigned grid = GridFor(ctx, p.total, 256);
  if (indices.dtype == DType::kInt32) {
    GatherElementsKernel<T, int32_t><<<grid, 256, 0, ctx.stream()>>>(
        p, static_cast<const T*>(data), indices.ptr<const int32_t>(), static_cast<T*>(out));
  } else {
    GatherElementsKernel<T, int64_t><<<grid, 256, 0, ctx.stream()>>>(
        p, static_cast<const T*>(data), indices.ptr<const int64_t>(), static_cast<T*>(out));
  }
}

std::string SupportsGatherElements(const Node& node) {
  std::string why = SupportsGather(node);
  if (why.empty()) why = CheckRankAtMost(node.inputs[0], kMaxRank, "data");
  return why;
}

Status GatherElementsRun(CudaKernelContext& ctx) {
  const DeviceTensor& data = ctx.input(0);
  const DeviceTensor& indices = ctx.input(1);
  DeviceTensor& out = ctx.output(0);
  const int64_t rank = static_cast<int64_t>(data.dims.size());
  FRT_ASSIGN_OR_RETURN(int64_t axis, NormalizeAxisFor(ctx, ctx.attrs().GetInt("axis", 0), rank));
  if (rank > kMaxRank || indices.dims.size() != data.dims.size() || out.dims != indices.dims) {
    return ctx.Error(StatusCode::kInvalidArgument, "data ", DimsToString(data.dims), ", indices ",
                     DimsToString(indices.dims), " and output ", DimsToString(out.dims),
                     " must have one rank of at most ", kMaxRank, " and indices' shape");
  }
  ElementsParams p{};
  p.rank = static_cast<int>(rank);
  p.axis = static_cast<int>(axis);
  p.axis_size = data.dims[axis];
  Dims strides = DenseStrides(data.dims);
  for (int64_t d = 0; d < rank; ++d) {
    if (d != axis && indices.dims[d] > data.dims[d]) {
      return ctx.Error(StatusCode::kInvalidArgument, "indices ", DimsToString(indices.dims),
                       " exceed data ", DimsToString(data.dims), " on axis ", d);
    }
    p.idx_dims[d] = indices.dims[d];
    p.data_strides[d] = strides[d];
  }
  p.total = indices.num_elements();
  if (p.total == 0) return Status::Ok();
  VisitUnit(static_cast<int64_t>(DTypeSize(data.dtype)),
            [&](auto tag) { LaunchElements<decltype(tag)>(ctx, p, data.data, indices, out.data); });
  return ctx.LaunchStatus();
}

}  // namespace

void RegisterGatherKernels(CudaKernelRegistry& r) {
  r.Register({"tensor.gather", OpKind::kGather, SupportsGather, GatherRun});
  r.Register({"tensor.gather_elements", OpKind::kGatherElements, SupportsGatherElements,
              GatherElementsRun});
}

}  // namespace frt::cuda_tensor
