// The Plan: everything an engine holds, in memory. The builder produces it,
// the engine file stores it (src/engine/engine_writer/reader), and the runtime
// executes it. It is the optimized IR graph (whose constants are the weights)
// plus the decisions taken at build time: the execution order with one chosen
// kernel ("tactic") per step, the optimization profiles with one memory plan
// each, the target it was built for and how it was built.
//
// Ownership: the Plan owns its graph. A Plan read from a file may hold weight
// tensors that are views into `storage`, which it keeps alive.
// Thread safety: immutable after construction; concurrent const access is safe.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "ir/graph.h"

namespace frt {

// What the engine was built for. Loading checks it against the running host.
struct TargetInfo {
  std::string backend;          // "cpu" or "cuda"
  std::string device_name;      // GPU name ("NVIDIA H100 80GB HBM3"); empty for cpu
  int compute_capability = 0;   // 90 for sm_90; 0 for cpu
  // Library name -> version string the engine's kernels were built against,
  // e.g. {"cublasLt", "13.1.0"}. Empty for cpu.
  std::map<std::string, std::string> library_versions;
};

// min/opt/max dims of one network input within one profile.
struct ProfileInput {
  std::string name;
  Dims min, opt, max;
};

// Activation memory of one profile: every intermediate value that the planner
// could size at the profile's max shapes gets a slot in one arena. Values
// whose size is data dependent (NonZero, ...) are not planned: the runtime
// allocates them on the fly.
struct MemorySlot {
  std::string value;     // name of the IR value stored in this slot
  uint64_t offset = 0;   // bytes from the arena start; a multiple of kArenaAlignment
  uint64_t size = 0;     // bytes at the profile's max shapes
  int32_t first_step = 0;  // step that produces the value
  int32_t last_step = 0;   // last step that reads it
};

inline constexpr uint64_t kArenaAlignment = 256;

struct MemoryPlan {
  std::vector<MemorySlot> slots;
  uint64_t arena_size = 0;   // bytes the arena needs (max over slot offset + size)
  uint64_t naive_size = 0;   // sum of all planned slot sizes (no sharing)
};

struct Profile {
  std::vector<ProfileInput> inputs;  // one per dynamic network input
  MemoryPlan memory;
};

// The tactic of a step that only computes shape values (Shape, Gather, Concat,
// Range over input sizes, ...): the runtime takes its outputs from concrete
// shape propagation on the host when input shapes are set, instead of running
// a kernel; a step whose value propagation cannot produce (a plan from an
// untrusted file, say) runs its CPU kernel instead.
inline constexpr const char* kHostShapeTactic = "host.shape";

// One executed operation: a node of the plan's graph and the kernel chosen for it.
struct PlanStep {
  int32_t node = 0;      // index into Plan::graph->nodes()
  std::string tactic;    // e.g. "cpu.reference"; grammar in docs/engine_format.md
  DType precision = DType::kFloat32;  // compute precision the step was built for
  std::vector<uint8_t> tactic_data;   // opaque per-tactic blob (compiled kernel, params)
};

// How the engine was built (recorded for `inspect` and reproducibility).
struct BuildInfo {
  std::string fusionrt_version;  // e.g. "0.1.0"
  bool fp16 = false;
  bool bf16 = false;
  int optimization_level = 3;
  uint64_t memory_limit = 0;     // 0: none
};

struct Plan {
  std::unique_ptr<Graph> graph;
  std::vector<PlanStep> steps;   // execution order: producers before consumers
  std::vector<Profile> profiles; // at least one
  TargetInfo target;
  BuildInfo build;
  // Backing bytes for weight views when the plan was read from a file.
  std::shared_ptr<const void> storage;
};

}  // namespace frt
