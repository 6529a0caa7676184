// Whole-tensor element conversions shared by reference kernels that compute
// in double.
#pragma once

#include <vector>

#include "core/tensor.h"

namespace frt {

// Every element of `t` (any dtype) as a double; exact for all types up to
// 32-bit integers and for int64 values within 2^53.
std::vector<double> ToDoubles(const Tensor& t);

}  // namespace frt
