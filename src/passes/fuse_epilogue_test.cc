// Tests of fold_batch_norm, fuse_conv_epilogue and fuse_gemm_epilogue on
// hand-built graphs: the printed IR after the pass (what was absorbed, which
// names survive), provenance, the numbers against an untouched copy on fresh
// random inputs (CheckPassNumerics: relative L2 <= 1e-5; the fused kernels
// round once where the chain rounded after every op, and BN folding rounds
// the rescaled weights once), and the cases where a pattern must NOT fire.
#include <gtest/gtest.h>

#include "passes/pass_manager.h"
#include "passes/pass_test_util.h"

namespace frt {
namespace {

// Positive values (for BatchNorm variances).
std::vector<float> PositiveData(size_t n, unsigned seed) {
  std::vector<float> v = RandomData(n, seed);
  for (float& f : v) f = 0.5f + f * f;
  return v;
}

// Sets each node's provenance to its own name, as the importer does.
void SetProvenance(Graph& g) {
  for (Node* n : g.nodes()) n->source_nodes = {n->name};
}

// Runs `pass` on a copy-free graph and expects the printed IR not to change.
void ExpectUnchanged(Graph& g, Status (*pass)(Graph&)) {
  ASSERT_TRUE(InferGraphShapes(g).ok());
  const std::string before = PrintGraph(g);
  ASSERT_TRUE(pass(g).ok());
  ASSERT_TRUE(InferGraphShapes(g).ok());
  EXPECT_EQ(PrintGraph(g), before);
}

Node* OnlyNode(const Graph& g, OpKind op) {
  Node* found = nullptr;
  for (Node* n : g.nodes()) {
    if (n->op != op) continue;
    EXPECT_EQ(found, nullptr) << "more than one " << OpKindName(op);
    found = n;
  }
  return found;
}

// --- fold_batch_norm -------------------------------------------------------

// x [1,4,6,6] -> Conv(W [6,4/group,3,3], b?) -> BatchNormalization -> y
Value* ConvBn(Graph& g, Value* x, int64_t group, bool bias, const std::string& tag) {
  Value* w = ConstNd(g, tag + "w", {6, 4 / group, 3, 3}, RandomData(6 * 4 / group * 9, 1, 0.3f));
  std::vector<Value*> ins = {x, w};
  if (bias) ins.push_back(Const(g, tag + "b", RandomData(6, 2)));
  Value* c = Op(g, OpKind::kConv, tag + "conv", ins);
  c->producer->attrs.Set("group", group);
  c->producer->attrs.Set("pads", std::vector<int64_t>{1, 1, 1, 1});
  Value* bn =
      Op(g, OpKind::kBatchNormalization, tag + "bn",
         {c, Const(g, tag + "scale", RandomData(6, 3)), Const(g, tag + "shift", RandomData(6, 4)),
          Const(g, tag + "mean", RandomData(6, 5)), Const(g, tag + "var", PositiveData(6, 6))});
  bn->producer->attrs.Set("epsilon", 1e-3f);
  return bn;
}

TEST(PassesFoldBatchNorm, FoldsIntoConvWeightsAndBias) {
  for (int64_t group : {1, 2}) {
    for (bool bias : {true, false}) {
      Graph g;
      g.name = "bn";
      Value* x = Input(g, "x", {1, 4, 6, 6});
      g.AddOutput(ConvBn(g, x, group, bias, ""));
      SetProvenance(g);
      CheckPassNumerics(g, FoldBatchNorm);
      EXPECT_EQ(OnlyNode(g, OpKind::kBatchNormalization), nullptr);
      Node* conv = OnlyNode(g, OpKind::kConv);
      ASSERT_NE(conv, nullptr);
      EXPECT_EQ(conv->name, "conv_node");
      EXPECT_EQ(conv->outputs[0]->name,
                "bn");  // the graph output keeps its name
      EXPECT_EQ(conv->source_nodes, (std::vector<std::string>{"conv_node", "bn_node"}));
      EXPECT_EQ(g.num_nodes(), 1u);
    }
  }
}

TEST(PassesFoldBatchNorm, PrintedIr) {
  Graph g;
  g.name = "bn";
  Value* x = Input(g, "x", {1, 4, 6, 6});
  g.AddOutput(ConvBn(g, x, 1, true, ""));
  CheckPassNumerics(g, FoldBatchNorm);
  EXPECT_EQ(PrintGraph(g),
            "graph bn (%x: f32[1,4,6,6]) -> (%bn: f32[1,6,6,6]) {\n"
            "  const %w/bn_folded: f32[6,4,3,3]\n"
            "  const %bn/conv_bias: f32[6]\n"
            "  %bn: f32[1,6,6,6] = Conv(%x, %w/bn_folded, %bn/conv_bias) "
            "{group=1, pads=[1,1,1,1]}"
            "  # conv_node\n}\n");
}

TEST(PassesFoldBatchNorm, LeavesNonMatchingPairsAlone) {
  {  // the Conv output has a second reader
    Graph g;
    g.name = "two_readers";
    Value* bn = ConvBn(g, Input(g, "x", {1, 4, 6, 6}), 1, true, "");
    g.AddOutput(bn);
    g.AddOutput(Op(g, OpKind::kRelu, "other", {g.FindValue("conv")}));
    ExpectUnchanged(g, FoldBatchNorm);
  }
  {  // the Conv output is a graph output
    Graph g;
    g.name = "conv_out";
    g.AddOutput(ConvBn(g, Input(g, "x", {1, 4, 6, 6}), 1, true, ""));
    g.AddOutput(g.FindValue("conv"));
    ExpectUnchanged(g, FoldBatchNorm);
  }
  {  // run-time statistics
    Graph g;
    g.name = "dyn_mean";
    Value* bn = ConvBn(g, Input(g, "x", {1, 4, 6, 6}), 1, true, "");
    bn->producer->inputs[3] = Input(g, "m", {6});
    g.AddOutput(bn);
    ExpectUnchanged(g, FoldBatchNorm);
  }
  {  // run-time weights (a graph input)
    Graph g;
    g.name = "dyn_w";
    Value* bn = ConvBn(g, Input(g, "x", {1, 4, 6, 6}), 1, true, "");
    g.FindValue("conv")->producer->inputs[1] = Input(g, "wi", {6, 4, 3, 3});
    g.AddOutput(bn);
    ExpectUnchanged(g, FoldBatchNorm);
  }
}

// --- fuse_conv_epilogue ----------------------------------------------------

// x [1,3,5,5] -> Conv(W [4,3,3,3], b [4], pads 1) -> %conv [1,4,5,5]
Value* Conv(Graph& g, Value* x, const std::string& name = "conv") {
  Value* w = ConstNd(g, name + "_w", {4, 3, 3, 3}, RandomData(108, 1, 0.3f));
  Value* c = Op(g, OpKind::kConv, name, {x, w, Const(g, name + "_b", RandomData(4, 2))});
  c->producer->attrs.Set("pads", std::vector<int64_t>{1, 1, 1, 1});
  return c;
}

TEST(PassesFuseConvEpilogue, BiasResidualReluBecomeOneFusedConv) {
  Graph g;
  g.name = "res";
  Value* x = Input(g, "x", {1, 3, 5, 5});
  Value* r = Input(g, "r", {1, 4, 5, 5});
  Value* bias = ConstNd(g, "cb", {1, 4, 1, 1}, RandomData(4, 3));
  Value* y = Op(g, OpKind::kAdd, "biased", {bias, Conv(g, x)});
  y = Op(g, OpKind::kAdd, "sum", {r, y});
  g.AddOutput(Op(g, OpKind::kRelu, "y", {y}));
  SetProvenance(g);
  CheckPassNumerics(g, FuseConvEpilogue);
  EXPECT_EQ(PrintGraph(g),
            "graph res (%x: f32[1,3,5,5], %r: f32[1,4,5,5]) -> (%y: f32[1,4,5,5]) {\n"
            "  const %conv_w: f32[4,3,3,3]\n"
            "  const %biased/bias: f32[4]\n"
            "  %y: f32[1,4,5,5] = FusedConv(%x, %conv_w, %biased/bias, %r) "
            "{activation=\"relu\", pads=[1,1,1,1]}  # conv_node\n}\n");
  EXPECT_EQ(OnlyNode(g, OpKind::kFusedConv)->source_nodes,
            (std::vector<std::string>{"conv_node", "biased_node", "sum_node", "y_node"}));
}

TEST(PassesFuseConvEpilogue, Relu6ClipAndScalarBiasWithoutConvBias) {
  Graph g;
  g.name = "clip";
  Value* x = Input(g, "x", {2, 3, 5, 5});
  Value* w = ConstNd(g, "w", {4, 3, 1, 1}, RandomData(12, 1));
  Value* c = Op(g, OpKind::kConv, "conv", {x, w});
  Value* y = Op(g, OpKind::kAdd, "biased", {c, Const(g, "k", {0.25f})});
  g.AddOutput(Op(g, OpKind::kClip, "y", {y, Const(g, "lo", {0.0f}), Const(g, "hi", {6.0f})}));
  CheckPassNumerics(g, FuseConvEpilogue);
  EXPECT_EQ(PrintGraph(g),
            "graph clip (%x: f32[2,3,5,5]) -> (%y: f32[2,4,5,5]) {\n"
            "  const %w: f32[4,3,1,1]\n"
            "  const %biased/bias: f32[4]\n"
            "  %y: f32[2,4,5,5] = FusedConv(%x, %w, %biased/bias) "
            "{activation=\"clip\", activation_alpha=0, activation_beta=6}  # "
            "conv_node\n}\n");
}

TEST(PassesFuseConvEpilogue, ActivationBeforeResidualStopsAtTheActivation) {
  Graph g;
  g.name = "act_first";
  Value* x = Input(g, "x", {1, 3, 5, 5});
  Value* r = Input(g, "r", {1, 4, 5, 5});
  Value* a = Op(g, OpKind::kRelu, "act", {Conv(g, x)});
  g.AddOutput(Op(g, OpKind::kAdd, "y", {a, r}));
  CheckPassNumerics(g, FuseConvEpilogue);
  EXPECT_EQ(PrintGraph(g),
            "graph act_first (%x: f32[1,3,5,5], %r: f32[1,4,5,5]) -> (%y: "
            "f32[1,4,5,5]) {\n"
            "  const %conv_w: f32[4,3,3,3]\n"
            "  const %conv_b: f32[4]\n"
            "  %act: f32[1,4,5,5] = FusedConv(%x, %conv_w, %conv_b) "
            "{activation=\"relu\", pads=[1,1,1,1]}  # conv_node\n"
            "  %y: f32[1,4,5,5] = Add(%act, %r)  # y_node\n}\n");
}

TEST(PassesFuseConvEpilogue, GraphOutputInTheMiddleEndsTheChain) {
  Graph h;
  h.name = "mid2";
  Value* x = Input(h, "x", {1, 3, 5, 5});
  Value* b =
      Op(h, OpKind::kAdd, "biased", {Conv(h, x), ConstNd(h, "k", {4, 1, 1}, RandomData(4, 9))});
  h.AddOutput(b);
  h.AddOutput(Op(h, OpKind::kRelu, "y", {b}));
  CheckPassNumerics(h, FuseConvEpilogue);
  // The bias Add is absorbed; its output is a graph output, so the Relu stays.
  EXPECT_EQ(PrintGraph(h),
            "graph mid2 (%x: f32[1,3,5,5]) -> (%biased: f32[1,4,5,5], %y: "
            "f32[1,4,5,5]) {\n"
            "  const %conv_w: f32[4,3,3,3]\n"
            "  const %biased/bias: f32[4]\n"
            "  %biased: f32[1,4,5,5] = FusedConv(%x, %conv_w, %biased/bias) "
            "{pads=[1,1,1,1]}  # conv_node\n"
            "  %y: f32[1,4,5,5] = Relu(%biased)  # y_node\n}\n");
}

TEST(PassesFuseConvEpilogue, LeavesNonMatchingChainsAlone) {
  {  // the Conv output has a second reader
    Graph g;
    g.name = "two";
    Value* c = Conv(g, Input(g, "x", {1, 3, 5, 5}));
    g.AddOutput(Op(g, OpKind::kRelu, "y", {c}));
    g.AddOutput(Op(g, OpKind::kExp, "z", {c}));
    ExpectUnchanged(g, FuseConvEpilogue);
  }
  {  // non-constant per-channel "bias" (neither bias nor a same-shaped residual)
    Graph g;
    g.name = "dyn_bias";
    Value* c = Conv(g, Input(g, "x", {1, 3, 5, 5}));
    g.AddOutput(Op(g, OpKind::kAdd, "y", {c, Input(g, "b", {1, 4, 1, 1})}));
    ExpectUnchanged(g, FuseConvEpilogue);
  }
  {  // a constant along the last axis (W) is not a per-channel bias
    Graph g;
    g.name = "row";
    Value* c = Conv(g, Input(g, "x", {1, 3, 5, 5}));
    g.AddOutput(Op(g, OpKind::kAdd, "y", {c, Const(g, "k", RandomData(5, 9))}));
    ExpectUnchanged(g, FuseConvEpilogue);
  }
  {  // an Add that broadcasts the Conv output up is no residual
    Graph g;
    g.name = "grow";
    Value* c = Conv(g, Input(g, "x", {1, 3, 5, 5}));
    g.AddOutput(Op(g, OpKind::kAdd, "y", {c, Input(g, "r", {2, 4, 5, 5})}));
    ExpectUnchanged(g, FuseConvEpilogue);
  }
  {  // a Conv that absorbs nothing stays a Conv
    Graph g;
    g.name = "plain";
    g.AddOutput(Op(g, OpKind::kExp, "y", {Conv(g, Input(g, "x", {1, 3, 5, 5}))}));
    ExpectUnchanged(g, FuseConvEpilogue);
  }
}

TEST(PassesFuseConvEpilogue, ResNetBlockAfterBatchNormFolding) {
  // relu(bn2(conv2(relu(bn1(conv1(x))))) + bn3(conv3(x))): a bottleneck with a
  // projection shortcut.
  Graph g;
  g.name = "block";
  Value* x = Input(g, "x", {1, 4, 6, 6});
  Value* a = Op(g, OpKind::kRelu, "a", {ConvBn(g, x, 1, false, "c1_")});
  Value* w2 = ConstNd(g, "c2_w", {4, 6, 1, 1}, RandomData(24, 7));
  Value* m = Op(g, OpKind::kConv, "c2_conv", {a, w2});
  m = Op(g, OpKind::kBatchNormalization, "c2_bn",
         {m, Const(g, "s2", RandomData(4, 3)), Const(g, "b2", RandomData(4, 4)),
          Const(g, "m2", RandomData(4, 5)), Const(g, "v2", PositiveData(4, 6))});
  Value* w3 = ConstNd(g, "c3_w", {4, 4, 1, 1}, RandomData(16, 8));
  Value* s = Op(g, OpKind::kConv, "c3_conv", {x, w3});
  g.AddOutput(Op(g, OpKind::kRelu, "y", {Op(g, OpKind::kAdd, "sum", {m, s})}));
  SetProvenance(g);
  auto both = [](Graph& graph) -> Status {
    FRT_RETURN_IF_ERROR(FoldBatchNorm(graph));
    FRT_RETURN_IF_ERROR(InferGraphShapes(graph));
    return FuseConvEpilogue(graph);
  };
  CheckPassNumerics(g, both);
  int fused = 0, conv = 0;
  for (const Node* n : g.nodes()) {
    fused += n->op == OpKind::kFusedConv;
    conv += n->op == OpKind::kConv;
  }
  EXPECT_EQ(g.num_nodes(), 3u) << PrintGraph(g);
  EXPECT_EQ(fused, 2) << PrintGraph(g);  // c1 (+bn +relu), c2 (+bn +sum +relu)
  EXPECT_EQ(conv, 1) << PrintGraph(g);   // c3 feeds the residual input
}

// --- fuse_gemm_epilogue ----------------------------------------------------

// a [2,5,8] @ W [8,6] -> %mm [2,5,6]
Value* MatMul(Graph& g, Value* a, const std::string& name = "mm") {
  return Op(g, OpKind::kMatMul, name, {a, ConstNd(g, name + "_w", {8, 6}, RandomData(48, 1))});
}

TEST(PassesFuseGemmEpilogue, FfnMatMulBiasGelu) {
  Graph g;
  g.name = "ffn";
  Value* a = Input(g, "a", {2, 5, 8});
  // Exporters write the bias first: Add(bias, MatMul(...)).
  Value* y = Op(g, OpKind::kAdd, "biased", {Const(g, "bias", RandomData(6, 2)), MatMul(g, a)});
  Value* gelu = Op(g, OpKind::kGelu, "y", {y});
  g.AddOutput(gelu);
  SetProvenance(g);
  CheckPassNumerics(g, FuseGemmEpilogue);
  EXPECT_EQ(PrintGraph(g),
            "graph ffn (%a: f32[2,5,8]) -> (%y: f32[2,5,6]) {\n"
            "  const %bias: f32[6]\n"
            "  const %mm_w: f32[8,6]\n"
            "  %y: f32[2,5,6] = FusedMatMul(%a, %mm_w, %bias) "
            "{activation=\"gelu\"}  # mm_node\n}\n");
  EXPECT_EQ(OnlyNode(g, OpKind::kFusedMatMul)->source_nodes,
            (std::vector<std::string>{"mm_node", "biased_node", "y_node"}));
}

TEST(PassesFuseGemmEpilogue, OutputProjectionBiasResidualThenRelu) {
  Graph g;
  g.name = "proj";
  Value* a = Input(g, "a", {2, 5, 8});
  Value* r = Input(g, "r", {2, 5, 6});
  Value* y =
      Op(g, OpKind::kAdd, "biased", {MatMul(g, a), ConstNd(g, "bias", {1, 6}, RandomData(6, 2))});
  y = Op(g, OpKind::kAdd, "sum", {y, r});
  g.AddOutput(Op(g, OpKind::kRelu, "y", {y}));
  CheckPassNumerics(g, FuseGemmEpilogue);
  EXPECT_EQ(PrintGraph(g),
            "graph proj (%a: f32[2,5,8], %r: f32[2,5,6]) -> (%y: f32[2,5,6]) {\n"
            "  const %mm_w: f32[8,6]\n"
            "  const %bias: f32[1,6]\n"
            "  %y: f32[2,5,6] = FusedMatMul(%a, %mm_w, %bias, %r) "
            "{activation=\"relu\"}  # mm_node\n"
            "}\n");
}

TEST(PassesFuseGemmEpilogue, ResidualWithoutBias) {
  Graph g;
  g.name = "res";
  Value* a = Input(g, "a", {2, 5, 8});
  Value* r = Input(g, "r", {2, 5, 6});
  g.AddOutput(Op(g, OpKind::kAdd, "y", {r, MatMul(g, a)}));
  CheckPassNumerics(g, FuseGemmEpilogue);
  EXPECT_EQ(PrintGraph(g),
            "graph res (%a: f32[2,5,8], %r: f32[2,5,6]) -> (%y: f32[2,5,6]) {\n"
            "  const %mm_w: f32[8,6]\n"
            "  %y: f32[2,5,6] = FusedMatMul(%a, %mm_w, <none>, %r)  # mm_node\n}\n");
}

TEST(PassesFuseGemmEpilogue, GemmAlphaBetaTransBFoldIntoBias) {
  Graph g;
  g.name = "gemm";
  Value* a = Input(g, "a", {3, 8});
  Value* w = ConstNd(g, "w", {6, 8}, RandomData(48, 1));
  Value* y = Op(g, OpKind::kGemm, "gemm", {a, w, Const(g, "c", RandomData(6, 2))});
  y->producer->attrs.Set("alpha", 0.5f);
  y->producer->attrs.Set("beta", 2.0f);
  y->producer->attrs.Set("transB", int64_t{1});
  y = Op(g, OpKind::kAdd, "biased", {y, Const(g, "bias", RandomData(6, 3))});
  g.AddOutput(Op(g, OpKind::kTanh, "y", {y}));
  CheckPassNumerics(g, FuseGemmEpilogue);
  EXPECT_EQ(PrintGraph(g),
            "graph gemm (%a: f32[3,8]) -> (%y: f32[3,6]) {\n"
            "  const %w: f32[6,8]\n"
            "  const %gemm/bias: f32[6]\n"
            "  %y: f32[3,6] = FusedMatMul(%a, %w, %gemm/bias) "
            "{activation=\"tanh\", alpha=0.5, trans_b=1}  # gemm_node\n}\n");
  // beta * c + bias, rounded once.
  const Tensor& b = *g.FindValue("gemm/bias")->constant;
  std::vector<float> c = RandomData(6, 2), bias = RandomData(6, 3);
  for (int i = 0; i < 6; ++i) {
    EXPECT_EQ(b.data<float>()[i], static_cast<float>(2.0 * c[i] + bias[i]));
  }
}

TEST(PassesFuseGemmEpilogue, LoneGemmBecomesFusedMatMul) {
  Graph g;
  g.name = "gemm";
  Value* a = Input(g, "a", {3, 8});
  Value* w = ConstNd(g, "w", {8, 6}, RandomData(48, 1));
  g.AddOutput(Op(g, OpKind::kGemm, "y", {a, w, ConstNd(g, "c", {3, 6}, RandomData(18, 2))}));
  CheckPassNumerics(g, FuseGemmEpilogue);
  EXPECT_EQ(PrintGraph(g),
            "graph gemm (%a: f32[3,8]) -> (%y: f32[3,6]) {\n"
            "  const %w: f32[8,6]\n"
            "  const %c: f32[3,6]\n"
            "  %y: f32[3,6] = FusedMatMul(%a, %w, %c)  # y_node\n}\n");
}

TEST(PassesFuseGemmEpilogue, GemmWithRunTimeC) {
  {  // beta 1: C becomes the bias input; a later constant Add is not folded into
    // it
    Graph g;
    g.name = "dyn_c";
    Value* a = Input(g, "a", {3, 8});
    Value* c = Input(g, "c", {3, 6});
    Value* y = Op(g, OpKind::kGemm, "gemm", {a, ConstNd(g, "w", {8, 6}, RandomData(48, 1)), c});
    g.AddOutput(Op(g, OpKind::kSigmoid, "y", {y}));
    CheckPassNumerics(g, FuseGemmEpilogue);
    EXPECT_EQ(PrintGraph(g),
              "graph dyn_c (%a: f32[3,8], %c: f32[3,6]) -> (%y: f32[3,6]) {\n"
              "  const %w: f32[8,6]\n"
              "  %y: f32[3,6] = FusedMatMul(%a, %w, %c) "
              "{activation=\"sigmoid\"}  # gemm_node\n}\n");
  }
  {  // beta 2 on a run-time C: left alone
    Graph g;
    g.name = "dyn_c2";
    Value* a = Input(g, "a", {3, 8});
    Value* c = Input(g, "c", {3, 6});
    Value* y = Op(g, OpKind::kGemm, "gemm", {a, ConstNd(g, "w", {8, 6}, RandomData(48, 1)), c});
    y->producer->attrs.Set("beta", 2.0f);
    g.AddOutput(Op(g, OpKind::kSigmoid, "y", {y}));
    ExpectUnchanged(g, FuseGemmEpilogue);
  }
}

TEST(PassesFuseGemmEpilogue, ActivationBeforeResidualIsNotAbsorbedTogether) {
  Graph g;
  g.name = "act_res";
  Value* a = Input(g, "a", {2, 5, 8});
  Value* r = Input(g, "r", {2, 5, 6});
  Value* y = Op(g, OpKind::kAdd, "biased", {MatMul(g, a), Const(g, "bias", RandomData(6, 2))});
  y = Op(g, OpKind::kRelu, "act", {y});
  g.AddOutput(Op(g, OpKind::kAdd, "y", {y, r}));
  CheckPassNumerics(g, FuseGemmEpilogue);
  EXPECT_EQ(PrintGraph(g),
            "graph act_res (%a: f32[2,5,8], %r: f32[2,5,6]) -> (%y: f32[2,5,6]) {\n"
            "  const %mm_w: f32[8,6]\n"
            "  const %bias: f32[6]\n"
            "  %act: f32[2,5,6] = FusedMatMul(%a, %mm_w, %bias) "
            "{activation=\"relu\"}  # mm_node\n"
            "  %y: f32[2,5,6] = Add(%act, %r)  # y_node\n}\n");
}

TEST(PassesFuseGemmEpilogue, LeavesNonMatchingChainsAlone) {
  {  // the MatMul output has a second reader
    Graph g;
    g.name = "two";
    Value* m = MatMul(g, Input(g, "a", {2, 5, 8}));
    g.AddOutput(Op(g, OpKind::kAdd, "y", {m, Const(g, "bias", RandomData(6, 2))}));
    g.AddOutput(Op(g, OpKind::kExp, "z", {m}));
    ExpectUnchanged(g, FuseGemmEpilogue);
  }
  {  // the MatMul output is a graph output
    Graph g;
    g.name = "out";
    Value* m = MatMul(g, Input(g, "a", {2, 5, 8}));
    g.AddOutput(m);
    g.AddOutput(Op(g, OpKind::kAdd, "y", {m, Const(g, "bias", RandomData(6, 2))}));
    ExpectUnchanged(g, FuseGemmEpilogue);
  }
  {  // non-constant bias (a graph input): not a bias, not a same-shaped residual
    Graph g;
    g.name = "dyn_bias";
    Value* m = MatMul(g, Input(g, "a", {2, 5, 8}));
    g.AddOutput(Op(g, OpKind::kAdd, "y", {m, Input(g, "b", {6})}));
    ExpectUnchanged(g, FuseGemmEpilogue);
  }
  {  // a constant that is not a row bias ([5,1] broadcasts along M)
    Graph g;
    g.name = "col_bias";
    Value* m = MatMul(g, Input(g, "a", {2, 5, 8}));
    g.AddOutput(Op(g, OpKind::kAdd, "y", {m, ConstNd(g, "b", {5, 1}, RandomData(5, 2))}));
    ExpectUnchanged(g, FuseGemmEpilogue);
  }
  {  // a bare MatMul stays a MatMul
    Graph g;
    g.name = "bare";
    g.AddOutput(Op(g, OpKind::kExp, "y", {MatMul(g, Input(g, "a", {2, 5, 8}))}));
    ExpectUnchanged(g, FuseGemmEpilogue);
  }
}

TEST(PassesFuseGemmEpilogue, GraphOutputInTheMiddleEndsTheChain) {
  Graph g;
  g.name = "mid";
  Value* a = Input(g, "a", {2, 5, 8});
  Value* b = Op(g, OpKind::kAdd, "biased", {MatMul(g, a), Const(g, "bias", RandomData(6, 2))});
  g.AddOutput(b);
  g.AddOutput(Op(g, OpKind::kRelu, "y", {b}));
  CheckPassNumerics(g, FuseGemmEpilogue);
  EXPECT_EQ(PrintGraph(g),
            "graph mid (%a: f32[2,5,8]) -> (%biased: f32[2,5,6], %y: f32[2,5,6]) {\n"
            "  const %mm_w: f32[8,6]\n"
            "  const %bias: f32[6]\n"
            "  %biased: f32[2,5,6] = FusedMatMul(%a, %mm_w, %bias)  # mm_node\n"
            "  %y: f32[2,5,6] = Relu(%biased)  # y_node\n}\n");
}

}  // namespace
}  // namespace frt
