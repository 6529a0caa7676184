// ONNX import rules of pointwise ops.
#include "onnx/import_context.h"
#include "onnx/import_families.h"

namespace frt {

void RegisterElementwiseImports(ImportRuleRegistry& r) {
  // Opset 7 introduced numpy broadcasting; older versions' `broadcast`/`axis`
  // attributes are not imported.
  for (OpKind k : {OpKind::kAdd, OpKind::kSub, OpKind::kMul, OpKind::kDiv}) r.AddDirect(k, 7);
  for (OpKind k : {OpKind::kRelu, OpKind::kNeg, OpKind::kAbs}) r.AddDirect(k, 6);
}

}  // namespace frt
