#include "ir/op_kind.h"

#include <array>

namespace frt {
namespace {
constexpr std::array<std::string_view, static_cast<size_t>(OpKind::kNumOpKinds)> kNames = {
#define FRT_OP(name) #name,
#include "ir/op_list.inc"
#undef FRT_OP
};
}  // namespace

std::string_view OpKindName(OpKind kind) {
  size_t i = static_cast<size_t>(kind);
  return i < kNames.size() ? kNames[i] : std::string_view("<invalid op>");
}

std::optional<OpKind> OpKindFromName(std::string_view name) {
  for (size_t i = 0; i < kNames.size(); ++i) {
    if (kNames[i] == name) return static_cast<OpKind>(i);
  }
  return std::nullopt;
}

}  // namespace frt
