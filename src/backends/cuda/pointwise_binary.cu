// Binary broadcasting ops of the pointwise CUDA family: arithmetic (floats
// in fp32, integers wrapping), Pow, Max/Min (also with one input),
// comparisons and logic. Functors are in pointwise_device.h.
#include "backends/cuda/pointwise_device.h"
#include "backends/cuda/pointwise_kernels.h"
#include "backends/cuda/pointwise_support.h"

namespace frt::cuda_pointwise {
namespace {

// f32/f16/bf16/int32/int64, output of the inputs' dtype. Max/Min with a
// single input copy it.
template <class Op>
Status RunArithmetic(CudaKernelContext& ctx) {
  return Visit(NumericTypes{}, ctx.input(0).dtype, ctx, [&](auto tag) {
    using T = typename decltype(tag)::type;
    if (ctx.num_inputs() == 1) return Launch<IdentityOp, T, T>(ctx);
    return Launch<Op, T, T, T>(ctx);
  });
}

// Pow: a float base; the exponent has the base's dtype, f32, int32 or int64.
Status RunPow(CudaKernelContext& ctx) {
  return Visit(FloatTypes{}, ctx.input(0).dtype, ctx, [&](auto base) {
    using T = typename decltype(base)::type;
    using Exponents = TypeList<T, float, int32_t, int64_t>;
    return Visit(Exponents{}, ctx.input(1).dtype, ctx, [&](auto exponent) {
      using E = typename decltype(exponent)::type;
      return Launch<PowOp, T, T, E>(ctx);
    });
  });
}

// Comparisons: numeric inputs (and bool for Equal), bool output.
template <class Op>
Status RunCompare(CudaKernelContext& ctx) {
  using Types = TypeList<float, __half, __nv_bfloat16, int32_t, int64_t, BoolByte>;
  return Visit(Types{}, ctx.input(0).dtype, ctx, [&](auto tag) {
    using T = typename decltype(tag)::type;
    return Launch<Op, BoolByte, T, T>(ctx);
  });
}

template <class Op>
Status RunLogic(CudaKernelContext& ctx) {
  return Launch<Op, BoolByte, BoolByte, BoolByte>(ctx);
}

}  // namespace

void RegisterBinaryKernels(CudaKernelRegistry& r) {
  struct Row {
    OpKind op;
    Status (*run)(CudaKernelContext&);
  };
  const Row rows[] = {
      {OpKind::kAdd, RunArithmetic<AddOp>},
      {OpKind::kSub, RunArithmetic<SubOp>},
      {OpKind::kMul, RunArithmetic<MulOp>},
      {OpKind::kDiv, RunArithmetic<DivOp>},
      {OpKind::kMax, RunArithmetic<MaxOp>},
      {OpKind::kMin, RunArithmetic<MinOp>},
      {OpKind::kPow, RunPow},
      {OpKind::kEqual, RunCompare<EqualOp>},
      {OpKind::kLess, RunCompare<LessOp>},
      {OpKind::kGreater, RunCompare<GreaterOp>},
      {OpKind::kLessOrEqual, RunCompare<LessOrEqualOp>},
      {OpKind::kGreaterOrEqual, RunCompare<GreaterOrEqualOp>},
      {OpKind::kAnd, RunLogic<AndOp>},
      {OpKind::kOr, RunLogic<OrOp>},
      {OpKind::kXor, RunLogic<XorOp>},
  };
  for (const Row& row : rows) {
    r.Register({kElementwiseTactic, row.op, SupportsElementwise, row.run, nullptr});
  }
}

}  // namespace frt::cuda_pointwise
