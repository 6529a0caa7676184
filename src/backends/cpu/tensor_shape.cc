// Reference kernels of the shape-only ops: Reshape, Flatten, Squeeze,
// Unsqueeze and Identity copy the input bytes into the output (whose shape
// inference already computed); Dropout is an identity at inference; Shape
// and Size read the input's dims.
#include <algorithm>

#include "backends/cpu/tensor_kernel_util.h"

namespace frt::tensor_cpu {
namespace {

Status CopyKernel(KernelContext& ctx) { return CopyToOutput(ctx, ctx.input(0), 0); }

// Inference-mode dropout: y = x and an all-true mask. Training mode with a
// nonzero ratio draws random numbers, which an inference runtime does not do.
Status DropoutKernel(KernelContext& ctx) {
  bool training =
      ctx.has_input(2) && ctx.input(2).num_elements() == 1 && ctx.input(2).data<bool>()[0];
  double ratio = 0.5;
  if (ctx.has_input(1) && ctx.input(1).num_elements() == 1) ratio = ctx.input(1).GetAsDouble(0);
  if (training && ratio != 0.0) {
    return ctx.Error(StatusCode::kUnsupported, "training_mode=true with ratio ", ratio,
                     " needs random numbers; only inference-mode dropout (or ratio 0) is "
                     "supported");
  }
  FRT_RETURN_IF_ERROR(CopyToOutput(ctx, ctx.input(0), 0));
  if (ctx.has_output(1)) {
    FRT_ASSIGN_OR_RETURN(Tensor * mask, StaticOutput(ctx, 1));
    std::fill_n(mask->data<bool>(), mask->num_elements(), true);
  }
  return Status::Ok();
}

Status ShapeKernel(KernelContext& ctx) {
  FRT_ASSIGN_OR_RETURN(Tensor * out, StaticOutput(ctx, 0));
  const Dims& dims = ctx.input(0).dims();
  int64_t rank = static_cast<int64_t>(dims.size());
  int64_t start = ctx.attrs().GetInt("start", 0);
  if (start < 0) start += rank;
  start = std::clamp<int64_t>(start, 0, rank);
  for (int64_t i = 0; i < out->num_elements(); ++i) out->data<int64_t>()[i] = dims[start + i];
  return Status::Ok();
}

Status SizeKernel(KernelContext& ctx) {
  FRT_ASSIGN_OR_RETURN(Tensor * out, StaticOutput(ctx, 0));
  out->data<int64_t>()[0] = ctx.input(0).num_elements();
  return Status::Ok();
}

}  // namespace

void RegisterTensorShapeKernels(CpuKernelRegistry& r) {
  for (OpKind k : {OpKind::kReshape, OpKind::kFlatten, OpKind::kSqueeze, OpKind::kUnsqueeze,
                   OpKind::kIdentity}) {
    r.Register(k, CopyKernel);
  }
  r.Register(OpKind::kDropout, DropoutKernel);
  r.Register(OpKind::kShape, ShapeKernel);
  r.Register(OpKind::kSize, SizeKernel);
}

}  // namespace frt::tensor_cpu
