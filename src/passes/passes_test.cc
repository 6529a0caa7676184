// Pass tests: each hand-built graph is printed before and after the pass and
// compared with the expected IR, verified, and run on the reference backend
// against an untouched copy with fresh random inputs (bit-identical: the
// passes reuse the same kernels, so nothing may change numerically).
#include <gtest/gtest.h>

#include <cstring>
#include <random>

#include "backends/cpu/reference_executor.h"
#include "ir/graph_clone.h"
#include "ir/printer.h"
#include "ir/shape_inference.h"
#include "ir/verifier.h"
#include "onnx/importer.h"
#include "passes/pass_manager.h"
#include "passes/pass_test_util.h"

namespace frt {
namespace {

TEST(PassesFoldConstants, FoldsAChainInOnePass) {
  Graph g;
  g.name = "fold";
  Value* x = Input(g, "x", {3});
  Value* a = Const(g, "a", {1.5f, -2.0f, 3.25f});
  Value* b = Const(g, "b", {0.5f, 4.0f, -1.0f});
  Value* c = Op(g, OpKind::kAdd, "c", {a, b});
  Value* d = Op(g, OpKind::kMul, "d", {c, a});
  g.AddOutput(Op(g, OpKind::kAdd, "y", {x, d}));
  CheckPass(g, FoldConstants,
            "graph fold (%x: f32[3]) -> (%y: f32[3]) {\n"
            "  const %a: f32[3]\n  const %b: f32[3]\n"
            "  %c: f32[3] = Add(%a, %b)  # c_node\n"
            "  %d: f32[3] = Mul(%c, %a)  # d_node\n"
            "  %y: f32[3] = Add(%x, %d)  # y_node\n}\n",
            "graph fold (%x: f32[3]) -> (%y: f32[3]) {\n"
            "  const %d: f32[3]\n"
            "  %y: f32[3] = Add(%x, %d)  # y_node\n}\n");
  const Tensor& folded = *g.FindValue("d")->constant;
  EXPECT_EQ(folded.data<float>()[0], (1.5f + 0.5f) * 1.5f);
  EXPECT_EQ(folded.data<float>()[2], (3.25f - 1.0f) * 3.25f);
}

TEST(PassesFoldConstants, LeavesOverridableInitializersAlone) {
  Graph g;
  g.name = "over";
  Value* x = Input(g, "x", {2});
  Value* w = Const(g, "w", {1.0f, 2.0f});
  g.AddInput(w);  // an initializer that is also a graph input may be overridden
  g.AddOutput(Op(g, OpKind::kAdd, "y", {x, Op(g, OpKind::kNeg, "n", {w})}));
  std::string same =
      "graph over (%x: f32[2], %w: f32[2]) -> (%y: f32[2]) {\n"
      "  %n: f32[2] = Neg(%w)  # n_node\n"
      "  %y: f32[2] = Add(%x, %n)  # y_node\n}\n";
  CheckPass(g, FoldConstants, same, same);
}

TEST(PassesEliminateDeadCode, RemovesUnusedChainsAndConstants) {
  Graph g;
  g.name = "dce";
  Value* x = Input(g, "x", {4});
  Value* k = Const(g, "k", {1, 2, 3, 4});
  Value* unused = Op(g, OpKind::kAdd, "u", {x, k});
  Op(g, OpKind::kExp, "u2", {unused});
  g.AddOutput(Op(g, OpKind::kRelu, "y", {x}));
  CheckPass(g, EliminateDeadCode,
            "graph dce (%x: f32[4]) -> (%y: f32[4]) {\n"
            "  const %k: f32[4]\n"
            "  %u: f32[4] = Add(%x, %k)  # u_node\n"
            "  %y: f32[4] = Relu(%x)  # y_node\n"
            "  %u2: f32[4] = Exp(%u)  # u2_node\n}\n",
            "graph dce (%x: f32[4]) -> (%y: f32[4]) {\n"
            "  %y: f32[4] = Relu(%x)  # y_node\n}\n");
  EXPECT_EQ(g.FindValue("u"), nullptr);
  EXPECT_EQ(g.FindValue("k"), nullptr);
}

TEST(PassesEliminateIdentity, BypassesIdentitiesAndKeepsOutputNames) {
  Graph g;
  g.name = "id";
  Value* x = Input(g, "x", {5});
  Value* t = Op(g, OpKind::kRelu, "t", {x});
  Value* i = Op(g, OpKind::kIdentity, "i", {t});
  g.AddOutput(Op(g, OpKind::kAdd, "y", {i, i}));
  Value* e = Op(g, OpKind::kExp, "e", {x});
  g.AddOutput(Op(g, OpKind::kIdentity, "z", {e}));  // e is internal: it takes the name z
  g.AddOutput(Op(g, OpKind::kIdentity, "w", {x}));  // input -> output copy must stay
  CheckPass(g, EliminateIdentity,
            "graph id (%x: f32[5]) -> (%y: f32[5], %z: f32[5], %w: f32[5]) {\n"
            "  %t: f32[5] = Relu(%x)  # t_node\n"
            "  %e: f32[5] = Exp(%x)  # e_node\n"
            "  %w: f32[5] = Identity(%x)  # w_node\n"
            "  %i: f32[5] = Identity(%t)  # i_node\n"
            "  %z: f32[5] = Identity(%e)  # z_node\n"
            "  %y: f32[5] = Add(%i, %i)  # y_node\n}\n",
            "graph id (%x: f32[5]) -> (%y: f32[5], %z: f32[5], %w: f32[5]) {\n"
            "  %t: f32[5] = Relu(%x)  # t_node\n"
            "  %z: f32[5] = Exp(%x)  # e_node\n"
            "  %w: f32[5] = Identity(%x)  # w_node\n"
            "  %y: f32[5] = Add(%t, %t)  # y_node\n}\n");
  EXPECT_EQ(g.FindValue("i"), nullptr);
  EXPECT_EQ(g.FindValue("e"), nullptr);
}

TEST(PassesEliminateCommonSubexpressions, MergesEqualNodesOnly) {
  Graph g;
  g.name = "cse";
  Value* x = Input(g, "x", {6});
  Value* a = Op(g, OpKind::kLeakyRelu, "a", {x});
  a->producer->attrs.Set("alpha", 0.5f);
  Value* b = Op(g, OpKind::kLeakyRelu, "b", {x});
  b->producer->attrs.Set("alpha", 0.5f);
  Value* c = Op(g, OpKind::kLeakyRelu, "c", {x});
  c->producer->attrs.Set("alpha", 0.25f);  // different attribute: kept
  Value* ea = Op(g, OpKind::kExp, "ea", {a});
  Value* eb = Op(g, OpKind::kExp, "eb", {b});  // becomes Exp(a): merged in the same walk
  g.AddOutput(Op(g, OpKind::kSum, "y", {ea, eb, c}));
  CheckPass(g, EliminateCommonSubexpressions,
            "graph cse (%x: f32[6]) -> (%y: f32[6]) {\n"
            "  %a: f32[6] = LeakyRelu(%x) {alpha=0.5}  # a_node\n"
            "  %b: f32[6] = LeakyRelu(%x) {alpha=0.5}  # b_node\n"
            "  %c: f32[6] = LeakyRelu(%x) {alpha=0.25}  # c_node\n"
            "  %ea: f32[6] = Exp(%a)  # ea_node\n"
            "  %eb: f32[6] = Exp(%b)  # eb_node\n"
            "  %y: f32[6] = Sum(%ea, %eb, %c)  # y_node\n}\n",
            "graph cse (%x: f32[6]) -> (%y: f32[6]) {\n"
            "  %a: f32[6] = LeakyRelu(%x) {alpha=0.5}  # a_node\n"
            "  %c: f32[6] = LeakyRelu(%x) {alpha=0.25}  # c_node\n"
            "  %ea: f32[6] = Exp(%a)  # ea_node\n"
            "  %y: f32[6] = Sum(%ea, %ea, %c)  # y_node\n}\n");
}

TEST(PassesEliminateCommonSubexpressions, DuplicateGraphOutputsKeepTheirNames) {
  Graph g;
  g.name = "outs";
  Value* x = Input(g, "x", {3});
  g.AddOutput(Op(g, OpKind::kNeg, "y1", {x}));
  g.AddOutput(Op(g, OpKind::kNeg, "y2", {x}));
  CheckPass(g, EliminateCommonSubexpressions,
            "graph outs (%x: f32[3]) -> (%y1: f32[3], %y2: f32[3]) {\n"
            "  %y1: f32[3] = Neg(%x)  # y1_node\n"
            "  %y2: f32[3] = Neg(%x)  # y2_node\n}\n",
            "graph outs (%x: f32[3]) -> (%y1: f32[3], %y2: f32[3]) {\n"
            "  %y1: f32[3] = Neg(%x)  # y1_node\n"
            "  %y2: f32[3] = Identity(%y1)  # y2/keep_name\n}\n");
}

TEST(PassesGraph, RemoveNodeRefusesWhileOutputsAreRead) {
  Graph g;
  g.name = "rm";
  Value* x = Input(g, "x", {2});
  Value* t = Op(g, OpKind::kRelu, "t", {x});
  g.AddOutput(Op(g, OpKind::kNeg, "y", {t}));
  Status s = g.RemoveNode(t->producer);
  EXPECT_EQ(s.code(), StatusCode::kInternal);
  EXPECT_NE(s.message().find("t_node"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("y_node"), std::string::npos) << s.message();
}

// The whole optimizer on the bundled model: fusions round once where the
// unfused ops rounded after each op, so outputs agree to float32 rounding.
TEST(PassesManager, TinyTransformerAtLevel3MatchesUnoptimized) {
  const std::string path = std::string(FRT_SOURCE_DIR) + "/models/tiny_transformer.onnx";
  auto original = ImportOnnxFile(path);
  auto optimized = ImportOnnxFile(path);
  ASSERT_TRUE(original.ok() && optimized.ok()) << original.status().ToString();
  Graph& g = **optimized;
  ASSERT_TRUE(InferGraphShapes(g).ok());
  std::vector<std::string> lines;
  Status s = RunPasses(g, 3, [&](const std::string& l) { lines.push_back(l); }, true);
  ASSERT_TRUE(s.ok()) << s.ToString();
  ASSERT_EQ(lines.size(), RegisteredPasses().size());
  EXPECT_EQ(lines[0].rfind("pass fold_constants: ", 0), 0u) << lines[0];
  EXPECT_LE(g.num_nodes(), (*original)->num_nodes());
  std::vector<std::string> none;
  ASSERT_TRUE(RunPasses(g, 0, [&](const std::string& l) { none.push_back(l); }, true).ok());
  EXPECT_TRUE(none.empty());

  std::mt19937 rng(std::random_device{}());
  std::normal_distribution<float> dist;
  for (Dims dims : {Dims{2, 16, 64}, Dims{1, 5, 64}}) {
    Tensor x = Tensor::Allocate(DType::kFloat32, dims).value();
    for (float& f : x.span<float>()) f = dist(rng);
    std::vector<Tensor> want = RunGraph(**original, {{"x", x}}), got = RunGraph(g, {{"x", x}});
    ASSERT_EQ(want.size(), got.size());
    for (size_t i = 0; i < want.size(); ++i) {
      ASSERT_EQ(want[i].dims(), got[i].dims());
      EXPECT_LE(RelativeL2(got[i], want[i]), 1e-5) << "output " << i;
    }
  }
}

}  // namespace
}  // namespace frt
