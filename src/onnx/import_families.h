// ONNX import rules per op family, one function per family defined in
// src/onnx/<family>_import.cc (mirrors src/ir/op_families.h).
#pragma once

namespace frt {

class ImportRuleRegistry;

void RegisterElementwiseImports(ImportRuleRegistry& r);
void RegisterReductionImports(ImportRuleRegistry& r);
void RegisterTensorImports(ImportRuleRegistry& r);
void RegisterNnImports(ImportRuleRegistry& r);
void RegisterMiscImports(ImportRuleRegistry& r);
void RegisterControlFlowImports(ImportRuleRegistry& r);

}  // namespace frt
