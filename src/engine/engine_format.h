// The FusionRT engine file: a Plan (plan.h) on disk. Layout, checks and version
// policy are specified in docs/engine_format.md; in short:
//   [64-byte header][FlatBuffers metadata (engine.fbs)][pad][weights, 256-aligned]
// The header carries CRC-32C checksums of itself and of both sections; the
// reader verifies sizes, checksums and the FlatBuffer before reading any field,
// then checks every index, reference and name in the metadata, so a corrupt or
// hostile file yields a kInvalidEngine error, never a crash.
//
// Thread safety: all functions are reentrant; distinct calls may run
// concurrently. Host byte order must be little-endian (checked at compile time).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engine/plan.h"

namespace frt {

inline constexpr uint32_t kEngineFormatVersion = 1;

// Fixed header, little-endian; byte offsets of its fields (docs/engine_format.md).
inline constexpr std::string_view kEngineMagic{"FRTENGN\0", 8};
inline constexpr size_t kEngineHeaderSize = 64;
inline constexpr size_t kHeaderVersionOffset = 8;          // u32 format version
inline constexpr size_t kHeaderSizeOffset = 12;            // u32 header size
inline constexpr size_t kHeaderMetadataOffsetOffset = 16;  // u64 metadata offset
inline constexpr size_t kHeaderMetadataSizeOffset = 24;    // u64 metadata size
inline constexpr size_t kHeaderWeightsOffsetOffset = 32;   // u64 weights offset
inline constexpr size_t kHeaderWeightsSizeOffset = 40;     // u64 weights size
inline constexpr size_t kHeaderChecksumOffset = 48;        // u32 CRC-32C of bytes [0, 48)
inline constexpr size_t kMetadataChecksumOffset = 52;      // u32 CRC-32C of the metadata
inline constexpr size_t kWeightsChecksumOffset = 56;       // u32 CRC-32C of the weights
// Bytes [60, 64) are reserved and must be zero.

// Alignment of the weights section and of every tensor in it (file offsets).
inline constexpr uint64_t kWeightAlignment = 256;

// Serializes the plan into engine-file bytes. Deterministic: equal plans give
// equal bytes (values and nodes in creation order, maps sorted). Fails
// (kInvalidArgument) on a plan it cannot represent: no graph, no profile, a
// node input/output or graph input/output that is not a value of its graph, a
// step naming a node outside the graph, a tactic name outside the grammar, a
// constant of undefined dtype, over 1 GiB of tactic data. Semantic checks that
// need the whole plan (step order, profile names) are left to the reader.
// Tensors sharing one buffer (same data pointer and size) are stored once.
Result<std::vector<uint8_t>> WriteEngine(const Plan& plan);

// Parses and verifies engine bytes. The returned Plan's weight tensors
// (constants and tensor attributes) are views into one copy of `bytes` in a
// 256-byte aligned buffer that the Plan keeps alive through Plan::storage; no
// per-weight copies. `bytes` is only read during the call. `source` names the
// file in error messages. Errors: kInvalidEngine for anything malformed,
// kResourceExhausted when the file is larger than HostAllocationLimit().
Result<Plan> ReadEngine(std::span<const uint8_t> bytes, const std::string& source);

// Reads the file straight into the aligned buffer (one copy), then as ReadEngine.
// kNotFound / kIoError when the file cannot be opened or read.
Result<Plan> ReadEngineFile(const std::string& path);

// Writes WriteEngine(plan) to "<path>.tmp.<pid>.<n>", flushes it to disk, then
// renames it over `path`, so readers never see a half-written engine.
Status WriteEngineFile(const Plan& plan, const std::string& path);

// Checks that an engine built for `built_for` can run on `host` (the caller
// passes the host's target): same backend; for cuda also the same compute
// capability and, for every library the engine lists, a host version with the
// same major number. kInvalidEngine naming `source` otherwise.
Status CheckTarget(const TargetInfo& built_for, const TargetInfo& host, const std::string& source);

// Tactic-name grammar: <backend>.<kernel>[.<variant>], each part [A-Za-z0-9_]+
// ("cpu.reference", "cuda.cublaslt.algo12").
bool IsValidTacticName(std::string_view tactic);

// "cuda (sm_90, NVIDIA H100 80GB HBM3)" or "cpu": how messages name a target.
std::string DescribeTarget(const TargetInfo& target);

}  // namespace frt
