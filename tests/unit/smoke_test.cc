#include <gtest/gtest.h>

#include "core/shape.h"

namespace frt {
TEST(Shape, Broadcast) {
  auto r = BroadcastDims({2, 1, 3}, {4, 1});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, (Dims{2, 4, 3}));
  EXPECT_FALSE(BroadcastDims({2, 3}, {4}).ok());
}
}  // namespace frt
