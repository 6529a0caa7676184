// Tests of the CUDA tensor family, part 2 (part 1: tensor_test.cc): Gather,
// GatherElements, Tile, Pad, ConstantOfShape, Range, Shape, Size, Trilu and
// Resize against the CPU reference executor, plus a disabled bandwidth
// benchmark. All GPU tests skip without a device. Data movement compares with
// tolerance 0; Resize linear interpolates in fp32 where the reference uses
// double, so it gets fp32 / fp16 / bf16 rounding tolerances.
#include <gtest/gtest.h>

#include <cstring>
#include <limits>
#include <numeric>
#include <random>

#include "backends/cuda/tensor_test_util.h"
#include "backends/cuda/tensor_util.h"
#include "ir/shape_inference.h"

namespace frt {
namespace {

using namespace cuda_tensor_test;  // NOLINT(build/namespaces): the family's test helpers

void CheckGather(DType data_dtype, DType idx_dtype, const Dims& data_dims, const Dims& idx_dims,
                 int64_t axis, bool const_data = false) {
  SCOPED_TRACE(StrCat(DTypeName(data_dtype), DimsToString(data_dims), " idx ", DTypeName(idx_dtype),
                      DimsToString(idx_dims), " axis ", axis));
  Graph g;
  std::map<std::string, Tensor> inputs;
  Tensor data = RandomData(data_dtype, data_dims, Rng());
  Value* d = nullptr;
  if (const_data) {
    d = g.AddValue("data").value();
    d->dtype = data_dtype;
    d->shape = Shape::FromDims(data_dims);
    d->constant = data;
  } else {
    d = In(g, "data", data_dtype, data_dims);
    inputs["data"] = data;
  }
  const int64_t a = axis < 0 ? axis + static_cast<int64_t>(data_dims.size()) : axis;
  Value* i = In(g, "idx", idx_dtype, idx_dims);
  inputs["idx"] = RandomIndices(idx_dtype, idx_dims, data_dims[a], Rng());
  AddOp(g, OpKind::kGather, "y", {d, i})->attrs.Set("axis", axis);
  Check(g, inputs, "cuda.tensor.gather");
}

TEST(CudaTensorGather, AxesIndicesAndNegativeIndices) {
  FRT_SKIP_WITHOUT_GPU();
  CheckGather(DType::kFloat32, DType::kInt32, {1000, 1024}, {4, 37},
              0);  // embedding rows
  CheckGather(DType::kFloat32, DType::kInt64, {4096, 1024}, {2, 384}, 0,
              true);  // const table
  CheckGather(DType::kFloat16, DType::kInt64, {517, 96}, {3, 11}, 0);
  CheckGather(DType::kFloat16, DType::kInt32, {50, 7}, {19}, 0);  // 14-byte rows
  CheckGather(DType::kInt64, DType::kInt64, {5, 9, 6}, {2, 4}, 1);
  CheckGather(DType::kFloat32, DType::kInt32, {3, 4, 13}, {5}, -1);  // last axis
  CheckGather(DType::kInt64, DType::kInt32, {7}, {3, 3}, 0);         // rank 1 data
  CheckGather(DType::kFloat32, DType::kInt64, {2, 3, 4, 5, 6}, {},
              2);  // scalar index
}

TEST(CudaTensorGather, OutOfRangeIndicesGiveZeros) {
  FRT_SKIP_WITHOUT_GPU();
  for (int64_t h : {int64_t{64}, int64_t{3}}) {  // row kernel and flat kernel
    Graph g;
    Value* d = In(g, "data", DType::kFloat32, {10, h});
    Value* i = In(g, "idx", DType::kInt64, {6});
    AddOp(g, OpKind::kGather, "y", {d, i});
    Tensor data = RandomData(DType::kFloat32, {10, h}, Rng());
    Tensor idx = Tensor::FromVector<int64_t>({3, 10, -1, -11, 1000000, -7}, {6});
    gpu_test::GpuOptions options;
    options.optimization_level = 0;
    auto run = gpu_test::RunOnGpu(g, {{"data", data}, {"idx", idx}}, options);
    ASSERT_TRUE(run.ok()) << run.status().ToString();
    const Tensor& y = run->outputs[0];
    const int64_t want_row[] = {3, -1, 9, -1, -1, 3};  // -1: out of range, zeros
    for (int64_t r = 0; r < 6; ++r) {
      for (int64_t c = 0; c < h; ++c) {
        float want = want_row[r] < 0 ? 0.0f : data.data<float>()[want_row[r] * h + c];
        ASSERT_EQ(y.data<float>()[r * h + c], want) << "row " << r << " col " << c;
      }
    }
  }
}

TEST(CudaTensorGatherElements, AxesAndNegativeIndices) {
  FRT_SKIP_WITHOUT_GPU();
  for (int64_t axis : {int64_t{0}, int64_t{1}, int64_t{-1}}) {
    for (DType dt : {DType::kFloat32, DType::kInt64}) {
      Graph g;
      const Dims dims = {4, 5, 6}, idx_dims = {3, 4, 6};
      Value* d = In(g, "data", dt, dims);
      Value* i = In(g, "idx", DType::kInt64, idx_dims);
      AddOp(g, OpKind::kGatherElements, "y", {d, i})->attrs.Set("axis", axis);
      const int64_t a = axis < 0 ? axis + 3 : axis;
      Check(g,
            {{"data", RandomData(dt, dims, Rng())},
             {"idx", RandomIndices(DType::kInt64, idx_dims, dims[a], Rng())}},
            "cuda.tensor.gather_elements");
    }
  }
}

TEST(CudaTensorTile, Repeats) {
  FRT_SKIP_WITHOUT_GPU();
  for (DType dt : {DType::kFloat32, DType::kFloat16, DType::kInt64}) {
    CheckUnary(
        OpKind::kTile, dt, {3, 5},
        [](Graph& g) {
          return std::vector<Value*>{Ints(g, "r", {2, 3})};
        },
        {}, "cuda.tensor.tile");
    CheckUnary(
        OpKind::kTile, dt, {2, 3, 8},
        [](Graph& g) {
          return std::vector<Value*>{Ints(g, "r", {1, 2, 2})};
        },
        {}, "cuda.tensor.tile");
    CheckUnary(
        OpKind::kTile, dt, {7}, [](Graph& g) { return std::vector<Value*>{Ints(g, "r", {4})}; }, {},
        "cuda.tensor.tile");
  }
}

TEST(CudaTensorPad, ModesAndNegativePads) {
  FRT_SKIP_WITHOUT_GPU();
  for (DType dt : {DType::kFloat32, DType::kFloat16}) {
    for (const char* mode : {"constant", "reflect", "edge", "wrap"}) {
      SCOPED_TRACE(StrCat(DTypeName(dt), " ", mode));
      Graph g;
      Tensor value = RandomData(dt, {}, Rng());
      Value* cv = g.AddValue("cv").value();
      cv->dtype = dt;
      cv->shape = Shape::FromDims({});
      cv->constant = value;
      AddOp(g, OpKind::kPad, "y",
            {In(g, "x", dt, {2, 3, 5, 7}), Ints(g, "pads", {0, 1, 2, 3, 0, 0, 4, -2}), cv})
          ->attrs.Set("mode", std::string(mode));
      Check(g, {{"x", RandomData(dt, {2, 3, 5, 7}, Rng())}}, "cuda.tensor.pad");
    }
    {  // axes input, default zero value, rank 1 and 3
      Graph g;
      AddOp(g, OpKind::kPad, "y",
            {In(g, "x", dt, {4, 6, 9}), Ints(g, "pads", {3, 1, -1, 2}), nullptr,
             Ints(g, "axes", {-1, 0})});
      Check(g, {{"x", RandomData(dt, {4, 6, 9}, Rng())}}, "cuda.tensor.pad");
    }
  }
}

TEST(CudaTensorConstantOfShape, Values) {
  FRT_SKIP_WITHOUT_GPU();
  // An undefined tensor: the attribute is absent (float zeros).
  std::vector<Tensor> values = {Tensor(), Tensor::FromVector<float>({2.5f}, {1}),
                                Tensor::FromVector<int64_t>({-7}, {1}),
                                Tensor::FromVector<Float16>({Float16::FromFloat(-3.25f)}, {1}),
                                Tensor::FromVector<int32_t>({0}, {1})};
  for (const Tensor& v : values) {
    Graph g;
    Node* n = AddOp(g, OpKind::kConstantOfShape, "y", {Ints(g, "shape", {3, 4, 37})});
    if (v.defined()) n->attrs.Set("value", v);
    Check(g, {}, "cuda.tensor.constant_of_shape");
  }
}

TEST(CudaTensorRange, FloatAndInt) {
  FRT_SKIP_WITHOUT_GPU();
  {
    Graph g;
    AddOp(g, OpKind::kRange, "y",
          {ConstT<float>(g, "s", {0.5f}, {}), ConstT<float>(g, "l", {100.f}, {}),
           ConstT<float>(g, "d", {0.3f}, {})});
    Check(g, {}, "cuda.tensor.range");
  }
  {
    Graph g;
    AddOp(g, OpKind::kRange, "y",
          {ConstT<int64_t>(g, "s", {-5}, {}), ConstT<int64_t>(g, "l", {2000}, {}),
           ConstT<int64_t>(g, "d", {3}, {})});
    Check(g, {}, "cuda.tensor.range");
  }
  {
    Graph g;
    AddOp(g, OpKind::kRange, "y",
          {ConstT<int32_t>(g, "s", {10}, {}), ConstT<int32_t>(g, "l", {-7}, {}),
           ConstT<int32_t>(g, "d", {-2}, {})});
    Check(g, {}, "cuda.tensor.range");
  }
}

TEST(CudaTensorShapeSize, WritesDims) {
  FRT_SKIP_WITHOUT_GPU();
  for (int64_t start : {int64_t{0}, int64_t{1}, int64_t{-2}}) {
    Graph g;
    AddOp(g, OpKind::kShape, "y", {In(g, "x", DType::kFloat16, {3, 4, 5, 6, 7})})
        ->attrs.Set("start", start);
    Check(g, {{"x", RandomData(DType::kFloat16, {3, 4, 5, 6, 7}, Rng())}}, "cuda.tensor.shape");
  }
  {
    Graph g;
    AddOp(g, OpKind::kSize, "y", {In(g, "x", DType::kFloat32, {3, 4, 5})});
    Check(g, {{"x", RandomData(DType::kFloat32, {3, 4, 5}, Rng())}}, "cuda.tensor.size");
  }
}

TEST(CudaTensorTrilu, UpperLowerAndK) {
  FRT_SKIP_WITHOUT_GPU();
  for (DType dt : {DType::kFloat32, DType::kInt64}) {
    for (int64_t upper : {int64_t{0}, int64_t{1}}) {
      for (int64_t k : {int64_t{-2}, int64_t{0}, int64_t{1}, int64_t{100}}) {
        SCOPED_TRACE(StrCat(DTypeName(dt), " upper ", upper, " k ", k));
        Graph g;
        AddOp(g, OpKind::kTrilu, "y", {In(g, "x", dt, {2, 5, 7}), ConstT<int64_t>(g, "k", {k}, {})})
            ->attrs.Set("upper", upper);
        Check(g, {{"x", RandomData(dt, {2, 5, 7}, Rng())}}, "cuda.tensor.trilu");
      }
    }
  }
}

struct ResizeCase {
  const char* mode;
  const char* coord;
  const char* nearest;  // nearest_mode
  Dims in;
  std::vector<float> scales;  // empty: use sizes
  std::vector<int64_t> sizes;
};

void CheckResize(DType dt, const ResizeCase& c, double tol) {
  SCOPED_TRACE(
      StrCat(DTypeName(dt), " ", c.mode, " ", c.coord, " ", c.nearest, " ", DimsToString(c.in)));
  Graph g;
  std::vector<Value*> ins = {In(g, "x", dt, c.in), nullptr};
  if (!c.scales.empty()) {
    ins.push_back(ConstT<float>(g, "scales", c.scales, {4}));
  } else {
    ins.push_back(nullptr);
    ins.push_back(Ints(g, "sizes", c.sizes));
  }
  Node* n = AddOp(g, OpKind::kResize, "y", ins);
  n->attrs.Set("mode", std::string(c.mode));
  n->attrs.Set("coordinate_transformation_mode", std::string(c.coord));
  n->attrs.Set("nearest_mode", std::string(c.nearest));
  Check(g, {{"x", RandomData(dt, c.in, Rng())}}, "cuda.tensor.resize", tol);
}

TEST(CudaTensorResize, NearestAndLinear) {
  FRT_SKIP_WITHOUT_GPU();
  const ResizeCase nearest[] = {
      {"nearest", "half_pixel", "round_prefer_floor", {1, 3, 7, 9}, {1, 1, 2, 2}, {}},
      {"nearest", "asymmetric", "floor", {2, 2, 5, 6}, {1, 1, 2, 2}, {}},
      {"nearest", "asymmetric", "round_prefer_ceil", {1, 2, 5, 6}, {1, 1, 1.7f, 2.5f}, {}},
      {"nearest", "align_corners", "round_prefer_floor", {1, 2, 5, 6}, {}, {1, 2, 9, 13}},
      {"nearest", "pytorch_half_pixel", "ceil", {1, 4, 8, 8}, {1, 1, 0.6f, 1.3f}, {}},
      {"nearest", "tf_half_pixel_for_nn", "round_prefer_floor", {1, 1, 6, 7}, {1, 1, 3, 3}, {}},
      {"nearest", "half_pixel", "round_prefer_floor", {2, 64, 40, 40}, {1, 1, 2, 2}, {}},
  };
  const ResizeCase linear[] = {
      {"linear", "half_pixel", "round_prefer_floor", {1, 3, 7, 9}, {1, 1, 2, 2}, {}},
      {"linear", "align_corners", "round_prefer_floor", {1, 2, 5, 6}, {}, {1, 2, 13, 20}},
      {"linear", "asymmetric", "round_prefer_floor", {2, 3, 5, 6}, {1, 1, 1.7f, 1.7f}, {}},
      {"linear", "pytorch_half_pixel", "round_prefer_floor", {1, 3, 9, 10}, {1, 1, 0.6f, 1.5f}, {}},
      {"linear", "half_pixel", "round_prefer_floor", {1, 3, 1, 9}, {1, 1, 1, 2}, {}},  // H kept
      {"linear", "half_pixel", "round_prefer_floor", {2, 64, 40, 40}, {1, 1, 2, 2}, {}},
  };
  for (const ResizeCase& c : nearest) {
    for (DType dt : {DType::kFloat32, DType::kFloat16, DType::kBFloat16}) {
      CheckResize(dt, c, 0.0);  // nearest copies elements: exact
    }
  }
  for (const ResizeCase& c : linear) {
    // fp32 accumulation vs the reference's double: a few ulp of fp32.
    CheckResize(DType::kFloat32, c, 1e-6);
    // One output rounding in f16 (2^-11) / bf16 (2^-8) may land one ulp apart.
    CheckResize(DType::kFloat16, c, 1e-3);
    CheckResize(DType::kBFloat16, c, 1e-2);
  }
}

// ---------------------------------------------------------------- GPU: bandwidth

// Effective bandwidth (bytes read + written per second) of some kernels at
// model sizes, next to a plain device-to-device copy. Not a correctness
// test: run with --gtest_also_run_disabled_tests --gtest_filter='CudaTensorBench*'.
TEST(CudaTensorBench, DISABLED_Bandwidth) {
  FRT_SKIP_WITHOUT_GPU();
  struct Case {
    const char* label;
    OpKind op;
    std::vector<std::pair<DType, Dims>> ins;  // device inputs (random bytes)
    Dims out;
    Attributes attrs;
  };
  auto perm = [](std::vector<int64_t> p) {
    Attributes a;
    a.Set("perm", p);
    return a;
  };
  auto axis = [](int64_t v) {
    Attributes a;
    a.Set("axis", v);
    return a;
  };
  std::vector<Case> cases = {
      {"transpose f16 [8,384,16,64] perm 0213",
       OpKind::kTranspose,
       {{DType::kFloat16, {8, 384, 16, 64}}},
       {8, 16, 384, 64},
       perm({0, 2, 1, 3})},
      {"transpose f16 [8,16,384,64] perm 0132",
       OpKind::kTranspose,
       {{DType::kFloat16, {8, 16, 384, 64}}},
       {8, 16, 64, 384},
       perm({0, 1, 3, 2})},
      {"transpose f32 [4096,4096] perm 10",
       OpKind::kTranspose,
       {{DType::kFloat32, {4096, 4096}}},
       {4096, 4096},
       perm({1, 0})},
      {"gather f16 [30522,1024] x 3072 rows",
       OpKind::kGather,
       {{DType::kFloat16, {30522, 1024}}, {DType::kInt64, {8, 384}}},
       {8, 384, 1024},
       axis(0)},
      {"concat f16 2 x [8,384,1024] axis 2",
       OpKind::kConcat,
       {{DType::kFloat16, {8, 384, 1024}}, {DType::kFloat16, {8, 384, 1024}}},
       {8, 384, 2048},
       axis(2)},
  };
  cudaStream_t stream;
  ASSERT_EQ(cudaStreamCreate(&stream), cudaSuccess);
  CudaResources res;
  res.sm_count = CudaSmCount();
  auto ws = DeviceBuffer::Allocate(32 << 20, "ws");
  ASSERT_TRUE(ws.ok());
  res.workspace = ws->data();
  res.workspace_size = ws->size();
  cudaEvent_t e0, e1;
  cudaEventCreate(&e0);
  cudaEventCreate(&e1);
  for (const Case& c : cases) {
    Graph g;
    Node* node = g.AddNode(c.op, "bench");
    node->attrs = c.attrs;
    std::vector<DeviceBuffer> bufs;
    std::vector<DeviceTensor> ins;
    size_t bytes = 0;
    for (const auto& [dt, dims] : c.ins) {
      DeviceTensor t{dt, dims, nullptr, nullptr};
      auto b = DeviceBuffer::Allocate(t.nbytes(), "in");
      ASSERT_TRUE(b.ok());
      // Indices must be valid: zero bytes are index 0 (reads row 0 repeatedly,
      // still every output byte is written).
      cudaMemset(b->data(), 0, t.nbytes());
      t.data = b->data();
      bytes += dt == DType::kInt64 ? 0 : t.nbytes();
      bufs.push_back(std::move(*b));
      ins.push_back(t);
    }
    const DType odt = c.ins[0].first;
    std::vector<DeviceTensor> outs = {DeviceTensor{odt, c.out, nullptr, nullptr}};
    auto ob = DeviceBuffer::Allocate(outs[0].nbytes(), "out");
    ASSERT_TRUE(ob.ok());
    outs[0].data = ob->data();
    if (c.op == OpKind::kGather) bytes = outs[0].nbytes();  // rows read == rows written
    bytes += outs[0].nbytes();
    std::vector<uint8_t> blob;
    std::shared_ptr<void> state;
    const CudaKernel* k = CudaKernelRegistry::Global().ForOp(c.op)[0];
    CudaKernelContext ctx(*node, ins, outs, stream, res, blob, state);
    ASSERT_TRUE(k->run(ctx).ok());
    const int iters = 50;
    cudaEventRecord(e0, stream);
    for (int i = 0; i < iters; ++i) ASSERT_TRUE(k->run(ctx).ok());
    cudaEventRecord(e1, stream);
    cudaEventSynchronize(e1);
    float ms = 0;
    cudaEventElapsedTime(&ms, e0, e1);
    const double us = 1e3 * ms / iters;
    // Reference: cudaMemcpyAsync of the output's size.
    cudaEventRecord(e0, stream);
    for (int i = 0; i < iters; ++i) {
      cudaMemcpyAsync(outs[0].data, ins[0].data, outs[0].nbytes() / 2, cudaMemcpyDeviceToDevice,
                      stream);
    }
    cudaEventRecord(e1, stream);
    cudaEventSynchronize(e1);
    float ms_copy = 0;
    cudaEventElapsedTime(&ms_copy, e0, e1);
    std::printf("%-40s %8.1f us  %7.1f GB/s  (memcpy of half the output: %7.1f GB/s)\n", c.label,
                us, bytes / us * 1e-3, outs[0].nbytes() / (1e3 * ms_copy / iters) * 1e-3);
  }
  cudaEventDestroy(e0);
  cudaEventDestroy(e1);
  cudaStreamDestroy(stream);
}

}  // namespace
}  // namespace frt
