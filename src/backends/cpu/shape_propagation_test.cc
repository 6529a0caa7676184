// Tests of concrete shape propagation: the bundled transformer checked value
// by value against what the reference executor really produces, shape
// arithmetic through Shape/Gather/Unsqueeze/Concat into Reshape, data-dependent
// dims, the evaluation cap, input errors, and the values Shape/Size publish.
#include "backends/cpu/shape_propagation.h"

#include <gtest/gtest.h>

#include <random>

#include "backends/cpu/reference_executor.h"
#include "ir/op_registry.h"
#include "onnx/importer.h"

namespace frt {
namespace {

std::mt19937_64& Rng() {
  static std::mt19937_64 rng(std::random_device{}());
  return rng;
}

Tensor RandomFloats(const Dims& dims) {
  Tensor t = Tensor::Allocate(DType::kFloat32, dims).value();
  std::normal_distribution<float> dist(0.0f, 1.0f);
  for (float& f : t.span<float>()) f = dist(Rng());
  return t;
}

// Hand-built graphs: values are created on first mention; node outputs get
// their producer link.
class GraphBuilder {
 public:
  GraphBuilder() { g_.name = "hand"; }
  Value* Input(const std::string& name, DType dtype, std::vector<Dim> dims) {
    Value* v = g_.AddValue(name).value();
    v->dtype = dtype;
    v->shape = Shape(std::move(dims));
    g_.AddInput(v);
    return v;
  }
  Value* Ints(const std::string& name, const std::vector<int64_t>& vals, Dims dims) {
    Value* v = g_.AddValue(name).value();
    v->constant = Tensor::FromVector<int64_t>(vals, dims);
    v->dtype = DType::kInt64;
    v->shape = Shape::FromDims(dims);
    return v;
  }
  Node* Op(OpKind op, const std::string& name, const std::vector<Value*>& ins,
           const std::vector<std::string>& outs) {
    Node* n = g_.AddNode(op, name);
    n->opset = 13;
    n->inputs = ins;
    for (const std::string& o : outs) {
      Value* v = g_.AddValue(o).value();
      v->producer = n;
      n->outputs.push_back(v);
    }
    return n;
  }
  Value* Out(const Node* n, size_t i = 0) { return n->outputs[i]; }
  Graph& graph() { return g_; }

 private:
  Graph g_;
};

// y = Reshape(x, Concat(Unsqueeze(Gather(Shape(x), 0)), [-1])): x is [batch,4,6],
// y is [batch,24], but only when the batch value flows through the shape ops.
void BuildDynamicReshape(GraphBuilder& b) {
  Value* x = b.Input("x", DType::kFloat32, {Dim::Symbol("batch"), 4, 6});
  Node* shape = b.Op(OpKind::kShape, "shape", {x}, {"s"});
  Node* gather = b.Op(OpKind::kGather, "gather", {b.Out(shape), b.Ints("zero", {0}, {})}, {"b"});
  gather->attrs.Set("axis", int64_t{0});
  Node* unsq =
      b.Op(OpKind::kUnsqueeze, "unsqueeze", {b.Out(gather), b.Ints("axes", {0}, {1})}, {"bu"});
  Node* concat =
      b.Op(OpKind::kConcat, "concat", {b.Out(unsq), b.Ints("minus1", {-1}, {1})}, {"target"});
  concat->attrs.Set("axis", int64_t{0});
  Node* reshape = b.Op(OpKind::kReshape, "reshape", {x, b.Out(concat)}, {"y"});
  b.graph().AddOutput(b.Out(reshape));
}

TEST(ShapePropagation, TinyTransformerMatchesExecutor) {
  const std::string path = std::string(FRT_SOURCE_DIR) + "/models/tiny_transformer.onnx";
  auto g = ImportOnnxFile(path);
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  const Dims x_dims = {3, 20, 64};
  auto props = PropagateConcreteShapes(**g, {{"x", x_dims}});
  ASSERT_TRUE(props.ok()) << props.status().ToString();
  for (const Value* v : (*g)->values()) {
    auto it = props->find(v);
    ASSERT_NE(it, props->end()) << v->name;
    EXPECT_TRUE(it->second.dims.has_value()) << v->name;
    EXPECT_EQ(it->second.dtype, v->dtype) << v->name;
  }
  EXPECT_EQ(props->at((*g)->FindValue("y")).dims, x_dims);
  // The attention scores are [batch, heads, seq, seq]: symbolic seq twice, concrete here.
  EXPECT_EQ(props->at((*g)->FindValue("scores")).dims, (Dims{3, 4, 20, 20}));

  // A second import with every node output marked as a graph output, so the
  // executor returns every intermediate for comparison.
  auto all = ImportOnnxFile(path);
  ASSERT_TRUE(all.ok());
  std::vector<std::string> names;
  for (const Node* n : (*all)->nodes()) {
    for (Value* out : n->outputs) {
      if (!out || out->name == "y") continue;
      (*all)->AddOutput(out);
    }
  }
  for (const Value* out : (*all)->outputs()) names.push_back(out->name);
  auto exec = ReferenceExecutor::Create(**all);
  ASSERT_TRUE(exec.ok()) << exec.status().ToString();
  auto results = (*exec)->Run({{"x", RandomFloats(x_dims)}});
  ASSERT_TRUE(results.ok()) << results.status().ToString();
  ASSERT_EQ(results->size(), names.size());
  ASSERT_GT(names.size(), 30u);  // really every intermediate of the layer
  for (size_t i = 0; i < names.size(); ++i) {
    const Value* v = (*g)->FindValue(names[i]);
    ASSERT_NE(v, nullptr) << names[i];
    const ConcreteValue& cv = props->at(v);
    ASSERT_TRUE(cv.dims.has_value()) << names[i];
    EXPECT_EQ(*cv.dims, (*results)[i].dims()) << names[i];
    EXPECT_EQ(cv.dtype, (*results)[i].dtype()) << names[i];
    // Nothing computed from x can be known before running.
    EXPECT_FALSE(cv.value.has_value()) << names[i];
  }
}

TEST(ShapePropagation, ShapeArithmeticReachesReshape) {
  GraphBuilder b;
  BuildDynamicReshape(b);
  const Graph& g = b.graph();
  int64_t batch = std::uniform_int_distribution<int64_t>(1, 64)(Rng());
  auto props = PropagateConcreteShapes(g, {{"x", {batch, 4, 6}}});
  ASSERT_TRUE(props.ok()) << props.status().ToString();
  const ConcreteValue& y = props->at(g.FindValue("y"));
  ASSERT_TRUE(y.dims.has_value());
  EXPECT_EQ(*y.dims, (Dims{batch, 24}));
  EXPECT_EQ(y.dtype, DType::kFloat32);
  const ConcreteValue& target = props->at(g.FindValue("target"));
  ASSERT_TRUE(target.value.has_value());
  EXPECT_EQ(target.value->ToInt64Vector().value(), (std::vector<int64_t>{batch, -1}));
  const ConcreteValue& s = props->at(g.FindValue("s"));  // published by Shape's inference
  ASSERT_TRUE(s.value.has_value());
  EXPECT_EQ(s.value->ToInt64Vector().value(), (std::vector<int64_t>{batch, 4, 6}));
  EXPECT_EQ(props->at(g.FindValue("b")).dims, Dims{});  // Gather of a scalar index: scalar
  EXPECT_FALSE(props->at(g.FindValue("y")).value.has_value());

  // The executor agrees on y's dims.
  auto exec = ReferenceExecutor::Create(g);
  ASSERT_TRUE(exec.ok()) << exec.status().ToString();
  auto out = (*exec)->Run({{"x", RandomFloats({batch, 4, 6})}});
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ((*out)[0].dims(), *y.dims);

  // Without evaluation the Gather's value stays unknown, and so do y's dims
  // (Shape's published value still arrives).
  auto capped = PropagateConcreteShapes(g, {{"x", {batch, 4, 6}}}, 0);
  ASSERT_TRUE(capped.ok()) << capped.status().ToString();
  EXPECT_TRUE(capped->at(g.FindValue("s")).value.has_value());
  EXPECT_FALSE(capped->at(g.FindValue("b")).value.has_value());
  EXPECT_FALSE(capped->at(g.FindValue("y")).dims.has_value());
}

TEST(ShapePropagation, NonZeroMakesDimsUnknownDownstream) {
  GraphBuilder b;
  Value* x = b.Input("x", DType::kFloat32, {Dim::Symbol("n")});
  Node* nz = b.Op(OpKind::kNonZero, "nonzero", {x}, {"nz"});
  Node* tr = b.Op(OpKind::kTranspose, "transpose", {b.Out(nz)}, {"t"});
  tr->attrs.Set("perm", std::vector<int64_t>{1, 0});
  Node* sh = b.Op(OpKind::kShape, "shape", {b.Out(tr)}, {"ts"});
  Node* sz = b.Op(OpKind::kSize, "size", {x}, {"xs"});
  b.graph().AddOutput(b.Out(sh));
  b.graph().AddOutput(b.Out(sz));
  int64_t n = std::uniform_int_distribution<int64_t>(1, 1000)(Rng());
  auto props = PropagateConcreteShapes(b.graph(), {{"x", {n}}});
  ASSERT_TRUE(props.ok()) << props.status().ToString();
  const ConcreteValue& nzv = props->at(b.Out(nz));
  EXPECT_FALSE(nzv.dims.has_value());
  EXPECT_EQ(nzv.dtype, DType::kInt64);
  EXPECT_FALSE(props->at(b.Out(tr)).dims.has_value());
  // The rank survives the unknown dims: Shape of the transposed indices is [2], value unknown.
  const ConcreteValue& ts = props->at(b.Out(sh));
  EXPECT_EQ(ts.dims, Dims{2});
  EXPECT_FALSE(ts.value.has_value());
  const ConcreteValue& xs = props->at(b.Out(sz));
  ASSERT_TRUE(xs.value.has_value());
  EXPECT_EQ(xs.value->ToInt64Vector().value(), std::vector<int64_t>{n});
}

TEST(ShapePropagation, InputErrorsNameTheInput) {
  GraphBuilder b;
  BuildDynamicReshape(b);
  const Graph& g = b.graph();
  auto wrong_rank = PropagateConcreteShapes(g, {{"x", {5, 24}}});
  ASSERT_FALSE(wrong_rank.ok());
  EXPECT_EQ(wrong_rank.status().code(), StatusCode::kInvalidArgument);
  std::string msg = wrong_rank.status().message();
  EXPECT_NE(msg.find("\"x\""), std::string::npos) << msg;
  EXPECT_NE(msg.find("[batch,4,6]"), std::string::npos) << msg;
  EXPECT_NE(msg.find("[5,24]"), std::string::npos) << msg;

  auto wrong_dim = PropagateConcreteShapes(g, {{"x", {5, 4, 7}}});
  ASSERT_FALSE(wrong_dim.ok());
  EXPECT_NE(wrong_dim.status().message().find("[5,4,7]"), std::string::npos);
  EXPECT_NE(wrong_dim.status().message().find("dimension 2"), std::string::npos);

  auto negative = PropagateConcreteShapes(g, {{"x", {-2, 4, 6}}});
  EXPECT_EQ(negative.status().code(), StatusCode::kInvalidArgument);

  auto missing = PropagateConcreteShapes(g, {});
  EXPECT_EQ(missing.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(missing.status().message().find("\"x\""), std::string::npos);

  auto unknown = PropagateConcreteShapes(g, {{"x", {5, 4, 6}}, {"nope", {1}}});
  EXPECT_EQ(unknown.status().code(), StatusCode::kNotFound);
  EXPECT_NE(unknown.status().message().find("\"nope\""), std::string::npos);
}

TEST(ShapePropagation, SymbolsAndInferenceErrors) {
  GraphBuilder b;
  Value* x = b.Input("x", DType::kFloat32, {Dim::Symbol("a"), 3});
  Value* z = b.Input("z", DType::kFloat32, {Dim::Symbol("b"), 3});
  Value* w = b.Input("w", DType::kFloat32, {Dim::Symbol("a"), 1});
  Node* add = b.Op(OpKind::kAdd, "add0", {x, z}, {"s"});
  Node* mul = b.Op(OpKind::kMul, "mul0", {b.Out(add), w}, {"p"});
  b.graph().AddOutput(b.Out(mul));
  const Graph& g = b.graph();

  auto ok = PropagateConcreteShapes(g, {{"x", {4, 3}}, {"z", {1, 3}}, {"w", {4, 1}}});
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->at(b.Out(mul)).dims, (Dims{4, 3}));

  // Symbol "a" bound to two sizes by two inputs.
  auto clash = PropagateConcreteShapes(g, {{"x", {4, 3}}, {"z", {1, 3}}, {"w", {5, 1}}});
  ASSERT_FALSE(clash.ok());
  EXPECT_NE(clash.status().message().find("\"w\""), std::string::npos);
  EXPECT_NE(clash.status().message().find("\"a\""), std::string::npos);

  // Legal symbolically, incompatible at these dims: the error names the node, once.
  auto bad = PropagateConcreteShapes(g, {{"x", {2, 3}}, {"z", {4, 3}}, {"w", {2, 1}}});
  ASSERT_FALSE(bad.ok());
  std::string msg = bad.status().message();
  std::string node = add->Describe();
  EXPECT_EQ(msg.rfind(node, 0), 0u) << msg;
  EXPECT_EQ(msg.find(node, 1), std::string::npos) << msg;
}

TEST(ShapePropagation, ShapeAndSizePublishValues) {
  GraphBuilder b;
  Value* x = b.Input("x", DType::kFloat32, {Dim::Symbol("batch"), 4, 6});
  Node* shape = b.Op(OpKind::kShape, "shape", {x}, {"s"});
  auto infer = [&](const Shape& in) {
    InferContext ctx(*shape, {{DType::kFloat32, &in, nullptr}});
    EXPECT_TRUE(InferNode(ctx).ok());
    return ctx.output_value(0);
  };
  Shape symbolic = *x->shape;
  EXPECT_FALSE(infer(symbolic).has_value());
  int64_t d0 = std::uniform_int_distribution<int64_t>(1, 99)(Rng());
  auto full = infer(Shape::FromDims({d0, 4, 6}));
  ASSERT_TRUE(full.has_value());
  EXPECT_EQ(full->ToInt64Vector().value(), (std::vector<int64_t>{d0, 4, 6}));
  shape->attrs.Set("start", int64_t{1});  // reads only the static dims
  auto tail = infer(symbolic);
  ASSERT_TRUE(tail.has_value());
  EXPECT_EQ(tail->ToInt64Vector().value(), (std::vector<int64_t>{4, 6}));
  EXPECT_EQ(tail->dims(), Dims{2});

  Node* size = b.Op(OpKind::kSize, "size", {x}, {"n"});
  Shape concrete = Shape::FromDims({d0, 4, 6});
  InferContext sctx(*size, {{DType::kFloat32, &concrete, nullptr}});
  ASSERT_TRUE(InferNode(sctx).ok());
  ASSERT_TRUE(sctx.output_value(0).has_value());
  EXPECT_EQ(sctx.output_value(0)->GetAsDouble(0), static_cast<double>(d0 * 24));
  EXPECT_EQ(sctx.output_dtype(0), DType::kInt64);
  EXPECT_EQ(sctx.output_shape(0)->rank(), 0u);
  // A later SetOutput drops the published value.
  sctx.SetOutput(0, DType::kInt64, Shape());
  EXPECT_FALSE(sctx.output_value(0).has_value());
}

}  // namespace
}  // namespace frt
