// Tests of fuse_softmax and the FusedSoftmax reference kernel: scale and mask
// in the arrangements exporters write, checked on printed IR and on numbers
// against an untouched copy (CheckPassNumerics: the fused kernel rounds once
// where Mul, Add and Softmax rounded three times, so 1e-5 relative L2), and
// the cases that must stay as they are.
#include <gtest/gtest.h>

#include "passes/pass_manager.h"
#include "passes/pass_test_util.h"

namespace frt {
namespace {

Value* Scalar(Graph& g, const std::string& name, float f) { return ConstNd(g, name, {}, {f}); }

Value* Softmax(Graph& g, const std::string& out, Value* in, int64_t axis = -1) {
  Value* y = Op(g, OpKind::kSoftmax, out, {in});
  y->producer->attrs.Set("axis", axis);
  return y;
}

TEST(PassesFuseSoftmax, ScaleAndBroadcastMaskBecomeOneOp) {
  Graph g;
  g.name = "sm";
  Value* x = Input(g, "x", {2, 3, 4, 5});
  Value* mask = Input(g, "mask", {2, 1, 1, 5});
  Value* s = Op(g, OpKind::kMul, "s", {x, Scalar(g, "c", 0.125f)});
  g.AddOutput(Softmax(g, "y", Op(g, OpKind::kAdd, "a", {s, mask})));
  CheckPassNumerics(g, FuseSoftmax);
  EXPECT_EQ(PrintGraph(g),
            "graph sm (%x: f32[2,3,4,5], %mask: f32[2,1,1,5]) -> (%y: f32[2,3,4,5]) {\n"
            "  %y: f32[2,3,4,5] = FusedSoftmax(%x, %mask) {axis=3, scale=0.125}  # y_node\n}\n");
  const Node* n = g.FindValue("y")->producer;
  EXPECT_EQ(n->source_nodes.size(), 0u);  // hand-built nodes carry no ONNX names
}

TEST(PassesFuseSoftmax, DivisorScaleMaskFirstAndNoMask) {
  {  // Add(mask, Div(x, c)): the mask may be either operand.
    Graph g;
    g.name = "div";
    Value* x = Input(g, "x", {3, 7});
    Value* mask = Input(g, "mask", {7});
    Value* s = Op(g, OpKind::kDiv, "s", {x, Scalar(g, "c", 4.0f)});
    g.AddOutput(Softmax(g, "y", Op(g, OpKind::kAdd, "a", {mask, s})));
    CheckPassNumerics(g, FuseSoftmax);
    EXPECT_EQ(g.FindValue("y")->producer->op, OpKind::kFusedSoftmax);
    EXPECT_EQ(g.FindValue("y")->producer->attrs.GetFloat("scale"), 0.25f);
    EXPECT_EQ(g.num_nodes(), 1u);
  }
  {  // a temperature only, softmax over axis 0
    Graph g;
    g.name = "temp";
    Value* x = Input(g, "x", {6, 4});
    g.AddOutput(Softmax(g, "y", Op(g, OpKind::kMul, "s", {Scalar(g, "c", 2.5f), x}), 0));
    CheckPassNumerics(g, FuseSoftmax);
    EXPECT_EQ(g.num_nodes(), 1u);
    EXPECT_EQ(g.FindValue("y")->producer->attrs.GetInt("axis"), 0);
  }
}

TEST(PassesFuseSoftmax, LeavesWhatItCannotAbsorb) {
  {  // the scaled scores are also a graph output
    Graph g;
    g.name = "shared";
    Value* x = Input(g, "x", {2, 5});
    Value* s = Op(g, OpKind::kMul, "s", {x, Scalar(g, "c", 0.5f)});
    g.AddOutput(Softmax(g, "y", s));
    g.AddOutput(s);
    CheckPassNumerics(g, FuseSoftmax);
    EXPECT_EQ(g.FindValue("y")->producer->op, OpKind::kSoftmax);
  }
  {  // a per-element scale is not a scalar; an Add that broadcasts x up is not a mask
    Graph g;
    g.name = "other";
    Value* x = Input(g, "x", {1, 5});
    Value* s = Op(g, OpKind::kMul, "s", {x, Const(g, "c", {1, 2, 3, 4, 5})});
    Value* big = Input(g, "big", {3, 5});
    g.AddOutput(Softmax(g, "y", Op(g, OpKind::kAdd, "a", {s, big})));
    CheckPassNumerics(g, FuseSoftmax);
    // big carries the full shape: it becomes the scores and s (not absorbable) the mask.
    const Node* n = g.FindValue("y")->producer;
    ASSERT_EQ(n->op, OpKind::kFusedSoftmax);
    EXPECT_EQ(n->inputs[0]->name, "big");
    EXPECT_EQ(n->attrs.GetFloat("scale"), 1.0f);
  }
  {  // opset 11 Softmax over a middle axis flattens: a different function
    Graph g;
    g.name = "old";
    Value* x = Input(g, "x", {2, 3, 4});
    Value* y = Softmax(g, "y", Op(g, OpKind::kMul, "s", {x, Scalar(g, "c", 0.5f)}), 1);
    y->producer->opset = 11;
    g.AddOutput(y);
    CheckPassNumerics(g, FuseSoftmax);
    EXPECT_EQ(g.FindValue("y")->producer->op, OpKind::kSoftmax);
  }
}

TEST(FusedSoftmaxKernel, RejectsAMaskThatDoesNotBroadcast) {
  Graph g;
  g.name = "bad";
  Value* x = Input(g, "x", {2, 4});
  Value* mask = Input(g, "mask", {3});
  Node* n = g.AddNode(OpKind::kFusedSoftmax, "f");
  n->inputs = {x, mask};
  Value* y = g.AddValue("y").value();
  y->producer = n;
  n->outputs = {y};
  g.AddOutput(y);
  Status s = InferGraphShapes(g);
  EXPECT_EQ(s.code(), StatusCode::kInvalidModel) << s.ToString();
  EXPECT_NE(s.message().find("does not broadcast"), std::string::npos) << s.message();
}

}  // namespace
}  // namespace frt
