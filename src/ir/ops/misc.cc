// Schemas of this op family (placeholder until the family is implemented).
#include "ir/op_families.h"
#include "ir/op_registry.h"

namespace frt {

void RegisterMiscOps(OpRegistry&) {}

}  // namespace frt
