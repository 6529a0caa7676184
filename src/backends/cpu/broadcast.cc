#include "backends/cpu/broadcast.h"

namespace frt {

Dims RowMajorStrides(const Dims& dims) {
  Dims s(dims.size(), 1);
  for (size_t d = dims.size(); d-- > 1;) s[d - 1] = s[d] * dims[d];
  return s;
}

Dims BroadcastStrides(const Dims& in, const Dims& out) {
  Dims s(out.size(), 0);
  Dims in_strides = RowMajorStrides(in);
  size_t lead = out.size() - in.size();
  for (size_t d = 0; d < in.size(); ++d) {
    s[lead + d] = in[d] == 1 ? 0 : in_strides[d];
  }
  return s;
}

}  // namespace frt
