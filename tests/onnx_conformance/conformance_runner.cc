// ONNX backend conformance: runs every case of the ONNX test data (Debian
// libonnx-testdata) on the reference backend and compares with the expected
// outputs using ONNX's tolerances (rtol 1e-3, atol 1e-7; per-case overrides in
// skips.txt). Cases listed in skips.txt are reported as skipped with their
// reason; every other case must pass. Prints one line per case, a pass rate
// per suite and a final "N passed, N failed, N skipped" line.
//
// Exit status: 0 when no unlisted case fails and the node suite's pass rate
// is at least --min-node-rate; 1 otherwise.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>

#include <CLI/CLI.hpp>

#include "backends/cpu/reference_executor.h"
#include "engine_roundtrip.h"
#include "onnx/importer.h"
#include "onnx/onnx_types.h"

namespace fs = std::filesystem;
using namespace frt;

namespace {

struct CaseRule {
  bool skip = false;
  std::string reason;
  double rtol = 1e-3;
  double atol = 1e-7;
};

// skips.txt lines: "skip <suite>/<case> : reason" or
// "tol <suite>/<case> <rtol> <atol> : reason"; '#' starts a comment.
Result<std::map<std::string, CaseRule>> LoadRules(const std::string& path) {
  std::map<std::string, CaseRule> rules;
  std::ifstream in(path);
  if (!in) return MakeError(StatusCode::kNotFound, "cannot open rules file ", path);
  std::string line;
  int lineno = 0;
  while (std::getline(in, line)) {
    ++lineno;
    if (auto h = line.find('#'); h != std::string::npos) line.resize(h);
    std::string reason;
    if (auto c = line.find(" : "); c != std::string::npos) {
      reason = line.substr(c + 3);
      line.resize(c);
    }
    std::istringstream ls(line);
    std::string kind, name;
    if (!(ls >> kind)) continue;
    ls >> name;
    CaseRule& r = rules[name];
    r.reason = reason;
    if (kind == "skip") {
      r.skip = true;
    } else if (kind == "tol") {
      if (!(ls >> r.rtol >> r.atol)) {
        return MakeError(StatusCode::kInvalidArgument, path, ":", lineno, ": tol needs rtol atol");
      }
    } else {
      return MakeError(StatusCode::kInvalidArgument, path, ":", lineno, ": unknown rule ", kind);
    }
    if (reason.empty()) {
      return MakeError(StatusCode::kInvalidArgument, path, ":", lineno, ": a reason is required");
    }
  }
  return rules;
}

Result<Tensor> LoadTensorPb(const fs::path& path, std::string* name) {
  std::ifstream in(path, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  onnx::TensorProto proto;
  if (!proto.ParseFromString(bytes)) {
    return MakeError(StatusCode::kUnsupported, path.filename().string(),
                     " is not a TensorProto (sequence/optional test data is not supported)");
  }
  *name = proto.name();
  return TensorFromProto(proto, "");
}

std::string Compare(const Tensor& got, const Tensor& want, const CaseRule& rule) {
  if (got.dtype() != want.dtype()) {
    return StrCat("dtype ", DTypeName(got.dtype()), " != expected ", DTypeName(want.dtype()));
  }
  if (got.dims() != want.dims()) {
    return StrCat("shape ", DimsToString(got.dims()), " != expected ", DimsToString(want.dims()));
  }
  int64_t bad = 0, first = -1;
  double worst = 0;
  bool exact = !IsFloat(want.dtype());
  for (int64_t i = 0; i < want.num_elements(); ++i) {
    double g = got.GetAsDouble(i), w = want.GetAsDouble(i);
    bool ok;
    if (exact) {
      ok = VisitDType(want.dtype(), [&](auto tag) {
        using T = typename decltype(tag)::type;
        if constexpr (std::is_integral_v<T>) return got.data<T>()[i] == want.data<T>()[i];
        return g == w;
      });
    } else if (std::isnan(w)) {
      ok = std::isnan(g);
    } else if (std::isinf(w)) {
      ok = g == w;
    } else {
      ok = std::fabs(g - w) <= rule.atol + rule.rtol * std::fabs(w);
      worst = std::max(worst, std::fabs(g - w));
    }
    if (!ok) {
      if (first < 0) first = i;
      ++bad;
    }
  }
  if (bad == 0) return "";
  return StrCat(bad, " of ", want.num_elements(), " elements differ; first at ", first, ": got ",
                got.GetAsDouble(first), ", expected ", want.GetAsDouble(first),
                " (max abs diff ", worst, ")");
}

// Returns "" on pass, else the failure reason.
std::string RunCase(const fs::path& dir, const CaseRule& rule, bool engine_round_trip) {
  auto graph = ImportOnnxFile((dir / "model.onnx").string());
  if (!graph.ok()) return "import: " + graph.status().ToString();
  auto exec = ReferenceExecutor::Create(**graph);
  if (!exec.ok()) return "prepare: " + exec.status().ToString();
  std::vector<fs::path> sets;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.is_directory() && e.path().filename().string().rfind("test_data_set_", 0) == 0) {
      sets.push_back(e.path());
    }
  }
  std::sort(sets.begin(), sets.end());
  if (sets.empty()) return "no test_data_set_* folders";
  std::vector<const Value*> runtime_inputs;
  for (const Value* v : (*graph)->inputs()) {
    if (!v->constant) runtime_inputs.push_back(v);
  }
  std::vector<std::map<std::string, Tensor>> all_feeds;
  std::vector<std::vector<Tensor>> all_outputs;
  for (const fs::path& set : sets) {
    std::map<std::string, Tensor> feeds;
    for (size_t i = 0;; ++i) {
      fs::path p = set / StrCat("input_", i, ".pb");
      if (!fs::exists(p)) break;
      std::string name;
      auto t = LoadTensorPb(p, &name);
      if (!t.ok()) return "input: " + t.status().ToString();
      if (name.empty() || !(*graph)->FindValue(name)) {
        if (i >= runtime_inputs.size()) return StrCat("input_", i, ".pb has no matching graph input");
        name = runtime_inputs[i]->name;
      }
      feeds[name] = *t;
    }
    auto outs = (*exec)->Run(feeds);
    if (!outs.ok()) return "run: " + outs.status().ToString();
    for (size_t i = 0; i < outs->size(); ++i) {
      fs::path p = set / StrCat("output_", i, ".pb");
      std::string name;
      auto want = LoadTensorPb(p, &name);
      if (!want.ok()) return "expected output: " + want.status().ToString();
      std::string diff = Compare((*outs)[i], *want, rule);
      if (!diff.empty()) {
        return StrCat(set.filename().string(), " output ", i, " (\"", (*graph)->outputs()[i]->name,
                      "\"): ", diff);
      }
    }
    all_feeds.push_back(std::move(feeds));
    all_outputs.push_back(std::move(*outs));
  }
  if (!engine_round_trip) return "";
  std::string why = CheckEngineRoundTrip((dir / "model.onnx").string(), all_feeds, all_outputs);
  return why.empty() ? "" : "engine: " + why;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"ONNX backend conformance runner for the FusionRT reference backend"};
  std::string data_dir = "/usr/share/libonnx-testdata/data";
  std::string rules_path = "tests/onnx_conformance/skips.txt";
  std::vector<std::string> suites = {"node", "pytorch-converted", "pytorch-operator", "simple"};
  std::string filter;
  double min_node_rate = 0.85;
  bool quiet = false;
  bool engine_round_trip = false;
  app.add_option("--data-dir", data_dir, "ONNX backend test data root");
  app.add_option("--rules", rules_path, "skip/tolerance rules file");
  app.add_option("--suites", suites, "suites to run")->delimiter(',');
  app.add_option("--filter", filter, "only cases whose name contains this");
  app.add_option("--min-node-rate", min_node_rate, "required pass rate of the node suite");
  app.add_flag("--quiet", quiet, "print only failures, skips and the summary");
  app.add_flag("--engine", engine_round_trip,
               "also build an engine per case, serialize, load and run it; require outputs "
               "bit-identical to the reference executor");
  CLI11_PARSE(app, argc, argv);

  auto rules = LoadRules(rules_path);
  if (!rules.ok()) {
    std::cerr << rules.status().ToString() << "\n";
    return 1;
  }
  int total_pass = 0, total_fail = 0, total_skip = 0;
  double node_rate = 1.0;
  for (const std::string& suite : suites) {
    fs::path root = fs::path(data_dir) / suite;
    if (!fs::is_directory(root)) {
      std::cerr << "missing suite folder " << root << "\n";
      return 1;
    }
    std::vector<fs::path> cases;
    for (const auto& e : fs::directory_iterator(root)) {
      if (e.is_directory()) cases.push_back(e.path());
    }
    std::sort(cases.begin(), cases.end());
    int pass = 0, fail = 0, skip = 0;
    for (const fs::path& c : cases) {
      std::string id = suite + "/" + c.filename().string();
      if (!filter.empty() && id.find(filter) == std::string::npos) continue;
      CaseRule rule;
      if (auto it = rules->find(id); it != rules->end()) rule = it->second;
      if (rule.skip) {
        ++skip;
        std::cout << "SKIP " << id << ": " << rule.reason << "\n";
        continue;
      }
      std::string why = RunCase(c, rule, engine_round_trip);
      if (why.empty()) {
        ++pass;
        if (!quiet) std::cout << "PASS " << id << "\n";
      } else {
        ++fail;
        std::cout << "FAIL " << id << ": " << why << "\n";
      }
    }
    int all = pass + fail + skip;
    double rate = all ? static_cast<double>(pass) / all : 1.0;
    if (suite == "node") node_rate = rate;
    std::cout << "suite " << suite << ": " << pass << "/" << all << " passed ("
              << static_cast<int>(rate * 1000) / 10.0 << "%), " << fail << " failed, " << skip
              << " skipped\n";
    total_pass += pass;
    total_fail += fail;
    total_skip += skip;
  }
  bool rate_ok = filter.empty() ? node_rate >= min_node_rate : true;
  if (!rate_ok) {
    std::cout << "node suite pass rate " << node_rate * 100 << "% is below the required "
              << min_node_rate * 100 << "%\n";
  }
  std::cout << total_pass << " passed, " << total_fail << " failed, " << total_skip << " skipped\n";
  return (total_fail == 0 && rate_ok) ? 0 : 1;
}
