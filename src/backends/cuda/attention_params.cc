// Host side of the MultiHeadAttention CUDA kernels: turns concrete dims into
// AttentionParams (strides and offsets of separate or packed Q/K/V, the mask's
// broadcast strides) and decides which kernel applies. No device code here.
#include "backends/cuda/attention_params.h"

#include <cmath>
#include <cstdint>
#include <limits>

#include "ir/graph.h"

namespace frt {
namespace {

constexpr int64_t kMaxInt32 = std::numeric_limits<int32_t>::max();

bool IsAttentionDType(DType t) {
  return t == DType::kFloat32 || t == DType::kFloat16 || t == DType::kBFloat16;
}

// What both kernels need of a node: consistent dtypes, a known number of
// heads and static head dims. Fills dtype, d and dv; returns "" or why not.
std::string InspectNode(const Node& node, DType* dtype, int64_t* d, int64_t* dv) {
  const Value* q = node.has_input(0) ? node.inputs[0] : nullptr;
  if (q == nullptr) return "the query (input 0) is absent";
  *dtype = q->dtype;
  const bool packed = !node.has_input(1) && !node.has_input(2);
  if (!packed && (!node.has_input(1) || !node.has_input(2))) {
    return "key and value must both be present, or both absent";
  }
  for (size_t i = 1; i <= 2 && !packed; ++i) {
    if (node.inputs[i]->dtype != q->dtype) {
      return StrCat("input ", i, " has dtype ", DTypeName(node.inputs[i]->dtype),
                    " but the query has ", DTypeName(q->dtype));
    }
  }
  if (node.has_input(3) && node.inputs[3]->dtype != q->dtype &&
      node.inputs[3]->dtype != DType::kBool) {
    return StrCat("mask has dtype ", DTypeName(node.inputs[3]->dtype), "; it must be bool or ",
                  DTypeName(q->dtype));
  }
  if (!node.has_output(0) || node.outputs[0]->dtype != q->dtype) {
    return "the output dtype differs from the query's";
  }
  const int64_t heads = node.attrs.GetInt("num_heads", 0);
  if (heads <= 0) return StrCat("num_heads is ", heads);
  auto last_dim = [](const Value* v) -> int64_t {
    if (!v->shape || v->shape->rank() != 3 || !(*v->shape)[2].is_static()) return 0;
    return (*v->shape)[2].value();
  };
  const int64_t qw = last_dim(q);
  if (packed) {
    *d = *dv = qw % (3 * heads) == 0 ? qw / (3 * heads) : 0;
  } else {
    const int64_t vw = last_dim(node.inputs[2]);
    *d = qw % heads == 0 ? qw / heads : 0;
    *dv = vw % heads == 0 ? vw / heads : 0;
  }
  return "";
}

}  // namespace

std::string FlashAttentionSupports(const Node& node) {
  DType dtype = DType::kUndefined;
  int64_t d = 0, dv = 0;
  std::string why = InspectNode(node, &dtype, &d, &dv);
  return why.empty() ? FlashAttentionUnsupported(dtype, d, dv) : why;
}

std::string SimpleAttentionSupports(const Node& node) {
  DType dtype = DType::kUndefined;
  int64_t d = 0, dv = 0;
  std::string why = InspectNode(node, &dtype, &d, &dv);
  return why.empty() ? SimpleAttentionUnsupported(dtype, d, dv) : why;
}

Result<std::array<int64_t, 4>> AttentionMaskStrides(const Dims& mask,
                                                    const std::array<int64_t, 4>& scores) {
  if (mask.size() > 4) {
    return MakeError(StatusCode::kInvalidArgument, "mask has shape ", DimsToString(mask),
                     " but must have rank <= 4 (broadcastable to [B, H, Sq, Sk])");
  }
  std::array<int64_t, 4> strides = {0, 0, 0, 0};
  const size_t skip = 4 - mask.size();  // leading score dims the mask lacks
  int64_t stride = 1;
  for (size_t i = 4; i-- > skip;) {
    const int64_t m = mask[i - skip];
    if (m != 1 && m != scores[i]) {
      return MakeError(StatusCode::kInvalidArgument, "mask has shape ", DimsToString(mask),
                       " which does not broadcast to the scores [B, H, Sq, Sk] = [", scores[0], ",",
                       scores[1], ",", scores[2], ",", scores[3], "]");
    }
    strides[i] = m == 1 ? 0 : stride;
    stride *= m;
  }
  return strides;
}

Result<AttentionParams> MakeAttentionParams(DType dtype, const Dims& query, const Dims* key,
                                            const Dims* value, const Dims* mask, DType mask_dtype,
                                            int64_t heads, bool causal, float scale_attr) {
  if (!IsAttentionDType(dtype)) {
    return MakeError(StatusCode::kInvalidArgument, "query has dtype ", DTypeName(dtype),
                     " but the cuda kernels take f32, f16 or bf16");
  }
  if (heads <= 0) {
    return MakeError(StatusCode::kInvalidArgument, "num_heads is ", heads, " but must be positive");
  }
  if (query.size() != 3) {
    return MakeError(StatusCode::kInvalidArgument, "query has shape ", DimsToString(query),
                     " but must be rank 3 [B, S, H*D]");
  }
  if ((key == nullptr) != (value == nullptr)) {
    return MakeError(StatusCode::kInvalidArgument,
                     "key and value must both be present, or both absent (packed QKV)");
  }
  AttentionParams p;
  p.dtype = dtype;
  const int64_t batch = query[0], sq = query[1];
  int64_t sk = sq, d = 0, dv = 0;
  if (key == nullptr) {
    if (query[2] % (3 * heads) != 0) {
      return MakeError(StatusCode::kInvalidArgument, "packed query has shape ", DimsToString(query),
                       ": width ", query[2], " is not a multiple of 3 * num_heads = ", 3 * heads);
    }
    d = dv = query[2] / (3 * heads);
    p.q_row_stride = p.k_row_stride = p.v_row_stride = query[2];
    p.q_offset = 0;
    p.k_offset = heads * d;
    p.v_offset = 2 * heads * d;
  } else {
    const Dims& k = *key;
    const Dims& v = *value;
    if (k.size() != 3 || v.size() != 3 || k[0] != batch || v[0] != batch || k[1] != v[1] ||
        k[2] != query[2] || query[2] % heads != 0 || v[2] % heads != 0) {
      return MakeError(StatusCode::kInvalidArgument, "query ", DimsToString(query), ", key ",
                       DimsToString(k), " and value ", DimsToString(v),
                       " do not fit [B, Sq, H*D], [B, Sk, H*D], [B, Sk, H*Dv] with H = ", heads);
    }
    sk = k[1];
    d = query[2] / heads;
    dv = v[2] / heads;
    p.q_row_stride = query[2];
    p.k_row_stride = k[2];
    p.v_row_stride = v[2];
  }
  if (batch > kMaxInt32 || sq > kMaxInt32 || sk > kMaxInt32 || heads > kMaxInt32 || d > kMaxInt32 ||
      dv > kMaxInt32) {
    return MakeError(StatusCode::kInvalidArgument, "query ", DimsToString(query),
                     " has a dim beyond the kernels' 32-bit limit");
  }
  p.batch = static_cast<int32_t>(batch);
  p.heads = static_cast<int32_t>(heads);
  p.seq_q = static_cast<int32_t>(sq);
  p.seq_k = static_cast<int32_t>(sk);
  p.head_dim = static_cast<int32_t>(d);
  p.value_dim = static_cast<int32_t>(dv);
  p.causal = causal;
  p.scale = std::isnan(scale_attr) ? static_cast<float>(1.0 / std::sqrt(static_cast<double>(d)))
                                   : scale_attr;
  if (mask != nullptr) {
    if (mask_dtype == DType::kBool) {
      p.mask_kind = AttentionMaskKind::kBool;
    } else if (mask_dtype == dtype) {
      p.mask_kind = AttentionMaskKind::kFloat;
    } else {
      return MakeError(StatusCode::kInvalidArgument, "mask has dtype ", DTypeName(mask_dtype),
                       " but must be bool or the query's ", DTypeName(dtype));
    }
    FRT_ASSIGN_OR_RETURN(p.mask_stride, AttentionMaskStrides(*mask, {batch, heads, sq, sk}));
  }
  return p;
}

std::string SimpleAttentionUnsupported(DType dtype, int64_t head_dim, int64_t value_dim) {
  if (!IsAttentionDType(dtype)) {
    return StrCat("dtype ", DTypeName(dtype), " is not f32, f16 or bf16");
  }
  if (head_dim <= 0 || value_dim <= 0) return "the head dims are not known at build time";
  if (head_dim > kSimpleAttentionMaxHeadDim || value_dim > kSimpleAttentionMaxHeadDim) {
    return StrCat("head dims ", head_dim, "/", value_dim, " exceed ", kSimpleAttentionMaxHeadDim);
  }
  return "";
}

std::string FlashAttentionUnsupported(DType dtype, int64_t head_dim, int64_t value_dim) {
  if (dtype != DType::kFloat16 && dtype != DType::kBFloat16) {
    return StrCat("dtype ", DTypeName(dtype), " is not f16 or bf16");
  }
  if (head_dim <= 0 || value_dim <= 0) return "the head dims are not known at build time";
  if (head_dim != value_dim) {
    return StrCat("head dim ", head_dim, " differs from the value head dim ", value_dim);
  }
  if (head_dim % 16 != 0 || head_dim > kFlashAttentionMaxHeadDim) {
    return StrCat("head dim ", head_dim, " is not a multiple of 16 up to ",
                  kFlashAttentionMaxHeadDim);
  }
  return "";
}

bool FlashAttentionAligned(const AttentionParams& p) {
  const int64_t es = static_cast<int64_t>(DTypeSize(p.dtype));
  auto aligned = [&](const void* base, int64_t row_stride, int64_t offset) {
    return reinterpret_cast<uintptr_t>(base) % 16 == 0 && (row_stride * es) % 16 == 0 &&
           (offset * es) % 16 == 0 && (static_cast<int64_t>(p.head_dim) * es) % 16 == 0;
  };
  return aligned(p.q, p.q_row_stride, p.q_offset) && aligned(p.k, p.k_row_stride, p.k_offset) &&
         aligned(p.v, p.v_row_stride, p.v_offset) &&
         aligned(p.out, static_cast<int64_t>(p.heads) * p.value_dim, 0);
}

}  // namespace frt
