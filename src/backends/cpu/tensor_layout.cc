// Reference kernels of the rearranging ops: Transpose, Concat, Split, Slice,
// DepthToSpace and SpaceToDepth. All are strided byte copies; the depth/space
// ops are a reshape to 6-D, a transpose and a reshape back.
#include "backends/cpu/broadcast.h"
#include "backends/cpu/tensor_kernel_util.h"
#include "ir/ops/tensor_schema_util.h"

namespace frt::tensor_cpu {
namespace {

Status TransposeKernel(KernelContext& ctx) {
  const Tensor& in = ctx.input(0);
  FRT_ASSIGN_OR_RETURN(Tensor * out, StaticOutput(ctx, 0));
  std::vector<int64_t> perm = ctx.attrs().GetInts("perm");
  if (!ctx.attrs().Has("perm")) {
    for (size_t i = in.rank(); i-- > 0;) perm.push_back(static_cast<int64_t>(i));
  }
  PermuteCopy(Bytes(in), in.dims(), perm, Bytes(*out), DTypeSize(in.dtype()));
  return Status::Ok();
}

// Concat and Split view every tensor as [outer, axis_dim * inner] rows.
Status ConcatKernel(KernelContext& ctx) {
  FRT_ASSIGN_OR_RETURN(Tensor * out, StaticOutput(ctx, 0));
  int64_t rank = static_cast<int64_t>(out->rank());
  FRT_ASSIGN_OR_RETURN(int64_t axis, NormalizeAxis(ctx.attrs().GetInt("axis", 0), rank));
  size_t es = DTypeSize(out->dtype());
  int64_t outer = DimsProduct(out->dims(), 0, axis);
  int64_t inner = DimsProduct(out->dims(), axis + 1, rank);
  int64_t out_row = out->dims()[axis] * inner;
  int64_t col = 0;
  for (size_t i = 0; i < ctx.num_inputs(); ++i) {
    const Tensor& in = ctx.input(i);
    int64_t row = in.dims()[axis] * inner;
    for (int64_t o = 0; o < outer; ++o) {
      std::memcpy(Bytes(*out) + (o * out_row + col) * es, Bytes(in) + o * row * es, row * es);
    }
    col += row;
  }
  return Status::Ok();
}

// The sizes of Split's outputs along the axis, by the rule inference used.
Result<std::vector<int64_t>> SplitSizes(const KernelContext& ctx, int64_t dim) {
  FRT_ASSIGN_OR_RETURN(std::vector<int64_t> sizes, ReadInts(ctx, 1, "split"));
  if (ctx.has_input(1)) return sizes;
  int64_t n = static_cast<int64_t>(ctx.num_outputs());
  int64_t chunk = ctx.attrs().Has("num_outputs") ? (dim + n - 1) / n : dim / n;
  sizes.assign(n, chunk);
  sizes.back() = dim - chunk * (n - 1);
  return sizes;
}

Status SplitKernel(KernelContext& ctx) {
  const Tensor& in = ctx.input(0);
  int64_t rank = static_cast<int64_t>(in.rank());
  FRT_ASSIGN_OR_RETURN(int64_t axis, NormalizeAxis(ctx.attrs().GetInt("axis", 0), rank));
  FRT_ASSIGN_OR_RETURN(std::vector<int64_t> sizes, SplitSizes(ctx, in.dims()[axis]));
  size_t es = DTypeSize(in.dtype());
  int64_t outer = DimsProduct(in.dims(), 0, axis);
  int64_t inner = DimsProduct(in.dims(), axis + 1, rank);
  int64_t in_row = in.dims()[axis] * inner;
  int64_t col = 0;
  for (size_t i = 0; i < ctx.num_outputs() && i < sizes.size(); ++i) {
    int64_t row = sizes[i] * inner;
    if (ctx.has_output(i)) {  // an omitted output still advances the split point
      FRT_ASSIGN_OR_RETURN(Tensor * out, StaticOutput(ctx, i));
      if (out->dims()[axis] != sizes[i]) {
        return ctx.Error(StatusCode::kInternal, "output ", i, " ", out->Describe(),
                         " disagrees with split size ", sizes[i]);
      }
      for (int64_t o = 0; o < outer; ++o) {
        std::memcpy(Bytes(*out) + o * row * es, Bytes(in) + (o * in_row + col) * es, row * es);
      }
    }
    col += row;
  }
  return Status::Ok();
}

Status SliceKernel(KernelContext& ctx) {
  const Tensor& in = ctx.input(0);
  FRT_ASSIGN_OR_RETURN(Tensor * out, StaticOutput(ctx, 0));
  FRT_ASSIGN_OR_RETURN(std::vector<int64_t> starts, ReadInts(ctx, 1, "starts"));
  FRT_ASSIGN_OR_RETURN(std::vector<int64_t> ends, ReadInts(ctx, 2, "ends"));
  FRT_ASSIGN_OR_RETURN(std::vector<int64_t> axes, ReadInts(ctx, 3, "axes"));
  FRT_ASSIGN_OR_RETURN(std::vector<int64_t> steps, ReadInts(ctx, 4, "steps"));
  int64_t rank = static_cast<int64_t>(in.rank());
  if (!ctx.has_input(3)) {
    for (size_t i = 0; i < starts.size(); ++i) axes.push_back(static_cast<int64_t>(i));
  }
  if (!ctx.has_input(4)) steps.assign(starts.size(), 1);
  Dims in_strides = RowMajorStrides(in.dims());
  Dims strides = in_strides;
  int64_t base = 0;
  for (size_t i = 0; i < axes.size() && i < starts.size(); ++i) {
    FRT_ASSIGN_OR_RETURN(int64_t a, NormalizeAxis(axes[i], rank));
    tensor::SliceRange s = tensor::ClampSlice(starts[i], ends[i], steps[i], in.dims()[a]);
    if (s.length != out->dims()[a]) {
      return ctx.Error(StatusCode::kInternal, "slice length ", s.length, " on axis ", a,
                       " disagrees with the output shape ", DimsToString(out->dims()));
    }
    if (s.length > 0) base += s.start * in_strides[a];
    // A single element never steps (and a huge step would overflow the stride).
    strides[a] = s.length > 1 ? in_strides[a] * s.step : 0;
  }
  StridedCopy(Bytes(in), base, strides, out->dims(), Bytes(*out), DTypeSize(in.dtype()));
  return Status::Ok();
}

Status DepthToSpaceKernel(KernelContext& ctx) {
  const Tensor& in = ctx.input(0);
  FRT_ASSIGN_OR_RETURN(Tensor * out, StaticOutput(ctx, 0));
  int64_t b = ctx.attrs().GetInt("blocksize", 1);
  int64_t n = in.dims()[0], c = in.dims()[1], h = in.dims()[2], w = in.dims()[3];
  int64_t cb = c / (b * b);
  if (ctx.attrs().GetString("mode", "DCR") == "DCR") {
    PermuteCopy(Bytes(in), {n, b, b, cb, h, w}, {0, 3, 4, 1, 5, 2}, Bytes(*out),
                DTypeSize(in.dtype()));
  } else {
    PermuteCopy(Bytes(in), {n, cb, b, b, h, w}, {0, 1, 4, 2, 5, 3}, Bytes(*out),
                DTypeSize(in.dtype()));
  }
  return Status::Ok();
}

Status SpaceToDepthKernel(KernelContext& ctx) {
  const Tensor& in = ctx.input(0);
  FRT_ASSIGN_OR_RETURN(Tensor * out, StaticOutput(ctx, 0));
  int64_t b = ctx.attrs().GetInt("blocksize", 1);
  int64_t n = in.dims()[0], c = in.dims()[1], h = in.dims()[2], w = in.dims()[3];
  PermuteCopy(Bytes(in), {n, c, h / b, b, w / b, b}, {0, 3, 5, 1, 2, 4}, Bytes(*out),
              DTypeSize(in.dtype()));
  return Status::Ok();
}

}  // namespace

void RegisterTensorLayoutKernels(CpuKernelRegistry& r) {
  r.Register(OpKind::kTranspose, TransposeKernel);
  r.Register(OpKind::kConcat, ConcatKernel);
  r.Register(OpKind::kSplit, SplitKernel);
  r.Register(OpKind::kSlice, SliceKernel);
  r.Register(OpKind::kDepthToSpace, DepthToSpaceKernel);
  r.Register(OpKind::kSpaceToDepth, SpaceToDepthKernel);
}

}  // namespace frt::tensor_cpu
