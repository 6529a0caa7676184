// Placeholder: the Conv kernel family registers nothing yet.
#include "backends/cuda/kernel.h"
#include "backends/cuda/kernel_families.h"

namespace frt {

void RegisterCudaConvKernels(CudaKernelRegistry& /*r*/) {}

}  // namespace frt
