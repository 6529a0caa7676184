// `fusionrt build`: ONNX model -> engine file (trtexec --onnx ... --saveEngine).
#include <chrono>
#include <iostream>

#include "engine_source.h"
#include "options.h"
#include "subcommands.h"

namespace frt::cli {
namespace {

struct BuildOptions {
  BuildFlags flags;
  std::string shapes;
  std::string save_engine;
};

int Build(const BuildOptions& o) {
  auto t0 = std::chrono::steady_clock::now();
  auto shapes = ParseShapes(o.shapes);
  if (!shapes.ok()) return ReportError(shapes.status());
  auto engine = BuildFromFlags(o.flags, *shapes);
  if (!engine.ok()) return ReportError(engine.status());
  double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  const Engine& e = **engine;
  std::cout << e.description() << "\n";
  for (int p = 0; p < e.num_profiles(); ++p) {
    MemoryPlanInfo m = e.GetMemoryPlan(p);
    std::cout << "profile " << p << ": activation arena " << m.arena_size << " bytes (naive sum "
              << m.naive_size << " bytes, " << m.slots.size() << " tensors)\n";
  }
  std::cout << "weights " << e.weights_size() << " bytes; built in " << static_cast<int64_t>(ms)
            << " ms\n";
  if (!o.save_engine.empty()) {
    Status s = e.Save(o.save_engine);
    if (!s.ok()) return ReportError(s);
    std::cout << "saved engine to " << o.save_engine << "\n";
  }
  return 0;
}

}  // namespace

Runner AddBuildCommand(CLI::App& app) {
  auto o = std::make_shared<BuildOptions>();
  CLI::App* sub = app.add_subcommand("build", "Build an optimized engine from an ONNX model");
  AddBuildFlags(sub, o->flags);
  sub->get_option("--onnx")->required();
  sub->add_option("--shapes", o->shapes,
                  "one fixed shape per input (min = opt = max), e.g. x:2x16x64 (trtexec --shapes)");
  sub->add_option("--save-engine,--saveEngine", o->save_engine, "write the engine to this file");
  return [o] { return Build(*o); };
}

}  // namespace frt::cli
