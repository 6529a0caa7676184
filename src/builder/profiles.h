// Optimization profiles: checks the user's profiles against the network's
// inputs and turns them into the engine's Profile records (one ProfileInput
// per dynamic input). Static inputs need no profile entry; if given, their
// min/opt/max must equal the static shape.
#pragma once

#include <map>
#include <vector>

#include "engine/plan.h"
#include "fusionrt/builder.h"

namespace frt {

Result<std::vector<Profile>> ResolveProfiles(const Graph& graph,
                                             const std::vector<OptimizationProfile>& profiles);

// Concrete dims of every network input (without initializer) at one point of
// a profile: `which` is 0 = min, 1 = opt, 2 = max.
std::map<std::string, Dims> ProfileInputDims(const Graph& graph, const Profile& profile, int which);

}  // namespace frt
