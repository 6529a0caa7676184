// CPU reference kernels of MultiHeadAttention. TODO(issue 5): being written.
#include "backends/cpu/kernel.h"
#include "backends/cpu/kernel_families.h"

namespace frt {

void RegisterAttentionKernels(CpuKernelRegistry&) {}

}  // namespace frt
