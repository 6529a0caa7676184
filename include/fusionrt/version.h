// FusionRT's version (kept equal to the CMake project version; a test checks).
#pragma once

namespace frt {

inline constexpr const char* kFusionRtVersion = "0.1.0";

}  // namespace frt
