// Test-only helpers of the CUDA tensor family's tests (tensor_test.cc,
// tensor_ops_test.cc): small graph builders, random data of any dtype, and
// Check(), which builds a graph for cuda at optimization level 0 (so no pass
// folds or removes the op under test), compares every output with the CPU
// reference within a tolerance and checks that a layer ran the expected
// tactic. Header only.
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <string>
#include <vector>

#include "backends/cuda/gpu_test_util.h"
#include "backends/cuda/kernel.h"

namespace frt::cuda_tensor_test {

inline Value* In(Graph& g, const std::string& name, DType dtype, Dims dims) {
  Value* v = g.AddValue(name).value();
  v->dtype = dtype;
  v->shape = Shape::FromDims(dims);
  g.AddInput(v);
  return v;
}

template <class T>
inline Value* ConstT(Graph& g, const std::string& name, std::vector<T> data, Dims dims) {
  Value* v = g.AddValue(name).value();
  v->constant = Tensor::FromVector<T>(data, dims);
  v->dtype = DTypeOf<T>();
  v->shape = Shape::FromDims(dims);
  return v;
}

inline Value* Ints(Graph& g, const std::string& name, std::vector<int64_t> data) {
  const int64_t n = static_cast<int64_t>(data.size());
  return ConstT<int64_t>(g, name, std::move(data), {n});
}

// Adds a node with `num_outputs` outputs named out, out_1, ...; returns the
// node.
inline Node* AddOp(Graph& g, OpKind op, const std::string& out, std::vector<Value*> ins,
                   size_t num_outputs = 1) {
  Node* n = g.AddNode(op, out + "_node");
  n->opset = 18;
  n->inputs = std::move(ins);
  for (size_t i = 0; i < num_outputs; ++i) {
    Value* v = g.AddValue(i == 0 ? out : StrCat(out, "_", i)).value();
    v->producer = n;
    n->outputs.push_back(v);
    g.AddOutput(v);
  }
  return n;
}

// Random data of any dtype: floats in [-1, 1), integers in [-1000, 1000].
inline Tensor RandomData(DType dtype, const Dims& dims, std::mt19937_64& rng) {
  if (IsFloatDType(dtype)) return gpu_test::RandomTensor(dtype, dims, rng());
  Tensor t = Tensor::Allocate(dtype, dims).value();
  std::uniform_int_distribution<int64_t> dist(-1000, 1000);
  for (int64_t i = 0; i < t.num_elements(); ++i) {
    int64_t v = dist(rng);
    VisitDType(dtype, [&](auto tag) {
      using T = typename decltype(tag)::type;
      if constexpr (std::is_integral_v<T>) t.data<T>()[i] = static_cast<T>(v);
    });
  }
  return t;
}

// Integer indices in [-size, size) (negative ones wrap) of dtype i32 or i64.
inline Tensor RandomIndices(DType dtype, const Dims& dims, int64_t size, std::mt19937_64& rng) {
  Tensor t = Tensor::Allocate(dtype, dims).value();
  std::uniform_int_distribution<int64_t> dist(-size, size - 1);
  for (int64_t i = 0; i < t.num_elements(); ++i) {
    if (dtype == DType::kInt32) {
      t.data<int32_t>()[i] = static_cast<int32_t>(dist(rng));
    } else {
      t.data<int64_t>()[i] = dist(rng);
    }
  }
  return t;
}

inline std::mt19937_64& Rng() {
  static std::mt19937_64 rng(std::random_device{}());
  return rng;
}

// Builds at level 0, runs, compares with the reference within `tol` and
// checks that a layer ran `tactic`.
inline void Check(const Graph& g, const std::map<std::string, Tensor>& inputs,
                  const std::string& tactic, double tol = 0.0) {
  gpu_test::GpuOptions options;
  options.optimization_level = 0;
  gpu_test::GpuRun run = gpu_test::ExpectMatchesReference(g, inputs, tol, options);
  bool found = false;
  for (const LayerInfo& l : run.layers) found = found || l.tactic == tactic;
  EXPECT_TRUE(found) << "no layer ran " << tactic;
}

// One op on one random input `x` of `dtype` and `dims`, extra inputs given.
inline void CheckUnary(OpKind op, DType dtype, const Dims& dims,
                       std::vector<Value*> (*extra)(Graph&), const Attributes& attrs,
                       const std::string& tactic, double tol = 0.0) {
  Graph g;
  Value* x = In(g, "x", dtype, dims);
  std::vector<Value*> ins = {x};
  if (extra) {
    for (Value* v : extra(g)) ins.push_back(v);
  }
  AddOp(g, op, "y", ins)->attrs = attrs;
  Check(g, {{"x", RandomData(dtype, dims, Rng())}}, tactic, tol);
}

inline Attributes Attrs(std::initializer_list<std::pair<const char*, AttrValue>> list) {
  Attributes a;
  for (const auto& [k, v] : list) a.Set(k, v);
  return a;
}

}  // namespace frt::cuda_tensor_test
