// ONNX import rules of the nn family (convolution, pooling, matrix products,
// quantization). Most ops import unchanged from their first opset because
// later versions only added attributes whose defaults keep the old meaning
// or widened the type lists. Adapters cover the real differences:
// Gemm before opset 7 (legacy `broadcast` attribute), LpPool/GlobalLpPool 1
// (float `p`), and QuantizeLinear 21's output_dtype attribute (the IR takes
// the output type from the zero point instead).
#include <cmath>

#include "onnx/import_context.h"
#include "onnx/import_families.h"
#include "onnx/onnx_types.h"

namespace frt {
namespace {

// Gemm 1-6: `broadcast` only said whether C may broadcast to [M, N]; the IR's
// Gemm always broadcasts C one way, which covers both settings.
Status ImportLegacyGemm(ImportContext& ctx) {
  ctx.attrs().Erase("broadcast");
  return ctx.EmitDirect(OpKind::kGemm).status();
}

// LpPool-1 / GlobalLpPool-1: `p` was a float; later opsets made it an int.
Status ImportFloatPLpPool(ImportContext& ctx, OpKind kind) {
  const auto& all = ctx.attrs().all();
  auto it = all.find("p");
  if (it != all.end() && std::holds_alternative<float>(it->second)) {
    float p = std::get<float>(it->second);
    if (p != std::floor(p) || p < 1) {
      return ctx.Error(StatusCode::kUnsupported, "p = ", p,
                       " is not supported; only integer p >= 1 is (as in opset 2+)");
    }
    ctx.attrs().Set("p", static_cast<int64_t>(p));
  }
  return ctx.EmitDirect(kind).status();
}

Status ImportLpPool1(ImportContext& ctx) { return ImportFloatPLpPool(ctx, OpKind::kLpPool); }
Status ImportGlobalLpPool1(ImportContext& ctx) {
  return ImportFloatPLpPool(ctx, OpKind::kGlobalLpPool);
}

// QuantizeLinear: output_dtype (opset 21) becomes a zero-valued zero point of
// that type when the node has none; with one, the two must agree.
Status ImportQuantizeLinear(ImportContext& ctx) {
  int64_t code = ctx.attrs().GetInt("output_dtype", 0);
  ctx.attrs().Erase("output_dtype");
  if (code == 0) return ctx.EmitDirect(OpKind::kQuantizeLinear).status();
  auto dtype = DTypeFromOnnx(static_cast<int32_t>(code));
  if (!dtype.ok()) {
    return ctx.Error(StatusCode::kUnsupported, "output_dtype ", code, " is not supported (",
                     dtype.status().message(), ")");
  }
  std::vector<Value*> inputs = ctx.inputs();
  if (inputs.size() > 2 && inputs[2]) {
    if (inputs[2]->dtype != DType::kUndefined && inputs[2]->dtype != *dtype) {
      return ctx.Error(StatusCode::kInvalidModel, "output_dtype ", DTypeName(*dtype),
                       " differs from the zero point's dtype ", DTypeName(inputs[2]->dtype));
    }
    return ctx.EmitDirect(OpKind::kQuantizeLinear).status();
  }
  FRT_ASSIGN_OR_RETURN(Tensor zero,
                       Tensor::Allocate(*dtype, {}));  // all-zero bits: 0 in every type
  FRT_ASSIGN_OR_RETURN(Value * zp, ctx.AddConstant(std::move(zero), "zero_point"));
  inputs.resize(3);
  inputs[2] = zp;
  return ctx.Emit(OpKind::kQuantizeLinear, inputs, ctx.outputs(), ctx.attrs()).status();
}

}  // namespace

void RegisterNnImports(ImportRuleRegistry& r) {
  r.AddDirect(OpKind::kConv, 1);
  r.AddDirect(OpKind::kConvTranspose, 1);
  r.AddDirect(OpKind::kConvInteger, 10);
  r.AddDirect(OpKind::kQLinearConv, 10);
  r.AddDirect(OpKind::kMaxPool, 1);
  r.AddDirect(OpKind::kAveragePool, 1);
  r.Add({"LpPool", 1, 1, OpKind::kLpPool, ImportLpPool1});
  r.AddDirect(OpKind::kLpPool, 2);
  r.AddDirect(OpKind::kGlobalAveragePool, 1);
  r.AddDirect(OpKind::kGlobalMaxPool, 1);
  r.Add({"GlobalLpPool", 1, 1, OpKind::kGlobalLpPool, ImportGlobalLpPool1});
  r.AddDirect(OpKind::kGlobalLpPool, 2);
  r.AddDirect(OpKind::kMaxUnpool, 9);
  r.AddDirect(OpKind::kMatMul, 1);
  r.Add({"Gemm", 1, 6, OpKind::kGemm, ImportLegacyGemm});
  r.AddDirect(OpKind::kGemm, 7);
  r.AddDirect(OpKind::kEinsum, 12);
  r.AddDirect(OpKind::kMatMulInteger, 10);
  r.AddDirect(OpKind::kQLinearMatMul, 10);
  r.AddDirect(OpKind::kDet, 11);
  r.Add({"QuantizeLinear", 10, kMaxSupportedOpset, OpKind::kQuantizeLinear, ImportQuantizeLinear});
  r.AddDirect(OpKind::kDequantizeLinear, 10);
  r.AddDirect(OpKind::kDynamicQuantizeLinear, 11);
}

}  // namespace frt
