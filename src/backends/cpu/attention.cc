// CPU reference kernel of MultiHeadAttention (docs/fused_ops.md). For each
// batch b, head h and query row i it forms the scores
//   s_j = scale * <q[b,i,h], k[b,j,h]> + mask[b,h,i,j]   (float mask)
// drops keys the bool mask or the causal rule masks out, and writes the
// softmax-weighted sum of the value rows. Everything is computed in double
// and rounded once. A row whose keys are all masked (every score -inf or
// masked) gives zeros, as the exporters' IsNaN -> Where(0) guard does.
#include <cmath>
#include <limits>
#include <vector>

#include "backends/cpu/broadcast.h"
#include "backends/cpu/kernel.h"
#include "backends/cpu/kernel_families.h"
#include "backends/cpu/tensor_values.h"

namespace frt {
namespace {

// Where Q, K and V rows live: element (b, s, c) of a projection is at
// base + (b * seq + s) * row_stride + offset + c.
struct Operand {
  const double* data = nullptr;
  int64_t seq = 0;
  int64_t row_stride = 0;
  int64_t offset = 0;
  double At(int64_t b, int64_t s, int64_t c) const {
    return data[(b * seq + s) * row_stride + offset + c];
  }
};

Status CheckRank3(const KernelContext& ctx, size_t i, const char* name) {
  if (ctx.input(i).rank() != 3) {
    return ctx.Error(StatusCode::kInvalidArgument, name, " (input ", i, ") has shape ",
                     DimsToString(ctx.input(i).dims()), " but must be rank 3");
  }
  return Status::Ok();
}

Status MultiHeadAttentionKernel(KernelContext& ctx) {
  const int64_t heads = ctx.attrs().GetInt("num_heads", 0);
  const bool causal = ctx.attrs().GetInt("causal", 0) != 0;
  const bool packed = !ctx.has_input(1) && !ctx.has_input(2);
  if (heads <= 0) return ctx.Error(StatusCode::kInvalidModel, "num_heads must be positive");
  if (!packed && (!ctx.has_input(1) || !ctx.has_input(2))) {
    return ctx.Error(StatusCode::kInvalidModel, "key and value must both be present or absent");
  }
  FRT_RETURN_IF_ERROR(CheckRank3(ctx, 0, "query"));
  const Tensor& qt = ctx.input(0);
  const int64_t batch = qt.dims()[0], sq = qt.dims()[1];
  const std::vector<double> qv = ToDoubles(qt);
  std::vector<double> kv, vv;
  Operand q{qv.data(), sq, qt.dims()[2], 0}, k, v;
  int64_t d = 0, dv = 0, sk = sq;
  if (packed) {
    if (qt.dims()[2] % (3 * heads) != 0) {
      return ctx.Error(StatusCode::kInvalidArgument, "packed query width ", qt.dims()[2],
                       " is not a multiple of 3 * num_heads = ", 3 * heads);
    }
    d = dv = qt.dims()[2] / (3 * heads);
    k = {qv.data(), sq, qt.dims()[2], heads * d};
    v = {qv.data(), sq, qt.dims()[2], 2 * heads * d};
  } else {
    FRT_RETURN_IF_ERROR(CheckRank3(ctx, 1, "key"));
    FRT_RETURN_IF_ERROR(CheckRank3(ctx, 2, "value"));
    const Dims& kd = ctx.input(1).dims();
    const Dims& vd = ctx.input(2).dims();
    if (kd[0] != batch || vd[0] != batch || kd[1] != vd[1] || kd[2] != qt.dims()[2] ||
        qt.dims()[2] % heads != 0 || vd[2] % heads != 0) {
      return ctx.Error(StatusCode::kInvalidArgument, "query ", DimsToString(qt.dims()), ", key ",
                       DimsToString(kd), " and value ", DimsToString(vd),
                       " do not fit [B, Sq, H*D], [B, Sk, H*D], [B, Sk, H*Dv] with H = ", heads);
    }
    sk = kd[1];
    d = qt.dims()[2] / heads;
    dv = vd[2] / heads;
    kv = ToDoubles(ctx.input(1));
    vv = ToDoubles(ctx.input(2));
    k = {kv.data(), sk, kd[2], 0};
    v = {vv.data(), sk, vd[2], 0};
  }
  const double scale = ctx.attrs().Has("scale")
                           ? static_cast<double>(ctx.attrs().GetFloat("scale", 1.0f))
                           : 1.0 / std::sqrt(static_cast<double>(d));

  // The mask read through broadcast strides onto [B, H, Sq, Sk].
  const Dims scores_dims = {batch, heads, sq, sk};
  std::vector<double> mask;
  bool bool_mask = false;
  Dims mstr(4, 0);
  if (ctx.has_input(3)) {
    const Tensor& m = ctx.input(3);
    auto b = BroadcastDims(m.dims(), scores_dims);
    if (m.rank() > 4 || !b.ok() || *b != scores_dims) {
      return ctx.Error(StatusCode::kInvalidArgument, "mask has shape ", DimsToString(m.dims()),
                       " which does not broadcast to [B, H, Sq, Sk] = ", DimsToString(scores_dims));
    }
    mask = ToDoubles(m);
    bool_mask = m.dtype() == DType::kBool;
    mstr = BroadcastStrides(m.dims(), scores_dims);
  }

  Tensor* out = &ctx.output(0);
  const Dims out_dims = {batch, sq, heads * dv};
  if (!out->defined() || out->dims() != out_dims || out->dtype() != qt.dtype()) {
    FRT_ASSIGN_OR_RETURN(out, ctx.AllocateOutput(0, qt.dtype(), out_dims));
  }
  std::vector<double> result(static_cast<size_t>(batch * sq * heads * dv), 0.0);
  std::vector<double> s(static_cast<size_t>(sk));
  std::vector<bool> live(static_cast<size_t>(sk));
  constexpr double kNegInf = -std::numeric_limits<double>::infinity();
  for (int64_t b = 0; b < batch; ++b) {
    for (int64_t h = 0; h < heads; ++h) {
      for (int64_t i = 0; i < sq; ++i) {
        double max = kNegInf;
        for (int64_t j = 0; j < sk; ++j) {
          double m = 0.0;
          if (!mask.empty()) m = mask[b * mstr[0] + h * mstr[1] + i * mstr[2] + j * mstr[3]];
          live[j] = !(causal && j > i + sk - sq) && !(bool_mask && m == 0.0);
          if (!live[j]) continue;
          double dot = 0.0;
          for (int64_t c = 0; c < d; ++c) dot += q.At(b, i, h * d + c) * k.At(b, j, h * d + c);
          s[j] = scale * dot + (bool_mask ? 0.0 : m);
          if (s[j] > max) max = s[j];
        }
        if (max == kNegInf) continue;  // every key masked: the row stays zero
        double sum = 0.0;
        for (int64_t j = 0; j < sk; ++j) {
          s[j] = live[j] ? std::exp(s[j] - max) : 0.0;
          sum += s[j];
        }
        double* row = result.data() + ((b * sq + i) * heads + h) * dv;
        for (int64_t j = 0; j < sk; ++j) {
          const double p = s[j] / sum;
          for (int64_t c = 0; c < dv; ++c) row[c] += p * v.At(b, j, h * dv + c);
        }
      }
    }
  }
  VisitDType(out->dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    T* po = out->data<T>();
    for (size_t e = 0; e < result.size(); ++e) po[e] = FromDouble<T>(result[e]);
  });
  return Status::Ok();
}

}  // namespace

void RegisterAttentionKernels(CpuKernelRegistry& r) {
  r.Register(OpKind::kMultiHeadAttention, MultiHeadAttentionKernel);
}

}  // namespace frt
