// The public ONNX parser: the importer wrapped into a NetworkDefinition.
#include "fusionrt/onnx.h"

#include "onnx/importer.h"

namespace frt {

Result<NetworkDefinition> ParseOnnxFile(const std::string& path) {
  FRT_ASSIGN_OR_RETURN(std::unique_ptr<Graph> graph, ImportOnnxFile(path));
  return NetworkDefinition::FromGraph(std::move(graph));
}

Result<NetworkDefinition> ParseOnnxBytes(const void* data, size_t size,
                                         const std::string& base_dir) {
  if (data == nullptr && size > 0) {
    return MakeError(StatusCode::kInvalidArgument, "ParseOnnxBytes: data is null");
  }
  std::string_view bytes(static_cast<const char*>(data), size);
  FRT_ASSIGN_OR_RETURN(std::unique_ptr<Graph> graph, ImportOnnxBytes(bytes, base_dir));
  return NetworkDefinition::FromGraph(std::move(graph));
}

}  // namespace frt
