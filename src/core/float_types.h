// Storage types for reduced-precision floats. Arithmetic happens in float:
// convert with ToFloat()/FromFloat(). Conversions round to nearest even, as
// IEEE 754 and the ONNX Cast spec require; FP8 E4M3FN saturates to +-448 only
// when asked (ONNX Cast-19 default saturate=1), NaN stays NaN.
#pragma once

#include <bit>
#include <cmath>
#include <cstdint>

namespace frt {

struct Float16 {
  uint16_t bits = 0;
  static Float16 FromFloat(float f);
  float ToFloat() const;
};

struct BFloat16 {
  uint16_t bits = 0;
  static BFloat16 FromFloat(float f);
  float ToFloat() const;
};

struct Float8E4M3FN {
  uint8_t bits = 0;
  static Float8E4M3FN FromFloat(float f, bool saturate = true);
  float ToFloat() const;
};

struct Float8E5M2 {
  uint8_t bits = 0;
  static Float8E5M2 FromFloat(float f, bool saturate = true);
  float ToFloat() const;
};

}  // namespace frt
