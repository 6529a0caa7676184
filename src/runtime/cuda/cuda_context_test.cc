// The CUDA execution context: placement of outputs (caller buffers, context
// buffers), pass-through and constant outputs, binding errors, user streams,
// engine files and concurrent contexts. Kernels themselves are tested by
// their families' conformance tests. GPU tests skip without a device; the
// no-GPU build error is tested where there is none.
#include <gtest/gtest.h>

#include <thread>

#include "backends/cuda/gpu_test_util.h"
#include "passes/pass_test_util.h"
#include "runtime/cuda/cuda_context.h"

namespace frt {
namespace {

using gpu_test::RandomTensor;
using gpu_test::RelativeError;

// y = Relu(x + b), plus x itself and the constant b as outputs.
std::unique_ptr<Graph> AddReluGraph(int64_t n) {
  auto g = std::make_unique<Graph>();
  Value* x = Input(*g, "x", {2, n});
  Value* b = Const(*g, "b", RandomData(static_cast<size_t>(n), 7));
  Value* s = Op(*g, OpKind::kAdd, "s", {x, b});
  Value* y = Op(*g, OpKind::kRelu, "y", {s});
  g->AddOutput(y);
  g->AddOutput(x);
  g->AddOutput(b);
  EXPECT_TRUE(InferGraphShapes(*g).ok());
  return g;
}

Result<std::shared_ptr<Engine>> BuildCuda(const Graph& g, int level = 3) {
  FRT_ASSIGN_OR_RETURN(std::unique_ptr<Graph> copy, CloneGraph(g));
  NetworkDefinition net = NetworkDefinition::FromGraph(std::move(copy));
  BuilderConfig config;
  config.device = DeviceKind::kCuda;
  config.optimization_level = level;
  return Builder::Build(net, config);
}

TEST(CudaBuild, RefusedWithoutAGpu) {
  if (CudaDeviceAvailable()) GTEST_SKIP() << "a GPU is visible";
  auto g = AddReluGraph(5);
  auto engine = BuildCuda(*g);
  ASSERT_FALSE(engine.ok());
  EXPECT_EQ(engine.status().code(), StatusCode::kUnsupported);
  EXPECT_NE(engine.status().message().find("no CUDA device"), std::string::npos)
      << engine.status().ToString();
}

TEST(CudaContext, MatchesReferenceWithPassThroughAndConstantOutputs) {
  FRT_SKIP_WITHOUT_GPU();
  auto g = AddReluGraph(1000);
  Tensor x = RandomTensor(DType::kFloat32, {2, 1000}, 1);
  auto run = gpu_test::ExpectMatchesReference(*g, {{"x", x}}, 0.0);
  ASSERT_EQ(run.outputs.size(), 3u);
  for (const LayerInfo& l : run.layers) EXPECT_EQ(l.tactic.rfind("cuda.", 0), 0u) << l.name;
}

TEST(CudaContext, AllocatesUnboundOutputsAndRefusesSmallBuffers) {
  FRT_SKIP_WITHOUT_GPU();
  auto g = AddReluGraph(64);
  auto engine = BuildCuda(*g);
  ASSERT_TRUE(engine.ok()) << engine.status().ToString();
  EXPECT_EQ((*engine)->backend(), "cuda");
  auto ctx = (*engine)->CreateContext();
  ASSERT_TRUE(ctx.ok()) << ctx.status().ToString();
  Tensor x = RandomTensor(DType::kFloat32, {2, 64}, 2);
  auto xd = DeviceBuffer::Allocate(x.nbytes(), "x").value();
  ASSERT_EQ(cudaMemcpy(xd.data(), x.raw(), x.nbytes(), cudaMemcpyHostToDevice), cudaSuccess);

  Status missing = (*ctx)->Execute();
  EXPECT_EQ(missing.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(missing.message().find("\"x\""), std::string::npos) << missing.ToString();

  ASSERT_TRUE((*ctx)->SetTensorAddress("x", xd.data(), x.nbytes()).ok());
  auto small = DeviceBuffer::Allocate(64, "y").value();
  ASSERT_TRUE((*ctx)->SetTensorAddress("y", small.data(), 64).ok());
  Status too_small = (*ctx)->Execute();
  EXPECT_EQ(too_small.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(too_small.message().find("output \"y\""), std::string::npos) << too_small.ToString();

  // A fresh context: every output unbound, allocated by the context.
  auto ctx2 = (*engine)->CreateContext();
  ASSERT_TRUE(ctx2.ok());
  ASSERT_TRUE((*ctx2)->SetTensorAddress("x", xd.data(), x.nbytes()).ok());
  ASSERT_TRUE((*ctx2)->Execute().ok());
  auto ref = gpu_test::RunReference(*g, {{"x", x}}).value();
  const char* names[] = {"y", "x", "b"};
  for (int i = 0; i < 3; ++i) {
    const void* p = (*ctx2)->GetTensorAddress(names[i]);
    ASSERT_NE(p, nullptr) << names[i];
    Tensor host = Tensor::Allocate(DType::kFloat32, ref[i].dims()).value();
    ASSERT_EQ(cudaMemcpy(host.raw(), p, host.nbytes(), cudaMemcpyDeviceToHost), cudaSuccess);
    EXPECT_EQ(RelativeError(host, ref[i]), 0.0) << names[i];
  }
}

TEST(CudaContext, EnqueueOnACallerStreamAndEngineRoundTrip) {
  FRT_SKIP_WITHOUT_GPU();
  auto g = AddReluGraph(300);
  auto built = BuildCuda(*g);
  ASSERT_TRUE(built.ok()) << built.status().ToString();
  auto bytes = (*built)->Serialize();
  ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
  auto engine = Engine::Deserialize(bytes->data(), bytes->size(), "cuda.engine");
  ASSERT_TRUE(engine.ok()) << engine.status().ToString();
  EXPECT_NE((*engine)->description().find("sm_"), std::string::npos);
  Tensor x = RandomTensor(DType::kFloat32, {2, 300}, 3);
  auto xd = DeviceBuffer::Allocate(x.nbytes(), "x").value();
  auto yd = DeviceBuffer::Allocate(x.nbytes(), "y").value();
  ASSERT_EQ(cudaMemcpy(xd.data(), x.raw(), x.nbytes(), cudaMemcpyHostToDevice), cudaSuccess);
  cudaStream_t stream;
  ASSERT_EQ(cudaStreamCreate(&stream), cudaSuccess);
  auto ctx = (*engine)->CreateContext().value();
  ASSERT_TRUE(ctx->SetTensorAddress("x", xd.data(), x.nbytes()).ok());
  ASSERT_TRUE(ctx->SetTensorAddress("y", yd.data(), x.nbytes()).ok());
  ASSERT_TRUE(ctx->Enqueue(stream).ok());
  ASSERT_EQ(cudaStreamSynchronize(stream), cudaSuccess);
  cudaStreamDestroy(stream);
  Tensor y = Tensor::Allocate(DType::kFloat32, x.dims()).value();
  ASSERT_EQ(cudaMemcpy(y.raw(), yd.data(), y.nbytes(), cudaMemcpyDeviceToHost), cudaSuccess);
  auto ref = gpu_test::RunReference(*g, {{"x", x}}).value();
  EXPECT_EQ(RelativeError(y, ref[0]), 0.0);
}

TEST(CudaContext, ConcurrentContextsShareWeights) {
  FRT_SKIP_WITHOUT_GPU();
  auto g = AddReluGraph(4096);
  auto engine = BuildCuda(*g);
  ASSERT_TRUE(engine.ok()) << engine.status().ToString();
  auto ref_for = [&](const Tensor& x) { return gpu_test::RunReference(*g, {{"x", x}}).value()[0]; };
  std::vector<std::thread> threads;
  std::vector<double> errors(4, -1.0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      Tensor x = RandomTensor(DType::kFloat32, {2, 4096}, 10 + t);
      auto ctx = (*engine)->CreateContext();
      if (!ctx.ok()) return;
      auto xd = DeviceBuffer::Allocate(x.nbytes(), "x").value();
      auto yd = DeviceBuffer::Allocate(x.nbytes(), "y").value();
      cudaMemcpy(xd.data(), x.raw(), x.nbytes(), cudaMemcpyHostToDevice);
      if (!(*ctx)->SetTensorAddress("x", xd.data(), x.nbytes()).ok()) return;
      if (!(*ctx)->SetTensorAddress("y", yd.data(), x.nbytes()).ok()) return;
      double worst = 0;
      for (int i = 0; i < 20; ++i) {
        if (!(*ctx)->Execute().ok()) return;
        Tensor y = Tensor::Allocate(DType::kFloat32, x.dims()).value();
        cudaMemcpy(y.raw(), yd.data(), y.nbytes(), cudaMemcpyDeviceToHost);
        worst = std::max(worst, RelativeError(y, ref_for(x)));
      }
      errors[t] = worst;
    });
  }
  for (auto& t : threads) t.join();
  for (double e : errors) EXPECT_EQ(e, 0.0);
}

// Graph replays read the bound buffers' current contents; new addresses or shapes
// run eagerly (and are captured on their second run).
TEST(CudaContext, CudaGraphReplaysFollowDataAndRecaptureOnNewAddresses) {
  FRT_SKIP_WITHOUT_GPU();
  auto g = AddReluGraph(2048);
  auto engine = BuildCuda(*g);
  ASSERT_TRUE(engine.ok()) << engine.status().ToString();
  auto ctx = (*engine)->CreateContext().value();
  auto* cuda_ctx = dynamic_cast<CudaExecutionContext*>(ctx.get());
  ASSERT_NE(cuda_ctx, nullptr);
  ASSERT_TRUE(cuda_ctx->EnableCudaGraphs(true).ok());
  const size_t bytes = 2 * 2048 * sizeof(float);
  DeviceBuffer xs[2] = {DeviceBuffer::Allocate(bytes, "x0").value(),
                        DeviceBuffer::Allocate(bytes, "x1").value()};
  auto yd = DeviceBuffer::Allocate(bytes, "y").value();
  ASSERT_TRUE(ctx->SetTensorAddress("y", yd.data(), bytes).ok());
  for (int run = 0; run < 8; ++run) {
    SCOPED_TRACE(run);
    DeviceBuffer& xd = xs[run < 5 ? 0 : 1];  // runs 0-4: one address (eager, capture, replays)
    Tensor x = RandomTensor(DType::kFloat32, {2, 2048}, 100 + run);
    ASSERT_EQ(cudaMemcpy(xd.data(), x.raw(), bytes, cudaMemcpyHostToDevice), cudaSuccess);
    ASSERT_TRUE(ctx->SetTensorAddress("x", xd.data(), bytes).ok());
    ASSERT_EQ(cudaMemset(yd.data(), 0xFF, bytes), cudaSuccess);
    Status st = ctx->Execute();
    ASSERT_TRUE(st.ok()) << st.ToString();
    Tensor y = Tensor::Allocate(DType::kFloat32, x.dims()).value();
    ASSERT_EQ(cudaMemcpy(y.raw(), yd.data(), bytes, cudaMemcpyDeviceToHost), cudaSuccess);
    auto ref = gpu_test::RunReference(*g, {{"x", x}}).value();
    EXPECT_EQ(RelativeError(y, ref[0]), 0.0);
    EXPECT_EQ(ctx->GetTensorAddress("x"), xd.data());
  }
}

TEST(CudaBuild, UnsupportedNodeIsABuildErrorNamingIt) {
  FRT_SKIP_WITHOUT_GPU();
  auto g = std::make_unique<Graph>();
  Value* x = Input(*g, "x", {3, 4});
  Value* y = Op(*g, OpKind::kNonZero, "nz", {x});
  g->AddOutput(y);
  ASSERT_TRUE(InferGraphShapes(*g).ok());
  auto engine = BuildCuda(*g);
  ASSERT_FALSE(engine.ok());
  EXPECT_EQ(engine.status().code(), StatusCode::kUnsupported);
  EXPECT_NE(engine.status().message().find("nz_node"), std::string::npos)
      << engine.status().ToString();
}

}  // namespace
}  // namespace frt
