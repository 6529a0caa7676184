// End-to-end tests of `fusionrt bench` and `fusionrt inspect` on the bundled
// tiny transformer: exit codes, the printed statistics, the JSON reports
// (checked against each other and recomputed from the raw runs), and that
// bad flag values are refused with a message.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <regex>

#include "fusionrt/version.h"
#include "test_util.h"

namespace frt {
namespace {

using nlohmann::json;
using testing_util::RunCli;
using testing_util::TempDir;

const std::string kModel = std::string(FRT_SOURCE_DIR) + "/models/tiny_transformer.onnx";

json ReadJson(const std::string& path) {
  std::ifstream in(path);
  return json::parse(in, nullptr, /*allow_exceptions=*/false);
}

// One engine with a dynamic profile, built once for the suite:
// x in [1,1,64] .. [4,32,64], opt [2,16,64].
class CliBenchInspect : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    engine_ = (dir_->path() / "tiny.engine").string();
    auto r = RunCli("build --onnx " + kModel + " --min-shapes x:1x1x64 --opt-shapes x:2x16x64" +
                    " --max-shapes x:4x32x64 --save-engine " + engine_);
    ASSERT_EQ(r.exit_code, 0) << r.output;
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }
  static TempDir* dir_;
  static std::string engine_;
};
TempDir* CliBenchInspect::dir_ = nullptr;
std::string CliBenchInspect::engine_;

TEST_F(CliBenchInspect, BenchTwoStreamsReportsStatisticsAndJson) {
  TempDir tmp;
  std::string report = (tmp.path() / "bench.json").string();
  uint64_t seed = std::random_device{}();
  auto r = RunCli("bench --onnx " + kModel + " --shapes x:2x16x64 --iterations 5 --duration 0" +
                  " --warm-up 0 --streams 2 --seed " + std::to_string(seed) + " --export-json " +
                  report);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  for (const char* word :
       {"throughput:", "inferences/s", "min ", "mean ", "median ", "p90 ", "p95 ", "p99 ", "max ",
        "host-to-device", "device-to-host", "(cpu: inputs are read in place)", "activation arena",
        "peak host memory", "shapes: x:2x16x64", "streams: 2"}) {
    EXPECT_NE(r.output.find(word), std::string::npos) << "missing \"" << word << "\" in\n"
                                                      << r.output;
  }

  json j = ReadJson(report);
  ASSERT_FALSE(j.is_discarded()) << "report is not JSON";
  EXPECT_EQ(j["fusionrt_version"], kFusionRtVersion);
  EXPECT_TRUE(std::regex_match(j["date"].get<std::string>(),
                               std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)")))
      << j["date"];
  EXPECT_FALSE(j["host"].get<std::string>().empty());
  const std::string command = j["command"];
  EXPECT_NE(command.find("bench --onnx"), std::string::npos) << command;
  EXPECT_NE(command.find("--seed " + std::to_string(seed)), std::string::npos) << command;
  EXPECT_EQ(j["shapes"]["x"], json({2, 16, 64}));
  EXPECT_EQ(j["settings"]["streams"], 2);
  EXPECT_EQ(j["engine"]["backend"], "cpu");
  EXPECT_GT(j["engine"]["weights_bytes"].get<uint64_t>(), 0u);
  EXPECT_GT(j["peak_host_memory_bytes"].get<uint64_t>(), 0u);

  // --duration 0: exactly --iterations timed runs per stream, 2 x 5 = 10 in all.
  const json& runs = j["runs"];
  ASSERT_EQ(runs.size(), 10u);
  EXPECT_EQ(j["timed_runs"], 10);
  int per_stream[2] = {0, 0};
  std::vector<double> latencies;
  double last_start = -1;
  for (const json& run : runs) {
    int s = run["stream"];
    ASSERT_TRUE(s == 0 || s == 1) << run;
    ++per_stream[s];
    latencies.push_back(run["latency_ms"]);
    EXPECT_GT(run["latency_ms"].get<double>(), 0);
    EXPECT_GE(run["start_ms"].get<double>(), last_start);  // sorted by start
    last_start = run["start_ms"];
  }
  EXPECT_EQ(per_stream[0], 5);
  EXPECT_EQ(per_stream[1], 5);

  // The summary must be the statistics of exactly these runs (nearest rank).
  std::sort(latencies.begin(), latencies.end());
  const json& lat = j["latency_ms"];
  EXPECT_EQ(lat["min"].get<double>(), latencies.front());
  EXPECT_EQ(lat["max"].get<double>(), latencies.back());
  EXPECT_EQ(lat["median"].get<double>(), latencies[4]);  // rank ceil(0.5 * 10) = 5
  EXPECT_EQ(lat["p90"].get<double>(), latencies[8]);     // rank 9
  EXPECT_EQ(lat["p95"].get<double>(), latencies[9]);     // rank ceil(9.5) = 10
  double sum = 0;
  for (double v : latencies) sum += v;
  EXPECT_NEAR(lat["mean"].get<double>(), sum / 10, 1e-9 * sum);

  const double throughput = j["throughput_per_s"], window = j["timed_window_s"];
  EXPECT_GT(throughput, 0);
  EXPECT_NEAR(throughput, 10 / window, 1e-6 * throughput);
  // The window spans every run: no run can end after it.
  for (const json& run : runs) {
    EXPECT_LE(run["start_ms"].get<double>() + run["latency_ms"].get<double>(),
              window * 1000 * (1 + 1e-9));
  }
  EXPECT_EQ(j["mean_split_ms"]["host_to_device"], 0.0);
  EXPECT_EQ(j["mean_split_ms"]["device_to_host"], 0.0);
  EXPECT_EQ(j["mean_split_ms"]["compute"].get<double>(), lat["mean"].get<double>());
}

TEST_F(CliBenchInspect, BenchRunsUntilDurationAndIgnoresCudaGraphOnCpu) {
  TempDir tmp;
  std::string report = (tmp.path() / "bench.json").string();
  auto r = RunCli("bench --engine " + engine_ + " --iterations 1 --duration 0.25 --warmUp 10" +
                  " --useCudaGraph --exportTimes " + report);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("--use-cuda-graph ignored: the engine runs on cpu"), std::string::npos)
      << r.output;
  json j = ReadJson(report);
  ASSERT_FALSE(j.is_discarded());
  EXPECT_GE(j["timed_window_s"].get<double>(), 0.25);
  EXPECT_GE(j["runs"].size(), 1u);
  EXPECT_EQ(j["runs"].size(), j["timed_runs"].get<size_t>());
  EXPECT_EQ(j["shapes"]["x"], json({2, 16, 64}));  // no --shapes: the profile's opt shapes
  EXPECT_EQ(j["settings"]["use_cuda_graph"], false);
}

TEST_F(CliBenchInspect, InspectJsonListsLayersShapesAndMemory) {
  std::mt19937 rng(std::random_device{}());
  const int batch = std::uniform_int_distribution<int>(1, 4)(rng);
  const int seq = std::uniform_int_distribution<int>(1, 32)(rng);
  const std::string shape = std::to_string(batch) + "x" + std::to_string(seq) + "x64";
  auto r = RunCli("inspect --engine " + engine_ + " --shapes x:" + shape + " --json");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  json j = json::parse(r.output, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << r.output;

  const json expected_dims = {batch, seq, 64};
  EXPECT_EQ(j["shapes"]["x"], expected_dims);
  ASSERT_EQ(j["io"].size(), 2u) << j["io"];
  const json& x = j["io"][0];
  EXPECT_EQ(x["name"], "x");
  EXPECT_EQ(x["kind"], "input");
  EXPECT_EQ(x["declared"], "[batch,seq,64]");
  EXPECT_EQ(x["profile"]["min"], json({1, 1, 64}));
  EXPECT_EQ(x["profile"]["opt"], json({2, 16, 64}));
  EXPECT_EQ(x["profile"]["max"], json({4, 32, 64}));
  EXPECT_EQ(j["io"][1]["kind"], "output");
  EXPECT_EQ(j["io"][1]["shape"], expected_dims);  // an encoder layer keeps x's shape

  // Layer count agrees with the engine description ("...; N layers, ...").
  std::smatch m;
  std::string description = j["engine"]["description"];
  ASSERT_TRUE(std::regex_search(description, m, std::regex(R"((\d+) layers)"))) << description;
  const json& layers = j["layers"];
  ASSERT_EQ(layers.size(), std::stoul(m[1]));
  ASSERT_GT(layers.size(), 5u);
  bool saw_x = false;
  for (size_t i = 0; i < layers.size(); ++i) {
    const json& l = layers[i];
    SCOPED_TRACE(l.dump());
    EXPECT_EQ(l["index"], i);
    EXPECT_EQ(l["tactic"], "cpu.reference");
    EXPECT_EQ(l["precision"], "f32");
    EXPECT_FALSE(l["op"].get<std::string>().empty());
    EXPECT_FALSE(l["source_nodes"].empty());
    ASSERT_FALSE(l["outputs"].empty());
    for (const char* side : {"inputs", "outputs"}) {
      for (const json& v : l[side]) {
        ASSERT_TRUE(v["shape"].is_array()) << v;  // no data-dependent ops in this model
        for (const json& d : v["shape"]) EXPECT_GE(d.get<int64_t>(), 0);
        if (v["name"] == "x") {
          EXPECT_EQ(v["shape"], expected_dims);
          saw_x = true;
        }
      }
    }
  }
  EXPECT_TRUE(saw_x) << "no layer reads the input x";

  const json& mem = j["memory"];
  const uint64_t arena = mem["arena_bytes"], naive = mem["naive_bytes"];
  EXPECT_GT(arena, 0u);
  EXPECT_LE(arena, naive);
  EXPECT_NEAR(mem["ratio"].get<double>(), static_cast<double>(arena) / naive, 1e-12);
  ASSERT_FALSE(mem["slots"].empty());
  for (const json& s : mem["slots"]) {
    EXPECT_LE(s["offset"].get<uint64_t>() + s["size"].get<uint64_t>(), arena) << s;
    EXPECT_LE(s["first_step"].get<int>(), s["last_step"].get<int>()) << s;
  }
}

TEST_F(CliBenchInspect, InspectTextShowsLayersAndMemoryPlan) {
  auto r = RunCli("inspect --engine " + engine_);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  for (const char* word : {"I/O tensors:", "input  x f32[batch,seq,64]", "min [1,1,64]",
                           "opt [2,16,64]", "max [4,32,64]", "tactic cpu.reference", "from: ",
                           "x f32[2,16,64]", "arena/naive", "%", "--verbose lists them"}) {
    EXPECT_NE(r.output.find(word), std::string::npos) << "missing \"" << word << "\" in\n"
                                                      << r.output;
  }
  auto v = RunCli("inspect --engine " + engine_ + " --verbose");
  ASSERT_EQ(v.exit_code, 0) << v.output;
  EXPECT_NE(v.output.find("  slot "), std::string::npos) << v.output;
}

TEST_F(CliBenchInspect, BadFlagValuesAreRefusedWithAMessage) {
  struct Case {
    std::string args;
    int exit_code;
    std::string message;
  };
  TempDir tmp;
  const std::string e = " --engine " + engine_;
  const std::vector<Case> cases = {
      {"bench" + e + " --iterations 0", 2, "--iterations"},
      {"bench" + e + " --streams 0", 2, "--streams"},
      {"bench" + e + " --streams two", 2, "--streams"},
      {"bench" + e + " --duration -1", 2, "--duration"},
      {"bench" + e + " --warm-up -5", 2, "--warm-up"},
      {"bench" + e + " --shapes x:2xQx64", 1, "error: InvalidArgument"},
      {"bench" + e + " --shapes x:9x16x64 --duration 0 --warm-up 0", 1, "error: OutOfRange"},
      {"bench" + e + " --shapes y:2x16x64", 1, "error: NotFound"},
      {"bench" + e + " --profile 1 --duration 0 --warm-up 0", 1, "error: OutOfRange"},
      {"bench" + e + " --duration 0 --warm-up 0 --iterations 1 --export-json " +
           (tmp.path() / "no" / "such" / "dir.json").string(),
       1, "error: IoError"},
      {"bench --engine " + (tmp.path() / "missing.engine").string(), 1, "error: "},
      {"inspect" + e + " --profile 3", 1, "does not exist"},
      {"inspect" + e + " --shapes x:9x16x64", 1, "error: OutOfRange"},
      {"inspect" + e + " --onnx " + kModel, 1, "not both"},
      {"inspect" + e + " --frobnicate", 2, "frobnicate"},
  };
  for (const Case& c : cases) {
    auto r = RunCli(c.args);
    EXPECT_EQ(r.exit_code, c.exit_code) << c.args << "\n" << r.output;
    EXPECT_NE(r.output.find(c.message), std::string::npos) << c.args << "\n" << r.output;
  }
}

TEST_F(CliBenchInspect, HelpListsEveryFlag) {
  auto top = RunCli("--help");
  EXPECT_EQ(top.exit_code, 0);
  for (const char* sub : {"build", "run", "bench", "inspect", "ops"}) {
    EXPECT_NE(top.output.find(sub), std::string::npos) << top.output;
  }
  auto bench = RunCli("bench --help");
  EXPECT_EQ(bench.exit_code, 0);
  for (const char* flag : {"--engine",      "--loadEngine",     "--onnx",
                           "--shapes",      "--input",          "--loadInputs",
                           "--profile",     "--seed",           "--warm-up",
                           "--warmUp",      "--iterations",     "--duration",
                           "--streams",     "--use-cuda-graph", "--useCudaGraph",
                           "--export-json", "--exportTimes",    "--fp16",
                           "--min-shapes",  "--memory-limit",   "--optimization-level",
                           "--device",      "--verbose"}) {
    EXPECT_NE(bench.output.find(flag), std::string::npos) << flag << "\n" << bench.output;
  }
  auto inspect = RunCli("inspect --help");
  EXPECT_EQ(inspect.exit_code, 0);
  for (const char* flag :
       {"--engine", "--onnx", "--shapes", "--profile", "--json", "--verbose", "--max-shapes"}) {
    EXPECT_NE(inspect.output.find(flag), std::string::npos) << flag << "\n" << inspect.output;
  }
}

}  // namespace
}  // namespace frt
