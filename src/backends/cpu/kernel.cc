#include "backends/cpu/kernel.h"

#include "backends/cpu/kernel_families.h"

namespace frt {

Result<Tensor*> KernelContext::AllocateOutput(size_t i, DType dtype, const Dims& dims) {
  if (i >= outputs_->size()) {
    return Error(StatusCode::kInternal, "output index ", i, " out of range");
  }
  auto t = Tensor::Allocate(dtype, dims);
  if (!t.ok()) return t.status().WithPrefix(node_.Describe());
  (*outputs_)[i] = std::move(*t);
  return &(*outputs_)[i];
}

const CpuKernelRegistry& CpuKernelRegistry::Global() {
  static const CpuKernelRegistry* registry = [] {
    auto* r = new CpuKernelRegistry();
    RegisterElementwiseKernels(*r);
    RegisterReductionKernels(*r);
    RegisterTensorKernels(*r);
    RegisterNnKernels(*r);
    RegisterMiscKernels(*r);
    RegisterControlFlowKernels(*r);
    RegisterFusedEpilogueKernels(*r);
    RegisterFusedPointwiseKernels(*r);
    RegisterAttentionKernels(*r);
    RegisterFusedSoftmaxKernels(*r);
    return r;
  }();
  return *registry;
}

void CpuKernelRegistry::Register(OpKind kind, CpuKernelFn fn) {
  if (kernels_.empty()) kernels_.assign(static_cast<size_t>(OpKind::kNumOpKinds), nullptr);
  kernels_[static_cast<size_t>(kind)] = fn;
}

CpuKernelFn CpuKernelRegistry::Find(OpKind kind) const {
  size_t k = static_cast<size_t>(kind);
  return k < kernels_.size() ? kernels_[k] : nullptr;
}

}  // namespace frt
