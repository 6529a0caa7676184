// Reference kernels of linear quantization: QuantizeLinear (round half to
// even, saturate to the integer range; fp8 outputs saturate or not as the
// `saturate` attribute says), DequantizeLinear and DynamicQuantizeLinear.
// Parameter layouts (per tensor / per axis / blocked) come from nn_quant.h.
#include "ir/ops/nn_quant.h"

#include <algorithm>

#include "backends/cpu/nn_kernels.h"

namespace frt::nn {
namespace {

// Scale and zero point of every data element.
struct QuantParams {
  QuantLayout layout;
  std::vector<double> scale;
  std::vector<double> zero_point;  // empty: 0

  double Scale(int64_t i) const { return scale[layout.ParamIndex(i)]; }
  double Zero(int64_t i) const {
    if (zero_point.empty()) return 0.0;
    return zero_point.size() == 1 ? zero_point[0] : zero_point[layout.ParamIndex(i)];
  }
};

Result<QuantParams> ReadParams(const KernelContext& ctx) {
  QuantParams q;
  const Tensor& x = ctx.input(0);
  const Tensor& scale = ctx.input(1);
  const Tensor* zp = ctx.has_input(2) ? &ctx.input(2) : nullptr;
  FRT_ASSIGN_OR_RETURN(
      q.layout, ResolveQuantLayout(ctx.node(), x.dims(), scale.dims(), zp ? &zp->dims() : nullptr));
  q.scale = ToDoubles(scale);
  if (zp) q.zero_point = ToDoubles(*zp);
  return q;
}

template <class F8>
void StoreFloat8(const std::vector<double>& v, bool saturate, Tensor& out) {
  F8* p = out.data<F8>();
  for (size_t i = 0; i < v.size(); ++i) p[i] = F8::FromFloat(static_cast<float>(v[i]), saturate);
}

Status QuantizeLinearKernel(KernelContext& ctx) {
  FRT_ASSIGN_OR_RETURN(QuantParams q, ReadParams(ctx));
  const std::vector<double> x = ToDoubles(ctx.input(0));
  Tensor& y = ctx.output(0);
  std::vector<double> out(x.size());
  if (y.dtype() == DType::kFloat8E4M3FN || y.dtype() == DType::kFloat8E5M2) {
    // Float8 has no zero point offset (the spec requires it to be 0).
    for (size_t i = 0; i < x.size(); ++i) out[i] = x[i] / q.Scale(static_cast<int64_t>(i));
    const bool saturate = ctx.attrs().GetInt("saturate", 1) != 0;
    if (y.dtype() == DType::kFloat8E4M3FN) {
      StoreFloat8<Float8E4M3FN>(out, saturate, y);
    } else {
      StoreFloat8<Float8E5M2>(out, saturate, y);
    }
    return Status::Ok();
  }
  double lo, hi;
  IntegerRange(y.dtype(), &lo, &hi);
  // With float32 data and scale the spec's division is a float32 division;
  // its rounding decides ties of the following round-half-even, so do the same.
  const bool f32 = ctx.input(0).dtype() == DType::kFloat32 && ctx.input(1).dtype() == DType::kFloat32;
  for (size_t i = 0; i < x.size(); ++i) {
    const int64_t e = static_cast<int64_t>(i);
    const double ratio = f32 ? static_cast<double>(static_cast<float>(x[i]) /
                                                   static_cast<float>(q.Scale(e)))
                             : x[i] / q.Scale(e);
    const double v = RoundHalfEven(ratio) + q.Zero(e);
    out[i] = std::isnan(v) ? 0.0 : std::min(hi, std::max(lo, v));
  }
  StoreDoubles(out, y);
  return Status::Ok();
}

Status DequantizeLinearKernel(KernelContext& ctx) {
  FRT_ASSIGN_OR_RETURN(QuantParams q, ReadParams(ctx));
  const std::vector<double> x = ToDoubles(ctx.input(0));
  const bool float8 = IsFloat(ctx.input(0).dtype());  // fp8 data: zero point must be 0
  std::vector<double> out(x.size());
  for (size_t i = 0; i < x.size(); ++i) {
    const int64_t e = static_cast<int64_t>(i);
    out[i] = (x[i] - (float8 ? 0.0 : q.Zero(e))) * q.Scale(e);
  }
  StoreDoubles(out, ctx.output(0));
  return Status::Ok();
}

// Follows the spec's float32 formulas step by step (not double): the uint8
// outputs are compared exactly, so each rounding must happen where the
// spec's float arithmetic rounds.
Status DynamicQuantizeLinearKernel(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  const float* px = x.data<float>();
  const int64_t n = x.num_elements();
  float max_v = 0.0f, min_v = 0.0f;  // the range always includes 0
  for (int64_t i = 0; i < n; ++i) {
    max_v = std::max(max_v, px[i]);
    min_v = std::min(min_v, px[i]);
  }
  const float qmax = 255.0f;
  const float scale = max_v == min_v ? 1.0f / qmax : (max_v - min_v) / qmax;
  const float zp_real = std::clamp(0.0f - min_v / scale, 0.0f, qmax);
  const float zp = std::nearbyint(zp_real);
  uint8_t* py = ctx.output(0).data<uint8_t>();
  for (int64_t i = 0; i < n; ++i) {
    const float v = std::nearbyint(px[i] / scale) + zp;
    py[i] = std::isnan(v) ? 0 : static_cast<uint8_t>(std::clamp(v, 0.0f, qmax));
  }
  ctx.output(1).data<float>()[0] = scale;
  ctx.output(2).data<uint8_t>()[0] = static_cast<uint8_t>(zp);
  return Status::Ok();
}

}  // namespace

void RegisterNnQuantKernels(CpuKernelRegistry& r) {
  r.Register(OpKind::kQuantizeLinear, QuantizeLinearKernel);
  r.Register(OpKind::kDequantizeLinear, DequantizeLinearKernel);
  r.Register(OpKind::kDynamicQuantizeLinear, DynamicQuantizeLinearKernel);
}

}  // namespace frt::nn
