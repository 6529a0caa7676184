// CPU reference kernels of FusedMatMul and FusedConv (docs/fused_ops.md).
// The core product comes from the same double-precision loops as MatMul and
// Conv (nn_kernels.h: MatMulDoubles, ConvDoubles); the epilogue
// act(alpha * core + bias + residual) is applied to the double results and
// the output is rounded once, so a fused node differs from the unfused chain
// only by the roundings the chain does between its ops.
#include <utility>

#include "backends/cpu/activation.h"
#include "backends/cpu/broadcast.h"
#include "backends/cpu/kernel_families.h"
#include "backends/cpu/nn_kernels.h"

namespace frt {
namespace {

// Input i broadcast onto `out` (numpy rules, without growing `out`), or
// zero strides over a single 0 when the input is absent.
struct Addend {
  std::vector<double> values{0.0};
  Dims strides;
};

Result<Addend> ReadAddend(const KernelContext& ctx, size_t i, const char* what, const Dims& out) {
  Addend a;
  if (!ctx.has_input(i)) {
    a.strides.assign(out.size(), 0);
    return a;
  }
  const Tensor& t = ctx.input(i);
  auto b = BroadcastDims(t.dims(), out);
  if (!b.ok() || *b != out) {
    return ctx.Error(StatusCode::kInvalidArgument, what, " has shape ", DimsToString(t.dims()),
                     " which does not broadcast to the output shape ", DimsToString(out));
  }
  a.values = ToDoubles(t);
  a.strides = BroadcastStrides(t.dims(), out);
  return a;
}

// y = act(alpha * core + bias + residual), rounded once into `y`.
Status ApplyEpilogue(const KernelContext& ctx, std::vector<double> core, double alpha,
                     int bias_index, Tensor& y) {
  FRT_ASSIGN_OR_RETURN(ActivationSpec act, ReadActivation(ctx.node()));
  const Dims& dims = y.dims();
  if (static_cast<int64_t>(core.size()) != y.num_elements()) {
    return ctx.Error(StatusCode::kInternal, "the product has ", core.size(),
                     " elements but the output ", DimsToString(dims), " has ", y.num_elements());
  }
  Addend bias;
  if (bias_index >= 0) {
    FRT_ASSIGN_OR_RETURN(bias, ReadAddend(ctx, static_cast<size_t>(bias_index), "bias", dims));
  } else {
    bias.strides.assign(dims.size(), 0);
  }
  FRT_ASSIGN_OR_RETURN(Addend residual, ReadAddend(ctx, 3, "residual", dims));
  BroadcastIterator<2> it(dims, {bias.strides, residual.strides});
  for (size_t e = 0; e < core.size(); ++e, it.Next()) {
    const double v = alpha * core[e] + bias.values[it.offset(0)] + residual.values[it.offset(1)];
    core[e] = ApplyActivation(act, v);
  }
  nn::StoreDoubles(core, y);
  return Status::Ok();
}

// B [.., N, K] -> [.., K, N] (the trans_b operand in MatMul's layout).
std::vector<double> TransposeLastTwo(const std::vector<double>& b, Dims* dims) {
  const size_t r = dims->size();
  const int64_t rows = (*dims)[r - 2], cols = (*dims)[r - 1];
  const int64_t plane = rows * cols;
  std::vector<double> out(b.size());
  for (size_t base = 0; plane > 0 && base < b.size(); base += static_cast<size_t>(plane)) {
    for (int64_t i = 0; i < rows; ++i) {
      for (int64_t j = 0; j < cols; ++j) out[base + j * rows + i] = b[base + i * cols + j];
    }
  }
  std::swap((*dims)[r - 2], (*dims)[r - 1]);
  return out;
}

Status FusedMatMulKernel(KernelContext& ctx) {
  const Tensor& a = ctx.input(0);
  const Tensor& b = ctx.input(1);
  if (a.rank() < 2 || b.rank() < 2) {
    return ctx.Error(StatusCode::kInvalidArgument, "A and B must have rank 2 or more, got ",
                     DimsToString(a.dims()), " and ", DimsToString(b.dims()));
  }
  Dims b_dims = b.dims();
  std::vector<double> bv = ToDoubles(b);
  if (ctx.attrs().GetInt("trans_b", 0) != 0) bv = TransposeLastTwo(bv, &b_dims);
  Dims out_dims;
  FRT_ASSIGN_OR_RETURN(std::vector<double> core,
                       nn::MatMulDoubles(ctx, a.dims(), ToDoubles(a), b_dims, bv, &out_dims));
  Tensor& y = ctx.output(0);
  if (out_dims != y.dims()) {
    return ctx.Error(StatusCode::kInternal, "the product has shape ", DimsToString(out_dims),
                     " but the output was allocated as ", DimsToString(y.dims()));
  }
  return ApplyEpilogue(ctx, std::move(core), ctx.attrs().GetFloat("alpha", 1.0f), 2, y);
}

Status FusedConvKernel(KernelContext& ctx) {
  Tensor& y = ctx.output(0);
  // Conv's loop adds the per-channel bias (input 2) itself.
  FRT_ASSIGN_OR_RETURN(std::vector<double> core, nn::ConvDoubles(ctx, y));
  return ApplyEpilogue(ctx, std::move(core), 1.0, -1, y);
}

}  // namespace

void RegisterFusedEpilogueKernels(CpuKernelRegistry& r) {
  r.Register(OpKind::kFusedMatMul, FusedMatMulKernel);
  r.Register(OpKind::kFusedConv, FusedConvKernel);
}

}  // namespace frt
