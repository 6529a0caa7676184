// The ABI of the MultiHeadAttention CUDA kernels (docs/fused_ops.md,
// "MultiHeadAttention"): a plain parameter struct, the host helpers that fill
// it from concrete dims and decide which kernel applies (pure functions, unit
// tested on the CPU), and the two launchers:
//  - LaunchFlashAttention: f16/bf16, head_dim == value_dim in {16, 32, ..., 128},
//    tensor cores (mma.sync m16n8k16), online softmax, 16-byte aligned operands.
//  - LaunchSimpleAttention: any of f32/f16/bf16 with head dims <= 256, fp32
//    CUDA-core math, one warp per query row (the fallback).
// Both enqueue on `stream` and never synchronize. Thread safety: the helpers
// are pure; the launchers may be called from several host threads.
#pragma once

#include <cuda_runtime.h>

#include <array>
#include <cstdint>
#include <string>

#include "core/dtype.h"
#include "core/shape.h"
#include "fusionrt/status.h"

namespace frt {

class Node;

enum class AttentionMaskKind : int32_t {
  kNone = 0,
  kFloat = 1,  // mask has the query's dtype; added to the scaled scores
  kBool = 2,   // bool (one byte each); false masks the key out
};

// Element (b, s, c) of a projection tensor lives at
//   base + (b * seq + s) * row_stride + offset + c,
// where c = h * head_dim + d for head h. Separate inputs: row_stride = H*D,
// offset 0. Packed QKV [B, S, 3*H*D]: row_stride = 3*H*D for all three and
// offsets 0, H*D, 2*H*D.
struct AttentionParams {
  const void* q = nullptr;     // [B, Sq, q_row_stride], head h at columns q_offset + h*D
  const void* k = nullptr;     // [B, Sk, k_row_stride], head h at columns k_offset + h*D
  const void* v = nullptr;     // [B, Sk, v_row_stride], head h at columns v_offset + h*Dv
  const void* mask = nullptr;  // broadcast onto [B, H, Sq, Sk] through mask_stride; or nullptr
  void* out = nullptr;         // [B, Sq, H*Dv], dense
  int64_t q_row_stride = 0, k_row_stride = 0, v_row_stride = 0;  // elements
  int64_t q_offset = 0, k_offset = 0, v_offset = 0;              // elements
  // Elements of the mask per step of (b, h, query i, key j); 0 on broadcast dims.
  std::array<int64_t, 4> mask_stride = {0, 0, 0, 0};
  int32_t batch = 0, heads = 0, seq_q = 0, seq_k = 0;
  int32_t head_dim = 0;   // D, of query and key
  int32_t value_dim = 0;  // Dv, of value and output
  float scale = 1.0f;     // multiplies <q, k> before the mask is added
  bool causal = false;    // key j masked for query i when j > i + Sk - Sq
  AttentionMaskKind mask_kind = AttentionMaskKind::kNone;
  DType dtype = DType::kUndefined;  // of q, k, v, out (and a float mask)
};

// Fills every field but the pointers from concrete dims. `key`/`value` are
// nullptr in packed mode; `mask` nullptr when absent. `scale_attr` is the
// attribute when given, else NaN (then 1/sqrt(D)). Errors (kInvalidArgument)
// say which dims do not fit; the caller prefixes the node.
Result<AttentionParams> MakeAttentionParams(DType dtype, const Dims& query, const Dims* key,
                                            const Dims* value, const Dims* mask, DType mask_dtype,
                                            int64_t heads, bool causal, float scale_attr);

// Broadcast strides of a mask of rank <= 4 onto the scores [B, H, Sq, Sk]
// (numpy alignment from the right, stride 0 for size-1 or missing dims);
// kInvalidArgument when a dim is neither 1 nor the scores' dim.
Result<std::array<int64_t, 4>> AttentionMaskStrides(const Dims& mask,
                                                    const std::array<int64_t, 4>& scores);

// Build-time checks on the head dims (0 = not known statically). "" when the
// kernel applies, else why not.
std::string FlashAttentionUnsupported(DType dtype, int64_t head_dim, int64_t value_dim);
std::string SimpleAttentionUnsupported(DType dtype, int64_t head_dim, int64_t value_dim);

// The build-time decisions on an IR node (its values' dtypes and static
// shapes): "" when the kernel can run it, else why not. The query's last dim
// and the value's must be static (they fix D and Dv).
std::string FlashAttentionSupports(const Node& node);
std::string SimpleAttentionSupports(const Node& node);

// Run-time condition of the flash kernel on top of the build-time one: every
// row start of q, k, v and out is 16-byte aligned (cp.async and vector stores).
bool FlashAttentionAligned(const AttentionParams& p);

inline constexpr int kSimpleAttentionMaxHeadDim = 256;
inline constexpr int kFlashAttentionMaxHeadDim = 128;

// Launchers (attention_flash.cu, attention_simple.cu). Preconditions: the
// params were made by MakeAttentionParams and the matching *Unsupported
// check returned ""; for the flash kernel FlashAttentionAligned(p) holds.
// They return kInternal when the launch fails.
Status LaunchFlashAttention(const AttentionParams& p, cudaStream_t stream);
Status LaunchSimpleAttention(const AttentionParams& p, cudaStream_t stream);

}  // namespace frt
