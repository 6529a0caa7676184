// The one GEMM routine behind the CUDA MatMul, Gemm and FusedMatMul kernels:
//   Y = act(alpha * op(A) . op(B) + bias.scale * bias + residual)
// through cuBLASLt, with numpy batch broadcasting (gemm_plan.h) and the
// post-pass kernel (gemm_epilogue.h) for what cuBLASLt's epilogues lack.
//
// Row-major tensors on a column-major library: a row-major [M, N] matrix is
// the column-major [N, M] matrix with the same bytes (its transpose), so we
// ask cuBLASLt for Y^T = op(B)^T . op(A)^T: cuBLASLt's "A" is our B and its
// "B" is our A, D is N x M with leading dimension N, and the bias vector of
// cuBLASLt's bias epilogue (one value per row of D) is our row bias [N].
// This keeps the default (column-major) layouts, which every cuBLASLt
// algorithm and epilogue supports, rather than CUBLASLT_ORDER_ROW.
//
// Precision: f32 runs with CUBLAS_COMPUTE_32F (true fp32, no TF32); f16 and
// bf16 take inputs, output and bias in that type and accumulate in f32
// (CUBLAS_COMPUTE_32F, f32 alpha/beta).
//
// Caching: per step (ctx.state()), keyed by the operand dims and the low
// bits of the pointers (the alignment cuBLASLt's heuristic may assume), a
// cached entry holds the plan, the matmul descriptor, the four layouts and
// the heuristic's algorithm, so a repeated run makes no heuristic query.
//
// Thread safety: as CudaKernel::run (one context's thread at a time).
#pragma once

#include "backends/cuda/gemm_plan.h"
#include "backends/cuda/kernel.h"

namespace frt {

struct GemmArgs {
  bool trans_a = false;  // A stored [K, M] (Gemm's transA)
  bool trans_b = false;  // B stored [.., N, K]
  float alpha = 1.0f;
  int bias_input = -1;      // node input broadcast-added (times bias_scale); -1: none
  float bias_scale = 1.0f;  // Gemm's beta
  int residual_input = -1;  // node input broadcast-added before the activation; -1: none
  ActivationSpec activation;
};

// Runs the product of node inputs 0 (A) and 1 (B) into output 0 with the
// epilogue of `args`. Preconditions (checked by the kernels' supports):
// every tensor involved has one dtype of f32, f16, bf16.
Status RunCublasLtGemm(CudaKernelContext& ctx, const GemmArgs& args);

}  // namespace frt
