// Reference kernels of the elementwise family's unary ops and the family's
// registration entry point. Math functions and activations are one table of
// double -> double functions (plus up to two float attributes with their ONNX
// defaults) served by one kernel; the few ops defined on integers (Abs, Neg,
// Sign, Relu) have exact integer paths so that int64 never detours through
// double.
#include <algorithm>

#include "backends/cpu/elementwise_kernels.h"
#include "backends/cpu/kernel_families.h"

namespace frt {
namespace elementwise {
namespace {

// The attributes of an activation, read once per node.
struct UnaryParams {
  double a = 0;
  double b = 0;
};
using UnaryFn = double (*)(double x, const UnaryParams& p);

struct UnaryDef {
  OpKind kind;
  UnaryFn fn;
  const char* attr_a = nullptr;  // attribute read into UnaryParams::a, with its default
  float default_a = 0;
  const char* attr_b = nullptr;
  float default_b = 0;
};

double Sigmoid(double x) {  // never exponentiates a large positive number
  return x >= 0 ? 1 / (1 + std::exp(-x)) : std::exp(x) / (1 + std::exp(x));
}
double Softplus(double x) {  // log(1 + e^x) without overflow
  return x > 0 ? x + std::log1p(std::exp(-x)) : std::log1p(std::exp(x));
}

double Shrink(double x, double lambd, double bias) {
  if (x < -lambd) return x + bias;
  if (x > lambd) return x - bias;
  return 0;
}

// Captureless lambdas keep each definition next to its ONNX name.
constexpr UnaryDef kUnaryDefs[] = {
    {OpKind::kAcos, [](double x, const UnaryParams&) { return std::acos(x); }},
    {OpKind::kAcosh, [](double x, const UnaryParams&) { return std::acosh(x); }},
    {OpKind::kAsin, [](double x, const UnaryParams&) { return std::asin(x); }},
    {OpKind::kAsinh, [](double x, const UnaryParams&) { return std::asinh(x); }},
    {OpKind::kAtan, [](double x, const UnaryParams&) { return std::atan(x); }},
    {OpKind::kAtanh, [](double x, const UnaryParams&) { return std::atanh(x); }},
    {OpKind::kCeil, [](double x, const UnaryParams&) { return std::ceil(x); }},
    {OpKind::kCos, [](double x, const UnaryParams&) { return std::cos(x); }},
    {OpKind::kCosh, [](double x, const UnaryParams&) { return std::cosh(x); }},
    {OpKind::kErf, [](double x, const UnaryParams&) { return std::erf(x); }},
    {OpKind::kExp, [](double x, const UnaryParams&) { return std::exp(x); }},
    {OpKind::kFloor, [](double x, const UnaryParams&) { return std::floor(x); }},
    {OpKind::kLog, [](double x, const UnaryParams&) { return std::log(x); }},
    {OpKind::kReciprocal, [](double x, const UnaryParams&) { return 1 / x; }},
    // nearbyint in the default rounding mode rounds halves to even, as ONNX asks.
    {OpKind::kRound, [](double x, const UnaryParams&) { return std::nearbyint(x); }},
    {OpKind::kSin, [](double x, const UnaryParams&) { return std::sin(x); }},
    {OpKind::kSinh, [](double x, const UnaryParams&) { return std::sinh(x); }},
    {OpKind::kSqrt, [](double x, const UnaryParams&) { return std::sqrt(x); }},
    {OpKind::kTan, [](double x, const UnaryParams&) { return std::tan(x); }},
    {OpKind::kTanh, [](double x, const UnaryParams&) { return std::tanh(x); }},
    {OpKind::kSigmoid, [](double x, const UnaryParams&) { return Sigmoid(x); }},
    {OpKind::kSoftplus, [](double x, const UnaryParams&) { return Softplus(x); }},
    {OpKind::kSoftsign, [](double x, const UnaryParams&) { return x / (1 + std::fabs(x)); }},
    {OpKind::kMish, [](double x, const UnaryParams&) { return x * std::tanh(Softplus(x)); }},
    {OpKind::kHardSwish,
     [](double x, const UnaryParams&) { return x * std::clamp(x / 6 + 0.5, 0.0, 1.0); }},
    {OpKind::kElu,
     [](double x, const UnaryParams& p) { return x >= 0 ? x : p.a * (std::exp(x) - 1); }, "alpha",
     1.0f},
    {OpKind::kCelu,
     [](double x, const UnaryParams& p) {
       return std::max(0.0, x) + std::min(0.0, p.a * (std::exp(x / p.a) - 1));
     },
     "alpha", 1.0f},
    {OpKind::kSelu,
     [](double x, const UnaryParams& p) { return p.b * (x > 0 ? x : p.a * (std::exp(x) - 1)); },
     "alpha", 1.67326319217681884765625f, "gamma", 1.05070102214813232421875f},
    {OpKind::kLeakyRelu, [](double x, const UnaryParams& p) { return x >= 0 ? x : p.a * x; },
     "alpha", 0.01f},
    {OpKind::kThresholdedRelu, [](double x, const UnaryParams& p) { return x > p.a ? x : 0.0; },
     "alpha", 1.0f},
    {OpKind::kHardSigmoid,
     [](double x, const UnaryParams& p) { return std::clamp(p.a * x + p.b, 0.0, 1.0); }, "alpha",
     0.2f, "beta", 0.5f},
    {OpKind::kShrink, [](double x, const UnaryParams& p) { return Shrink(x, p.a, p.b); }, "lambd",
     0.5f, "bias", 0.0f},
};

// kUnaryDefs indexed by OpKind, so that a kernel call finds its row in O(1).
const UnaryDef* FindUnaryDef(OpKind kind) {
  static const auto* index = [] {
    auto* table = new std::array<const UnaryDef*, static_cast<size_t>(OpKind::kNumOpKinds)>{};
    for (const UnaryDef& d : kUnaryDefs) (*table)[static_cast<size_t>(d.kind)] = &d;
    return table;
  }();
  return (*index)[static_cast<size_t>(kind)];
}

// One kernel for every row of kUnaryDefs. Integer inputs (Erf, Shrink) go
// through double and convert back with Cast semantics.
Status MathKernel(KernelContext& ctx) {
  const UnaryDef* def = FindUnaryDef(ctx.node().op);
  if (def == nullptr) return ctx.Error(StatusCode::kInternal, "no unary function for this op");
  UnaryParams p;
  if (def->attr_a) p.a = ctx.attrs().GetFloat(def->attr_a, def->default_a);
  if (def->attr_b) p.b = ctx.attrs().GetFloat(def->attr_b, def->default_b);
  const Tensor& x = ctx.input(0);
  FRT_ASSIGN_OR_RETURN(Tensor * out, OutputTensor(ctx, 0, x.dtype(), x.dims()));
  VisitDType(x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* px = x.data<T>();
    T* po = out->data<T>();
    for (int64_t i = 0; i < x.num_elements(); ++i) {
      po[i] = ConvertValue<T>(def->fn(ToDouble(px[i]), p));
    }
  });
  return Status::Ok();
}

// Ops with an exact integer definition: Op::Int(T) for integers, Op::Float(double).
template <class Op>
Status ExactUnaryKernel(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  FRT_ASSIGN_OR_RETURN(Tensor * out, OutputTensor(ctx, 0, x.dtype(), x.dims()));
  VisitDType(x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* px = x.data<T>();
    T* po = out->data<T>();
    for (int64_t i = 0; i < x.num_elements(); ++i) {
      if constexpr (kIsInt<T>) {
        po[i] = Op::Int(px[i]);
      } else {
        po[i] = ConvertValue<T>(Op::Float(ToDouble(px[i])));
      }
    }
  });
  return Status::Ok();
}

struct AbsOp {
  template <class T>
  static T Int(T x) {
    if constexpr (std::is_signed_v<T>) return x < 0 ? WrapNeg(x) : x;  // |INT_MIN| wraps
    return x;
  }
  static double Float(double x) { return std::fabs(x); }
};
struct NegOp {
  template <class T>
  static T Int(T x) {
    return WrapNeg(x);
  }
  static double Float(double x) { return -x; }
};
struct SignOp {
  template <class T>
  static T Int(T x) {
    if constexpr (std::is_signed_v<T>) return static_cast<T>((x > T{0}) - (x < T{0}));
    return static_cast<T>(x > T{0});
  }
  static double Float(double x) { return x > 0 ? 1.0 : x < 0 ? -1.0 : x; }  // keeps NaN and -0
};
struct ReluOp {
  template <class T>
  static T Int(T x) {
    return x > T{0} ? x : T{0};
  }
  static double Float(double x) { return x > 0 ? x : 0.0; }
};

// Ops with bool outputs. Pred is built from the node's attributes once and
// called with each input value converted to double (exact for every dtype
// these ops accept: floats, fp8 and bool).
template <class Pred>
Status PredicateKernel(KernelContext& ctx) {
  const Pred pred(ctx.attrs());
  const Tensor& x = ctx.input(0);
  FRT_ASSIGN_OR_RETURN(Tensor * out, OutputTensor(ctx, 0, DType::kBool, x.dims()));
  bool* po = out->data<bool>();
  VisitDType(x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* px = x.data<T>();
    for (int64_t i = 0; i < x.num_elements(); ++i) po[i] = pred(ToDouble(px[i]));
  });
  return Status::Ok();
}

struct IsNaNPred {
  explicit IsNaNPred(const Attributes&) {}
  bool operator()(double x) const { return std::isnan(x); }
};
struct IsInfPred {
  explicit IsInfPred(const Attributes& attrs)
      : positive(attrs.GetInt("detect_positive", 1) != 0),
        negative(attrs.GetInt("detect_negative", 1) != 0) {}
  bool operator()(double x) const { return std::isinf(x) && (x > 0 ? positive : negative); }
  bool positive;
  bool negative;
};
struct NotPred {
  explicit NotPred(const Attributes&) {}
  bool operator()(double x) const { return x == 0; }
};

}  // namespace

void RegisterUnaryKernels(CpuKernelRegistry& r) {
  for (const UnaryDef& d : kUnaryDefs) r.Register(d.kind, MathKernel);
  r.Register(OpKind::kAbs, ExactUnaryKernel<AbsOp>);
  r.Register(OpKind::kNeg, ExactUnaryKernel<NegOp>);
  r.Register(OpKind::kSign, ExactUnaryKernel<SignOp>);
  r.Register(OpKind::kRelu, ExactUnaryKernel<ReluOp>);
  r.Register(OpKind::kIsNaN, PredicateKernel<IsNaNPred>);
  r.Register(OpKind::kIsInf, PredicateKernel<IsInfPred>);
  r.Register(OpKind::kNot, PredicateKernel<NotPred>);
}

}  // namespace elementwise

void RegisterElementwiseKernels(CpuKernelRegistry& r) {
  elementwise::RegisterUnaryKernels(r);
  elementwise::RegisterBinaryKernels(r);
  elementwise::RegisterNaryKernels(r);
  elementwise::RegisterCastKernels(r);
}

}  // namespace frt
