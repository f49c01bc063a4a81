#include "rnnkit/tensor.h"

#include <gtest/gtest.h>

#include "rnnkit/error.h"

namespace rnnkit {
namespace {

TEST(Shape, PrintsLikeKeras) {
  EXPECT_EQ(shape_string({kNone, 5, 10}), "(None, 5, 10)");
  EXPECT_EQ(shape_string({3}), "(3,)");
  EXPECT_EQ(shape_string({}), "()");
}

TEST(Tensor, ChecksValueCountAndIndices) {
  EXPECT_THROW(Tensor({2, 3}, std::vector<float>(5)), Error);
  Tensor x({2, 3}, std::vector<float>{0, 1, 2, 3, 4, 5});
  EXPECT_EQ(x.at({1, 2}), 5.0f);
  EXPECT_THROW(x.at({2, 0}), Error);
  EXPECT_THROW(x.at({0}), Error);
  EXPECT_THROW((void)x.reshaped({4, 2}), Error);
  EXPECT_EQ(x.reshaped({3, 2}).at({2, 1}), 5.0f);
}

}  // namespace
}  // namespace rnnkit
