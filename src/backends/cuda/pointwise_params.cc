// Broadcast planning of the pointwise CUDA kernels (see pointwise_params.h
// for the algorithm). Host code only.
#include "backends/cuda/pointwise_params.h"

#include <algorithm>

#include "core/shape.h"

namespace frt::cuda_pointwise {

Result<BroadcastPlan> PlanBroadcast(const Dims& out, std::span<const Dims> inputs) {
  const size_t rank = out.size();
  const size_t num = inputs.size();
  BroadcastPlan plan;
  FRT_ASSIGN_OR_RETURN(plan.n, NumElements(out));
  // Right-aligned strides of every input on the output's dims.
  std::vector<Dims> full(num, Dims(rank, 0));
  for (size_t k = 0; k < num; ++k) {
    const Dims& in = inputs[k];
    if (in.size() > rank) {
      return MakeError(StatusCode::kInvalidArgument, "input ", k, " has shape ", DimsToString(in),
                       " of higher rank than the output ", DimsToString(out));
    }
    int64_t stride = 1;
    for (size_t j = in.size(); j-- > 0;) {
      const size_t d = j + (rank - in.size());
      if (in[j] != out[d] && in[j] != 1) {
        return MakeError(StatusCode::kInvalidArgument, "input ", k, " of shape ", DimsToString(in),
                         " does not broadcast onto the output shape ", DimsToString(out));
      }
      full[k][d] = in[j] == 1 ? 0 : stride;
      stride *= in[j];
    }
  }
  // Drop size-1 output dims, then merge each dim into the previous kept one
  // when every input allows it.
  Dims dims;
  std::vector<Dims> strides(num);
  for (size_t d = 0; d < rank; ++d) {
    if (out[d] == 1) continue;
    bool merge = !dims.empty();
    for (size_t k = 0; k < num && merge; ++k) {
      merge = strides[k].back() == full[k][d] * out[d];
    }
    if (merge) {
      dims.back() *= out[d];
      for (size_t k = 0; k < num; ++k) strides[k].back() = full[k][d];
    } else {
      dims.push_back(out[d]);
      for (size_t k = 0; k < num; ++k) strides[k].push_back(full[k][d]);
    }
  }
  if (dims.empty()) {  // a scalar output (or all dims 1): one element
    dims.push_back(1);
    for (size_t k = 0; k < num; ++k) strides[k].push_back(0);
  }
  if (dims.size() > static_cast<size_t>(kMaxRank)) {
    return MakeError(StatusCode::kUnsupported, "broadcasting onto ", DimsToString(out), " needs ",
                     dims.size(),
                     " dims after merging, but the cuda pointwise "
                     "kernels handle at most ",
                     kMaxRank);
  }
  plan.rank = static_cast<int>(dims.size());
  // Flat-path classification from the coalesced strides.
  const int r = plan.rank;
  Dims contiguous(dims.size(), 1);
  for (int d = r - 1; d > 0; --d) contiguous[d - 1] = contiguous[d] * dims[d];
  plan.flat = true;
  for (size_t k = 0; k < num; ++k) {
    const Dims& s = strides[k];
    InputMode mode = kGeneral;
    int64_t row = 0;
    if (s == contiguous || plan.n <= 1) {
      mode = kFull;
    } else if (std::all_of(s.begin(), s.end(), [](int64_t v) { return v == 0; })) {
      mode = kScalar;
    } else if (r == 2 && s[0] == 0 && s[1] == 1) {
      mode = kRow;
      row = dims[1];
    } else if (r == 2 && s[0] == 1 && s[1] == 0) {
      mode = kCol;
      row = dims[1];
    }
    plan.flat = plan.flat && mode != kGeneral;
    plan.modes.push_back(mode);
    plan.rows.push_back(row);
  }
  plan.dims = std::move(dims);
  plan.strides = std::move(strides);
  return plan;
}

bool CanVectorize(const BroadcastPlan& plan, int vec, std::span<const void* const> ptrs,
                  std::span<const int> elem_bytes) {
  if (!plan.flat || vec <= 1 || ptrs.size() != elem_bytes.size()) return false;
  for (size_t k = 0; k < plan.modes.size(); ++k) {
    if ((plan.modes[k] == kRow || plan.modes[k] == kCol) && plan.rows[k] % vec != 0) return false;
  }
  for (size_t i = 0; i < ptrs.size(); ++i) {
    const auto align = static_cast<uintptr_t>(vec) * static_cast<uintptr_t>(elem_bytes[i]);
    if (reinterpret_cast<uintptr_t>(ptrs[i]) % align != 0) return false;
  }
  return true;
}

int VectorWidth(std::span<const int> elem_bytes) {
  int widest = 1;
  for (int b : elem_bytes) widest = std::max(widest, b);
  return std::max(1, 16 / widest);
}

unsigned GridBlocks(int64_t work, int threads, int sm_count, int blocks_per_sm) {
  const int64_t needed = (work + threads - 1) / threads;
  const int64_t cap = static_cast<int64_t>(std::max(sm_count, 1)) * blocks_per_sm;
  return static_cast<unsigned>(std::clamp<int64_t>(std::min(needed, cap), 1, 1 << 30));
}

void FillArgs(const BroadcastPlan& plan, FusedArgs& a) {
  a.n = plan.n;
  a.rank = plan.rank;
  for (int d = 0; d < kMaxRank; ++d) a.dims[d] = d < plan.rank ? plan.dims[d] : 1;
  for (int k = 0; k < kMaxFusedInputs; ++k) {
    const bool used = static_cast<size_t>(k) < plan.modes.size();
    a.mode[k] = used ? plan.modes[k] : kScalar;
    a.row[k] = used ? plan.rows[k] : 0;
    for (int d = 0; d < kMaxRank; ++d) {
      a.strides[k][d] = used && d < plan.rank ? plan.strides[k][d] : 0;
    }
  }
}

}  // namespace frt::cuda_pointwise
