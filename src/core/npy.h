// NumPy .npy files <-> host tensors (format versions 1.0, 2.0 and 3.0,
// C order, little-endian; the dtypes FusionRT knows). Reading checks the
// magic, the header, the declared shape against the allocation limit and the
// payload size against the file, so a hostile file yields an error.
#pragma once

#include <string>

#include "core/tensor.h"

namespace frt {

Result<Tensor> ReadNpy(const std::string& path);
Result<Tensor> ParseNpy(std::string_view bytes, const std::string& what);
Status WriteNpy(const std::string& path, const Tensor& t);

}  // namespace frt
