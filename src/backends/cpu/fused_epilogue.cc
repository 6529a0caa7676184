// CPU reference kernels of FusedMatMul and FusedConv. TODO(issue 5): being written.
#include "backends/cpu/kernel.h"
#include "backends/cpu/kernel_families.h"

namespace frt {

void RegisterFusedEpilogueKernels(CpuKernelRegistry&) {}

}  // namespace frt
