// Code generation for FusedPointwise on CUDA (docs/fused_ops.md): the node's
// program (ir/ops/fused_pointwise.h) becomes one CUDA C++ kernel, compiled
// with NVRTC at engine build time; the CUBIN travels in the step's tactic blob.
//
// Generated code: no #include at all (NVRTC finds no CUDA headers by itself):
// f16 <-> f32 conversions are PTX `cvt` instructions in inline asm, bf16 ones
// integer bit manipulation. One `frt_eval` function holds the program as
// straight-line code, one local per register: float for f16/bf16/f32
// registers (reduced-precision intermediates stay in fp32; only Casts and the
// output round), double for f64, bool for bool. Inputs are converted to their
// register type on load; the result is converted once to output_dtype. The
// kernel `frt_fused_pointwise(FusedArgs)` is a grid-stride loop with two
// paths chosen per launch: vectorized flat addressing (BroadcastPlan modes,
// 16-byte vectors for the widest dtype) and general broadcast strides.
//
// Tactic blob (little-endian): magic "FRTPW001", u32 version, u32 vector
// width, u32 number of inputs, u32 compute capability (major*10+minor), u32
// kernel-name length, u32 cubin length, the kernel name, the cubin.
//
// Thread safety: every function is safe to call concurrently (the NVRTC
// compile cache is guarded by a mutex).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "fusionrt/status.h"
#include "ir/ops/fused_pointwise.h"

namespace frt::cuda_pointwise {

inline constexpr char kFusedKernelName[] = "frt_fused_pointwise";

struct GeneratedKernel {
  std::string source;  // CUDA C++, self-contained
  int vec = 1;         // elements per vector on the flat path
};

// The kernel source for `program` with `input_dtypes` (the node's inputs, in
// order; must match the program's first registers). Pure function.
// Error (kInvalidModel) for more than kMaxFusedInputs inputs or a dtype that
// is no register dtype.
Result<GeneratedKernel> GenerateFusedSource(const pointwise::Program& program,
                                            const std::vector<DType>& input_dtypes);

// Compiles `source` with NVRTC for `arch`: "sm_XY" gives a CUBIN,
// "compute_XY" PTX (NUL-terminated). Results are cached per (arch, source)
// for the process. Error (kInternal) with NVRTC's log, prefixed by `what`.
Result<std::vector<uint8_t>> CompileWithNvrtc(const std::string& source, const std::string& arch,
                                              const std::string& what);

struct FusedBlob {
  uint32_t vec = 1;
  uint32_t num_inputs = 0;
  uint32_t compute_capability = 0;
  std::string kernel_name;
  std::vector<uint8_t> cubin;
};

std::vector<uint8_t> EncodeFusedBlob(const FusedBlob& blob);
// Error (kInvalidEngine, prefixed by `what`) for a truncated or foreign blob.
Result<FusedBlob> DecodeFusedBlob(std::span<const uint8_t> data, const std::string& what);

}  // namespace frt::cuda_pointwise
