// Engine round trip for one conformance case: build an engine from the model
// (one profile spanning the shapes of the case's data sets), serialize it,
// load it back, run every data set through an ExecutionContext and require
// outputs bit-identical to the reference executor's.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace frt {

// `feeds`: one map per data set; `reference`: the reference executor's outputs
// per data set. Returns "" on success, else the reason.
std::string CheckEngineRoundTrip(const std::string& model_path,
                                 const std::vector<std::map<std::string, Tensor>>& feeds,
                                 const std::vector<std::vector<Tensor>>& reference);

}  // namespace frt
