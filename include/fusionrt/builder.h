// Builder and BuilderConfig: turn a NetworkDefinition into an Engine (the
// offline phase). Building verifies the network, infers shapes, optimizes,
// chooses a kernel per layer and plans activation memory for every
// optimization profile. It may be slow; running the engine is not.
//
// Thread safety: Build() is const; several builds may run concurrently.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "fusionrt/engine.h"
#include "fusionrt/network.h"

namespace frt {

enum class DeviceKind { kAuto, kCpu, kCuda };

// Runtime shapes one dynamic input may take within a profile (inclusive
// bounds per dimension); `opt` is the shape kernels are tuned for.
struct ShapeRange {
  Dims min, opt, max;
};

class OptimizationProfile {
 public:
  // Error unless min <= opt <= max per dimension with equal ranks and no negative sizes.
  Status SetShapes(const std::string& input, const Dims& min, const Dims& opt, const Dims& max);
  const std::map<std::string, ShapeRange>& shapes() const { return shapes_; }

 private:
  std::map<std::string, ShapeRange> shapes_;
};

struct BuilderConfig {
  // Reduced precision allowed where a layer's precision policy permits it.
  // The CPU backend computes in fp32 and says so in the build log.
  bool fp16 = false;
  bool bf16 = false;
  // One or more profiles; each dynamic input must appear in each. May stay
  // empty when every input has a static shape.
  std::vector<OptimizationProfile> profiles;
  // Upper bound on the activation arena of any profile (bytes); 0: none.
  uint64_t memory_limit = 0;
  // 0: heuristics only, 5: most tuning (kernel timing lands with the CUDA backend).
  int optimization_level = 3;
  DeviceKind device = DeviceKind::kAuto;
  // Receives progress lines ("[build] planning memory for profile 0 ...").
  // With verbose, also per-layer details. May be empty.
  std::function<void(const std::string&)> log;
  bool verbose = false;
};

class Builder {
 public:
  // The built engine, ready to run or to serialize.
  static Result<std::shared_ptr<Engine>> Build(const NetworkDefinition& network,
                                               const BuilderConfig& config);
};

}  // namespace frt
