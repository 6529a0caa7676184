// Index arithmetic shared by reference kernels: row-major strides and
// numpy broadcasting of an input onto an output shape.
#pragma once

#include <array>

#include "core/shape.h"

namespace frt {

// Row-major element strides of `dims`.
Dims RowMajorStrides(const Dims& dims);

// Strides for reading an input of shape `in` broadcast to `out`: 0 on
// broadcast (size-1 or missing leading) dimensions. Precondition: broadcastable.
Dims BroadcastStrides(const Dims& in, const Dims& out);

// Walks every output element in row-major order, tracking the flat offsets
// of N broadcast inputs. Usage:
//   BroadcastIterator<2> it(out_dims, {strides_a, strides_b});
//   for (int64_t i = 0; i < n; ++i, it.Next()) f(it.offset(0), it.offset(1));
template <size_t N>
class BroadcastIterator {
 public:
  BroadcastIterator(const Dims& out, std::array<Dims, N> strides)
      : out_(out), strides_(std::move(strides)), index_(out.size(), 0) {
    offsets_.fill(0);
  }
  int64_t offset(size_t k) const { return offsets_[k]; }
  void Next() {
    for (size_t d = out_.size(); d-- > 0;) {
      if (++index_[d] < out_[d]) {
        for (size_t k = 0; k < N; ++k) offsets_[k] += strides_[k][d];
        return;
      }
      for (size_t k = 0; k < N; ++k) offsets_[k] -= strides_[k][d] * (out_[d] - 1);
      index_[d] = 0;
    }
  }

 private:
  Dims out_;
  std::array<Dims, N> strides_;
  Dims index_;
  std::array<int64_t, N> offsets_;
};

}  // namespace frt
