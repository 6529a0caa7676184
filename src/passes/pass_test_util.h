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

// Verifies and infers `g`, clones it, runs `pass`, re-infers and verifies
// again; returns the untouched clone (nullptr, with gtest failures, when a
// step fails).
inline std::unique_ptr<Graph> ApplyPass(Graph& g, Status (*pass)(Graph&)) {
  Status s = InferGraphShapes(g);
  EXPECT_TRUE(s.ok()) << s.ToString();
  s = VerifyGraph(g);
  EXPECT_TRUE(s.ok()) << s.ToString();
  auto original = CloneGraph(g);
  EXPECT_TRUE(original.ok()) << original.status().ToString();
  if (!s.ok() || !original.ok()) return nullptr;
  s = pass(g);
  EXPECT_TRUE(s.ok()) << s.ToString();
  if (s.ok()) s = InferGraphShapes(g);
  if (s.ok()) s = VerifyGraph(g);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return s.ok() ? std::move(*original) : nullptr;
}

// Runs `pass` and compares the numbers with the untouched graph, bit for bit,
// on `runs` fresh random input sets.
inline void CheckPassBitExact(Graph& g, Status (*pass)(Graph&), int runs = 3) {
  std::unique_ptr<Graph> original = ApplyPass(g, pass);
  ASSERT_TRUE(original);
  std::mt19937 rng(std::random_device{}());
  for (int trial = 0; trial < runs; ++trial) {
    auto inputs = RandomInputs(g, rng);
    ExpectBitIdentical(RunGraph(*original, inputs), RunGraph(g, inputs));
  }
}

// Checks `before`, runs `pass`, checks `after`, then the numbers bit for bit.
inline void CheckPass(Graph& g, Status (*pass)(Graph&), const std::string& before,
                      const std::string& after) {
  ASSERT_TRUE(InferGraphShapes(g).ok());
  EXPECT_EQ(PrintGraph(g), before);
  std::unique_ptr<Graph> original = ApplyPass(g, pass);
  ASSERT_TRUE(original);
  EXPECT_EQ(PrintGraph(g), after);
  std::mt19937 rng(std::random_device{}());
  for (int trial = 0; trial < 3; ++trial) {
    auto inputs = RandomInputs(g, rng);
    ExpectBitIdentical(RunGraph(*original, inputs), RunGraph(g, inputs));
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
  std::unique_ptr<Graph> original = ApplyPass(g, pass);
  ASSERT_TRUE(original);
  std::mt19937 rng(std::random_device{}());
  for (int trial = 0; trial < runs; ++trial) {
    auto inputs = RandomInputs(g, rng);
    std::vector<Tensor> want = RunGraph(*original, inputs), got = RunGraph(g, inputs);
    ASSERT_EQ(want.size(), got.size());
    for (size_t i = 0; i < want.size(); ++i) {
      ASSERT_EQ(want[i].dims(), got[i].dims()) << "output " << i;
      if (want[i].dtype() != DType::kFloat32) continue;
      EXPECT_LE(RelativeL2(got[i], want[i]), tol) << "output " << i;
    }
  }
}

// An int64 constant: rank 1, or rank 0 when `scalar` (one value).
inline Value* IntConst(Graph& g, const std::string& name, std::vector<int64_t> v,
                       bool scalar = false) {
  Value* c = g.AddValue(name).value();
  Dims dims = scalar ? Dims{} : Dims{static_cast<int64_t>(v.size())};
  c->constant = Tensor::FromVector<int64_t>(v, dims);
  c->dtype = DType::kInt64;
  c->shape = Shape::FromDims(dims);
  return c;
}

}  // namespace
}  // namespace frt
