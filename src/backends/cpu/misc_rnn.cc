// Reference kernels of RNN, GRU and LSTM: one loop over directions, batch
// entries and time steps, each step a matrix-vector product per gate in
// double. Gate blocks follow ONNX: GRU W/R/B rows [z, r, h], LSTM [i, o, f, c]
// and P [i, o, f]. sequence_lens shortens a batch entry: its later steps
// output zeros and Y_h / Y_c hold the state after its last valid step (the
// reverse direction starts from that last valid step). `clip` bounds every
// gate's activation input to [-clip, clip]; like onnxruntime, LSTM's cell
// state is not clipped before h.
#include "ir/ops/misc_rnn.h"

#include <algorithm>

#include "backends/cpu/misc_kernel_util.h"

namespace frt {
namespace {

struct RnnProblem {
  int64_t seq = 0, batch = 0, input = 0, hidden = 0, dirs = 1;
  std::vector<double> x;        // [seq][batch][input]
  std::vector<double> w, r, b;  // [dirs][G*H][input], [dirs][G*H][H], [dirs][2*G*H]
  std::vector<double> p;        // [dirs][3*H] (LSTM)
  std::vector<double> h0, c0;   // [dirs][batch][H]
  std::vector<int64_t> lens;    // [batch]
};

// [a][b][c] -> [b][a][c] (layout 1 tensors to the layout 0 order, or back).
std::vector<double> SwapLeading(const std::vector<double>& v, int64_t a, int64_t b, int64_t c) {
  std::vector<double> out(v.size());
  for (int64_t i = 0; i < a; ++i) {
    for (int64_t j = 0; j < b; ++j) {
      for (int64_t k = 0; k < c; ++k) out[(j * a + i) * c + k] = v[(i * b + j) * c + k];
    }
  }
  return out;
}

// Reads an optional input of `n` elements, or zeros when absent.
Result<std::vector<double>> Optional(const KernelContext& ctx, size_t i, int64_t n,
                                     const char* name) {
  if (!ctx.has_input(i)) return std::vector<double>(static_cast<size_t>(n), 0.0);
  if (ctx.input(i).num_elements() != n) {
    return ctx.Error(StatusCode::kInvalidModel, name, " has shape ",
                     DimsToString(ctx.input(i).dims()), " (", ctx.input(i).num_elements(),
                     " elements) but ", n, " elements are required");
  }
  return ToDoubles(ctx.input(i));
}

Result<RnnProblem> ReadProblem(const KernelContext& ctx, const RnnAttrs& a) {
  RnnProblem p;
  const Tensor& x = ctx.input(0);
  const Tensor& w = ctx.input(1);
  const Tensor& r = ctx.input(2);
  if (x.rank() != 3 || w.rank() != 3 || r.rank() != 3) {
    return ctx.Error(StatusCode::kInvalidModel, "X, W and R must have rank 3, got ",
                     DimsToString(x.dims()), ", ", DimsToString(w.dims()), ", ",
                     DimsToString(r.dims()));
  }
  p.seq = x.dims()[a.layout == 0 ? 0 : 1];
  p.batch = x.dims()[a.layout == 0 ? 1 : 0];
  p.input = x.dims()[2];
  p.hidden = a.hidden_size > 0 ? a.hidden_size : r.dims()[2];
  p.dirs = a.num_directions;
  const int64_t gh = a.gates * p.hidden;
  if (w.dims() != Dims{p.dirs, gh, p.input} || r.dims() != Dims{p.dirs, gh, p.hidden}) {
    return ctx.Error(StatusCode::kInvalidModel, "W ", DimsToString(w.dims()), " and R ",
                     DimsToString(r.dims()), " must be ", DimsToString({p.dirs, gh, p.input}),
                     " and ", DimsToString({p.dirs, gh, p.hidden}));
  }
  int64_t state = 0;
  if (__builtin_mul_overflow(p.dirs * p.batch, p.hidden, &state)) state = -1;
  FRT_RETURN_IF_ERROR(MiscCheckScratch(ctx, state));
  p.x = ToDoubles(x);
  if (a.layout == 1) p.x = SwapLeading(p.x, p.batch, p.seq, p.input);
  p.w = ToDoubles(w);
  p.r = ToDoubles(r);
  FRT_ASSIGN_OR_RETURN(p.b, Optional(ctx, 3, p.dirs * 2 * gh, "B"));
  FRT_ASSIGN_OR_RETURN(p.h0, Optional(ctx, 5, state, "initial_h"));
  if (a.layout == 1) p.h0 = SwapLeading(p.h0, p.batch, p.dirs, p.hidden);
  if (ctx.node().op == OpKind::kLSTM) {
    FRT_ASSIGN_OR_RETURN(p.c0, Optional(ctx, 6, state, "initial_c"));
    if (a.layout == 1) p.c0 = SwapLeading(p.c0, p.batch, p.dirs, p.hidden);
    FRT_ASSIGN_OR_RETURN(p.p, Optional(ctx, 7, p.dirs * 3 * p.hidden, "P"));
  } else {
    p.c0.assign(static_cast<size_t>(state), 0.0);
  }
  p.lens.assign(static_cast<size_t>(p.batch), p.seq);
  if (ctx.has_input(4)) {
    FRT_ASSIGN_OR_RETURN(p.lens, ctx.input(4).ToInt64Vector());
    if (static_cast<int64_t>(p.lens.size()) != p.batch) {
      return ctx.Error(StatusCode::kInvalidModel, "sequence_lens has ", p.lens.size(),
                       " values but the batch is ", p.batch);
    }
    for (int64_t len : p.lens) {
      if (len < 0 || len > p.seq) {
        return ctx.Error(StatusCode::kOutOfRange, "sequence_lens value ", len, " is outside [0, ",
                         p.seq, "]");
      }
    }
  }
  return p;
}

// The state of one direction of one batch entry, advanced one step at a time.
struct Cell {
  const RnnAttrs& a;
  const RnnProblem& p;
  int64_t dir;
  std::vector<double> h, c;

  // Clips the gate input (not the LSTM cell state fed to h, as onnxruntime).
  double Act(int k, double v, bool clip = true) const {
    if (clip && a.clip) v = std::clamp(v, -*a.clip, *a.clip);
    return a.activations[dir * a.activations_per_dir + k](v);
  }
  // Row `row` of W (times x) plus its bias Wb.
  double InputTerm(int64_t row, const double* x) const {
    const double* w = p.w.data() + (dir * a.gates * p.hidden + row) * p.input;
    double s = p.b[dir * 2 * a.gates * p.hidden + row];
    for (int64_t k = 0; k < p.input; ++k) s += w[k] * x[k];
    return s;
  }
  // Row `row` of R times `state`, plus its bias Rb.
  double StateTerm(int64_t row, const std::vector<double>& state) const {
    const double* r = p.r.data() + (dir * a.gates * p.hidden + row) * p.hidden;
    double s = p.b[(dir * 2 + 1) * a.gates * p.hidden + row];
    for (int64_t k = 0; k < p.hidden; ++k) s += r[k] * state[k];
    return s;
  }

  void Step(const double* x) {
    const int64_t H = p.hidden;
    std::vector<double> next(static_cast<size_t>(H));
    if (a.gates == 1) {  // RNN: H = f(Wx + Rh + Wb + Rb)
      for (int64_t j = 0; j < H; ++j) next[j] = Act(0, InputTerm(j, x) + StateTerm(j, h));
    } else if (a.gates == 3) {  // GRU
      std::vector<double> z(H), r(H), rh(H);
      for (int64_t j = 0; j < H; ++j) {
        z[j] = Act(0, InputTerm(j, x) + StateTerm(j, h));
        r[j] = Act(0, InputTerm(H + j, x) + StateTerm(H + j, h));
        rh[j] = r[j] * h[j];
      }
      for (int64_t j = 0; j < H; ++j) {
        const double pre = a.linear_before_reset
                               ? InputTerm(2 * H + j, x) + r[j] * StateTerm(2 * H + j, h)
                               : InputTerm(2 * H + j, x) + StateTerm(2 * H + j, rh);
        next[j] = (1.0 - z[j]) * Act(1, pre) + z[j] * h[j];
      }
    } else {  // LSTM
      const double* peep = p.p.data() + dir * 3 * H;
      std::vector<double> cell(H);
      for (int64_t j = 0; j < H; ++j) {
        const double i = Act(0, InputTerm(j, x) + StateTerm(j, h) + peep[j] * c[j]);
        double f =
            Act(0, InputTerm(2 * H + j, x) + StateTerm(2 * H + j, h) + peep[2 * H + j] * c[j]);
        if (a.input_forget) f = 1.0 - i;
        const double g = Act(1, InputTerm(3 * H + j, x) + StateTerm(3 * H + j, h));
        cell[j] = f * c[j] + i * g;
      }
      for (int64_t j = 0; j < H; ++j) {
        const double o = Act(0, InputTerm(H + j, x) + StateTerm(H + j, h) + peep[H + j] * cell[j]);
        next[j] = o * Act(2, cell[j], /*clip=*/false);
      }
      c = std::move(cell);
    }
    h = std::move(next);
  }
};

Status StoreOutput(KernelContext& ctx, size_t i, const Dims& dims, const std::vector<double>& v) {
  if (!ctx.has_output(i)) return Status::Ok();
  Tensor* t = &ctx.output(i);
  if (!t->defined()) {
    FRT_ASSIGN_OR_RETURN(t, ctx.AllocateOutput(i, ctx.input(0).dtype(), dims));
  }
  MiscStoreSaturated(*t, v);
  return Status::Ok();
}

Status RecurrentKernel(KernelContext& ctx) {
  FRT_ASSIGN_OR_RETURN(RnnAttrs a, ReadRnnAttrs(ctx.node()));
  FRT_ASSIGN_OR_RETURN(RnnProblem p, ReadProblem(ctx, a));
  const int64_t H = p.hidden;
  std::vector<double> y(static_cast<size_t>(p.seq * p.dirs * p.batch * H), 0.0);
  std::vector<double> yh(p.h0.size()), yc(p.c0.size());
  for (int64_t d = 0; d < p.dirs; ++d) {
    const bool reverse = a.direction == RnnDirection::kReverse || d == 1;
    for (int64_t b = 0; b < p.batch; ++b) {
      const size_t state_at = static_cast<size_t>((d * p.batch + b) * H);
      Cell cell{a,
                p,
                d,
                {p.h0.begin() + state_at, p.h0.begin() + state_at + H},
                {p.c0.begin() + state_at, p.c0.begin() + state_at + H}};
      const int64_t len = p.lens[b];
      for (int64_t s = 0; s < len; ++s) {
        const int64_t t = reverse ? len - 1 - s : s;
        cell.Step(p.x.data() + (t * p.batch + b) * p.input);
        std::copy(cell.h.begin(), cell.h.end(), y.begin() + ((t * p.dirs + d) * p.batch + b) * H);
      }
      std::copy(cell.h.begin(), cell.h.end(), yh.begin() + state_at);
      std::copy(cell.c.begin(), cell.c.end(), yc.begin() + state_at);
    }
  }
  Dims y_dims{p.seq, p.dirs, p.batch, H};
  Dims state_dims{p.dirs, p.batch, H};
  if (a.layout == 1) {
    std::vector<double> by(y.size());  // [seq][dirs][batch][H] -> [batch][seq][dirs][H]
    for (int64_t s = 0; s < p.seq; ++s) {
      for (int64_t d = 0; d < p.dirs; ++d) {
        for (int64_t b = 0; b < p.batch; ++b) {
          std::copy_n(y.begin() + ((s * p.dirs + d) * p.batch + b) * H, H,
                      by.begin() + ((b * p.seq + s) * p.dirs + d) * H);
        }
      }
    }
    y = std::move(by);
    y_dims = {p.batch, p.seq, p.dirs, H};
    yh = SwapLeading(yh, p.dirs, p.batch, H);
    yc = SwapLeading(yc, p.dirs, p.batch, H);
    state_dims = {p.batch, p.dirs, H};
  }
  FRT_RETURN_IF_ERROR(StoreOutput(ctx, 0, y_dims, y));
  FRT_RETURN_IF_ERROR(StoreOutput(ctx, 1, state_dims, yh));
  if (ctx.node().op == OpKind::kLSTM) FRT_RETURN_IF_ERROR(StoreOutput(ctx, 2, state_dims, yc));
  return Status::Ok();
}

}  // namespace

void RegisterMiscRnnKernels(CpuKernelRegistry& r) {
  r.Register(OpKind::kRNN, RecurrentKernel);
  r.Register(OpKind::kGRU, RecurrentKernel);
  r.Register(OpKind::kLSTM, RecurrentKernel);
}

}  // namespace frt
