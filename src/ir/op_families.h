// Op families register their schemas here. One function per family, each
// defined in src/ir/ops/<family>.cc. Adding a family: declare it here and
// call it from RegisterAllOpFamilies (op_families.cc).
#pragma once

namespace frt {

class OpRegistry;

void RegisterElementwiseOps(OpRegistry& r);    // ops/elementwise.cc
void RegisterReductionOps(OpRegistry& r);      // ops/reduction.cc (reduce, softmax, norms, losses)
void RegisterTensorOps(OpRegistry& r);         // ops/tensor.cc (shape and data movement)
void RegisterNnOps(OpRegistry& r);             // ops/nn.cc (conv, pool, matmul, gemm, quant)
void RegisterMiscOps(OpRegistry& r);           // ops/misc.cc (resize, rnn, detection, signal)
void RegisterControlFlowOps(OpRegistry& r);    // ops/control_flow.cc (If, Loop, Scan)
// Ops the optimizer produces (docs/fused_ops.md):
void RegisterFusedEpilogueOps(OpRegistry& r);  // ops/fused_epilogue.cc (FusedMatMul, FusedConv)
void RegisterFusedPointwiseOps(OpRegistry& r); // ops/fused_pointwise.cc (Gelu, Swish,
                                               //   RMSNormalization, FusedPointwise)
void RegisterAttentionOps(OpRegistry& r);      // ops/attention.cc (MultiHeadAttention)
void RegisterFusedSoftmaxOps(OpRegistry& r);   // ops/fused_softmax.cc (FusedSoftmax)

void RegisterAllOpFamilies(OpRegistry& r);

}  // namespace frt
