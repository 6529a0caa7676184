// Schema of MultiHeadAttention (docs/fused_ops.md): scaled-dot-product
// attention over H heads in the [batch, sequence, heads * head_dim] layout.
// Inputs: query [B, Sq, H*D] (or packed [B, S, 3*H*D] = Q | K | V side by side
// when key and value are absent), key [B, Sk, H*D], value [B, Sk, H*Dv], mask
// broadcastable to [B, H, Sq, Sk] (float: added to the scores; bool: true =
// attend). Output [B, Sq, H*Dv]. Inference checks what the static dims allow;
// the kernel re-checks the rest at run time.
#include "ir/infer_helpers.h"
#include "ir/op_families.h"
#include "ir/op_registry.h"

namespace frt {
namespace {

bool IsAttentionFloat(DType t) {
  return t == DType::kFloat32 || t == DType::kFloat16 || t == DType::kBFloat16 ||
         t == DType::kFloat64;
}

bool Conflict(const Dim& a, const Dim& b) {
  return a.is_static() && b.is_static() && a.value() != b.value();
}

// Checks that input i (when its shape is known) has rank 3.
Status RequireRank3(const InferContext& ctx, size_t i, const char* name) {
  const Shape* s = ctx.input_shape(i);
  if (s && s->rank() != 3) {
    return ctx.Error(StatusCode::kInvalidModel, name, " (input ", i, ") has shape ", s->ToString(),
                     " but must be rank 3 [batch, sequence, heads * head_dim]");
  }
  return Status::Ok();
}

// Checks that a static last dim of input i is a multiple of `divisor`.
Status RequireMultiple(const InferContext& ctx, size_t i, const char* name, int64_t divisor,
                       const char* what) {
  const Shape* s = ctx.input_shape(i);
  if (!s) return Status::Ok();
  const Dim& d = (*s)[2];
  if (d.is_static() && d.value() % divisor != 0) {
    return ctx.Error(StatusCode::kInvalidModel, name, " (input ", i, ") has last dim ", d.value(),
                     " which is not a multiple of ", what, " = ", divisor);
  }
  return Status::Ok();
}

// The mask must broadcast to [B, H, Sq, Sk] without enlarging it.
Status CheckMask(const InferContext& ctx, const std::vector<Dim>& scores) {
  const Shape* m = ctx.has_input(3) ? ctx.input_shape(3) : nullptr;
  if (!m) return Status::Ok();
  if (m->rank() > 4) {
    return ctx.Error(StatusCode::kInvalidModel, "mask (input 3) has shape ", m->ToString(),
                     " but must have rank <= 4 (broadcastable to [batch, heads, Sq, Sk])");
  }
  for (size_t i = 0; i < m->rank(); ++i) {
    const Dim& md = (*m)[m->rank() - 1 - i];
    const Dim& sd = scores[3 - i];
    if (md.is_static() && md.value() != 1 && Conflict(md, sd)) {
      return ctx.Error(StatusCode::kInvalidModel, "mask (input 3) has shape ", m->ToString(),
                       " which does not broadcast to the scores [batch, heads, Sq, Sk] = ",
                       Shape(scores).ToString());
    }
  }
  return Status::Ok();
}

Status InferMultiHeadAttention(InferContext& ctx) {
  const DType dt = ctx.input_dtype(0);
  if (!IsAttentionFloat(dt)) {
    return ctx.Error(StatusCode::kInvalidModel, "query has dtype ", DTypeName(dt),
                     " but must be f16, bf16, f32 or f64");
  }
  const bool packed = !ctx.has_input(1) && !ctx.has_input(2);
  if (!packed && (!ctx.has_input(1) || !ctx.has_input(2))) {
    return ctx.Error(StatusCode::kInvalidModel,
                     "key and value must both be present, or both absent (packed QKV)");
  }
  for (size_t i = 1; i <= 2 && !packed; ++i) {
    if (ctx.input_dtype(i) != dt) {
      return ctx.Error(StatusCode::kInvalidModel, i == 1 ? "key" : "value", " has dtype ",
                       DTypeName(ctx.input_dtype(i)), " but the query has ", DTypeName(dt));
    }
  }
  if (ctx.has_input(3) && ctx.input_dtype(3) != dt && ctx.input_dtype(3) != DType::kBool) {
    return ctx.Error(StatusCode::kInvalidModel, "mask has dtype ", DTypeName(ctx.input_dtype(3)),
                     " but must be bool or the query's ", DTypeName(dt));
  }
  const int64_t heads = ctx.attrs().GetInt("num_heads", 0);
  if (heads <= 0) {
    return ctx.Error(StatusCode::kInvalidModel, "num_heads is ", heads,
                     " but must be given and positive");
  }
  const int64_t causal = ctx.attrs().GetInt("causal", 0);
  if (causal != 0 && causal != 1) {
    return ctx.Error(StatusCode::kInvalidModel, "causal is ", causal, " but must be 0 or 1");
  }
  for (size_t i = 0; i < 3; ++i) {
    if (i == 0 || !packed) {
      FRT_RETURN_IF_ERROR(RequireRank3(ctx, i, i == 0 ? "query" : (i == 1 ? "key" : "value")));
    }
  }
  const Shape* q = ctx.input_shape(0);
  const Shape* k = packed ? nullptr : ctx.input_shape(1);
  const Shape* v = packed ? nullptr : ctx.input_shape(2);
  Dim b, sq, sk, out_width;
  if (q) b = (*q)[0], sq = (*q)[1];
  if (packed) {
    FRT_RETURN_IF_ERROR(RequireMultiple(ctx, 0, "packed query", 3 * heads, "3 * num_heads"));
    sk = sq;
    if (q && (*q)[2].is_static()) out_width = Dim((*q)[2].value() / 3);
  } else {
    FRT_RETURN_IF_ERROR(RequireMultiple(ctx, 0, "query", heads, "num_heads"));
    FRT_RETURN_IF_ERROR(RequireMultiple(ctx, 2, "value", heads, "num_heads"));
    if (q && k && Conflict((*q)[2], (*k)[2])) {
      return ctx.Error(StatusCode::kInvalidModel, "query ", q->ToString(), " and key ",
                       k->ToString(), " must have the same last dim (heads * head_dim)");
    }
    if (k && v && Conflict((*k)[1], (*v)[1])) {
      return ctx.Error(StatusCode::kInvalidModel, "key ", k->ToString(), " and value ",
                       v->ToString(), " must have the same sequence length");
    }
    for (const Shape* s : {k, v}) {
      if (q && s && Conflict((*q)[0], (*s)[0])) {
        return ctx.Error(StatusCode::kInvalidModel, "query ", q->ToString(), " and ",
                         s == k ? "key " : "value ", s->ToString(), " have different batch sizes");
      }
    }
    if (k) sk = (*k)[1];
    if (v) out_width = (*v)[2];
  }
  FRT_RETURN_IF_ERROR(CheckMask(ctx, {b, Dim(heads), sq, sk}));
  if (q) {
    ctx.SetOutput(0, dt, Shape({b, sq, out_width}));
  } else {
    ctx.SetOutputDType(0, dt);
  }
  return Status::Ok();
}

}  // namespace

void RegisterAttentionOps(OpRegistry& r) {
  // The GEMMs may run in reduced precision; kernels keep the softmax in fp32
  // or wider inside (contract in docs/fused_ops.md).
  r.Register({OpKind::kMultiHeadAttention, FusionKind::kOpaque, PrecisionPolicy::kAlways, 1, 4, 1,
              1, InferMultiHeadAttention});
}

}  // namespace frt
