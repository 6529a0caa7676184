// The CUDA GEMM family: MatMul (ONNX, numpy batch broadcasting, 1-D operands),
// Gemm (ONNX: transA, transB, alpha, beta, C broadcast to [M, N]) and
// FusedMatMul (docs/fused_ops.md: act(alpha * A.op(B) + bias + residual)),
// one tactic each, "cuda.gemm.cublaslt". Each kernel reads its attributes
// into GemmArgs and runs the shared cuBLASLt routine (gemm_lt.h); supports()
// accepts f32, f16 and bf16 with one dtype for every tensor of the node.
#include "backends/cuda/gemm_epilogue.h"
#include "backends/cuda/gemm_lt.h"
#include "backends/cuda/kernel.h"
#include "backends/cuda/kernel_families.h"

namespace frt {
namespace {

constexpr const char* kTactic = "gemm.cublaslt";

// "" when A, B and the output are present and every present tensor of the
// node has one dtype among f32, f16 and bf16; else why not.
std::string SameFloatDType(const Node& node) {
  if (!node.has_input(0) || !node.has_input(1) || !node.has_output(0)) {
    return "A, B and the output must be present";
  }
  std::string why = RequireDTypes(node, {DType::kFloat32, DType::kFloat16, DType::kBFloat16});
  if (!why.empty()) return why;
  const DType t = node.inputs[0]->dtype;
  for (size_t i = 0; i < node.inputs.size(); ++i) {
    const Value* v = node.inputs[i];
    if (v && v->dtype != t) {
      return StrCat("mixed dtypes: input ", i, " is ", DTypeName(v->dtype), " but input 0 is ",
                    DTypeName(t));
    }
  }
  if (node.outputs[0]->dtype != t) {
    return StrCat("mixed dtypes: the output is ", DTypeName(node.outputs[0]->dtype),
                  " but input 0 is ", DTypeName(t));
  }
  return "";
}

// Rank of a value's shape when known, else -1.
int64_t KnownRank(const Value* v) {
  return v && v->shape ? static_cast<int64_t>(v->shape->rank()) : -1;
}

std::string SupportsMatMul(const Node& node) {
  std::string why = SameFloatDType(node);
  if (!why.empty()) return why;
  if (KnownRank(node.inputs[0]) == 0 || KnownRank(node.inputs[1]) == 0) {
    return "MatMul operands must have rank 1 or more";
  }
  return "";
}

std::string SupportsGemm(const Node& node) {
  std::string why = SameFloatDType(node);
  if (!why.empty()) return why;
  for (size_t i = 0; i < 2; ++i) {
    const int64_t r = KnownRank(node.inputs[i]);
    if (r != -1 && r != 2) return StrCat("Gemm input ", i, " has rank ", r, ", not 2");
  }
  const int64_t rc = node.has_input(2) ? KnownRank(node.inputs[2]) : -1;
  if (rc > 2) return StrCat("Gemm's C has rank ", rc, ", more than 2");
  return "";
}

std::string SupportsFusedMatMul(const Node& node) {
  std::string why = SameFloatDType(node);
  if (!why.empty()) return why;
  Result<ActivationSpec> act = ReadActivation(node);
  if (!act.ok()) return act.status().ToString();
  for (size_t i = 0; i < 2; ++i) {
    const int64_t r = KnownRank(node.inputs[i]);
    if (r != -1 && r < 2) return StrCat("FusedMatMul input ", i, " has rank ", r, ", below 2");
  }
  // A bias or residual the post-pass adds needs the output's rank within its limit.
  const int64_t ry = KnownRank(node.outputs[0]);
  if ((node.has_input(2) || node.has_input(3)) && ry > kGemmEpilogueMaxRank) {
    return StrCat("the output has rank ", ry, "; bias and residual broadcasting handles at most ",
                  kGemmEpilogueMaxRank);
  }
  return "";
}

Status RunMatMul(CudaKernelContext& ctx) { return RunCublasLtGemm(ctx, GemmArgs{}); }

Status RunGemm(CudaKernelContext& ctx) {
  GemmArgs args;
  args.trans_a = ctx.attrs().GetInt("transA", 0) != 0;
  args.trans_b = ctx.attrs().GetInt("transB", 0) != 0;
  args.alpha = ctx.attrs().GetFloat("alpha", 1.0f);
  const float beta = ctx.attrs().GetFloat("beta", 1.0f);
  if (ctx.has_input(2) && beta != 0.0f) {  // beta 0 ignores C (NaNs included), as ONNX says
    args.bias_input = 2;
    args.bias_scale = beta;
  }
  return RunCublasLtGemm(ctx, args);
}

Status RunFusedMatMul(CudaKernelContext& ctx) {
  GemmArgs args;
  args.trans_b = ctx.attrs().GetInt("trans_b", 0) != 0;
  args.alpha = ctx.attrs().GetFloat("alpha", 1.0f);
  if (ctx.has_input(2)) args.bias_input = 2;
  if (ctx.has_input(3)) args.residual_input = 3;
  FRT_ASSIGN_OR_RETURN(args.activation, ReadActivation(ctx.node()));
  return RunCublasLtGemm(ctx, args);
}

}  // namespace

void RegisterCudaGemmKernels(CudaKernelRegistry& r) {
  r.Register({kTactic, OpKind::kMatMul, SupportsMatMul, RunMatMul, nullptr});
  r.Register({kTactic, OpKind::kGemm, SupportsGemm, RunGemm, nullptr});
  r.Register({kTactic, OpKind::kFusedMatMul, SupportsFusedMatMul, RunFusedMatMul, nullptr});
}

}  // namespace frt
