// `fusionrt run`: import an ONNX model, run it on the reference backend with
// given (.npy) or random inputs, print each output's summary and the timings.
#include <chrono>
#include <cmath>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <random>

#include "backends/cpu/reference_executor.h"
#include "core/npy.h"
#include "ir/printer.h"
#include "onnx/importer.h"
#include "options.h"
#include "subcommands.h"

namespace frt::cli {
namespace {

struct RunOptions {
  std::string onnx;
  std::string shapes;
  std::vector<std::string> inputs;
  std::string save_outputs;
  int iterations = 1;
  uint64_t seed = 0;
  bool print_graph = false;
};

double MsSince(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

// Uniform random data: floats in [-1, 1), integers in [0, 10), bools fair.
Tensor RandomTensor(DType dtype, const Dims& dims, std::mt19937_64& rng, Status* status) {
  auto t = Tensor::Allocate(dtype, dims);
  if (!t.ok()) {
    *status = t.status();
    return Tensor();
  }
  std::uniform_real_distribution<double> real(-1.0, 1.0);
  std::uniform_int_distribution<int> small(0, 9);
  VisitDType(dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    for (auto& v : t->template span<T>()) {
      if constexpr (std::is_same_v<T, bool>) v = small(rng) % 2;
      else if constexpr (std::is_integral_v<T>) v = static_cast<T>(small(rng));
      else v = FromDouble<T>(real(rng));
    }
  });
  return *t;
}

Result<std::map<std::string, Tensor>> MakeInputs(const Graph& g, const RunOptions& o) {
  FRT_ASSIGN_OR_RETURN(auto shapes, ParseShapes(o.shapes));
  std::map<std::string, Tensor> feeds;
  for (const std::string& flag : o.inputs) {
    FRT_ASSIGN_OR_RETURN(auto kv, ParseInputFlag(flag));
    FRT_ASSIGN_OR_RETURN(Tensor t, ReadNpy(kv.second));
    feeds[kv.first] = t;
  }
  for (const auto& [name, dims] : shapes) {
    const Value* v = g.FindValue(name);
    if (!v || !v->is_graph_input) {
      return MakeError(StatusCode::kNotFound, "--shapes names \"", name,
                       "\", which is not an input of the model");
    }
  }
  std::mt19937_64 rng(o.seed);
  for (const Value* in : g.inputs()) {
    if (feeds.count(in->name) || in->constant) continue;
    Dims dims;
    if (auto it = shapes.find(in->name); it != shapes.end()) {
      dims = it->second;
    } else if (in->shape && in->shape->is_static()) {
      dims = in->shape->static_dims();
    } else {
      return MakeError(StatusCode::kInvalidArgument, "input \"", in->name, "\" has dynamic shape ",
                       in->shape ? in->shape->ToString() : std::string("(unknown rank)"),
                       "; give its shape, e.g. --shapes ", in->name, ":1x128");
    }
    Status s;
    Tensor t = RandomTensor(in->dtype, dims, rng, &s);
    if (!s.ok()) return s.WithPrefix(StrCat("input \"", in->name, "\""));
    feeds[in->name] = t;
  }
  return feeds;
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
  auto t0 = std::chrono::steady_clock::now();
  auto graph = ImportOnnxFile(o.onnx);
  if (!graph.ok()) return ReportError(graph.status());
  double import_ms = MsSince(t0);
  if (o.print_graph) std::cout << PrintGraph(**graph);
  auto exec = ReferenceExecutor::Create(**graph);
  if (!exec.ok()) return ReportError(exec.status().WithPrefix(StrCat("\"", o.onnx, "\"")));
  auto feeds = MakeInputs(**graph, o);
  if (!feeds.ok()) return ReportError(feeds.status());
  std::cout << "model " << o.onnx << ": " << (*graph)->num_nodes() << " nodes, imported in "
            << std::fixed << std::setprecision(2) << import_ms << " ms\n";
  for (const Value* in : (*graph)->inputs()) {
    if (auto it = feeds->find(in->name); it != feeds->end()) {
      std::cout << "input \"" << in->name << "\": " << it->second.Describe() << "\n";
    }
  }
  std::vector<Tensor> outputs;
  std::vector<double> times;
  for (int i = 0; i < std::max(1, o.iterations); ++i) {
    auto t1 = std::chrono::steady_clock::now();
    auto r = (*exec)->Run(*feeds);
    if (!r.ok()) return ReportError(r.status().WithPrefix(StrCat("\"", o.onnx, "\"")));
    times.push_back(MsSince(t1));
    outputs = std::move(*r);
  }
  std::cout.unsetf(std::ios::fixed);
  for (size_t i = 0; i < outputs.size(); ++i) PrintSummary((*graph)->outputs()[i]->name, outputs[i]);
  std::sort(times.begin(), times.end());
  std::cout << std::fixed << std::setprecision(3) << "reference backend (CPU): " << times.size()
            << " run(s), min " << times.front() << " ms, median " << times[times.size() / 2]
            << " ms, max " << times.back() << " ms\n";
  if (!o.save_outputs.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(o.save_outputs, ec);
    if (ec) {
      return ReportError(MakeError(StatusCode::kIoError, "cannot create folder \"", o.save_outputs, "\""));
    }
    for (size_t i = 0; i < outputs.size(); ++i) {
      std::string path = (std::filesystem::path(o.save_outputs) /
                          FileNameFor((*graph)->outputs()[i]->name)).string();
      Status s = WriteNpy(path, outputs[i]);
      if (!s.ok()) return ReportError(s);
      std::cout << "saved " << path << "\n";
    }
  }
  return 0;
}

}  // namespace

Runner AddRunCommand(CLI::App& app) {
  auto o = std::make_shared<RunOptions>();
  CLI::App* sub = app.add_subcommand("run", "Run an ONNX model on the CPU reference backend");
  sub->add_option("--onnx", o->onnx, "ONNX model file")->required();
  sub->add_option("--shapes", o->shapes, "input shapes, e.g. input_ids:1x128,mask:1x128");
  sub->add_option("--input", o->inputs, "input from a .npy file: name=file.npy (repeatable)");
  sub->add_option("--save-outputs", o->save_outputs, "folder to write <output name>.npy into");
  sub->add_option("--iterations", o->iterations, "timed runs (default 1)")->check(CLI::Range(1, 1000000));
  sub->add_option("--seed", o->seed, "seed for random inputs (default 0)");
  sub->add_flag("--print-graph", o->print_graph, "print the imported IR graph");
  return [o] { return Run(*o); };
}

}  // namespace frt::cli
