// Reference kernels of the matrix products: MatMul (numpy batching), Gemm,
// MatMulInteger, QLinearMatMul and Det. Floats accumulate in double; integer
// MatMul/Gemm accumulate in uint64 so that overflow wraps exactly as the
// output type's arithmetic would (two's complement, modulo 2^64 then
// truncated), with no signed-overflow undefined behaviour.
#include <algorithm>
#include <array>

#include "backends/cpu/broadcast.h"
#include "backends/cpu/nn_kernels.h"

namespace frt::nn {
namespace {

// A [.., M, K] x B [.., K, N] with 1-D operands promoted ([K] -> [1, K] for
// A, [K] -> [K, 1] for B) and batch dims broadcast.
struct MatMulShape {
  Dims a_full, b_full;  // operand dims after promotion
  Dims batch;           // broadcast batch dims
  Dims out_full;        // batch + [M, N]
  int64_t m = 0, k = 0, n = 0;
};

Result<MatMulShape> MakeMatMulShape(const KernelContext& ctx, const Dims& a, const Dims& b) {
  MatMulShape s;
  s.a_full = a;
  s.b_full = b;
  if (a.size() == 1) s.a_full.insert(s.a_full.begin(), 1);
  if (b.size() == 1) s.b_full.push_back(1);
  s.m = s.a_full[s.a_full.size() - 2];
  s.k = s.a_full.back();
  s.n = s.b_full.back();
  if (s.b_full[s.b_full.size() - 2] != s.k) {
    return ctx.Error(StatusCode::kInvalidModel, "inner dimensions differ: A ", DimsToString(a),
                     " and B ", DimsToString(b));
  }
  FRT_ASSIGN_OR_RETURN(s.batch, BroadcastDims(Dims(s.a_full.begin(), s.a_full.end() - 2),
                                              Dims(s.b_full.begin(), s.b_full.end() - 2)));
  s.out_full = s.batch;
  s.out_full.push_back(s.m);
  s.out_full.push_back(s.n);
  return s;
}

// out[b, i, j] = sum_k a[b', i, k] * b[b'', k, j] over broadcast batches.
template <class Acc>
std::vector<Acc> BatchedMatMul(const MatMulShape& s, const std::vector<Acc>& a,
                               const std::vector<Acc>& b) {
  const Dims a_batch(s.a_full.begin(), s.a_full.end() - 2);
  const Dims b_batch(s.b_full.begin(), s.b_full.end() - 2);
  int64_t batches = 1;
  for (int64_t d : s.batch) batches *= d;
  std::vector<Acc> out(static_cast<size_t>(batches * s.m * s.n), Acc(0));
  BroadcastIterator<2> it(s.batch,
                          {BroadcastStrides(a_batch, s.batch), BroadcastStrides(b_batch, s.batch)});
  for (int64_t bi = 0; bi < batches; ++bi, it.Next()) {
    const Acc* pa = a.data() + it.offset(0) * s.m * s.k;
    const Acc* pb = b.data() + it.offset(1) * s.k * s.n;
    Acc* po = out.data() + bi * s.m * s.n;
    for (int64_t i = 0; i < s.m; ++i) {
      for (int64_t j = 0; j < s.n; ++j) {
        Acc acc(0);
        for (int64_t k = 0; k < s.k; ++k) acc += pa[i * s.k + k] * pb[k * s.n + j];
        po[i * s.n + j] = acc;
      }
    }
  }
  return out;
}

std::vector<uint64_t> ToWrapping(const Tensor& t) {
  std::vector<int64_t> v = ToInt64s(t);
  return std::vector<uint64_t>(v.begin(), v.end());
}

void StoreWrapping(const std::vector<uint64_t>& v, Tensor& out) {
  StoreInt64s(std::vector<int64_t>(v.begin(), v.end()), out);
}

Status MatMulKernel(KernelContext& ctx) {
  const Tensor& a = ctx.input(0);
  const Tensor& b = ctx.input(1);
  FRT_ASSIGN_OR_RETURN(MatMulShape s, MakeMatMulShape(ctx, a.dims(), b.dims()));
  if (IsFloat(a.dtype())) {
    StoreDoubles(BatchedMatMul<double>(s, ToDoubles(a), ToDoubles(b)), ctx.output(0));
  } else {
    StoreWrapping(BatchedMatMul<uint64_t>(s, ToWrapping(a), ToWrapping(b)), ctx.output(0));
  }
  return Status::Ok();
}

// Y = alpha * op(A) op(B) + beta * C, C broadcast one way to [M, N].
Status GemmKernel(KernelContext& ctx) {
  const Tensor& a = ctx.input(0);
  const Tensor& b = ctx.input(1);
  Tensor& y = ctx.output(0);
  const bool ta = ctx.attrs().GetInt("transA", 0) != 0;
  const bool tb = ctx.attrs().GetInt("transB", 0) != 0;
  const double alpha = ctx.attrs().GetFloat("alpha", 1.0f);
  const double beta = ctx.attrs().GetFloat("beta", 1.0f);
  const int64_t m = y.dims()[0], n = y.dims()[1];
  const int64_t k = ta ? a.dims()[0] : a.dims()[1];
  auto a_at = [&](int64_t i, int64_t kk) { return ta ? kk * m + i : i * k + kk; };
  auto b_at = [&](int64_t kk, int64_t j) { return tb ? j * k + kk : kk * n + j; };
  const bool use_c = ctx.has_input(2) && beta != 0.0;  // beta 0 ignores C, NaNs included
  Dims c_strides;
  if (use_c) c_strides = BroadcastStrides(ctx.input(2).dims(), y.dims());
  auto c_at = [&](int64_t i, int64_t j) { return i * c_strides[0] + j * c_strides[1]; };
  if (IsFloat(a.dtype())) {
    const std::vector<double> av = ToDoubles(a), bv = ToDoubles(b);
    const std::vector<double> cv = use_c ? ToDoubles(ctx.input(2)) : std::vector<double>();
    std::vector<double> out(static_cast<size_t>(m * n));
    for (int64_t i = 0; i < m; ++i) {
      for (int64_t j = 0; j < n; ++j) {
        double acc = 0;
        for (int64_t kk = 0; kk < k; ++kk) acc += av[a_at(i, kk)] * bv[b_at(kk, j)];
        out[i * n + j] = alpha * acc + (use_c ? beta * cv[c_at(i, j)] : 0.0);
      }
    }
    StoreDoubles(out, y);
    return Status::Ok();
  }
  // Integer Gemm: exact (wrapping) when alpha and beta are 1, else via double.
  const std::vector<uint64_t> av = ToWrapping(a), bv = ToWrapping(b);
  const std::vector<uint64_t> cv = use_c ? ToWrapping(ctx.input(2)) : std::vector<uint64_t>();
  const bool exact = alpha == 1.0 && (beta == 1.0 || !use_c);
  std::vector<uint64_t> out(static_cast<size_t>(m * n));
  std::vector<double> outd(static_cast<size_t>(m * n));
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = 0; j < n; ++j) {
      uint64_t acc = 0;
      for (int64_t kk = 0; kk < k; ++kk) acc += av[a_at(i, kk)] * bv[b_at(kk, j)];
      const uint64_t c = use_c ? cv[c_at(i, j)] : 0;
      out[i * n + j] = acc + c;
      outd[i * n + j] = alpha * static_cast<double>(static_cast<int64_t>(acc)) +
                        beta * static_cast<double>(static_cast<int64_t>(c));
    }
  }
  if (exact) {
    StoreWrapping(out, y);
  } else {
    StoreDoubles(outd, y);
  }
  return Status::Ok();
}

// A quantization parameter expanded to `target` dims: one value, numpy
// broadcast, or (for `per_row`) a 1-D tensor of one value per row of a
// [.., M, X] target, read as [M, 1].
Result<std::vector<double>> ExpandParam(const KernelContext& ctx, size_t i, const Dims& target,
                                        bool per_row, const char* what) {
  const Tensor& p = ctx.input(i);
  Dims pd = p.dims();
  if (per_row && pd.size() == 1 && target.size() >= 2 && pd[0] == target[target.size() - 2] &&
      pd[0] != 1) {
    pd = {pd[0], 1};
  }
  auto b = BroadcastDims(pd, target);
  if (!b.ok() || *b != target) {
    return ctx.Error(StatusCode::kInvalidModel, what, " has shape ", DimsToString(p.dims()),
                     " which does not broadcast to ", DimsToString(target),
                     per_row ? " (a scalar, one value per row, or [.., M, 1])"
                             : " (a scalar, one value per column, or [.., 1, N])");
  }
  const std::vector<double> v = ToDoubles(p);
  int64_t n = 1;
  for (int64_t d : target) n *= d;
  std::vector<double> out(static_cast<size_t>(n));
  BroadcastIterator<1> it(target, {BroadcastStrides(pd, target)});
  for (int64_t e = 0; e < n; ++e, it.Next()) out[e] = v[it.offset(0)];
  return out;
}

// The values of input `data` minus the zero point at input `zp` (if any).
Result<std::vector<int64_t>> Centered(const KernelContext& ctx, size_t data, size_t zp,
                                      const Dims& full, bool per_row, const char* what) {
  std::vector<int64_t> v = ToInt64s(ctx.input(data));
  if (!ctx.has_input(zp)) return v;
  FRT_ASSIGN_OR_RETURN(std::vector<double> z, ExpandParam(ctx, zp, full, per_row, what));
  for (size_t e = 0; e < v.size(); ++e) v[e] -= static_cast<int64_t>(z[e]);
  return v;
}

Status MatMulIntegerKernel(KernelContext& ctx) {
  FRT_ASSIGN_OR_RETURN(MatMulShape s,
                       MakeMatMulShape(ctx, ctx.input(0).dims(), ctx.input(1).dims()));
  FRT_ASSIGN_OR_RETURN(std::vector<int64_t> a, Centered(ctx, 0, 2, s.a_full, true, "a_zero_point"));
  FRT_ASSIGN_OR_RETURN(std::vector<int64_t> b,
                       Centered(ctx, 1, 3, s.b_full, false, "b_zero_point"));
  StoreInt64s(BatchedMatMul<int64_t>(s, a, b), ctx.output(0));
  return Status::Ok();
}

Status QLinearMatMulKernel(KernelContext& ctx) {
  FRT_ASSIGN_OR_RETURN(MatMulShape s,
                       MakeMatMulShape(ctx, ctx.input(0).dims(), ctx.input(3).dims()));
  FRT_ASSIGN_OR_RETURN(std::vector<int64_t> a, Centered(ctx, 0, 2, s.a_full, true, "a_zero_point"));
  FRT_ASSIGN_OR_RETURN(std::vector<int64_t> b,
                       Centered(ctx, 3, 5, s.b_full, false, "b_zero_point"));
  const std::vector<int64_t> acc = BatchedMatMul<int64_t>(s, a, b);
  // Scales and the output zero point, per output element of [batch.., M, N].
  FRT_ASSIGN_OR_RETURN(std::vector<double> sa, ExpandParam(ctx, 1, s.out_full, true, "a_scale"));
  FRT_ASSIGN_OR_RETURN(std::vector<double> sb, ExpandParam(ctx, 4, s.out_full, false, "b_scale"));
  FRT_ASSIGN_OR_RETURN(std::vector<double> sy, ExpandParam(ctx, 6, s.out_full, false, "y_scale"));
  FRT_ASSIGN_OR_RETURN(std::vector<double> zy,
                       ExpandParam(ctx, 7, s.out_full, false, "y_zero_point"));
  Tensor& y = ctx.output(0);
  double lo, hi;
  IntegerRange(y.dtype(), &lo, &hi);
  std::vector<double> out(acc.size());
  for (size_t e = 0; e < acc.size(); ++e) {
    const double v = RoundHalfEven(static_cast<double>(acc[e]) * (sa[e] * sb[e] / sy[e])) + zy[e];
    out[e] = std::min(hi, std::max(lo, v));
  }
  StoreDoubles(out, y);
  return Status::Ok();
}

// Determinant by Gaussian elimination with partial pivoting, per matrix.
Status DetKernel(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  const int64_t n = x.dims().back();
  const int64_t count = n > 0 ? x.num_elements() / (n * n) : ctx.output(0).num_elements();
  const std::vector<double> xv = ToDoubles(x);
  std::vector<double> out(static_cast<size_t>(count));
  std::vector<double> a(static_cast<size_t>(n * n));
  for (int64_t b = 0; b < count; ++b) {
    std::copy(xv.begin() + b * n * n, xv.begin() + (b + 1) * n * n, a.begin());
    double det = 1.0;
    for (int64_t col = 0; col < n && det != 0.0; ++col) {
      int64_t pivot = col;
      for (int64_t r = col + 1; r < n; ++r) {
        if (std::fabs(a[r * n + col]) > std::fabs(a[pivot * n + col])) pivot = r;
      }
      if (a[pivot * n + col] == 0.0) {
        det = 0.0;
        break;
      }
      if (pivot != col) {
        for (int64_t j = 0; j < n; ++j) std::swap(a[col * n + j], a[pivot * n + j]);
        det = -det;
      }
      det *= a[col * n + col];
      for (int64_t r = col + 1; r < n; ++r) {
        const double f = a[r * n + col] / a[col * n + col];
        for (int64_t j = col; j < n; ++j) a[r * n + j] -= f * a[col * n + j];
      }
    }
    out[b] = det;
  }
  StoreDoubles(out, ctx.output(0));
  return Status::Ok();
}

}  // namespace

Result<std::vector<double>> MatMulDoubles(const KernelContext& ctx, const Dims& a_dims,
                                          const std::vector<double>& a, const Dims& b_dims,
                                          const std::vector<double>& b, Dims* out_dims) {
  FRT_ASSIGN_OR_RETURN(MatMulShape s, MakeMatMulShape(ctx, a_dims, b_dims));
  *out_dims = s.out_full;
  return BatchedMatMul<double>(s, a, b);
}

void RegisterNnMatMulKernels(CpuKernelRegistry& r) {
  r.Register(OpKind::kMatMul, MatMulKernel);
  r.Register(OpKind::kGemm, GemmKernel);
  r.Register(OpKind::kMatMulInteger, MatMulIntegerKernel);
  r.Register(OpKind::kQLinearMatMul, QLinearMatMulKernel);
  r.Register(OpKind::kDet, DetKernel);
}

}  // namespace frt::nn
