// CUDA Reduce* kernels (Sum, Mean, Max, Min, Prod, SumSquare, L1, L2,
// LogSum, LogSumExp; f32 / f16 / bf16, fp32 accumulation) and the family's
// registration (ArgMax / ArgMin: reduction_arg.cu).
//
// PlanReduce (reduction_plan.h) turns the axes into one of three forms:
// - rows [outer, len], reduced elements contiguous: a warp per row (len up to
//   4096) or a 256-thread block per row, 16-byte vector loads when aligned;
//   few long rows split each row into parts whose partial accumulators go to
//   the workspace and a second kernel combines them;
// - columns [outer, len, inner]: a 256-thread block covers 32 adjacent
//   outputs (coalesced along inner) and its 8 warps split len, combining in
//   shared memory; again split across blocks when there are few outputs;
// - anything else, and short rows / narrow columns: one thread (len < 64) or
//   one warp per output, computing offsets from the merged dims and strides.
// The axes come from the attribute-free opset-18 form: the optional int64
// input 1, read on the host (ctx.input(1).host).
#include <vector>

#include "backends/cuda/kernel.h"
#include "backends/cuda/kernel_families.h"
#include "backends/cuda/norm_plan.h"
#include "backends/cuda/reduction_device.h"
#include "backends/cuda/reduction_plan.h"
#include "ir/ops/reduction_ops.h"

namespace frt {

void RegisterCudaArgReduceKernels(CudaKernelRegistry& r);  // reduction_arg.cu

namespace cuda_reduce {
namespace {

using cuda_norm::BroadcastOffset;
using cuda_norm::GridFor;
using cuda_norm::kMaxRank;
using cuda_norm::LoadVec;
using cuda_norm::ToF32;
using cuda_norm::FromF32;

struct ReduceParams {
  const void* x = nullptr;   // the input
  void* y = nullptr;         // [outputs], X's dtype
  void* partials = nullptr;  // [parts, outputs] accumulators when parts > 1
  int64_t outputs = 0;
  int64_t outer = 1, len = 1, inner = 1;  // rows / columns forms
  int64_t parts = 1;     // len split into parts of part_len (the last may be shorter)
  int64_t part_len = 0;
  Finish finish = Finish::kNone;
  float count = 1.f;  // reduced elements per output (ReduceMean)
  // General form: merged kept dims (output order) and reduced dims with input strides.
  int kept_rank = 0, red_rank = 0;
  int64_t kept_dims[kMaxRank] = {}, kept_strides[kMaxRank] = {};
  int64_t red_dims[kMaxRank] = {}, red_strides[kMaxRank] = {};
};

// Writes output `o`'s accumulator for part `part`: final value, or a partial.
template <class T, Accum kA>
__device__ __forceinline__ void Emit(const ReduceParams& p, int64_t o, int64_t part,
                                     typename Reducer<kA>::Acc acc) {
  if (p.parts > 1) {
    static_cast<typename Reducer<kA>::Acc*>(p.partials)[part * p.outputs + o] = acc;
  } else {
    static_cast<T*>(p.y)[o] = FromF32<T>(Reducer<kA>::Finalize(acc, p.finish, p.count));
  }
}

// Rows: work unit (row, part); kThreads 32 = a warp per unit (8 per block).
template <class T, Accum kA, int kThreads, int kVec>
__global__ void __launch_bounds__(256) ReduceRowsKernel(ReduceParams p) {
  using R = Reducer<kA>;
  using Acc = typename R::Acc;
  constexpr int kUnitsPerBlock = 256 / kThreads;
  __shared__ Acc smem[kThreads / 32];
  const T* x = static_cast<const T*>(p.x);
  const int tid = threadIdx.x % kThreads;
  const int64_t units = p.outer * p.parts;
  for (int64_t u = int64_t{blockIdx.x} * kUnitsPerBlock + threadIdx.x / kThreads; u < units;
       u += int64_t{gridDim.x} * kUnitsPerBlock) {
    const int64_t row = u / p.parts;
    const int64_t part = u - row * p.parts;
    const int64_t begin = part * p.part_len;
    const int64_t end = begin + p.part_len < p.len ? begin + p.part_len : p.len;
    const T* xr = x + row * p.len;
    Acc acc = R::Identity();
    // kVec > 1: len and part_len are multiples of kVec, so a vector is all in.
    for (int64_t i = begin + int64_t{tid} * kVec; i < end; i += int64_t{kThreads} * kVec) {
      float v[kVec];
      LoadVec<T, kVec>(xr + i, v);
#pragma unroll
      for (int j = 0; j < kVec; ++j) acc = R::Combine(acc, R::Load(v[j]));
    }
    if constexpr (kThreads == 32) {
      acc = R::WarpAll(acc);
    } else {
      acc = R::template BlockAll<kThreads>(acc, smem);
    }
    if (tid == 0) Emit<T, kA>(p, row, part, acc);
  }
}

// Columns: work unit (outer, 32-wide inner tile, part); 8 warps split the part.
template <class T, Accum kA>
__global__ void __launch_bounds__(256) ReduceColumnsKernel(ReduceParams p) {
  using R = Reducer<kA>;
  using Acc = typename R::Acc;
  __shared__ Acc smem[8][32];
  const T* x = static_cast<const T*>(p.x);
  const int tx = threadIdx.x % 32;
  const int ty = threadIdx.x / 32;
  const int64_t tiles = (p.inner + 31) / 32;
  const int64_t units = p.outer * tiles * p.parts;
  for (int64_t u = blockIdx.x; u < units; u += gridDim.x) {  // uniform over the block
    const int64_t part = u % p.parts;
    const int64_t ot = u / p.parts;
    const int64_t o = ot / tiles;
    const int64_t i = (ot - o * tiles) * 32 + tx;
    const int64_t begin = part * p.part_len;
    const int64_t end = begin + p.part_len < p.len ? begin + p.part_len : p.len;
    Acc acc = R::Identity();
    if (i < p.inner) {
      const T* xc = x + o * p.len * p.inner + i;
      for (int64_t k = begin + ty; k < end; k += 8) {
        acc = R::Combine(acc, R::Load(ToF32(xc[k * p.inner])));
      }
    }
    smem[ty][tx] = acc;
    __syncthreads();
    if (ty == 0) {
#pragma unroll
      for (int r = 1; r < 8; ++r) acc = R::Combine(acc, smem[r][tx]);
      if (i < p.inner) Emit<T, kA>(p, o * p.inner + i, part, acc);
    }
    __syncthreads();  // smem is rewritten by the next unit
  }
}

// General: one thread (kWarp false) or one warp per output.
template <class T, Accum kA, bool kWarp>
__global__ void __launch_bounds__(256) ReduceGeneralKernel(ReduceParams p) {
  using R = Reducer<kA>;
  using Acc = typename R::Acc;
  constexpr int kPerUnit = kWarp ? 32 : 1;
  constexpr int kUnitsPerBlock = 256 / kPerUnit;
  const T* x = static_cast<const T*>(p.x);
  const int lane = kWarp ? threadIdx.x % 32 : 0;
  for (int64_t o = int64_t{blockIdx.x} * kUnitsPerBlock + threadIdx.x / kPerUnit; o < p.outputs;
       o += int64_t{gridDim.x} * kUnitsPerBlock) {
    const T* xo = x + BroadcastOffset(o, p.kept_rank, p.kept_dims, p.kept_strides);
    Acc acc = R::Identity();
    for (int64_t j = lane; j < p.len; j += kPerUnit) {
      const int64_t off = BroadcastOffset(j, p.red_rank, p.red_dims, p.red_strides);
      acc = R::Combine(acc, R::Load(ToF32(xo[off])));
    }
    if constexpr (kWarp) acc = R::WarpAll(acc);
    if (lane == 0) static_cast<T*>(p.y)[o] = FromF32<T>(R::Finalize(acc, p.finish, p.count));
  }
}

// Combines the parts' partial accumulators of every output.
template <class T, Accum kA>
__global__ void __launch_bounds__(256) ReduceFinishPartsKernel(ReduceParams p) {
  using R = Reducer<kA>;
  using Acc = typename R::Acc;
  const Acc* partials = static_cast<const Acc*>(p.partials);
  for (int64_t o = int64_t{blockIdx.x} * blockDim.x + threadIdx.x; o < p.outputs;
       o += int64_t{gridDim.x} * blockDim.x) {
    Acc acc = R::Identity();
    for (int64_t part = 0; part < p.parts; ++part) {
      acc = R::Combine(acc, partials[part * p.outputs + o]);
    }
    static_cast<T*>(p.y)[o] = FromF32<T>(R::Finalize(acc, p.finish, p.count));
  }
}

constexpr int64_t kSmallLen = 64;  // below: a thread per output

// Fills the general form's dims for `plan`, or for a rows / columns plan
// that is better served by the general kernels.
void SetGeneral(const ReducePlan& plan, ReduceParams& p) {
  Dims kd = plan.kept_dims, ks = plan.kept_strides, rd = plan.red_dims, rs = plan.red_strides;
  if (plan.kind == ReducePlan::Kind::kRows) {
    kd = {plan.outer};
    ks = {plan.len};
    rd = {plan.len};
    rs = {1};
  } else if (plan.kind == ReducePlan::Kind::kColumns) {
    kd = {plan.outer, plan.inner};
    ks = {plan.len * plan.inner, 1};
    rd = {plan.len};
    rs = {plan.inner};
  }
  p.kept_rank = static_cast<int>(kd.size());
  p.red_rank = static_cast<int>(rd.size());
  for (size_t d = 0; d < kd.size(); ++d) {
    p.kept_dims[d] = kd[d];
    p.kept_strides[d] = ks[d];
  }
  for (size_t d = 0; d < rd.size(); ++d) {
    p.red_dims[d] = rd[d];
    p.red_strides[d] = rs[d];
  }
}

template <class T, Accum kA>
void LaunchReduce(const ReducePlan& plan, ReduceParams p, const CudaKernelContext& ctx,
                  CudaResources& res) {
  using Acc = typename Reducer<kA>::Acc;
  cudaStream_t s = ctx.stream();
  const int64_t target_blocks = int64_t{res.sm_count} * 8;
  const bool rows = plan.kind == ReducePlan::Kind::kRows && plan.len >= kSmallLen;
  const bool columns = plan.kind == ReducePlan::Kind::kColumns && plan.inner >= 16;
  if (!rows && !columns) {
    SetGeneral(plan, p);
    if (plan.len < kSmallLen) {
      ReduceGeneralKernel<T, kA, false><<<GridFor(p.outputs, 256), 256, 0, s>>>(p);
    } else {
      ReduceGeneralKernel<T, kA, true><<<GridFor(p.outputs, 8), 256, 0, s>>>(p);
    }
    return;
  }
  p.outer = plan.outer;
  p.len = plan.len;
  p.inner = plan.inner;
  constexpr int kV = static_cast<int>(16 / sizeof(T));
  const bool warp_rows = rows && plan.len <= 4096;
  int64_t blocks = rows ? plan.outer : plan.outer * ((plan.inner + 31) / 32);
  int64_t min_part = rows ? 4096 : 64;
  p.parts = warp_rows ? 1
                      : SplitCount(blocks, target_blocks, plan.len, min_part, p.outputs,
                                   sizeof(Acc), res.workspace_size);
  p.part_len = (plan.len + p.parts - 1) / p.parts;
  if (rows) {
    // Vector loads need every part to start on a vector boundary.
    p.part_len = (p.part_len + kV - 1) / kV * kV;
    p.parts = (plan.len + p.part_len - 1) / p.part_len;
  }
  if (p.parts > 1) p.partials = res.workspace;
  if (rows) {
    const bool vec = cuda_norm::VectorWidth(plan.len, sizeof(T), {p.x}) == kV;
    const int64_t units = p.outer * p.parts;
    if (warp_rows) {
      if (vec) ReduceRowsKernel<T, kA, 32, kV><<<GridFor(units, 8), 256, 0, s>>>(p);
      else ReduceRowsKernel<T, kA, 32, 1><<<GridFor(units, 8), 256, 0, s>>>(p);
    } else {
      if (vec) ReduceRowsKernel<T, kA, 256, kV><<<GridFor(units, 1), 256, 0, s>>>(p);
      else ReduceRowsKernel<T, kA, 256, 1><<<GridFor(units, 1), 256, 0, s>>>(p);
    }
  } else {
    ReduceColumnsKernel<T, kA><<<GridFor(blocks * p.parts, 1), 256, 0, s>>>(p);
  }
  if (p.parts > 1) ReduceFinishPartsKernel<T, kA><<<GridFor(p.outputs, 256), 256, 0, s>>>(p);
}

// The accumulator and finish step of a Reduce op.
bool OpParts(OpKind op, Accum* a, Finish* f) {
  *f = Finish::kNone;
  switch (op) {
    case OpKind::kReduceSum: *a = Accum::kSum; return true;
    case OpKind::kReduceMean: *a = Accum::kSum; *f = Finish::kMean; return true;
    case OpKind::kReduceLogSum: *a = Accum::kSum; *f = Finish::kLog; return true;
    case OpKind::kReduceSumSquare: *a = Accum::kSumSquare; return true;
    case OpKind::kReduceL2: *a = Accum::kSumSquare; *f = Finish::kSqrt; return true;
    case OpKind::kReduceL1: *a = Accum::kAbsSum; return true;
    case OpKind::kReduceMax: *a = Accum::kMax; return true;
    case OpKind::kReduceMin: *a = Accum::kMin; return true;
    case OpKind::kReduceProd: *a = Accum::kProd; return true;
    case OpKind::kReduceLogSumExp: *a = Accum::kLogSumExp; return true;
    default: return false;
  }
}

template <class T>
void LaunchForAccum(Accum a, const ReducePlan& plan, const ReduceParams& p,
                    const CudaKernelContext& ctx, CudaResources& res) {
  switch (a) {
    case Accum::kSum: LaunchReduce<T, Accum::kSum>(plan, p, ctx, res); break;
    case Accum::kSumSquare: LaunchReduce<T, Accum::kSumSquare>(plan, p, ctx, res); break;
    case Accum::kAbsSum: LaunchReduce<T, Accum::kAbsSum>(plan, p, ctx, res); break;
    case Accum::kMax: LaunchReduce<T, Accum::kMax>(plan, p, ctx, res); break;
    case Accum::kMin: LaunchReduce<T, Accum::kMin>(plan, p, ctx, res); break;
    case Accum::kProd: LaunchReduce<T, Accum::kProd>(plan, p, ctx, res); break;
    case Accum::kLogSumExp: LaunchReduce<T, Accum::kLogSumExp>(plan, p, ctx, res); break;
  }
}

Status RunReduce(CudaKernelContext& ctx) {
  const DeviceTensor& x = ctx.input(0);
  DeviceTensor& y = ctx.output(0);
  std::optional<std::vector<int64_t>> axes;
  if (ctx.has_input(1)) {
    if (ctx.input(1).host == nullptr) {
      return ctx.Error(StatusCode::kUnsupported,
                       "the axes input is computed on the device; the cuda Reduce kernels need "
                       "it known on the host (a constant or a shape computation)");
    }
    auto v = ctx.input(1).host->ToInt64Vector();
    if (!v.ok()) return v.status().WithPrefix(ctx.node().Describe());
    axes = std::move(*v);
  }
  bool noop = ctx.attrs().GetInt("noop_with_empty_axes", 0) != 0;
  auto mask = reduction::ResolveReduceAxes(axes ? &*axes : nullptr, noop,
                                           static_cast<int64_t>(x.dims.size()));
  if (!mask.ok()) return ctx.Error(mask.status().code(), mask.status().message());
  ReducePlan plan = PlanReduce(x.dims, *mask);
  if (plan.outputs == 0) return Status::Ok();
  if (y.num_elements() != plan.outputs || y.dtype != x.dtype) {
    return ctx.Error(StatusCode::kInternal, "output ", DTypeName(y.dtype), DimsToString(y.dims),
                     " does not hold the ", plan.outputs, " ", DTypeName(x.dtype),
                     " results of reducing ", DimsToString(x.dims));
  }
  if (plan.kept_dims.size() > static_cast<size_t>(kMaxRank) ||
      plan.red_dims.size() > static_cast<size_t>(kMaxRank)) {
    return ctx.Error(StatusCode::kUnsupported, "more than ", kMaxRank,
                     " interleaved kept / reduced dim groups in ", DimsToString(x.dims));
  }
  ReduceParams p;
  p.x = x.data;
  p.y = y.data;
  p.outputs = plan.outputs;
  p.len = plan.len;
  p.count = static_cast<float>(plan.len);
  Accum a;
  if (!OpParts(ctx.node().op, &a, &p.finish)) {
    return ctx.Error(StatusCode::kUnsupported, "not a Reduce op");
  }
  bool ok = cuda_norm::VisitFloatType(x.dtype, [&](auto tag) {
    LaunchForAccum<typename decltype(tag)::type>(a, plan, p, ctx, ctx.resources());
  });
  if (!ok) return ctx.Error(StatusCode::kUnsupported, "dtype ", DTypeName(x.dtype));
  return ctx.LaunchStatus();
}

std::string SupportsReduce(const Node& node) {
  const Value* x = node.inputs[0];
  if (!IsFloatDType(x->dtype)) {
    return StrCat("input dtype ", DTypeName(x->dtype), " (only f32, f16 and bf16 are supported)");
  }
  if (!node.has_output(0) || node.outputs[0]->dtype != x->dtype) return "output dtype differs";
  if (node.has_input(1)) {
    const Value* axes = node.inputs[1];
    if (axes->dtype != DType::kInt64) return "axes must be i64";
  }
  return "";
}

}  // namespace
}  // namespace cuda_reduce

void RegisterCudaReductionKernels(CudaKernelRegistry& r) {
  for (OpKind k : {OpKind::kReduceSum, OpKind::kReduceMean, OpKind::kReduceMax,
                   OpKind::kReduceMin, OpKind::kReduceProd, OpKind::kReduceSumSquare,
                   OpKind::kReduceL1, OpKind::kReduceL2, OpKind::kReduceLogSum,
                   OpKind::kReduceLogSumExp}) {
    r.Register({"reduce", k, cuda_reduce::SupportsReduce, cuda_reduce::RunReduce, nullptr});
  }
  RegisterCudaArgReduceKernels(r);
}

}  // namespace frt
