// Reference kernel of Einsum: one loop over every combination of label
// values (output labels outer, summed labels inner). Each operand reads
// through per-label strides; a label repeated within an operand adds its
// axes' strides (walking the diagonal) and a broadcast "..." axis of size 1
// gets stride 0. Floats accumulate in double, integers in wrapping uint64.
#include "ir/ops/nn_einsum.h"

#include "backends/cpu/nn_kernels.h"
#include "ir/ops/nn_window.h"  // ForEachIndex

namespace frt::nn {
namespace {

template <class Acc>
std::vector<Acc> Contract(const std::vector<std::vector<Acc>>& ops,
                          const std::vector<Dims>& label_strides, const Dims& loop_sizes,
                          size_t num_out_labels) {
  int64_t out_n = 1, sum_n = 1;
  for (size_t l = 0; l < loop_sizes.size(); ++l) {
    (l < num_out_labels ? out_n : sum_n) *= loop_sizes[l];
  }
  std::vector<Acc> out(static_cast<size_t>(out_n), Acc(0));
  if (sum_n == 0) return out;
  const Dims out_sizes(loop_sizes.begin(), loop_sizes.begin() + num_out_labels);
  const Dims sum_sizes(loop_sizes.begin() + num_out_labels, loop_sizes.end());
  int64_t o = 0;
  ForEachIndex(out_sizes, [&](const Dims& oi) {
    Acc acc(0);
    ForEachIndex(sum_sizes, [&](const Dims& si) {
      Acc prod(1);
      for (size_t k = 0; k < ops.size(); ++k) {
        int64_t off = 0;
        for (size_t l = 0; l < oi.size(); ++l) off += oi[l] * label_strides[k][l];
        for (size_t l = 0; l < si.size(); ++l) off += si[l] * label_strides[k][oi.size() + l];
        prod *= ops[k][off];
      }
      acc += prod;
    });
    out[o++] = acc;
  });
  return out;
}

Status EinsumKernel(KernelContext& ctx) {
  std::vector<size_t> ranks;
  std::vector<Dims> dims;
  for (size_t i = 0; i < ctx.num_inputs(); ++i) {
    ranks.push_back(ctx.input(i).rank());
    dims.push_back(ctx.input(i).dims());
  }
  FRT_ASSIGN_OR_RETURN(EinsumPlan plan,
                       PlanEinsum(ctx.node(), ctx.attrs().GetString("equation"), ranks));
  FRT_ASSIGN_OR_RETURN(std::vector<int64_t> size, EinsumLabelSizes(ctx.node(), plan, dims));
  // Loop order: output labels, then every other label used by an input.
  std::vector<int> loop = plan.output_labels;
  std::vector<bool> in_loop(plan.num_labels, false);
  for (int l : loop) in_loop[l] = true;
  for (const auto& labels : plan.operand_labels) {
    for (int l : labels) {
      if (!in_loop[l]) {
        in_loop[l] = true;
        loop.push_back(l);
      }
    }
  }
  std::vector<int> position(plan.num_labels, -1);
  Dims loop_sizes;
  for (size_t p = 0; p < loop.size(); ++p) {
    position[loop[p]] = static_cast<int>(p);
    loop_sizes.push_back(size[loop[p]]);
  }
  std::vector<Dims> strides(ctx.num_inputs(), Dims(loop.size(), 0));
  for (size_t k = 0; k < ctx.num_inputs(); ++k) {
    int64_t stride = 1;
    for (size_t a = dims[k].size(); a-- > 0;) {
      if (dims[k][a] != 1 || size[plan.operand_labels[k][a]] == 1) {
        strides[k][position[plan.operand_labels[k][a]]] += stride;
      }
      stride *= dims[k][a];
    }
  }
  const size_t n_out = plan.output_labels.size();
  Tensor& y = ctx.output(0);
  if (IsFloat(y.dtype())) {
    std::vector<std::vector<double>> ops;
    for (size_t k = 0; k < ctx.num_inputs(); ++k) ops.push_back(ToDoubles(ctx.input(k)));
    StoreDoubles(Contract<double>(ops, strides, loop_sizes, n_out), y);
  } else {
    std::vector<std::vector<uint64_t>> ops;
    for (size_t k = 0; k < ctx.num_inputs(); ++k) {
      std::vector<int64_t> v = ToInt64s(ctx.input(k));
      ops.emplace_back(v.begin(), v.end());
    }
    std::vector<uint64_t> r = Contract<uint64_t>(ops, strides, loop_sizes, n_out);
    StoreInt64s(std::vector<int64_t>(r.begin(), r.end()), y);
  }
  return Status::Ok();
}

}  // namespace

void RegisterNnEinsumKernels(CpuKernelRegistry& r) { r.Register(OpKind::kEinsum, EinsumKernel); }

}  // namespace frt::nn
