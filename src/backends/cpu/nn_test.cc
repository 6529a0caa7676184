// Tests of the nn family beyond the ONNX node suite: SAME padding splits,
// ConvTranspose output_shape, pooling ceil_mode / count_include_pad /
// storage_order, LpPool, Einsum diagonals and ellipsis broadcasting,
// quantization rounding / blocking / fp8 saturation, the opset adapters
// (Gemm-6 broadcast, LpPool-1 float p, QuantizeLinear output_dtype), symbolic
// shape inference, and errors (not crashes) on hostile input. Expected values
// are derived by hand (and agree with onnxruntime / the ONNX reference).
#include <gtest/gtest.h>

#include <cmath>

#include "backends/cpu/reference_executor.h"
#include "onnx/importer.h"
#include "onnx/onnx_pb.h"
#include "test_util.h"

namespace frt {
namespace {

using TP = onnx::TensorProto;

struct In {
  std::string name;
  int elem_type = TP::FLOAT;
  std::vector<std::string> dims;  // "batch" = symbolic, else a number
  std::optional<Tensor> init;     // set: an initializer with this value
};

In Input(std::string name, int type, std::vector<std::string> dims) {
  return In{std::move(name), type, std::move(dims), std::nullopt};
}

In Init(std::string name, int type, Tensor value) {
  return In{std::move(name), type, {}, std::move(value)};
}

onnx::AttributeProto Attr(const std::string& name, int64_t v) {
  return testing_util::IntAttr(name, v);
}

onnx::AttributeProto Attr(const std::string& name, float v) {
  return testing_util::FloatAttr(name, v);
}

onnx::AttributeProto Attr(const std::string& name, const std::string& v) {
  return testing_util::StringAttr(name, v);
}

onnx::AttributeProto Attr(const std::string& name, const std::vector<int64_t>& v) {
  return testing_util::IntsAttr(name, v);
}

// One node `op` over the given inputs, outputs y0..y{n_out-1}.
onnx::ModelProto OneNode(const std::string& op, int opset, const std::vector<In>& ins,
                         const std::vector<onnx::AttributeProto>& attrs = {}, int n_out = 1) {
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
      t->set_data_type(in.elem_type);
      for (int64_t d : in.init->dims()) t->add_dims(d);
      t->set_raw_data(in.init->raw(), in.init->nbytes());
      continue;
    }
    auto* vi = g->add_input();
    vi->set_name(in.name);
    auto* tt = vi->mutable_type()->mutable_tensor_type();
    tt->set_elem_type(in.elem_type);
    auto* shape = tt->mutable_shape();
    for (const std::string& d : in.dims) {
      if (std::isdigit(static_cast<unsigned char>(d[0]))) {
        shape->add_dim()->set_dim_value(std::stoll(d));
      } else {
        shape->add_dim()->set_dim_param(d);
      }
    }
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

std::vector<double> Values(const Tensor& t) {
  std::vector<double> v;
  for (int64_t i = 0; i < t.num_elements(); ++i) v.push_back(t.GetAsDouble(i));
  return v;
}

Tensor F32(std::vector<float> v, Dims dims) { return Tensor::FromVector<float>(v, dims); }

TEST(NnConv, SamePaddingPutsTheOddUnitAtTheEndForUpperAndTheStartForLower) {
  // x = 1..6, kernel of ones (3), stride 2: 3 outputs, 1 unit of padding.
  for (const auto& [mode, want] : std::vector<std::pair<std::string, std::vector<double>>>{
           {"SAME_UPPER", {6, 12, 11}}, {"SAME_LOWER", {3, 9, 15}}}) {
    auto m =
        OneNode("Conv", 11,
                {Input("x", TP::FLOAT, {"1", "1", "6"}), Input("w", TP::FLOAT, {"1", "1", "3"})},
                {Attr("auto_pad", mode), Attr("strides", std::vector<int64_t>{2})});
    auto out =
        RunModel(m, {{"x", F32({1, 2, 3, 4, 5, 6}, {1, 1, 6})}, {"w", F32({1, 1, 1}, {1, 1, 3})}});
    ASSERT_TRUE(out.ok()) << out.status().ToString();
    EXPECT_EQ(Values((*out)[0]), want) << mode;
  }
}

TEST(NnConv, ConvTransposeOutputShapeLargerThanFullExtendsAtTheEnd) {
  auto m = OneNode(
      "ConvTranspose", 11,
      {Input("x", TP::FLOAT, {"1", "1", "2"}), Input("w", TP::FLOAT, {"1", "1", "2"})},
      {Attr("strides", std::vector<int64_t>{2}), Attr("output_shape", std::vector<int64_t>{5})});
  auto out = RunModel(m, {{"x", F32({1, 2}, {1, 1, 2})}, {"w", F32({1, 1}, {1, 1, 2})}});
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(Values((*out)[0]), (std::vector<double>{1, 1, 2, 2, 0}));
}

TEST(NnConv, SymbolicBatchSurvivesInference) {
  Tensor w = Tensor::Allocate(DType::kFloat32, {4, 3, 3, 3}).value();
  auto m = OneNode("Conv", 11,
                   {Input("x", TP::FLOAT, {"batch", "3", "8", "8"}), Init("w", TP::FLOAT, w)},
                   {Attr("strides", std::vector<int64_t>{2, 2}),
                    Attr("pads", std::vector<int64_t>{1, 1, 1, 1})});
  auto g = Import(m);
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  const Value* y = (*g)->FindValue("y0");
  ASSERT_TRUE(y && y->shape);
  EXPECT_EQ(y->shape->ToString(), "[batch,4,4,4]");
}

TEST(NnConv, KernelLargerThanInputIsAnError) {
  auto m = OneNode(
      "Conv", 11,
      {Input("x", TP::FLOAT, {"1", "1", "2", "2"}), Input("w", TP::FLOAT, {"1", "1", "3", "3"})});
  auto g = Import(m);
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(g.status().code(), StatusCode::kInvalidModel);
  EXPECT_NE(g.status().message().find("larger than the padded input"), std::string::npos);
}

TEST(NnPool, CeilModeCountsOnlyTheExplicitPaddingWithCountIncludePad) {
  // x = 1..6, kernel 3, stride 2, pads 1+1, ceil_mode: the 4th window hangs
  // past the end padding; only its taps inside the padded extent count.
  for (const auto& [include, want] : std::vector<std::pair<int64_t, std::vector<double>>>{
           {1, {1, 3, 5, 3}}, {0, {1.5, 3, 5, 6}}}) {
    auto m =
        OneNode("AveragePool", 19, {Input("x", TP::FLOAT, {"1", "1", "6"})},
                {Attr("kernel_shape", std::vector<int64_t>{3}),
                 Attr("strides", std::vector<int64_t>{2}), Attr("pads", std::vector<int64_t>{1, 1}),
                 Attr("ceil_mode", int64_t{1}), Attr("count_include_pad", include)});
    auto out = RunModel(m, {{"x", F32({1, 2, 3, 4, 5, 6}, {1, 1, 6})}});
    ASSERT_TRUE(out.ok()) << out.status().ToString();
    EXPECT_EQ(Values((*out)[0]), want) << "count_include_pad " << include;
  }
}

TEST(NnPool, MaxPoolIndicesFollowStorageOrder) {
  // [[1, 2, 9], [4, 8, 3]]: maxima 8 at (1, 1) and 9 at (0, 2).
  for (const auto& [order, want] :
       std::vector<std::pair<int64_t, std::vector<double>>>{{0, {4, 2}}, {1, {3, 4}}}) {
    auto m = OneNode(
        "MaxPool", 12, {Input("x", TP::FLOAT, {"1", "1", "2", "3"})},
        {Attr("kernel_shape", std::vector<int64_t>{2, 2}), Attr("storage_order", order)}, 2);
    auto out = RunModel(m, {{"x", F32({1, 2, 9, 4, 8, 3}, {1, 1, 2, 3})}});
    ASSERT_TRUE(out.ok()) << out.status().ToString();
    EXPECT_EQ(Values((*out)[0]), (std::vector<double>{8, 9}));
    EXPECT_EQ(Values((*out)[1]), want) << "storage_order " << order;
  }
}

TEST(NnPool, LpPoolSumsPowersAndOpset1FloatPIsImported) {
  auto m2 = OneNode("LpPool", 18, {Input("x", TP::FLOAT, {"1", "1", "4"})},
                    {Attr("kernel_shape", std::vector<int64_t>{2}),
                     Attr("strides", std::vector<int64_t>{2}), Attr("p", int64_t{1})});
  auto out = RunModel(m2, {{"x", F32({-1, 2, -3, 4}, {1, 1, 4})}});
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(Values((*out)[0]), (std::vector<double>{3, 7}));
  auto m1 = OneNode("LpPool", 1, {Input("x", TP::FLOAT, {"1", "1", "4"})},
                    {Attr("kernel_shape", std::vector<int64_t>{2}),
                     Attr("strides", std::vector<int64_t>{2}), Attr("p", 2.0f)});
  out = RunModel(m1, {{"x", F32({3, 4, 0, -2}, {1, 1, 4})}});
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(Values((*out)[0]), (std::vector<double>{5, 2}));
}

TEST(NnPool, MaxUnpoolRejectsAnIndexOutsideTheOutput) {
  auto m = OneNode(
      "MaxUnpool", 11,
      {Input("x", TP::FLOAT, {"1", "1", "1", "1"}), Input("i", TP::INT64, {"1", "1", "1", "1"})},
      {Attr("kernel_shape", std::vector<int64_t>{2, 2}),
       Attr("strides", std::vector<int64_t>{2, 2})});
  auto out = RunModel(
      m, {{"x", F32({1}, {1, 1, 1, 1})}, {"i", Tensor::FromVector<int64_t>({4}, {1, 1, 1, 1})}});
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), StatusCode::kOutOfRange);
}

TEST(NnMatMul, VectorTimesVectorIsAScalarAndGemm6BroadcastImports) {
  auto m = OneNode("MatMul", 13, {Input("a", TP::FLOAT, {"3"}), Input("b", TP::FLOAT, {"3"})});
  auto out = RunModel(m, {{"a", F32({1, 2, 3}, {3})}, {"b", F32({4, 5, 6}, {3})}});
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ((*out)[0].dims(), Dims{});
  EXPECT_EQ(Values((*out)[0]), (std::vector<double>{32}));
  auto gemm = OneNode("Gemm", 6,
                      {Input("a", TP::FLOAT, {"1", "2"}), Input("b", TP::FLOAT, {"2", "2"}),
                       Input("c", TP::FLOAT, {"2"})},
                      {Attr("broadcast", int64_t{1}), Attr("beta", 2.0f)});
  out = RunModel(
      gemm,
      {{"a", F32({1, 2}, {1, 2})}, {"b", F32({1, 0, 0, 1}, {2, 2})}, {"c", F32({10, 20}, {2})}});
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(Values((*out)[0]), (std::vector<double>{21, 42}));
}

TEST(NnMatMul, GemmWithBetaZeroIgnoresC) {
  auto m = OneNode("Gemm", 13,
                   {Input("a", TP::FLOAT, {"1", "1"}), Input("b", TP::FLOAT, {"1", "1"}),
                    Input("c", TP::FLOAT, {"1", "1"})},
                   {Attr("beta", 0.0f)});
  auto out =
      RunModel(m, {{"a", F32({2}, {1, 1})}, {"b", F32({3}, {1, 1})}, {"c", F32({NAN}, {1, 1})}});
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(Values((*out)[0]), (std::vector<double>{6}));
}

TEST(NnMatMul, MatMulIntegerTakesOneZeroPointPerRowOfA) {
  auto m = OneNode("MatMulInteger", 10,
                   {Input("a", TP::UINT8, {"2", "2"}), Input("b", TP::UINT8, {"2", "1"}),
                    Input("z", TP::UINT8, {"2"})});
  auto out = RunModel(m, {{"a", Tensor::FromVector<uint8_t>({1, 2, 3, 4}, {2, 2})},
                          {"b", Tensor::FromVector<uint8_t>({1, 1}, {2, 1})},
                          {"z", Tensor::FromVector<uint8_t>({1, 2}, {2})}});
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(Values((*out)[0]), (std::vector<double>{1, 3}));
}

TEST(NnMatMul, DetOfBatchedMatrices) {
  auto m = OneNode("Det", 11, {Input("x", TP::FLOAT, {"2", "2", "2"})});
  auto out = RunModel(m, {{"x", F32({1, 2, 3, 4, 1, 2, 2, 4}, {2, 2, 2})}});
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(Values((*out)[0]), (std::vector<double>{-2, 0}));
}

TEST(NnEinsum, TraceDiagonalAndEllipsisBroadcast) {
  const Tensor x = F32({1, 2, 3, 4}, {2, 2});
  for (const auto& [eq, want] :
       std::vector<std::pair<std::string, std::vector<double>>>{{"ii", {5}},
                                                                {"ii->i", {1, 4}},
                                                                {"ij->", {10}},
                                                                {"ij", {1, 2, 3, 4}},
                                                                {"ji", {1, 3, 2, 4}}}) {
    auto m = OneNode("Einsum", 12, {Input("x", TP::FLOAT, {"2", "2"})}, {Attr("equation", eq)});
    auto out = RunModel(m, {{"x", x}});
    ASSERT_TRUE(out.ok()) << eq << ": " << out.status().ToString();
    EXPECT_EQ(Values((*out)[0]), want) << eq;
  }
  auto m = OneNode("Einsum", 12, {Input("a", TP::FLOAT, {"2", "2"}), Input("b", TP::FLOAT, {"2"})},
                   {Attr("equation", std::string("...i,...i->..."))});
  auto out = RunModel(m, {{"a", x}, {"b", F32({1, 1}, {2})}});
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(Values((*out)[0]), (std::vector<double>{3, 7}));
}

TEST(NnQuant, QuantizeRoundsHalfToEvenAndSaturates) {
  auto m =
      OneNode("QuantizeLinear", 13,
              {Input("x", TP::FLOAT, {"7"}), Input("s", TP::FLOAT, {}), Input("z", TP::INT8, {})});
  auto out = RunModel(m, {{"x", F32({0.5f, 1.5f, 2.5f, -0.5f, -1.5f, 300, -300}, {7})},
                          {"s", F32({1}, {})},
                          {"z", Tensor::FromVector<int8_t>({0}, {})}});
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(Values((*out)[0]), (std::vector<double>{0, 2, 2, 0, -2, 127, -128}));
}

TEST(NnQuant, BlockedScalesAndOutputDtype) {
  auto m = OneNode("QuantizeLinear", 21,
                   {Input("x", TP::FLOAT, {"1", "4"}), Input("s", TP::FLOAT, {"1", "2"})},
                   {Attr("axis", int64_t{1}), Attr("block_size", int64_t{2}),
                    Attr("output_dtype", int64_t{TP::INT8})});
  auto out = RunModel(m, {{"x", F32({1, 2, 3, -4}, {1, 4})}, {"s", F32({1, 2}, {1, 2})}});
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ((*out)[0].dtype(), DType::kInt8);
  EXPECT_EQ(Values((*out)[0]), (std::vector<double>{1, 2, 2, -2}));
}

TEST(NnQuant, Float8SaturatesOnlyWhenAsked) {
  for (int64_t saturate : {1, 0}) {
    auto m =
        OneNode("QuantizeLinear", 21, {Input("x", TP::FLOAT, {"2"}), Input("s", TP::FLOAT, {})},
                {Attr("output_dtype", int64_t{17} /* FLOAT8E4M3FN */), Attr("saturate", saturate)});
    auto out = RunModel(m, {{"x", F32({1000, 3}, {2})}, {"s", F32({1}, {})}});
    ASSERT_TRUE(out.ok()) << out.status().ToString();
    std::vector<double> got = Values((*out)[0]);
    if (saturate) {
      EXPECT_EQ(got[0], 448);
    } else {
      EXPECT_TRUE(std::isnan(got[0]));  // E4M3FN has no infinity
    }
    EXPECT_EQ(got[1], 3);
  }
}

TEST(NnQuant, DynamicQuantizeLinearMatchesTheSpecExample) {
  auto m = OneNode("DynamicQuantizeLinear", 11, {Input("x", TP::FLOAT, {"6"})}, {}, 3);
  auto out = RunModel(m, {{"x", F32({0, 2, -3, -2.5f, 1.34f, 0.5f}, {6})}});
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(Values((*out)[0]), (std::vector<double>{153, 255, 0, 26, 221, 179}));
  EXPECT_FLOAT_EQ((*out)[1].data<float>()[0], 5.0f / 255.0f);
  EXPECT_EQ(Values((*out)[2]), (std::vector<double>{153}));
}

TEST(NnQuant, WrongPerAxisScaleLengthIsAnError) {
  auto m = OneNode("DequantizeLinear", 13,
                   {Input("x", TP::UINT8, {"2", "3"}), Input("s", TP::FLOAT, {"4"})});
  auto g = Import(m);
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(g.status().code(), StatusCode::kInvalidModel);
  EXPECT_NE(g.status().message().find("requires [3]"), std::string::npos);
}

}  // namespace
}  // namespace frt
