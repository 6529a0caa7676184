// Placeholder: the Norm kernel family registers nothing yet.
#include "backends/cuda/kernel.h"
#include "backends/cuda/kernel_families.h"

namespace frt {

void RegisterCudaNormKernels(CudaKernelRegistry& /*r*/) {}

}  // namespace frt
