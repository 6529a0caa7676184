// ONNX import rules of the elementwise family. The IR holds each op's latest
// semantics (up to opset 21); adapters rewrite the older forms:
//  - opset 1 `consumed_inputs` (a memory-planning hint of Caffe2) is dropped.
//  - Selu before opset 6 had rounded defaults (alpha 1.6732, gamma 1.0507);
//    they become explicit attributes.
//  - Add/Sub/Mul/Div/Pow/And/Or/Xor/Equal/Greater/Less before opset 7 used
//    "limited broadcast": with broadcast=1, B's shape matches a contiguous run
//    of A's dims starting at `axis` (suffix matching without `axis`). Numpy
//    broadcasting aligns trailing dims, so the adapter gives B trailing unit
//    dims: a constant B is reshaped at import; any other B goes through an
//    Unsqueeze node with constant axes; when a rank is unknown at import
//    (intermediate values), small shape arithmetic in the graph computes B's
//    new shape (Shape, Sub, ConstantOfShape, Concat, Reshape), which constant
//    folding removes once shapes are known. Why a rewrite and not an attribute
//    the kernel understands: the IR keeps ONE meaning per op, so no backend
//    kernel or fusion pass can forget a mode flag.
//  - PRelu before opset 7 applied a 1-D slope [C] along the channel axis 1;
//    the slope gets trailing unit dims the same way.
//  - Clip before opset 11: the `min`/`max` attributes become scalar inputs of
//    X's dtype (a CastLike of an f32 constant when X's dtype is not known at
//    import). An absent attribute means no bound (the old defaults were
//    -FLT_MAX/FLT_MAX, which only differ for f64 values beyond float range).
//  - Cast: `to` (a TensorProto type code, a type name before opset 6) becomes
//    the frt::DType code, stored as int64.
#include "onnx/import_context.h"
#include "onnx/import_families.h"
#include "onnx/onnx_types.h"

namespace frt {
namespace {

Status ImportDroppingConsumedInputs(ImportContext& ctx) {
  const OpKind kind = ctx.kind();
  Attributes attrs = ctx.attrs();
  attrs.Erase("consumed_inputs");
  return ctx.Emit(kind, ctx.inputs(), ctx.outputs(), std::move(attrs)).status();
}

Status ImportLegacySelu(ImportContext& ctx) {
  Attributes attrs = ctx.attrs();
  attrs.Erase("consumed_inputs");
  if (!attrs.Has("alpha")) attrs.Set("alpha", 1.6732f);
  if (!attrs.Has("gamma")) attrs.Set("gamma", 1.0507f);
  return ctx.Emit(OpKind::kSelu, ctx.inputs(), ctx.outputs(), std::move(attrs)).status();
}

// True when every dim of v is known to be 1 (a scalar or 1-element tensor):
// such a value broadcasts the same under the legacy and the numpy rules.
bool IsKnownSingleElement(const Value* v) {
  if (!v->shape) return false;
  for (const Dim& d : v->shape->dims()) {
    if (!d.is_static() || d.value() != 1) return false;
  }
  return true;
}

// v with `count` unit dims appended: a reshaped constant, or an Unsqueeze node.
Result<Value*> AppendUnitDims(ImportContext& ctx, Value* v, int64_t count) {
  if (count == 0) return v;
  auto rank = static_cast<int64_t>(v->shape->rank());
  if (v->constant && !v->is_graph_input) {  // a fed graph input may replace an initializer
    Dims dims = v->constant->dims();
    dims.resize(dims.size() + static_cast<size_t>(count), 1);
    return ctx.AddConstant(v->constant->Reshaped(dims), "legacy_broadcast");
  }
  std::vector<int64_t> axes;
  for (int64_t i = 0; i < count; ++i) axes.push_back(rank + i);
  FRT_ASSIGN_OR_RETURN(Value * axes_value,
                       ctx.AddConstant(Tensor::FromVector<int64_t>(axes, {count}), "axes"));
  FRT_ASSIGN_OR_RETURN(Value * out, ctx.AddTemp("legacy_broadcast"));
  FRT_RETURN_IF_ERROR(
      ctx.Emit(OpKind::kUnsqueeze, {v, axes_value}, {out}, {}, "legacy_broadcast").status());
  return out;
}

// Emits one helper node with a single new output.
Result<Value*> EmitHelper(ImportContext& ctx, OpKind op, std::vector<Value*> inputs,
                          Attributes attrs, std::string_view hint) {
  FRT_ASSIGN_OR_RETURN(Value * out, ctx.AddTemp(hint));
  FRT_RETURN_IF_ERROR(ctx.Emit(op, std::move(inputs), {out}, std::move(attrs), hint).status());
  return out;
}

// B reshaped to shape(B) ++ [1] * (rank(A) - axis - rank(B)), computed in the
// graph (Shape, Sub, ConstantOfShape, Concat, Reshape) because a rank is not
// known at import; constant folding removes these nodes once shapes are known.
Result<Value*> AlignAtAxisInGraph(ImportContext& ctx, Value* a, Value* b, int64_t axis) {
  FRT_ASSIGN_OR_RETURN(Value * shape_b, EmitHelper(ctx, OpKind::kShape, {b}, {}, "shape_b"));
  FRT_ASSIGN_OR_RETURN(Value * rank_b, EmitHelper(ctx, OpKind::kShape, {shape_b}, {}, "rank_b"));
  Value* room = nullptr;  // rank(A) - axis: the dims from `axis` to the end of A
  if (axis < 0) {
    FRT_ASSIGN_OR_RETURN(room, ctx.AddInt64Constant({-axis}, "room"));
  } else {
    FRT_ASSIGN_OR_RETURN(Value * shape_a, EmitHelper(ctx, OpKind::kShape, {a}, {}, "shape_a"));
    FRT_ASSIGN_OR_RETURN(Value * rank_a, EmitHelper(ctx, OpKind::kShape, {shape_a}, {}, "rank_a"));
    FRT_ASSIGN_OR_RETURN(Value * axis_value, ctx.AddInt64Constant({axis}, "axis"));
    FRT_ASSIGN_OR_RETURN(room, EmitHelper(ctx, OpKind::kSub, {rank_a, axis_value}, {}, "room"));
  }
  FRT_ASSIGN_OR_RETURN(Value * count,
                       EmitHelper(ctx, OpKind::kSub, {room, rank_b}, {}, "unit_dims"));
  Attributes fill;
  fill.Set("value", Tensor::FromVector<int64_t>({1}, {1}));
  FRT_ASSIGN_OR_RETURN(Value * ones,
                       EmitHelper(ctx, OpKind::kConstantOfShape, {count}, fill, "ones"));
  Attributes concat;
  concat.Set("axis", int64_t{0});
  FRT_ASSIGN_OR_RETURN(Value * target,
                       EmitHelper(ctx, OpKind::kConcat, {shape_b, ones}, concat, "target"));
  Attributes reshape;
  reshape.Set("allowzero", int64_t{1});  // the target holds B's own dims, zeros included
  return EmitHelper(ctx, OpKind::kReshape, {b, target}, reshape, "legacy_broadcast");
}

// Aligns B with A's dims [axis, axis + rank(B)) under numpy broadcasting.
Result<Value*> AlignAtAxis(ImportContext& ctx, Value* a, Value* b, int64_t axis) {
  if (IsKnownSingleElement(b)) return b;
  if (!a->shape || !b->shape) return AlignAtAxisInGraph(ctx, a, b, axis);
  auto rank_a = static_cast<int64_t>(a->shape->rank());
  auto rank_b = static_cast<int64_t>(b->shape->rank());
  if (axis < 0) axis += rank_a;
  if (axis < 0 || axis + rank_b > rank_a) {
    return ctx.Error(StatusCode::kInvalidModel, "axis ", axis, " does not place input 1 (rank ",
                     rank_b, ") inside input 0 (rank ", rank_a, ")");
  }
  return AppendUnitDims(ctx, b, rank_a - axis - rank_b);
}

Status ImportLegacyBroadcast(ImportContext& ctx) {
  const OpKind kind = ctx.kind();
  Attributes attrs = ctx.attrs();
  bool broadcast = attrs.GetInt("broadcast", 0) != 0;
  bool has_axis = attrs.Has("axis");
  int64_t axis = attrs.GetInt("axis", 0);
  for (const char* legacy : {"broadcast", "axis", "consumed_inputs"}) attrs.Erase(legacy);
  std::vector<Value*> inputs = ctx.inputs();
  // Without broadcast=1 the shapes must be equal, and without `axis` B's dims
  // are a suffix of A's: numpy broadcasting agrees in both cases.
  if (broadcast && has_axis && inputs.size() == 2 && inputs[0] && inputs[1]) {
    FRT_ASSIGN_OR_RETURN(inputs[1], AlignAtAxis(ctx, inputs[0], inputs[1], axis));
  }
  return ctx.Emit(kind, std::move(inputs), ctx.outputs(), std::move(attrs)).status();
}

Status ImportLegacyPRelu(ImportContext& ctx) {
  Attributes attrs = ctx.attrs();
  attrs.Erase("consumed_inputs");
  std::vector<Value*> inputs = ctx.inputs();
  if (inputs.size() == 2 && inputs[0] && inputs[1] && !IsKnownSingleElement(inputs[1])) {
    Value* slope = inputs[1];
    const Value* x = inputs[0];
    // A per-channel slope [C] applies along axis 1, which is the last axis of
    // a rank-2 input; other slope shapes already broadcast from the trailing dims.
    bool x_beyond_2d = !x->shape || x->shape->rank() > 2;
    if (slope->shape && slope->shape->rank() == 1 && x_beyond_2d) {
      FRT_ASSIGN_OR_RETURN(inputs[1], AlignAtAxis(ctx, inputs[0], slope, 1));
    }
  }
  return ctx.Emit(OpKind::kPRelu, std::move(inputs), ctx.outputs(), std::move(attrs)).status();
}

Status ImportClipAttributes(ImportContext& ctx) {
  if (ctx.num_inputs() != 1 || !ctx.input(0)) {
    return ctx.Error(StatusCode::kInvalidModel, "takes 1 input before opset 11, got ",
                     ctx.num_inputs());
  }
  Value* x = ctx.input(0);
  Attributes attrs = ctx.attrs();
  std::vector<Value*> inputs = {x, nullptr, nullptr};
  const char* names[] = {"min", "max"};
  for (size_t i = 0; i < 2; ++i) {
    if (!attrs.Has(names[i])) continue;
    FRT_ASSIGN_OR_RETURN(inputs[i + 1], ctx.AddScalarLike(attrs.GetFloat(names[i]), x, names[i]));
    attrs.Erase(names[i]);
  }
  attrs.Erase("consumed_inputs");
  while (inputs.back() == nullptr) inputs.pop_back();
  return ctx.Emit(OpKind::kClip, std::move(inputs), ctx.outputs(), std::move(attrs)).status();
}

Status ImportCast(ImportContext& ctx) {
  Attributes attrs = ctx.attrs();
  if (!attrs.Has("to")) return ctx.Error(StatusCode::kInvalidModel, "attribute `to` is missing");
  int32_t onnx_type = 0;
  std::string name = attrs.GetString("to");
  if (!name.empty()) {  // Cast-1: a type name such as "FLOAT"
    onnx::TensorProto_DataType parsed = onnx::TensorProto::UNDEFINED;
    if (!onnx::TensorProto_DataType_Parse(name, &parsed)) {
      return ctx.Error(StatusCode::kInvalidModel, "attribute `to` is \"", name,
                       "\", which is not an ONNX tensor type name");
    }
    onnx_type = parsed;
  } else {
    onnx_type = static_cast<int32_t>(attrs.GetInt("to"));
  }
  auto dtype = DTypeFromOnnx(onnx_type);
  if (!dtype.ok()) {
    return ctx.Error(dtype.status().code(), "cannot cast to ONNX type ", onnx_type, ": ",
                     dtype.status().message());
  }
  attrs.Set("to", static_cast<int64_t>(*dtype));
  return ctx.Emit(OpKind::kCast, ctx.inputs(), ctx.outputs(), std::move(attrs)).status();
}

void AddRule(ImportRuleRegistry& r, OpKind kind, int min_opset, int max_opset, ImportFn fn) {
  r.Add({OpKindName(kind), min_opset, max_opset, kind, fn});
}

}  // namespace

void RegisterElementwiseImports(ImportRuleRegistry& r) {
  // Ops whose opset-1 form only differs by `consumed_inputs`.
  for (OpKind k : {OpKind::kAbs, OpKind::kCeil, OpKind::kExp, OpKind::kFloor, OpKind::kLog,
                   OpKind::kNeg, OpKind::kReciprocal, OpKind::kSqrt, OpKind::kTanh,
                   OpKind::kSigmoid, OpKind::kRelu, OpKind::kElu, OpKind::kHardSigmoid,
                   OpKind::kLeakyRelu, OpKind::kMin, OpKind::kMax, OpKind::kSum, OpKind::kMean}) {
    AddRule(r, k, 1, 5, ImportDroppingConsumedInputs);
    r.AddDirect(k, 6);
  }
  AddRule(r, OpKind::kSelu, 1, 5, ImportLegacySelu);
  r.AddDirect(OpKind::kSelu, 6);
  for (OpKind k : {OpKind::kSoftplus, OpKind::kSoftsign, OpKind::kNot}) r.AddDirect(k, 1);
  for (OpKind k :
       {OpKind::kAcos, OpKind::kAsin, OpKind::kAtan, OpKind::kCos, OpKind::kSin, OpKind::kTan}) {
    r.AddDirect(k, 7);
  }
  for (OpKind k : {OpKind::kAcosh, OpKind::kAsinh, OpKind::kAtanh, OpKind::kCosh, OpKind::kSinh,
                   OpKind::kErf, OpKind::kSign, OpKind::kIsNaN, OpKind::kShrink, OpKind::kWhere}) {
    r.AddDirect(k, 9);
  }
  for (OpKind k : {OpKind::kIsInf, OpKind::kThresholdedRelu, OpKind::kMod}) r.AddDirect(k, 10);
  r.AddDirect(OpKind::kRound, 11);
  r.AddDirect(OpKind::kBitShift, 11);
  for (OpKind k : {OpKind::kCelu, OpKind::kGreaterOrEqual, OpKind::kLessOrEqual}) {
    r.AddDirect(k, 12);
  }
  r.AddDirect(OpKind::kHardSwish, 14);
  r.AddDirect(OpKind::kCastLike, 15);
  r.AddDirect(OpKind::kMish, 18);

  for (OpKind k :
       {OpKind::kAdd, OpKind::kSub, OpKind::kMul, OpKind::kDiv, OpKind::kPow, OpKind::kAnd,
        OpKind::kOr, OpKind::kXor, OpKind::kEqual, OpKind::kGreater, OpKind::kLess}) {
    AddRule(r, k, 1, 6, ImportLegacyBroadcast);
    r.AddDirect(k, 7);
  }
  AddRule(r, OpKind::kPRelu, 1, 6, ImportLegacyPRelu);
  r.AddDirect(OpKind::kPRelu, 7);
  AddRule(r, OpKind::kClip, 1, 10, ImportClipAttributes);
  r.AddDirect(OpKind::kClip, 11);
  AddRule(r, OpKind::kCast, 1, kMaxSupportedOpset, ImportCast);
}

}  // namespace frt
