// Reference kernels of the window generators (Hann, Hamming, Blackman) and
// MelWeightMatrix, following ONNX's numpy reference: values in double, cast
// to output_datatype as numpy's astype (integers truncate).
#include <cmath>
#include <numbers>

#include "backends/cpu/misc_kernel_util.h"

namespace frt {
namespace {

DType OutputDType(const KernelContext& ctx) {
  return static_cast<DType>(
      ctx.attrs().GetInt("output_datatype", static_cast<int64_t>(DType::kFloat32)));
}

Result<int64_t> ScalarInt(const KernelContext& ctx, size_t i, const char* name) {
  const Tensor& t = ctx.input(i);
  if (t.num_elements() != 1) {
    return ctx.Error(StatusCode::kInvalidModel, name, " has shape ", DimsToString(t.dims()),
                     " but must be a scalar");
  }
  FRT_ASSIGN_OR_RETURN(std::vector<int64_t> v, t.ToInt64Vector());
  return v[0];
}

Status StoreResult(KernelContext& ctx, const Dims& dims, const std::vector<double>& v) {
  Tensor* out = &ctx.output(0);
  if (!out->defined()) {
    FRT_ASSIGN_OR_RETURN(out, ctx.AllocateOutput(0, OutputDType(ctx), dims));
  }
  MiscStoreCast(*out, v);
  return Status::Ok();
}

// `value(n, N)` is the window at point n of a symmetric window with N + 1
// points; each follows the operation order of ONNX's reference so that
// integer output types truncate the same values.
template <class F>
Status WindowKernel(KernelContext& ctx, F&& value) {
  FRT_ASSIGN_OR_RETURN(int64_t size, ScalarInt(ctx, 0, "size"));
  FRT_RETURN_IF_ERROR(MiscCheckScratch(ctx, size));
  // A periodic window is the symmetric window of size + 1 without its last point.
  const bool periodic = ctx.attrs().GetInt("periodic", 1) == 1;
  const double denom = static_cast<double>(periodic ? size : size - 1);
  std::vector<double> w(static_cast<size_t>(size));
  for (int64_t n = 0; n < size; ++n) {
    // A symmetric window of one point is 1 (its formula divides by zero).
    w[n] = denom == 0.0 ? 1.0 : value(static_cast<double>(n), denom);
  }
  return StoreResult(ctx, {size}, w);
}

constexpr double kPi = std::numbers::pi;

Status HannKernel(KernelContext& ctx) {
  return WindowKernel(ctx, [](double n, double N) {
    const double s = std::sin(n * kPi / N);
    return s * s;
  });
}

Status HammingKernel(KernelContext& ctx) {
  return WindowKernel(ctx, [](double n, double N) {
    const double alpha = 25.0 / 46.0;
    return alpha - std::cos(n * kPi * 2.0 / N) * (1.0 - alpha);
  });
}

Status BlackmanKernel(KernelContext& ctx) {
  return WindowKernel(ctx, [](double n, double N) {
    return std::cos(n * (kPi * 2.0) / N) * -0.5 + std::cos(n * (kPi * 4.0) / N) * 0.08 + 0.42;
  });
}

// Triangular filters between mel-spaced edges: edge i sits at mel
// low + i * (high - low) / (num_mel_bins + 2), converted back to Hz and then
// to a spectrogram bin floor((dft_length + 1) * hz / sample_rate).
Status MelWeightMatrixKernel(KernelContext& ctx) {
  FRT_ASSIGN_OR_RETURN(int64_t mels, ScalarInt(ctx, 0, "num_mel_bins"));
  FRT_ASSIGN_OR_RETURN(int64_t dft_length, ScalarInt(ctx, 1, "dft_length"));
  FRT_ASSIGN_OR_RETURN(int64_t rate, ScalarInt(ctx, 2, "sample_rate"));
  if (ctx.input(3).num_elements() != 1 || ctx.input(4).num_elements() != 1) {
    return ctx.Error(StatusCode::kInvalidModel,
                     "lower_edge_hertz and upper_edge_hertz must be scalars");
  }
  const double lower = ctx.input(3).GetAsDouble(0), upper = ctx.input(4).GetAsDouble(0);
  if (mels <= 0 || dft_length <= 0 || rate <= 0) {
    return ctx.Error(StatusCode::kInvalidModel, "num_mel_bins (", mels, "), dft_length (",
                     dft_length, ") and sample_rate (", rate, ") must be positive");
  }
  const int64_t bins = dft_length / 2 + 1;
  int64_t total = 0;
  if (__builtin_mul_overflow(bins, mels, &total)) total = -1;
  FRT_RETURN_IF_ERROR(MiscCheckScratch(ctx, total));
  auto to_mel = [](double hz) { return 2595.0 * std::log1p(hz / 700.0) / std::log(10.0); };
  const double low_mel = to_mel(lower), high_mel = to_mel(upper);
  const double step = (high_mel - low_mel) / static_cast<double>(mels + 2);
  std::vector<int64_t> edge(static_cast<size_t>(mels + 2));
  for (int64_t i = 0; i < mels + 2; ++i) {
    const double mel = static_cast<double>(i) * step + low_mel;
    const double hz = 700.0 * std::expm1(mel / 2595.0 * std::log(10.0));
    const double bin =
        std::floor(static_cast<double>(dft_length + 1) * hz / static_cast<double>(rate));
    if (!(bin >= 0.0 && bin < static_cast<double>(bins))) {
      return ctx.Error(StatusCode::kOutOfRange, "mel band edge ", i, " (", hz,
                       " Hz) falls outside the ", bins,
                       " spectrogram bins; check the edge "
                       "frequencies against sample_rate / 2");
    }
    edge[i] = static_cast<int64_t>(bin);
  }
  std::vector<double> w(static_cast<size_t>(total), 0.0);
  for (int64_t i = 0; i < mels; ++i) {
    const int64_t left = edge[i], center = edge[i + 1], right = edge[i + 2];
    if (center == left) {
      w[center * mels + i] = 1.0;
    } else {
      for (int64_t j = left; j <= center; ++j) {
        w[j * mels + i] = static_cast<double>(j - left) / static_cast<double>(center - left);
      }
    }
    for (int64_t j = center; j < right; ++j) {
      w[j * mels + i] = static_cast<double>(right - j) / static_cast<double>(right - center);
    }
  }
  return StoreResult(ctx, {bins, mels}, w);
}

}  // namespace

void RegisterMiscSignalKernels(CpuKernelRegistry& r) {
  r.Register(OpKind::kHannWindow, HannKernel);
  r.Register(OpKind::kHammingWindow, HammingKernel);
  r.Register(OpKind::kBlackmanWindow, BlackmanKernel);
  r.Register(OpKind::kMelWeightMatrix, MelWeightMatrixKernel);
}

}  // namespace frt
