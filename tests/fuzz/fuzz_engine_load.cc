// libFuzzer harness for the engine loader: bytes -> Engine::Deserialize ->
// every metadata query (io_tensors, FindTensor, layers, GetMemoryPlan and
// GetProfileShapes of every profile, description, weights_size) -> a context
// and the output shapes it infers -> Serialize and load again.
//
// Random bytes almost never carry valid CRC-32C checksums, which would stop
// the fuzzer at the header. So each input is loaded twice: as given, and with
// the header, metadata and weights checksums recomputed (when the section
// bounds in the header lie inside the input), which lets mutations reach the
// FlatBuffers verifier and the semantic checks behind it.
// Contract checked: success, or kInvalidEngine / kResourceExhausted.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "core/tensor.h"
#include "engine/checksum.h"
#include "engine/engine_format.h"
#include "fusionrt/builder.h"
#include "fusionrt/engine.h"

namespace {

constexpr size_t kAllocationLimit = size_t{256} << 20;

[[noreturn]] void Fail(const char* what, const frt::Status& s) {
  std::fprintf(stderr, "fuzz_engine_load: %s: %s\n", what, s.ToString().c_str());
  std::abort();
}

uint64_t Le(const std::vector<uint8_t>& b, size_t at, int n) {
  uint64_t v = 0;
  for (int i = n - 1; i >= 0; --i) v = (v << 8) | b[at + i];
  return v;
}
void PutLe32(std::vector<uint8_t>& b, size_t at, uint32_t v) {
  for (int i = 0; i < 4; ++i) b[at + i] = static_cast<uint8_t>(v >> (8 * i));
}

// Recomputes the three checksums; false when the header's section bounds do
// not lie inside the buffer (the reader rejects those before any checksum).
bool FixChecksums(std::vector<uint8_t>& b) {
  using namespace frt;
  if (b.size() < kEngineHeaderSize) return false;
  uint64_t mo = Le(b, kHeaderMetadataOffsetOffset, 8), ms = Le(b, kHeaderMetadataSizeOffset, 8);
  uint64_t wo = Le(b, kHeaderWeightsOffsetOffset, 8), ws = Le(b, kHeaderWeightsSizeOffset, 8);
  if (mo > b.size() || ms > b.size() - mo || wo > b.size() || ws > b.size() - wo) return false;
  PutLe32(b, kMetadataChecksumOffset, Crc32c({b.data() + mo, ms}));
  PutLe32(b, kWeightsChecksumOffset, Crc32c({b.data() + wo, ws}));
  PutLe32(b, kHeaderChecksumOffset, Crc32c({b.data(), kHeaderChecksumOffset}));
  return true;
}

void Exercise(const frt::Engine& engine) {
  size_t names = 0;
  for (const frt::TensorDesc& d : engine.io_tensors()) {
    if (engine.FindTensor(d.name) == nullptr) std::abort();
    names += d.name.size() + d.dims.size() + d.dim_names.size();
  }
  for (const frt::LayerInfo& l : engine.layers()) names += l.name.size() + l.inputs.size();
  names += engine.description().size() + engine.backend().size();
  (void)engine.weights_size();
  for (int p = -1; p <= engine.num_profiles(); ++p) {
    if (p >= 0 && p < engine.num_profiles()) {
      frt::MemoryPlanInfo m = engine.GetMemoryPlan(p);
      for (const frt::MemorySlotInfo& s : m.slots) {
        if (s.offset > m.arena_size || s.size > m.arena_size - s.offset) std::abort();
      }
    }
    for (const frt::TensorDesc& d : engine.io_tensors()) {
      auto r = engine.GetProfileShapes(p, d.name);
      if (r.ok() && (p < 0 || p >= engine.num_profiles())) std::abort();
    }
  }
  auto ctx = engine.CreateContext();
  if (ctx.ok()) {
    for (const frt::TensorDesc& d : engine.io_tensors()) (void)(*ctx)->GetTensorShape(d.name);
  }
  auto bytes = engine.Serialize();
  if (!bytes.ok()) Fail("a loaded engine does not serialize", bytes.status());
  auto again = frt::Engine::Deserialize(bytes->data(), bytes->size(), "reserialized");
  if (!again.ok()) Fail("a re-serialized engine does not load", again.status());
  if (names == SIZE_MAX) std::abort();  // keeps the reads above observable
}

void Load(const uint8_t* data, size_t size) {
  auto engine = frt::Engine::Deserialize(data, size, "fuzz.engine");
  if (engine.ok()) {
    Exercise(**engine);
    return;
  }
  frt::StatusCode c = engine.status().code();
  if (c != frt::StatusCode::kInvalidEngine && c != frt::StatusCode::kResourceExhausted) {
    Fail("unexpected error code", engine.status());
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  frt::SetHostAllocationLimit(kAllocationLimit);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Load(data, size);
  std::vector<uint8_t> fixed(data, data + size);
  if (FixChecksums(fixed)) Load(fixed.data(), fixed.size());
  return 0;
}
