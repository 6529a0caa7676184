// The ONNX parser: reads an ONNX model (opsets 1..21 of the default domain)
// into a NetworkDefinition. External data files are read only from the
// model's folder (paths escaping it are refused).
#pragma once

#include <string>

#include "fusionrt/network.h"

namespace frt {

Result<NetworkDefinition> ParseOnnxFile(const std::string& path);
// `base_dir` is where external data files are looked up.
Result<NetworkDefinition> ParseOnnxBytes(const void* data, size_t size,
                                         const std::string& base_dir = ".");

}  // namespace frt
