// Tests of the elementwise family beyond the ONNX node suite: integer
// exactness past 2^53 and wrap-around, Mod sign rules, Cast's conversion rules
// (truncation, saturation, single rounding, fp8), the opset adapters of the
// importer (legacy axis broadcast, Clip attributes, Cast-1 type names, Selu-1
// defaults) and errors (not crashes) on invalid models.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

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

using TP = onnx::TensorProto;

// A model input: a graph input, or (with `init`) a float initializer of `values`.
struct In {
  std::string name;
  int elem_type = TP::FLOAT;
  std::vector<int64_t> dims;  // empty with `unknown_rank`: no shape at all
  bool unknown_rank = false;
  bool init = false;
  std::vector<float> values;
};

In Input(std::string name, int elem_type, std::vector<int64_t> dims) {
  return In{std::move(name), elem_type, std::move(dims), false, false, {}};
}
In UnknownRank(std::string name, int elem_type) {
  return In{std::move(name), elem_type, {}, true, false, {}};
}
In FloatConst(std::string name, std::vector<int64_t> dims, std::vector<float> values) {
  return In{std::move(name), TP::FLOAT, std::move(dims), false, true, std::move(values)};
}

struct NodeSpec {
  std::string op;
  std::vector<std::string> inputs;
  std::string output;
  std::vector<onnx::AttributeProto> attrs;
};

// Nodes over the given inputs; the last node's output is the graph output "y".
onnx::ModelProto Model(int opset, const std::vector<In>& ins, const std::vector<NodeSpec>& nodes) {
  onnx::ModelProto m;
  m.set_ir_version(opset < 7 ? 3 : 8);
  auto* os = m.add_opset_import();
  os->set_domain("");
  os->set_version(opset);
  auto* g = m.mutable_graph();
  g->set_name("g");
  for (const In& in : ins) {
    if (in.init) {
      auto* t = g->add_initializer();
      t->set_name(in.name);
      t->set_data_type(TP::FLOAT);
      for (int64_t d : in.dims) t->add_dims(d);
      for (float v : in.values) t->add_float_data(v);
      continue;
    }
    auto* vi = g->add_input();
    vi->set_name(in.name);
    auto* tt = vi->mutable_type()->mutable_tensor_type();
    tt->set_elem_type(in.elem_type);
    if (in.unknown_rank) continue;
    auto* shape = tt->mutable_shape();
    for (int64_t d : in.dims) shape->add_dim()->set_dim_value(d);
  }
  for (size_t i = 0; i < nodes.size(); ++i) {
    auto* n = g->add_node();
    n->set_op_type(nodes[i].op);
    n->set_name("n" + std::to_string(i));
    for (const auto& in : nodes[i].inputs) n->add_input(in);
    n->add_output(nodes[i].output);
    for (const auto& a : nodes[i].attrs) *n->add_attribute() = a;
  }
  g->add_output()->set_name(nodes.back().output);
  return m;
}

onnx::ModelProto OneNode(const std::string& op, int opset, const std::vector<In>& ins,
                         std::vector<onnx::AttributeProto> attrs = {}) {
  std::vector<std::string> names;
  for (const In& in : ins) names.push_back(in.name);
  return Model(opset, ins, {{op, names, "y", std::move(attrs)}});
}

Result<std::unique_ptr<Graph>> Import(const onnx::ModelProto& m) {
  return ImportOnnxBytes(m.SerializeAsString(), "");
}

Result<Tensor> RunModel(const onnx::ModelProto& m, std::map<std::string, Tensor> feeds) {
  FRT_ASSIGN_OR_RETURN(std::unique_ptr<Graph> g, Import(m));
  FRT_ASSIGN_OR_RETURN(std::unique_ptr<ReferenceExecutor> exec, ReferenceExecutor::Create(*g));
  FRT_ASSIGN_OR_RETURN(std::vector<Tensor> out, exec->Run(feeds));
  return out[0];
}

template <class T>
std::vector<T> Values(const Tensor& t) {
  return std::vector<T>(t.data<T>(), t.data<T>() + t.num_elements());
}

TEST(ElementwiseKernels, Int64ArithmeticIsExactAndWraps) {
  constexpr int64_t kBig = (int64_t{1} << 53) + 1;  // not representable in double
  constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
  auto x = Tensor::FromVector<int64_t>({kBig, kMin, -7}, {3});
  auto y = Tensor::FromVector<int64_t>({2, -1, 2}, {3});
  std::vector<In> ins = {Input("a", TP::INT64, {3}), Input("b", TP::INT64, {3})};
  auto add = RunModel(OneNode("Add", 14, ins), {{"a", x}, {"b", y}});
  ASSERT_TRUE(add.ok()) << add.status().ToString();
  EXPECT_EQ(Values<int64_t>(*add),
            (std::vector<int64_t>{kBig + 2, std::numeric_limits<int64_t>::max(), -5}));
  auto div = RunModel(OneNode("Div", 14, ins), {{"a", x}, {"b", y}});
  ASSERT_TRUE(div.ok()) << div.status().ToString();
  EXPECT_EQ(Values<int64_t>(*div), (std::vector<int64_t>{kBig / 2, kMin, -3}));  // truncates
  auto abs = RunModel(OneNode("Abs", 13, {Input("a", TP::INT64, {3})}), {{"a", x}});
  ASSERT_TRUE(abs.ok()) << abs.status().ToString();
  EXPECT_EQ(Values<int64_t>(*abs), (std::vector<int64_t>{kBig, kMin, 7}));  // |INT64_MIN| wraps
}

TEST(ElementwiseKernels, ModFollowsNumpySignRulesOrFmod) {
  auto a = Tensor::FromVector<int32_t>({-7, 7, -7, 5}, {4});
  auto b = Tensor::FromVector<int32_t>({3, -3, -3, 0}, {4});
  std::vector<In> ins = {Input("a", TP::INT32, {4}), Input("b", TP::INT32, {4})};
  auto mod = RunModel(OneNode("Mod", 13, ins), {{"a", a}, {"b", b}});
  ASSERT_TRUE(mod.ok()) << mod.status().ToString();
  EXPECT_EQ(Values<int32_t>(*mod), (std::vector<int32_t>{2, -2, -1, 0}));
  auto fmod = RunModel(OneNode("Mod", 13, ins, {IntAttr("fmod", 1)}), {{"a", a}, {"b", b}});
  ASSERT_TRUE(fmod.ok()) << fmod.status().ToString();
  EXPECT_EQ(Values<int32_t>(*fmod), (std::vector<int32_t>{-1, 1, -1, 0}));
}

TEST(ElementwiseKernels, PowOfIntegersIsExact) {
  auto base = Tensor::FromVector<int64_t>({3, -1, 2}, {3});
  auto exp = Tensor::FromVector<int32_t>({39, -3, -1}, {3});
  auto out = RunModel(OneNode("Pow", 15, {Input("a", TP::INT64, {3}), Input("b", TP::INT32, {3})}),
                      {{"a", base}, {"b", exp}});
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(Values<int64_t>(*out), (std::vector<int64_t>{4052555153018976267, -1, 0}));
}

TEST(ElementwiseKernels, CastFloatToIntTruncatesAndSaturates) {
  auto x = Tensor::FromVector<float>({-2.9f, 2.9f, 300.0f, -1e10f, NAN}, {5});
  auto out = RunModel(OneNode("Cast", 13, {Input("x", TP::FLOAT, {5})}, {IntAttr("to", TP::INT8)}),
                      {{"x", x}});
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(Values<int8_t>(*out), (std::vector<int8_t>{-2, 2, 127, -128, 0}));
  auto wrap = RunModel(OneNode("Cast", 13, {Input("x", TP::INT32, {2})}, {IntAttr("to", TP::INT8)}),
                       {{"x", Tensor::FromVector<int32_t>({300, -129}, {2})}});
  ASSERT_TRUE(wrap.ok()) << wrap.status().ToString();
  EXPECT_EQ(Values<int8_t>(*wrap), (std::vector<int8_t>{44, 127}));  // integers wrap
}

TEST(ElementwiseKernels, CastDoubleToHalfRoundsOnce) {
  // Just above the halfway point between 1 and the next f16: must round up.
  // Through float first it would land exactly on the halfway point and round to even (1.0).
  double v = 1.0 + std::ldexp(1.0, -11) + std::ldexp(1.0, -40);
  auto out =
      RunModel(OneNode("Cast", 13, {Input("x", TP::DOUBLE, {1})}, {IntAttr("to", TP::FLOAT16)}),
               {{"x", Tensor::FromVector<double>({v}, {1})}});
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(out->GetAsDouble(0), 1.0 + std::ldexp(1.0, -10));
}

TEST(ElementwiseKernels, CastToFp8SaturatesUnlessAsked) {
  auto x = Tensor::FromVector<float>({1000.0f, -INFINITY}, {2});
  for (int saturate : {1, 0}) {
    auto m = Model(19, {Input("x", TP::FLOAT, {2})},
                   {{"Cast", {"x"}, "q", {IntAttr("to", 17), IntAttr("saturate", saturate)}},
                    {"Cast", {"q"}, "y", {IntAttr("to", TP::FLOAT)}}});
    auto out = RunModel(m, {{"x", x}});
    ASSERT_TRUE(out.ok()) << out.status().ToString();
    if (saturate) {
      EXPECT_EQ(Values<float>(*out), (std::vector<float>{448.0f, -448.0f}));
    } else {
      EXPECT_TRUE(std::isnan(Values<float>(*out)[0]));  // E4M3FN has no infinity
    }
  }
}

TEST(ElementwiseImport, CastStoresTheFusionRtDType) {
  auto g = Import(OneNode("Cast", 1, {Input("x", TP::FLOAT, {2})}, {StringAttr("to", "INT32")}));
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  const Node* n = (*g)->nodes()[0];
  EXPECT_EQ(n->attrs.GetInt("to"), static_cast<int64_t>(DType::kInt32));
  EXPECT_EQ(n->outputs[0]->dtype, DType::kInt32);
  auto s = Import(OneNode("Cast", 13, {Input("x", TP::FLOAT, {2})}, {IntAttr("to", TP::STRING)}));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kUnsupported);
}

TEST(ElementwiseImport, LegacyAxisBroadcastReshapesAConstantB) {
  std::vector<float> b(12);
  for (size_t i = 0; i < b.size(); ++i) b[i] = static_cast<float>(i);
  auto m = OneNode("Add", 6, {Input("a", TP::FLOAT, {2, 3, 4, 5}), FloatConst("b", {3, 4}, b)},
                   {IntAttr("broadcast", 1), IntAttr("axis", 1)});
  auto g = Import(m);
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  ASSERT_EQ((*g)->num_nodes(), 1u);
  const Node* add = (*g)->nodes()[0];
  EXPECT_EQ(add->inputs[1]->constant->dims(), (Dims{3, 4, 1}));
  EXPECT_FALSE(add->attrs.Has("axis"));
  EXPECT_EQ(add->outputs[0]->shape->ToString(), "[2,3,4,5]");
  auto out = RunModel(m, {{"a", Tensor::Allocate(DType::kFloat32, {2, 3, 4, 5}).value()}});
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(out->GetAsDouble(1 * 20 + 2 * 5 + 4), 6.0);  // a[0,1,2,4] + b[1,2]
}

TEST(ElementwiseImport, LegacyAxisBroadcastOfAnIntermediateRunsInTheGraph) {
  // Neg's output has no shape at import: B's new shape is computed in the graph.
  auto m = Model(6, {Input("a", TP::FLOAT, {2, 3, 2}), Input("b", TP::FLOAT, {3})},
                 {{"Neg", {"a"}, "n", {}},
                  {"Mul", {"n", "b"}, "y", {IntAttr("broadcast", 1), IntAttr("axis", 1)}}});
  std::vector<float> a(12, 1.0f);
  auto out = RunModel(m, {{"a", Tensor::FromVector<float>(a, {2, 3, 2})},
                          {"b", Tensor::FromVector<float>({1, 2, 3}, {3})}});
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(out->dims(), (Dims{2, 3, 2}));
  EXPECT_EQ(Values<float>(*out),
            (std::vector<float>{-1, -1, -2, -2, -3, -3, -1, -1, -2, -2, -3, -3}));
}

TEST(ElementwiseImport, LegacyClipAttributesBecomeInputs) {
  auto m = Model(6, {Input("x", TP::DOUBLE, {3})},
                 {{"Neg", {"x"}, "n", {}},
                  {"Clip", {"n"}, "y", {FloatAttr("min", -0.5f), FloatAttr("max", 0.25f)}}});
  auto out = RunModel(m, {{"x", Tensor::FromVector<double>({-1, 0, 1}, {3})}});
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(Values<double>(*out), (std::vector<double>{0.25, 0, -0.5}));
}

TEST(ElementwiseImport, LegacySeluKeepsItsOldDefaults) {
  auto out = RunModel(OneNode("Selu", 1, {Input("x", TP::FLOAT, {1})}),
                      {{"x", Tensor::FromVector<float>({1.0f}, {1})}});
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_FLOAT_EQ(Values<float>(*out)[0], 1.0507f);
}

TEST(ElementwiseInference, UnknownRanksGiveUnknownShapes) {
  auto g = Import(OneNode(
      "Where", 16,
      {UnknownRank("c", TP::BOOL), Input("a", TP::INT64, {2, 1}), UnknownRank("b", TP::INT64)}));
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  const Value* y = (*g)->nodes()[0]->outputs[0];
  EXPECT_EQ(y->dtype, DType::kInt64);
  EXPECT_FALSE(y->shape.has_value());
}

TEST(ElementwiseInference, InvalidModelsAreErrors) {
  std::vector<In> floats = {Input("a", TP::FLOAT, {2}), Input("b", TP::FLOAT, {2})};
  auto mod = Import(OneNode("Mod", 13, floats));  // floats need fmod=1
  ASSERT_FALSE(mod.ok());
  EXPECT_EQ(mod.status().code(), StatusCode::kInvalidModel);
  auto logic = Import(OneNode("And", 7, floats));
  ASSERT_FALSE(logic.ok());
  EXPECT_NE(logic.status().message().find("must be one of: bool"), std::string::npos)
      << logic.status().message();
  std::vector<In> bytes = {Input("a", TP::UINT8, {2}), Input("b", TP::UINT8, {2})};
  auto shift = Import(OneNode("BitShift", 11, bytes, {StringAttr("direction", "UP")}));
  ASSERT_FALSE(shift.ok());
  EXPECT_EQ(shift.status().code(), StatusCode::kInvalidModel);
  auto clip =
      RunModel(OneNode("Clip", 13, {Input("x", TP::FLOAT, {2}), UnknownRank("lo", TP::FLOAT)}),
               {{"x", Tensor::FromVector<float>({1, 2}, {2})},
                {"lo", Tensor::FromVector<float>({1, 2}, {2})}});
  ASSERT_FALSE(clip.ok());  // min must be a scalar; caught at run time
}

}  // namespace
}  // namespace frt
