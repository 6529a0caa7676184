// Schemas of Gelu, Swish, RMSNormalization and FusedPointwise (docs/fused_ops.md). TODO(issue 5): being written.
#include "ir/op_families.h"
#include "ir/op_registry.h"

namespace frt {

void RegisterFusedPointwiseOps(OpRegistry&) {}

}  // namespace frt
