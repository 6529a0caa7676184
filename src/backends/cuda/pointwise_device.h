// Device side of the compiled elementwise kernels (included by pointwise*.cu
// only): storage <-> compute conversions with ONNX Cast semantics, one
// functor per op, and two generic kernels over any functor and dtypes.
//
// Design: a functor sees compute-type values (float for f32/f16/bf16, double
// for f64, int32/int64 for integers, bool for bool) and returns a compute-type
// value; the kernel loads each input's storage type, converts with Load(),
// calls the functor and stores with Convert<Out>() (round to nearest even for
// floats, ONNX Cast rules otherwise). So f16/bf16 ops compute in fp32 and round
// once, and Cast is the identity functor.
//   FlatKernel<V>: index-free addressing (BroadcastPlan kFull/kScalar/kRow/kCol)
//     with V-element vector loads and stores (16 bytes for the widest type);
//     the host checks alignment and row lengths first (CanVectorize).
//   GeneralKernel: any broadcast up to kMaxRank coalesced dims; int64 offsets.
// Both are grid-stride loops, so any grid size is correct.
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <limits>
#include <type_traits>
#include <utility>

#include "backends/cuda/kernel.h"
#include "backends/cuda/pointwise_params.h"

namespace frt::cuda_pointwise {

// Storage of DType::kBool: a byte read as "!= 0" (so a stray 2 is still true).
struct BoolByte {
  uint8_t v;
};

// ---- Conversions ----------------------------------------------------------

__device__ __forceinline__ float Load(float v) { return v; }
__device__ __forceinline__ float Load(__half v) { return __half2float(v); }
__device__ __forceinline__ float Load(__nv_bfloat16 v) { return __bfloat162float(v); }
__device__ __forceinline__ double Load(double v) { return v; }
__device__ __forceinline__ int32_t Load(int8_t v) { return v; }
__device__ __forceinline__ int32_t Load(uint8_t v) { return v; }
__device__ __forceinline__ int32_t Load(int32_t v) { return v; }
__device__ __forceinline__ int64_t Load(int64_t v) { return v; }
__device__ __forceinline__ bool Load(BoolByte v) { return v.v != 0; }

// Float -> integer as the CPU reference (elementwise_kernels.h FloatToInt):
// truncation toward zero, saturation out of range, NaN -> 0.
template <class To>
__device__ __forceinline__ To FloatToInt(double d) {
  using L = std::numeric_limits<To>;
  if (d != d) return To{0};
  d = trunc(d);
  if (d <= static_cast<double>(L::min())) return L::min();
  if (d >= ldexp(1.0, L::digits)) return L::max();
  return static_cast<To>(d);
}

// A compute value -> storage type `To`, with ONNX Cast semantics: floats
// round to nearest even (one rounding, also from double and int64), float ->
// integer truncates and saturates, integer -> integer wraps, bool is 0/1 and
// x -> bool is x != 0 (NaN is true).
template <class To, class From>
__device__ __forceinline__ To Convert(From v) {
  if constexpr (std::is_same_v<To, BoolByte>) {
    return BoolByte{static_cast<uint8_t>(v != From(0) ? 1 : 0)};
  } else if constexpr (std::is_same_v<From, bool>) {
    return Convert<To>(static_cast<int32_t>(v ? 1 : 0));
  } else if constexpr (std::is_same_v<To, __half>) {
    if constexpr (std::is_same_v<From, float>)
      return __float2half_rn(v);
    else if constexpr (std::is_same_v<From, double>)
      return __double2half(v);
    else if constexpr (std::is_same_v<From, int64_t>)
      return __ll2half_rn(v);
    else
      return __int2half_rn(v);
  } else if constexpr (std::is_same_v<To, __nv_bfloat16>) {
    if constexpr (std::is_same_v<From, float>)
      return __float2bfloat16_rn(v);
    else if constexpr (std::is_same_v<From, double>)
      return __double2bfloat16(v);
    else if constexpr (std::is_same_v<From, int64_t>)
      return __ll2bfloat16_rn(v);
    else
      return __int2bfloat16_rn(v);
  } else if constexpr (std::is_integral_v<To> && std::is_floating_point_v<From>) {
    return FloatToInt<To>(static_cast<double>(v));
  } else {
    return static_cast<To>(v);  // int -> int wraps; among float/double/int: one rounding
  }
}

// ---- Functors -------------------------------------------------------------
// operator()(attrs, x...) on compute values. Floats follow the CPU reference
// formulas (elementwise*.cc, fused_pointwise.cc) in fp32 (fp64 for double).

template <class T>
inline constexpr bool kIsIntCompute = std::is_integral_v<T> && !std::is_same_v<T, bool>;

// Wrap-around integer arithmetic without signed-overflow UB.
template <class T>
__device__ __forceinline__ T Wrap(std::make_unsigned_t<T> v) {
  return static_cast<T>(v);
}
template <class T>
using U = std::make_unsigned_t<T>;

__device__ __forceinline__ float Sigmoid(float x) {  // never exponentiates a large positive
  if (x >= 0) return 1.0f / (1.0f + expf(-x));
  const float e = expf(x);
  return e / (1.0f + e);
}

struct ReluOp {
  template <class T>
  __device__ T operator()(const OpAttrs&, T x) const {
    return x > T(0) ? x : T(0);
  }
};
struct NegOp {
  template <class T>
  __device__ T operator()(const OpAttrs&, T x) const {
    if constexpr (kIsIntCompute<T>)
      return Wrap<T>(U<T>(0) - static_cast<U<T>>(x));
    else
      return -x;
  }
};
struct AbsOp {
  template <class T>
  __device__ T operator()(const OpAttrs&, T x) const {
    if constexpr (kIsIntCompute<T>)
      return x < 0 ? Wrap<T>(U<T>(0) - static_cast<U<T>>(x)) : x;
    else
      return fabsf(x);
  }
};
struct SigmoidOp {
  __device__ float operator()(const OpAttrs&, float x) const { return Sigmoid(x); }
};
struct TanhOp {
  __device__ float operator()(const OpAttrs&, float x) const { return tanhf(x); }
};
struct ErfOp {
  __device__ float operator()(const OpAttrs&, float x) const { return erff(x); }
};
struct ExpOp {
  __device__ float operator()(const OpAttrs&, float x) const { return expf(x); }
};
struct LogOp {
  __device__ float operator()(const OpAttrs&, float x) const { return logf(x); }
};
struct SqrtOp {
  __device__ float operator()(const OpAttrs&, float x) const { return sqrtf(x); }
};
struct ReciprocalOp {
  __device__ float operator()(const OpAttrs&, float x) const { return 1.0f / x; }
};
struct SoftplusOp {  // log(1 + e^x) without overflow
  __device__ float operator()(const OpAttrs&, float x) const {
    return x > 0 ? x + log1pf(expf(-x)) : log1pf(expf(x));
  }
};
struct GeluErfOp {  // 0.5 x (1 + erf(x / sqrt 2))
  __device__ float operator()(const OpAttrs&, float x) const {
    return 0.5f * x * (1.0f + erff(x * 0.70710678118654752f));
  }
};
struct GeluTanhOp {  // 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
  __device__ float operator()(const OpAttrs&, float x) const {
    return 0.5f * x * (1.0f + tanhf(0.79788456080286536f * (x + 0.044715f * x * x * x)));
  }
};
struct SwishOp {  // x * sigmoid(alpha x)
  __device__ float operator()(const OpAttrs& at, float x) const {
    return x * Sigmoid(at.alpha * x);
  }
};
struct LeakyReluOp {
  __device__ float operator()(const OpAttrs& at, float x) const {
    return x >= 0 ? x : at.alpha * x;
  }
};
struct HardSigmoidOp {  // clamp(alpha x + beta, 0, 1); NaN stays NaN (std::clamp)
  __device__ float operator()(const OpAttrs& at, float x) const {
    const float v = at.alpha * x + at.beta;
    return v < 0.0f ? 0.0f : (1.0f < v ? 1.0f : v);
  }
};
struct NotOp {
  __device__ bool operator()(const OpAttrs&, bool x) const { return !x; }
};
// Clip(x, min, max): min first, so max wins when min > max; absent bounds
// (flags) are not read; NaN stays NaN.
struct ClipOp {
  template <class T>
  __device__ T operator()(const OpAttrs& at, T x, T lo, T hi) const {
    if ((at.flags & 1) && x < lo) x = lo;
    if ((at.flags & 2) && x > hi) x = hi;
    return x;
  }
};

struct AddOp {
  template <class T>
  __device__ T operator()(const OpAttrs&, T a, T b) const {
    if constexpr (kIsIntCompute<T>)
      return Wrap<T>(static_cast<U<T>>(a) + static_cast<U<T>>(b));
    else
      return a + b;
  }
};
struct SubOp {
  template <class T>
  __device__ T operator()(const OpAttrs&, T a, T b) const {
    if constexpr (kIsIntCompute<T>)
      return Wrap<T>(static_cast<U<T>>(a) - static_cast<U<T>>(b));
    else
      return a - b;
  }
};
struct MulOp {
  template <class T>
  __device__ T operator()(const OpAttrs&, T a, T b) const {
    if constexpr (kIsIntCompute<T>)
      return Wrap<T>(static_cast<U<T>>(a) * static_cast<U<T>>(b));
    else
      return a * b;
  }
};
// Integers truncate toward zero; x / 0 is 0 and INT_MIN / -1 wraps (CPU reference).
struct DivOp {
  template <class T>
  __device__ T operator()(const OpAttrs& at, T a, T b) const {
    if constexpr (kIsIntCompute<T>) {
      if (b == 0) return 0;
      if (b == -1) return NegOp{}(at, a);
      return a / b;
    } else {
      return a / b;
    }
  }
};
struct PowOp {  // the result has the base's dtype; the exponent may be any float or integer
  template <class E>
  __device__ float operator()(const OpAttrs&, float a, E b) const {
    return powf(a, static_cast<float>(b));
  }
};
// Max/Min propagate NaN, as numpy.maximum/minimum (and the CPU reference).
struct MaxOp {
  template <class T>
  __device__ T operator()(const OpAttrs&, T a, T b) const {
    if constexpr (!kIsIntCompute<T>) {
      if (a != a || b != b) return a + b;
    }
    return a > b ? a : b;
  }
};
struct MinOp {
  template <class T>
  __device__ T operator()(const OpAttrs&, T a, T b) const {
    if constexpr (!kIsIntCompute<T>) {
      if (a != a || b != b) return a + b;
    }
    return a < b ? a : b;
  }
};
struct EqualOp {
  template <class T>
  __device__ bool operator()(const OpAttrs&, T a, T b) const {
    return a == b;
  }
};
struct LessOp {
  template <class T>
  __device__ bool operator()(const OpAttrs&, T a, T b) const {
    return a < b;
  }
};
struct LessOrEqualOp {
  template <class T>
  __device__ bool operator()(const OpAttrs&, T a, T b) const {
    return a <= b;
  }
};
struct GreaterOp {
  template <class T>
  __device__ bool operator()(const OpAttrs&, T a, T b) const {
    return a > b;
  }
};
struct GreaterOrEqualOp {
  template <class T>
  __device__ bool operator()(const OpAttrs&, T a, T b) const {
    return a >= b;
  }
};
struct AndOp {
  __device__ bool operator()(const OpAttrs&, bool a, bool b) const { return a && b; }
};
struct OrOp {
  __device__ bool operator()(const OpAttrs&, bool a, bool b) const { return a || b; }
};
struct XorOp {
  __device__ bool operator()(const OpAttrs&, bool a, bool b) const { return a != b; }
};
struct WhereOp {
  template <class T>
  __device__ T operator()(const OpAttrs&, bool c, T x, T y) const {
    return c ? x : y;
  }
};
struct IdentityOp {  // Cast: Convert<Out> does the work
  template <class T>
  __device__ T operator()(const OpAttrs&, T x) const {
    return x;
  }
};

// ---- Kernels --------------------------------------------------------------

template <class T, int V>
struct alignas(sizeof(T) * V) Vec {
  T v[V];
};

template <class... Ts>
inline constexpr int kVectorWidth = 16 / static_cast<int>(std::max({sizeof(Ts)...}));

template <class T>
__device__ __forceinline__ T LoadOne(const void* base, int32_t mode, int64_t row, int64_t i) {
  const T* p = static_cast<const T*>(base);
  switch (mode) {
    case kScalar: return p[0];
    case kRow: return p[i % row];
    case kCol: return p[i / row];
    default: return p[i];
  }
}

// V consecutive elements from flat index i (a multiple of V). kRow/kCol rows
// are multiples of V, so a vector never straddles a row.
template <int V, class T>
__device__ __forceinline__ Vec<T, V> LoadVec(const void* base, int32_t mode, int64_t row,
                                             int64_t i) {
  const T* p = static_cast<const T*>(base);
  Vec<T, V> r;
  if (mode == kScalar || mode == kCol) {
    const T s = p[mode == kScalar ? 0 : i / row];
#pragma unroll
    for (int j = 0; j < V; ++j) r.v[j] = s;
  } else {
    r = *reinterpret_cast<const Vec<T, V>*>(p + (mode == kRow ? i % row : i));
  }
  return r;
}

template <int V, class Op, class Out, class... In>
__device__ __forceinline__ void ComputeVec(const OpAttrs& attrs, Out* out, int64_t i,
                                           const Vec<In, V>&... x) {
  Vec<Out, V> o;
#pragma unroll
  for (int j = 0; j < V; ++j) o.v[j] = Convert<Out>(Op{}(attrs, Load(x.v[j])...));
  *reinterpret_cast<Vec<Out, V>*>(out + i) = o;
}

template <int V, class Op, class Out, class... In, size_t... I>
__device__ __forceinline__ void FlatBody(const PointwiseArgs<sizeof...(In)>& a,
                                         std::index_sequence<I...>) {
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  const int64_t first = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  Out* out = static_cast<Out*>(a.out);
  const int64_t nvec = a.n / V;
  for (int64_t v = first; v < nvec; v += stride) {
    const int64_t i = v * V;
    ComputeVec<V, Op, Out, In...>(a.attrs, out, i,
                                  LoadVec<V, In>(a.in[I], a.mode[I], a.row[I], i)...);
  }
  for (int64_t i = nvec * V + first; i < a.n; i += stride) {  // the n % V tail
    out[i] = Convert<Out>(Op{}(a.attrs, Load(LoadOne<In>(a.in[I], a.mode[I], a.row[I], i))...));
  }
}

template <int V, class Op, class Out, class... In>
__global__ void __launch_bounds__(256) FlatKernel(const PointwiseArgs<sizeof...(In)> a) {
  FlatBody<V, Op, Out, In...>(a, std::index_sequence_for<In...>{});
}

template <class Op, class Out, class... In, size_t... I>
__device__ __forceinline__ void GeneralBody(const PointwiseArgs<sizeof...(In)>& a,
                                            std::index_sequence<I...>) {
  constexpr int N = sizeof...(In);
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  Out* out = static_cast<Out*>(a.out);
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < a.n;
       i += stride) {
    int64_t off[N] = {};
    int64_t idx = i;
#pragma unroll
    for (int d = kMaxRank - 1; d > 0; --d) {
      if (d >= a.rank) continue;
      const int64_t q = idx / a.dims[d];
      const int64_t c = idx - q * a.dims[d];
#pragma unroll
      for (int k = 0; k < N; ++k) off[k] += c * a.strides[k][d];
      idx = q;
    }
#pragma unroll
    for (int k = 0; k < N; ++k) off[k] += idx * a.strides[k][0];
    out[i] = Convert<Out>(Op{}(a.attrs, Load(static_cast<const In*>(a.in[I])[off[I]])...));
  }
}

template <class Op, class Out, class... In>
__global__ void __launch_bounds__(256) GeneralKernel(const PointwiseArgs<sizeof...(In)> a) {
  GeneralBody<Op, Out, In...>(a, std::index_sequence_for<In...>{});
}

// ---- Host launch ----------------------------------------------------------

// Plans ctx's inputs onto output 0 and launches Op on them: the vectorized
// flat kernel when CanVectorize allows, else the general one. Inputs are
// ctx.input(first_input ...) in order; `inputs` overrides one as the caller
// needs (Clip's absent bounds). No launch for an empty output.
template <class Op, class Out, class... In>
Status Launch(CudaKernelContext& ctx, const OpAttrs& attrs,
              const std::array<const DeviceTensor*, sizeof...(In)>& inputs) {
  constexpr int N = sizeof...(In);
  constexpr int V = kVectorWidth<Out, In...>;
  DeviceTensor& out = ctx.output(0);
  std::array<Dims, N> dims;
  for (int k = 0; k < N; ++k) dims[k] = inputs[k]->dims;
  Result<BroadcastPlan> planned = PlanBroadcast(out.dims, dims);
  if (!planned.ok()) return planned.status().WithPrefix(ctx.node().Describe());
  const BroadcastPlan& plan = *planned;
  if (plan.n == 0) return Status::Ok();
  PointwiseArgs<N> a{};
  FillArgs(plan, a);
  a.out = out.data;
  for (int k = 0; k < N; ++k) a.in[k] = inputs[k]->data;
  a.attrs = attrs;
  std::array<const void*, N + 1> ptrs;
  ptrs[0] = out.data;
  for (int k = 0; k < N; ++k) ptrs[k + 1] = inputs[k]->data;
  const std::array<int, N + 1> sizes = {static_cast<int>(sizeof(Out)),
                                        static_cast<int>(sizeof(In))...};
  const int sms = ctx.resources().sm_count;
  if (CanVectorize(plan, V, ptrs, sizes)) {
    const unsigned blocks = GridBlocks(std::max<int64_t>(plan.n / V, 1), kThreads, sms);
    FlatKernel<V, Op, Out, In...><<<blocks, kThreads, 0, ctx.stream()>>>(a);
  } else {
    GeneralKernel<Op, Out, In...>
        <<<GridBlocks(plan.n, kThreads, sms), kThreads, 0, ctx.stream()>>>(a);
  }
  return ctx.LaunchStatus();
}

// Launch over ctx.input(0 .. N-1).
template <class Op, class Out, class... In>
Status Launch(CudaKernelContext& ctx, const OpAttrs& attrs = {}) {
  std::array<const DeviceTensor*, sizeof...(In)> inputs;
  for (size_t k = 0; k < inputs.size(); ++k) inputs[k] = &ctx.input(k);
  return Launch<Op, Out, In...>(ctx, attrs, inputs);
}

// The device storage type of each supported DType, and a visitor over a list
// of them: Visit<Ts...>(dtype, f) calls f(TypeTag<T>{}) for the T of `dtype`
// among Ts, or returns kUnsupported naming the dtype.
template <class T>
struct DeviceDType;
template <>
struct DeviceDType<float> {
  static constexpr DType value = DType::kFloat32;
};
template <>
struct DeviceDType<__half> {
  static constexpr DType value = DType::kFloat16;
};
template <>
struct DeviceDType<__nv_bfloat16> {
  static constexpr DType value = DType::kBFloat16;
};
template <>
struct DeviceDType<double> {
  static constexpr DType value = DType::kFloat64;
};
template <>
struct DeviceDType<int8_t> {
  static constexpr DType value = DType::kInt8;
};
template <>
struct DeviceDType<uint8_t> {
  static constexpr DType value = DType::kUInt8;
};
template <>
struct DeviceDType<int32_t> {
  static constexpr DType value = DType::kInt32;
};
template <>
struct DeviceDType<int64_t> {
  static constexpr DType value = DType::kInt64;
};
template <>
struct DeviceDType<BoolByte> {
  static constexpr DType value = DType::kBool;
};

template <class... Ts>
struct TypeList {};

using FloatTypes = TypeList<float, __half, __nv_bfloat16>;
using NumericTypes = TypeList<float, __half, __nv_bfloat16, int32_t, int64_t>;
using CastTypes =
    TypeList<float, __half, __nv_bfloat16, double, int32_t, int64_t, int8_t, uint8_t, BoolByte>;

template <class F, class T, class... Rest>
Status VisitOne(DType dtype, const CudaKernelContext& ctx, F& f) {
  if (dtype == DeviceDType<T>::value) return f(TypeTag<T>{});
  if constexpr (sizeof...(Rest) > 0) {
    return VisitOne<F, Rest...>(dtype, ctx, f);
  } else {
    return ctx.Error(StatusCode::kUnsupported, "no cuda pointwise kernel for dtype ",
                     DTypeName(dtype));
  }
}

template <class F, class... Ts>
Status Visit(TypeList<Ts...>, DType dtype, const CudaKernelContext& ctx, F&& f) {
  return VisitOne<F, Ts...>(dtype, ctx, f);
}

}  // namespace frt::cuda_pointwise
