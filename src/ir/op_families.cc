#include "ir/op_families.h"

namespace frt {

void RegisterAllOpFamilies(OpRegistry& r) {
  RegisterElementwiseOps(r);
  RegisterReductionOps(r);
  RegisterTensorOps(r);
  RegisterNnOps(r);
  RegisterMiscOps(r);
  RegisterControlFlowOps(r);
  RegisterFusedEpilogueOps(r);
  RegisterFusedPointwiseOps(r);
  RegisterAttentionOps(r);
  RegisterFusedSoftmaxOps(r);
}

}  // namespace frt
