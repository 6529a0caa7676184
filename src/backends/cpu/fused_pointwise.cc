// CPU reference kernels of Gelu, Swish, RMSNormalization and FusedPointwise. TODO(issue 5): being written.
#include "backends/cpu/kernel.h"
#include "backends/cpu/kernel_families.h"

namespace frt {

void RegisterFusedPointwiseKernels(CpuKernelRegistry&) {}

}  // namespace frt
