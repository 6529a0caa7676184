// Placeholder: the Attention kernel family registers nothing yet.
#include "backends/cuda/kernel.h"
#include "backends/cuda/kernel_families.h"

namespace frt {

void RegisterCudaAttentionKernels(CudaKernelRegistry& /*r*/) {}

}  // namespace frt
