// Tests of fuse_attention and fuse_qkv on hand-built exporter-style graphs:
// BERT/ViT (three MatMul + bias projections, Mul-scaled q and k^T, additive
// mask, NaN guard), GPT-2 (one QKV GEMM then Split, K^T through the dynamo
// exporter's Reshape/Transpose/Reshape, causal mask), T5 (no scale, position
// bias added to the scores, a Shape reader on K). Each positive case checks
// the fused structure and CheckPassNumerics (relative L2 <= 1e-5 against an
// untouched copy on fresh random inputs); negative cases check that the graph
// is left exactly as it was.
#include <gtest/gtest.h>

#include <limits>

#include "passes/pass_manager.h"
#include "passes/pass_test_util.h"

namespace frt {
namespace {

constexpr int64_t kB = 2, kS = 5, kH = 2, kD = 4, kE = kH * kD;

Value* Scalar(Graph& g, const std::string& name, float f) { return ConstNd(g, name, {}, {f}); }

Value* Tr(Graph& g, const std::string& name, Value* x, std::vector<int64_t> perm) {
  Value* y = Op(g, OpKind::kTranspose, name, {x});
  y->producer->attrs.Set("perm", perm);
  return y;
}

Value* Reshape(Graph& g, const std::string& name, Value* x, std::vector<int64_t> target) {
  return Op(g, OpKind::kReshape, name, {x, IntConst(g, name + "_shape", target)});
}

// MatMul(x, W) + b with random constants.
Value* Projection(Graph& g, const std::string& name, Value* x, int64_t n, unsigned seed) {
  Value* w = ConstNd(g, name + "_w", {kE, n}, RandomData(static_cast<size_t>(kE * n), seed, 0.5f));
  Value* b = Const(g, name + "_b", RandomData(static_cast<size_t>(n), seed + 100, 0.5f));
  return Op(g, OpKind::kAdd, name, {b, Op(g, OpKind::kMatMul, name + "_mm", {x, w})});
}

int Count(const Graph& g, OpKind op) {
  int n = 0;
  for (const Node* node : g.nodes()) n += node->op == op;
  return n;
}

const Node* Find(const Graph& g, OpKind op) {
  for (const Node* node : g.nodes()) {
    if (node->op == op) return node;
  }
  return nullptr;
}

// Which variations of the BERT-style block to build.
struct Bert {
  bool guard = true;
  bool mask = true;
  bool scale_on_scores = false;  // Div(scores, sqrt(D)) instead of Mul(q, c1), Mul(kT, c2)
  std::vector<int64_t> k_perm = {0, 2, 3, 1};
  int64_t softmax_axis = -1;
  bool softmax_is_output = false;  // an intermediate the graph also exposes
  bool scores_second_reader = false;
};

// x [B, S, E] -> self-attention -> y [B, S, E]; mask input [B, 1, 1, S].
void BuildBert(Graph& g, const Bert& o) {
  g.name = "bert";
  Value* x = Input(g, "x", {kB, kS, kE});
  Value* mask = o.mask ? Input(g, "mask", {kB, 1, 1, kS}) : nullptr;
  Value* q = Tr(g, "q", Reshape(g, "q_r", Projection(g, "q_proj", x, kE, 1), {0, 0, kH, kD}),
                {0, 2, 1, 3});
  Value* kt =
      Tr(g, "kt", Reshape(g, "k_r", Projection(g, "k_proj", x, kE, 2), {0, 0, kH, kD}), o.k_perm);
  Value* v = Tr(g, "v", Reshape(g, "v_r", Projection(g, "v_proj", x, kE, 3), {0, 0, kH, kD}),
                {0, 2, 1, 3});
  Value* s;
  if (o.scale_on_scores) {
    s = Op(g, OpKind::kDiv, "scores_div",
           {Op(g, OpKind::kMatMul, "scores", {q, kt}), Scalar(g, "sqrt_d", 2.0f)});
  } else {
    q = Op(g, OpKind::kMul, "q_scaled", {q, Scalar(g, "c1", 0.7071f)});
    kt = Op(g, OpKind::kMul, "kt_scaled", {kt, Scalar(g, "c2", 0.7071f)});
    s = Op(g, OpKind::kMatMul, "scores", {q, kt});
  }
  if (o.scores_second_reader) g.AddOutput(Op(g, OpKind::kRelu, "leak", {s}));
  if (mask) s = Op(g, OpKind::kAdd, "masked", {s, mask});
  Value* p = Op(g, OpKind::kSoftmax, "probs", {s});
  p->producer->attrs.Set("axis", o.softmax_axis);
  if (o.softmax_is_output) g.AddOutput(p);
  if (o.guard) {
    Value* nan = Op(g, OpKind::kIsNaN, "nan", {p});
    p = Op(g, OpKind::kWhere, "guarded", {nan, Scalar(g, "zero", 0.0f), p});
  }
  Value* ctx = Tr(g, "ctx_t", Op(g, OpKind::kMatMul, "ctx", {p, v}), {0, 2, 1, 3});
  g.AddOutput(Reshape(g, "y", ctx, {0, 0, kE}));
}

// Source nodes as the importer would set them: each node's own name.
void SetProvenance(Graph& g) {
  for (Node* n : g.nodes()) n->source_nodes = {n->name};
}

Status AttentionThenQkv(Graph& g) {
  FRT_RETURN_IF_ERROR(FuseAttention(g));
  FRT_RETURN_IF_ERROR(FuseGemmEpilogue(g));
  return FuseQkv(g);
}

Status AttentionQkvAndCleanup(Graph& g) {
  FRT_RETURN_IF_ERROR(AttentionThenQkv(g));
  return EliminateDeadCode(g);
}

TEST(FuseAttention, BertStyleBecomesOneNode) {
  Graph g;
  BuildBert(g, Bert{});
  SetProvenance(g);
  CheckPassNumerics(g, FuseAttention);
  ASSERT_EQ(Count(g, OpKind::kMultiHeadAttention), 1);
  for (OpKind op : {OpKind::kSoftmax, OpKind::kTranspose, OpKind::kReshape, OpKind::kIsNaN,
                    OpKind::kWhere, OpKind::kDiv}) {
    EXPECT_EQ(Count(g, op), 0) << OpKindName(op);
  }
  EXPECT_EQ(Count(g, OpKind::kMatMul), 3);  // the projections only
  const Node* mha = Find(g, OpKind::kMultiHeadAttention);
  EXPECT_EQ(mha->inputs[0]->name, "q_proj");
  EXPECT_EQ(mha->inputs[1]->name, "k_proj");
  EXPECT_EQ(mha->inputs[2]->name, "v_proj");
  EXPECT_EQ(mha->inputs[3]->name, "mask");
  EXPECT_EQ(mha->attrs.GetInt("num_heads"), kH);
  EXPECT_NEAR(mha->attrs.GetFloat("scale"), 0.7071f * 0.7071f, 1e-7);
  EXPECT_EQ(g.outputs()[0]->name, "y");
  EXPECT_EQ(g.outputs()[0]->producer, mha);
  // Provenance: every replaced node, in graph order; the name is the first's.
  const std::vector<std::string>& src = mha->source_nodes;
  EXPECT_EQ(src.size(), 16u);
  EXPECT_EQ(mha->name, src.front());
  for (const char* n :
       {"q_r_node", "kt_node", "q_scaled_node", "kt_scaled_node", "scores_node", "masked_node",
        "probs_node", "nan_node", "guarded_node", "ctx_node", "ctx_t_node", "y_node"}) {
    EXPECT_NE(std::find(src.begin(), src.end(), n), src.end()) << n;
  }
  EXPECT_LT(std::find(src.begin(), src.end(), "scores_node") - src.begin(),
            std::find(src.begin(), src.end(), "probs_node") - src.begin());
}

TEST(FuseAttention, BertPrintedIr) {
  Graph g;
  Bert o;
  o.mask = false;
  o.guard = false;
  o.scale_on_scores = true;
  BuildBert(g, o);
  ASSERT_TRUE(InferGraphShapes(g).ok());
  ASSERT_TRUE(FuseAttention(g).ok());
  ASSERT_TRUE(InferGraphShapes(g).ok());
  ASSERT_TRUE(VerifyGraph(g).ok());
  EXPECT_EQ(PrintGraph(g),
            "graph bert (%x: f32[2,5,8]) -> (%y: f32[2,5,8]) {\n"
            "  const %q_proj_w: f32[8,8]\n  const %q_proj_b: f32[8]\n"
            "  const %k_proj_w: f32[8,8]\n  const %k_proj_b: f32[8]\n"
            "  const %v_proj_w: f32[8,8]\n  const %v_proj_b: f32[8]\n"
            "  %q_proj_mm: f32[2,5,8] = MatMul(%x, %q_proj_w)  # q_proj_mm_node\n"
            "  %k_proj_mm: f32[2,5,8] = MatMul(%x, %k_proj_w)  # k_proj_mm_node\n"
            "  %v_proj_mm: f32[2,5,8] = MatMul(%x, %v_proj_w)  # v_proj_mm_node\n"
            "  %q_proj: f32[2,5,8] = Add(%q_proj_b, %q_proj_mm)  # q_proj_node\n"
            "  %k_proj: f32[2,5,8] = Add(%k_proj_b, %k_proj_mm)  # k_proj_node\n"
            "  %v_proj: f32[2,5,8] = Add(%v_proj_b, %v_proj_mm)  # v_proj_node\n"
            "  %y: f32[2,5,8] = MultiHeadAttention(%q_proj, %k_proj, %v_proj) "
            "{num_heads=2, scale=0.5}  # q_r_node\n"
            "}\n");
}

TEST(FuseAttention, ScaleOnScoresAndNoMaskNoGuard) {
  Graph g;
  Bert o;
  o.scale_on_scores = true;
  o.guard = false;
  o.mask = false;
  BuildBert(g, o);
  CheckPassNumerics(g, FuseAttention);
  ASSERT_EQ(Count(g, OpKind::kMultiHeadAttention), 1);
  const Node* mha = Find(g, OpKind::kMultiHeadAttention);
  EXPECT_EQ(mha->inputs.size(), 3u);
  EXPECT_FLOAT_EQ(mha->attrs.GetFloat("scale"), 0.5f);
}

TEST(FuseAttention, KTransposedThenLastAxesSwapped) {
  // K by (0,2,1,3) then a second Transpose swapping the last two axes.
  Graph g;
  Bert o;
  o.k_perm = {0, 2, 1, 3};
  BuildBert(g, o);
  Value* kt = g.FindValue("kt");
  Value* swapped = Tr(g, "kt_swap", kt, {0, 1, 3, 2});
  g.FindValue("kt_scaled")->producer->inputs[0] = swapped;
  CheckPassNumerics(g, FuseAttention);
  EXPECT_EQ(Count(g, OpKind::kMultiHeadAttention), 1);
  EXPECT_EQ(Count(g, OpKind::kTranspose), 0);
}

// GPT-2 (dynamo exporter): one QKV projection, Split, K^T through
// Reshape([B*H, S, D]) -> Transpose(0,2,1) -> Reshape([B, H, D, S]), causal
// additive mask from Where(bool, 0, -inf).
void BuildGpt2(Graph& g, bool flat_output = false) {
  g.name = "gpt2";
  Value* x = Input(g, "x", {kB, kS, kE});
  Value* qkv = Projection(g, "c_attn", x, 3 * kE, 7);
  Node* split = g.AddNode(OpKind::kSplit, "split_node");
  split->opset = 18;
  split->inputs = {qkv};
  split->attrs.Set("axis", int64_t{2});
  split->attrs.Set("num_outputs", int64_t{3});
  for (const char* name : {"sq", "sk", "sv"}) {
    Value* out = g.AddValue(name).value();
    out->producer = split;
    split->outputs.push_back(out);
  }
  Value* q = Tr(g, "q", Reshape(g, "q_r", split->outputs[0], {kB, kS, kH, kD}), {0, 2, 1, 3});
  Value* k = Tr(g, "k", Reshape(g, "k_r", split->outputs[1], {kB, kS, kH, kD}), {0, 2, 1, 3});
  Value* v = Tr(g, "v", Reshape(g, "v_r", split->outputs[2], {kB, kS, kH, kD}), {0, 2, 1, 3});
  Value* kt = Reshape(g, "kt", Tr(g, "k3t", Reshape(g, "k3", k, {-1, kS, kD}), {0, 2, 1}),
                      {kB, kH, kD, kS});
  Value* c = Scalar(g, "c", 0.7071f);
  Value* s = Op(g, OpKind::kMatMul, "scores",
                {Op(g, OpKind::kMul, "qs", {q, c}), Op(g, OpKind::kMul, "ks", {kt, c})});
  Tensor keep = Tensor::Allocate(DType::kBool, {1, 1, kS, kS}).value();
  for (int64_t i = 0; i < kS; ++i) {
    for (int64_t j = 0; j < kS; ++j) keep.data<bool>()[i * kS + j] = j <= i;
  }
  Value* causal = g.AddValue("causal").value();
  causal->constant = std::move(keep);
  causal->dtype = DType::kBool;
  causal->shape = Shape::FromDims({1, 1, kS, kS});
  Value* bias = Op(g, OpKind::kWhere, "attn_bias",
                   {causal, Scalar(g, "zero", 0.0f),
                    Scalar(g, "neg_inf", -std::numeric_limits<float>::infinity())});
  Value* p = Op(g, OpKind::kSoftmax, "probs", {Op(g, OpKind::kAdd, "masked", {s, bias})});
  p->producer->attrs.Set("axis", int64_t{-1});
  Value* nan = Op(g, OpKind::kIsNaN, "nan", {p});
  p = Op(g, OpKind::kWhere, "guarded", {nan, g.FindValue("zero"), p});
  Value* ctx = Tr(g, "ctx_t", Op(g, OpKind::kMatMul, "ctx", {p, v}), {0, 2, 1, 3});
  g.AddOutput(Reshape(
      g, "y", ctx, flat_output ? std::vector<int64_t>{-1, kE} : std::vector<int64_t>{kB, kS, kE}));
}

TEST(FuseAttention, Gpt2FlatOutputKeepsItsReshape) {
  // GPT-2 merges the heads straight into [B*S, E] for its 2-D Gemm.
  Graph g;
  BuildGpt2(g, /*flat_output=*/true);
  CheckPassNumerics(g, FuseAttention);
  ASSERT_EQ(Count(g, OpKind::kMultiHeadAttention), 1);
  ASSERT_EQ(Count(g, OpKind::kReshape), 1);
  const Node* mha = Find(g, OpKind::kMultiHeadAttention);
  const Node* flat = g.outputs()[0]->producer;
  EXPECT_EQ(g.outputs()[0]->name, "y");
  ASSERT_EQ(flat->op, OpKind::kReshape);
  EXPECT_EQ(flat->inputs[0], mha->outputs[0]);
  EXPECT_EQ(mha->outputs[0]->shape->ToString(), "[2,5,8]");
}

TEST(FuseAttention, Gpt2StyleSplitBecomesPacked) {
  Graph g;
  BuildGpt2(g);
  CheckPassNumerics(g, AttentionQkvAndCleanup);
  ASSERT_EQ(Count(g, OpKind::kMultiHeadAttention), 1);
  EXPECT_EQ(Count(g, OpKind::kSplit), 0);
  EXPECT_EQ(Count(g, OpKind::kTranspose), 0);
  EXPECT_EQ(Count(g, OpKind::kReshape), 0);
  const Node* mha = Find(g, OpKind::kMultiHeadAttention);
  ASSERT_EQ(mha->inputs.size(), 4u);
  EXPECT_FALSE(mha->has_input(1));
  EXPECT_FALSE(mha->has_input(2));
  EXPECT_EQ(mha->inputs[3]->name, "attn_bias");
  // The packed input is the one QKV projection (a FusedMatMul once epilogues fuse).
  ASSERT_NE(mha->inputs[0]->producer, nullptr);
  EXPECT_TRUE(mha->inputs[0]->producer->op == OpKind::kFusedMatMul ||
              mha->inputs[0]->producer->op == OpKind::kAdd);
  EXPECT_NEAR(mha->attrs.GetFloat("scale"), 0.7071f * 0.7071f, 1e-7);
}

// T5: no scale (Mul by 1), position bias + mask added to the scores, no
// guard, and a Shape read of the head-split K (the exporter's Sk).
TEST(FuseAttention, T5StyleNoScaleWithBiasAndShapeReader) {
  Graph g;
  g.name = "t5";
  Value* x = Input(g, "x", {kB, kS, kE});
  Value* bias = Input(g, "pos_bias", {1, kH, kS, kS});
  auto proj = [&](const char* name, unsigned seed) {
    return Op(g, OpKind::kMatMul, name,
              {x, ConstNd(g, std::string(name) + "_w", {kE, kE}, RandomData(kE * kE, seed))});
  };
  Value* q = Tr(g, "q", Reshape(g, "q_r", proj("qp", 1), {0, 0, kH, kD}), {0, 2, 1, 3});
  Value* k_r = Reshape(g, "k_r", proj("kp", 2), {0, 0, kH, kD});
  Value* k_t = Tr(g, "k_t", k_r, {0, 2, 1, 3});  // only read by Shape
  Value* shape = Op(g, OpKind::kShape, "k_shape", {k_t});
  Value* kt = Tr(g, "kt", k_r, {0, 2, 3, 1});
  Value* v = Tr(g, "v", Reshape(g, "v_r", proj("vp", 3), {0, 0, kH, kD}), {0, 2, 1, 3});
  Value* one = Scalar(g, "one", 1.0f);
  Value* s = Op(g, OpKind::kMatMul, "scores",
                {Op(g, OpKind::kMul, "q1", {q, one}), Op(g, OpKind::kMul, "k1", {kt, one})});
  Value* p = Op(g, OpKind::kSoftmax, "probs", {Op(g, OpKind::kAdd, "biased", {s, bias})});
  p->producer->attrs.Set("axis", int64_t{3});
  Value* ctx = Tr(g, "ctx_t", Op(g, OpKind::kMatMul, "ctx", {p, v}), {0, 2, 1, 3});
  g.AddOutput(Reshape(g, "y", ctx, {0, 0, kE}));
  g.AddOutput(shape);
  CheckPassNumerics(g, AttentionQkvAndCleanup);
  ASSERT_EQ(Count(g, OpKind::kMultiHeadAttention), 1);
  const Node* mha = Find(g, OpKind::kMultiHeadAttention);
  EXPECT_FLOAT_EQ(mha->attrs.GetFloat("scale"), 1.0f);
  EXPECT_EQ(mha->inputs[3]->name, "pos_bias");
  // The plain MatMul projections were packed into one GEMM.
  EXPECT_FALSE(mha->has_input(1));
  EXPECT_EQ(Count(g, OpKind::kMatMul), 0);
  EXPECT_EQ(Count(g, OpKind::kFusedMatMul), 1);
  // The Shape reader of K's head split is recomputed from the MHA's inputs
  // (all static here), so the layout nodes are gone and the value is kept.
  EXPECT_EQ(Count(g, OpKind::kTranspose), 0);
  EXPECT_EQ(Count(g, OpKind::kReshape), 0);
  std::mt19937 rng(5);
  std::vector<Tensor> out = RunGraph(g, RandomInputs(g, rng));
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[1].ToInt64Vector().value(), (std::vector<int64_t>{kB, kH, kS, kD}));
}

// With symbolic dims the T5 Shape reader of K becomes Shape(input, 1, 2)
// ("seq" is the MHA input's axis 1), and fuse_qkv then moves it to X so that
// the projections can still be packed.
TEST(FuseAttention, SymbolicShapeReaderIsRecomputedFromInputs) {
  Graph g;
  g.name = "t5sym";
  const Shape sym({Dim::Symbol("batch"), Dim::Symbol("seq"), Dim(kE)});
  Value* x = Input(g, "x", {kB, kS, kE});
  x->shape = sym;
  auto proj = [&](const char* name, unsigned seed) {
    return Op(g, OpKind::kMatMul, name,
              {x, ConstNd(g, std::string(name) + "_w", {kE, kE}, RandomData(kE * kE, seed))});
  };
  Value* q = Tr(g, "q", Reshape(g, "q_r", proj("qp", 1), {0, 0, kH, kD}), {0, 2, 1, 3});
  Value* k_r = Reshape(g, "k_r", proj("kp", 2), {0, 0, kH, kD});
  Value* seq = Op(g, OpKind::kShape, "k_seq", {Tr(g, "k_t", k_r, {0, 2, 1, 3})});
  seq->producer->attrs.Set("start", int64_t{2});
  seq->producer->attrs.Set("end", int64_t{3});
  Value* kt = Tr(g, "kt", k_r, {0, 2, 3, 1});
  Value* v = Tr(g, "v", Reshape(g, "v_r", proj("vp", 3), {0, 0, kH, kD}), {0, 2, 1, 3});
  Value* p = Op(g, OpKind::kSoftmax, "probs", {Op(g, OpKind::kMatMul, "scores", {q, kt})});
  Value* ctx = Tr(g, "ctx_t", Op(g, OpKind::kMatMul, "ctx", {p, v}), {0, 2, 1, 3});
  g.AddOutput(Reshape(g, "y", ctx, {0, 0, kE}));
  g.AddOutput(seq);
  ASSERT_TRUE(InferGraphShapes(g).ok());
  EXPECT_EQ(g.FindValue("k_r")->shape->ToString(), "[batch,seq,2,4]");
  auto original = CloneGraph(g);
  ASSERT_TRUE(original.ok());
  Status s = AttentionQkvAndCleanup(g);
  ASSERT_TRUE(s.ok()) << s.ToString();
  ASSERT_TRUE(InferGraphShapes(g).ok());
  ASSERT_TRUE(VerifyGraph(g).ok());
  EXPECT_EQ(Count(g, OpKind::kMultiHeadAttention), 1);
  EXPECT_EQ(Count(g, OpKind::kFusedMatMul), 1);
  EXPECT_EQ(Count(g, OpKind::kTranspose), 0);
  EXPECT_EQ(Count(g, OpKind::kReshape), 0);
  const Node* shape = g.outputs()[1]->producer;
  ASSERT_EQ(shape->op, OpKind::kShape);
  EXPECT_EQ(shape->inputs[0], x);
  EXPECT_EQ(shape->attrs.GetInt("start"), 1);
  EXPECT_EQ(shape->attrs.GetInt("end"), 2);
  // Same numbers as the original once the symbols take sizes.
  for (Graph* gr : {&g, original->get()}) {
    gr->FindValue("x")->shape = Shape::FromDims({kB, kS, kE});
    ASSERT_TRUE(InferGraphShapes(*gr).ok());
  }
  std::mt19937 rng(std::random_device{}());
  auto inputs = RandomInputs(g, rng);
  std::vector<Tensor> want = RunGraph(**original, inputs), got = RunGraph(g, inputs);
  ASSERT_EQ(want.size(), 2u);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_LE(RelativeL2(got[0], want[0]), 1e-5);
  EXPECT_EQ(got[1].ToInt64Vector().value(), want[1].ToInt64Vector().value());
  EXPECT_EQ(got[1].ToInt64Vector().value(), std::vector<int64_t>{kS});
}

// Negative cases: the graph must come out exactly as it went in.
void ExpectUntouched(Graph& g) {
  ASSERT_TRUE(InferGraphShapes(g).ok());
  std::string before = PrintGraph(g);
  CheckPass(g, FuseAttention, before, before);
  EXPECT_EQ(Count(g, OpKind::kMultiHeadAttention), 0);
}

TEST(FuseAttention, LeavesIntermediateWithAnotherConsumer) {
  Graph g;
  Bert o;
  o.scores_second_reader = true;
  BuildBert(g, o);
  ExpectUntouched(g);
}

TEST(FuseAttention, LeavesIntermediateThatIsAGraphOutput) {
  Graph g;
  Bert o;
  o.softmax_is_output = true;
  BuildBert(g, o);
  ExpectUntouched(g);
}

TEST(FuseAttention, LeavesSoftmaxOverAnotherAxis) {
  Graph g;
  Bert o;
  o.softmax_axis = 2;
  BuildBert(g, o);
  ExpectUntouched(g);
}

TEST(FuseAttention, LeavesWrongTransposePerm) {
  // K by (0,2,1,3) without the swap: with S == D, scores = q @ k type-checks
  // but is not attention.
  Graph g;
  g.name = "wrong";
  Value* x = Input(g, "x", {kB, kD, kE});  // S = D
  Value* q = Tr(g, "q", Reshape(g, "q_r", x, {0, 0, kH, kD}), {0, 2, 1, 3});
  Value* k =
      Tr(g, "k", Reshape(g, "k_r", Op(g, OpKind::kNeg, "xk", {x}), {0, 0, kH, kD}), {0, 2, 1, 3});
  Value* v =
      Tr(g, "v", Reshape(g, "v_r", Op(g, OpKind::kAbs, "xv", {x}), {0, 0, kH, kD}), {0, 2, 1, 3});
  Value* p = Op(g, OpKind::kSoftmax, "probs", {Op(g, OpKind::kMatMul, "scores", {q, k})});
  Value* ctx = Tr(g, "ctx_t", Op(g, OpKind::kMatMul, "ctx", {p, v}), {0, 2, 1, 3});
  g.AddOutput(Reshape(g, "y", ctx, {0, 0, kE}));
  ExpectUntouched(g);
}

TEST(FuseAttention, LeavesHeadSplitThatIsNotOne) {
  // Reshape to [B, H, S, D] (heads before sequence) is not a head split of
  // [B, S, H*D] even though the element counts agree.
  Graph g;
  g.name = "split";
  Value* x = Input(g, "x", {kB, kH, kE});  // S = H
  auto heads = [&](const char* n, Value* in, std::vector<int64_t> perm) {
    return Tr(g, n, Reshape(g, std::string(n) + "_r", in, {kB, kD, kH, kH}), perm);
  };
  Value* q = heads("q", x, {0, 2, 1, 3});
  Value* kt = heads("kt", Op(g, OpKind::kNeg, "xk", {x}), {0, 2, 3, 1});
  Value* v = heads("v", Op(g, OpKind::kAbs, "xv", {x}), {0, 2, 1, 3});
  Value* p = Op(g, OpKind::kSoftmax, "probs", {Op(g, OpKind::kMatMul, "scores", {q, kt})});
  Value* ctx = Tr(g, "ctx_t", Op(g, OpKind::kMatMul, "ctx", {p, v}), {0, 2, 1, 3});
  g.AddOutput(Reshape(g, "y", ctx, {kB, kH, kE}));
  ExpectUntouched(g);
}

// fuse_qkv on its own.
TEST(FuseQkv, PacksThreeBiasedProjections) {
  Graph g;
  BuildBert(g, Bert{});
  SetProvenance(g);
  CheckPassNumerics(g, AttentionQkvAndCleanup);
  ASSERT_EQ(Count(g, OpKind::kMultiHeadAttention), 1);
  EXPECT_EQ(Count(g, OpKind::kFusedMatMul), 1);
  EXPECT_EQ(Count(g, OpKind::kMatMul), 0);
  EXPECT_EQ(Count(g, OpKind::kAdd), 0);
  const Node* gemm = Find(g, OpKind::kFusedMatMul);
  ASSERT_EQ(gemm->inputs.size(), 3u);
  EXPECT_EQ(gemm->inputs[0]->name, "x");
  EXPECT_EQ(gemm->inputs[1]->constant->dims(), (Dims{kE, 3 * kE}));
  EXPECT_EQ(gemm->inputs[2]->constant->dims(), (Dims{3 * kE}));
  EXPECT_EQ(gemm->source_nodes.size(), 6u);  // three MatMuls, three bias Adds
  EXPECT_EQ(gemm->name, gemm->source_nodes.front());
  const Node* mha = Find(g, OpKind::kMultiHeadAttention);
  EXPECT_EQ(mha->inputs[0]->producer, gemm);
  EXPECT_FALSE(mha->has_input(1));
  EXPECT_FALSE(mha->has_input(2));
  EXPECT_EQ(mha->inputs[3]->name, "mask");
}

// MHA over three projections built directly (no fuse_attention in between).
void BuildMhaOverProjections(Graph& g, bool share_input, bool extra_reader, bool trans_b) {
  g.name = "qkv";
  Value* x = Input(g, "x", {kB, kS, kE});
  Value* x2 = share_input ? x : Input(g, "x2", {kB, kS, kE});
  std::vector<Value*> outs;
  for (int i = 0; i < 3; ++i) {
    std::string n = "p" + std::to_string(i);
    Node* mm = g.AddNode(OpKind::kFusedMatMul, n + "_node");
    Value* w = ConstNd(g, n + "_w", {kE, kE}, RandomData(kE * kE, 10 + i));
    mm->inputs = {i == 2 ? x2 : x, w, Const(g, n + "_b", RandomData(kE, 20 + i))};
    if (trans_b) mm->attrs.Set("trans_b", int64_t{1});
    mm->attrs.Set("alpha", 0.5f);
    Value* out = g.AddValue(n).value();
    out->producer = mm;
    mm->outputs = {out};
    outs.push_back(out);
  }
  if (extra_reader) g.AddOutput(Op(g, OpKind::kRelu, "leak", {outs[1]}));
  Node* mha = g.AddNode(OpKind::kMultiHeadAttention, "mha");
  mha->inputs = outs;
  mha->attrs.Set("num_heads", kH);
  Value* y = g.AddValue("y").value();
  y->producer = mha;
  mha->outputs = {y};
  g.AddOutput(y);
}

TEST(FuseQkv, PacksFusedMatMulsWithTransB) {
  for (bool trans_b : {false, true}) {
    Graph g;
    BuildMhaOverProjections(g, true, false, trans_b);
    CheckPassNumerics(g, FuseQkv);
    EXPECT_EQ(Count(g, OpKind::kFusedMatMul), 1);
    const Node* gemm = Find(g, OpKind::kFusedMatMul);
    EXPECT_EQ(gemm->attrs.GetInt("trans_b", 0), trans_b ? 1 : 0);
    EXPECT_FLOAT_EQ(gemm->attrs.GetFloat("alpha", 1.0f), 0.5f);
  }
}

TEST(FuseQkv, LeavesDifferentInputsOrExtraReaders) {
  for (bool share : {false, true}) {
    Graph g;
    BuildMhaOverProjections(g, share, /*extra_reader=*/share, false);
    ASSERT_TRUE(InferGraphShapes(g).ok());
    std::string before = PrintGraph(g);
    CheckPass(g, FuseQkv, before, before);
  }
}

}  // namespace
}  // namespace frt
