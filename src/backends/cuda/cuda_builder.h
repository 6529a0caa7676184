// Kernel choice for cuda engines: every step that is not a host.shape step
// gets the first registered CUDA kernel that supports its node (registry
// order is preference order until the auto-tuner times them). A node no
// kernel supports is a build error naming it and each kernel's reason.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "engine/plan.h"

namespace frt {

Status ChooseCudaKernels(const Graph& graph, std::vector<PlanStep>& steps,
                         const std::function<void(const std::string&)>& verbose);

}  // namespace frt
