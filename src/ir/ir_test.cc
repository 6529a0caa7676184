#include <gtest/gtest.h>

#include "ir/printer.h"
#include "ir/verifier.h"
#include "onnx/importer.h"
#include "test_util.h"

namespace frt {
namespace {

TEST(Printer, ShowsTypesShapesAttributesAndNodeNames) {
  auto g = ImportOnnxBytes(testing_util::AddReluModel().SerializeAsString(), "");
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  EXPECT_EQ(PrintGraph(**g),
            "graph add_relu (%x: f32[batch,3]) -> (%y: f32[batch,3]) {\n"
            "  const %b: f32[3]\n"
            "  %s: f32[batch,3] = Add(%x, %b)  # add0\n"
            "  %y: f32[batch,3] = Relu(%s)  # relu0\n"
            "}\n");
}

TEST(Verifier, AcceptsImportedGraphAndCatchesBrokenInvariants) {
  auto g = ImportOnnxBytes(testing_util::AddReluModel().SerializeAsString(), "");
  ASSERT_TRUE(g.ok());
  EXPECT_TRUE(VerifyGraph(**g).ok());
  Node* relu = (*g)->nodes()[1];
  relu->outputs[0]->producer = (*g)->nodes()[0];  // corrupt the producer link
  Status s = VerifyGraph(**g);
  EXPECT_EQ(s.code(), StatusCode::kInternal);
  EXPECT_NE(s.message().find("relu0"), std::string::npos) << s.message();
}

TEST(Verifier, RejectsValueProducedAndConstant) {
  auto g = ImportOnnxBytes(testing_util::AddReluModel().SerializeAsString(), "");
  ASSERT_TRUE(g.ok());
  (*g)->FindValue("s")->constant = Tensor::FromVector<float>({1, 2, 3}, {3});
  EXPECT_NE(VerifyGraph(**g).message().find("also a constant"), std::string::npos);
}

}  // namespace
}  // namespace frt
