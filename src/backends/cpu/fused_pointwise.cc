// CPU reference kernels of Gelu, Swish, RMSNormalization and FusedPointwise
// (docs/fused_ops.md). Gelu, Swish and RMSNormalization compute in double
// and round once on store. FusedPointwise interprets its program
// (ir/ops/fused_pointwise.h) once per output element: the inputs are read
// through broadcast offsets into the first registers, every instruction
// computes one double from its operands with the same formula as the unfused
// op's reference kernel and rounds it to its register's dtype, exactly as
// that kernel rounds its output; the last register is the output. So the
// fused op is bit-identical to the chain it replaced. Bool registers hold 0
// or 1.
#include <cmath>
#include <numbers>

#include "backends/cpu/elementwise_kernels.h"
#include "backends/cpu/kernel_families.h"
#include "ir/ops/fused_pointwise.h"

namespace frt {
namespace {

using elementwise::ConvertValue;
using elementwise::OutputTensor;

double Sigmoid(double x) {  // never exponentiates a large positive number
  return x >= 0 ? 1 / (1 + std::exp(-x)) : std::exp(x) / (1 + std::exp(x));
}
double Softplus(double x) { return x > 0 ? x + std::log1p(std::exp(-x)) : std::log1p(std::exp(x)); }
double Gelu(double x) { return 0.5 * x * (1 + std::erf(x / std::numbers::sqrt2)); }
double GeluTanh(double x) {
  const double k = std::sqrt(2 / std::numbers::pi);
  return 0.5 * x * (1 + std::tanh(k * (x + 0.044715 * x * x * x)));
}

std::vector<double> AsDoubles(const Tensor& t) {
  std::vector<double> v(static_cast<size_t>(t.num_elements()));
  VisitDType(t.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* p = t.data<T>();
    for (size_t i = 0; i < v.size(); ++i) v[i] = ToDouble(p[i]);
  });
  return v;
}

void StoreDoubles(const std::vector<double>& v, Tensor& t) {
  VisitDType(t.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    T* p = t.data<T>();
    for (size_t i = 0; i < v.size(); ++i) p[i] = ConvertValue<T>(v[i]);
  });
}

// Applies a double -> double function elementwise; output has X's dtype.
template <class F>
Status UnaryKernel(KernelContext& ctx, F&& f) {
  const Tensor& x = ctx.input(0);
  std::vector<double> v = AsDoubles(x);
  for (double& e : v) e = f(e);
  FRT_ASSIGN_OR_RETURN(Tensor * out, OutputTensor(ctx, 0, x.dtype(), x.dims()));
  StoreDoubles(v, *out);
  return Status::Ok();
}

Status GeluKernel(KernelContext& ctx) {
  std::string approx = ctx.attrs().GetString("approximate", "none");
  if (approx == "tanh") return UnaryKernel(ctx, GeluTanh);
  if (approx != "none") {
    return ctx.Error(StatusCode::kInvalidModel, "approximate is \"", approx,
                     "\" but must be \"none\" or \"tanh\"");
  }
  return UnaryKernel(ctx, Gelu);
}

Status SwishKernel(KernelContext& ctx) {
  double alpha = ctx.attrs().GetFloat("alpha", 1.0f);
  return UnaryKernel(ctx, [alpha](double x) { return x * Sigmoid(alpha * x); });
}

// RMSNormalization-23: y = x / sqrt(mean(x^2 over dims [axis, rank)) + eps) * scale.
Status RmsNormKernel(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  const Tensor& scale = ctx.input(1);
  auto axis = NormalizeAxis(ctx.attrs().GetInt("axis", -1), static_cast<int64_t>(x.rank()));
  if (!axis.ok()) return ctx.Error(StatusCode::kOutOfRange, axis.status().message());
  double eps = ctx.attrs().GetFloat("epsilon", 1e-5f);
  Dims norm_dims(x.dims().begin() + *axis, x.dims().end());
  auto ok = BroadcastDims(scale.dims(), norm_dims);
  if (!ok.ok() || *ok != norm_dims) {
    return ctx.Error(StatusCode::kInvalidArgument, "scale has shape ",
                     DimsToString(scale.dims()), " which does not broadcast onto ",
                     DimsToString(norm_dims));
  }
  int64_t cols = 1;
  for (int64_t d : norm_dims) cols *= d;
  int64_t rows = cols == 0 ? 0 : x.num_elements() / cols;
  std::vector<double> xv = AsDoubles(x);
  // Scale expanded to one value per normalized position.
  std::vector<double> sv(static_cast<size_t>(cols));
  {
    BroadcastIterator<1> it(norm_dims, {BroadcastStrides(scale.dims(), norm_dims)});
    for (int64_t c = 0; c < cols; ++c, it.Next()) sv[c] = scale.GetAsDouble(it.offset(0));
  }
  for (int64_t r = 0; r < rows; ++r) {
    double* row = xv.data() + r * cols;
    double sq = 0;
    for (int64_t c = 0; c < cols; ++c) sq += row[c] * row[c];
    double inv = 1 / std::sqrt(sq / static_cast<double>(cols) + eps);
    for (int64_t c = 0; c < cols; ++c) row[c] = row[c] * inv * sv[c];
  }
  FRT_ASSIGN_OR_RETURN(Tensor * out, OutputTensor(ctx, 0, scale.dtype(), x.dims()));
  StoreDoubles(xv, *out);
  return Status::Ok();
}

// Rounds `v` to dtype `t` and back, as a kernel storing `v` into a `t`
// tensor does (bool: != 0, so NaN is true).
double RoundTo(double v, DType t) {
  switch (t) {
    case DType::kFloat64: return v;
    case DType::kFloat32: return static_cast<double>(static_cast<float>(v));
    default:
      return VisitDType(t, [&](auto tag) -> double {
        using T = typename decltype(tag)::type;
        return ToDouble(ConvertValue<T>(v));
      });
  }
}

double Step(const pointwise::Instruction& ins, const std::vector<double>& r,
            const std::vector<float>& params) {
  using pointwise::Opcode;
  const double x = r[ins.a];
  const double y = ins.b >= 0 ? r[ins.b] : 0;
  switch (ins.op) {
    case Opcode::kIdentity: return x;
    case Opcode::kNeg: return -x;
    case Opcode::kAbs: return std::fabs(x);
    case Opcode::kExp: return std::exp(x);
    case Opcode::kLog: return std::log(x);
    case Opcode::kSqrt: return std::sqrt(x);
    case Opcode::kReciprocal: return 1 / x;
    case Opcode::kErf: return std::erf(x);
    case Opcode::kTanh: return std::tanh(x);
    case Opcode::kSigmoid: return Sigmoid(x);
    case Opcode::kRelu: return x > 0 ? x : 0.0;  // NaN -> 0, as the Relu reference kernel
    case Opcode::kGelu: return Gelu(x);
    case Opcode::kGeluTanh: return GeluTanh(x);
    case Opcode::kFloor: return std::floor(x);
    case Opcode::kCeil: return std::ceil(x);
    case Opcode::kSin: return std::sin(x);
    case Opcode::kCos: return std::cos(x);
    case Opcode::kSoftplus: return Softplus(x);
    case Opcode::kMish: return x * std::tanh(Softplus(x));
    case Opcode::kNot: return x == 0 ? 1.0 : 0.0;
    case Opcode::kIsNaN: return std::isnan(x) ? 1.0 : 0.0;
    case Opcode::kSwish: return x * Sigmoid(params[ins.b] * x);
    case Opcode::kLeakyRelu: return x >= 0 ? x : params[ins.b] * x;
    case Opcode::kCast: return x;  // the rounding to the target follows in RoundTo
    case Opcode::kAdd: return x + y;
    case Opcode::kSub: return x - y;
    case Opcode::kMul: return x * y;
    case Opcode::kDiv: return x / y;
    case Opcode::kPow: return std::pow(x, y);
    case Opcode::kMax: return std::isnan(x) || std::isnan(y) ? x + y : std::max(x, y);
    case Opcode::kMin: return std::isnan(x) || std::isnan(y) ? x + y : std::min(x, y);
    case Opcode::kEqual: return x == y;
    case Opcode::kLess: return x < y;
    case Opcode::kLessOrEqual: return x <= y;
    case Opcode::kGreater: return x > y;
    case Opcode::kGreaterOrEqual: return x >= y;
    case Opcode::kAnd: return x != 0 && y != 0;
    case Opcode::kOr: return x != 0 || y != 0;
    case Opcode::kXor: return (x != 0) != (y != 0);
    case Opcode::kWhere: return x != 0 ? y : r[ins.c];
    case Opcode::kClip: {  // ONNX Clip: lower bound first, so max wins when min > max
      double v = x;
      if (ins.b >= 0 && v < r[ins.b]) v = r[ins.b];
      if (ins.c >= 0 && v > r[ins.c]) v = r[ins.c];
      return v;
    }
  }
  return std::nan("");  // unreachable: DecodeProgram rejects unknown opcodes
}

Status FusedPointwiseKernel(KernelContext& ctx) {
  const size_t n_in = ctx.num_inputs();
  std::vector<DType> dtypes(n_in);
  Dims out_dims;
  for (size_t i = 0; i < n_in; ++i) {
    if (!ctx.has_input(i)) return ctx.Error(StatusCode::kInvalidArgument, "input ", i, " absent");
    dtypes[i] = ctx.input(i).dtype();
    auto b = BroadcastDims(out_dims, ctx.input(i).dims());
    if (!b.ok()) {
      return ctx.Error(StatusCode::kInvalidArgument, "input ", i, " of shape ",
                       DimsToString(ctx.input(i).dims()), " does not broadcast: ",
                       b.status().message());
    }
    out_dims = *b;
  }
  FRT_ASSIGN_OR_RETURN(pointwise::Program program, pointwise::DecodeProgram(ctx.node(), dtypes));
  std::vector<std::vector<double>> in(n_in);
  std::vector<Dims> strides(n_in);
  for (size_t i = 0; i < n_in; ++i) {
    in[i] = AsDoubles(ctx.input(i));
    strides[i] = BroadcastStrides(ctx.input(i).dims(), out_dims);
  }
  FRT_ASSIGN_OR_RETURN(int64_t n, NumElements(out_dims));
  std::vector<double> result(static_cast<size_t>(n));
  std::vector<double> regs(program.reg_dtypes.size());
  // Row-major walk with one flat offset per input (a BroadcastIterator of
  // run-time width).
  Dims index(out_dims.size(), 0);
  std::vector<int64_t> offset(n_in, 0);
  for (int64_t e = 0; e < n; ++e) {
    for (size_t i = 0; i < n_in; ++i) regs[i] = in[i][offset[i]];
    for (const pointwise::Instruction& ins : program.code) {
      regs[ins.dst] = RoundTo(Step(ins, regs, program.params), program.reg_dtypes[ins.dst]);
    }
    result[e] = regs.back();
    for (size_t d = out_dims.size(); d-- > 0;) {
      if (++index[d] < out_dims[d]) {
        for (size_t i = 0; i < n_in; ++i) offset[i] += strides[i][d];
        break;
      }
      for (size_t i = 0; i < n_in; ++i) offset[i] -= strides[i][d] * (out_dims[d] - 1);
      index[d] = 0;
    }
  }
  FRT_ASSIGN_OR_RETURN(Tensor * out, OutputTensor(ctx, 0, program.output_dtype, out_dims));
  StoreDoubles(result, *out);
  return Status::Ok();
}

}  // namespace

void RegisterFusedPointwiseKernels(CpuKernelRegistry& r) {
  r.Register(OpKind::kGelu, GeluKernel);
  r.Register(OpKind::kSwish, SwishKernel);
  r.Register(OpKind::kRMSNormalization, RmsNormKernel);
  r.Register(OpKind::kFusedPointwise, FusedPointwiseKernel);
}

}  // namespace frt
