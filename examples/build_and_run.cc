// The C++ API end to end: parse an ONNX model, build an engine with an
// optimization profile, save it, load it back, and run it from a context with
// caller-owned input and output buffers. Usage: build_and_run model.onnx out.engine
// (expects one float input "x" of shape [batch, seq, 64], as the bundled model).
#include <cstdio>
#include <vector>

#include "fusionrt/builder.h"
#include "fusionrt/onnx.h"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s model.onnx out.engine\n", argv[0]);
    return 2;
  }
  auto fail = [](const frt::Status& s) {
    std::fprintf(stderr, "error: %s\n", s.ToString().c_str());
    return 1;
  };
  // 1. Network: from ONNX (or built by hand with NetworkDefinition::AddLayer).
  auto network = frt::ParseOnnxFile(argv[1]);
  if (!network.ok()) return fail(network.status());

  // 2. Build: one profile covering batch 1..8 and seq 1..128.
  frt::BuilderConfig config;
  frt::OptimizationProfile profile;
  if (auto s = profile.SetShapes("x", {1, 1, 64}, {2, 16, 64}, {8, 128, 64}); !s.ok()) return fail(s);
  config.profiles.push_back(profile);
  auto built = frt::Builder::Build(*network, config);
  if (!built.ok()) return fail(built.status());
  if (auto s = (*built)->Save(argv[2]); !s.ok()) return fail(s);

  // 3. Load and run (what a serving process does).
  auto engine = frt::Engine::Load(argv[2]);
  if (!engine.ok()) return fail(engine.status());
  auto context = (*engine)->CreateContext();
  if (!context.ok()) return fail(context.status());
  frt::ExecutionContext& ctx = **context;

  std::vector<float> x(4 * 32 * 64);
  for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(i % 13) / 13.0f - 0.5f;
  if (auto s = ctx.SetInputShape("x", {4, 32, 64}); !s.ok()) return fail(s);
  if (auto s = ctx.SetTensorAddress("x", x.data(), x.size() * sizeof(float)); !s.ok()) return fail(s);
  auto y_shape = ctx.GetTensorShape("y");  // known before running: [4, 32, 64]
  if (!y_shape.ok()) return fail(y_shape.status());
  std::vector<float> y(4 * 32 * 64);
  if (auto s = ctx.SetTensorAddress("y", y.data(), y.size() * sizeof(float)); !s.ok()) return fail(s);
  if (auto s = ctx.Execute(); !s.ok()) return fail(s);

  std::printf("y[0..3] = %.6f %.6f %.6f %.6f\n", y[0], y[1], y[2], y[3]);
  std::printf("activation arena %llu bytes (naive %llu)\n",
              static_cast<unsigned long long>((*engine)->GetMemoryPlan(0).arena_size),
              static_cast<unsigned long long>((*engine)->GetMemoryPlan(0).naive_size));
  // A shape outside the profile is refused with the bounds:
  frt::Status out = ctx.SetInputShape("x", {16, 32, 64});
  std::printf("%s\n", out.ToString().c_str());
  return out.ok() ? 1 : 0;
}
