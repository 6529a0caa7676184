// Host-side planning of the CUDA GEMM family (MatMul, Gemm, FusedMatMul):
// pure functions, no CUDA calls, so that the CPU tests cover them.
//
// 1. PlanBatchedGemm turns the operands' concrete dims into row-major GEMM
//    calls. Batch dims broadcast as numpy does; the plan is the fewest
//    cuBLASLt calls that express it:
//      - B has no batch (a [.., M, K] x [K, N] weight): A's batch is folded
//        into M, one plain GEMM (A and Y are contiguous, so rows continue);
//      - else the longest suffix of the batch dims over which each operand is
//        either fully present or fully broadcast is one strided-batched call
//        (a broadcast operand gets batch stride 0), and the remaining outer
//        batch dims become a loop of such calls with precomputed offsets.
//    The attention case [B,H,S,D] x [B,H,D,S] is one strided-batched call.
// 2. PlanEpilogue splits Y = act(alpha * A.B + s_bias * bias + residual)
//    between cuBLASLt (bias vector epilogue, C matrix with beta, ReLU / tanh
//    GELU epilogues) and a post-pass kernel (gemm_epilogue.h) that adds what
//    cuBLASLt cannot (broadcast addends) and applies the other activations.
//
// Thread safety: pure functions of their arguments.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "fusionrt/status.h"
#include "ir/activation.h"
#include "core/shape.h"

namespace frt {

// The row-major GEMM calls of one product. Per call c and batch b < batch:
//   Y[y_offsets[c] + b*stride_y] (M x N) =
//       op(A[a_offsets[c] + b*stride_a]) (M x K) . op(B[b_offsets[c] + b*stride_b]) (K x N)
// where A is stored [M, K] ([K, M] when trans_a) and B [K, N] ([N, K] when
// trans_b), dense row-major. Offsets and strides count elements.
struct BatchedGemm {
  int64_t m = 0, n = 0, k = 0;
  bool trans_a = false, trans_b = false;
  int64_t batch = 1;  // matrices per call (strided batch)
  int64_t stride_a = 0, stride_b = 0, stride_y = 0;
  std::vector<int64_t> a_offsets, b_offsets, y_offsets;  // one entry per call
  bool empty = false;  // Y has no elements: nothing to run
  int64_t calls() const { return static_cast<int64_t>(y_offsets.size()); }
};

// Plans A x op(B) with numpy batch broadcasting. `a` and `b` are the
// operands' dims; 1-D operands are promoted as ONNX MatMul does ([K] -> [1, K]
// for A, [K] -> [K, 1] for B; not with trans flags). Error (kInvalidArgument)
// when the inner dims differ or the batch dims do not broadcast; `what` names
// the node in messages.
Result<BatchedGemm> PlanBatchedGemm(const Dims& a, const Dims& b, bool trans_a, bool trans_b,
                                    std::string_view what);

// Where each part of the epilogue runs.
struct EpiloguePlan {
  bool bias_vector = false;  // bias added by cuBLASLt's bias epilogue (a row of N values)
  int c_input = -1;          // node input read as cuBLASLt's C matrix (Y's shape), or -1
  float beta = 0.0f;         // scale of C
  Activation gemm_activation = Activation::kNone;  // kNone, kRelu or kGeluTanh (epilogue)
  struct Addend {
    int input = -1;  // node input added by the post-pass, broadcast to Y
    float scale = 1.0f;
  };
  std::vector<Addend> post_addends;
  bool post_activation = false;  // the post-pass applies the node's activation
  bool run_gemm = true;          // false when K == 0: Y is zero-filled instead
  bool needs_post() const { return !post_addends.empty() || post_activation; }
};

// One optional addend of the epilogue: its node input and dims.
struct EpilogueInput {
  int input = -1;  // -1: absent
  Dims dims;
  float scale = 1.0f;
};

// Plans act(alpha * A.B + bias.scale * bias + residual) for an output of
// `out` dims. The bias becomes the bias epilogue when it is a row of N
// values ([N], [1, .., 1, N]) with scale 1, else C when it has Y's exact
// dims, else a post-pass addend; the residual becomes C when it has Y's dims
// and C is free, else a post-pass addend. The activation goes into the
// cuBLASLt epilogue (ReLU, tanh GELU) only when the post-pass adds nothing,
// because it must follow every addition. `k_zero`: there is no product
// (K == 0), everything runs in the post-pass over a zero-filled Y.
EpiloguePlan PlanEpilogue(const Dims& out, const EpilogueInput& bias,
                          const EpilogueInput& residual, const ActivationSpec& act, bool k_zero);

// Largest power of two (<= 256) dividing every value; 256 when all are 0.
// The alignment cuBLASLt's heuristic may assume for a matrix whose pointer
// and batch offsets (in bytes) are `values`.
uint32_t CommonAlignment(std::initializer_list<uint64_t> values);
uint32_t CommonAlignment(const std::vector<uint64_t>& values);

// The post-pass's view of Y and its addends: Y's dims with adjacent
// dimensions merged where every addend's strides allow it and size-1 dims
// dropped (so a [B, S, N] output with an [N] bias becomes [B*S, N]).
struct CollapsedBroadcast {
  Dims dims;                          // rank >= 1
  std::vector<Dims> strides;          // per addend, element strides per dim (0: broadcast)
};
// Precondition: each addend broadcasts to `out` (numpy rules, not growing it).
CollapsedBroadcast CollapseBroadcast(const Dims& out, const std::vector<Dims>& addends);

}  // namespace frt
