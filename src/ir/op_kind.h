// OpKind: the library-internal identity of an op. Strings stop at the importer.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace frt {

enum class OpKind : uint16_t {
#define FRT_OP(name) k##name,
#include "ir/op_list.inc"
#undef FRT_OP
  kNumOpKinds
};

std::string_view OpKindName(OpKind kind);
std::optional<OpKind> OpKindFromName(std::string_view name);

}  // namespace frt
