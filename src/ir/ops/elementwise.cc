// Schemas of pointwise ops: unary math/activations and broadcasting binary ops.
#include "ir/infer_helpers.h"
#include "ir/op_families.h"

namespace frt {

void RegisterElementwiseOps(OpRegistry& r) {
  for (OpKind k : {OpKind::kAdd, OpKind::kSub, OpKind::kMul, OpKind::kDiv}) {
    r.Register({k, FusionKind::kBroadcast, PrecisionPolicy::kAlways, 2, 2, 1, 1, InferBroadcast});
  }
  for (OpKind k : {OpKind::kRelu, OpKind::kNeg, OpKind::kAbs}) {
    r.Register({k, FusionKind::kElementwise, PrecisionPolicy::kAlways, 1, 1, 1, 1, InferSameAsInput0});
  }
}

}  // namespace frt
