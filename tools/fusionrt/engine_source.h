// How the run / bench / inspect subcommands get an engine: load it
// (--engine) or build it from an ONNX model with the same flags as `build`.
// Also host-side input/output handling shared by run and bench.
#pragma once

#include <map>
#include <optional>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "core/tensor.h"
#include "fusionrt/builder.h"
#include "fusionrt/engine.h"

namespace frt::cli {

struct BuildFlags {
  std::string onnx;
  bool fp16 = false, bf16 = false, fp32 = false;
  std::string min_shapes, opt_shapes, max_shapes;
  std::string memory_limit;  // bytes, or with a K/M/G suffix
  int optimization_level = 3;
  std::string device = "auto";
  bool verbose = false;
};

// Registers --onnx and the builder flags on `sub`.
void AddBuildFlags(CLI::App* sub, BuildFlags& flags);

// Builds from flags.onnx. `run_shapes` (trtexec --shapes) act as min = opt = max
// for inputs the profile flags do not mention.
Result<std::shared_ptr<Engine>> BuildFromFlags(const BuildFlags& flags,
                                               const std::map<std::string, Dims>& run_shapes);

// --engine FILE, or --onnx with build flags.
struct EngineFlags {
  std::string engine;
  BuildFlags build;
};
void AddEngineFlags(CLI::App* sub, EngineFlags& flags);
Result<std::shared_ptr<Engine>> GetEngine(const EngineFlags& flags,
                                          const std::map<std::string, Dims>& run_shapes);

struct DeviceMirror;  // device copies of the buffers, for cuda engines

// Host buffers for one context: inputs from .npy files or random, outputs
// sized from the context's shape inference, all bound to the context. For a
// cuda engine the context is bound to device buffers instead: inputs are
// uploaded once here, outputs downloaded by Outputs().
class HostBindings {
 public:
  // `shapes`: --shapes; `npy_inputs`: name -> file. Sets the context's input shapes.
  static Result<HostBindings> Create(const Engine& engine, ExecutionContext& ctx,
                                     const std::map<std::string, Dims>& shapes,
                                     const std::map<std::string, std::string>& npy_inputs,
                                     uint64_t seed);
  const std::map<std::string, Tensor>& inputs() const { return inputs_; }
  // Outputs as the context wrote them (after Execute).
  Result<std::map<std::string, Tensor>> Outputs(const Engine& engine,
                                                const ExecutionContext& ctx) const;
  uint64_t input_bytes() const;

 private:
  std::map<std::string, Tensor> inputs_;
  std::map<std::string, Tensor> outputs_;  // pre-sized buffers (static output shapes)
  std::shared_ptr<DeviceMirror> device_;   // cuda engines only
};

// The input flags run and bench share: --shapes, --input name=file.npy
// (repeatable), --seed, --profile.
struct InputFlags {
  std::string shapes;
  std::vector<std::string> inputs;
  uint64_t seed = 0;
  int profile = 0;
};
void AddInputFlags(CLI::App* sub, InputFlags& flags);

// A context on flags.profile with host buffers bound per the flags.
struct PreparedContext {
  std::unique_ptr<ExecutionContext> ctx;
  std::optional<HostBindings> io;
};

// Parsed input flags: --shapes, the .npy inputs, and the shapes an engine
// built on the fly gets as its profile (--shapes plus the .npy dims).
struct ParsedInputs {
  std::map<std::string, Dims> shapes;
  std::map<std::string, std::string> npy;
  std::map<std::string, Dims> build_shapes;

  static Result<ParsedInputs> Parse(const InputFlags& flags);
  Result<PreparedContext> Prepare(const Engine& engine, const InputFlags& flags) const;
};

// --shapes completed with the dims of the .npy inputs (name -> file), so that
// an engine built on the fly gets a profile for inputs given as files.
Result<std::map<std::string, Dims>> ShapesWithNpyInputs(
    std::map<std::string, Dims> shapes, const std::map<std::string, std::string>& npy_inputs);

// Uniform random data: floats in [-1, 1), integers in [0, 10), bools fair.
Result<Tensor> RandomTensor(DType dtype, const Dims& dims, std::mt19937_64& rng);

// "64M" -> 67108864. Accepts K, M, G suffixes (powers of 1024).
Result<uint64_t> ParseBytes(const std::string& text);

}  // namespace frt::cli
