// CPU reference kernels of the misc op family: the registration entry point
// and the double conversions shared by the concept files (misc_resize.cc,
// misc_grid_sample.cc, misc_rnn.cc, misc_detection.cc, misc_signal.cc, misc_dft.cc).
#include "backends/cpu/kernel_families.h"
#include "backends/cpu/misc_kernel_util.h"

namespace frt {

Status MiscCheckScratch(const KernelContext& ctx, int64_t elements) {
  if (elements < 0 || static_cast<uint64_t>(elements) > HostAllocationLimit() / sizeof(double)) {
    return ctx.Error(StatusCode::kResourceExhausted, "needs ", elements,
                     " doubles of scratch memory, above the host allocation limit of ",
                     HostAllocationLimit(), " bytes");
  }
  return Status::Ok();
}

void MiscStoreSaturated(Tensor& t, const std::vector<double>& v) {
  VisitDType(t.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    T* p = t.data<T>();
    for (size_t i = 0; i < v.size(); ++i) p[i] = MiscSaturate<T>(v[i]);
  });
}

void MiscStoreCast(Tensor& t, const std::vector<double>& v) {
  VisitDType(t.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    T* p = t.data<T>();
    for (size_t i = 0; i < v.size(); ++i) p[i] = MiscCast<T>(v[i]);
  });
}

void RegisterMiscKernels(CpuKernelRegistry& r) {
  RegisterMiscResizeKernels(r);
  RegisterMiscGridSampleKernels(r);
  RegisterMiscRnnKernels(r);
  RegisterMiscDetectionKernels(r);
  RegisterMiscSignalKernels(r);
  RegisterMiscDftKernels(r);
}

}  // namespace frt
