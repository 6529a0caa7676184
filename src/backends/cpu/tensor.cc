// CPU reference kernels of this op family (placeholder until implemented).
#include "backends/cpu/kernel.h"
#include "backends/cpu/kernel_families.h"

namespace frt {

void RegisterTensorKernels(CpuKernelRegistry&) {}

}  // namespace frt
