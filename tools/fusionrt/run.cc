// `fusionrt run`: load an engine (--engine) or build one from an ONNX model
// (--onnx), run it once or more on given (.npy) or random inputs, print each
// output's summary and the timings, optionally save the outputs as .npy.
#include <chrono>
#include <cmath>
#include <filesystem>
#include <iomanip>
#include <iostream>

#include "core/npy.h"
#include "engine_source.h"
#include "options.h"
#include "subcommands.h"

namespace frt::cli {
namespace {

struct RunOptions {
  EngineFlags engine;
  std::string shapes;
  std::vector<std::string> inputs;
  std::string save_outputs;
  int iterations = 1;
  uint64_t seed = 0;
  int profile = 0;
};

double MsSince(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

void PrintSummary(const std::string& name, const Tensor& t) {
  double mn = INFINITY, mx = -INFINITY, sum = 0, sq = 0;
  int64_t n = t.num_elements();
  for (int64_t i = 0; i < n; ++i) {
    double v = t.GetAsDouble(i);
    mn = std::min(mn, v);
    mx = std::max(mx, v);
    sum += v;
    sq += v * v;
  }
  double mean = n ? sum / n : 0;
  double sd = n ? std::sqrt(std::max(0.0, sq / n - mean * mean)) : 0;
  std::cout << "output \"" << name << "\": " << t.Describe();
  if (n) {
    std::cout << std::setprecision(6) << "  min " << mn << "  max " << mx << "  mean " << mean
              << "  std " << sd << "\n    first values:";
    for (int64_t i = 0; i < std::min<int64_t>(n, 8); ++i) std::cout << " " << t.GetAsDouble(i);
  }
  std::cout << "\n";
}

std::string FileNameFor(const std::string& tensor_name) {
  std::string s = tensor_name;
  for (char& c : s) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-' && c != '.') c = '_';
  }
  if (s.empty() || s[0] == '.') s = "_" + s;
  return s + ".npy";
}

int Run(const RunOptions& o) {
  auto shapes = ParseShapes(o.shapes);
  if (!shapes.ok()) return ReportError(shapes.status());
  std::map<std::string, std::string> npy;
  for (const std::string& flag : o.inputs) {
    auto kv = ParseInputFlag(flag);
    if (!kv.ok()) return ReportError(kv.status());
    npy[kv->first] = kv->second;
  }
  auto build_shapes = ShapesWithNpyInputs(*shapes, npy);
  if (!build_shapes.ok()) return ReportError(build_shapes.status());
  auto t0 = std::chrono::steady_clock::now();
  auto engine = GetEngine(o.engine, *build_shapes);
  if (!engine.ok()) return ReportError(engine.status());
  double load_ms = MsSince(t0);
  const Engine& e = **engine;
  auto ctx = e.CreateContext();
  if (!ctx.ok()) return ReportError(ctx.status());
  Status s = (*ctx)->SetOptimizationProfile(o.profile);
  if (!s.ok()) return ReportError(s);
  auto io = HostBindings::Create(e, **ctx, *shapes, npy, o.seed);
  if (!io.ok()) return ReportError(io.status());
  std::cout << e.description() << "\n"
            << (o.engine.engine.empty() ? "built" : "loaded") << " in " << std::fixed
            << std::setprecision(2) << load_ms << " ms\n";
  std::cout.unsetf(std::ios::fixed);
  for (const auto& [name, t] : io->inputs()) {
    std::cout << "input \"" << name << "\": " << t.Describe() << "\n";
  }
  std::vector<double> times;
  for (int i = 0; i < std::max(1, o.iterations); ++i) {
    auto t1 = std::chrono::steady_clock::now();
    Status r = (*ctx)->Execute();
    if (!r.ok()) return ReportError(r);
    times.push_back(MsSince(t1));
  }
  auto outputs = io->Outputs(e, **ctx);
  if (!outputs.ok()) return ReportError(outputs.status());
  for (const auto& [name, t] : *outputs) PrintSummary(name, t);
  std::sort(times.begin(), times.end());
  std::cout << std::fixed << std::setprecision(3) << e.backend() << " backend: " << times.size()
            << " run(s), min " << times.front() << " ms, median " << times[times.size() / 2]
            << " ms, max " << times.back() << " ms\n";
  if (!o.save_outputs.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(o.save_outputs, ec);
    if (ec) {
      return ReportError(
          MakeError(StatusCode::kIoError, "cannot create folder \"", o.save_outputs, "\""));
    }
    for (const auto& [name, t] : *outputs) {
      std::string path = (std::filesystem::path(o.save_outputs) / FileNameFor(name)).string();
      Status w = WriteNpy(path, t);
      if (!w.ok()) return ReportError(w);
      std::cout << "saved " << path << "\n";
    }
  }
  return 0;
}

}  // namespace

Runner AddRunCommand(CLI::App& app) {
  auto o = std::make_shared<RunOptions>();
  CLI::App* sub = app.add_subcommand("run", "Run an engine (or an ONNX model, built on the fly)");
  AddEngineFlags(sub, o->engine);
  sub->add_option("--shapes", o->shapes, "input shapes, e.g. input_ids:1x128,mask:1x128");
  sub->add_option("--input,--loadInputs", o->inputs,
                  "input from a .npy file: name=file.npy (repeatable)");
  sub->add_option("--save-outputs", o->save_outputs, "folder to write <output name>.npy into");
  sub->add_option("--iterations", o->iterations, "timed runs (default 1)")
      ->check(CLI::Range(1, 1000000));
  sub->add_option("--seed", o->seed, "seed for random inputs (default 0)");
  sub->add_option("--profile", o->profile, "optimization profile to run with (default 0)");
  return [o] { return Run(*o); };
}

}  // namespace frt::cli
