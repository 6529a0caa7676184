// Internal to the misc op family's schemas (src/ir/ops/misc*.cc): the
// per-concept registration functions called by RegisterMiscOps and the small
// inference helpers they share (dtype checks, reading scalar inputs).
#pragma once

#include <optional>
#include <string_view>

#include "ir/infer_helpers.h"
#include "ir/op_registry.h"

namespace frt {

void RegisterMiscResizeOps(OpRegistry& r);      // misc_resize.cc (Resize)
void RegisterMiscGridSampleOps(OpRegistry& r);  // misc_grid_sample.cc (GridSample)
void RegisterMiscRnnOps(OpRegistry& r);         // misc_rnn.cc (RNN, GRU, LSTM)
void RegisterMiscDetectionOps(OpRegistry& r);   // misc_detection.cc (RoiAlign, MaxRoiPool, NMS)
void RegisterMiscSignalOps(OpRegistry& r);      // misc_signal.cc (windows, DFT, STFT, mel)

// f16, bf16, f32, f64: the float types these ops compute on (no fp8).
bool IsMiscFloat(DType t);
// Any numeric type: every float (no fp8) and integer type; not bool.
bool IsMiscNumeric(DType t);
bool IsMiscIndex(DType t);  // int32 or int64

// Checks input i (when present) satisfies `ok`; the error says `what` was required.
Status MiscRequireDType(const InferContext& ctx, size_t i, std::string_view name, bool (*ok)(DType),
                        std::string_view what);
// Checks input i (when present and of known rank) has rank `rank`.
Status MiscRequireRank(const InferContext& ctx, size_t i, std::string_view name, size_t rank);
// Checks input i (when present and of known shape) is a scalar or holds one
// element (or none, when `allow_empty`: an empty tensor standing for "absent").
Status MiscRequireScalar(const InferContext& ctx, size_t i, std::string_view name,
                         bool allow_empty = false);

// The single integer held by input i when its value is known, else nullopt.
std::optional<int64_t> MiscKnownScalarInt(const InferContext& ctx, size_t i);
// The single float held by input i (any float type) when known, else nullopt.
std::optional<double> MiscKnownScalarFloat(const InferContext& ctx, size_t i);

// Both dims static and different.
inline bool MiscDimsConflict(const Dim& a, const Dim& b) {
  return a.is_static() && b.is_static() && a.value() != b.value();
}

inline constexpr std::string_view kMiscFloatTypes = "a float type (f16, bf16, f32, f64)";

}  // namespace frt
