// CUDA kernels of the ops that map output positions back to input positions
// by per-axis rules rather than plain strides (ONNX semantics, CPU reference
// src/backends/cpu/tensor_pad.cc):
//   Pad   constant / reflect / edge / wrap, negative pads crop;
//   Tile  input index = output index mod input dim (the innermost run is
//         copied in units of up to 16 bytes when it is long and aligned);
//   Trilu keeps one triangle of the last two dims (offset k), zeros the rest.
// One thread per output element (or unit) in a grid-stride loop; every
// parameter travels by value in the params struct.
#include <cuda_runtime.h>

#include <cstring>

#include "backends/cuda/tensor_util.h"

namespace frt::cuda_tensor {
namespace {

enum class PadMode : int { kConstant, kReflect, kEdge, kWrap };

struct PadParams {
  int rank;
  int mode;                      // PadMode
  int64_t out_dims[kMaxRank];    // [rank]
  int64_t in_dims[kMaxRank];     // [rank]
  int64_t in_strides[kMaxRank];  // [rank] row-major element strides of the input
  int64_t before[kMaxRank];      // [rank] pad at the start (negative: crop)
  uint64_t value;                // constant mode: the element's bytes (low bytes)
  int64_t total;                 // output elements
};

// Maps i outside [0, size) into it, as numpy's pad (reflect has period 2 *
// (size - 1)).
__device__ __forceinline__ int64_t MapPadIndex(int64_t i, int64_t size, int mode) {
  if (mode == static_cast<int>(PadMode::kEdge)) return i < 0 ? 0 : size - 1;
  if (mode == static_cast<int>(PadMode::kWrap)) return ((i % size) + size) % size;
  if (size == 1) return 0;
  const int64_t period = 2 * (size - 1);
  const int64_t m = ((i % period) + period) % period;
  return m < size ? m : period - m;
}

template <class T>
__global__ void PadKernel(PadParams p, const T* __restrict__ in, T* __restrict__ out) {
  T value;
  memcpy(&value, &p.value, sizeof(T));
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < p.total;
       i += step) {
    int64_t rem = i, off = 0;
    bool inside = true;
    for (int d = p.rank - 1; d >= 0; --d) {
      const int64_t q = rem / p.out_dims[d];
      int64_t c = rem - q * p.out_dims[d] - p.before[d];
      rem = q;
      if (c < 0 || c >= p.in_dims[d]) {
        // An empty input axis has nothing to reflect; inference only allows it
        // for constant mode, but never read out of bounds whatever comes.
        if (p.mode == static_cast<int>(PadMode::kConstant) || p.in_dims[d] == 0) {
          inside = false;
          break;
        }
        c = MapPadIndex(c, p.in_dims[d], p.mode);
      }
      off += c * p.in_strides[d];
    }
    out[i] = inside ? in[off] : value;
  }
}

std::string SupportsPad(const Node& node) {
  if (!node.has_input(0) || !node.has_output(0)) return "needs data and an output";
  std::string why = CheckMovableDType(node.inputs[0]->dtype, "data");
  if (why.empty()) why = CheckRankAtMost(node.inputs[0], kMaxRank, "data");
  if (!why.empty()) return why;
  std::string mode = node.attrs.GetString("mode", "constant");
  if (mode != "constant" && mode != "reflect" && mode != "edge" && mode != "wrap") {
    return StrCat("mode \"", mode, "\" is not constant, reflect, edge or wrap");
  }
  return "";
}

Status PadRun(CudaKernelContext& ctx) {
  const DeviceTensor& in = ctx.input(0);
  DeviceTensor& out = ctx.output(0);
  FRT_ASSIGN_OR_RETURN(std::vector<int64_t> pads, HostInts(ctx, 1, "pads"));
  FRT_ASSIGN_OR_RETURN(std::vector<int64_t> axes, HostInts(ctx, 3, "axes"));
  const int64_t rank = static_cast<int64_t>(in.dims.size());
  if (!ctx.has_input(3)) {
    for (int64_t i = 0; i < rank; ++i) axes.push_back(i);
  }
  if (rank > kMaxRank || pads.size() != 2 * axes.size() || out.dims.size() != in.dims.size()) {
    return ctx.Error(StatusCode::kInvalidModel, "pads has ", pads.size(), " entries for ",
                     axes.size(), " axes of a rank-", rank, " input (at most rank ", kMaxRank,
                     "); it needs two per axis");
  }
  PadParams p{};
  p.rank = static_cast<int>(rank);
  const std::string mode = ctx.attrs().GetString("mode", "constant");
  p.mode = static_cast<int>(mode == "reflect" ? PadMode::kReflect
                            : mode == "edge"  ? PadMode::kEdge
                            : mode == "wrap"  ? PadMode::kWrap
                                              : PadMode::kConstant);
  const size_t n = axes.size();
  for (size_t i = 0; i < n; ++i) {
    FRT_ASSIGN_OR_RETURN(int64_t a, NormalizeAxisFor(ctx, axes[i], rank));
    p.before[a] = pads[i];
    if (in.dims[a] + pads[i] + pads[i + n] != out.dims[a]) {
      return ctx.Error(StatusCode::kInternal, "pads ", pads[i], " and ", pads[i + n], " on axis ",
                       a, " of input ", DimsToString(in.dims), " disagree with the output ",
                       DimsToString(out.dims));
    }
  }
  const size_t es = DTypeSize(in.dtype);
  if (ctx.has_input(2) && ctx.input(2).num_elements() > 0) {
    const Tensor* v = ctx.input(2).host;
    if (v == nullptr) {
      return ctx.Error(StatusCode::kUnsupported,
                       "input 2 (constant_value) is computed on the "
                       "device; the cuda backend needs it as a constant");
    }
    std::memcpy(&p.value, v->raw(), es);
  }
  Dims strides = DenseStrides(in.dims);
  for (int64_t d = 0; d < rank; ++d) {
    p.out_dims[d] = out.dims[d];
    p.in_dims[d] = in.dims[d];
    p.in_strides[d] = strides[d];
  }
  p.total = out.num_elements();
  if (p.total == 0) return Status::Ok();
  const unsigned grid = GridFor(ctx, p.total, 256);
  VisitUnit(static_cast<int64_t>(es), [&](auto tag) {
    using T = decltype(tag);
    PadKernel<T><<<grid, 256, 0, ctx.stream()>>>(p, in.ptr<const T>(), out.ptr<T>());
  });
  return ctx.LaunchStatus();
}

struct TileParams {
  int rank;
  int64_t out_dims[kMaxRank];    // [rank] units on the last dim
  int64_t in_dims[kMaxRank];     // [rank] units on the last dim
  int64_t in_strides[kMaxRank];  // [rank] units
  int64_t total;                 // output units
};

template <class Unit>
__global__ void TileKernel(TileParams p, const Unit* __restrict__ in, Unit* __restrict__ out) {
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < p.total;
       i += step) {
    int64_t rem = i, off = 0;
    for (int d = p.rank - 1; d >= 0; --d) {
      const int64_t q = rem / p.out_dims[d];
      off += ((rem - q * p.out_dims[d]) % p.in_dims[d]) * p.in_strides[d];
      rem = q;
    }
    out[i] = in[off];
  }
}

Status TileRun(CudaKernelContext& ctx) {
  const DeviceTensor& in = ctx.input(0);
  DeviceTensor& out = ctx.output(0);
  const size_t rank = in.dims.size();
  if (rank > static_cast<size_t>(kMaxRank) || out.dims.size() != rank) {
    return ctx.Error(StatusCode::kInvalidArgument, "input ", DimsToString(in.dims), " and output ",
                     DimsToString(out.dims), " must share one rank <= ", kMaxRank);
  }
  for (size_t d = 0; d < rank; ++d) {
    if (in.dims[d] == 0 ? out.dims[d] != 0 : out.dims[d] % in.dims[d] != 0) {
      return ctx.Error(StatusCode::kInternal, "output ", DimsToString(out.dims),
                       " is not a tiling of input ", DimsToString(in.dims));
    }
  }
  if (out.num_elements() == 0) return Status::Ok();
  TileParams p{};
  p.rank = static_cast<int>(rank);
  // Units: a 16/8/4/2-byte unit when the input's rows are multiples of it
  // (then so are the output's rows and every stride) and both buffers are
  // aligned.
  const int64_t es = static_cast<int64_t>(DTypeSize(in.dtype));
  const int64_t last_bytes = rank == 0 ? es : in.dims[rank - 1] * es;
  int64_t unit = 16;
  while (unit > es &&
         (rank == 0 || last_bytes % unit != 0 || reinterpret_cast<uintptr_t>(in.data) % unit != 0 ||
          reinterpret_cast<uintptr_t>(out.data) % unit != 0)) {
    unit /= 2;
  }
  const int64_t f = unit / es;
  Dims in_dims = in.dims, out_dims = out.dims;
  if (rank > 0) {
    in_dims[rank - 1] /= f;
    out_dims[rank - 1] /= f;
  }
  Dims strides = DenseStrides(in_dims);
  for (size_t d = 0; d < rank; ++d) {
    p.out_dims[d] = out_dims[d];
    p.in_dims[d] = in_dims[d];
    p.in_strides[d] = strides[d];
  }
  p.total = Product(out_dims, 0, rank);
  const unsigned grid = GridFor(ctx, p.total, 256);
  VisitUnit(unit, [&](auto tag) {
    using T = decltype(tag);
    TileKernel<T><<<grid, 256, 0, ctx.stream()>>>(p, in.ptr<const T>(), out.ptr<T>());
  });
  return ctx.LaunchStatus();
}

struct TriluParams {
  int64_t rows;   // dims[rank - 2]
  int64_t cols;   // dims[rank - 1]
  int64_t k;      // diagonal offset
  int upper;      // 1: keep j - i >= k; 0: keep j - i <= k
  int64_t total;  // elements
};

template <class T>
__global__ void TriluKernel(TriluParams p, const T* __restrict__ in, T* __restrict__ out) {
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < p.total;
       i += step) {
    const int64_t row_all = i / p.cols;
    const int64_t j = i - row_all * p.cols;
    const int64_t r = row_all % p.rows;
    const int64_t diff = j - r;  // small: comparing it with any k cannot overflow
    const bool keep = p.upper ? diff >= p.k : diff <= p.k;
    T v{};
    if (keep) v = in[i];
    out[i] = v;
  }
}

std::string SupportsTrilu(const Node& node) {
  if (!node.has_input(0) || !node.has_output(0)) return "needs an input and an output";
  std::string why = CheckMovableDType(node.inputs[0]->dtype, "input 0");
  if (!why.empty()) return why;
  const Value* in = node.inputs[0];
  if (in->shape && in->shape->rank() < 2) {
    return StrCat("input 0 has rank ", in->shape->rank(), "; Trilu needs at least 2");
  }
  return "";
}

Status TriluRun(CudaKernelContext& ctx) {
  const DeviceTensor& in = ctx.input(0);
  DeviceTensor& out = ctx.output(0);
  const size_t rank = in.dims.size();
  if (rank < 2 || out.dims != in.dims) {
    return ctx.Error(StatusCode::kInvalidArgument, "input ", DimsToString(in.dims),
                     " must have rank >= 2 and the output's shape ", DimsToString(out.dims));
  }
  FRT_ASSIGN_OR_RETURN(std::vector<int64_t> kv, HostInts(ctx, 1, "k"));
  if (ctx.has_input(1) && kv.size() != 1) {
    return ctx.Error(StatusCode::kInvalidModel, "k must hold one value, got ", kv.size());
  }
  TriluParams p{};
  p.rows = in.dims[rank - 2];
  p.cols = in.dims[rank - 1];
  p.k = kv.empty() ? 0 : kv[0];
  p.upper = ctx.attrs().GetInt("upper", 1) != 0 ? 1 : 0;
  p.total = in.num_elements();
  if (p.total == 0) return Status::Ok();
  const unsigned grid = GridFor(ctx, p.total, 256);
  VisitUnit(static_cast<int64_t>(DTypeSize(in.dtype)), [&](auto tag) {
    using T = decltype(tag);
    TriluKernel<T><<<grid, 256, 0, ctx.stream()>>>(p, in.ptr<const T>(), out.ptr<T>());
  });
  return ctx.LaunchStatus();
}

std::string SupportsTile(const Node& node) {
  if (!node.has_input(0) || !node.has_output(0)) return "needs an input and an output";
  std::string why = CheckMovableDType(node.inputs[0]->dtype, "input 0");
  if (why.empty()) why = CheckRankAtMost(node.inputs[0], kMaxRank, "input 0");
  return why;
}

}  // namespace

void RegisterPadKernels(CudaKernelRegistry& r) {
  r.Register({"tensor.pad", OpKind::kPad, SupportsPad, PadRun});
  r.Register({"tensor.tile", OpKind::kTile, SupportsTile, TileRun});
  r.Register({"tensor.trilu", OpKind::kTrilu, SupportsTrilu, TriluRun});
}

}  // namespace frt::cuda_tensor
