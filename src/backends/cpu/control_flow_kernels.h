// Helpers shared by the If/Loop (control_flow.cc) and Scan
// (control_flow_scan.cc) reference kernels: running a subgraph with its
// declared types enforced, and sizing outputs of zero-iteration runs.
#pragma once

#include <string_view>
#include <vector>

#include "backends/cpu/kernel.h"

namespace frt {

// Runs `body` with `feeds` after checking each feed against the body's
// declared input types, then checks the result count and each result against
// the declared output types. `what` names the subgraph in errors
// ("then_branch", "body iteration 3").
Result<std::vector<Tensor>> RunCheckedSubgraph(const KernelContext& ctx, const Graph& body,
                                               const std::vector<Tensor>& feeds,
                                               std::string_view what);

// Output i for a run with no iteration: the shape inference `infer` gives for
// the concrete inputs, unknown dims as 0 (the leading dim is 0, so the tensor
// is empty whatever they are); rank unknown gives [0].
Status AllocateEmptyOutput(KernelContext& ctx, InferFn infer, size_t i);

Status ScanKernel(KernelContext& ctx);

}  // namespace frt
