#include "runtime/cpu_context.h"

#include <new>

#include "engine/plan.h"

namespace frt {

void CpuExecutionContext::AlignedFree::operator()(std::byte* p) const {
  ::operator delete(p, std::align_val_t(kArenaAlignment));
}

CpuExecutionContext::CpuExecutionContext(std::shared_ptr<const Engine> engine)
    : ContextBase(std::move(engine)) {}

CpuExecutionContext::~CpuExecutionContext() = default;

Result<std::byte*> CpuExecutionContext::Arena() {
  FRT_ASSIGN_OR_RETURN(void* user, UserArena());
  if (user != nullptr) return static_cast<std::byte*>(user);
  uint64_t need = ArenaNeed();
  if (own_arena_size_ < need) {
    if (need > HostAllocationLimit()) {
      return MakeError(StatusCode::kResourceExhausted, "activation arena of ", need,
                       " bytes is above the host allocation limit of ", HostAllocationLimit());
    }
    own_arena_.reset(static_cast<std::byte*>(
        ::operator new(need, std::align_val_t(kArenaAlignment), std::nothrow)));
    own_arena_size_ = own_arena_ ? need : 0;
    if (!own_arena_) {
      return MakeError(StatusCode::kResourceExhausted, "cannot allocate an activation arena of ",
                       need, " bytes");
    }
  }
  return own_arena_.get();
}

Status CpuExecutionContext::Enqueue(void* stream) {
  if (stream != nullptr) {
    return MakeError(StatusCode::kInvalidArgument,
                     "Enqueue: the cpu backend runs synchronously; pass a null stream");
  }
  return Execute();
}

}  // namespace frt
