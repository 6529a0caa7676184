// ONNX import rules of this op family (placeholder until implemented).
#include "onnx/import_context.h"
#include "onnx/import_families.h"

namespace frt {

void RegisterMiscImports(ImportRuleRegistry&) {}

}  // namespace frt
