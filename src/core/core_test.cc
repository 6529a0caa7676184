#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "core/npy.h"
#include "core/tensor.h"

namespace frt {
namespace {

TEST(Float16, RoundTripsAndRoundsToNearestEven) {
  EXPECT_EQ(Float16::FromFloat(1.0f).bits, 0x3C00);
  EXPECT_EQ(Float16::FromFloat(-2.0f).bits, 0xC000);
  EXPECT_EQ(Float16::FromFloat(65504.0f).bits, 0x7BFF);
  EXPECT_EQ(Float16::FromFloat(65520.0f).bits, 0x7C00);  // rounds to inf
  EXPECT_EQ(Float16::FromFloat(5.960464477539063e-08f).bits, 0x0001);  // smallest subnormal
  // 1 + 2^-11 is halfway between 1 and 1 + 2^-10: ties to even (1.0).
  EXPECT_EQ(Float16::FromFloat(1.0f + std::ldexp(1.0f, -11)).bits, 0x3C00);
  EXPECT_EQ(Float16::FromFloat(1.0f + 3 * std::ldexp(1.0f, -11)).bits, 0x3C02);
  EXPECT_TRUE(std::isnan(Float16::FromFloat(NAN).ToFloat()));
  for (uint32_t b = 0; b < 0x7C00; ++b) {  // every finite positive half survives a round trip
    Float16 h{static_cast<uint16_t>(b)};
    ASSERT_EQ(Float16::FromFloat(h.ToFloat()).bits, b);
  }
}

TEST(BFloat16, RoundsToNearestEven) {
  EXPECT_EQ(BFloat16::FromFloat(1.0f).bits, 0x3F80);
  EXPECT_FLOAT_EQ(BFloat16{0x4049}.ToFloat(), 3.140625f);
  EXPECT_EQ(BFloat16::FromFloat(3.14159f).bits, 0x4049);
}

TEST(Float8, E4M3FNAndE5M2) {
  EXPECT_FLOAT_EQ(Float8E4M3FN::FromFloat(448.0f).ToFloat(), 448.0f);
  EXPECT_FLOAT_EQ(Float8E4M3FN::FromFloat(1000.0f).ToFloat(), 448.0f);  // saturates
  EXPECT_TRUE(std::isnan(Float8E4M3FN::FromFloat(1000.0f, false).ToFloat()));
  EXPECT_FLOAT_EQ(Float8E4M3FN::FromFloat(0.3f).ToFloat(), 0.3125f);
  EXPECT_FLOAT_EQ(Float8E5M2::FromFloat(57344.0f).ToFloat(), 57344.0f);
  EXPECT_TRUE(std::isinf(Float8E5M2::FromFloat(1e6f, false).ToFloat()));
  for (int b = 0; b < 0x7F; ++b) {
    Float8E4M3FN f{static_cast<uint8_t>(b)};
    ASSERT_EQ(Float8E4M3FN::FromFloat(f.ToFloat()).bits, b);
  }
}

TEST(Tensor, AllocationLimitAndOverflow) {
  EXPECT_EQ(Tensor::Allocate(DType::kFloat32, {int64_t{1} << 40}).status().code(),
            StatusCode::kResourceExhausted);
  EXPECT_EQ(Tensor::Allocate(DType::kFloat32, {int64_t{1} << 32, int64_t{1} << 32}).status().code(),
            StatusCode::kResourceExhausted);
  EXPECT_EQ(Tensor::Allocate(DType::kFloat32, {2, -1}).status().code(), StatusCode::kInvalidArgument);
  auto t = Tensor::Allocate(DType::kInt64, {2, 0, 3});
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->num_elements(), 0);
}

TEST(Shape, BroadcastConcreteAndSymbolic) {
  EXPECT_EQ(*BroadcastDims({2, 1, 3}, {4, 1}), (Dims{2, 4, 3}));
  EXPECT_FALSE(BroadcastDims({2, 3}, {4}).ok());
  Shape a({Dim::Symbol("batch"), Dim(1), Dim(8)});
  Shape b({Dim(5), Dim(8)});
  auto s = BroadcastShapes(a, b);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->ToString(), "[batch,5,8]");
  EXPECT_EQ(*NormalizeAxis(-1, 3), 2);
  EXPECT_EQ(NormalizeAxis(3, 3).status().code(), StatusCode::kOutOfRange);
}

TEST(Npy, RoundTripAndRejectsCorruption) {
  auto dir = std::filesystem::temp_directory_path() / "frt_npy_test";
  std::filesystem::create_directories(dir);
  std::string path = (dir / "t.npy").string();
  Tensor t = Tensor::FromVector<float>({1, 2, 3, 4, 5, 6}, {2, 3});
  ASSERT_TRUE(WriteNpy(path, t).ok());
  auto r = ReadNpy(path);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->dims(), (Dims{2, 3}));
  EXPECT_EQ(r->data<float>()[5], 6.0f);
  EXPECT_FALSE(ParseNpy("\x93NUMPY\x01\x00\xff\xff", "x").ok());  // header past end
  std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (100000000000,), }";
  std::string bytes = std::string("\x93NUMPY\x01\x00", 8) + static_cast<char>(header.size()) + '\0' + header;
  EXPECT_FALSE(ParseNpy(bytes, "x").ok());  // payload does not match the shape
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace frt
