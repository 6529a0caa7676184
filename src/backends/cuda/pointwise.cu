// Placeholder: the Pointwise kernel family registers nothing yet.
#include "backends/cuda/kernel.h"
#include "backends/cuda/kernel_families.h"

namespace frt {

void RegisterCudaPointwiseKernels(CudaKernelRegistry& /*r*/) {}

}  // namespace frt
