// Applying a fused op's activation (ir/activation.h) to one value, in double:
// the epilogue of the CPU reference kernels. Each case computes what the
// unfused reference kernel of the same op computes (elementwise.cc,
// elementwise_nary.cc), so fused and unfused graphs differ only by rounding.
#pragma once

#include <cmath>

#include "ir/activation.h"

namespace frt {

inline double ApplyActivation(const ActivationSpec& a, double x) {
  switch (a.kind) {
    case Activation::kNone:
      return x;
    case Activation::kRelu:
      return x > 0 ? x : 0.0;
    case Activation::kClip:
      // Clip's order: max with the lower bound first, then min with the upper
      // one (lo > hi gives hi everywhere, as ONNX says); NaN stays NaN.
      if (x < a.alpha) x = a.alpha;
      if (x > a.beta) x = a.beta;
      return x;
    case Activation::kLeakyRelu:
      return x >= 0 ? x : a.alpha * x;
    case Activation::kGelu:
      return 0.5 * x * (1.0 + std::erf(x * M_SQRT1_2));
    case Activation::kGeluTanh: {
      const double k = std::sqrt(2.0 / M_PI);
      return 0.5 * x * (1.0 + std::tanh(k * (x + 0.044715 * x * x * x)));
    }
    case Activation::kSilu:
    case Activation::kSigmoid: {
      // Never exponentiates a large positive number.
      const double s = x >= 0 ? 1 / (1 + std::exp(-x)) : std::exp(x) / (1 + std::exp(x));
      return a.kind == Activation::kSilu ? x * s : s;
    }
    case Activation::kTanh:
      return std::tanh(x);
  }
  return x;
}

}  // namespace frt
