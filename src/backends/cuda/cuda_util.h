// CUDA runtime helpers: errors as Status values, an owning device buffer,
// and what the current device is. Host code only (no kernels here).
//
// Thread safety: free functions are thread safe; a DeviceBuffer is owned by
// one object at a time (move-only).
#pragma once

#include <cuda_runtime.h>

#include <string>
#include <utility>

#include "engine/plan.h"
#include "fusionrt/status.h"

namespace frt {

// Ok for cudaSuccess; otherwise kInternal "<what>: <error name> (<description>)".
// Also clears the runtime's sticky last-error state for non-sticky errors.
Status CudaStatus(cudaError_t e, std::string_view what);

#define FRT_CUDA_RETURN_IF_ERROR(expr) FRT_RETURN_IF_ERROR(::frt::CudaStatus((expr), #expr))

// True when the CUDA runtime sees at least one device (checked once).
bool CudaDeviceAvailable();
// Name, compute capability and library versions of the current device.
Result<TargetInfo> CurrentCudaTarget();
// Multiprocessor count of the current device (cached per process).
int CudaSmCount();

// Device memory owned by this object (cudaMalloc / cudaFree).
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  ~DeviceBuffer() { Reset(); }
  DeviceBuffer(DeviceBuffer&& o) noexcept
      : data_(std::exchange(o.data_, nullptr)), size_(std::exchange(o.size_, 0)) {}
  DeviceBuffer& operator=(DeviceBuffer&& o) noexcept {
    if (this != &o) {
      Reset();
      data_ = std::exchange(o.data_, nullptr);
      size_ = std::exchange(o.size_, 0);
    }
    return *this;
  }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;

  // kResourceExhausted naming `what` and the size when the device is out of memory.
  static Result<DeviceBuffer> Allocate(size_t bytes, std::string_view what);
  // Grows (never shrinks) to at least `bytes`; contents are not kept.
  Status Reserve(size_t bytes, std::string_view what);
  void Reset();

  void* data() const { return data_; }
  size_t size() const { return size_; }

 private:
  void* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace frt
