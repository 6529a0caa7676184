// Test-only helpers for GPU kernel conformance (design.md convention 5): build
// a graph into a cuda engine, run it on host tensors (uploaded, outputs
// poisoned with NaN bytes before the run and downloaded after), and compare
// with the CPU reference executor, which computes in double. Header only;
// included by *_test.cc files of the CUDA backend.
#pragma once

#include <cuda_runtime.h>
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "backends/cpu/reference_executor.h"
#include "backends/cuda/cuda_util.h"
#include "fusionrt/builder.h"
#include "core/float_types.h"
#include "ir/graph_clone.h"
#include "runtime/context_base.h"

// Skips the test on machines without a GPU (CI); on a GPU machine it runs.
#define FRT_SKIP_WITHOUT_GPU()                                                   \
  do {                                                                           \
    if (!::frt::CudaDeviceAvailable()) GTEST_SKIP() << "no CUDA device visible"; \
  } while (0)

namespace frt::gpu_test {

struct GpuOptions {
  bool fp16 = false;
  bool bf16 = false;
  int optimization_level = 3;
};

struct GpuRun {
  std::vector<Tensor> outputs;     // in graph-output order, on the host
  std::vector<LayerInfo> layers;   // the engine's executed layers (tactics, precision)
};

// Builds `graph` for cuda with one profile pinned at the inputs' dims, runs it
// once on `inputs` and returns the outputs.
inline Result<GpuRun> RunOnGpu(const Graph& graph, const std::map<std::string, Tensor>& inputs,
                               const GpuOptions& options = {}) {
  FRT_ASSIGN_OR_RETURN(std::unique_ptr<Graph> copy, CloneGraph(graph));
  NetworkDefinition net = NetworkDefinition::FromGraph(std::move(copy));
  BuilderConfig config;
  config.device = DeviceKind::kCuda;
  config.fp16 = options.fp16;
  config.bf16 = options.bf16;
  config.optimization_level = options.optimization_level;
  OptimizationProfile profile;
  bool dynamic = false;
  for (const Value* in : graph.inputs()) {
    if (in->constant || !in->shape || in->shape->is_static()) continue;
    auto it = inputs.find(in->name);
    if (it == inputs.end()) continue;
    dynamic = true;
    FRT_RETURN_IF_ERROR(profile.SetShapes(in->name, it->second.dims(), it->second.dims(),
                                          it->second.dims()));
  }
  if (dynamic) config.profiles.push_back(profile);
  FRT_ASSIGN_OR_RETURN(std::shared_ptr<Engine> engine, Builder::Build(net, config));
  FRT_ASSIGN_OR_RETURN(std::unique_ptr<ExecutionContext> ctx, engine->CreateContext());
  std::vector<DeviceBuffer> buffers;
  for (const auto& [name, t] : inputs) {
    FRT_ASSIGN_OR_RETURN(DeviceBuffer b, DeviceBuffer::Allocate(std::max<size_t>(t.nbytes(), 1), name));
    FRT_CUDA_RETURN_IF_ERROR(cudaMemcpy(b.data(), t.raw(), t.nbytes(), cudaMemcpyHostToDevice));
    FRT_RETURN_IF_ERROR(ctx->SetInputShape(name, t.dims()));
    FRT_RETURN_IF_ERROR(ctx->SetTensorAddress(name, b.data(), t.nbytes()));
    buffers.push_back(std::move(b));
  }
  GpuRun run;
  std::vector<std::pair<std::string, DType>> outs;
  for (const TensorDesc& d : engine->io_tensors()) {
    if (d.is_input) continue;
    outs.emplace_back(d.name, d.dtype);
    if (inputs.count(d.name)) continue;  // an input passed through: stays in its own buffer
    FRT_ASSIGN_OR_RETURN(Dims dims, ctx->GetTensorShape(d.name));
    FRT_ASSIGN_OR_RETURN(size_t bytes, ByteSizeOf(d.dtype, dims));
    FRT_ASSIGN_OR_RETURN(DeviceBuffer b, DeviceBuffer::Allocate(std::max<size_t>(bytes, 1), d.name));
    FRT_CUDA_RETURN_IF_ERROR(cudaMemset(b.data(), 0xFF, bytes));  // NaN in every float type
    FRT_RETURN_IF_ERROR(ctx->SetTensorAddress(d.name, b.data(), bytes));
    buffers.push_back(std::move(b));
  }
  FRT_RETURN_IF_ERROR(ctx->Execute());
  for (const auto& [name, dtype] : outs) {
    FRT_ASSIGN_OR_RETURN(Dims dims, ctx->GetTensorShape(name));
    FRT_ASSIGN_OR_RETURN(Tensor t, Tensor::Allocate(dtype, dims));
    FRT_CUDA_RETURN_IF_ERROR(
        cudaMemcpy(t.raw(), ctx->GetTensorAddress(name), t.nbytes(), cudaMemcpyDeviceToHost));
    run.outputs.push_back(std::move(t));
  }
  run.layers = engine->layers();
  return run;
}

// The graph's outputs from the CPU reference executor (double arithmetic inside).
inline Result<std::vector<Tensor>> RunReference(const Graph& graph,
                                                const std::map<std::string, Tensor>& inputs) {
  FRT_ASSIGN_OR_RETURN(auto exec, ReferenceExecutor::Create(graph));
  return exec->Run(inputs);
}

// ||got - want|| / ||want|| over any float or integer dtypes; NaN or a shape
// mismatch gives +inf, so an unwritten (poisoned) output never passes.
inline double RelativeError(const Tensor& got, const Tensor& want) {
  if (got.dims() != want.dims()) return INFINITY;
  double num = 0, den = 0;
  for (int64_t i = 0; i < want.num_elements(); ++i) {
    double g = got.GetAsDouble(i), w = want.GetAsDouble(i);
    if (std::isnan(g) != std::isnan(w)) return INFINITY;
    if (std::isnan(w)) continue;
    num += (g - w) * (g - w);
    den += w * w;
  }
  return den == 0 ? std::sqrt(num) : std::sqrt(num / den);
}

// Uniform random floats in [lo, hi) of any float dtype (f32, f16, bf16).
inline Tensor RandomTensor(DType dtype, const Dims& dims, uint64_t seed, float lo = -1.0f,
                           float hi = 1.0f) {
  Tensor f = Tensor::Allocate(DType::kFloat32, dims).value();
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> d(lo, hi);
  for (float& v : f.span<float>()) v = d(rng);
  if (dtype == DType::kFloat32) return f;
  Tensor t = Tensor::Allocate(dtype, dims).value();
  for (int64_t i = 0; i < f.num_elements(); ++i) {
    if (dtype == DType::kFloat16) {
      t.data<Float16>()[i] = Float16::FromFloat(f.data<float>()[i]);
    } else {
      t.data<BFloat16>()[i] = BFloat16::FromFloat(f.data<float>()[i]);
    }
  }
  return t;
}

// Runs `graph` on the GPU and on the reference, expects every output within
// `tolerance` (relative L2) and returns the GPU run (for tactic checks).
inline GpuRun ExpectMatchesReference(const Graph& graph,
                                     const std::map<std::string, Tensor>& inputs,
                                     double tolerance, const GpuOptions& options = {}) {
  auto gpu = RunOnGpu(graph, inputs, options);
  EXPECT_TRUE(gpu.ok()) << gpu.status().ToString();
  if (!gpu.ok()) return {};
  auto ref = RunReference(graph, inputs);
  EXPECT_TRUE(ref.ok()) << ref.status().ToString();
  if (!ref.ok()) return *gpu;
  EXPECT_EQ(gpu->outputs.size(), ref->size());
  for (size_t i = 0; i < gpu->outputs.size() && i < ref->size(); ++i) {
    double err = RelativeError(gpu->outputs[i], (*ref)[i]);
    EXPECT_LE(err, tolerance) << "output " << i << " of " << (*ref)[i].Describe();
  }
  return *gpu;
}

}  // namespace frt::gpu_test
