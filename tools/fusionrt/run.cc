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
  InputFlags input;
  std::string save_outputs;
  int iterations = 1;
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
  auto parsed = ParsedInputs::Parse(o.input);
  if (!parsed.ok()) return ReportError(parsed.status());
  auto t0 = std::chrono::steady_clock::now();
  auto engine = GetEngine(o.engine, parsed->build_shapes);
  if (!engine.ok()) return ReportError(engine.status());
  double load_ms = MsSince(t0);
  const Engine& e = **engine;
  auto prepared = parsed->Prepare(e, o.input);
  if (!prepared.ok()) return ReportError(prepared.status());
  ExecutionContext& ctx = *prepared->ctx;
  const HostBindings& io = *prepared->io;
  std::cout << e.description() << "\n"
            << (o.engine.engine.empty() ? "built" : "loaded") << " in " << std::fixed
            << std::setprecision(2) << load_ms << " ms\n";
  std::cout.unsetf(std::ios::fixed);
  for (const auto& [name, t] : io.inputs()) {
    std::cout << "input \"" << name << "\": " << t.Describe() << "\n";
  }
  std::vector<double> times;
  for (int i = 0; i < std::max(1, o.iterations); ++i) {
    auto t1 = std::chrono::steady_clock::now();
    Status r = ctx.Execute();
    if (!r.ok()) return ReportError(r);
    times.push_back(MsSince(t1));
  }
  auto outputs = io.Outputs(e, ctx);
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
  AddInputFlags(sub, o->input);
  sub->add_option("--save-outputs", o->save_outputs, "folder to write <output name>.npy into");
  sub->add_option("--iterations", o->iterations, "timed runs (default 1)")
      ->check(CLI::Range(1, 1000000));
  return [o] { return Run(*o); };
}

}  // namespace frt::cli
