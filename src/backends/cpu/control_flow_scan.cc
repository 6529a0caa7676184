// Reference kernel of Scan (opset 9+ semantics; opset 8 is rewritten into it
// by the importer). Iteration t feeds the body the states and, of each scan
// input, the slice at position t (or S-1-t when reversed) along its scan axis;
// each scan output element is written into its output at position t (or
// S-1-t) along the scan output axis. Slices are plain byte copies: a tensor
// viewed as [outer, S, inner] along the axis.
#include <cstring>

#include "backends/cpu/control_flow_kernels.h"
#include "ir/ops/control_flow_subgraph.h"

namespace frt {
namespace {

int64_t Product(const Dims& dims, size_t begin, size_t end) {
  int64_t p = 1;
  for (size_t i = begin; i < end; ++i) p *= dims[i];
  return p;
}

// The slice of `in` at `pos` along `axis` (the axis removed).
Result<Tensor> SliceAlong(const Tensor& in, size_t axis, int64_t pos) {
  const Dims& d = in.dims();
  Dims out_dims = d;
  out_dims.erase(out_dims.begin() + static_cast<std::ptrdiff_t>(axis));
  FRT_ASSIGN_OR_RETURN(Tensor out, Tensor::Allocate(in.dtype(), out_dims));
  const int64_t outer = Product(d, 0, axis);
  const size_t inner = static_cast<size_t>(Product(d, axis + 1, d.size())) * DTypeSize(in.dtype());
  const auto* src = static_cast<const std::byte*>(in.raw());
  auto* dst = static_cast<std::byte*>(out.raw());
  for (int64_t o = 0; o < outer && inner > 0; ++o) {
    std::memcpy(dst + o * inner, src + (o * d[axis] + pos) * inner, inner);
  }
  return out;
}

// Writes `elem` into `out` at `pos` along `axis` (out has elem's dims with
// the scan axis inserted there).
void StoreAlong(Tensor& out, size_t axis, int64_t pos, const Tensor& elem) {
  const Dims& d = out.dims();
  const int64_t outer = Product(d, 0, axis);
  const size_t inner = static_cast<size_t>(Product(d, axis + 1, d.size())) * DTypeSize(out.dtype());
  const auto* src = static_cast<const std::byte*>(elem.raw());
  auto* dst = static_cast<std::byte*>(out.raw());
  for (int64_t o = 0; o < outer && inner > 0; ++o) {
    std::memcpy(dst + (o * d[axis] + pos) * inner, src + o * inner, inner);
  }
}

}  // namespace

Status ScanKernel(KernelContext& ctx) {
  std::shared_ptr<Graph> body = ctx.attrs().GetGraph("body");
  const size_t n_explicit = NumExplicitInputs(ctx.node());
  const int64_t m_attr = ctx.attrs().GetInt("num_scan_inputs", 0);
  if (!body || m_attr < 1 || static_cast<size_t>(m_attr) > n_explicit ||
      body->inputs().size() != n_explicit || body->outputs().size() < n_explicit - m_attr) {
    return ctx.Error(StatusCode::kInvalidModel, "body graph or num_scan_inputs malformed");
  }
  const size_t m = static_cast<size_t>(m_attr);
  const size_t n = n_explicit - m;              // states
  const size_t k = body->outputs().size() - n;  // scan outputs
  const Attributes& a = ctx.attrs();
  const auto in_axes = a.GetInts("scan_input_axes", std::vector<int64_t>(m, 0));
  const auto in_dirs = a.GetInts("scan_input_directions", std::vector<int64_t>(m, 0));
  const auto out_axes = a.GetInts("scan_output_axes", std::vector<int64_t>(k, 0));
  const auto out_dirs = a.GetInts("scan_output_directions", std::vector<int64_t>(k, 0));
  if (in_axes.size() != m || in_dirs.size() != m || out_axes.size() != k || out_dirs.size() != k) {
    return ctx.Error(StatusCode::kInvalidModel, "scan axes/directions attributes malformed");
  }
  // Inference validated axes and lengths on these concrete shapes; recompute.
  std::vector<size_t> axes(m);
  int64_t seq = -1;
  for (size_t j = 0; j < m; ++j) {
    const Tensor& in = ctx.input(n + j);
    FRT_ASSIGN_OR_RETURN(int64_t axis, NormalizeAxis(in_axes[j], static_cast<int64_t>(in.rank())));
    axes[j] = static_cast<size_t>(axis);
    int64_t len = in.dims()[axes[j]];
    if (seq >= 0 && len != seq) {
      return ctx.Error(StatusCode::kInvalidArgument, "scan inputs differ in length (", seq, " and ",
                       len, ")");
    }
    seq = len;
  }
  std::vector<Tensor> states;
  for (size_t i = 0; i < n; ++i) states.push_back(ctx.input(i));
  for (int64_t t = 0; t < seq; ++t) {
    std::vector<Tensor> feeds = states;
    for (size_t j = 0; j < m; ++j) {
      int64_t pos = in_dirs[j] == 1 ? seq - 1 - t : t;
      FRT_ASSIGN_OR_RETURN(Tensor slice, SliceAlong(ctx.input(n + j), axes[j], pos));
      feeds.push_back(std::move(slice));
    }
    FRT_ASSIGN_OR_RETURN(std::vector<Tensor> outs,
                         RunCheckedSubgraph(ctx, *body, feeds, StrCat("body iteration ", t)));
    for (size_t i = 0; i < n; ++i) {
      if (outs[i].dtype() != states[i].dtype() || outs[i].dims() != states[i].dims()) {
        return ctx.Error(StatusCode::kInvalidModel, "state ", i, " enters the body as ",
                         states[i].Describe(), " but leaves it as ", outs[i].Describe(),
                         " at iteration ", t, "; Scan states keep their dtype and shape");
      }
      states[i] = outs[i];
    }
    for (size_t j = 0; j < k && n + j < ctx.num_outputs(); ++j) {
      if (!ctx.has_output(n + j)) continue;
      const Tensor& elem = outs[n + j];
      FRT_ASSIGN_OR_RETURN(int64_t axis,
                           NormalizeAxis(out_axes[j], static_cast<int64_t>(elem.rank()) + 1));
      Dims dims = elem.dims();
      dims.insert(dims.begin() + axis, seq);
      if (t == 0) {
        FRT_RETURN_IF_ERROR(ctx.AllocateOutput(n + j, elem.dtype(), dims).status());
      } else if (ctx.output(n + j).dims() != dims || ctx.output(n + j).dtype() != elem.dtype()) {
        return ctx.Error(StatusCode::kInvalidModel, "scan output ", j, " element is ",
                         elem.Describe(), " at iteration ", t,
                         " but had another dtype or shape at iteration 0");
      }
      StoreAlong(ctx.output(n + j), static_cast<size_t>(axis), out_dirs[j] == 1 ? seq - 1 - t : t,
                 elem);
    }
  }
  for (size_t i = 0; i < n && i < ctx.num_outputs(); ++i) {
    if (!ctx.has_output(i)) continue;
    auto copy = states[i].Clone();
    if (!copy.ok()) return copy.status().WithPrefix(ctx.node().Describe());
    ctx.SetOutput(i, std::move(*copy));
  }
  if (seq <= 0) {
    for (size_t j = 0; j < k && n + j < ctx.num_outputs(); ++j) {
      if (ctx.has_output(n + j)) FRT_RETURN_IF_ERROR(AllocateEmptyOutput(ctx, InferScan, n + j));
    }
  }
  return Status::Ok();
}

}  // namespace frt
