// CPU reference kernel families, one function per family, each defined in
// src/backends/cpu/<family>.cc (mirrors src/ir/op_families.h).
#pragma once

namespace frt {

class CpuKernelRegistry;

void RegisterElementwiseKernels(CpuKernelRegistry& r);
void RegisterReductionKernels(CpuKernelRegistry& r);
void RegisterTensorKernels(CpuKernelRegistry& r);
void RegisterNnKernels(CpuKernelRegistry& r);
void RegisterMiscKernels(CpuKernelRegistry& r);
void RegisterControlFlowKernels(CpuKernelRegistry& r);
void RegisterFusedEpilogueKernels(CpuKernelRegistry& r);   // fused_epilogue.cc
void RegisterFusedPointwiseKernels(CpuKernelRegistry& r);  // fused_pointwise.cc
void RegisterAttentionKernels(CpuKernelRegistry& r);       // attention.cc
void RegisterFusedSoftmaxKernels(CpuKernelRegistry& r);    // fused_softmax.cc

}  // namespace frt
