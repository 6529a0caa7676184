// The C++ API example of docs/api.md builds, saves, loads and runs the
// bundled model, and shows the out-of-profile refusal.
#include <gtest/gtest.h>

#include "test_util.h"

namespace frt {
namespace {

TEST(ApiExample, BuildSaveLoadRun) {
  testing_util::TempDir dir;
  std::string engine = (dir.path() / "tiny.engine").string();
  auto r = testing_util::RunProgram(
      FRT_EXAMPLE_PATH, std::string(FRT_SOURCE_DIR) + "/models/tiny_transformer.onnx " + engine);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("y[0..3] = "), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("OutOfRange: input \"x\": shape [16,32,64] is outside optimization "
                          "profile 0 (min [1,1,64], max [8,128,64])"),
            std::string::npos)
      << r.output;
  EXPECT_TRUE(std::filesystem::exists(engine));
}

}  // namespace
}  // namespace frt
