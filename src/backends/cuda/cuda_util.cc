#include "backends/cuda/cuda_util.h"

#include <cublasLt.h>
#include <cudnn.h>
#include <nvrtc.h>

#include <mutex>

namespace frt {

Status CudaStatus(cudaError_t e, std::string_view what) {
  if (e == cudaSuccess) return Status::Ok();
  cudaGetLastError();  // clear a non-sticky error so later calls do not report it again
  StatusCode code =
      e == cudaErrorMemoryAllocation ? StatusCode::kResourceExhausted : StatusCode::kInternal;
  return MakeError(code, what, ": ", cudaGetErrorName(e), " (", cudaGetErrorString(e), ")");
}

bool CudaDeviceAvailable() {
  static const bool available = [] {
    int count = 0;
    if (cudaGetDeviceCount(&count) != cudaSuccess) {
      cudaGetLastError();
      return false;
    }
    return count > 0;
  }();
  return available;
}

int CudaSmCount() {
  static const int count = [] {
    int device = 0, sms = 0;
    if (cudaGetDevice(&device) != cudaSuccess ||
        cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device) != cudaSuccess) {
      cudaGetLastError();
      return 1;
    }
    return sms;
  }();
  return count;
}

static std::string VersionString(int v, int major_div, int minor_div, int minor_mod) {
  return StrCat(v / major_div, ".", (v / minor_div) % minor_mod, ".", v % minor_div);
}

Result<TargetInfo> CurrentCudaTarget() {
  if (!CudaDeviceAvailable()) {
    return MakeError(StatusCode::kUnsupported, "no CUDA device is visible to this process");
  }
  int device = 0;
  FRT_CUDA_RETURN_IF_ERROR(cudaGetDevice(&device));
  cudaDeviceProp prop{};
  FRT_CUDA_RETURN_IF_ERROR(cudaGetDeviceProperties(&prop, device));
  TargetInfo t;
  t.backend = "cuda";
  t.device_name = prop.name;
  t.compute_capability = prop.major * 10 + prop.minor;
  int runtime = 0;
  FRT_CUDA_RETURN_IF_ERROR(cudaRuntimeGetVersion(&runtime));
  t.library_versions["cudart"] = StrCat(runtime / 1000, ".", (runtime % 1000) / 10);
  // cuBLASLt: major*10000 + minor*100 + patch; cuDNN 9: major*10000 + minor*100 + patch.
  t.library_versions["cublasLt"] = VersionString(static_cast<int>(cublasLtGetVersion()), 10000,
                                                 100, 100);
  t.library_versions["cudnn"] = VersionString(static_cast<int>(cudnnGetVersion()), 10000, 100, 100);
  int nv_major = 0, nv_minor = 0;
  if (nvrtcVersion(&nv_major, &nv_minor) == NVRTC_SUCCESS) {
    t.library_versions["nvrtc"] = StrCat(nv_major, ".", nv_minor);
  }
  return t;
}

Result<DeviceBuffer> DeviceBuffer::Allocate(size_t bytes, std::string_view what) {
  DeviceBuffer b;
  FRT_RETURN_IF_ERROR(b.Reserve(bytes, what));
  return b;
}

Status DeviceBuffer::Reserve(size_t bytes, std::string_view what) {
  if (bytes <= size_) return Status::Ok();
  Reset();
  void* p = nullptr;
  cudaError_t e = cudaMalloc(&p, bytes);
  if (e != cudaSuccess) {
    cudaGetLastError();
    return MakeError(StatusCode::kResourceExhausted, "cannot allocate ", bytes,
                     " bytes of device memory for ", what, ": ", cudaGetErrorString(e));
  }
  data_ = p;
  size_ = bytes;
  return Status::Ok();
}

void DeviceBuffer::Reset() {
  if (data_ != nullptr) cudaFree(data_);
  data_ = nullptr;
  size_ = 0;
}

}  // namespace frt
