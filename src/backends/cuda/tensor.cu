// The CUDA tensor family (data movement; ONNX semantics, CPU references in
// src/backends/cpu/tensor*.cc): the registration entry point, and the ops
// that need no index mapping:
//   Reshape, Flatten, Squeeze, Unsqueeze, Identity: one device-to-device
//     cudaMemcpyAsync (the runtime gives them separate buffers; their shape
//     inputs were read by shape propagation);
//   Shape, Size: a one-block kernel writing int64 values passed by value in
//     its params (nothing on the host has to outlive the launch);
//   ConstantOfShape: fill with the value attribute;
//   Range: start + i * delta from host-known scalars, exact as the reference
//     (integers in wrapping uint64 arithmetic, floats in double).
// The other ops live in tensor_layout.cc (Transpose, Slice, Expand, Concat,
// Split, DepthToSpace, SpaceToDepth over the strided-copy engine of
// tensor_copy.cu), tensor_gather.cu, tensor_pad.cu and tensor_resize.cu.
#include <cuda_runtime.h>

#include <algorithm>
#include <cstring>

#include "backends/cuda/cuda_util.h"
#include "backends/cuda/kernel_families.h"
#include "backends/cuda/tensor_util.h"

namespace frt {
namespace cuda_tensor {
namespace {

std::string SupportsCopy(const Node& node) {
  if (!node.has_input(0) || !node.has_output(0)) return "needs an input and an output";
  const DType in = node.inputs[0]->dtype, out = node.outputs[0]->dtype;
  if (in == DType::kUndefined || DTypeSize(in) == 0) return "input 0 has no element type";
  if (in != out) {
    return StrCat("output dtype ", DTypeName(out), " differs from input ", DTypeName(in));
  }
  return "";
}

Status CopyRun(CudaKernelContext& ctx) {
  const DeviceTensor& in = ctx.input(0);
  DeviceTensor& out = ctx.output(0);
  if (in.nbytes() != out.nbytes()) {
    return ctx.Error(StatusCode::kInternal, "output ", DimsToString(out.dims),
                     " does not hold the ", in.nbytes(), " bytes of input ", DimsToString(in.dims));
  }
  if (in.nbytes() == 0 || in.data == out.data) return Status::Ok();
  Status s = CudaStatus(
      cudaMemcpyAsync(out.data, in.data, in.nbytes(), cudaMemcpyDeviceToDevice, ctx.stream()),
      "cudaMemcpyAsync");
  return s.ok() ? s : s.WithPrefix(ctx.node().Describe());
}

constexpr int kMaxValues = 16;

struct ValuesParams {
  int64_t values[kMaxValues];  // [count] what to write
  int count;
};

__global__ void WriteValuesKernel(ValuesParams p, int64_t* __restrict__ out) {
  if (static_cast<int>(threadIdx.x) < p.count) out[threadIdx.x] = p.values[threadIdx.x];
}

// Writes `values` into the int64 device array `out`, kMaxValues per launch.
Status WriteValues(CudaKernelContext& ctx, const std::vector<int64_t>& values, int64_t* out) {
  for (size_t begin = 0; begin < values.size(); begin += kMaxValues) {
    ValuesParams p{};
    p.count = static_cast<int>(std::min<size_t>(kMaxValues, values.size() - begin));
    std::copy_n(values.begin() + static_cast<ptrdiff_t>(begin), p.count, p.values);
    WriteValuesKernel<<<1, 32, 0, ctx.stream()>>>(p, out + begin);
    FRT_RETURN_IF_ERROR(ctx.LaunchStatus());
  }
  return Status::Ok();
}

std::string SupportsInt64Output(const Node& node) {
  if (!node.has_input(0) || !node.has_output(0)) return "needs an input and an output";
  if (node.outputs[0]->dtype != DType::kInt64) {
    return StrCat("output has dtype ", DTypeName(node.outputs[0]->dtype), "; int64 is required");
  }
  return "";
}

Status ShapeRun(CudaKernelContext& ctx) {
  const Dims& dims = ctx.input(0).dims;
  DeviceTensor& out = ctx.output(0);
  const int64_t rank = static_cast<int64_t>(dims.size());
  int64_t start = ctx.attrs().GetInt("start", 0);
  if (start < 0) start += rank;
  start = std::clamp<int64_t>(start, 0, rank);
  const int64_t count = out.num_elements();
  if (start + count > rank) {
    return ctx.Error(StatusCode::kInternal, "output ", DimsToString(out.dims), " asks for ", count,
                     " dims from ", start, " of a rank-", rank, " input");
  }
  std::vector<int64_t> values(dims.begin() + start, dims.begin() + start + count);
  return WriteValues(ctx, values, out.ptr<int64_t>());
}

Status SizeRun(CudaKernelContext& ctx) {
  DeviceTensor& out = ctx.output(0);
  if (out.num_elements() != 1) {
    return ctx.Error(StatusCode::kInternal, "output ", DimsToString(out.dims),
                     " is not a single element");
  }
  return WriteValues(ctx, {ctx.input(0).num_elements()}, out.ptr<int64_t>());
}

template <class T>
__global__ void FillKernel(uint64_t bits, int64_t n, T* __restrict__ out) {
  T v;
  memcpy(&v, &bits, sizeof(T));
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += step) {
    out[i] = v;
  }
}

std::string SupportsConstantOfShape(const Node& node) {
  if (!node.has_output(0)) return "needs an output";
  const DType out = node.outputs[0]->dtype;
  std::string why = CheckMovableDType(out, "output");
  if (!why.empty()) return why;
  const Tensor* value = node.attrs.GetTensor("value");
  if (value && (value->dtype() != out || value->num_elements() != 1)) {
    return StrCat("value ", value->Describe(), " is not one element of the output dtype ",
                  DTypeName(out));
  }
  return "";
}

Status ConstantOfShapeRun(CudaKernelContext& ctx) {
  DeviceTensor& out = ctx.output(0);
  const int64_t n = out.num_elements();
  if (n == 0) return Status::Ok();
  const size_t es = DTypeSize(out.dtype);
  const Tensor* value = ctx.attrs().GetTensor("value");
  uint64_t bits = 0;  // absent: float 0 (all-zero bytes)
  if (value) {
    if (value->dtype() != out.dtype || value->num_elements() != 1) {
      return ctx.Error(StatusCode::kInvalidModel, "value ", value->Describe(),
                       " is not one element of the output dtype ", DTypeName(out.dtype));
    }
    std::memcpy(&bits, value->raw(), es);
  }
  if (bits == 0) {
    Status s =
        CudaStatus(cudaMemsetAsync(out.data, 0, out.nbytes(), ctx.stream()), "cudaMemsetAsync");
    return s.ok() ? s : s.WithPrefix(ctx.node().Describe());
  }
  const unsigned grid = GridFor(ctx, n, 256);
  VisitUnit(static_cast<int64_t>(es), [&](auto tag) {
    using T = decltype(tag);
    FillKernel<T><<<grid, 256, 0, ctx.stream()>>>(bits, n, out.ptr<T>());
  });
  return ctx.LaunchStatus();
}

struct RangeParams {
  uint64_t istart,
      idelta;             // integer outputs: wrapping arithmetic, as the reference
  double fstart, fdelta;  // float outputs
  int64_t n;
};

template <class T>
__global__ void RangeKernel(RangeParams p, T* __restrict__ out) {
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < p.n;
       i += step) {
    if constexpr (std::is_integral_v<T>) {
      out[i] = static_cast<T>(p.istart + static_cast<uint64_t>(i) * p.idelta);
    } else {
      // Rounded product, then sum: the reference's double arithmetic, no FMA.
      out[i] = static_cast<T>(__dadd_rn(p.fstart, __dmul_rn(static_cast<double>(i), p.fdelta)));
    }
  }
}

std::string SupportsRange(const Node& node) {
  if (!node.has_output(0)) return "needs an output";
  const DType t = node.outputs[0]->dtype;
  if (t != DType::kFloat32 && t != DType::kFloat64 && t != DType::kInt16 && t != DType::kInt32 &&
      t != DType::kInt64) {
    return StrCat("output dtype ", DTypeName(t), " is not f32, f64, i16, i32 or i64");
  }
  return "";
}

Status RangeRun(CudaKernelContext& ctx) {
  DeviceTensor& out = ctx.output(0);
  RangeParams p{};
  p.n = out.num_elements();
  if (p.n == 0) return Status::Ok();
  const Tensor* start = ctx.has_input(0) ? ctx.input(0).host : nullptr;
  const Tensor* delta = ctx.has_input(2) ? ctx.input(2).host : nullptr;
  if (!start || !delta || start->num_elements() != 1 || delta->num_elements() != 1) {
    return ctx.Error(StatusCode::kUnsupported,
                     "start and delta must be scalars known on the host "
                     "(constants or values computed from input shapes)");
  }
  const DType t = out.dtype;
  if (t == DType::kFloat32 || t == DType::kFloat64) {
    p.fstart = start->GetAsDouble(0);
    p.fdelta = delta->GetAsDouble(0);
  } else {
    FRT_ASSIGN_OR_RETURN(std::vector<int64_t> s0, start->ToInt64Vector());
    FRT_ASSIGN_OR_RETURN(std::vector<int64_t> d0, delta->ToInt64Vector());
    p.istart = static_cast<uint64_t>(s0[0]);
    p.idelta = static_cast<uint64_t>(d0[0]);
  }
  const unsigned grid = GridFor(ctx, p.n, 256);
  cudaStream_t s = ctx.stream();
  switch (t) {
    case DType::kFloat32:
      RangeKernel<float><<<grid, 256, 0, s>>>(p, out.ptr<float>());
      break;
    case DType::kFloat64:
      RangeKernel<double><<<grid, 256, 0, s>>>(p, out.ptr<double>());
      break;
    case DType::kInt16:
      RangeKernel<int16_t><<<grid, 256, 0, s>>>(p, out.ptr<int16_t>());
      break;
    case DType::kInt32:
      RangeKernel<int32_t><<<grid, 256, 0, s>>>(p, out.ptr<int32_t>());
      break;
    case DType::kInt64:
      RangeKernel<int64_t><<<grid, 256, 0, s>>>(p, out.ptr<int64_t>());
      break;
    default:
      return ctx.Error(StatusCode::kUnsupported, "output dtype ", DTypeName(t));
  }
  return ctx.LaunchStatus();
}

}  // namespace
}  // namespace cuda_tensor

void RegisterCudaTensorKernels(CudaKernelRegistry& r) {
  using namespace cuda_tensor;  // NOLINT(build/namespaces): this file's own
                                // kernels
  for (OpKind op : {OpKind::kReshape, OpKind::kFlatten, OpKind::kSqueeze, OpKind::kUnsqueeze,
                    OpKind::kIdentity}) {
    r.Register({"tensor.copy", op, SupportsCopy, CopyRun});
  }
  r.Register({"tensor.shape", OpKind::kShape, SupportsInt64Output, ShapeRun});
  r.Register({"tensor.size", OpKind::kSize, SupportsInt64Output, SizeRun});
  r.Register({"tensor.constant_of_shape", OpKind::kConstantOfShape, SupportsConstantOfShape,
              ConstantOfShapeRun});
  r.Register({"tensor.range", OpKind::kRange, SupportsRange, RangeRun});
  RegisterLayoutKernels(r);
  RegisterGatherKernels(r);
  RegisterPadKernels(r);
  RegisterResizeKernels(r);
}

}  // namespace frt
