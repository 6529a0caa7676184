// Translation between ONNX protobuf types and FusionRT's. Only src/onnx
// includes the ONNX headers; everything past this boundary uses frt types.
#pragma once

#include <string>

#include "core/tensor.h"
#include "onnx/onnx_pb.h"

namespace frt {

// Maps TensorProto::DataType to DType; kUnsupported for string/complex/etc.
Result<DType> DTypeFromOnnx(int32_t onnx_type);
int32_t DTypeToOnnx(DType t);

// Converts a TensorProto (raw_data, typed fields or external data) to a host
// tensor. `base_dir` is the model's folder for external data; empty means
// external data is refused. `what` names the tensor in error messages.
Result<Tensor> TensorFromProto(const onnx::TensorProto& proto, const std::string& base_dir);

// Resolves an external-data location inside `base_dir`: relative, no "..",
// no symlink escaping the folder. Returns the canonical path.
Result<std::string> ResolveExternalPath(const std::string& base_dir, const std::string& location);

}  // namespace frt
