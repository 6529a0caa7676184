// Host tensors. A Tensor is a dtype, a concrete shape and a byte buffer that
// is either owned (shared, reference counted, 64-byte aligned) or a view over
// caller memory (the caller keeps it alive and unchanged while in use).
//
// Thread safety: const access from many threads is safe; copies share the
// buffer (shallow), so writing through one copy is visible in the others.
#pragma once

#include <cstddef>
#include <memory>
#include <span>

#include "core/dtype.h"
#include "core/shape.h"

namespace frt {

// Upper bound on one host allocation made on behalf of a model (bytes).
// Guards against hostile shapes; configurable via SetHostAllocationLimit().
size_t HostAllocationLimit();
void SetHostAllocationLimit(size_t bytes);

class Tensor {
 public:
  Tensor() = default;

  // Zero-initialized owned tensor. Fails on bad dims or beyond the allocation limit.
  static Result<Tensor> Allocate(DType dtype, const Dims& dims);
  // Non-owning view; `data` must hold num_elements * DTypeSize(dtype) bytes.
  static Tensor View(DType dtype, Dims dims, void* data);
  // Owned scalar / 1-D helpers for tests and constants.
  template <class T>
  static Tensor FromVector(const std::vector<T>& values, Dims dims);

  DType dtype() const { return dtype_; }
  const Dims& dims() const { return dims_; }
  size_t rank() const { return dims_.size(); }
  int64_t num_elements() const { return num_elements_; }
  size_t nbytes() const { return static_cast<size_t>(num_elements_) * DTypeSize(dtype_); }
  bool defined() const { return dtype_ != DType::kUndefined; }

  void* raw() { return data_.get(); }
  const void* raw() const { return data_.get(); }
  template <class T>
  T* data() { return static_cast<T*>(raw()); }
  template <class T>
  const T* data() const { return static_cast<const T*>(raw()); }
  template <class T>
  std::span<T> span() { return {data<T>(), static_cast<size_t>(num_elements_)}; }
  template <class T>
  std::span<const T> span() const { return {data<T>(), static_cast<size_t>(num_elements_)}; }

  // Element i converted to double (any dtype).
  double GetAsDouble(int64_t i) const;
  // Reads an integer tensor (any integer dtype) into int64 values.
  Result<std::vector<int64_t>> ToInt64Vector() const;
  // Same shape, new metadata over the same buffer. Precondition: same element count.
  Tensor Reshaped(Dims dims) const;
  // Deep copy into an owned buffer.
  Result<Tensor> Clone() const;
  // "f32[2,3]"
  std::string Describe() const;

 private:
  DType dtype_ = DType::kUndefined;
  Dims dims_;
  int64_t num_elements_ = 0;
  std::shared_ptr<std::byte> data_;
};

template <class T>
Tensor Tensor::FromVector(const std::vector<T>& values, Dims dims) {
  Tensor t = Allocate(DTypeOf<T>(), dims).value();
  for (size_t i = 0; i < values.size() && i < static_cast<size_t>(t.num_elements()); ++i) {
    t.data<T>()[i] = values[i];
  }
  return t;
}

}  // namespace frt
