// Tests of the CUDA tensor family, part 1. CPU part (runs everywhere): the
// strided-copy planner (merging, vectorization) checked against a direct
// host emulation on random copies, and supports() decisions. GPU part (skips
// without a device): the ops on the strided-copy engine (reshape-likes,
// Transpose, Concat, Split, Slice, Expand, DepthToSpace/SpaceToDepth)
// against the CPU reference executor. Data movement is exact, so outputs
// compare with tolerance 0: any wrong, missing or poisoned (NaN) element
// fails. Part 2 is tensor_ops_test.cc.
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
using cuda_tensor::StridedCopy;

// ---------------------------------------------------------------- CPU: planner

// Executes a StridedCopy on the host, byte by byte.
void EmulateCopy(const StridedCopy& c, const std::vector<uint8_t>& in, std::vector<uint8_t>& out) {
  int64_t total = cuda_tensor::Product(c.dims, 0, c.dims.size());
  for (int64_t i = 0; i < total; ++i) {
    int64_t rem = i, in_off = c.in_base, out_off = c.out_base;
    for (size_t d = c.dims.size(); d-- > 0;) {
      int64_t idx = rem % c.dims[d];
      rem /= c.dims[d];
      in_off += idx * c.in_strides[d];
      out_off += idx * c.out_strides[d];
    }
    std::memcpy(&out[static_cast<size_t>(out_off * c.elem_size)],
                &in[static_cast<size_t>(in_off * c.elem_size)], static_cast<size_t>(c.elem_size));
  }
}

// The planned copy (simplified, then in the widest unit for 256-aligned
// buffers) must move exactly the bytes of the original description.
void ExpectPlanEquivalent(const StridedCopy& c, size_t in_bytes, size_t out_bytes,
                          std::mt19937& rng) {
  std::vector<uint8_t> in(in_bytes), want(out_bytes, 0xAB), got(out_bytes, 0xAB);
  for (auto& b : in) b = static_cast<uint8_t>(rng());
  EmulateCopy(c, in, want);
  StridedCopy s = cuda_tensor::SimplifyCopy(c);
  StridedCopy u = cuda_tensor::ToUnits(s, cuda_tensor::ChooseUnitBytes(s, 256, 512));
  EmulateCopy(u, in, got);
  EXPECT_EQ(want, got) << "dims " << DimsToString(c.dims) << " -> " << DimsToString(u.dims)
                       << " unit " << u.elem_size;
}

TEST(CudaTensorPlan, SimplifyMergesContiguousAndDropsOnes) {
  // A dense copy of [2,3,4] is one run of 24.
  StridedCopy c;
  c.dims = {2, 3, 4};
  c.in_strides = c.out_strides = cuda_tensor::DenseStrides(c.dims);
  c.elem_size = 4;
  StridedCopy s = cuda_tensor::SimplifyCopy(c);
  EXPECT_EQ(s.dims, (Dims{24}));
  EXPECT_EQ(s.in_strides, (Dims{1}));
  // [B,S,H,D] -> [B,H,S,D] keeps 4 dims (nothing is contiguous on both sides),
  // except size 1.
  StridedCopy t = cuda_tensor::PermuteCopy({1, 5, 3, 8}, {0, 2, 1, 3}, 2);
  s = cuda_tensor::SimplifyCopy(t);
  EXPECT_EQ(s.dims, (Dims{3, 5, 8}));
  EXPECT_EQ(s.in_strides, (Dims{8, 24, 1}));
  EXPECT_EQ(cuda_tensor::ChooseUnitBytes(s, 0, 0), 16);  // 8 halves per row
  // Broadcast dims (stride 0) merge with each other.
  StridedCopy e;
  e.dims = {4, 6, 10};
  e.in_strides = {0, 0, 1};
  e.out_strides = cuda_tensor::DenseStrides(e.dims);
  e.elem_size = 4;
  s = cuda_tensor::SimplifyCopy(e);
  EXPECT_EQ(s.dims, (Dims{24, 10}));
  EXPECT_EQ(s.in_strides, (Dims{0, 1}));
}

TEST(CudaTensorPlan, UnitFollowsLayoutAndAlignment) {
  StridedCopy c = cuda_tensor::SimplifyCopy(cuda_tensor::PermuteCopy({4, 6, 12}, {1, 0, 2}, 4));
  EXPECT_EQ(cuda_tensor::ChooseUnitBytes(c, 0, 0), 16);  // 48-byte rows
  EXPECT_EQ(cuda_tensor::ChooseUnitBytes(c, 8, 0),
            8);  // input only 8-byte aligned
  EXPECT_EQ(cuda_tensor::ChooseUnitBytes(c, 4, 0), 4);
  c = cuda_tensor::SimplifyCopy(cuda_tensor::PermuteCopy({4, 6, 3}, {1, 0, 2}, 4));
  EXPECT_EQ(cuda_tensor::ChooseUnitBytes(c, 0, 0), 4);  // 12-byte rows
  c = cuda_tensor::SimplifyCopy(cuda_tensor::PermuteCopy({4, 6, 2}, {1, 0, 2}, 4));
  EXPECT_EQ(cuda_tensor::ChooseUnitBytes(c, 0, 0), 8);
  c = cuda_tensor::SimplifyCopy(cuda_tensor::PermuteCopy({4, 6}, {1, 0}, 4));
  EXPECT_EQ(cuda_tensor::ChooseUnitBytes(c, 0, 0),
            4);  // innermost moves: no vectors
  StridedCopy u = cuda_tensor::ToUnits(
      cuda_tensor::SimplifyCopy(cuda_tensor::PermuteCopy({4, 6, 12}, {1, 0, 2}, 4)), 16);
  EXPECT_EQ(u.dims, (Dims{6, 4, 3}));
  EXPECT_EQ(u.in_strides, (Dims{3, 18, 1}));
}

TEST(CudaTensorPlan, RandomCopiesKeepTheirBytes) {
  std::mt19937 rng(std::random_device{}());
  for (int trial = 0; trial < 300; ++trial) {
    const int rank = 1 + static_cast<int>(rng() % 5);
    const int64_t es = int64_t{1} << (rng() % 4);
    Dims view(static_cast<size_t>(rank));
    for (auto& d : view) d = 1 + static_cast<int64_t>(rng() % 6);
    if (rng() % 2) view.back() = 8 * (1 + static_cast<int64_t>(rng() % 3));
    const int64_t n = cuda_tensor::Product(view, 0, view.size());
    StridedCopy c;
    switch (trial % 3) {
      case 0: {  // transpose
        std::vector<int64_t> perm(static_cast<size_t>(rank));
        std::iota(perm.begin(), perm.end(), 0);
        std::shuffle(perm.begin(), perm.end(), rng);
        if (rng() % 2) std::sort(perm.begin() + (rank > 1 ? rank - 1 : 0), perm.end());
        c = cuda_tensor::PermuteCopy(view, perm, es);
        ExpectPlanEquivalent(c, static_cast<size_t>(n * es), static_cast<size_t>(n * es), rng);
        break;
      }
      case 1: {  // slice with random (possibly negative) steps
        c.elem_size = es;
        Dims dense = cuda_tensor::DenseStrides(view);
        c.in_strides = dense;
        for (int d = 0; d < rank; ++d) {
          const int64_t len = view[d];
          const int64_t step = rng() % 3 == 0 ? -1 - static_cast<int64_t>(rng() % 2)
                                              : 1 + static_cast<int64_t>(rng() % 2);
          const int64_t count = 1 + (len - 1) / (step > 0 ? step : -step);
          const int64_t start = step > 0 ? 0 : len - 1;
          c.dims.push_back(count);
          c.in_base += start * dense[d];
          c.in_strides[d] = dense[d] * step;
        }
        c.out_strides = cuda_tensor::DenseStrides(c.dims);
        const int64_t m = cuda_tensor::Product(c.dims, 0, c.dims.size());
        ExpectPlanEquivalent(c, static_cast<size_t>(n * es), static_cast<size_t>(m * es), rng);
        break;
      }
      default: {  // broadcast some dims of `view`, write into a column range of a
                  // wider output
        c.elem_size = es;
        c.dims = view;
        c.in_strides = cuda_tensor::DenseStrides(view);
        for (int d = 0; d < rank; ++d) {
          if (rng() % 3 == 0) c.in_strides[d] = 0;
        }
        Dims wide = view;
        const int64_t extra = static_cast<int64_t>(rng() % 3);
        wide.back() += extra;
        c.out_strides = cuda_tensor::DenseStrides(wide);
        c.out_base = extra;
        const int64_t m = cuda_tensor::Product(wide, 0, wide.size());
        ExpectPlanEquivalent(c, static_cast<size_t>(n * es), static_cast<size_t>((m + extra) * es),
                             rng);
        break;
      }
    }
  }
}

TEST(CudaTensorPlan, Int32IndexingLimits) {
  StridedCopy c;
  c.dims = {1 << 20, 1 << 9};
  c.in_strides = {1 << 9, 1};
  c.out_strides = {1 << 9, 1};
  c.elem_size = 4;
  EXPECT_TRUE(cuda_tensor::FitsInt32(c));
  c.dims[0] = 1 << 21;  // 2^30 elements
  EXPECT_FALSE(cuda_tensor::FitsInt32(c));
  c.dims = {3, 4};
  c.in_strides = {int64_t{1} << 29, 1};  // small copy, far-apart reads
  c.out_strides = {4, 1};
  EXPECT_FALSE(cuda_tensor::FitsInt32(c));
  c.in_base = 0;
  c.in_strides = {-4, 1};  // reversed rows from the end
  c.in_base = 8;
  EXPECT_TRUE(cuda_tensor::FitsInt32(c));
}

// ---------------------------------------------------------------- CPU:
// supports()

TEST(CudaTensorSupports, RefusesWhatTheKernelsCannotRun) {
  const CudaKernelRegistry& reg = CudaKernelRegistry::Global();
  auto why = [&](Graph& g, OpKind op, const std::string& tactic) {
    Status inferred = InferGraphShapes(g);
    EXPECT_TRUE(inferred.ok()) << inferred.ToString();
    const CudaKernel* k = reg.Find(op, "cuda." + tactic);
    EXPECT_NE(k, nullptr) << tactic;
    for (Node* n : g.nodes()) {
      if (n->op == op && k) return k->supports(*n);
    }
    return std::string("no node");
  };
  {  // integer images
    Graph g;
    AddOp(g, OpKind::kResize, "y",
          {In(g, "x", DType::kInt32, {1, 3, 4, 4}), nullptr,
           ConstT<float>(g, "s", {1.f, 1.f, 2.f, 2.f}, {4})});
    EXPECT_NE(why(g, OpKind::kResize, "tensor.resize"), "");
  }
  {  // int32 indices are fine
    Graph g;
    AddOp(g, OpKind::kGather, "y",
          {In(g, "x", DType::kFloat16, {4, 5}), In(g, "i", DType::kInt32, {3})});
    EXPECT_EQ(why(g, OpKind::kGather, "tensor.gather"), "");
  }
  {  // rank 7 transpose
    Graph g;
    AddOp(g, OpKind::kTranspose, "y", {In(g, "x", DType::kFloat32, {2, 2, 2, 2, 2, 2, 2})});
    EXPECT_NE(why(g, OpKind::kTranspose, "tensor.transpose"), "");
  }
  {  // Resize of the channel axis
    Graph g;
    AddOp(g, OpKind::kResize, "y",
          {In(g, "x", DType::kFloat32, {1, 3, 4, 4}), nullptr,
           ConstT<float>(g, "s", {1.f, 2.f, 2.f, 2.f}, {4})});
    EXPECT_NE(why(g, OpKind::kResize, "tensor.resize"), "");
  }
  {  // Resize cubic
    Graph g;
    AddOp(g, OpKind::kResize, "y",
          {In(g, "x", DType::kFloat32, {1, 3, 4, 4}), nullptr,
           ConstT<float>(g, "s", {1.f, 1.f, 2.f, 2.f}, {4})})
        ->attrs.Set("mode", std::string("cubic"));
    EXPECT_NE(why(g, OpKind::kResize, "tensor.resize"), "");
  }
  {  // Resize nearest of H and W, and a Slice whose starts are computed at run
    // time
    Graph g;
    AddOp(g, OpKind::kResize, "y",
          {In(g, "x", DType::kFloat16, {1, 3, 4, 4}), nullptr,
           ConstT<float>(g, "s", {1.f, 1.f, 2.f, 1.5f}, {4})});
    EXPECT_EQ(why(g, OpKind::kResize, "tensor.resize"), "");
    Graph h;
    AddOp(h, OpKind::kSlice, "z",
          {In(h, "x", DType::kFloat32, {5, 6}), In(h, "st", DType::kInt64, {1}), Ints(h, "en", {4}),
           Ints(h, "ax", {1})});
    EXPECT_EQ(why(h, OpKind::kSlice, "tensor.slice"),
              "");  // run() errors if not host-known
  }
}

TEST(CudaTensorCopy, ReshapeFlattenSqueezeUnsqueezeIdentity) {
  FRT_SKIP_WITHOUT_GPU();
  for (DType dt : {DType::kFloat32, DType::kFloat16, DType::kInt64}) {
    CheckUnary(
        OpKind::kReshape, dt, {3, 5, 7},
        [](Graph& g) {
          return std::vector<Value*>{Ints(g, "shape", {7, -1})};
        },
        {}, "cuda.tensor.copy");
    CheckUnary(OpKind::kFlatten, dt, {3, 5, 7}, nullptr, Attrs({{"axis", int64_t{2}}}),
               "cuda.tensor.copy");
    CheckUnary(
        OpKind::kSqueeze, dt, {3, 1, 7, 1},
        [](Graph& g) {
          return std::vector<Value*>{Ints(g, "axes", {1, -1})};
        },
        {}, "cuda.tensor.copy");
    CheckUnary(
        OpKind::kUnsqueeze, dt, {9},
        [](Graph& g) {
          return std::vector<Value*>{Ints(g, "axes", {0, 2})};
        },
        {}, "cuda.tensor.copy");
    CheckUnary(OpKind::kIdentity, dt, {2, 3, 4, 5, 6}, nullptr, {}, "cuda.tensor.copy");
  }
}

TEST(CudaTensorTranspose, PermsRanksAndDtypes) {
  FRT_SKIP_WITHOUT_GPU();
  struct Case {
    Dims dims;
    std::vector<int64_t> perm;  // empty: default (reverse)
  };
  const Case cases[] = {
      {{13}, {0}},
      {{65, 129}, {1, 0}},                  // tiled, odd tile edges
      {{7, 300}, {1, 0}},                   // one short side: generic kernel
      {{2, 37, 5, 24}, {0, 2, 1, 3}},       // last axis stays: vectorized rows
      {{2, 37, 5, 3}, {0, 2, 1, 3}},        // last axis stays, odd rows: scalar units
      {{3, 5, 7, 33}, {3, 1, 0, 2}},        // last axis moves: tiled with batch dims
      {{3, 4, 5, 6, 7}, {4, 2, 0, 3, 1}},   // rank 5
      {{4, 1, 9, 1, 10}, {2, 4, 1, 0, 3}},  // size-1 dims dropped
      {{6, 10, 11}, {}},                    // default perm
      {{8, 384, 16, 64}, {0, 2, 1, 3}},     // BERT-large heads split
  };
  for (const Case& c : cases) {
    for (DType dt : {DType::kFloat32, DType::kFloat16, DType::kInt64}) {
      SCOPED_TRACE(
          StrCat(DimsToString(c.dims), " perm ", DimsToString(c.perm), " ", DTypeName(dt)));
      Attributes a;
      if (!c.perm.empty()) a.Set("perm", c.perm);
      CheckUnary(OpKind::kTranspose, dt, c.dims, nullptr, a, "cuda.tensor.transpose");
    }
  }
}

TEST(CudaTensorTranspose, ByteAndFourByteElementsInTiles) {
  FRT_SKIP_WITHOUT_GPU();
  for (DType dt : {DType::kUInt8, DType::kInt32}) {
    Attributes a;
    a.Set("perm", std::vector<int64_t>{0, 2, 1});
    CheckUnary(OpKind::kTranspose, dt, {3, 33, 70}, nullptr, a, "cuda.tensor.transpose");
  }
}

void CheckConcat(DType dt, const std::vector<Dims>& shapes, int64_t axis) {
  SCOPED_TRACE(StrCat(DTypeName(dt), " axis ", axis, " first ", DimsToString(shapes[0])));
  Graph g;
  std::map<std::string, Tensor> inputs;
  std::vector<Value*> ins;
  for (size_t k = 0; k < shapes.size(); ++k) {
    std::string name = StrCat("x", k);
    ins.push_back(In(g, name, dt, shapes[k]));
    inputs[name] = RandomData(dt, shapes[k], Rng());
  }
  AddOp(g, OpKind::kConcat, "y", ins)->attrs.Set("axis", axis);
  Check(g, inputs, "cuda.tensor.concat");
}

TEST(CudaTensorConcat, AxesAndDtypes) {
  FRT_SKIP_WITHOUT_GPU();
  for (DType dt : {DType::kFloat32, DType::kFloat16, DType::kInt64}) {
    CheckConcat(dt, {{2, 3, 5}, {2, 7, 5}, {2, 1, 5}},
                1);  // 3 inputs, middle axis
    CheckConcat(dt, {{2, 3, 8}, {2, 7, 8}, {2, 2, 8}},
                1);  // vector-friendly rows
    CheckConcat(dt, {{4, 3}, {4, 5}}, -1);
    CheckConcat(dt, {{3, 4, 2}, {1, 4, 2}, {5, 4, 2}, {2, 4, 2}}, 0);
    CheckConcat(dt, {{7}, {11}, {1}}, 0);                    // rank 1
    CheckConcat(dt, {{2, 1, 3, 2, 5}, {2, 1, 3, 4, 5}}, 3);  // rank 5
    CheckConcat(dt, {{8, 384, 512}, {8, 384, 512}}, 2);      // large
  }
}

TEST(CudaTensorSplit, SizesNumOutputsAndEqual) {
  FRT_SKIP_WITHOUT_GPU();
  for (DType dt : {DType::kFloat32, DType::kFloat16, DType::kInt64}) {
    {
      Graph g;
      AddOp(g, OpKind::kSplit, "y", {In(g, "x", dt, {4, 10, 6}), Ints(g, "split", {2, 5, 3})}, 3)
          ->attrs.Set("axis", int64_t{1});
      Check(g, {{"x", RandomData(dt, {4, 10, 6}, Rng())}}, "cuda.tensor.split");
    }
    {
      Graph g;  // opset-18 num_outputs: 4, 4, 3
      Node* n = AddOp(g, OpKind::kSplit, "y", {In(g, "x", dt, {11, 3})}, 3);
      n->attrs.Set("num_outputs", int64_t{3});
      Check(g, {{"x", RandomData(dt, {11, 3}, Rng())}}, "cuda.tensor.split");
    }
    {
      Graph g;
      AddOp(g, OpKind::kSplit, "y", {In(g, "x", dt, {3, 5, 12})}, 2)
          ->attrs.Set("axis", int64_t{-1});
      Check(g, {{"x", RandomData(dt, {3, 5, 12}, Rng())}}, "cuda.tensor.split");
    }
  }
}

void CheckSlice(DType dt, const Dims& dims, std::vector<int64_t> starts, std::vector<int64_t> ends,
                std::vector<int64_t> axes, std::vector<int64_t> steps) {
  SCOPED_TRACE(StrCat(DTypeName(dt), DimsToString(dims), " starts ", DimsToString(starts), " ends ",
                      DimsToString(ends), " steps ", DimsToString(steps)));
  Graph g;
  std::vector<Value*> ins = {In(g, "x", dt, dims), Ints(g, "starts", starts),
                             Ints(g, "ends", ends)};
  if (!axes.empty()) ins.push_back(Ints(g, "axes", axes));
  if (!steps.empty()) ins.push_back(Ints(g, "steps", steps));
  AddOp(g, OpKind::kSlice, "y", ins);
  Check(g, {{"x", RandomData(dt, dims, Rng())}}, "cuda.tensor.slice");
}

TEST(CudaTensorSlice, StepsClampingAndDtypes) {
  FRT_SKIP_WITHOUT_GPU();
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
  for (DType dt : {DType::kFloat32, DType::kFloat16, DType::kInt64}) {
    CheckSlice(dt, {7, 9, 11}, {1, -1, 0}, {6, -100, 1000}, {0, 1, 2}, {2, -2, 3});
    CheckSlice(dt, {7, 9, 11}, {100, 5}, {kMin, kMin}, {2, 0}, {-1, -3});  // reverse, clamped
    CheckSlice(dt, {10, 16}, {2}, {kMax}, {1}, {});                        // vectorized rows
    CheckSlice(dt, {10, 16}, {-3, 4}, {kMax, 12}, {}, {});                 // implicit axes
    CheckSlice(dt, {2, 3, 4, 5, 6}, {1}, {5}, {-2}, {1});                  // rank 5
    CheckSlice(dt, {17}, {-1}, {kMin}, {0}, {-1});                         // rank 1 reverse
    CheckSlice(dt, {4, 6}, {3, 2}, {1, 5}, {0, 1}, {1, 1});                // empty result
    CheckSlice(dt, {8, 384, 1024}, {0, 128}, {kMax, 256}, {0, 1}, {1, 1});
  }
}

void CheckExpand(DType dt, const Dims& in, std::vector<int64_t> shape) {
  SCOPED_TRACE(StrCat(DTypeName(dt), DimsToString(in), " to ", DimsToString(shape)));
  Graph g;
  AddOp(g, OpKind::kExpand, "y", {In(g, "x", dt, in), Ints(g, "shape", shape)});
  Check(g, {{"x", RandomData(dt, in, Rng())}}, "cuda.tensor.expand");
}

TEST(CudaTensorExpand, Broadcasts) {
  FRT_SKIP_WITHOUT_GPU();
  for (DType dt : {DType::kFloat32, DType::kFloat16, DType::kInt64}) {
    CheckExpand(dt, {3, 1, 5}, {2, 3, 4, 5});
    CheckExpand(dt, {1}, {7, 3});
    CheckExpand(dt, {33, 1}, {33, 40});  // innermost broadcast, tiled path
    CheckExpand(dt, {4, 1}, {4, 6});     // innermost broadcast, short
    CheckExpand(dt, {1, 1, 64}, {8, 384, 64});
    CheckExpand(dt, {2, 3}, {1, 2, 3});     // shape shorter in spirit: only rank grows
    CheckExpand(dt, {5, 1, 1}, {1, 1, 4});  // shape smaller than input: output [5, 1, 4]
  }
}

TEST(CudaTensorDepthSpace, DcrCrdAndBack) {
  FRT_SKIP_WITHOUT_GPU();
  for (const char* mode : {"DCR", "CRD"}) {
    Graph g;
    Node* n = AddOp(g, OpKind::kDepthToSpace, "y", {In(g, "x", DType::kFloat32, {2, 12, 3, 5})});
    n->attrs.Set("blocksize", int64_t{2});
    n->attrs.Set("mode", std::string(mode));
    Check(g, {{"x", RandomData(DType::kFloat32, {2, 12, 3, 5}, Rng())}},
          "cuda.tensor.depth_to_space");
  }
  Graph g;
  AddOp(g, OpKind::kSpaceToDepth, "y", {In(g, "x", DType::kFloat16, {2, 3, 6, 9})})
      ->attrs.Set("blocksize", int64_t{3});
  Check(g, {{"x", RandomData(DType::kFloat16, {2, 3, 6, 9}, Rng())}}, "cuda.tensor.space_to_depth");
}

}  // namespace
}  // namespace frt
