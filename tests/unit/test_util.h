// Helpers for tests: build small ONNX models in memory, temp folders, and
// running the fusionrt CLI.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "onnx/onnx_pb.h"

namespace frt::testing_util {

// A valid model: y = Relu(x + b), x: f32[batch,3] (symbolic batch), b: initializer f32[3].
onnx::ModelProto AddReluModel();

// ONNX attribute builders for hand-made test models.
onnx::AttributeProto IntAttr(const std::string& name, int64_t v);
onnx::AttributeProto FloatAttr(const std::string& name, float v);
onnx::AttributeProto StringAttr(const std::string& name, const std::string& v);
onnx::AttributeProto IntsAttr(const std::string& name, const std::vector<int64_t>& v);

// A fresh empty folder under the system temp dir, removed by the destructor.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::filesystem::path& path() const { return path_; }
  std::string Write(const std::string& name, const std::string& bytes) const;

 private:
  std::filesystem::path path_;
};

struct CliResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr together
};
// Runs the built fusionrt binary with `args` (shell-quoted by the caller).
CliResult RunCli(const std::string& args);
// Runs any program the same way.
CliResult RunProgram(const std::string& program, const std::string& args);

}  // namespace frt::testing_util
