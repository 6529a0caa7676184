// Bit-level conversions between float32 and the small float formats.
// Strategy: decode by exponent/mantissa fields; encode by rounding the float32
// mantissa to the target width with round-to-nearest-even, handling subnormals
// by shifting with the same rounding.
#include "core/float_types.h"

#include <cstring>
#include <limits>

namespace frt {
namespace {

uint32_t Bits(float f) { return std::bit_cast<uint32_t>(f); }
float FromBits(uint32_t u) { return std::bit_cast<float>(u); }

// Generic encoder for a sign/exponent/mantissa format with IEEE-like subnormals.
// exp_bits/man_bits: field widths; bias: exponent bias; max_finite: largest
// finite magnitude; has_inf: whether all-ones exponent encodes inf (E5M2, FP16).
// Returns the unsigned magnitude code (sign handled by caller) or ~0u for NaN.
uint32_t EncodeMagnitude(float a, int exp_bits, int man_bits, int bias) {
  // a is finite, non-negative. Scale into an integer number of target ULPs.
  const int min_normal_exp = 1 - bias;
  int e;
  std::frexp(a, &e);  // a = m * 2^e with m in [0.5, 1)
  if (a == 0.0f) return 0;
  int exp = e - 1;  // a = (2m) * 2^exp, 2m in [1,2)
  if (exp < min_normal_exp) exp = min_normal_exp;  // subnormal range uses fixed exponent
  // Value in units of the target ULP at this exponent.
  double units = std::ldexp(static_cast<double>(a), man_bits - exp);
  double fl = std::floor(units);
  double frac = units - fl;
  uint64_t q = static_cast<uint64_t>(fl);
  if (frac > 0.5 || (frac == 0.5 && (q & 1))) ++q;
  // q encodes (implicit 1 + mantissa) for normals, mantissa for subnormals.
  uint32_t code;
  if (q >= (uint64_t{1} << (man_bits + 1))) {  // rounding overflowed into next binade
    q >>= 1;
    ++exp;
  }
  if (q < (uint64_t{1} << man_bits)) {
    code = static_cast<uint32_t>(q);  // subnormal (exponent field 0)
  } else {
    uint32_t exp_field = static_cast<uint32_t>(exp + bias);
    code = (exp_field << man_bits) | static_cast<uint32_t>(q & ((1u << man_bits) - 1));
  }
  (void)exp_bits;
  return code;
}

float DecodeMagnitude(uint32_t code, int man_bits, int bias) {
  uint32_t exp_field = code >> man_bits;
  uint32_t man = code & ((1u << man_bits) - 1);
  if (exp_field == 0) return std::ldexp(static_cast<float>(man), 1 - bias - man_bits);
  return std::ldexp(static_cast<float>(man | (1u << man_bits)),
                    static_cast<int>(exp_field) - bias - man_bits);
}

}  // namespace

Float16 Float16::FromFloat(float f) {
  uint32_t sign = (Bits(f) >> 16) & 0x8000u;
  if (std::isnan(f)) return {static_cast<uint16_t>(sign | 0x7E00u)};
  float a = std::fabs(f);
  if (std::isinf(a) || a >= 65520.0f) return {static_cast<uint16_t>(sign | 0x7C00u)};
  return {static_cast<uint16_t>(sign | EncodeMagnitude(a, 5, 10, 15))};
}

float Float16::ToFloat() const {
  uint32_t sign = bits & 0x8000u;
  uint32_t mag = bits & 0x7FFFu;
  float r;
  if ((mag >> 10) == 0x1F) {
    r = (mag & 0x3FF) ? std::numeric_limits<float>::quiet_NaN()
                      : std::numeric_limits<float>::infinity();
  } else {
    r = DecodeMagnitude(mag, 10, 15);
  }
  return sign ? -r : r;
}

BFloat16 BFloat16::FromFloat(float f) {
  uint32_t u = Bits(f);
  if (std::isnan(f)) return {static_cast<uint16_t>((u >> 16) | 0x0040u)};
  uint32_t rounding_bias = 0x7FFFu + ((u >> 16) & 1u);
  return {static_cast<uint16_t>((u + rounding_bias) >> 16)};
}

float BFloat16::ToFloat() const { return FromBits(static_cast<uint32_t>(bits) << 16); }

Float8E4M3FN Float8E4M3FN::FromFloat(float f, bool saturate) {
  uint8_t sign = (Bits(f) >> 24) & 0x80u;
  if (std::isnan(f)) return {static_cast<uint8_t>(0x7F)};
  float a = std::fabs(f);
  // E4M3FN: no infinities; 0x7F/0xFF is NaN; max finite 448 (0x7E).
  if (std::isinf(a)) return {static_cast<uint8_t>(saturate ? (sign | 0x7E) : 0x7F)};
  if (a > 448.0f) {
    // Values that round to 448 still encode as 448; beyond the halfway point to
    // the next (non-existent) step they overflow.
    if (saturate || a < 464.0f) return {static_cast<uint8_t>(sign | 0x7E)};
    return {static_cast<uint8_t>(0x7F)};
  }
  uint32_t code = EncodeMagnitude(a, 4, 3, 7);
  return {static_cast<uint8_t>(sign | code)};
}

float Float8E4M3FN::ToFloat() const {
  uint32_t mag = bits & 0x7Fu;
  if (mag == 0x7F) return std::numeric_limits<float>::quiet_NaN();
  float r = DecodeMagnitude(mag, 3, 7);
  return (bits & 0x80u) ? -r : r;
}

Float8E5M2 Float8E5M2::FromFloat(float f, bool saturate) {
  uint8_t sign = (Bits(f) >> 24) & 0x80u;
  if (std::isnan(f)) return {static_cast<uint8_t>(0x7F)};
  float a = std::fabs(f);
  if (std::isinf(a)) return {static_cast<uint8_t>(sign | (saturate ? 0x7B : 0x7C))};
  if (a > 57344.0f) {
    if (saturate || a < 61440.0f) return {static_cast<uint8_t>(sign | 0x7B)};
    return {static_cast<uint8_t>(sign | 0x7C)};
  }
  return {static_cast<uint8_t>(sign | EncodeMagnitude(a, 5, 2, 15))};
}

float Float8E5M2::ToFloat() const {
  uint32_t mag = bits & 0x7Fu;
  float r;
  if ((mag >> 2) == 0x1F) {
    r = (mag & 3) ? std::numeric_limits<float>::quiet_NaN()
                  : std::numeric_limits<float>::infinity();
  } else {
    r = DecodeMagnitude(mag, 2, 15);
  }
  return (bits & 0x80u) ? -r : r;
}

}  // namespace frt
