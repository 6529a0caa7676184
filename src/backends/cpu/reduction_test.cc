// Tests of the reduction family beyond the ONNX node suite: empty-set
// identities, noop_with_empty_axes, exact integer sums, TopK tie order, the
// opset adapters of the importer, inference with unknown axes, and errors
// (not crashes) on hostile class indices.
#include <gtest/gtest.h>

#include <cmath>

#include "backends/cpu/reference_executor.h"
#include "onnx/importer.h"
#include "onnx/onnx_pb.h"
#include "test_util.h"

namespace frt {
namespace {

using testing_util::FloatAttr;
using testing_util::IntAttr;
using testing_util::IntsAttr;
using testing_util::StringAttr;

// A node input: a graph input of the given type and shape, or an int64 initializer.
struct In {
  std::string name;
  int elem_type = onnx::TensorProto::FLOAT;
  std::vector<int64_t> dims;
  bool init = false;
  std::vector<int64_t> ints;  // the initializer's values
};

In Input(std::string name, int elem_type, std::vector<int64_t> dims) {
  return In{std::move(name), elem_type, std::move(dims), false, {}};
}

In Int64Const(std::string name, std::vector<int64_t> values) {
  return In{std::move(name), onnx::TensorProto::INT64, {}, true, std::move(values)};
}

// One node `op` over graph inputs / int64 initializers, outputs y0..y{n-1}.
onnx::ModelProto OneNodeModel(const std::string& op, int opset, const std::vector<In>& ins,
                              int n_out, const std::vector<onnx::AttributeProto>& attrs = {}) {
  onnx::ModelProto m;
  m.set_ir_version(8);
  auto* os = m.add_opset_import();
  os->set_domain("");
  os->set_version(opset);
  auto* g = m.mutable_graph();
  g->set_name(op);
  auto* node = g->add_node();
  node->set_op_type(op);
  node->set_name("n");
  for (const In& in : ins) {
    node->add_input(in.name);
    if (in.name.empty()) continue;
    if (in.init) {
      auto* t = g->add_initializer();
      t->set_name(in.name);
      t->set_data_type(onnx::TensorProto::INT64);
      t->add_dims(static_cast<int64_t>(in.ints.size()));
      for (int64_t v : in.ints) t->add_int64_data(v);
      continue;
    }
    auto* vi = g->add_input();
    vi->set_name(in.name);
    auto* tt = vi->mutable_type()->mutable_tensor_type();
    tt->set_elem_type(in.elem_type);
    auto* shape = tt->mutable_shape();
    for (int64_t d : in.dims) shape->add_dim()->set_dim_value(d);
  }
  for (int i = 0; i < n_out; ++i) {
    node->add_output("y" + std::to_string(i));
    g->add_output()->set_name("y" + std::to_string(i));
  }
  for (const auto& a : attrs) *node->add_attribute() = a;
  return m;
}

Result<std::unique_ptr<Graph>> Import(const onnx::ModelProto& m) {
  return ImportOnnxBytes(m.SerializeAsString(), "");
}

Result<std::vector<Tensor>> RunModel(const onnx::ModelProto& m,
                                     std::map<std::string, Tensor> feeds) {
  FRT_ASSIGN_OR_RETURN(std::unique_ptr<Graph> g, Import(m));
  FRT_ASSIGN_OR_RETURN(std::unique_ptr<ReferenceExecutor> exec, ReferenceExecutor::Create(*g));
  return exec->Run(feeds);
}

TEST(ReductionKernels, EmptySetGivesTheIdentity) {
  const std::vector<std::pair<std::string, double>> cases = {
      {"ReduceSum", 0.0},      {"ReduceMean", NAN},         {"ReduceMax", -INFINITY},
      {"ReduceMin", INFINITY}, {"ReduceProd", 1.0},         {"ReduceL1", 0.0},
      {"ReduceL2", 0.0},       {"ReduceLogSum", -INFINITY}, {"ReduceLogSumExp", -INFINITY},
      {"ReduceSumSquare", 0.0}};
  for (const auto& [op, want] : cases) {
    auto m = OneNodeModel(
        op, 18, {Input("x", onnx::TensorProto::FLOAT, {2, 0, 3}), Int64Const("axes", {1})}, 1);
    auto out = RunModel(m, {{"x", Tensor::Allocate(DType::kFloat32, {2, 0, 3}).value()}});
    ASSERT_TRUE(out.ok()) << op << ": " << out.status().ToString();
    const Tensor& y = (*out)[0];
    ASSERT_EQ(y.dims(), (Dims{2, 1, 3})) << op;
    for (int64_t i = 0; i < y.num_elements(); ++i) {
      double got = y.GetAsDouble(i);
      if (std::isnan(want)) {
        EXPECT_TRUE(std::isnan(got)) << op;
      } else {
        EXPECT_EQ(got, want) << op;
      }
    }
  }
}

TEST(ReductionKernels, NoopWithEmptyAxesMapsEachElement) {
  auto m = OneNodeModel("ReduceSumSquare", 18, {Input("x", onnx::TensorProto::FLOAT, {3})}, 1,
                        {IntAttr("noop_with_empty_axes", 1)});
  auto out = RunModel(m, {{"x", Tensor::FromVector<float>({1, -2, 3}, {3})}});
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ((*out)[0].dims(), (Dims{3}));
  EXPECT_EQ((*out)[0].GetAsDouble(1), 4.0);
}

TEST(ReductionKernels, Int64SumIsExactBeyondDoublePrecision) {
  auto m = OneNodeModel("ReduceSum", 13, {Input("x", onnx::TensorProto::INT64, {2})}, 1,
                        {IntAttr("keepdims", 0)});
  int64_t big = (int64_t{1} << 53) + 1;
  auto out = RunModel(m, {{"x", Tensor::FromVector<int64_t>({big, 2}, {2})}});
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ((*out)[0].data<int64_t>()[0], big + 2);
}

TEST(ReductionKernels, TopKKeepsLowerIndexFirstOnTies) {
  for (int64_t largest : {1, 0}) {
    auto m =
        OneNodeModel("TopK", 11, {Input("x", onnx::TensorProto::FLOAT, {5}), Int64Const("k", {3})},
                     2, {IntAttr("largest", largest)});
    auto out = RunModel(m, {{"x", Tensor::FromVector<float>({2, 5, 5, 2, 2}, {5})}});
    ASSERT_TRUE(out.ok()) << out.status().ToString();
    const int64_t* idx = (*out)[1].data<int64_t>();
    std::vector<int64_t> got(idx, idx + 3);
    EXPECT_EQ(got, largest ? (std::vector<int64_t>{1, 2, 0}) : (std::vector<int64_t>{0, 3, 4}));
  }
}

TEST(ReductionKernels, HostileClassIndexIsAnError) {
  auto m = OneNodeModel(
      "NegativeLogLikelihoodLoss", 13,
      {Input("x", onnx::TensorProto::FLOAT, {2, 3}), Input("t", onnx::TensorProto::INT64, {2})}, 1);
  auto out = RunModel(m, {{"x", Tensor::Allocate(DType::kFloat32, {2, 3}).value()},
                          {"t", Tensor::FromVector<int64_t>({0, 1000000}, {2})}});
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), StatusCode::kOutOfRange);
  EXPECT_NE(out.status().message().find("1000000"), std::string::npos) << out.status().message();
}

TEST(ReductionImport, AxesAttributeBecomesConstantInput) {
  auto m = OneNodeModel("ReduceMean", 11, {Input("x", onnx::TensorProto::FLOAT, {2, 3, 4})}, 1,
                        {IntsAttr("axes", {0, -1}), IntAttr("keepdims", 0)});
  auto g = Import(m);
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  Node* n = (*g)->nodes()[0];
  ASSERT_EQ(n->inputs.size(), 2u);
  ASSERT_TRUE(n->inputs[1]->constant.has_value());
  EXPECT_FALSE(n->attrs.Has("axes"));
  EXPECT_EQ(n->outputs[0]->shape->ToString(), "[3]");
}

TEST(ReductionImport, TopKAttributeBecomesConstantInput) {
  auto m =
      OneNodeModel("TopK", 1, {Input("x", onnx::TensorProto::FLOAT, {2, 6})}, 2, {IntAttr("k", 4)});
  auto g = Import(m);
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  EXPECT_EQ((*g)->nodes()[0]->outputs[0]->shape->ToString(), "[2,4]");
}

TEST(ReductionImport, OldBatchNormTrainingOutputsAreRejected) {
  std::vector<In> ins = {Input("x", onnx::TensorProto::FLOAT, {1, 2, 3})};
  for (const char* p : {"s", "b", "m", "v"}) ins.push_back(Input(p, onnx::TensorProto::FLOAT, {2}));
  auto g = Import(OneNodeModel("BatchNormalization", 9, ins, 5));
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(g.status().code(), StatusCode::kUnsupported);
  EXPECT_TRUE(Import(OneNodeModel("BatchNormalization", 9, ins, 1)).ok());
}

TEST(ReductionInference, UnknownAxesKeepRankWhenDimsAreKept) {
  auto m = OneNodeModel(
      "ReduceSum", 13,
      {Input("x", onnx::TensorProto::FLOAT, {2, 3}), Input("axes", onnx::TensorProto::INT64, {1})},
      1);
  auto g = Import(m);
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  EXPECT_EQ((*g)->nodes()[0]->outputs[0]->shape->ToString(), "[?,?]");
  auto out = RunModel(m, {{"x", Tensor::FromVector<float>({1, 2, 3, 4, 5, 6}, {2, 3})},
                          {"axes", Tensor::FromVector<int64_t>({-1}, {1})}});
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ((*out)[0].dims(), (Dims{2, 1}));
  EXPECT_EQ((*out)[0].GetAsDouble(1), 15.0);
}

TEST(ReductionInference, AxisOutOfRangeNamesTheNode) {
  auto m = OneNodeModel("Softmax", 13, {Input("x", onnx::TensorProto::FLOAT, {2, 3})}, 1,
                        {IntAttr("axis", 2)});
  auto g = Import(m);
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(g.status().code(), StatusCode::kOutOfRange);
  EXPECT_NE(g.status().message().find("Softmax (node \"n\""), std::string::npos)
      << g.status().message();
}

}  // namespace
}  // namespace frt
