// Placeholder: the Reduction kernel family registers nothing yet.
#include "backends/cuda/kernel.h"
#include "backends/cuda/kernel_families.h"

namespace frt {

void RegisterCudaReductionKernels(CudaKernelRegistry& /*r*/) {}

}  // namespace frt
