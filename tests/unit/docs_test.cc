// Generated documentation must match what the code generates.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "test_util.h"

namespace frt {
namespace {

TEST(Docs, OperatorsTableMatchesRegistry) {
  auto r = testing_util::RunCli("ops --markdown");
  ASSERT_EQ(r.exit_code, 0);
  std::ifstream in(std::string(FRT_SOURCE_DIR) + "/docs/operators.md");
  std::stringstream doc;
  doc << in.rdbuf();
  EXPECT_EQ(doc.str(), r.output)
      << "docs/operators.md is stale: regenerate with ./build/fusionrt ops --markdown > docs/operators.md";
}

}  // namespace
}  // namespace frt
