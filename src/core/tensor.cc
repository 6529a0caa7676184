#include "core/tensor.h"

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <new>

namespace frt {
namespace {
std::atomic<size_t> g_host_limit{size_t{16} << 30};  // 16 GiB
}  // namespace

size_t HostAllocationLimit() { return g_host_limit.load(); }
void SetHostAllocationLimit(size_t bytes) { g_host_limit.store(bytes); }

Result<Tensor> Tensor::Allocate(DType dtype, const Dims& dims) {
  if (dtype == DType::kUndefined) {
    return MakeError(StatusCode::kInvalidArgument, "cannot allocate a tensor of undefined dtype");
  }
  FRT_ASSIGN_OR_RETURN(int64_t n, NumElements(dims));
  size_t elem = DTypeSize(dtype);
  if (static_cast<uint64_t>(n) > HostAllocationLimit() / elem) {
    return MakeError(StatusCode::kResourceExhausted, "tensor ", DTypeName(dtype),
                     DimsToString(dims), " needs ", static_cast<uint64_t>(n) * elem,
                     " bytes, above the host allocation limit of ", HostAllocationLimit(),
                     " bytes");
  }
  size_t bytes = static_cast<size_t>(n) * elem;
  size_t rounded = (bytes + 63) / 64 * 64;
  void* p = std::aligned_alloc(64, rounded == 0 ? 64 : rounded);
  if (p == nullptr) {
    return MakeError(StatusCode::kResourceExhausted, "out of host memory allocating ", bytes,
                     " bytes");
  }
  std::memset(p, 0, rounded == 0 ? 64 : rounded);
  Tensor t;
  t.dtype_ = dtype;
  t.dims_ = dims;
  t.num_elements_ = n;
  t.data_ = std::shared_ptr<std::byte>(static_cast<std::byte*>(p), [](std::byte* q) { std::free(q); });
  return t;
}

Tensor Tensor::View(DType dtype, Dims dims, void* data) {
  Tensor t;
  t.dtype_ = dtype;
  t.num_elements_ = NumElements(dims).ok() ? *NumElements(dims) : 0;
  t.dims_ = std::move(dims);
  t.data_ = std::shared_ptr<std::byte>(static_cast<std::byte*>(data), [](std::byte*) {});
  return t;
}

double Tensor::GetAsDouble(int64_t i) const {
  return VisitDType(dtype_, [&](auto tag) -> double {
    using T = typename decltype(tag)::type;
    return ToDouble(data<T>()[i]);
  });
}

Result<std::vector<int64_t>> Tensor::ToInt64Vector() const {
  if (!IsInteger(dtype_)) {
    return MakeError(StatusCode::kInvalidArgument, "expected an integer tensor, got ", Describe());
  }
  std::vector<int64_t> out(static_cast<size_t>(num_elements_));
  VisitDType(dtype_, [&](auto tag) {
    using T = typename decltype(tag)::type;
    if constexpr (std::is_integral_v<T>) {
      for (int64_t i = 0; i < num_elements_; ++i) out[i] = static_cast<int64_t>(data<T>()[i]);
    }
  });
  return out;
}

Tensor Tensor::Reshaped(Dims dims) const {
  Tensor t = *this;
  t.dims_ = std::move(dims);
  return t;
}

Result<Tensor> Tensor::Clone() const {
  FRT_ASSIGN_OR_RETURN(Tensor t, Allocate(dtype_, dims_));
  if (nbytes() > 0) std::memcpy(t.raw(), raw(), nbytes());
  return t;
}

std::string Tensor::Describe() const { return StrCat(DTypeName(dtype_), DimsToString(dims_)); }

}  // namespace frt
