// gtest entry point that ends with the project-wide summary line
// "N passed, N failed, N skipped" (scripts/test.sh sums these lines).
#include <gtest/gtest.h>

#include <iostream>

namespace {
class SummaryPrinter : public testing::EmptyTestEventListener {
  void OnTestProgramEnd(const testing::UnitTest& u) override {
    std::cout << u.successful_test_count() << " passed, " << u.failed_test_count() << " failed, "
              << u.skipped_test_count() << " skipped" << std::endl;
  }
};
}  // namespace

int main(int argc, char** argv) {
  testing::InitGoogleTest(&argc, argv);
  testing::UnitTest::GetInstance()->listeners().Append(new SummaryPrinter);
  return RUN_ALL_TESTS();
}
