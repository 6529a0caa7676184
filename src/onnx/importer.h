// ONNX model import: bytes or file -> validated IR Graph.
//
// What is checked: the protobuf parses; ir_version >= 3; the ai.onnx opset is
// within [1, kMaxSupportedOpset] and no other domain is used; value names are
// unique; every node input and graph output is defined; tensors (initializers,
// Constant nodes, attributes) have consistent sizes; external data stays in the
// model's folder; every op/opset has an import rule; static shape and type
// inference succeeds. Any failure is an error that names the file, node or
// tensor; nothing aborts.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "ir/graph.h"

namespace frt {

struct ImportOptions {
  // Reject model files larger than this (protobuf's own hard limit is 2 GiB).
  size_t max_model_bytes = size_t{2} << 30;
  // Run static shape/type inference after import (recommended; errors early).
  bool infer_shapes = true;
};

Result<std::unique_ptr<Graph>> ImportOnnxFile(const std::string& path,
                                              const ImportOptions& options = {});
// `base_dir`: folder for external data; empty refuses external data.
Result<std::unique_ptr<Graph>> ImportOnnxBytes(std::string_view bytes, const std::string& base_dir,
                                               const ImportOptions& options = {});

}  // namespace frt
