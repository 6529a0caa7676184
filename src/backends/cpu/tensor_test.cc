// Tests of the tensor family beyond the ONNX node suite: static shape
// inference with symbolic dims and constant shape inputs, the opset adapters
// of the importer, and errors (not crashes) on hostile indices and shapes.
// Numeric behaviour per op is covered by the ONNX node suite and by cases
// cross-checked against onnxruntime / the ONNX reference evaluator.
#include <gtest/gtest.h>

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

// Builds a small ONNX model in memory.
class ModelBuilder {
 public:
  explicit ModelBuilder(int opset) {
    m_.set_ir_version(8);
    auto* os = m_.add_opset_import();
    os->set_domain("");
    os->set_version(opset);
    m_.mutable_graph()->set_name("g");
  }
  // dims: a number is a static dim, anything else a symbol; {"*"}: rank unknown.
  ModelBuilder& Input(const std::string& name, int type, const std::vector<std::string>& dims) {
    auto* vi = m_.mutable_graph()->add_input();
    vi->set_name(name);
    auto* tt = vi->mutable_type()->mutable_tensor_type();
    tt->set_elem_type(type);
    if (dims == std::vector<std::string>{"*"}) return *this;
    auto* shape = tt->mutable_shape();
    for (const std::string& d : dims) {
      if (!d.empty() && std::isdigit(static_cast<unsigned char>(d[0]))) {
        shape->add_dim()->set_dim_value(std::stoll(d));
      } else {
        shape->add_dim()->set_dim_param(d);
      }
    }
    return *this;
  }
  ModelBuilder& Ints(const std::string& name, const std::vector<int64_t>& values,
                     bool scalar = false) {
    auto* t = m_.mutable_graph()->add_initializer();
    t->set_name(name);
    t->set_data_type(TP::INT64);
    if (!scalar) t->add_dims(static_cast<int64_t>(values.size()));
    for (int64_t v : values) t->add_int64_data(v);
    return *this;
  }
  ModelBuilder& Node(const std::string& op, const std::vector<std::string>& ins,
                     const std::vector<std::string>& outs,
                     const std::vector<onnx::AttributeProto>& attrs = {}) {
    auto* n = m_.mutable_graph()->add_node();
    n->set_op_type(op);
    n->set_name(op + "_" + std::to_string(m_.graph().node_size()));
    for (const auto& i : ins) n->add_input(i);
    for (const auto& o : outs) n->add_output(o);
    for (const auto& a : attrs) *n->add_attribute() = a;
    return *this;
  }
  ModelBuilder& Output(const std::string& name) {
    m_.mutable_graph()->add_output()->set_name(name);
    return *this;
  }
  Result<std::unique_ptr<Graph>> Import() const {
    return ImportOnnxBytes(m_.SerializeAsString(), "");
  }
  Result<std::vector<Tensor>> Run(std::map<std::string, Tensor> feeds) const {
    FRT_ASSIGN_OR_RETURN(std::unique_ptr<Graph> g, Import());
    FRT_ASSIGN_OR_RETURN(std::unique_ptr<ReferenceExecutor> exec, ReferenceExecutor::Create(*g));
    return exec->Run(feeds);
  }

 private:
  onnx::ModelProto m_;
};

// The inferred shape of value `name` ("[batch,12]"), or "unranked".
std::string ShapeOf(const Graph& g, const std::string& name) {
  const Value* v = g.FindValue(name);
  if (!v) return "missing";
  return v->shape ? v->shape->ToString() : "unranked";
}

// Imports a one-op model over x: f32[batch,3,4] plus int64 initializers and
// returns the shape of its output y.
std::string InferOne(int opset, const std::string& op, const std::vector<std::string>& x_dims,
                     const std::vector<std::pair<std::string, std::vector<int64_t>>>& consts,
                     const std::vector<onnx::AttributeProto>& attrs = {}) {
  ModelBuilder b(opset);
  b.Input("x", TP::FLOAT, x_dims);
  std::vector<std::string> ins = {"x"};
  for (const auto& [name, values] : consts) {
    b.Ints(name, values);
    ins.push_back(name);
  }
  b.Node(op, ins, {"y"}, attrs).Output("y");
  auto g = b.Import();
  if (!g.ok()) return "error: " + g.status().ToString();
  return ShapeOf(**g, "y");
}

TEST(TensorInference, ReshapeKeepsSymbols) {
  EXPECT_EQ(InferOne(14, "Reshape", {"batch", "3", "4"}, {{"s", {0, -1}}}), "[batch,12]");
  EXPECT_EQ(InferOne(14, "Reshape", {"batch", "3", "4"}, {{"s", {-1, 12}}}), "[batch,12]");
  EXPECT_EQ(InferOne(14, "Reshape", {"batch", "3", "4"}, {{"s", {-1, 4}}}), "[?,4]");
  EXPECT_EQ(InferOne(14, "Reshape", {"batch", "3", "4"}, {{"s", {0, 3, 2, 2}}}), "[batch,3,2,2]");
  EXPECT_EQ(InferOne(14, "Reshape", {"2", "3", "4"}, {{"s", {4, -1}}}), "[4,6]");
  EXPECT_NE(InferOne(14, "Reshape", {"2", "3", "4"}, {{"s", {5, -1}}}).find("InvalidModel"),
            std::string::npos);
  EXPECT_NE(InferOne(14, "Reshape", {"2", "3", "4"}, {{"s", {-1, -1}}}).find("InvalidModel"),
            std::string::npos);
}

// Shape values carry symbolic dims (ir/symbolic_values.h): the Reshape target
// is [batch, 3] and so is the output, though batch has no value yet.
TEST(TensorInference, ShapeValueOfSymbolicInputIsSymbolic) {
  ModelBuilder b(15);
  b.Input("x", TP::FLOAT, {"batch", "3"})
      .Input("z", TP::FLOAT, {"n", "6"})
      .Node("Shape", {"x"}, {"s"})
      .Node("Reshape", {"z", "s"}, {"y"})
      .Output("y");
  auto g = b.Import();
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  EXPECT_EQ(ShapeOf(**g, "s"), "[2]");
  EXPECT_EQ(ShapeOf(**g, "y"), "[batch,3]");
  auto out = b.Run({{"x", Tensor::Allocate(DType::kFloat32, {4, 3}).value()},
                    {"z", Tensor::Allocate(DType::kFloat32, {2, 6}).value()}});
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ((*out)[0].dims(), (Dims{4, 3}));
}

TEST(TensorInference, ConstantShapeInputsGiveExactShapes) {
  EXPECT_EQ(InferOne(13, "Flatten", {"batch", "3", "4"}, {}), "[batch,12]");
  EXPECT_EQ(InferOne(13, "Flatten", {"batch", "3", "4"}, {}, {IntAttr("axis", 2)}), "[?,4]");
  EXPECT_EQ(InferOne(13, "Squeeze", {"batch", "1", "4"}, {{"a", {1}}}), "[batch,4]");
  EXPECT_EQ(InferOne(13, "Squeeze", {"batch", "1", "4"}, {}), "unranked");
  EXPECT_EQ(InferOne(13, "Unsqueeze", {"batch", "4"}, {{"a", {-1, 0}}}), "[1,batch,4,1]");
  EXPECT_EQ(InferOne(13, "Expand", {"batch", "1"}, {{"s", {2, 1, 5}}}), "[2,batch,5]");
  EXPECT_EQ(InferOne(13, "Slice", {"batch", "10"}, {{"s", {2}}, {"e", {-1}}, {"a", {1}}}),
            "[batch,7]");
  EXPECT_EQ(
      InferOne(13, "Slice", {"batch", "10"}, {{"s", {9}}, {"e", {0}}, {"a", {-1}}, {"t", {-3}}}),
      "[batch,3]");
  EXPECT_EQ(InferOne(13, "Slice", {"batch", "10"}, {{"s", {1}}, {"e", {3}}}), "[?,10]");
  EXPECT_EQ(InferOne(13, "Tile", {"batch", "3"}, {{"r", {1, 2}}}), "[batch,6]");
  EXPECT_EQ(InferOne(18, "Pad", {"batch", "3"}, {{"p", {0, 1, 0, 2}}}), "[batch,6]");
  EXPECT_EQ(InferOne(13, "Transpose", {"batch", "3", "4"}, {}, {IntsAttr("perm", {2, 0, 1})}),
            "[4,batch,3]");
  EXPECT_EQ(InferOne(13, "DepthToSpace", {"batch", "8", "2", "3"}, {}, {IntAttr("blocksize", 2)}),
            "[batch,2,4,6]");
  EXPECT_EQ(InferOne(13, "NonZero", {"batch", "3"}, {}), "[2,?]");
  EXPECT_EQ(InferOne(14, "Trilu", {"batch", "3", "3"}, {}), "[batch,3,3]");
}

TEST(TensorInference, MultiInputOps) {
  ModelBuilder b(18);
  b.Input("a", TP::FLOAT, {"batch", "3"})
      .Input("b", TP::FLOAT, {"batch", "4"})
      .Input("i", TP::INT64, {"n", "k"})
      .Input("t", TP::FLOAT, {"10", "6"})
      .Node("Concat", {"a", "b"}, {"c"}, {IntAttr("axis", -1)})
      .Node("Split", {"c"}, {"s0", "s1", "s2"}, {IntAttr("axis", 1), IntAttr("num_outputs", 3)})
      .Node("Gather", {"t", "i"}, {"g"})
      .Node("Shape", {"c"}, {"sh"}, {IntAttr("start", 1)})
      .Node("ConstantOfShape", {"sh"}, {"z"})
      .Output("s2")
      .Output("g")
      .Output("z");
  auto g = b.Import();
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  EXPECT_EQ(ShapeOf(**g, "c"), "[batch,7]");
  EXPECT_EQ(ShapeOf(**g, "s0"), "[batch,3]");
  EXPECT_EQ(ShapeOf(**g, "s2"), "[batch,1]");
  EXPECT_EQ(ShapeOf(**g, "g"), "[n,k,6]");
  EXPECT_EQ(ShapeOf(**g, "sh"), "[1]");
  EXPECT_EQ(ShapeOf(**g, "z"), "[7]");  // the static part of c's shape
}

// Every op of the family imports (static inference runs) with inputs of
// unknown rank, and with symbolic inputs of a plausible rank.
TEST(TensorInference, UnknownAndSymbolicInputsNeverCrash) {
  struct Case {
    std::string op;
    std::vector<int> types;  // input dtypes
    std::vector<onnx::AttributeProto> attrs;
    int n_out = 1;
  };
  const int F = TP::FLOAT, I = TP::INT64, B = TP::BOOL;
  auto C = [](std::string op, std::vector<int> types, std::vector<onnx::AttributeProto> attrs = {},
              int n_out = 1) {
    return Case{std::move(op), std::move(types), std::move(attrs), n_out};
  };
  const std::vector<Case> cases = {C("Reshape", {F, I}),
                                   C("Shape", {F}),
                                   C("Size", {F}),
                                   C("Flatten", {F}),
                                   C("Squeeze", {F, I}),
                                   C("Squeeze", {F}),
                                   C("Unsqueeze", {F, I}),
                                   C("Transpose", {F}),
                                   C("Transpose", {F}, {IntsAttr("perm", {1, 0})}),
                                   C("Concat", {F, F}, {IntAttr("axis", 0)}),
                                   C("Split", {F}, {}, 2),
                                   C("Split", {F, I}, {}, 2),
                                   C("Split", {F}, {IntAttr("num_outputs", 2)}, 2),
                                   C("Slice", {F, I, I}),
                                   C("Slice", {F, I, I, I, I}),
                                   C("Gather", {F, I}),
                                   C("GatherElements", {F, I}),
                                   C("GatherND", {F, I}),
                                   C("ScatterElements", {F, I, F}),
                                   C("ScatterND", {F, I, F}),
                                   C("Expand", {F, I}),
                                   C("Tile", {F, I}),
                                   C("Pad", {F, I}),
                                   C("Pad", {F, I, F, I}),
                                   C("ConstantOfShape", {I}),
                                   C("Range", {F, F, F}),
                                   C("Identity", {F}),
                                   C("Dropout", {F}, {}, 2),
                                   C("Trilu", {F}),
                                   C("Trilu", {F, I}),
                                   C("OneHot", {I, I, F}),
                                   C("EyeLike", {F}),
                                   C("NonZero", {F}),
                                   C("Compress", {F, B}),
                                   C("Compress", {F, B}, {IntAttr("axis", 1)}),
                                   C("DepthToSpace", {F}, {IntAttr("blocksize", 2)}),
                                   C("SpaceToDepth", {F}, {IntAttr("blocksize", 2)}),
                                   C("ReverseSequence", {F, I}),
                                   C("Unique", {F}, {}, 4),
                                   C("Unique", {F}, {IntAttr("axis", 0)}, 4)};
  for (const Case& c : cases) {
    for (bool symbolic : {false, true}) {
      ModelBuilder b(21);
      std::vector<std::string> ins, outs;
      for (size_t i = 0; i < c.types.size(); ++i) {
        std::string name = "in" + std::to_string(i);
        std::vector<std::string> dims = {"*"};
        if (symbolic) {
          // Data inputs get rank 4 (DepthToSpace needs it); index/shape inputs rank 1.
          dims = i == 0 && c.op != "ConstantOfShape" && c.op != "Range"
                     ? std::vector<std::string>{"a", "b", "c", "d"}
                     : std::vector<std::string>{"n"};
          if (c.op == "Range" || (c.op == "Trilu" && i == 1)) dims.clear();
        }
        b.Input(name, c.types[i], dims);
        ins.push_back(name);
      }
      for (int i = 0; i < c.n_out; ++i) {
        outs.push_back("y" + std::to_string(i));
        b.Output(outs.back());
      }
      b.Node(c.op, ins, outs, c.attrs);
      auto g = b.Import();
      // Symbolic ranks are not always compatible (Concat of rank 4 and 1): an
      // InvalidModel error is fine there, anything else is not.
      EXPECT_TRUE(g.ok() || (symbolic && g.status().code() == StatusCode::kInvalidModel))
          << c.op << (symbolic ? " symbolic: " : " unranked: ") << g.status().ToString();
    }
  }
}

TEST(TensorInference, RangeWithConstantsIsStatic) {
  ModelBuilder b(11);
  b.Ints("s", {10}, true).Ints("l", {-7}, true).Ints("d", {-3}, true);
  b.Node("Range", {"s", "l", "d"}, {"y"}).Output("y");
  auto g = b.Import();
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  EXPECT_EQ(ShapeOf(**g, "y"), "[6]");
  ModelBuilder z(11);
  z.Ints("s", {1}, true).Ints("l", {5}, true).Ints("d", {0}, true);
  z.Node("Range", {"s", "l", "d"}, {"y"}).Output("y");
  auto bad = z.Import();
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("delta"), std::string::npos);
}

TEST(TensorImport, OldAttributeFormsBecomeInputs) {
  EXPECT_EQ(InferOne(11, "Squeeze", {"batch", "1", "4"}, {}, {IntsAttr("axes", {1})}), "[batch,4]");
  EXPECT_EQ(InferOne(11, "Unsqueeze", {"batch", "4"}, {}, {IntsAttr("axes", {0})}), "[1,batch,4]");
  EXPECT_EQ(InferOne(9, "Slice", {"batch", "10"}, {},
                     {IntsAttr("starts", {1}), IntsAttr("ends", {4}), IntsAttr("axes", {1})}),
            "[batch,3]");
  EXPECT_EQ(InferOne(4, "Reshape", {"batch", "3", "4"}, {}, {IntsAttr("shape", {0, 12})}),
            "[batch,12]");
  EXPECT_EQ(InferOne(2, "Pad", {"batch", "3"}, {}, {IntsAttr("pads", {0, 1, 0, 1})}), "[batch,5]");
  EXPECT_EQ(InferOne(3, "Concat", {"batch", "3"}, {}), "[batch,3]");
}

TEST(TensorImport, OldPadValueOnAnIntermediateIsCastToItsDType) {
  ModelBuilder b(2);
  b.Input("x", TP::FLOAT, {"2"})
      .Node("Identity", {"x"}, {"t"})
      .Node("Pad", {"t"}, {"y"}, {IntsAttr("pads", {1, 1}), FloatAttr("value", 2.5f)})
      .Output("y");
  auto out = b.Run({{"x", Tensor::FromVector<float>({1, 2}, {2})}});
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  ASSERT_EQ((*out)[0].dims(), (Dims{4}));
  EXPECT_EQ((*out)[0].GetAsDouble(0), 2.5);
  EXPECT_EQ((*out)[0].GetAsDouble(2), 2.0);
}

TEST(TensorImport, EyeLikeDTypeBecomesIrDType) {
  ModelBuilder b(9);
  b.Input("x", TP::FLOAT, {"2", "3"})
      .Node("EyeLike", {"x"}, {"y"}, {IntAttr("dtype", TP::INT32), IntAttr("k", 1)})
      .Output("y");
  auto out = b.Run({{"x", Tensor::Allocate(DType::kFloat32, {2, 3}).value()}});
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ((*out)[0].dtype(), DType::kInt32);
  EXPECT_EQ((*out)[0].data<int32_t>()[1], 1);
  EXPECT_EQ((*out)[0].data<int32_t>()[5], 1);
  EXPECT_EQ((*out)[0].data<int32_t>()[0], 0);
}

// Runs op(data, indices[, updates]) with a hostile index and expects an
// out-of-range error naming the node.
void ExpectIndexError(const std::string& op, int opset, const Tensor& data, const Tensor& indices,
                      const std::optional<Tensor>& updates = std::nullopt) {
  ModelBuilder b(opset);
  b.Input("d", TP::FLOAT, {std::to_string(data.dims()[0]), std::to_string(data.dims()[1])});
  std::vector<std::string> idx_dims;
  for (int64_t d : indices.dims()) idx_dims.push_back(std::to_string(d));
  b.Input("i", TP::INT64, idx_dims);
  std::vector<std::string> ins = {"d", "i"};
  std::map<std::string, Tensor> feeds = {{"d", data}, {"i", indices}};
  if (updates) {
    std::vector<std::string> upd_dims;
    for (int64_t d : updates->dims()) upd_dims.push_back(std::to_string(d));
    b.Input("u", TP::FLOAT, upd_dims);
    ins.push_back("u");
    feeds["u"] = *updates;
  }
  b.Node(op, ins, {"y"}).Output("y");
  auto out = b.Run(feeds);
  ASSERT_FALSE(out.ok()) << op;
  EXPECT_EQ(out.status().code(), StatusCode::kOutOfRange) << out.status().ToString();
  EXPECT_NE(out.status().message().find(op), std::string::npos) << out.status().ToString();
  EXPECT_NE(out.status().message().find("99"), std::string::npos) << out.status().ToString();
}

TEST(TensorKernels, HostileIndicesAreErrors) {
  Tensor data = Tensor::Allocate(DType::kFloat32, {3, 4}).value();
  ExpectIndexError("Gather", 13, data, Tensor::FromVector<int64_t>({0, 99}, {2}));
  ExpectIndexError("Gather", 13, data, Tensor::FromVector<int64_t>({-99}, {1}));
  ExpectIndexError("GatherElements", 13, data, Tensor::FromVector<int64_t>({0, 99}, {1, 2}));
  ExpectIndexError("GatherND", 13, data, Tensor::FromVector<int64_t>({1, 99}, {1, 2}));
  ExpectIndexError("ScatterElements", 16, data, Tensor::FromVector<int64_t>({99}, {1, 1}),
                   Tensor::Allocate(DType::kFloat32, {1, 1}).value());
  ExpectIndexError("ScatterND", 16, data, Tensor::FromVector<int64_t>({99}, {1, 1}),
                   Tensor::Allocate(DType::kFloat32, {1, 4}).value());
}

TEST(TensorKernels, HostileShapesAreErrorsNotCrashes) {
  // Tile and Expand to an absurd size: a resource error from the allocator guard.
  {
    ModelBuilder b(13);
    b.Input("x", TP::FLOAT, {"2", "2"}).Ints("r", {int64_t{1} << 40, int64_t{1} << 30});
    b.Node("Tile", {"x", "r"}, {"y"}).Output("y");
    auto out = b.Run({{"x", Tensor::Allocate(DType::kFloat32, {2, 2}).value()}});
    ASSERT_FALSE(out.ok());
  }
  {
    ModelBuilder b(13);
    b.Input("x", TP::FLOAT, {"1"}).Input("s", TP::INT64, {"2"});
    b.Node("Expand", {"x", "s"}, {"y"}).Output("y");
    auto out = b.Run({{"x", Tensor::Allocate(DType::kFloat32, {1}).value()},
                      {"s", Tensor::FromVector<int64_t>({int64_t{1} << 40, -3}, {2})}});
    ASSERT_FALSE(out.ok());
    EXPECT_EQ(out.status().code(), StatusCode::kInvalidModel) << out.status().ToString();
  }
  {
    ModelBuilder b(10);
    b.Input("x", TP::FLOAT, {"3", "2"}).Input("l", TP::INT64, {"2"});
    b.Node("ReverseSequence", {"x", "l"}, {"y"}).Output("y");
    auto out = b.Run({{"x", Tensor::Allocate(DType::kFloat32, {3, 2}).value()},
                      {"l", Tensor::FromVector<int64_t>({1, 99}, {2})}});
    ASSERT_FALSE(out.ok());
    EXPECT_EQ(out.status().code(), StatusCode::kOutOfRange) << out.status().ToString();
  }
  {
    ModelBuilder b(13);
    b.Input("x", TP::FLOAT, {"2", "3"}).Ints("s", {1, 1});
    b.Node("Split", {"x", "s"}, {"a", "b"}, {IntAttr("axis", 1)}).Output("a").Output("b");
    auto g = b.Import();
    ASSERT_FALSE(g.ok());
    EXPECT_NE(g.status().message().find("sums to 2"), std::string::npos) << g.status().message();
  }
  {
    ModelBuilder b(13);
    b.Input("x", TP::FLOAT, {"2", "3"}).Ints("a", {1});
    b.Node("Squeeze", {"x", "a"}, {"y"}).Output("y");
    EXPECT_FALSE(b.Import().ok());
  }
}

TEST(TensorKernels, TrainingDropoutWithRatioIsUnsupported) {
  ModelBuilder b(13);
  b.Input("x", TP::FLOAT, {"2"}).Input("r", TP::FLOAT, {}).Input("t", TP::BOOL, {});
  b.Node("Dropout", {"x", "r", "t"}, {"y", "m"}).Output("y").Output("m");
  Tensor t = Tensor::Allocate(DType::kBool, {}).value();
  t.data<bool>()[0] = true;
  auto out = b.Run({{"x", Tensor::FromVector<float>({1, 2}, {2})},
                    {"r", Tensor::FromVector<float>({0.5f}, {})},
                    {"t", t}});
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), StatusCode::kUnsupported);
  auto ok = b.Run({{"x", Tensor::FromVector<float>({1, 2}, {2})},
                   {"r", Tensor::FromVector<float>({0.0f}, {})},
                   {"t", t}});
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_TRUE((*ok)[1].data<bool>()[1]);
}

}  // namespace
}  // namespace frt
