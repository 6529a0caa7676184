// MultiHeadAttention on CUDA (docs/fused_ops.md): registers two tactics, in
// preference order,
//   cuda.attention.flash   f16/bf16, D == Dv a multiple of 16 up to 128:
//                          tensor cores, online softmax (attention_flash.cu)
//   cuda.attention.simple  f32/f16/bf16, D, Dv <= 256: CUDA cores, one warp
//                          per query row (attention_simple.cu)
// and runs them: concrete dims -> AttentionParams (attention_params.cc), then
// one launch. The flash tactic falls back to the simple kernel at run time
// when an operand is not 16-byte aligned (the kernels compute the same
// function; only the speed differs).
#include <cmath>
#include <limits>

#include "backends/cuda/attention_params.h"
#include "backends/cuda/kernel.h"
#include "backends/cuda/kernel_families.h"

namespace frt {
namespace {

Result<AttentionParams> ParamsFromContext(CudaKernelContext& ctx) {
  const DeviceTensor& q = ctx.input(0);
  const bool packed = !ctx.has_input(1) && !ctx.has_input(2);
  const Dims* key = packed || !ctx.has_input(1) ? nullptr : &ctx.input(1).dims;
  const Dims* value = packed || !ctx.has_input(2) ? nullptr : &ctx.input(2).dims;
  const Dims* mask = ctx.has_input(3) ? &ctx.input(3).dims : nullptr;
  const DType mask_dtype = mask ? ctx.input(3).dtype : DType::kUndefined;
  if (!packed) {
    for (size_t i = 1; i <= 2; ++i) {
      if (ctx.has_input(i) && ctx.input(i).dtype != q.dtype) {
        return ctx.Error(StatusCode::kInvalidArgument, "input ", i, " has dtype ",
                         DTypeName(ctx.input(i).dtype), " but the query has ", DTypeName(q.dtype));
      }
    }
  }
  const float scale = ctx.attrs().Has("scale") ? ctx.attrs().GetFloat("scale", 1.0f)
                                               : std::numeric_limits<float>::quiet_NaN();
  Result<AttentionParams> made = MakeAttentionParams(q.dtype, q.dims, key, value, mask, mask_dtype,
                                                     ctx.attrs().GetInt("num_heads", 0),
                                                     ctx.attrs().GetInt("causal", 0) != 0, scale);
  if (!made.ok()) return ctx.Error(made.status().code(), made.status().message());
  AttentionParams p = *made;
  const DeviceTensor& out = ctx.output(0);
  const Dims want = {p.batch, p.seq_q, static_cast<int64_t>(p.heads) * p.value_dim};
  if (out.dims != want || out.dtype != q.dtype) {
    return ctx.Error(StatusCode::kInternal, "output is ", DTypeName(out.dtype),
                     DimsToString(out.dims), " but the kernel writes ", DTypeName(q.dtype),
                     DimsToString(want));
  }
  p.q = q.data;
  p.k = packed ? q.data : ctx.input(1).data;
  p.v = packed ? q.data : ctx.input(2).data;
  p.mask = mask ? ctx.input(3).data : nullptr;
  p.out = out.data;
  return p;
}

Status Finish(CudaKernelContext& ctx, const Status& launched) {
  if (!launched.ok()) return ctx.Error(launched.code(), launched.message());
  return ctx.LaunchStatus();
}

Status RunFlash(CudaKernelContext& ctx) {
  FRT_ASSIGN_OR_RETURN(AttentionParams p, ParamsFromContext(ctx));
  if (FlashAttentionUnsupported(p.dtype, p.head_dim, p.value_dim).empty() &&
      FlashAttentionAligned(p)) {
    return Finish(ctx, LaunchFlashAttention(p, ctx.stream()));
  }
  return Finish(ctx, LaunchSimpleAttention(p, ctx.stream()));
}

Status RunSimple(CudaKernelContext& ctx) {
  FRT_ASSIGN_OR_RETURN(AttentionParams p, ParamsFromContext(ctx));
  const std::string why = SimpleAttentionUnsupported(p.dtype, p.head_dim, p.value_dim);
  if (!why.empty()) return ctx.Error(StatusCode::kInvalidArgument, why);
  return Finish(ctx, LaunchSimpleAttention(p, ctx.stream()));
}

}  // namespace

void RegisterCudaAttentionKernels(CudaKernelRegistry& r) {
  r.Register(
      {"attention.flash", OpKind::kMultiHeadAttention, FlashAttentionSupports, RunFlash, nullptr});
  r.Register({"attention.simple", OpKind::kMultiHeadAttention, SimpleAttentionSupports, RunSimple,
              nullptr});
}

}  // namespace frt
