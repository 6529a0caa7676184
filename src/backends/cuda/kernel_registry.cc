// The CUDA kernel registry: every family registers its kernels from the
// explicit list below (no static initializers), in preference order.
#include "backends/cuda/kernel.h"
#include "backends/cuda/kernel_families.h"
#include "backends/cuda/cuda_util.h"

namespace frt {

const CudaKernelRegistry& CudaKernelRegistry::Global() {
  static const CudaKernelRegistry* registry = [] {
    auto* r = new CudaKernelRegistry();
    RegisterCudaGemmKernels(*r);
    RegisterCudaNormKernels(*r);
    RegisterCudaAttentionKernels(*r);
    RegisterCudaPointwiseKernels(*r);
    RegisterCudaTensorKernels(*r);
    RegisterCudaReductionKernels(*r);
    RegisterCudaConvKernels(*r);
    return r;
  }();
  return *registry;
}

void CudaKernelRegistry::Register(CudaKernel kernel) {
  kernels_.push_back(std::make_unique<CudaKernel>(std::move(kernel)));
}

std::vector<const CudaKernel*> CudaKernelRegistry::ForOp(OpKind op) const {
  std::vector<const CudaKernel*> out;
  for (const auto& k : kernels_) {
    if (k->op == op) out.push_back(k.get());
  }
  return out;
}

const CudaKernel* CudaKernelRegistry::Find(OpKind op, std::string_view tactic) const {
  if (!tactic.starts_with(kCudaTacticPrefix)) return nullptr;
  tactic.remove_prefix(kCudaTacticPrefix.size());
  for (const auto& k : kernels_) {
    if (k->op == op && k->name == tactic) return k.get();
  }
  return nullptr;
}

Status CudaKernelContext::LaunchStatus() const {
  cudaError_t e = cudaGetLastError();
  if (e == cudaSuccess) return Status::Ok();
  return MakeError(StatusCode::kInternal, node_.Describe(), ": kernel launch failed: ",
                   cudaGetErrorName(e), " (", cudaGetErrorString(e), ")");
}

bool IsFloatDType(DType t) {
  return t == DType::kFloat32 || t == DType::kFloat16 || t == DType::kBFloat16;
}

std::string RequireDTypes(const Node& node, std::initializer_list<DType> dtypes) {
  auto ok = [&](DType t) {
    for (DType d : dtypes) {
      if (d == t) return true;
    }
    return false;
  };
  for (size_t i = 0; i < node.inputs.size(); ++i) {
    const Value* v = node.inputs[i];
    if (v && !ok(v->dtype)) return StrCat("input ", i, " has dtype ", DTypeName(v->dtype));
  }
  for (size_t i = 0; i < node.outputs.size(); ++i) {
    const Value* v = node.outputs[i];
    if (v && !ok(v->dtype)) return StrCat("output ", i, " has dtype ", DTypeName(v->dtype));
  }
  return "";
}

}  // namespace frt
