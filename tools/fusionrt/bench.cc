// `fusionrt bench`: measures an engine's latency and throughput, after
// trtexec. Each of --streams N streams is one ExecutionContext with its own
// host buffers, driven by its own thread; all streams run concurrently.
//
// Phases per stream: one untimed run (allocates the arena, surfaces errors
// before any timing), a warm-up of --warm-up ms, then the timed phase, which
// starts for all streams at once (a barrier) and lasts until the stream has
// done at least --iterations runs AND at least --duration seconds have passed
// (trtexec semantics; --iterations counts per stream). Throughput is all timed
// runs of all streams over the timed window (barrier to the last stream's end).
// Latency is the wall time of each Execute() call.
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <barrier>
#include <chrono>
#include <ctime>
#include <fstream>
#include <functional>
#include <iomanip>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>
#include <thread>

#include "engine_source.h"
#include "fusionrt/version.h"
#include "latency_stats.h"
#ifdef FRT_HAVE_CUDA
#include "runtime/cuda/cuda_context.h"
#endif
#include "options.h"
#include "subcommands.h"

namespace frt::cli {
namespace {

using Clock = std::chrono::steady_clock;

struct BenchOptions {
  EngineFlags engine;
  InputFlags input;
  double warm_up_ms = 200;
  int iterations = 10;
  double duration_s = 3;
  int streams = 1;
  bool use_cuda_graph = false;
  std::string export_json;
};

struct TimedRun {
  int stream = 0;
  double start_ms = 0;  // from the start of the timed window
  double latency_ms = 0;
};

struct Stream {
  std::unique_ptr<ExecutionContext> ctx;
  std::optional<HostBindings> io;
  Status status;
  std::vector<TimedRun> runs;
  Clock::time_point end;
};

double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

// Warm-up, barrier, timed phase. Always arrives at the barrier, even after an
// error, so that the other streams are not left waiting.
// `wait_for_all` returns once every stream has arrived and `timed_start` is set.
void StreamMain(int index, Stream& s, const BenchOptions& o,
                const std::function<void()>& wait_for_all, const Clock::time_point& timed_start) {
  Clock::time_point warm_start = Clock::now();
  while (s.status.ok() && Ms(Clock::now() - warm_start) < o.warm_up_ms) s.status = s.ctx->Execute();
  wait_for_all();
  s.end = timed_start;
  if (!s.status.ok()) return;
  const double min_ms = o.duration_s * 1000.0;
  while (static_cast<int>(s.runs.size()) < o.iterations || Ms(s.end - timed_start) < min_ms) {
    Clock::time_point t0 = Clock::now();
    s.status = s.ctx->Execute();
    s.end = Clock::now();
    if (!s.status.ok()) return;
    s.runs.push_back({index, Ms(t0 - timed_start), Ms(s.end - t0)});
  }
}

// The process's own argv, from /proc, shell-quoted where needed (the CLI
// entry point does not pass argv to subcommands).
std::string CommandLine() {
  std::ifstream in("/proc/self/cmdline", std::ios::binary);
  std::string raw((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::string out;
  size_t pos = 0;
  while (pos < raw.size()) {
    size_t end = raw.find('\0', pos);
    if (end == std::string::npos) end = raw.size();
    std::string arg = raw.substr(pos, end - pos);
    pos = end + 1;
    bool plain = !arg.empty() && arg.find_first_not_of(
                                     "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                     "0123456789_-+=.,:/@%") == std::string::npos;
    if (!out.empty()) out += ' ';
    if (plain) {
      out += arg;
    } else {
      out += '\'';
      for (char c : arg) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
      out += '\'';
    }
  }
  return out;
}

std::string UtcNow() {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string HostName() {
  char buf[256] = {};
  if (gethostname(buf, sizeof(buf) - 1) != 0) return "";
  return buf;
}

uint64_t PeakHostMemoryBytes() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<uint64_t>(u.ru_maxrss) * 1024;  // Linux reports KiB
}

std::string ShapesText(const std::map<std::string, Tensor>& inputs) {
  std::string out;
  for (const auto& [name, t] : inputs) {
    if (!out.empty()) out += ",";
    out += name + ":";
    for (size_t i = 0; i < t.dims().size(); ++i)
      out += (i ? "x" : "") + std::to_string(t.dims()[i]);
  }
  return out;
}

int Bench(const BenchOptions& o) {
  auto parsed = ParsedInputs::Parse(o.input);
  if (!parsed.ok()) return ReportError(parsed.status());
  Clock::time_point t0 = Clock::now();
  auto engine = GetEngine(o.engine, parsed->build_shapes);
  if (!engine.ok()) return ReportError(engine.status());
  double load_ms = Ms(Clock::now() - t0);
  const Engine& e = **engine;
  const bool cpu = e.backend() == "cpu";
  if (o.use_cuda_graph && cpu) {
    std::cerr << "warning: --use-cuda-graph ignored: the engine runs on cpu\n";
  }

  std::vector<Stream> streams(o.streams);
  for (int i = 0; i < o.streams; ++i) {
    Stream& s = streams[i];
    // Same seed for every stream: all streams compute the same request, as in trtexec.
    auto prepared = parsed->Prepare(e, o.input);
    if (!prepared.ok()) return ReportError(prepared.status());
    s.ctx = std::move(prepared->ctx);
    s.io = std::move(prepared->io);
#ifdef FRT_HAVE_CUDA
    if (o.use_cuda_graph && !cpu) {
      auto* cuda_ctx = dynamic_cast<CudaExecutionContext*>(s.ctx.get());
      Status on = cuda_ctx ? cuda_ctx->EnableCudaGraphs(true)
                           : MakeError(StatusCode::kInternal, "not a cuda context");
      if (!on.ok()) return ReportError(on);
    }
#endif
    Status st = s.ctx->Execute();  // untimed first run
    if (!st.ok()) return ReportError(st.WithPrefix(StrCat("stream ", i, ", first run")));
  }
  const MemoryPlanInfo memory = e.GetMemoryPlan(o.input.profile);
  const std::string shapes_text = ShapesText(streams[0].io->inputs());
  std::cout << "=== Engine ===\n"
            << e.description() << "\n"
            << (o.engine.engine.empty() ? "built" : "loaded") << " in " << std::fixed
            << std::setprecision(2) << load_ms << " ms\n"
            << std::defaultfloat << std::setprecision(6) << "=== Run settings ===\n"
            << "profile " << o.input.profile << "; shapes: " << shapes_text << "\n"
            << "streams: " << o.streams << " (one execution context and thread each)\n"
            << "warm-up " << o.warm_up_ms << " ms; timed: at least " << o.iterations
            << " runs per stream and at least " << o.duration_s << " s\n"
            << std::flush;

  // The barrier's completion step runs once, before any stream is released:
  // every stream then sees the same timed_start.
  Clock::time_point timed_start;
  auto on_all_arrived = [&timed_start]() noexcept { timed_start = Clock::now(); };
  std::barrier sync(o.streams, on_all_arrived);
  const std::function<void()> wait_for_all = [&sync] { sync.arrive_and_wait(); };
  std::vector<std::thread> threads;
  for (int i = 0; i < o.streams; ++i) {
    threads.emplace_back(StreamMain, i, std::ref(streams[i]), std::cref(o), std::cref(wait_for_all),
                         std::cref(timed_start));
  }
  for (std::thread& t : threads) t.join();
  for (int i = 0; i < o.streams; ++i) {
    if (!streams[i].status.ok())
      return ReportError(streams[i].status.WithPrefix(StrCat("stream ", i)));
  }

  std::vector<TimedRun> runs;
  Clock::time_point end = timed_start;
  for (const Stream& s : streams) {
    runs.insert(runs.end(), s.runs.begin(), s.runs.end());
    end = std::max(end, s.end);
  }
  std::sort(runs.begin(), runs.end(),
            [](const TimedRun& a, const TimedRun& b) { return a.start_ms < b.start_ms; });
  std::vector<double> latencies;
  for (const TimedRun& r : runs) latencies.push_back(r.latency_ms);
  auto stats = ComputeLatencyStats(latencies);
  if (!stats.ok()) return ReportError(stats.status());
  const double window_s = Ms(end - timed_start) / 1000.0;
  const double throughput = window_s > 0 ? static_cast<double>(runs.size()) / window_s : 0;
  const uint64_t peak_rss = PeakHostMemoryBytes();
  // The cpu backend reads inputs and writes outputs in host memory in place:
  // there is no transfer, so the whole latency is compute.
  const double h2d_ms = 0, d2h_ms = 0, compute_ms = stats->mean;

  std::cout << std::fixed << std::setprecision(3) << "=== Performance summary ===\n"
            << "throughput: " << throughput << " inferences/s (" << runs.size() << " runs in "
            << window_s << " s over " << o.streams << " stream(s))\n"
            << "latency (ms): min " << stats->min << "  mean " << stats->mean << "  median "
            << stats->median << "  p90 " << stats->p90 << "  p95 " << stats->p95 << "  p99 "
            << stats->p99 << "  max " << stats->max << "\n"
            << "per run (mean ms): host-to-device " << h2d_ms << "  compute " << compute_ms
            << "  device-to-host " << d2h_ms
            << (cpu ? "  (cpu: inputs are read in place)" : "  (transfers not measured separately)")
            << "\n"
            << "memory: activation arena " << memory.arena_size << " bytes per stream, weights "
            << e.weights_size() << " bytes, peak host memory " << peak_rss
            << " bytes (ru_maxrss)\n";

  if (!o.export_json.empty()) {
    nlohmann::ordered_json j;
    j["fusionrt_version"] = kFusionRtVersion;
    j["date"] = UtcNow();
    j["host"] = HostName();
    j["command"] = CommandLine();
    j["engine"] = {{"description", e.description()},
                   {"backend", e.backend()},
                   {"profile", o.input.profile},
                   {"arena_bytes", memory.arena_size},
                   {"weights_bytes", e.weights_size()}};
    nlohmann::ordered_json shape_json = nlohmann::ordered_json::object();
    for (const auto& [name, t] : streams[0].io->inputs()) shape_json[name] = t.dims();
    j["shapes"] = shape_json;
    j["settings"] = {{"streams", o.streams},
                     {"iterations_per_stream", o.iterations},
                     {"duration_s", o.duration_s},
                     {"warm_up_ms", o.warm_up_ms},
                     {"use_cuda_graph", o.use_cuda_graph && !cpu},
                     {"seed", o.input.seed}};
    j["timed_runs"] = runs.size();
    j["timed_window_s"] = window_s;
    j["throughput_per_s"] = throughput;
    j["latency_ms"] = {{"min", stats->min}, {"mean", stats->mean}, {"median", stats->median},
                       {"p90", stats->p90}, {"p95", stats->p95},   {"p99", stats->p99},
                       {"max", stats->max}};
    j["mean_split_ms"] = {
        {"host_to_device", h2d_ms}, {"compute", compute_ms}, {"device_to_host", d2h_ms}};
    j["peak_host_memory_bytes"] = peak_rss;
    nlohmann::ordered_json run_json = nlohmann::ordered_json::array();
    for (const TimedRun& r : runs) {
      run_json.push_back(
          {{"stream", r.stream}, {"start_ms", r.start_ms}, {"latency_ms", r.latency_ms}});
    }
    j["runs"] = run_json;
    std::ofstream out(o.export_json);
    out << j.dump(2) << "\n";
    out.close();
    if (!out) {
      return ReportError(MakeError(StatusCode::kIoError, "cannot write the JSON report to \"",
                                   o.export_json, "\""));
    }
    std::cout << "exported the report to " << o.export_json << "\n";
  }
  return 0;
}

}  // namespace

Runner AddBenchCommand(CLI::App& app) {
  auto o = std::make_shared<BenchOptions>();
  CLI::App* sub = app.add_subcommand("bench", "Measure an engine's latency and throughput");
  AddEngineFlags(sub, o->engine);
  AddInputFlags(sub, o->input);
  sub->add_option("--warm-up,--warmUp", o->warm_up_ms,
                  "warm-up before timing, in ms, per stream (default 200)")
      ->check(CLI::Range(0.0, 3.6e6));
  sub->add_option("--iterations", o->iterations, "minimum timed runs per stream (default 10)")
      ->check(CLI::Range(1, 100000000));
  sub->add_option("--duration", o->duration_s,
                  "minimum timed seconds; runs go on until both --iterations and --duration "
                  "are reached (default 3)")
      ->check(CLI::Range(0.0, 86400.0));
  sub->add_option("--streams", o->streams,
                  "concurrent streams: execution contexts, each on its own thread (default 1)")
      ->check(CLI::Range(1, 256));
  sub->add_flag("--use-cuda-graph,--useCudaGraph", o->use_cuda_graph,
                "capture the run in a CUDA graph (cuda engines; ignored on cpu)");
  sub->add_option("--export-json,--exportTimes", o->export_json,
                  "write the statistics and every timed run to this JSON file");
  return [o] { return Bench(*o); };
}

}  // namespace frt::cli
