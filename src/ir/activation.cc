// Activation names <-> enum, the attribute reader/writer of fused nodes, and
// recognition of single-node activations. A table keeps each enum next to
// its spelling so that the two directions cannot disagree.
#include "ir/activation.h"

#include <limits>

namespace frt {
namespace {

struct NameRow {
  Activation kind;
  std::string_view name;
};

constexpr NameRow kNames[] = {
    {Activation::kNone, ""},     {Activation::kRelu, "relu"},
    {Activation::kClip, "clip"}, {Activation::kLeakyRelu, "leaky_relu"},
    {Activation::kGelu, "gelu"}, {Activation::kGeluTanh, "gelu_tanh"},
    {Activation::kSilu, "silu"}, {Activation::kSigmoid, "sigmoid"},
    {Activation::kTanh, "tanh"},
};

constexpr float kLeakyReluDefaultSlope = 0.01f;  // ONNX LeakyRelu's default alpha
constexpr float kInf = std::numeric_limits<float>::infinity();

// The single value of a Clip bound input: absent -> `absent`; a constant with
// one element -> its value; anything else (run-time value) -> nullopt.
std::optional<float> ClipBound(const Node& node, size_t i, float absent) {
  if (!node.has_input(i)) return absent;
  const Value* v = node.inputs[i];
  if (!v->constant || v->is_graph_input || v->constant->num_elements() != 1) return std::nullopt;
  return static_cast<float>(v->constant->GetAsDouble(0));
}

}  // namespace

std::string_view ActivationName(Activation a) {
  for (const NameRow& row : kNames) {
    if (row.kind == a) return row.name;
  }
  return "?";
}

std::optional<Activation> ActivationFromName(std::string_view name) {
  for (const NameRow& row : kNames) {
    if (row.name == name) return row.kind;
  }
  return std::nullopt;
}

Result<ActivationSpec> ReadActivation(const Node& node) {
  const std::string name = node.attrs.GetString("activation", "");
  std::optional<Activation> kind = ActivationFromName(name);
  if (!kind) {
    return MakeError(StatusCode::kInvalidModel, node.Describe(), ": activation is \"", name,
                     "\" but must be one of \"\", relu, clip, leaky_relu, "
                     "gelu, gelu_tanh, silu, "
                     "sigmoid, tanh");
  }
  ActivationSpec spec;
  spec.kind = *kind;
  if (spec.kind == Activation::kClip) {
    spec.alpha = node.attrs.GetFloat("activation_alpha", -kInf);
    spec.beta = node.attrs.GetFloat("activation_beta", kInf);
  } else if (spec.kind == Activation::kLeakyRelu) {
    spec.alpha = node.attrs.GetFloat("activation_alpha", kLeakyReluDefaultSlope);
  }
  return spec;
}

void WriteActivation(const ActivationSpec& spec, Attributes& attrs) {
  attrs.Erase("activation");
  attrs.Erase("activation_alpha");
  attrs.Erase("activation_beta");
  if (spec.kind == Activation::kNone) return;
  attrs.Set("activation", std::string(ActivationName(spec.kind)));
  if (spec.kind == Activation::kClip || spec.kind == Activation::kLeakyRelu) {
    attrs.Set("activation_alpha", spec.alpha);
  }
  if (spec.kind == Activation::kClip) attrs.Set("activation_beta", spec.beta);
}

std::optional<ActivationSpec> MatchActivationNode(const Node& node) {
  if (!node.has_input(0) || !node.has_output(0) || node.outputs.size() != 1) return std::nullopt;
  ActivationSpec spec;
  switch (node.op) {
    case OpKind::kRelu:
      spec.kind = Activation::kRelu;
      return spec;
    case OpKind::kSigmoid:
      spec.kind = Activation::kSigmoid;
      return spec;
    case OpKind::kTanh:
      spec.kind = Activation::kTanh;
      return spec;
    case OpKind::kLeakyRelu:
      spec.kind = Activation::kLeakyRelu;
      spec.alpha = node.attrs.GetFloat("alpha", kLeakyReluDefaultSlope);
      return spec;
    case OpKind::kClip: {
      std::optional<float> lo = ClipBound(node, 1, -kInf), hi = ClipBound(node, 2, kInf);
      if (!lo || !hi) return std::nullopt;
      spec.kind = Activation::kClip;
      spec.alpha = *lo;
      spec.beta = *hi;
      return spec;
    }
    case OpKind::kGelu: {
      const std::string approx = node.attrs.GetString("approximate", "none");
      if (approx != "none" && approx != "tanh") return std::nullopt;
      spec.kind = approx == "tanh" ? Activation::kGeluTanh : Activation::kGelu;
      return spec;
    }
    case OpKind::kSwish:
      if (node.attrs.GetFloat("alpha", 1.0f) != 1.0f) return std::nullopt;
      spec.kind = Activation::kSilu;
      return spec;
    default:
      return std::nullopt;
  }
}

}  // namespace frt
