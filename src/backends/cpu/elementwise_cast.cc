// Reference kernels of Cast and CastLike: every pair of FusionRT dtypes,
// element by element through ConvertValue (elementwise_kernels.h states the
// conversion rules). Cast's `to` holds an frt::DType (set by the importer).
#include "backends/cpu/elementwise_kernels.h"

namespace frt::elementwise {
namespace {

Status CastTo(KernelContext& ctx, DType to) {
  const Tensor& x = ctx.input(0);
  bool saturate = ctx.attrs().GetInt("saturate", 1) != 0;
  FRT_ASSIGN_OR_RETURN(Tensor * out, OutputTensor(ctx, 0, to, x.dims()));
  VisitDType(x.dtype(), [&](auto from_tag) {
    using From = typename decltype(from_tag)::type;
    VisitDType(to, [&](auto to_tag) {
      using To = typename decltype(to_tag)::type;
      const From* px = x.data<From>();
      To* po = out->data<To>();
      for (int64_t i = 0; i < x.num_elements(); ++i) {
        po[i] = ConvertValue<To, From>(px[i], saturate);
      }
    });
  });
  return Status::Ok();
}

Status CastKernel(KernelContext& ctx) {
  int64_t to = ctx.attrs().GetInt("to", 0);
  if (to <= 0 || to > 255 || DTypeSize(static_cast<DType>(to)) == 0) {
    return ctx.Error(StatusCode::kInvalidModel, "attribute `to` is ", to,
                     ", which is not a FusionRT dtype code");
  }
  return CastTo(ctx, static_cast<DType>(to));
}

Status CastLikeKernel(KernelContext& ctx) { return CastTo(ctx, ctx.input(1).dtype()); }

}  // namespace

void RegisterCastKernels(CpuKernelRegistry& r) {
  r.Register(OpKind::kCast, CastKernel);
  r.Register(OpKind::kCastLike, CastLikeKernel);
}

}  // namespace frt::elementwise
