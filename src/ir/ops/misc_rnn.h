// Recurrent-network attributes shared by the RNN / GRU / LSTM schemas and
// their CPU kernel: direction, hidden size, layout, clip, GRU's
// linear_before_reset, LSTM's input_forget and the activation functions with
// their alpha / beta, resolved once so that inference and the kernel agree.
#pragma once

#include <algorithm>
#include <cmath>
#include <optional>
#include <vector>

#include "ir/graph.h"

namespace frt {

enum class RnnActivationKind : uint8_t {
  kRelu,
  kTanh,
  kSigmoid,
  kAffine,
  kLeakyRelu,
  kThresholdedRelu,
  kScaledTanh,
  kHardSigmoid,
  kElu,
  kSoftsign,
  kSoftplus,
};

struct RnnActivation {
  RnnActivationKind kind = RnnActivationKind::kTanh;
  double alpha = 0.0;
  double beta = 0.0;

  double operator()(double x) const {
    switch (kind) {
      case RnnActivationKind::kRelu:
        return std::max(x, 0.0);
      case RnnActivationKind::kTanh:
        return std::tanh(x);
      case RnnActivationKind::kSigmoid:
        return 1.0 / (1.0 + std::exp(-x));
      case RnnActivationKind::kAffine:
        return alpha * x + beta;
      case RnnActivationKind::kLeakyRelu:
        return x >= 0.0 ? x : alpha * x;
      case RnnActivationKind::kThresholdedRelu:
        return x > alpha ? x : 0.0;
      case RnnActivationKind::kScaledTanh:
        return alpha * std::tanh(beta * x);
      case RnnActivationKind::kHardSigmoid:
        return std::clamp(alpha * x + beta, 0.0, 1.0);
      case RnnActivationKind::kElu:
        return x >= 0.0 ? x : alpha * (std::exp(x) - 1.0);
      case RnnActivationKind::kSoftsign:
        return x / (1.0 + std::fabs(x));
      case RnnActivationKind::kSoftplus:
        return std::log1p(std::exp(-std::fabs(x))) + std::max(x, 0.0);
    }
    return x;
  }
};

enum class RnnDirection : uint8_t { kForward, kReverse, kBidirectional };

struct RnnAttrs {
  int gates = 1;                // weight blocks per direction: RNN 1, GRU 3, LSTM 4
  int activations_per_dir = 1;  // RNN 1 (f), GRU 2 (f, g), LSTM 3 (f, g, h)
  RnnDirection direction = RnnDirection::kForward;
  int64_t num_directions = 1;
  int64_t hidden_size = -1;  // -1: attribute absent (taken from R's shape)
  int64_t layout = 0;        // 0: [seq, batch, ...]; 1: [batch, seq, ...]
  std::optional<double> clip;
  bool linear_before_reset = false;  // GRU
  bool input_forget = false;         // LSTM
  // activations_per_dir entries per direction, forward direction first.
  std::vector<RnnActivation> activations;
};

// Reads and validates the attributes of an RNN, GRU or LSTM node.
Result<RnnAttrs> ReadRnnAttrs(const Node& node);

}  // namespace frt
