// Tests of shape-graph folding (fold_shape_graph.cc), layout simplification
// (simplify_layout.cc), the symbolic shape facts inference draws from shape
// tensors (ir/symbolic_values.h), and host.shape steps at run time. Graphs
// have symbolic dims; each rewrite is checked on its printed IR and on its
// numbers at several concrete sizes against an untouched copy.
#include <gtest/gtest.h>

#include <limits>

#include "engine/engine_format.h"
#include "fusionrt/builder.h"
#include "fusionrt/engine.h"
#include "fusionrt/onnx.h"
#include "passes/pass_manager.h"
#include "passes/pass_test_util.h"

namespace frt {
namespace {

Value* SymInput(Graph& g, const std::string& name, std::vector<Dim> dims) {
  Value* v = g.AddValue(name).value();
  v->dtype = DType::kFloat32;
  v->shape = Shape(std::move(dims));
  g.AddInput(v);
  return v;
}

Value* OpAttrs(Graph& g, OpKind op, const std::string& out, std::vector<Value*> ins,
               std::vector<std::pair<std::string, AttrValue>> attrs) {
  Value* v = Op(g, op, out, std::move(ins));
  for (auto& [k, a] : attrs) v->producer->attrs.Set(k, a);
  return v;
}

// Element `i` of Shape(x) as a rank-1 tensor: Unsqueeze(Gather(Shape(x), i)).
Value* DimOf(Graph& g, Value* shape, int64_t i, const std::string& tag) {
  Value* d = OpAttrs(g, OpKind::kGather, tag + "_d", {shape, IntConst(g, tag + "_i", {i}, true)},
                     {{"axis", int64_t{0}}});
  return Op(g, OpKind::kUnsqueeze, tag + "_u", {d, IntConst(g, tag + "_axes", {0})});
}

std::map<std::string, Tensor> RandomFeeds(const Graph& g, const std::map<std::string, int64_t>& sym,
                                          std::mt19937& rng) {
  std::normal_distribution<float> dist;
  std::map<std::string, Tensor> feeds;
  for (const Value* in : g.inputs()) {
    Dims dims;
    for (const Dim& d : in->shape->dims()) dims.push_back(d.is_static() ? d.value() : sym.at(d.symbol()));
    Tensor t = Tensor::Allocate(DType::kFloat32, dims).value();
    for (float& f : t.span<float>()) f = dist(rng);
    feeds[in->name] = std::move(t);
  }
  return feeds;
}

// Runs `pass` (then dead-code elimination) and compares with the original at
// several sizes of the symbols; returns the optimized graph's printed IR.
std::string CheckSymbolic(Graph& g, Status (*pass)(Graph&),
                          const std::vector<std::map<std::string, int64_t>>& sizes, double tol) {
  EXPECT_TRUE(InferGraphShapes(g).ok());
  EXPECT_TRUE(VerifyGraph(g).ok());
  auto original = CloneGraph(g);
  EXPECT_TRUE(original.ok());
  Status s = pass(g);
  EXPECT_TRUE(s.ok()) << s.ToString();
  EXPECT_TRUE(EliminateDeadCode(g).ok());
  EXPECT_TRUE(InferGraphShapes(g).ok());
  Status v = VerifyGraph(g);
  EXPECT_TRUE(v.ok()) << v.ToString();
  std::mt19937 rng(std::random_device{}());
  for (const auto& sym : sizes) {
    auto feeds = RandomFeeds(g, sym, rng);
    std::vector<Tensor> want = RunGraph(**original, feeds), got = RunGraph(g, feeds);
    EXPECT_EQ(want.size(), got.size());
    for (size_t i = 0; i < want.size() && i < got.size(); ++i) {
      EXPECT_EQ(want[i].dims(), got[i].dims());
      if (want[i].dims() == got[i].dims()) {
        EXPECT_LE(RelativeL2(got[i], want[i]), tol);
      }
    }
  }
  return PrintGraph(g);
}

const std::vector<std::map<std::string, int64_t>> kSizes = {
    {{"batch", 2}, {"seq", 5}}, {{"batch", 1}, {"seq", 1}}, {{"batch", 3}, {"seq", 9}}};

TEST(PassesFoldShapeGraph, ReshapeTargetFromShapeChainBecomesConstant) {
  Graph g;
  g.name = "heads";
  Value* x = SymInput(g, "x", {Dim::Symbol("batch"), Dim::Symbol("seq"), 64});
  Value* s = Op(g, OpKind::kShape, "s", {x});
  Value* t = OpAttrs(g, OpKind::kConcat, "t",
                     {DimOf(g, s, 0, "b"), DimOf(g, s, 1, "q"), IntConst(g, "m1", {-1}),
                      IntConst(g, "hd", {16})},
                     {{"axis", int64_t{0}}});
  g.AddOutput(Op(g, OpKind::kReshape, "y", {x, t}));
  std::string ir = CheckSymbolic(g, FoldShapeGraph, kSizes, 0.0);
  EXPECT_EQ(ir,
            "graph heads (%x: f32[batch,seq,64]) -> (%y: f32[batch,seq,4,16]) {\n"
            "  const %t_folded: i64[4]\n"
            "  %y: f32[batch,seq,4,16] = Reshape(%x, %t_folded) {allowzero=0}  # y_node\n}\n");
  auto target = g.FindValue("t_folded")->constant->ToInt64Vector();
  EXPECT_EQ(*target, (std::vector<int64_t>{0, 0, -1, 16}));
}

TEST(PassesFoldShapeGraph, StaticElementOfASymbolicShapeBecomesConstant) {
  Graph g;
  g.name = "hidden";
  Value* x = SymInput(g, "x", {Dim::Symbol("batch"), 8});
  Value* s = Op(g, OpKind::kShape, "s", {x});
  Value* h = DimOf(g, s, 1, "h");  // 8, although batch is symbolic
  Value* t = OpAttrs(g, OpKind::kConcat, "t", {IntConst(g, "m1", {-1}), h}, {{"axis", int64_t{0}}});
  g.AddOutput(Op(g, OpKind::kReshape, "y", {x, t}));
  std::string ir = CheckSymbolic(g, FoldShapeGraph, kSizes, 0.0);
  EXPECT_EQ(ir.find("Shape("), std::string::npos) << ir;
  EXPECT_NE(ir.find("%y: f32[batch,8] = Reshape"), std::string::npos) << ir;
}

TEST(PassesFoldShapeGraph, LeavesTargetsItCannotExpress) {
  // [batch*seq, 64]: one element is neither a constant nor a copy, and the
  // target already holds a -1 elsewhere: two inferred dims are not allowed.
  Graph g;
  g.name = "keep";
  Value* x = SymInput(g, "x", {Dim::Symbol("batch"), Dim::Symbol("seq"), 64});
  Value* s = Op(g, OpKind::kShape, "s", {x});
  Value* b = DimOf(g, s, 0, "b");
  Value* q = DimOf(g, s, 1, "q");
  Value* bq = Op(g, OpKind::kMul, "bq", {b, q});
  Value* t = OpAttrs(g, OpKind::kConcat, "t", {bq, IntConst(g, "m1", {-1})}, {{"axis", int64_t{0}}});
  g.AddOutput(Op(g, OpKind::kReshape, "y", {x, t}));
  std::string ir = CheckSymbolic(g, FoldShapeGraph, kSizes, 0.0);
  EXPECT_NE(ir.find("Reshape(%x, %t)"), std::string::npos) << ir;
}

TEST(SymbolicShapes, SliceOfAPositionTableUsesProfileBounds) {
  for (int64_t bound : {32, 64, 65}) {
    Graph g;
    g.name = "pos";
    Value* x = SymInput(g, "x", {Dim::Symbol("batch"), Dim::Symbol("seq")});
    Value* table = g.AddValue("table").value();
    std::vector<int64_t> ids(64);
    for (int64_t i = 0; i < 64; ++i) ids[static_cast<size_t>(i)] = i;
    table->constant = Tensor::FromVector<int64_t>(ids, {1, 64});
    table->dtype = DType::kInt64;
    table->shape = Shape::FromDims({1, 64});
    Value* q = DimOf(g, Op(g, OpKind::kShape, "s", {x}), 1, "q");
    g.AddOutput(Op(g, OpKind::kSlice, "y", {table, IntConst(g, "st", {0}), q, IntConst(g, "ax", {1})}));
    g.symbol_upper_bounds["seq"] = bound;
    ASSERT_TRUE(InferGraphShapes(g).ok());
    // Within the table in every profile: exactly seq elements; past it, the
    // slice would clamp, so the size is not provably seq.
    EXPECT_EQ(g.FindValue("y")->shape->ToString(), bound <= 64 ? "[1,seq]" : "[1,?]") << bound;
  }
}

TEST(SymbolicShapes, RangeExpandAndWhereOfShapeTensors) {
  Graph g;
  g.name = "mask";
  Value* x = SymInput(g, "x", {Dim::Symbol("batch"), Dim::Symbol("seq")});
  Value* s = Op(g, OpKind::kShape, "s", {x});
  Value* q = OpAttrs(g, OpKind::kGather, "q", {s, IntConst(g, "one", {1}, true)},
                     {{"axis", int64_t{0}}});
  Value* r = Op(g, OpKind::kRange, "r", {IntConst(g, "zero", {0}, true), q, IntConst(g, "step", {1}, true)});
  // Expand target as the TorchScript exporter writes it: Where(Equal(t, -1), 1, t).
  Value* t = OpAttrs(g, OpKind::kConcat, "t",
                     {DimOf(g, s, 0, "b"), IntConst(g, "m1", {-1}), DimOf(g, s, 1, "c")},
                     {{"axis", int64_t{0}}});
  Value* neg = IntConst(g, "neg", {-1, -1, -1});
  Value* eq = Op(g, OpKind::kEqual, "eq", {t, neg});
  Value* sel = Op(g, OpKind::kWhere, "sel", {eq, IntConst(g, "ones", {1, 1, 1}), t});
  Value* xr = Op(g, OpKind::kUnsqueeze, "xr", {x, IntConst(g, "ax1", {1})});  // [batch,1,seq]
  g.AddOutput(r);
  g.AddOutput(Op(g, OpKind::kExpand, "e", {xr, sel}));
  Status st = InferGraphShapes(g);
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(g.FindValue("r")->shape->ToString(), "[seq]");
  EXPECT_EQ(g.FindValue("e")->shape->ToString(), "[batch,1,seq]");
}

TEST(PassesSimplifyLayout, ComposesTransposesAndDropsIdentities) {
  Graph g;
  g.name = "tt";
  Value* x = SymInput(g, "x", {Dim::Symbol("batch"), Dim::Symbol("seq"), 4, 8});
  Value* a = OpAttrs(g, OpKind::kTranspose, "a", {x}, {{"perm", std::vector<int64_t>{0, 2, 1, 3}}});
  Value* b = OpAttrs(g, OpKind::kTranspose, "b", {a}, {{"perm", std::vector<int64_t>{0, 1, 3, 2}}});
  Value* c = OpAttrs(g, OpKind::kTranspose, "c", {x}, {{"perm", std::vector<int64_t>{0, 2, 1, 3}}});
  Value* d = OpAttrs(g, OpKind::kTranspose, "d", {c}, {{"perm", std::vector<int64_t>{0, 2, 1, 3}}});
  g.AddOutput(b);
  g.AddOutput(Op(g, OpKind::kRelu, "r", {d}));
  std::string ir = CheckSymbolic(g, SimplifyLayout, kSizes, 0.0);
  EXPECT_EQ(ir,
            "graph tt (%x: f32[batch,seq,4,8]) -> (%b: f32[batch,4,8,seq], %r: "
            "f32[batch,seq,4,8]) {\n"
            "  %b: f32[batch,4,8,seq] = Transpose(%x) {perm=[0,2,3,1]}  # b_node\n"
            "  %r: f32[batch,seq,4,8] = Relu(%x)  # r_node\n}\n");
}

TEST(PassesSimplifyLayout, MergesReshapesAndDropsNoOps) {
  Graph g;
  g.name = "rr";
  Value* x = SymInput(g, "x", {Dim::Symbol("batch"), 6, 4});
  Value* a = Op(g, OpKind::kReshape, "a", {x, IntConst(g, "ta", {0, 24})});
  Value* b = Op(g, OpKind::kReshape, "b", {a, IntConst(g, "tb", {-1, 3, 8})});
  Value* c = Op(g, OpKind::kReshape, "c", {b, IntConst(g, "tc", {0, 3, 8})});  // no-op
  g.AddOutput(Op(g, OpKind::kRelu, "y", {c}));
  std::string ir = CheckSymbolic(g, SimplifyLayout, kSizes, 0.0);
  EXPECT_EQ(ir,
            "graph rr (%x: f32[batch,6,4]) -> (%y: f32[batch,3,8]) {\n"
            "  const %tb: i64[3]\n"
            "  %b: f32[batch,3,8] = Reshape(%x, %tb)  # b_node\n"
            "  %y: f32[batch,3,8] = Relu(%b)  # y_node\n}\n");
}

// Reshape(x, [-1, K]) -> Gemm -> Reshape back, with the back target computed
// from Shape(x) the way the dynamo exporter writes it.
void BuildFlattenedGemm(Graph& g, bool trans_b, float beta) {
  g.name = "linear";
  Value* x = SymInput(g, "x", {Dim::Symbol("batch"), Dim::Symbol("seq"), 8});
  Value* s = Op(g, OpKind::kShape, "s", {x});
  Value* flat = Op(g, OpKind::kReshape, "flat", {x, IntConst(g, "t1", {-1, 8})});
  Value* w = trans_b ? ConstNd(g, "w", {6, 8}, RandomData(48, 1)) : ConstNd(g, "w", {8, 6}, RandomData(48, 1));
  Value* mm = OpAttrs(g, OpKind::kGemm, "mm", {flat, w, Const(g, "c", RandomData(6, 2))},
                      {{"transB", int64_t{trans_b}}, {"beta", beta}});
  Value* t2 = OpAttrs(g, OpKind::kConcat, "t2",
                      {DimOf(g, s, 0, "b"), DimOf(g, s, 1, "q"), IntConst(g, "n", {6})},
                      {{"axis", int64_t{0}}});
  g.AddOutput(Op(g, OpKind::kReshape, "y", {mm, t2}));
  for (const char* v : {"flat", "mm", "y"}) g.FindValue(v)->producer->source_nodes = {v};
}

TEST(PassesSimplifyLayout, FlattenGemmUnflattenBecomesMatMulAndBias) {
  for (bool trans_b : {false, true}) {
    Graph g;
    BuildFlattenedGemm(g, trans_b, trans_b ? 0.5f : 1.0f);
    // Gemm rounds alpha*AB + beta*C once; MatMul then Add round twice.
    std::string ir = CheckSymbolic(g, SimplifyLayout, kSizes, 1e-6);
    EXPECT_EQ(ir.find("Gemm"), std::string::npos) << ir;
    EXPECT_EQ(ir.find("Reshape"), std::string::npos) << ir;
    EXPECT_NE(ir.find("= MatMul(%x, %w"), std::string::npos) << ir;
    EXPECT_NE(ir.find("%y: f32[batch,seq,6] = Add("), std::string::npos) << ir;
    // Provenance: the MatMul computes all three exported nodes.
    const Node* mm = g.FindValue("y")->producer->inputs[0]->producer;
    EXPECT_EQ(mm->source_nodes, (std::vector<std::string>{"flat", "mm", "y"}));
  }
}

TEST(PassesSimplifyLayout, FlattenGemmWithAnotherReaderStays) {
  Graph g;
  BuildFlattenedGemm(g, false, 1.0f);
  g.AddOutput(g.FindValue("flat"));
  std::string ir = CheckSymbolic(g, SimplifyLayout, kSizes, 0.0);
  EXPECT_NE(ir.find("Gemm"), std::string::npos) << ir;
}

TEST(PassesSimplifyLayout, LastAxesSwapThrough3dBecomesOneTranspose) {
  Graph g;
  g.name = "kt";
  Value* x = SymInput(g, "x", {Dim::Symbol("batch"), 4, Dim::Symbol("seq"), 16});
  Value* s = Op(g, OpKind::kShape, "s", {x});
  const int64_t kMax = std::numeric_limits<int64_t>::max();
  const int64_t kMin = std::numeric_limits<int64_t>::min();
  Value* last = Op(g, OpKind::kSlice, "last", {s, IntConst(g, "l0", {-1}), IntConst(g, "l1", {kMax})});
  Value* prev = Op(g, OpKind::kSlice, "prev", {s, IntConst(g, "p0", {-2}), IntConst(g, "p1", {-1})});
  Value* lead = Op(g, OpKind::kSlice, "lead", {s, IntConst(g, "h0", {kMin}), IntConst(g, "h1", {-2})});
  Value* t1 = OpAttrs(g, OpKind::kConcat, "t1", {IntConst(g, "m1", {-1}), prev, last},
                      {{"axis", int64_t{0}}});
  Value* r1 = Op(g, OpKind::kReshape, "r1", {x, t1});
  Value* tr = OpAttrs(g, OpKind::kTranspose, "tr", {r1}, {{"perm", std::vector<int64_t>{0, 2, 1}}});
  Value* t2 = OpAttrs(g, OpKind::kConcat, "t2", {lead, last, prev}, {{"axis", int64_t{0}}});
  g.AddOutput(Op(g, OpKind::kReshape, "y", {tr, t2}));
  std::string ir = CheckSymbolic(g, SimplifyLayout, kSizes, 0.0);
  EXPECT_EQ(ir,
            "graph kt (%x: f32[batch,4,seq,16]) -> (%y: f32[batch,4,16,seq]) {\n"
            "  %y: f32[batch,4,16,seq] = Transpose(%x) {perm=[0,1,3,2]}  # tr_node\n}\n");
}

// The real exported BERT: after the optimizer no Shape, Concat, Unsqueeze or
// integer Gather runs as a layer; what only computes shapes is a host.shape
// step, evaluated on the host, and results match the unoptimized engine at
// two different input shapes (the host values must follow the shapes).
TEST(HostShapeSteps, ExportedBertRunsNoShapeLayers) {
  auto network = ParseOnnxFile(std::string(FRT_SOURCE_DIR) + "/tests/models/tiny/bert.onnx");
  ASSERT_TRUE(network.ok()) << network.status().ToString();
  auto build = [&](int level) {
    BuilderConfig config;
    config.optimization_level = level;
    OptimizationProfile p;
    for (const char* name : {"input_ids", "attention_mask", "token_type_ids"}) {
      EXPECT_TRUE(p.SetShapes(name, {1, 1}, {2, 16}, {4, 32}).ok());
    }
    config.profiles = {p};
    auto e = Builder::Build(*network, config);
    EXPECT_TRUE(e.ok()) << e.status().ToString();
    return *e;
  };
  std::shared_ptr<Engine> base = build(0), opt = build(3);
  int host = 0;
  for (const LayerInfo& l : opt->layers()) {
    if (l.tactic == kHostShapeTactic) {
      ++host;
      continue;
    }
    EXPECT_TRUE(l.op != "Shape" && l.op != "Concat" && l.op != "Unsqueeze" && l.op != "Range")
        << l.op << " " << l.name;
  }
  EXPECT_GT(host, 0);
  // The tactic survives the engine file.
  auto bytes = WriteEngine(opt->plan());
  ASSERT_TRUE(bytes.ok());
  auto loaded = Engine::Deserialize(bytes->data(), bytes->size());
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  std::mt19937 rng(std::random_device{}());
  auto ctx_base = base->CreateContext();
  auto ctx_opt = (*loaded)->CreateContext();
  ASSERT_TRUE(ctx_base.ok() && ctx_opt.ok());
  for (Dims dims : {Dims{2, 16}, Dims{3, 7}, Dims{2, 16}}) {
    std::map<std::string, Tensor> feeds;
    std::uniform_int_distribution<int64_t> id(0, 511), bit(0, 1);
    for (const char* name : {"input_ids", "attention_mask", "token_type_ids"}) {
      Tensor t = Tensor::Allocate(DType::kInt64, dims).value();
      for (int64_t& v : t.span<int64_t>()) v = std::string(name) == "input_ids" ? id(rng) : bit(rng);
      if (std::string(name) == "attention_mask") t.span<int64_t>()[0] = 1;
      feeds[name] = std::move(t);
    }
    std::vector<std::map<std::string, Tensor>> outs;
    for (ExecutionContext* ctx : {ctx_base->get(), ctx_opt->get()}) {
      std::map<std::string, Tensor> out;
      for (auto& [name, t] : feeds) {
        ASSERT_TRUE(ctx->SetInputShape(name, t.dims()).ok());
        ASSERT_TRUE(ctx->SetTensorAddress(name, t.raw(), t.nbytes()).ok());
      }
      for (const char* name : {"last_hidden_state", "pooler_output"}) {
        auto shape = ctx->GetTensorShape(name);
        ASSERT_TRUE(shape.ok()) << shape.status().ToString();
        out[name] = Tensor::Allocate(DType::kFloat32, *shape).value();
        ASSERT_TRUE(ctx->SetTensorAddress(name, out[name].raw(), out[name].nbytes()).ok());
      }
      Status s = ctx->Execute();
      ASSERT_TRUE(s.ok()) << s.ToString();
      outs.push_back(std::move(out));
    }
    for (const char* name : {"last_hidden_state", "pooler_output"}) {
      EXPECT_LE(RelativeL2(outs[1][name], outs[0][name]), 1e-5) << name << DimsToString(dims);
    }
  }
}

}  // namespace
}  // namespace frt

namespace frt {
namespace {

// A plan from an untrusted file may mark any step host.shape: where shape
// propagation cannot produce the values (data-dependent ones), the runtime
// runs the step's CPU kernel instead, with the same results.
TEST(HostShapeSteps, StepsPropagationCannotComputeFallBackToTheirKernel) {
  auto network =
      ParseOnnxFile(std::string(FRT_SOURCE_DIR) + "/models/tiny_transformer.onnx");
  ASSERT_TRUE(network.ok()) << network.status().ToString();
  BuilderConfig config;
  OptimizationProfile p;
  ASSERT_TRUE(p.SetShapes("x", {1, 1, 64}, {2, 8, 64}, {4, 16, 64}).ok());
  config.profiles = {p};
  auto engine = Builder::Build(*network, config);
  ASSERT_TRUE(engine.ok()) << engine.status().ToString();
  auto bytes = WriteEngine((*engine)->plan());
  ASSERT_TRUE(bytes.ok());
  auto plan = ReadEngine(*bytes, "test");
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  for (PlanStep& step : plan->steps) step.tactic = kHostShapeTactic;
  auto marked = Engine::FromPlan(std::make_unique<Plan>(std::move(*plan)));
  ASSERT_TRUE(marked.ok()) << marked.status().ToString();
  Tensor x = Tensor::Allocate(DType::kFloat32, {3, 5, 64}).value();
  std::mt19937 rng(std::random_device{}());
  std::normal_distribution<float> dist;
  for (float& f : x.span<float>()) f = dist(rng);
  std::vector<Tensor> outs;
  for (const std::shared_ptr<Engine>& e : {*engine, *marked}) {
    auto ctx = e->CreateContext();
    ASSERT_TRUE(ctx.ok());
    Tensor y = Tensor::Allocate(DType::kFloat32, {3, 5, 64}).value();
    ASSERT_TRUE((*ctx)->SetInputShape("x", x.dims()).ok());
    ASSERT_TRUE((*ctx)->SetTensorAddress("x", x.raw(), x.nbytes()).ok());
    ASSERT_TRUE((*ctx)->SetTensorAddress("y", y.raw(), y.nbytes()).ok());
    Status s = (*ctx)->Execute();
    ASSERT_TRUE(s.ok()) << s.ToString();
    outs.push_back(std::move(y));
  }
  ExpectBitIdentical({outs[0]}, {outs[1]});
}

}  // namespace
}  // namespace frt
