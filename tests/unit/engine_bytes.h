// Test helpers that edit engine-file bytes in place (header fields are
// little-endian at the offsets in src/engine/engine_format.h) and re-seal the
// header checksum, so a test can corrupt exactly one thing.
#pragma once

#include <cstdint>
#include <vector>

#include "engine/checksum.h"
#include "engine/engine_format.h"

namespace frt::testing_util {

inline uint64_t Le64(const std::vector<uint8_t>& b, size_t at) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | b[at + i];
  return v;
}
inline void PutLe32(std::vector<uint8_t>& b, size_t at, uint32_t v) {
  for (int i = 0; i < 4; ++i) b[at + i] = static_cast<uint8_t>(v >> (8 * i));
}
inline void PutLe64(std::vector<uint8_t>& b, size_t at, uint64_t v) {
  for (int i = 0; i < 8; ++i) b[at + i] = static_cast<uint8_t>(v >> (8 * i));
}
inline void FixHeaderCrc(std::vector<uint8_t>& b) {
  PutLe32(b, kHeaderChecksumOffset, Crc32c({b.data(), kHeaderChecksumOffset}));
}

}  // namespace frt::testing_util
