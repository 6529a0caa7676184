// Activation memory planning ("dynamic tensor memory" in TensorRT terms):
// every intermediate buffer of one optimization profile gets an offset in a
// single arena, and buffers whose lifetimes do not overlap share bytes.
//
// A buffer lives over the closed step interval [first_step, last_step] (the
// step that produces it up to the last step that reads it). Two buffers
// conflict when their intervals intersect; conflicting buffers must occupy
// disjoint byte ranges.
//
// Thread safety: both functions are pure; call them from any thread.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/plan.h"

namespace frt {

struct BufferRequest {
  std::string value;       // IR value name; unique within one request set
  uint64_t size = 0;       // bytes; 0 is allowed (empty tensors) and takes no memory
  int32_t first_step = 0;  // step that produces the buffer (>= 0)
  int32_t last_step = 0;   // last step that reads it (>= first_step)
};

// Assigns offsets (multiples of `alignment`) so that two buffers whose step
// intervals [first_step, last_step] intersect never overlap in memory.
//
// Greedy by size: largest first (ties: earlier first_step, then name, so the
// result is deterministic), each at the lowest aligned offset that does not
// overlap any already-placed buffer whose lifetime intersects its own.
// Returns one slot per request, in request order; zero-size requests get
// offset 0. arena_size = max(offset + size); naive_size = sum of sizes.
// The arena never exceeds the sum of the sizes rounded up to `alignment`.
//
// Errors (kInvalidArgument), naming the buffer: alignment 0, negative steps,
// first_step > last_step, duplicate names, and sizes whose aligned sum does
// not fit in uint64.
Result<MemoryPlan> PlanMemory(const std::vector<BufferRequest>& buffers,
                              uint64_t alignment = kArenaAlignment);

// Verifies a plan: steps are valid (0 <= first_step <= last_step), value
// names are unique, every offset is a multiple of `alignment`, every slot
// ends within arena_size (without overflow), and no two slots whose
// lifetimes intersect overlap in memory (zero-size slots overlap nothing).
// Used by tests, the engine loader and the runtime: a plan read from a file
// is untrusted, so this never assumes anything about its contents.
// O(n log n) in the number of slots. Errors are kInvalidEngine; an overlap
// error names the two clashing values. naive_size is informational and is not
// checked.
Status CheckMemoryPlan(const MemoryPlan& plan, uint64_t alignment = kArenaAlignment);

}  // namespace frt
