// CUDA kernels of the rearranging ops: Transpose, Slice, Expand, Concat,
// Split, DepthToSpace and SpaceToDepth. Each one only describes its data
// movement as a StridedCopy (per-dim input/output strides and bases, ONNX
// semantics as in src/backends/cpu/tensor_layout.cc) and hands it to
// LaunchStridedCopy (tensor_copy.cu), which merges dims, vectorizes and picks
// a tiled transpose where the innermost axis moves. Concat and Split launch
// one copy per input / output, each writing its slice.
#include <algorithm>

#include "backends/cpu/broadcast.h"
#include "backends/cuda/tensor_util.h"
#include "ir/ops/tensor_schema_util.h"

namespace frt::cuda_tensor {
namespace {

// Data input 0 and output 0 move as opaque elements of one dtype; rank limit
// `max_rank` (0: none) on input 0 and output 0.
std::string SupportsMove(const Node& node, size_t max_rank) {
  if (!node.has_input(0)) return "input 0 is missing";
  std::string why = CheckMovableDType(node.inputs[0]->dtype, "input 0");
  if (!why.empty()) return why;
  for (size_t i = 0; i < node.outputs.size(); ++i) {
    const Value* out = node.outputs[i];
    if (out && out->dtype != node.inputs[0]->dtype) {
      return StrCat("output ", i, " has dtype ", DTypeName(out->dtype), " but input 0 has ",
                    DTypeName(node.inputs[0]->dtype));
    }
  }
  if (max_rank > 0) {
    why = CheckRankAtMost(node.inputs[0], max_rank, "input 0");
    if (why.empty() && node.has_output(0)) {
      why = CheckRankAtMost(node.outputs[0], max_rank, "output 0");
    }
  }
  return why;
}

std::string SupportsRanked(const Node& node) { return SupportsMove(node, kMaxRank); }
std::string SupportsAnyRank(const Node& node) { return SupportsMove(node, 0); }

Status CheckSameCount(const CudaKernelContext& ctx, const DeviceTensor& in,
                      const DeviceTensor& out) {
  if (in.num_elements() == out.num_elements()) return Status::Ok();
  return ctx.Error(StatusCode::kInternal, "output shape ", DimsToString(out.dims),
                   " does not hold the elements of input ", DimsToString(in.dims));
}

Status TransposeRun(CudaKernelContext& ctx) {
  const DeviceTensor& in = ctx.input(0);
  const size_t rank = in.dims.size();
  std::vector<int64_t> perm = ctx.attrs().GetInts("perm");
  if (!ctx.attrs().Has("perm")) {
    for (size_t i = rank; i-- > 0;) perm.push_back(static_cast<int64_t>(i));
  }
  std::vector<bool> seen(rank, false);
  bool valid = perm.size() == rank;
  for (size_t i = 0; valid && i < rank; ++i) {
    const int64_t p = perm[i];
    valid = p >= 0 && p < static_cast<int64_t>(rank) && !seen[p];
    if (valid) seen[p] = true;
  }
  if (!valid) {
    return ctx.Error(StatusCode::kInvalidModel, "perm ", DimsToString(perm),
                     " is not a permutation of the ", rank, " input dims");
  }
  FRT_RETURN_IF_ERROR(CheckSameCount(ctx, in, ctx.output(0)));
  StridedCopy c = PermuteCopy(in.dims, perm, static_cast<int64_t>(DTypeSize(in.dtype)));
  return LaunchStridedCopy(ctx, c, in.data, ctx.output(0).data);
}

Status SliceRun(CudaKernelContext& ctx) {
  const DeviceTensor& in = ctx.input(0);
  DeviceTensor& out = ctx.output(0);
  FRT_ASSIGN_OR_RETURN(std::vector<int64_t> starts, HostInts(ctx, 1, "starts"));
  FRT_ASSIGN_OR_RETURN(std::vector<int64_t> ends, HostInts(ctx, 2, "ends"));
  FRT_ASSIGN_OR_RETURN(std::vector<int64_t> axes, HostInts(ctx, 3, "axes"));
  FRT_ASSIGN_OR_RETURN(std::vector<int64_t> steps, HostInts(ctx, 4, "steps"));
  const int64_t rank = static_cast<int64_t>(in.dims.size());
  if (!ctx.has_input(3)) {
    for (size_t i = 0; i < starts.size(); ++i) axes.push_back(static_cast<int64_t>(i));
  }
  if (!ctx.has_input(4)) steps.assign(starts.size(), 1);
  if (ends.size() != starts.size() || axes.size() != starts.size() ||
      steps.size() != starts.size()) {
    return ctx.Error(StatusCode::kInvalidModel, "starts, ends, axes and steps have ", starts.size(),
                     ", ", ends.size(), ", ", axes.size(), " and ", steps.size(),
                     " entries; they must have the same length");
  }
  if (out.dims.size() != in.dims.size()) {
    return ctx.Error(StatusCode::kInternal, "output rank ", out.dims.size(), " differs from input ",
                     "rank ", in.dims.size());
  }
  StridedCopy c;
  c.elem_size = static_cast<int64_t>(DTypeSize(in.dtype));
  c.dims = out.dims;
  c.in_strides = DenseStrides(in.dims);
  c.out_strides = DenseStrides(out.dims);
  const Dims dense = c.in_strides;
  for (size_t i = 0; i < axes.size(); ++i) {
    FRT_ASSIGN_OR_RETURN(int64_t a, NormalizeAxisFor(ctx, axes[i], rank));
    if (steps[i] == 0) {
      return ctx.Error(StatusCode::kInvalidModel, "steps[", i, "] is 0; steps must be nonzero");
    }
    tensor::SliceRange s = tensor::ClampSlice(starts[i], ends[i], steps[i], in.dims[a]);
    if (s.length != out.dims[a]) {
      return ctx.Error(StatusCode::kInternal, "slice length ", s.length, " on axis ", a,
                       " disagrees with the output shape ", DimsToString(out.dims));
    }
    if (s.length > 0) c.in_base += s.start * dense[a];
    // One element never steps (and a huge step would overflow the stride).
    c.in_strides[a] = s.length > 1 ? dense[a] * s.step : 0;
  }
  return LaunchStridedCopy(ctx, c, in.data, out.data);
}

Status ExpandRun(CudaKernelContext& ctx) {
  const DeviceTensor& in = ctx.input(0);
  DeviceTensor& out = ctx.output(0);
  if (in.dims.size() > out.dims.size()) {
    return ctx.Error(StatusCode::kInternal, "input ", DimsToString(in.dims),
                     " has a higher rank than the output ", DimsToString(out.dims));
  }
  const size_t lead = out.dims.size() - in.dims.size();
  for (size_t d = 0; d < in.dims.size(); ++d) {
    if (in.dims[d] != 1 && in.dims[d] != out.dims[lead + d]) {
      return ctx.Error(StatusCode::kInternal, "input ", DimsToString(in.dims),
                       " does not broadcast to the output ", DimsToString(out.dims));
    }
  }
  StridedCopy c;
  c.elem_size = static_cast<int64_t>(DTypeSize(in.dtype));
  c.dims = out.dims;
  c.in_strides = BroadcastStrides(in.dims, out.dims);
  c.out_strides = DenseStrides(out.dims);
  return LaunchStridedCopy(ctx, c, in.data, out.data);
}

std::string SupportsConcat(const Node& node) {
  for (size_t i = 0; i < node.inputs.size(); ++i) {
    if (!node.inputs[i]) return StrCat("input ", i, " is missing");
    if (node.inputs[i]->dtype != node.inputs[0]->dtype) {
      return StrCat("input ", i, " has dtype ", DTypeName(node.inputs[i]->dtype),
                    " but input 0 has ", DTypeName(node.inputs[0]->dtype));
    }
  }
  return SupportsAnyRank(node);
}

// Concat and Split view every tensor as [outer, axis_dim * inner] rows and
// copy row blocks between a tensor and its column range of the big one.
Status ConcatRun(CudaKernelContext& ctx) {
  DeviceTensor& out = ctx.output(0);
  const int64_t rank = static_cast<int64_t>(out.dims.size());
  FRT_ASSIGN_OR_RETURN(int64_t axis, NormalizeAxisFor(ctx, ctx.attrs().GetInt("axis", 0), rank));
  const int64_t outer = Product(out.dims, 0, static_cast<size_t>(axis));
  const int64_t inner = Product(out.dims, static_cast<size_t>(axis) + 1, out.dims.size());
  const int64_t out_row = out.dims[axis] * inner;
  int64_t col = 0;
  for (size_t i = 0; i < ctx.num_inputs(); ++i) {
    const DeviceTensor& in = ctx.input(i);
    if (static_cast<int64_t>(in.dims.size()) != rank) {
      return ctx.Error(StatusCode::kInternal, "input ", i, " ", DimsToString(in.dims),
                       " does not have the output's rank ", rank);
    }
    const int64_t row = in.dims[axis] * inner;
    if (col + row > out_row || in.num_elements() != outer * row) {
      return ctx.Error(StatusCode::kInternal, "input ", i, " ", DimsToString(in.dims),
                       " does not fit the output ", DimsToString(out.dims), " at offset ", col);
    }
    StridedCopy c;
    c.elem_size = static_cast<int64_t>(DTypeSize(out.dtype));
    c.dims = {outer, row};
    c.in_strides = {row, 1};
    c.out_strides = {out_row, 1};
    c.out_base = col;
    FRT_RETURN_IF_ERROR(LaunchStridedCopy(ctx, c, in.data, out.data));
    col += row;
  }
  if (col != out_row) {
    return ctx.Error(StatusCode::kInternal, "the inputs fill ", col, " of ", out_row,
                     " elements per row of the output ", DimsToString(out.dims));
  }
  return Status::Ok();
}

// Split sizes: from the outputs' dims when all are present (shape
// propagation computed them), else by the rule inference uses.
Result<std::vector<int64_t>> SplitSizes(CudaKernelContext& ctx, int64_t axis, int64_t dim) {
  const size_t n = ctx.num_outputs();
  std::vector<int64_t> sizes;
  bool all = true;
  for (size_t i = 0; i < n; ++i) {
    const DeviceTensor& o = ctx.output(i);
    if (o.dtype == DType::kUndefined || o.dims.size() <= static_cast<size_t>(axis)) {
      all = false;
      break;
    }
    sizes.push_back(o.dims[axis]);
  }
  if (all) return sizes;
  if (ctx.has_input(1)) return HostInts(ctx, 1, "split");
  if (ctx.attrs().Has("split")) return ctx.attrs().GetInts("split");
  const int64_t parts = static_cast<int64_t>(n);
  const int64_t chunk = ctx.attrs().Has("num_outputs") ? (dim + parts - 1) / parts : dim / parts;
  sizes.assign(n, chunk);
  sizes.back() = dim - chunk * (parts - 1);
  return sizes;
}

Status SplitRun(CudaKernelContext& ctx) {
  const DeviceTensor& in = ctx.input(0);
  const int64_t rank = static_cast<int64_t>(in.dims.size());
  FRT_ASSIGN_OR_RETURN(int64_t axis, NormalizeAxisFor(ctx, ctx.attrs().GetInt("axis", 0), rank));
  FRT_ASSIGN_OR_RETURN(std::vector<int64_t> sizes, SplitSizes(ctx, axis, in.dims[axis]));
  if (sizes.size() != ctx.num_outputs()) {
    return ctx.Error(StatusCode::kInvalidModel, "split has ", sizes.size(),
                     " entries but the node has ", ctx.num_outputs(), " outputs");
  }
  int64_t sum = 0;
  for (int64_t s : sizes) {
    if (s < 0 || __builtin_add_overflow(sum, s, &sum)) sum = -1;
    if (sum < 0) break;
  }
  if (sum != in.dims[axis]) {
    return ctx.Error(StatusCode::kInvalidModel, "split sizes ", DimsToString(sizes),
                     " do not add up to the size ", in.dims[axis], " of axis ", axis);
  }
  const int64_t outer = Product(in.dims, 0, static_cast<size_t>(axis));
  const int64_t inner = Product(in.dims, static_cast<size_t>(axis) + 1, in.dims.size());
  const int64_t in_row = in.dims[axis] * inner;
  int64_t col = 0;
  for (size_t i = 0; i < sizes.size(); ++i) {
    const int64_t row = sizes[i] * inner;
    DeviceTensor& out = ctx.output(i);
    if (out.dtype != DType::kUndefined) {  // an omitted output still advances the split point
      if (out.num_elements() != outer * row) {
        return ctx.Error(StatusCode::kInternal, "output ", i, " ", DimsToString(out.dims),
                         " disagrees with split size ", sizes[i]);
      }
      StridedCopy c;
      c.elem_size = static_cast<int64_t>(DTypeSize(in.dtype));
      c.dims = {outer, row};
      c.in_strides = {in_row, 1};
      c.out_strides = {row, 1};
      c.in_base = col;
      FRT_RETURN_IF_ERROR(LaunchStridedCopy(ctx, c, in.data, out.data));
    }
    col += row;
  }
  return Status::Ok();
}

std::string SupportsDepthSpace(const Node& node) {
  std::string why = SupportsAnyRank(node);
  if (!why.empty()) return why;
  const Value* in = node.inputs[0];
  if (in->shape && in->shape->rank() != 4) {
    return StrCat("input 0 has rank ", in->shape->rank(), "; DepthToSpace/SpaceToDepth need 4");
  }
  return "";
}

// Both ops are a reshape to 6-D, a transpose and a reshape back.
Status DepthSpaceRun(CudaKernelContext& ctx, bool to_space) {
  const DeviceTensor& in = ctx.input(0);
  DeviceTensor& out = ctx.output(0);
  const int64_t b = ctx.attrs().GetInt("blocksize", 0);
  if (in.dims.size() != 4 || b <= 0) {
    return ctx.Error(StatusCode::kInvalidModel, "needs a 4-D input and blocksize > 0, got ",
                     DimsToString(in.dims), " and ", b);
  }
  const int64_t n = in.dims[0], c = in.dims[1], h = in.dims[2], w = in.dims[3];
  const int64_t es = static_cast<int64_t>(DTypeSize(in.dtype));
  FRT_RETURN_IF_ERROR(CheckSameCount(ctx, in, out));
  StridedCopy copy;
  if (to_space) {
    if (c % (b * b) != 0) {
      return ctx.Error(StatusCode::kInvalidModel, "channels ", c, " are not divisible by ", b * b);
    }
    const int64_t cb = c / (b * b);
    copy = ctx.attrs().GetString("mode", "DCR") == "DCR"
               ? PermuteCopy({n, b, b, cb, h, w}, {0, 3, 4, 1, 5, 2}, es)
               : PermuteCopy({n, cb, b, b, h, w}, {0, 1, 4, 2, 5, 3}, es);
  } else {
    if (h % b != 0 || w % b != 0) {
      return ctx.Error(StatusCode::kInvalidModel, "height ", h, " and width ", w,
                       " must be divisible by blocksize ", b);
    }
    copy = PermuteCopy({n, c, h / b, b, w / b, b}, {0, 3, 5, 1, 2, 4}, es);
  }
  return LaunchStridedCopy(ctx, copy, in.data, out.data);
}

Status DepthToSpaceRun(CudaKernelContext& ctx) { return DepthSpaceRun(ctx, true); }
Status SpaceToDepthRun(CudaKernelContext& ctx) { return DepthSpaceRun(ctx, false); }

}  // namespace

void RegisterLayoutKernels(CudaKernelRegistry& r) {
  r.Register({"tensor.transpose", OpKind::kTranspose, SupportsRanked, TransposeRun});
  r.Register({"tensor.slice", OpKind::kSlice, SupportsRanked, SliceRun});
  r.Register({"tensor.expand", OpKind::kExpand, SupportsRanked, ExpandRun});
  r.Register({"tensor.concat", OpKind::kConcat, SupportsConcat, ConcatRun});
  r.Register({"tensor.split", OpKind::kSplit, SupportsAnyRank, SplitRun});
  r.Register({"tensor.depth_to_space", OpKind::kDepthToSpace, SupportsDepthSpace, DepthToSpaceRun});
  r.Register({"tensor.space_to_depth", OpKind::kSpaceToDepth, SupportsDepthSpace, SpaceToDepthRun});
}

}  // namespace frt::cuda_tensor
