// Schemas of the recurrent ops RNN, GRU and LSTM (ONNX opset 14 semantics,
// with `layout`), and ReadRnnAttrs (misc_rnn.h), shared with the kernel.
// Shapes, with D = num_directions and H = hidden_size (layout 0 / layout 1):
//   X [seq, batch, input] / [batch, seq, input]; W [D, G*H, input];
//   R [D, G*H, H]; B [D, 2*G*H]; sequence_lens [batch];
//   initial_h, initial_c [D, batch, H] / [batch, D, H]; P [D, 3*H];
//   Y [seq, D, batch, H] / [batch, seq, D, H]; Y_h, Y_c like initial_h.
#include "ir/ops/misc_rnn.h"

#include <cctype>
#include <string>

#include "ir/ops/misc_schema_util.h"

namespace frt {
namespace {

struct ActivationInfo {
  const char* name;
  RnnActivationKind kind;
  bool uses_alpha;
  bool uses_beta;
  double default_alpha;  // the defaults of the ONNX operators of the same name
  double default_beta;
};

constexpr ActivationInfo kActivations[] = {
    {"relu", RnnActivationKind::kRelu, false, false, 0.0, 0.0},
    {"tanh", RnnActivationKind::kTanh, false, false, 0.0, 0.0},
    {"sigmoid", RnnActivationKind::kSigmoid, false, false, 0.0, 0.0},
    {"affine", RnnActivationKind::kAffine, true, true, 1.0, 0.0},
    {"leakyrelu", RnnActivationKind::kLeakyRelu, true, false, 0.01, 0.0},
    {"thresholdedrelu", RnnActivationKind::kThresholdedRelu, true, false, 1.0, 0.0},
    {"scaledtanh", RnnActivationKind::kScaledTanh, true, true, 1.0, 1.0},
    {"hardsigmoid", RnnActivationKind::kHardSigmoid, true, true, 0.2, 0.5},
    {"elu", RnnActivationKind::kElu, true, false, 1.0, 0.0},
    {"softsign", RnnActivationKind::kSoftsign, false, false, 0.0, 0.0},
    {"softplus", RnnActivationKind::kSoftplus, false, false, 0.0, 0.0},
};

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

struct CellInfo {
  int gates;
  int activations;
  std::vector<std::string> default_activations;
};

CellInfo CellOf(OpKind op) {
  if (op == OpKind::kGRU) return {3, 2, {"Sigmoid", "Tanh"}};
  if (op == OpKind::kLSTM) return {4, 3, {"Sigmoid", "Tanh", "Tanh"}};
  return {1, 1, {"Tanh"}};
}

}  // namespace

Result<RnnAttrs> ReadRnnAttrs(const Node& node) {
  const Attributes& at = node.attrs;
  auto error = [&](StatusCode code, auto... args) {
    return MakeError(code, node.Describe(), ": ", args...);
  };
  RnnAttrs a;
  const CellInfo cell = CellOf(node.op);
  a.gates = cell.gates;
  a.activations_per_dir = cell.activations;
  const std::string direction = at.GetString("direction", "forward");
  if (direction == "forward") {
    a.direction = RnnDirection::kForward;
  } else if (direction == "reverse") {
    a.direction = RnnDirection::kReverse;
  } else if (direction == "bidirectional") {
    a.direction = RnnDirection::kBidirectional;
    a.num_directions = 2;
  } else {
    return error(StatusCode::kInvalidModel, "direction \"", direction,
                 "\" is not one of forward, reverse, bidirectional");
  }
  if (at.Has("hidden_size")) {
    a.hidden_size = at.GetInt("hidden_size");
    if (a.hidden_size <= 0) {
      return error(StatusCode::kInvalidModel, "hidden_size is ", a.hidden_size,
                   " but must be positive");
    }
  }
  a.layout = at.GetInt("layout", 0);
  if (a.layout != 0 && a.layout != 1) {
    return error(StatusCode::kInvalidModel, "layout is ", a.layout, " but must be 0 or 1");
  }
  if (at.Has("clip")) {
    a.clip = at.GetFloat("clip");
    if (!(*a.clip > 0.0)) {
      return error(StatusCode::kInvalidModel, "clip is ", *a.clip, " but must be positive");
    }
  }
  const int64_t lbr = at.GetInt("linear_before_reset", 0);
  const int64_t input_forget = at.GetInt("input_forget", 0);
  if ((lbr != 0 && lbr != 1) || (input_forget != 0 && input_forget != 1)) {
    return error(StatusCode::kInvalidModel, "linear_before_reset (", lbr, ") and input_forget (",
                 input_forget, ") must be 0 or 1");
  }
  a.linear_before_reset = lbr == 1;
  a.input_forget = input_forget == 1;

  std::vector<std::string> names =
      at.Has("activations") ? at.GetStrings("activations") : cell.default_activations;
  const size_t per_dir = static_cast<size_t>(cell.activations);
  if (names.size() != per_dir && names.size() != per_dir * a.num_directions) {
    return error(StatusCode::kInvalidModel, "activations has ", names.size(), " entries but needs ",
                 per_dir, " per direction (", per_dir * a.num_directions, " for ", a.num_directions,
                 " direction(s))");
  }
  // alpha and beta values are consumed in the order of the activations that use them.
  const std::vector<float> alphas = at.GetFloats("activation_alpha");
  const std::vector<float> betas = at.GetFloats("activation_beta");
  size_t next_alpha = 0, next_beta = 0;
  for (const std::string& name : names) {
    const std::string key = Lower(name);
    const ActivationInfo* info = nullptr;
    for (const auto& k : kActivations) {
      if (key == k.name) info = &k;
    }
    if (!info) {
      return error(StatusCode::kUnsupported, "activation \"", name,
                   "\" is not supported (expected Relu, Tanh, Sigmoid, Affine, LeakyRelu, "
                   "ThresholdedRelu, ScaledTanh, HardSigmoid, Elu, Softsign or Softplus)");
    }
    RnnActivation f;
    f.kind = info->kind;
    f.alpha = info->default_alpha;
    f.beta = info->default_beta;
    if (info->uses_alpha && next_alpha < alphas.size()) f.alpha = alphas[next_alpha++];
    if (info->uses_beta && next_beta < betas.size()) f.beta = betas[next_beta++];
    a.activations.push_back(f);
  }
  if (a.activations.size() == per_dir && a.num_directions == 2) {
    for (size_t i = 0; i < per_dir; ++i) a.activations.push_back(a.activations[i]);
  }
  return a;
}

namespace {

// Checks input i (when present with known shape) against `want` (unknown dims match anything).
Status CheckShape(const InferContext& ctx, size_t i, const char* name,
                  const std::vector<Dim>& want) {
  if (!ctx.has_input(i) || !ctx.input_shape(i)) return Status::Ok();
  const Shape& s = *ctx.input_shape(i);
  bool ok = s.rank() == want.size();
  for (size_t d = 0; ok && d < want.size(); ++d) ok = !MiscDimsConflict(s[d], want[d]);
  if (ok) return Status::Ok();
  return ctx.Error(StatusCode::kInvalidModel, "input ", i, " (", name, ") has shape ", s.ToString(),
                   " but must be ", Shape(want).ToString());
}

Dim Times(int64_t k, const Dim& d) { return d.is_static() ? Dim(k * d.value()) : Dim(); }

Status InferRecurrent(InferContext& ctx) {
  FRT_RETURN_IF_ERROR(MiscRequireDType(ctx, 0, "X", IsMiscFloat, kMiscFloatTypes));
  FRT_RETURN_IF_ERROR(CheckSameDTypes(ctx, 0, 3));
  for (size_t i = 5; i < ctx.num_inputs(); ++i) {
    if (ctx.has_input(i) && ctx.input_dtype(i) != ctx.input_dtype(0)) {
      return ctx.Error(StatusCode::kInvalidModel, "input ", i, " has dtype ",
                       DTypeName(ctx.input_dtype(i)), " but X has ", DTypeName(ctx.input_dtype(0)),
                       "; they must match");
    }
  }
  FRT_RETURN_IF_ERROR(MiscRequireDType(ctx, 4, "sequence_lens", IsMiscIndex, "int32 or int64"));
  FRT_ASSIGN_OR_RETURN(RnnAttrs a, ReadRnnAttrs(ctx.node()));
  const DType dtype = ctx.input_dtype(0);
  const Dim dirs(a.num_directions);

  // Dims from X (seq, batch, input) and the hidden size from the attribute or R.
  Dim seq, batch, input, hidden;
  if (const Shape* xs = ctx.input_shape(0)) {
    if (xs->rank() != 3) {
      return ctx.Error(StatusCode::kInvalidModel, "X has shape ", xs->ToString(),
                       " but must have rank 3");
    }
    seq = (*xs)[a.layout == 0 ? 0 : 1];
    batch = (*xs)[a.layout == 0 ? 1 : 0];
    input = (*xs)[2];
  }
  if (a.hidden_size > 0) {
    hidden = Dim(a.hidden_size);
  } else if (ctx.input_shape(2) && ctx.input_shape(2)->rank() == 3) {
    hidden = (*ctx.input_shape(2))[2];
  }
  const int64_t g = a.gates;
  FRT_RETURN_IF_ERROR(CheckShape(ctx, 1, "W", {dirs, Times(g, hidden), input}));
  FRT_RETURN_IF_ERROR(CheckShape(ctx, 2, "R", {dirs, Times(g, hidden), hidden}));
  FRT_RETURN_IF_ERROR(CheckShape(ctx, 3, "B", {dirs, Times(2 * g, hidden)}));
  FRT_RETURN_IF_ERROR(CheckShape(ctx, 4, "sequence_lens", {batch}));
  const std::vector<Dim> state =
      a.layout == 0 ? std::vector<Dim>{dirs, batch, hidden} : std::vector<Dim>{batch, dirs, hidden};
  FRT_RETURN_IF_ERROR(CheckShape(ctx, 5, "initial_h", state));
  if (ctx.node().op == OpKind::kLSTM) {
    FRT_RETURN_IF_ERROR(CheckShape(ctx, 6, "initial_c", state));
    FRT_RETURN_IF_ERROR(CheckShape(ctx, 7, "P", {dirs, Times(3, hidden)}));
  }
  const std::vector<Dim> y = a.layout == 0 ? std::vector<Dim>{seq, dirs, batch, hidden}
                                           : std::vector<Dim>{batch, seq, dirs, hidden};
  ctx.SetOutput(0, dtype, Shape(y));
  for (size_t i = 1; i < ctx.num_outputs(); ++i) ctx.SetOutput(i, dtype, Shape(state));
  return Status::Ok();
}

}  // namespace

void RegisterMiscRnnOps(OpRegistry& r) {
  r.Register(
      {OpKind::kRNN, FusionKind::kOpaque, PrecisionPolicy::kNever, 3, 6, 0, 2, InferRecurrent});
  r.Register(
      {OpKind::kGRU, FusionKind::kOpaque, PrecisionPolicy::kNever, 3, 6, 0, 2, InferRecurrent});
  r.Register(
      {OpKind::kLSTM, FusionKind::kOpaque, PrecisionPolicy::kNever, 3, 8, 0, 3, InferRecurrent});
}

}  // namespace frt
