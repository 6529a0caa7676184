// Cast on CUDA between f32 f16 bf16 f64 int32 int64 int8 uint8 and bool,
// with the CPU reference's rules (Convert in pointwise_device.h): floats round
// to nearest even in one step, float -> integer truncates toward zero and
// saturates (NaN -> 0), integer -> integer wraps, x -> bool is x != 0.
// CastLike and fp8 targets are not handled here.
#include "backends/cuda/pointwise_device.h"
#include "backends/cuda/pointwise_kernels.h"
#include "backends/cuda/pointwise_support.h"

namespace frt::cuda_pointwise {
namespace {

Status RunCast(CudaKernelContext& ctx) {
  return Visit(CastTypes{}, ctx.input(0).dtype, ctx, [&](auto from) {
    using From = typename decltype(from)::type;
    return Visit(CastTypes{}, ctx.output(0).dtype, ctx, [&](auto to) {
      using To = typename decltype(to)::type;
      return Launch<IdentityOp, To, From>(ctx);
    });
  });
}

}  // namespace

void RegisterCastKernels(CudaKernelRegistry& r) {
  r.Register({"pointwise.cast", OpKind::kCast, SupportsCast, RunCast, nullptr});
}

}  // namespace frt::cuda_pointwise
