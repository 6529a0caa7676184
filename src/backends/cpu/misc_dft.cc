// Reference kernels of DFT and STFT: the plain O(n^2) discrete Fourier sum
// in double, with twiddle angles reduced exactly (k * t mod n) before the
// sine / cosine so that long transforms keep their accuracy. Complex values
// are a trailing dim of 2 (real, imaginary); real ones a trailing dim of 1.
#include <cmath>
#include <complex>
#include <numbers>

#include "backends/cpu/misc_kernel_util.h"

namespace frt {
namespace {

using Complex = std::complex<double>;

// e^(sign * 2 pi i * k * t / n)
Complex Twiddle(int64_t k, int64_t t, int64_t n, double sign) {
  const int64_t r = static_cast<int64_t>((static_cast<unsigned __int128>(k) * t) % n);
  const double angle =
      sign * 2.0 * std::numbers::pi * static_cast<double>(r) / static_cast<double>(n);
  return {std::cos(angle), std::sin(angle)};
}

Result<int64_t> ScalarInput(const KernelContext& ctx, size_t i, const char* name) {
  const Tensor& t = ctx.input(i);
  if (t.num_elements() != 1) {
    return ctx.Error(StatusCode::kInvalidModel, name, " has shape ", DimsToString(t.dims()),
                     " but must be a scalar");
  }
  FRT_ASSIGN_OR_RETURN(std::vector<int64_t> v, t.ToInt64Vector());
  return v[0];
}

// Fails when an O(n^2) transform over `lines` lines would run for too long
// (hostile sizes); the limit is far above any real signal.
Status CheckWork(const KernelContext& ctx, int64_t lines, int64_t in, int64_t out) {
  const double work =
      static_cast<double>(lines) * static_cast<double>(in) * static_cast<double>(out);
  if (work > 1e12) {
    return ctx.Error(StatusCode::kResourceExhausted, "a ", in, "-point to ", out,
                     "-point transform over ", lines, " lines is beyond the reference kernel");
  }
  return Status::Ok();
}

Status DftKernel(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  const int64_t rank = static_cast<int64_t>(x.rank());
  const bool inverse = ctx.attrs().GetInt("inverse", 0) == 1;
  const bool onesided = ctx.attrs().GetInt("onesided", 0) == 1;
  int64_t axis = -2;
  if (ctx.has_input(2)) {
    FRT_ASSIGN_OR_RETURN(axis, ScalarInput(ctx, 2, "axis"));
  }
  if (axis < 0) axis += rank;
  if (rank < 2 || axis < 0 || axis >= rank - 1) {
    return ctx.Error(StatusCode::kOutOfRange, "axis is not a signal axis of input ",
                     DimsToString(x.dims()));
  }
  const int64_t len = x.dims()[axis];
  const int64_t comp = x.dims()[rank - 1];
  int64_t n = inverse && onesided ? 2 * (len - 1) : len;
  if (ctx.has_input(1)) {
    FRT_ASSIGN_OR_RETURN(n, ScalarInput(ctx, 1, "dft_length"));
  }
  if (n <= 0) return ctx.Error(StatusCode::kInvalidModel, "dft_length ", n, " must be positive");
  const bool irfft = inverse && onesided;
  const int64_t out_len = irfft ? n : (onesided ? n / 2 + 1 : n);
  const int64_t out_comp = irfft ? 1 : 2;
  Dims out_dims = x.dims();
  out_dims[axis] = out_len;
  out_dims[rank - 1] = out_comp;
  Tensor* out = &ctx.output(0);
  if (!out->defined()) {
    FRT_ASSIGN_OR_RETURN(out, ctx.AllocateOutput(0, x.dtype(), out_dims));
  }
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < axis; ++d) outer *= x.dims()[d];
  for (int64_t d = axis + 1; d < rank - 1; ++d) inner *= x.dims()[d];
  // Input terms used: the signal is cut or zero-padded to n (irfft: the n/2 + 1 unique bins).
  const int64_t used = std::min(len, irfft ? n / 2 + 1 : n);
  FRT_RETURN_IF_ERROR(CheckWork(ctx, outer * inner, used, out_len));
  const std::vector<double> xv = ToDoubles(x);
  std::vector<double> yv(static_cast<size_t>(out->num_elements()), 0.0);
  const double sign = inverse ? 1.0 : -1.0;
  std::vector<Complex> line(static_cast<size_t>(used));
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t i = 0; i < inner; ++i) {
      for (int64_t t = 0; t < used; ++t) {
        const double* v = xv.data() + ((o * len + t) * inner + i) * comp;
        line[t] = {v[0], comp == 2 ? v[1] : 0.0};
      }
      for (int64_t k = 0; k < out_len; ++k) {
        Complex s = 0.0;
        if (irfft) {
          // Hermitian extension of the one-sided spectrum; only real parts survive.
          for (int64_t t = 0; t < used; ++t) {
            const bool mirrored = t > 0 && 2 * t < n;
            s += (mirrored ? 2.0 : 1.0) * (line[t] * Twiddle(t, k, n, 1.0)).real();
          }
        } else {
          for (int64_t t = 0; t < used; ++t) s += line[t] * Twiddle(k, t, n, sign);
        }
        if (inverse) s /= static_cast<double>(n);
        double* y = yv.data() + ((o * out_len + k) * inner + i) * out_comp;
        y[0] = s.real();
        if (out_comp == 2) y[1] = s.imag();
      }
    }
  }
  MiscStoreSaturated(*out, yv);
  return Status::Ok();
}

Status StftKernel(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  if (x.rank() != 3 || (x.dims()[2] != 1 && x.dims()[2] != 2)) {
    return ctx.Error(StatusCode::kInvalidModel, "signal has shape ", DimsToString(x.dims()),
                     " but must be [batch, length, 1 or 2]");
  }
  const int64_t batch = x.dims()[0], len = x.dims()[1], comp = x.dims()[2];
  FRT_ASSIGN_OR_RETURN(int64_t step, ScalarInput(ctx, 1, "frame_step"));
  int64_t frame = len;
  if (ctx.has_input(2)) frame = ctx.input(2).num_elements();
  if (ctx.has_input(3)) {
    FRT_ASSIGN_OR_RETURN(frame, ScalarInput(ctx, 3, "frame_length"));
  }
  if (step <= 0 || frame <= 0 || frame > len ||
      (ctx.has_input(2) && ctx.input(2).num_elements() != frame)) {
    return ctx.Error(StatusCode::kInvalidModel, "frame_step ", step, " and frame_length ", frame,
                     " must be positive, the frame no longer than the signal (", len,
                     ") and equal to the window's length");
  }
  const bool onesided = ctx.attrs().GetInt("onesided", 1) == 1;
  const int64_t frames = (len - frame) / step + 1;
  const int64_t bins = onesided ? frame / 2 + 1 : frame;
  Tensor* out = &ctx.output(0);
  if (!out->defined()) {
    FRT_ASSIGN_OR_RETURN(out, ctx.AllocateOutput(0, x.dtype(), {batch, frames, bins, 2}));
  }
  FRT_RETURN_IF_ERROR(CheckWork(ctx, batch * frames, frame, bins));
  const std::vector<double> xv = ToDoubles(x);
  const std::vector<double> window =
      ctx.has_input(2) ? ToDoubles(ctx.input(2)) : std::vector<double>(frame, 1.0);
  std::vector<double> yv(static_cast<size_t>(out->num_elements()), 0.0);
  for (int64_t b = 0; b < batch; ++b) {
    for (int64_t f = 0; f < frames; ++f) {
      for (int64_t k = 0; k < bins; ++k) {
        Complex s = 0.0;
        for (int64_t t = 0; t < frame; ++t) {
          const double* v = xv.data() + (b * len + f * step + t) * comp;
          const Complex sample(v[0], comp == 2 ? v[1] : 0.0);
          s += window[t] * sample * Twiddle(k, t, frame, -1.0);
        }
        double* y = yv.data() + ((b * frames + f) * bins + k) * 2;
        y[0] = s.real();
        y[1] = s.imag();
      }
    }
  }
  MiscStoreSaturated(*out, yv);
  return Status::Ok();
}

}  // namespace

void RegisterMiscDftKernels(CpuKernelRegistry& r) {
  r.Register(OpKind::kDFT, DftKernel);
  r.Register(OpKind::kSTFT, StftKernel);
}

}  // namespace frt
