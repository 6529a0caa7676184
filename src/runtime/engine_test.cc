// Builder + Engine + ExecutionContext: results equal the reference executor
// bit for bit, survive serialization, hold across threads; profiles, memory
// plans and caller-memory misuse are checked.
#include <gtest/gtest.h>

#include <cstring>
#include <iostream>
#include <random>
#include <thread>

#include "backends/cpu/reference_executor.h"
#include "bert_network.h"
#include "core/tensor.h"
#include "engine/plan.h"
#include "fusionrt/builder.h"
#include "fusionrt/onnx.h"
#include "test_util.h"

namespace frt {
namespace {

using testing_util::BertShape;
using testing_util::MakeBertNetwork;

Tensor RandomInput(const Dims& dims, uint64_t seed) {
  Tensor t = Tensor::Allocate(DType::kFloat32, dims).value();
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> d(-1.0f, 1.0f);
  for (float& v : t.span<float>()) v = d(rng);
  return t;
}

OptimizationProfile Profile(const std::string& name, Dims min, Dims opt, Dims max) {
  OptimizationProfile p;
  EXPECT_TRUE(p.SetShapes(name, min, opt, max).ok());
  return p;
}

std::shared_ptr<Engine> BuildOrDie(const NetworkDefinition& net, const BuilderConfig& config) {
  auto engine = Builder::Build(net, config);
  EXPECT_TRUE(engine.ok()) << engine.status().ToString();
  return engine.ok() ? *engine : nullptr;
}

// Runs a one-input one-output engine on `x` with a context-allocated output.
Result<Tensor> RunEngine(const Engine& engine, ExecutionContext& ctx, const Tensor& x) {
  const std::string in = engine.io_tensors()[0].name, out = engine.io_tensors()[1].name;
  FRT_RETURN_IF_ERROR(ctx.SetInputShape(in, x.dims()));
  FRT_RETURN_IF_ERROR(ctx.SetTensorAddress(in, const_cast<void*>(x.raw()), x.nbytes()));
  FRT_RETURN_IF_ERROR(ctx.Execute());
  FRT_ASSIGN_OR_RETURN(Dims dims, ctx.GetTensorShape(out));
  Tensor view = Tensor::View(DType::kFloat32, dims, const_cast<void*>(ctx.GetTensorAddress(out)));
  return view.Clone();
}

Tensor Reference(const NetworkDefinition& net, const std::string& input, const Tensor& x) {
  auto exec = ReferenceExecutor::Create(net.graph()).value();
  return exec->Run({{input, x}}).value()[0];
}

bool BitEqual(const Tensor& a, const Tensor& b) {
  return a.dtype() == b.dtype() && a.dims() == b.dims() &&
         std::memcmp(a.raw(), b.raw(), a.nbytes()) == 0;
}

// An optimized engine against the unoptimized network on the reference
// executor: fused ops round once where the unfused ones rounded per op, so
// float32 outputs agree to rounding (relative L2 <= 1e-5; an indexing or
// placement bug gives errors of order 1).
bool CloseToReference(const Tensor& got, const Tensor& want) {
  if (got.dtype() != DType::kFloat32 || got.dims() != want.dims()) return false;
  double num = 0, den = 0;
  for (int64_t i = 0; i < want.num_elements(); ++i) {
    double d = static_cast<double>(got.data<float>()[i]) - want.data<float>()[i];
    num += d * d;
    den += static_cast<double>(want.data<float>()[i]) * want.data<float>()[i];
  }
  return num <= 1e-10 * den;
}

BertShape SmallBert() { return {2, 32, 4, 64}; }

TEST(EngineRuntime, SmallBertMatchesReferenceAcrossProfileAndSerialization) {
  auto net = MakeBertNetwork(SmallBert());
  ASSERT_TRUE(net.ok()) << net.status().ToString();
  BuilderConfig config;
  config.profiles.push_back(Profile("x", {1, 1, 32}, {2, 16, 32}, {4, 48, 32}));
  auto engine = BuildOrDie(*net, config);
  ASSERT_TRUE(engine);
  auto bytes = engine->Serialize();
  ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
  auto loaded = Engine::Deserialize(bytes->data(), bytes->size(), "bert.engine");
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  auto ctx = engine->CreateContext().value();
  auto ctx2 = (*loaded)->CreateContext().value();
  // Shapes change per call, within the profile; the same context runs them all.
  for (Dims dims : {Dims{2, 16, 32}, Dims{1, 1, 32}, Dims{4, 48, 32}, Dims{3, 7, 32}}) {
    Tensor x = RandomInput(dims, dims[1]);
    auto got = RunEngine(*engine, *ctx, x);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    EXPECT_TRUE(CloseToReference(*got, Reference(*net, "x", x))) << DimsToString(dims);
    auto got2 = RunEngine(**loaded, *ctx2, x);
    ASSERT_TRUE(got2.ok()) << got2.status().ToString();
    EXPECT_TRUE(BitEqual(*got, *got2)) << "loaded engine differs at " << DimsToString(dims);
  }
}

TEST(EngineRuntime, OutOfProfileShapeIsRefusedWithBounds) {
  auto net = MakeBertNetwork(SmallBert());
  ASSERT_TRUE(net.ok());
  BuilderConfig config;
  config.profiles.push_back(Profile("x", {1, 1, 32}, {2, 16, 32}, {4, 48, 32}));
  auto engine = BuildOrDie(*net, config);
  auto ctx = engine->CreateContext().value();
  Status s = ctx->SetInputShape("x", {5, 16, 32});
  EXPECT_EQ(s.code(), StatusCode::kOutOfRange);
  EXPECT_NE(s.message().find("input \"x\": shape [5,16,32] is outside optimization profile 0 "
                             "(min [1,1,32], max [4,48,32]): dimension 0 is 5, allowed 1..4"),
            std::string::npos)
      << s.message();
  EXPECT_EQ(ctx->SetInputShape("x", {2, 16}).code(), StatusCode::kOutOfRange);
  EXPECT_EQ(ctx->SetInputShape("y", {2, 16, 32}).code(), StatusCode::kNotFound);
  // Executing without a shape for the dynamic input names it.
  Status run = ctx->Execute();
  EXPECT_EQ(run.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(run.message().find("\"x\""), std::string::npos) << run.message();
}

TEST(EngineRuntime, SeveralProfilesEachWithTheirOwnBoundsAndArena) {
  auto net = MakeBertNetwork(SmallBert());
  ASSERT_TRUE(net.ok());
  BuilderConfig config;
  config.profiles.push_back(Profile("x", {1, 1, 32}, {1, 8, 32}, {1, 16, 32}));
  config.profiles.push_back(Profile("x", {8, 32, 32}, {8, 64, 32}, {8, 64, 32}));
  auto engine = BuildOrDie(*net, config);
  ASSERT_EQ(engine->num_profiles(), 2);
  EXPECT_LT(engine->GetMemoryPlan(0).arena_size, engine->GetMemoryPlan(1).arena_size);
  auto ctx = engine->CreateContext().value();
  EXPECT_EQ(ctx->SetInputShape("x", {8, 40, 32}).code(), StatusCode::kOutOfRange);
  ASSERT_TRUE(ctx->SetOptimizationProfile(1).ok());
  Tensor x = RandomInput({8, 40, 32}, 7);
  auto got = RunEngine(*engine, *ctx, x);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_TRUE(CloseToReference(*got, Reference(*net, "x", x)));
  EXPECT_EQ(ctx->SetOptimizationProfile(2).code(), StatusCode::kOutOfRange);
}

TEST(EngineRuntime, DynamicInputWithoutProfileFailsAtBuild) {
  auto net = MakeBertNetwork(SmallBert());
  ASSERT_TRUE(net.ok());
  auto engine = Builder::Build(*net, BuilderConfig());
  ASSERT_FALSE(engine.ok());
  EXPECT_NE(engine.status().message().find("input \"x\" has dynamic shape"), std::string::npos)
      << engine.status().message();
}

TEST(EngineRuntime, EightContextsOnEightThreadsMatchOneContext) {
  auto net = MakeBertNetwork(SmallBert());
  ASSERT_TRUE(net.ok());
  BuilderConfig config;
  config.profiles.push_back(Profile("x", {1, 1, 32}, {2, 16, 32}, {4, 32, 32}));
  auto engine = BuildOrDie(*net, config);
  constexpr int kThreads = 8;
  std::vector<Tensor> inputs, expected;
  auto single = engine->CreateContext().value();
  for (int i = 0; i < kThreads; ++i) {
    inputs.push_back(RandomInput({1 + i % 4, 8 + 3 * i, 32}, 100 + i));
    expected.push_back(RunEngine(*engine, *single, inputs.back()).value());
  }
  std::vector<Tensor> got(kThreads);
  std::vector<std::string> errors(kThreads);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      auto ctx = engine->CreateContext().value();
      for (int rep = 0; rep < 3; ++rep) {  // repeat so runs overlap
        auto r = RunEngine(*engine, *ctx, inputs[(i + rep) % kThreads]);
        if (!r.ok()) {
          errors[i] = r.status().ToString();
          return;
        }
        if (!BitEqual(*r, expected[(i + rep) % kThreads])) errors[i] = "mismatch";
      }
    });
  }
  for (auto& t : threads) t.join();
  for (int i = 0; i < kThreads; ++i) EXPECT_EQ(errors[i], "") << "thread " << i;
}

TEST(EngineRuntime, BertBaseArenaIsAtMostFortyPercentOfNaive) {
  auto net = MakeBertNetwork(BertShape{});
  ASSERT_TRUE(net.ok()) << net.status().ToString();
  BuilderConfig config;
  config.profiles.push_back(Profile("x", {1, 1, 768}, {1, 128, 768}, {1, 128, 768}));
  auto engine = BuildOrDie(*net, config);
  ASSERT_TRUE(engine);
  MemoryPlanInfo m = engine->GetMemoryPlan(0);
  EXPECT_GT(m.naive_size, 0u);
  EXPECT_LE(m.arena_size * 100, m.naive_size * 40)
      << "arena " << m.arena_size << " naive " << m.naive_size;
  // The largest activation ([1,128,3072] f32) must fit: the arena is not trivially small.
  EXPECT_GE(m.arena_size, uint64_t{128} * 3072 * 4);
  // `fusionrt inspect` prints the same figures from the saved engine.
  testing_util::TempDir dir;
  std::string path = (dir.path() / "bert_base.engine").string();
  ASSERT_TRUE(engine->Save(path).ok());
  auto cli = testing_util::RunCli("inspect --engine " + path);
  EXPECT_EQ(cli.exit_code, 0) << cli.output;
  EXPECT_NE(cli.output.find(StrCat("arena ", m.arena_size, " bytes, naive sum ", m.naive_size,
                                   " bytes")),
            std::string::npos)
      << cli.output.substr(cli.output.size() > 400 ? cli.output.size() - 400 : 0);
  std::cout << "BERT-base b1 s128: arena " << m.arena_size << " bytes, naive " << m.naive_size
            << " bytes (" << 100.0 * m.arena_size / m.naive_size << "%)\n";
}

TEST(EngineRuntime, UserArenaAndCallerOutputBuffers) {
  auto net = MakeBertNetwork(SmallBert());
  ASSERT_TRUE(net.ok());
  BuilderConfig config;
  config.profiles.push_back(Profile("x", {1, 1, 32}, {2, 16, 32}, {2, 16, 32}));
  auto engine = BuildOrDie(*net, config);
  auto ctx = engine->CreateContext().value();
  uint64_t need = engine->GetMemoryPlan(0).arena_size;
  std::vector<std::byte> small(need / 2 + 256), enough(need + 256);
  auto aligned = [](std::vector<std::byte>& v) {
    auto p = reinterpret_cast<uintptr_t>(v.data());
    return reinterpret_cast<void*>((p + 255) / 256 * 256);
  };
  Tensor x = RandomInput({2, 16, 32}, 3);
  std::string out = engine->io_tensors()[1].name;
  ASSERT_TRUE(ctx->SetInputShape("x", x.dims()).ok());
  ASSERT_TRUE(ctx->SetTensorAddress("x", x.raw(), x.nbytes()).ok());
  std::vector<float> y(2 * 16 * 32, -7.0f);
  // Too small an output buffer is refused before anything is written past it.
  ASSERT_TRUE(ctx->SetTensorAddress(out, y.data(), 100).ok());
  EXPECT_EQ(ctx->Execute().code(), StatusCode::kInvalidArgument);
  ASSERT_TRUE(ctx->SetTensorAddress(out, y.data(), y.size() * 4).ok());
  ASSERT_TRUE(ctx->SetArena(aligned(small), need / 2).ok());
  Status s = ctx->Execute();
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("needs"), std::string::npos) << s.message();
  ASSERT_TRUE(ctx->SetArena(aligned(enough), need).ok());
  ASSERT_TRUE(ctx->Execute().ok());
  Tensor want = Reference(*net, "x", x);
  EXPECT_TRUE(CloseToReference(Tensor::View(DType::kFloat32, want.dims(), y.data()), want));
  EXPECT_EQ(ctx->GetTensorAddress(out), y.data());
  // Misaligned arena, misaligned and null addresses, overlapping buffers.
  EXPECT_EQ(ctx->SetArena(static_cast<std::byte*>(aligned(enough)) + 8, need).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(ctx->SetTensorAddress("x", reinterpret_cast<std::byte*>(x.raw()) + 1).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(ctx->SetTensorAddress("x", nullptr).code(), StatusCode::kInvalidArgument);
  ASSERT_TRUE(ctx->SetTensorAddress(out, x.raw(), x.nbytes()).ok());
  Status overlap = ctx->Execute();
  EXPECT_EQ(overlap.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(overlap.message().find("overlap"), std::string::npos) << overlap.message();
}

TEST(EngineRuntime, TinyTransformerModelRoundTrip) {
  auto net = ParseOnnxFile(std::string(FRT_SOURCE_DIR) + "/models/tiny_transformer.onnx");
  ASSERT_TRUE(net.ok()) << net.status().ToString();
  BuilderConfig config;
  config.profiles.push_back(Profile("x", {1, 1, 64}, {2, 16, 64}, {4, 64, 64}));
  auto engine = BuildOrDie(*net, config);
  ASSERT_TRUE(engine);
  auto bytes = engine->Serialize().value();
  auto loaded = Engine::Deserialize(bytes.data(), bytes.size()).value();
  auto ctx = engine->CreateContext().value();
  auto ctx2 = loaded->CreateContext().value();
  Tensor x = RandomInput({3, 20, 64}, 11);
  Tensor a = RunEngine(*engine, *ctx, x).value();
  Tensor b = RunEngine(*loaded, *ctx2, x).value();
  EXPECT_TRUE(BitEqual(a, b));
  EXPECT_TRUE(CloseToReference(a, Reference(*net, "x", x)));
}

}  // namespace
}  // namespace frt
