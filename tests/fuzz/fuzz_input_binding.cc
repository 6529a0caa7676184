// libFuzzer harness for the input-binding path of ExecutionContext. Two small
// engines are built once: the bundled tiny transformer (x: f32[batch,seq,64],
// two profiles) and a Gather over a constant table (idx: i64[n], whose values
// come from the fuzzer and may be out of range). The fuzzer's bytes then drive
// a sequence of calls on a fresh context: choose a profile (also invalid ones),
// set input shapes (also outside the profile, wrong rank, huge), bind tensors
// (also unknown names, null, misaligned, too small, overlapping an earlier
// buffer), set an arena (also misaligned or too small), Execute, and read the
// outputs back through the addresses the context reports.
//
// Every buffer is a separate heap allocation of exactly the capacity passed to
// SetTensorAddress (or SetArena), so ASan reports any write beyond what the
// caller declared. The harness is honest about capacities: the library's
// contract only protects callers that state them.
#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "fusionrt/builder.h"
#include "fusionrt/engine.h"
#include "fusionrt/onnx.h"

namespace {

constexpr size_t kAllocationLimit = size_t{256} << 20;
constexpr size_t kMaxBuffer = size_t{64} << 10;

std::shared_ptr<frt::Engine> g_transformer, g_gather;

[[noreturn]] void Fail(const char* what, const frt::Status& s) {
  std::fprintf(stderr, "fuzz_input_binding: %s: %s\n", what, s.ToString().c_str());
  std::abort();
}

frt::OptimizationProfile Profile(const std::string& input, frt::Dims min, frt::Dims opt,
                                 frt::Dims max) {
  frt::OptimizationProfile p;
  frt::Status s = p.SetShapes(input, min, opt, max);
  if (!s.ok()) Fail("profile", s);
  return p;
}

std::shared_ptr<frt::Engine> BuildTransformer() {
  auto net = frt::ParseOnnxFile(std::string(FRT_SOURCE_DIR) + "/models/tiny_transformer.onnx");
  if (!net.ok()) Fail("parsing models/tiny_transformer.onnx", net.status());
  frt::BuilderConfig config;
  // Small maxima keep one execution in the millisecond range under ASan.
  config.profiles.push_back(Profile("x", {1, 1, 64}, {1, 4, 64}, {2, 8, 64}));
  config.profiles.push_back(Profile("x", {1, 1, 64}, {1, 8, 64}, {1, 16, 64}));
  auto engine = frt::Builder::Build(*net, config);
  if (!engine.ok()) Fail("building the tiny transformer", engine.status());
  return *engine;
}

// out = Gather(table f32[10,4], idx i64[n]) with n in 0..16.
std::shared_ptr<frt::Engine> BuildGather() {
  frt::NetworkDefinition net;
  std::vector<float> table(40);
  for (size_t i = 0; i < table.size(); ++i) table[i] = static_cast<float>(i);
  frt::Status s = net.AddConstant("table", frt::DType::kFloat32, {10, 4}, table.data());
  if (s.ok()) s = net.AddInput("idx", frt::DType::kInt64, {frt::InputDim::Dynamic("n")});
  if (s.ok()) s = net.AddLayer("Gather", "gather", {"table", "idx"}, {"out"});
  if (s.ok()) s = net.MarkOutput("out");
  if (!s.ok()) Fail("gather network", s);
  frt::BuilderConfig config;
  config.profiles.push_back(Profile("idx", {0}, {4}, {16}));
  auto engine = frt::Builder::Build(net, config);
  if (!engine.ok()) Fail("building the gather engine", engine.status());
  return *engine;
}

// A caller buffer: `bytes` usable bytes at `data`, which sits `shift` bytes into
// its own allocation (shift != 0 makes misaligned addresses).
struct Buffer {
  std::unique_ptr<uint8_t[]> storage;
  uint8_t* data = nullptr;
  size_t bytes = 0;
};

struct ArenaDeleter {
  void operator()(void* p) const { ::operator delete(p, std::align_val_t(256)); }
};

std::string PickName(FuzzedDataProvider& fdp, const frt::Engine& engine) {
  const auto& io = engine.io_tensors();
  size_t i = fdp.ConsumeIntegralInRange<size_t>(0, io.size());
  return i < io.size() ? io[i].name : std::string("no_such_tensor");
}

frt::Dims PickDims(FuzzedDataProvider& fdp) {
  frt::Dims d(fdp.ConsumeIntegralInRange<size_t>(0, 4));
  for (int64_t& v : d) {
    switch (fdp.ConsumeIntegralInRange(0, 7)) {
      case 0: v = fdp.ConsumeIntegral<int64_t>(); break;  // anything, huge and negative too
      case 1: v = 64; break;
      default: v = fdp.ConsumeIntegralInRange<int64_t>(-1, 20); break;
    }
  }
  return d;
}

void ReadOutputs(const frt::Engine& engine, const frt::ExecutionContext& ctx) {
  for (const frt::TensorDesc& d : engine.io_tensors()) {
    if (d.is_input) continue;
    auto dims = ctx.GetTensorShape(d.name);
    if (!dims.ok()) Fail("output shape after a successful Execute", dims.status());
    const auto* p = static_cast<const uint8_t*>(ctx.GetTensorAddress(d.name));
    if (p == nullptr) Fail("output address after a successful Execute", frt::Status::Ok());
    size_t n = frt::DTypeSize(d.dtype);
    for (int64_t v : *dims) n *= static_cast<size_t>(v);
    volatile uint8_t sink = 0;
    for (size_t i = 0; i < n; ++i) sink = sink ^ p[i];  // ASan checks every byte
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  frt::SetHostAllocationLimit(kAllocationLimit);
  g_transformer = BuildTransformer();
  g_gather = BuildGather();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider fdp(data, size);
  const frt::Engine& engine = fdp.ConsumeBool() ? *g_gather : *g_transformer;
  auto created = engine.CreateContext();
  if (!created.ok()) Fail("CreateContext", created.status());
  frt::ExecutionContext& ctx = **created;
  std::vector<Buffer> buffers;
  std::vector<std::unique_ptr<void, ArenaDeleter>> arenas;
  int executions = 0;

  for (int step = 0; step < 24 && fdp.remaining_bytes() > 0; ++step) {
    switch (fdp.ConsumeIntegralInRange(0, 6)) {
      case 0:
        (void)ctx.SetOptimizationProfile(fdp.ConsumeIntegralInRange(-2, 3));
        break;
      case 1: {
        std::string name = PickName(fdp, engine);
        (void)ctx.SetInputShape(name, PickDims(fdp));
        break;
      }
      case 2: {  // a fresh buffer of exactly `bytes`, filled with fuzzer bytes
        Buffer b;
        size_t shift = fdp.ConsumeIntegralInRange<size_t>(0, 7);
        b.bytes = fdp.ConsumeIntegralInRange<size_t>(0, kMaxBuffer);
        b.storage.reset(new uint8_t[shift + b.bytes]);
        b.data = b.storage.get() + shift;
        std::vector<uint8_t> fill = fdp.ConsumeBytes<uint8_t>(std::min<size_t>(b.bytes, 256));
        std::memset(b.data, 0, b.bytes);
        if (!fill.empty()) std::memcpy(b.data, fill.data(), fill.size());
        (void)ctx.SetTensorAddress(PickName(fdp, engine), b.data, b.bytes);
        buffers.push_back(std::move(b));
        break;
      }
      case 3: {  // part of an earlier buffer: overlapping bindings
        if (buffers.empty()) break;
        const Buffer& b = buffers[fdp.ConsumeIntegralInRange<size_t>(0, buffers.size() - 1)];
        size_t at = fdp.ConsumeIntegralInRange<size_t>(0, b.bytes);
        (void)ctx.SetTensorAddress(PickName(fdp, engine), b.data + at, b.bytes - at);
        break;
      }
      case 4:
        (void)ctx.SetTensorAddress(PickName(fdp, engine), nullptr,
                                   fdp.ConsumeIntegralInRange<size_t>(0, 64));
        break;
      case 5: {  // an arena of exactly the declared size, possibly misaligned
        size_t bytes = fdp.ConsumeIntegralInRange<size_t>(0, size_t{1} << 20);
        size_t shift = fdp.ConsumeBool() ? 0 : fdp.ConsumeIntegralInRange<size_t>(1, 255);
        shift = std::min(shift, bytes);
        arenas.emplace_back(::operator new(std::max<size_t>(bytes, 1), std::align_val_t(256)));
        // Earlier arenas stay alive: a refused SetArena leaves the previous one in use.
        (void)ctx.SetArena(static_cast<uint8_t*>(arenas.back().get()) + shift, bytes - shift);
        break;
      }
      case 6:
        if (executions++ >= 3) break;  // bounds the time of one input
        if (ctx.Execute().ok()) ReadOutputs(engine, ctx);
        break;
    }
  }
  if (executions == 0 && ctx.Execute().ok()) ReadOutputs(engine, ctx);
  return 0;
}
