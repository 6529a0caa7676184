// Helpers for optimizer pass tests (header only: test code, not library code).
// Build small graphs by hand, run them on the reference backend with fresh
// random inputs, and check a pass against printed IR and against the numbers
// of an untouched copy of the graph.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "backends/cpu/reference_executor.h"
#include "ir/graph_clone.h"
#include "ir/printer.h"
#include "ir/shape_inference.h"
#include "ir/verifier.h"

namespace frt {
namespace {

inline Value* Input(Graph& g, const std::string& name, Dims dims) {
  Value* v = g.AddValue(name).value();
  v->dtype = DType::kFloat32;
  v->shape = Shape::FromDims(dims);
  g.AddInput(v);
  return v;
}

inline Value* Const(Graph& g, const std::string& name, std::vector<float> data) {
  Value* v = g.AddValue(name).value();
  int64_t n = static_cast<int64_t>(data.size());
  v->constant = Tensor::FromVector<float>(std::move(data), {n});
  v->dtype = DType::kFloat32;
  v->shape = Shape::FromDims({n});
  return v;
}

// A float32 constant of any shape (data.size() must equal the product of dims).
inline Value* ConstNd(Graph& g, const std::string& name, Dims dims, std::vector<float> data) {
  Value* v = g.AddValue(name).value();
  v->constant = Tensor::FromVector<float>(std::move(data), dims);
  v->dtype = DType::kFloat32;
  v->shape = Shape::FromDims(dims);
  return v;
}

// `n` values from N(0, scale^2), fixed by `seed` (for weights in test graphs).
inline std::vector<float> RandomData(size_t n, unsigned seed, float scale = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, scale);
  std::vector<float> out(n);
  for (float& f : out) f = dist(rng);
  return out;
}

inline Value* Op(Graph& g, OpKind op, const std::string& out, std::vector<Value*> ins) {
  Node* n = g.AddNode(op, out + "_node");
  n->opset = 13;
  n->inputs = std::move(ins);
  Value* v = g.AddValue(out).value();
  v->producer = n;
  n->outputs = {v};
  return v;
}

inline std::map<std::string, Tensor> RandomInputs(const Graph& g, std::mt19937& rng) {
  std::normal_distribution<float> dist;
  std::map<std::string, Tensor> inputs;
  for (const Value* in : g.inputs()) {
    Tensor t = Tensor::Allocate(DType::kFloat32, in->shape->static_dims()).value();
    for (float& f : t.span<float>()) f = dist(rng);
    inputs[in->name] = std::move(t);
  }
  return inputs;
}

inline std::vector<Tensor> RunGraph(const Graph& g, const std::map<std::string, Tensor>& inputs) {
  auto exec = ReferenceExecutor::Create(g);
  EXPECT_TRUE(exec.ok()) << exec.status().ToString();
  if (!exec.ok()) return {};
  auto out = (*exec)->Run(inputs);
  EXPECT_TRUE(out.ok()) << out.status().ToString();
  return out.ok() ? std::move(*out) : std::vector<Tensor>{};
}

inline void ExpectBitIdentical(const std::vector<Tensor>& a, const std::vector<Tensor>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    ASSERT_EQ(a[i].dtype(), b[i].dtype()) << "output " << i;
    ASSERT_EQ(a[i].dims(), b[i].dims()) << "output " << i;
    EXPECT_EQ(std::memcmp(a[i].raw(), b[i].raw(), a[i].nbytes()), 0) << "output " << i;
  }
}

// Checks `before`, runs `pass`, checks `after`, verifies, compares numbers
// bit for bit (passes that reuse the same kernels).
inline void CheckPass(Graph& g, Status (*pass)(Graph&), const std::string& before,
               const std::string& after) {
  ASSERT_TRUE(VerifyGraph(g).ok());
  ASSERT_TRUE(InferGraphShapes(g).ok());
  EXPECT_EQ(PrintGraph(g), before);
  auto original = CloneGraph(g);
  ASSERT_TRUE(original.ok()) << original.status().ToString();
  Status s = pass(g);
  ASSERT_TRUE(s.ok()) << s.ToString();
  ASSERT_TRUE(InferGraphShapes(g).ok());
  Status v = VerifyGraph(g);
  ASSERT_TRUE(v.ok()) << v.ToString();
  EXPECT_EQ(PrintGraph(g), after);
  std::mt19937 rng(std::random_device{}());
  for (int trial = 0; trial < 3; ++trial) {
    auto inputs = RandomInputs(g, rng);
    ExpectBitIdentical(RunGraph(**original, inputs), RunGraph(g, inputs));
  }
}

// Relative L2 error ||got - want|| / ||want|| of float32 outputs, in double.
inline double RelativeL2(const Tensor& got, const Tensor& want) {
  double num = 0, den = 0;
  for (int64_t i = 0; i < want.num_elements(); ++i) {
    double d = static_cast<double>(got.data<float>()[i]) - want.data<float>()[i];
    num += d * d;
    den += static_cast<double>(want.data<float>()[i]) * want.data<float>()[i];
  }
  return den == 0 ? std::sqrt(num) : std::sqrt(num / den);
}

// Fusion passes replace several ops by one kernel that rounds once instead of
// after every op: outputs agree to float32 rounding (relative L2 <= tol), not
// bit for bit. `pass` runs on `g`; `runs` fresh random input sets are compared
// against an untouched copy.
inline void CheckPassNumerics(Graph& g, Status (*pass)(Graph&), double tol = 1e-5, int runs = 3) {
  ASSERT_TRUE(InferGraphShapes(g).ok());
  ASSERT_TRUE(VerifyGraph(g).ok());
  auto original = CloneGraph(g);
  ASSERT_TRUE(original.ok()) << original.status().ToString();
  Status s = pass(g);
  ASSERT_TRUE(s.ok()) << s.ToString();
  ASSERT_TRUE(InferGraphShapes(g).ok());
  Status v = VerifyGraph(g);
  ASSERT_TRUE(v.ok()) << v.ToString();
  std::mt19937 rng(std::random_device{}());
  for (int trial = 0; trial < runs; ++trial) {
    auto inputs = RandomInputs(g, rng);
    std::vector<Tensor> want = RunGraph(**original, inputs), got = RunGraph(g, inputs);
    ASSERT_EQ(want.size(), got.size());
    for (size_t i = 0; i < want.size(); ++i) {
      ASSERT_EQ(want[i].dims(), got[i].dims()) << "output " << i;
      if (want[i].dtype() != DType::kFloat32) continue;
      EXPECT_LE(RelativeL2(got[i], want[i]), tol) << "output " << i;
    }
  }
}

}  // namespace
}  // namespace frt
