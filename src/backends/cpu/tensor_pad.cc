// Reference kernels that map output positions back to input positions with
// per-axis rules rather than plain strides: Pad (constant/reflect/edge/wrap),
// Tile (modulo), Trilu (keep one triangle) and ReverseSequence (reverse a
// prefix of each batch entry along time).
#include "backends/cpu/broadcast.h"
#include "backends/cpu/tensor_kernel_util.h"

namespace frt::tensor_cpu {
namespace {

enum class PadMode { kConstant, kReflect, kEdge, kWrap };

// Maps an index outside [0, size) into it. Reflect repeats with period
// 2 * (size - 1) as numpy's np.pad does for pads wider than the axis.
// Precondition: size > 0.
int64_t MapPadIndex(int64_t i, int64_t size, PadMode mode) {
  switch (mode) {
    case PadMode::kEdge:
      return i < 0 ? 0 : size - 1;
    case PadMode::kWrap:
      return ((i % size) + size) % size;
    case PadMode::kReflect: {
      if (size == 1) return 0;
      int64_t period = 2 * (size - 1);
      int64_t m = ((i % period) + period) % period;
      return m < size ? m : period - m;
    }
    case PadMode::kConstant:
      break;
  }
  return -1;
}

Status PadKernel(KernelContext& ctx) {
  const Tensor& in = ctx.input(0);
  FRT_ASSIGN_OR_RETURN(Tensor * out, StaticOutput(ctx, 0));
  FRT_ASSIGN_OR_RETURN(std::vector<int64_t> pads, ReadInts(ctx, 1, "pads"));
  FRT_ASSIGN_OR_RETURN(std::vector<int64_t> axes, ReadInts(ctx, 3, "axes"));
  size_t rank = in.rank();
  if (!ctx.has_input(3)) {
    for (size_t i = 0; i < rank; ++i) axes.push_back(static_cast<int64_t>(i));
  }
  Dims before(rank, 0);
  for (size_t i = 0; i < axes.size(); ++i) {
    FRT_ASSIGN_OR_RETURN(int64_t a, NormalizeAxis(axes[i], static_cast<int64_t>(rank)));
    before[a] = pads[i];
  }
  std::string mode_name = ctx.attrs().GetString("mode", "constant");
  PadMode mode = mode_name == "reflect" ? PadMode::kReflect
                 : mode_name == "edge"  ? PadMode::kEdge
                 : mode_name == "wrap"  ? PadMode::kWrap
                                        : PadMode::kConstant;
  size_t es = DTypeSize(in.dtype());
  std::vector<std::byte> value(es, std::byte{0});
  if (ctx.has_input(2) && ctx.input(2).num_elements() > 0) {
    std::memcpy(value.data(), ctx.input(2).raw(), es);
  }
  Dims strides = RowMajorStrides(in.dims());
  std::byte* dst = Bytes(*out);
  ForEachIndex(out->dims(), [&](const Dims& idx) {
    int64_t offset = 0;
    bool inside = true;
    for (size_t d = 0; d < rank && inside; ++d) {
      int64_t i = idx[d] - before[d];
      if (i < 0 || i >= in.dims()[d]) {
        if (mode == PadMode::kConstant) {
          inside = false;
          break;
        }
        i = MapPadIndex(i, in.dims()[d], mode);
      }
      offset += i * strides[d];
    }
    std::memcpy(dst, inside ? Bytes(in) + offset * es : value.data(), es);
    dst += es;
  });
  return Status::Ok();
}

Status TileKernel(KernelContext& ctx) {
  const Tensor& in = ctx.input(0);
  FRT_ASSIGN_OR_RETURN(Tensor * out, StaticOutput(ctx, 0));
  size_t es = DTypeSize(in.dtype());
  Dims strides = RowMajorStrides(in.dims());
  std::byte* dst = Bytes(*out);
  ForEachIndex(out->dims(), [&](const Dims& idx) {
    int64_t offset = 0;
    for (size_t d = 0; d < idx.size(); ++d) offset += (idx[d] % in.dims()[d]) * strides[d];
    std::memcpy(dst, Bytes(in) + offset * es, es);
    dst += es;
  });
  return Status::Ok();
}

Status TriluKernel(KernelContext& ctx) {
  const Tensor& in = ctx.input(0);
  FRT_ASSIGN_OR_RETURN(Tensor * out, StaticOutput(ctx, 0));
  int64_t k = 0;
  if (ctx.has_input(1)) {
    FRT_ASSIGN_OR_RETURN(std::vector<int64_t> kv, ReadInts(ctx, 1, "k"));
    if (kv.size() != 1) {
      return ctx.Error(StatusCode::kInvalidModel, "k must hold one value, got ", kv.size());
    }
    k = kv[0];
  }
  bool upper = ctx.attrs().GetInt("upper", 1) != 0;
  size_t es = DTypeSize(in.dtype());
  size_t rank = in.rank();
  int64_t rows = in.dims()[rank - 2], cols = in.dims()[rank - 1];
  int64_t batches = DimsProduct(in.dims(), 0, rank - 2);
  std::memset(out->raw(), 0, out->nbytes());
  for (int64_t b = 0; b < batches; ++b) {
    for (int64_t i = 0; i < rows; ++i) {
      for (int64_t j = 0; j < cols; ++j) {
        // j - i is small, so comparing it with any k cannot overflow.
        bool keep = upper ? (j - i >= k) : (j - i <= k);
        if (!keep) continue;
        int64_t off = (b * rows + i) * cols + j;
        std::memcpy(Bytes(*out) + off * es, Bytes(in) + off * es, es);
      }
    }
  }
  return Status::Ok();
}

Status ReverseSequenceKernel(KernelContext& ctx) {
  const Tensor& in = ctx.input(0);
  FRT_ASSIGN_OR_RETURN(Tensor * out, StaticOutput(ctx, 0));
  FRT_ASSIGN_OR_RETURN(std::vector<int64_t> lens, ReadInts(ctx, 1, "sequence_lens"));
  int64_t batch_axis = ctx.attrs().GetInt("batch_axis", 1);
  int64_t time_axis = ctx.attrs().GetInt("time_axis", 0);
  int64_t batch = in.dims()[batch_axis], steps = in.dims()[time_axis];
  if (static_cast<int64_t>(lens.size()) != batch) {
    return ctx.Error(StatusCode::kInvalidArgument, "sequence_lens has ", lens.size(),
                     " entries but the batch axis has size ", batch);
  }
  size_t es = DTypeSize(in.dtype());
  int64_t inner = DimsProduct(in.dims(), 2, in.rank()) * static_cast<int64_t>(es);
  Dims strides = RowMajorStrides(in.dims());
  int64_t bstride = strides[batch_axis] * static_cast<int64_t>(es);
  int64_t tstride = strides[time_axis] * static_cast<int64_t>(es);
  for (int64_t b = 0; b < batch; ++b) {
    int64_t len = lens[b];
    if (len < 0 || len > steps) {
      return ctx.Error(StatusCode::kOutOfRange, "sequence_lens[", b, "] = ", len,
                       " is outside [0, ", steps, "]");
    }
    for (int64_t t = 0; t < steps; ++t) {
      int64_t src_t = t < len ? len - 1 - t : t;
      std::memcpy(Bytes(*out) + b * bstride + t * tstride,
                  Bytes(in) + b * bstride + src_t * tstride, inner);
    }
  }
  return Status::Ok();
}

}  // namespace

void RegisterTensorPadKernels(CpuKernelRegistry& r) {
  r.Register(OpKind::kPad, PadKernel);
  r.Register(OpKind::kTile, TileKernel);
  r.Register(OpKind::kTrilu, TriluKernel);
  r.Register(OpKind::kReverseSequence, ReverseSequenceKernel);
}

}  // namespace frt::tensor_cpu
