// CRC-32C (Castagnoli polynomial 0x1EDC6F41, reflected 0x82F63B78), the
// checksum of every engine-file section. Table-driven "slicing by 8": eight
// 256-entry tables computed at compile time let the loop consume 8 bytes per
// step, fast enough for multi-GiB weight sections without CPU-specific code.
//
// Thread safety: pure functions over constant tables; safe from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace frt {

// CRC-32C of `data`. Crc32c("123456789") == 0xE3069283 (the standard check value).
uint32_t Crc32c(std::span<const uint8_t> data);

// Continues a CRC over more data: Crc32cExtend(Crc32c(a), b) == Crc32c(a ++ b).
uint32_t Crc32cExtend(uint32_t crc, std::span<const uint8_t> data);

}  // namespace frt
