// The pointwise CUDA kernel family: registration of every kernel of the
// family, and the unary elementwise ops, Clip and Where. Each op's run
// function picks the functor (pointwise_device.h) from the op and its
// attributes and the storage types from the tensors' dtypes; the generic
// launcher does the broadcasting.
#include "backends/cuda/kernel_families.h"
#include "backends/cuda/pointwise_device.h"
#include "backends/cuda/pointwise_kernels.h"
#include "backends/cuda/pointwise_support.h"

namespace frt {
namespace cuda_pointwise {
namespace {

// Attributes of the unary ops, with their ONNX defaults.
OpAttrs UnaryAttrs(const CudaKernelContext& ctx) {
  OpAttrs at;
  switch (ctx.node().op) {
    case OpKind::kLeakyRelu: at.alpha = ctx.attrs().GetFloat("alpha", 0.01f); break;
    case OpKind::kSwish: at.alpha = ctx.attrs().GetFloat("alpha", 1.0f); break;
    case OpKind::kHardSigmoid:
      at.alpha = ctx.attrs().GetFloat("alpha", 0.2f);
      at.beta = ctx.attrs().GetFloat("beta", 0.5f);
      break;
    default: break;
  }
  return at;
}

// f32/f16/bf16 -> same dtype.
template <class Op>
Status RunFloatUnary(CudaKernelContext& ctx) {
  const OpAttrs at = UnaryAttrs(ctx);
  return Visit(FloatTypes{}, ctx.input(0).dtype, ctx, [&](auto tag) {
    using T = typename decltype(tag)::type;
    return Launch<Op, T, T>(ctx, at);
  });
}

// f32/f16/bf16/int32/int64 -> same dtype.
template <class Op>
Status RunNumericUnary(CudaKernelContext& ctx) {
  return Visit(NumericTypes{}, ctx.input(0).dtype, ctx, [&](auto tag) {
    using T = typename decltype(tag)::type;
    return Launch<Op, T, T>(ctx);
  });
}

Status RunGelu(CudaKernelContext& ctx) {
  return GeluIsTanh(ctx.node()) ? RunFloatUnary<GeluTanhOp>(ctx) : RunFloatUnary<GeluErfOp>(ctx);
}

Status RunNot(CudaKernelContext& ctx) { return Launch<NotOp, BoolByte, BoolByte>(ctx); }

// Clip(x, min?, max?): an absent bound is replaced by a one-element view of x
// (never read: the functor's flags say which bounds exist).
Status RunClip(CudaKernelContext& ctx) {
  const DeviceTensor& x = ctx.input(0);
  DeviceTensor none{x.dtype, Dims{}, x.data, nullptr};
  std::array<const DeviceTensor*, 3> inputs = {&x, &none, &none};
  OpAttrs at;
  for (size_t i = 1; i <= 2; ++i) {
    if (!ctx.has_input(i)) continue;
    if (ctx.input(i).num_elements() != 1) {
      return ctx.Error(StatusCode::kInvalidArgument, "input ", i, " (", i == 1 ? "min" : "max",
                       ") has shape ", DimsToString(ctx.input(i).dims), " but must hold one value");
    }
    inputs[i] = &ctx.input(i);
    at.flags |= static_cast<int32_t>(i);  // bit 0: min, bit 1: max
  }
  return Visit(NumericTypes{}, x.dtype, ctx, [&](auto tag) {
    using T = typename decltype(tag)::type;
    return Launch<ClipOp, T, T, T, T>(ctx, at, inputs);
  });
}

Status RunWhere(CudaKernelContext& ctx) {
  using Values = TypeList<float, __half, __nv_bfloat16, int32_t, int64_t, BoolByte>;
  return Visit(Values{}, ctx.input(1).dtype, ctx, [&](auto tag) {
    using T = typename decltype(tag)::type;
    return Launch<WhereOp, T, BoolByte, T, T>(ctx);
  });
}

}  // namespace

void RegisterUnaryKernels(CudaKernelRegistry& r) {
  struct Row {
    OpKind op;
    Status (*run)(CudaKernelContext&);
  };
  const Row rows[] = {
      {OpKind::kRelu, RunNumericUnary<ReluOp>},
      {OpKind::kNeg, RunNumericUnary<NegOp>},
      {OpKind::kAbs, RunNumericUnary<AbsOp>},
      {OpKind::kSigmoid, RunFloatUnary<SigmoidOp>},
      {OpKind::kTanh, RunFloatUnary<TanhOp>},
      {OpKind::kErf, RunFloatUnary<ErfOp>},
      {OpKind::kExp, RunFloatUnary<ExpOp>},
      {OpKind::kLog, RunFloatUnary<LogOp>},
      {OpKind::kSqrt, RunFloatUnary<SqrtOp>},
      {OpKind::kReciprocal, RunFloatUnary<ReciprocalOp>},
      {OpKind::kSoftplus, RunFloatUnary<SoftplusOp>},
      {OpKind::kSwish, RunFloatUnary<SwishOp>},
      {OpKind::kLeakyRelu, RunFloatUnary<LeakyReluOp>},
      {OpKind::kHardSigmoid, RunFloatUnary<HardSigmoidOp>},
      {OpKind::kGelu, RunGelu},
      {OpKind::kNot, RunNot},
      {OpKind::kClip, RunClip},
      {OpKind::kWhere, RunWhere},
  };
  for (const Row& row : rows) {
    r.Register({kElementwiseTactic, row.op, SupportsElementwise, row.run, nullptr});
  }
}

}  // namespace cuda_pointwise

void RegisterCudaPointwiseKernels(CudaKernelRegistry& r) {
  cuda_pointwise::RegisterUnaryKernels(r);
  cuda_pointwise::RegisterBinaryKernels(r);
  cuda_pointwise::RegisterCastKernels(r);
  cuda_pointwise::RegisterFusedKernels(r);
}

}  // namespace frt
