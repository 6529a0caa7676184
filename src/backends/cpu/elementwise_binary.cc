// Reference kernels of the elementwise family's binary broadcasting ops:
// arithmetic (exact and wrapping on integers, one rounding on floats), Pow
// with mixed base/exponent dtypes, Mod (numpy sign rules or C fmod),
// BitShift, logic, comparisons and PRelu.
#include <functional>

#include "backends/cpu/elementwise_kernels.h"

namespace frt::elementwise {
namespace {

// Op::Int(T, T) on integers, Op::Float(double, double) on float types; the
// output has the inputs' dtype. Params is built once from the attributes.
template <class Op>
Status ArithmeticKernel(KernelContext& ctx) {
  const typename Op::Params params(ctx.attrs());
  const Tensor& a = ctx.input(0);
  const Tensor& b = ctx.input(1);
  FRT_ASSIGN_OR_RETURN(Dims dims, BroadcastDims(a.dims(), b.dims()));
  FRT_ASSIGN_OR_RETURN(Tensor * out, OutputTensor(ctx, 0, a.dtype(), dims));
  VisitDType(a.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* pa = a.data<T>();
    const T* pb = b.data<T>();
    T* po = out->data<T>();
    ForEachBroadcast<2>(dims, {&a, &b}, [&](int64_t i, const std::array<int64_t, 2>& off) {
      if constexpr (kIsInt<T>) {
        po[i] = Op::Int(pa[off[0]], pb[off[1]], params);
      } else {
        po[i] = ConvertValue<T>(Op::Float(ToDouble(pa[off[0]]), ToDouble(pb[off[1]]), params));
      }
    });
  });
  return Status::Ok();
}

struct NoParams {
  explicit NoParams(const Attributes&) {}
};

struct AddOp {
  using Params = NoParams;
  template <class T>
  static T Int(T x, T y, const Params&) {
    return WrapAdd(x, y);
  }
  static double Float(double x, double y, const Params&) { return x + y; }
};
struct SubOp {
  using Params = NoParams;
  template <class T>
  static T Int(T x, T y, const Params&) {
    return WrapSub(x, y);
  }
  static double Float(double x, double y, const Params&) { return x - y; }
};
struct MulOp {
  using Params = NoParams;
  template <class T>
  static T Int(T x, T y, const Params&) {
    return WrapMul(x, y);
  }
  static double Float(double x, double y, const Params&) { return x * y; }
};
struct DivOp {
  using Params = NoParams;
  // Truncates toward zero (C++, ONNX Runtime). Division by zero has no
  // integer result; it is defined as 0 here rather than trapping.
  template <class T>
  static T Int(T x, T y, const Params&) {
    if (y == 0) return 0;
    if constexpr (std::is_signed_v<T>) {
      if (y == -1) return WrapNeg(x);  // INT_MIN / -1 overflows: wraps to INT_MIN
    }
    return static_cast<T>(x / y);
  }
  static double Float(double x, double y, const Params&) { return x / y; }
};

struct ModOp {
  struct Params {
    explicit Params(const Attributes& attrs) : fmod(attrs.GetInt("fmod", 0) != 0) {}
    bool fmod;
  };
  // fmod=0: the result takes the divisor's sign (numpy.mod, Python %);
  // fmod=1: the dividend's (C fmod). x mod 0 is 0, as numpy returns.
  template <class T>
  static T Int(T x, T y, const Params& p) {
    if (y == 0) return 0;
    if constexpr (std::is_signed_v<T>) {
      if (y == -1) return 0;  // avoids INT_MIN % -1 overflow
      T r = static_cast<T>(x % y);
      if (!p.fmod && r != 0 && ((r < 0) != (y < 0))) r = static_cast<T>(r + y);
      return r;
    }
    return static_cast<T>(x % y);
  }
  static double Float(double x, double y, const Params& p) {
    double r = std::fmod(x, y);
    if (!p.fmod && r != 0 && ((r < 0) != (y < 0))) r += y;
    return r;
  }
};

struct BitShiftOp {
  struct Params {
    explicit Params(const Attributes& attrs) : left(attrs.GetString("direction") == "LEFT") {}
    bool left;
  };
  // Shifting by the bit width or more gives 0 (numpy), not C++'s undefined result.
  template <class T>
  static T Int(T x, T y, const Params& p) {
    if constexpr (std::is_unsigned_v<T>) {
      if (y >= static_cast<T>(sizeof(T) * 8)) return 0;
      return static_cast<T>(p.left ? x << y : x >> y);
    }
    return x;  // unreachable: inference admits unsigned types only
  }
  static double Float(double x, double, const Params&) { return x; }  // unreachable
};

// Comparisons and logic: bool output. Integers and bool compare in their own
// type; floats compare as double (exact for every float type).
template <class Cmp>
Status CompareKernel(KernelContext& ctx) {
  const Tensor& a = ctx.input(0);
  const Tensor& b = ctx.input(1);
  FRT_ASSIGN_OR_RETURN(Dims dims, BroadcastDims(a.dims(), b.dims()));
  FRT_ASSIGN_OR_RETURN(Tensor * out, OutputTensor(ctx, 0, DType::kBool, dims));
  bool* po = out->data<bool>();
  VisitDType(a.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* pa = a.data<T>();
    const T* pb = b.data<T>();
    ForEachBroadcast<2>(dims, {&a, &b}, [&](int64_t i, const std::array<int64_t, 2>& off) {
      if constexpr (std::is_integral_v<T>) {
        po[i] = Cmp{}(pa[off[0]], pb[off[1]]);
      } else {
        po[i] = Cmp{}(ToDouble(pa[off[0]]), ToDouble(pb[off[1]]));
      }
    });
  });
  return Status::Ok();
}

// Exact integer power by squaring (wrapping like numpy). A negative exponent
// gives the truncated real result: 1 for base 1, +-1 for base -1, else 0
// (x^-n for |x| >= 2 is a fraction; 0^-n is treated the same).
template <class T, class U>
T IntPow(T base, U exp) {
  if constexpr (std::is_signed_v<U>) {
    if (exp < 0) {
      if (base == 1) return 1;
      if constexpr (std::is_signed_v<T>) {
        if (base == -1) return (exp % 2 == 0) ? T{1} : T{-1};
      }
      return 0;
    }
  }
  auto e = static_cast<uint64_t>(exp);
  T result = 1;
  while (e) {
    if (e & 1) result = WrapMul(result, base);
    base = WrapMul(base, base);
    e >>= 1;
  }
  return result;
}

// Pow-15: base and exponent may have different dtypes; the result has the base's.
Status PowKernel(KernelContext& ctx) {
  const Tensor& a = ctx.input(0);
  const Tensor& b = ctx.input(1);
  FRT_ASSIGN_OR_RETURN(Dims dims, BroadcastDims(a.dims(), b.dims()));
  FRT_ASSIGN_OR_RETURN(Tensor * out, OutputTensor(ctx, 0, a.dtype(), dims));
  VisitDType(a.dtype(), [&](auto base_tag) {
    using T = typename decltype(base_tag)::type;
    VisitDType(b.dtype(), [&](auto exp_tag) {
      using U = typename decltype(exp_tag)::type;
      const T* pa = a.data<T>();
      const U* pb = b.data<U>();
      T* po = out->data<T>();
      ForEachBroadcast<2>(dims, {&a, &b}, [&](int64_t i, const std::array<int64_t, 2>& off) {
        if constexpr (kIsInt<T> && kIsInt<U>) {
          po[i] = IntPow(pa[off[0]], pb[off[1]]);
        } else {
          po[i] = ConvertValue<T>(std::pow(ToDouble(pa[off[0]]), ToDouble(pb[off[1]])));
        }
      });
    });
  });
  return Status::Ok();
}

// PRelu: y = x < 0 ? slope * x : x, slope broadcast onto x's shape.
Status PReluKernel(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  const Tensor& slope = ctx.input(1);
  FRT_ASSIGN_OR_RETURN(Tensor * out, OutputTensor(ctx, 0, x.dtype(), x.dims()));
  VisitDType(x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* px = x.data<T>();
    const T* ps = slope.data<T>();
    T* po = out->data<T>();
    ForEachBroadcast<2>(x.dims(), {&x, &slope}, [&](int64_t i, const std::array<int64_t, 2>& off) {
      T v = px[off[0]];
      if constexpr (std::is_unsigned_v<T>) {
        po[i] = v;  // never negative
      } else if constexpr (kIsInt<T>) {
        po[i] = v < T{0} ? WrapMul(v, ps[off[1]]) : v;
      } else {
        double d = ToDouble(v);
        po[i] = d < 0 ? ConvertValue<T>(d * ToDouble(ps[off[1]])) : v;
      }
    });
  });
  return Status::Ok();
}

struct LogicalXor {
  template <class T>
  bool operator()(T x, T y) const {
    return static_cast<bool>(x) != static_cast<bool>(y);
  }
};

}  // namespace

void RegisterBinaryKernels(CpuKernelRegistry& r) {
  r.Register(OpKind::kAdd, ArithmeticKernel<AddOp>);
  r.Register(OpKind::kSub, ArithmeticKernel<SubOp>);
  r.Register(OpKind::kMul, ArithmeticKernel<MulOp>);
  r.Register(OpKind::kDiv, ArithmeticKernel<DivOp>);
  r.Register(OpKind::kMod, ArithmeticKernel<ModOp>);
  r.Register(OpKind::kBitShift, ArithmeticKernel<BitShiftOp>);
  r.Register(OpKind::kPow, PowKernel);
  r.Register(OpKind::kPRelu, PReluKernel);
  r.Register(OpKind::kAnd, CompareKernel<std::logical_and<>>);
  r.Register(OpKind::kOr, CompareKernel<std::logical_or<>>);
  r.Register(OpKind::kXor, CompareKernel<LogicalXor>);
  r.Register(OpKind::kEqual, CompareKernel<std::equal_to<>>);
  r.Register(OpKind::kGreater, CompareKernel<std::greater<>>);
  r.Register(OpKind::kLess, CompareKernel<std::less<>>);
  r.Register(OpKind::kGreaterOrEqual, CompareKernel<std::greater_equal<>>);
  r.Register(OpKind::kLessOrEqual, CompareKernel<std::less_equal<>>);
}

}  // namespace frt::elementwise
