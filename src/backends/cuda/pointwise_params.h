// Host-side planning shared by the pointwise CUDA kernels (pointwise*.cu, the
// NVRTC-generated FusedPointwise kernel): how each input of a broadcasting
// elementwise op is addressed for one output element, and the plain params
// structs the kernels take (their layout is the kernels' ABI).
//
// Algorithm (PlanBroadcast): inputs are right-aligned to the output's rank
// with a stride of 0 on every broadcast dim; output dims of size 1 are
// dropped; then adjacent dims are merged wherever every input is contiguous
// across the pair or broadcast along both (stride[d-1] == stride[d] * dim[d]
// for all inputs). A same-shape op thus becomes rank 1, `[B,S,H] + [H]`
// becomes `[B*S, H]` with the bias strides [0, 1]. Each input is then
// classified for the flat (index-free) path: kFull (offset i), kScalar (0),
// kRow (i % row: broadcast over the leading dims) or kCol (i / row:
// broadcast over the trailing dims); anything else needs the general path,
// which divides the flat index by the coalesced dims.
//
// Thread safety: pure functions.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "fusionrt/status.h"
#include "fusionrt/types.h"

namespace frt::cuda_pointwise {

// The largest coalesced rank the general path handles (ranks up to this are
// always accepted, higher ones when coalescing reduces them).
inline constexpr int kMaxRank = 8;
// Threads per block of every pointwise kernel (their __launch_bounds__).
inline constexpr int kThreads = 256;
// Inputs of the generated FusedPointwise kernel's params (FusedArgs).
inline constexpr int kMaxFusedInputs = 16;

// How the flat path addresses an input (values are part of the kernel ABI).
enum InputMode : int32_t {
  kFull = 0,     // same shape as the output: offset i
  kScalar = 1,   // one element: offset 0
  kRow = 2,      // [row] repeated over the leading dims: offset i % row
  kCol = 3,      // each element repeated `row` times: offset i / row
  kGeneral = 4,  // only the general path can address it
};

struct BroadcastPlan {
  int64_t n = 0;                 // output elements
  int rank = 1;                  // coalesced rank, 1..kMaxRank (dims may hold more on error)
  Dims dims;                     // coalesced output dims
  std::vector<Dims> strides;     // per input, per coalesced dim; 0 = broadcast
  std::vector<InputMode> modes;  // per input
  std::vector<int64_t> rows;     // per input: the row length of kRow/kCol, else 0
  bool flat = false;             // every mode is kFull/kScalar/kRow/kCol
};

// Plans `inputs` broadcast onto `out` (which must be their broadcast: the
// runtime allocated it from shape propagation). Error (kInvalidArgument) when
// an input does not broadcast onto `out`, (kUnsupported) when the coalesced
// rank exceeds kMaxRank; callers prefix the node's name.
Result<BroadcastPlan> PlanBroadcast(const Dims& out, std::span<const Dims> inputs);

// Whether the flat path may use vectors of `vec` elements: the plan is flat,
// every kRow/kCol row length is a multiple of `vec`, and every pointer is
// aligned to vec * its element size (`elem_bytes`, same order as `ptrs`; the
// output included by the caller).
bool CanVectorize(const BroadcastPlan& plan, int vec, std::span<const void* const> ptrs,
                  std::span<const int> elem_bytes);

// Elements per 16-byte vector for the widest of the given element sizes.
int VectorWidth(std::span<const int> elem_bytes);

// Blocks for a grid-stride kernel of `threads` per block over `work` items:
// enough to fill the device (`sm_count` SMs, `blocks_per_sm` each), never
// more than the work needs, at least 1.
unsigned GridBlocks(int64_t work, int threads, int sm_count, int blocks_per_sm = 8);

// Scalar attributes of the elementwise functors (alpha/beta of LeakyRelu,
// HardSigmoid, Swish; Clip's bound flags).
struct OpAttrs {
  float alpha = 0.0f;
  float beta = 0.0f;
  int32_t flags = 0;  // Clip: bit 0 = has min, bit 1 = has max
};

// Params of the compiled elementwise kernels (pointwise_kernels.cuh), N inputs.
template <int N>
struct PointwiseArgs {
  void* out;                     // [n] dense: the output
  const void* in[N];             // each broadcastable onto the output
  int64_t n;                     // output elements
  int32_t mode[N];               // InputMode (flat path)
  int64_t row[N];                // kRow/kCol row length (flat path)
  int32_t rank;                  // coalesced rank (general path)
  int64_t dims[kMaxRank];        // [rank] coalesced output dims (general path)
  int64_t strides[N][kMaxRank];  // [N][rank] element strides, 0 = broadcast (general path)
  OpAttrs attrs;
};

// Params of the generated FusedPointwise kernel; pointwise_codegen.cc emits
// the same struct (same member types and order) into the generated source.
struct FusedArgs {
  void* out;                                   // [n] dense: the output
  const void* in[kMaxFusedInputs];             // inputs (first num_inputs used)
  int64_t n;                                   // output elements
  int32_t vectorized;                          // 1: flat path with vectors, 0: general path
  int32_t rank;                                // coalesced rank (general path)
  int32_t mode[kMaxFusedInputs];               // InputMode (flat path)
  int64_t row[kMaxFusedInputs];                // kRow/kCol row length (flat path)
  int64_t dims[kMaxRank];                      // [rank] coalesced output dims
  int64_t strides[kMaxFusedInputs][kMaxRank];  // [inputs][rank], 0 = broadcast
};

// Fills the plan-derived fields of the params (not the pointers or attrs).
template <int N>
void FillArgs(const BroadcastPlan& plan, PointwiseArgs<N>& a) {
  a.n = plan.n;
  a.rank = plan.rank;
  for (int d = 0; d < kMaxRank; ++d) a.dims[d] = d < plan.rank ? plan.dims[d] : 1;
  for (int k = 0; k < N; ++k) {
    a.mode[k] = plan.modes[k];
    a.row[k] = plan.rows[k];
    for (int d = 0; d < kMaxRank; ++d) a.strides[k][d] = d < plan.rank ? plan.strides[k][d] : 0;
  }
}
void FillArgs(const BroadcastPlan& plan, FusedArgs& a);

}  // namespace frt::cuda_pointwise
