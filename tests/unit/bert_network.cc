#include "bert_network.h"

#include <cmath>
#include <random>

namespace frt::testing_util {
namespace {

class Builder {
 public:
  Builder(NetworkDefinition& net, uint64_t seed) : net_(net), rng_(seed) {}

  // Random weights scaled like a default init (std 1/sqrt(fan_in)).
  Result<std::string> Weight(const std::string& name, const Dims& dims, float scale) {
    int64_t n = 1;
    for (int64_t d : dims) n *= d;
    std::normal_distribution<float> dist(0.0f, scale);
    std::vector<float> data(static_cast<size_t>(n));
    for (float& v : data) v = dist(rng_);
    FRT_RETURN_IF_ERROR(net_.AddConstant(name, DType::kFloat32, dims, data.data()));
    return name;
  }
  Result<std::string> Scalar(const std::string& name, float v) {
    FRT_RETURN_IF_ERROR(net_.AddConstant(name, DType::kFloat32, {}, &v));
    return name;
  }
  Result<std::string> Ints(const std::string& name, const std::vector<int64_t>& v) {
    FRT_RETURN_IF_ERROR(
        net_.AddConstant(name, DType::kInt64, {static_cast<int64_t>(v.size())}, v.data()));
    return name;
  }
  // Adds a one-output layer named `out` and returns the output name.
  Result<std::string> Layer(const std::string& op, const std::string& out,
                            const std::vector<std::string>& inputs,
                            const LayerAttributes& attrs = LayerAttributes()) {
    FRT_RETURN_IF_ERROR(net_.AddLayer(op, out, inputs, {out}, attrs));
    return out;
  }

 private:
  NetworkDefinition& net_;
  std::mt19937_64 rng_;
};

}  // namespace

Result<NetworkDefinition> MakeBertNetwork(const BertShape& s, uint64_t seed) {
  NetworkDefinition net;
  Builder b(net, seed);
  const int64_t h = s.hidden, head_dim = s.hidden / s.heads;
  FRT_RETURN_IF_ERROR(net.AddInput(
      "x", DType::kFloat32, {InputDim::Dynamic("batch"), InputDim::Dynamic("seq"), InputDim::Fixed(h)}));
  float ws = 1.0f / std::sqrt(static_cast<float>(h));
  FRT_ASSIGN_OR_RETURN(auto wq, b.Weight("wq", {h, h}, ws));
  FRT_ASSIGN_OR_RETURN(auto wk, b.Weight("wk", {h, h}, ws));
  FRT_ASSIGN_OR_RETURN(auto wv, b.Weight("wv", {h, h}, ws));
  FRT_ASSIGN_OR_RETURN(auto wo, b.Weight("wo", {h, h}, ws));
  FRT_ASSIGN_OR_RETURN(auto w1, b.Weight("w1", {h, s.ffn}, ws));
  FRT_ASSIGN_OR_RETURN(auto w2, b.Weight("w2", {s.ffn, h}, 1.0f / std::sqrt(float(s.ffn))));
  FRT_ASSIGN_OR_RETURN(auto bias, b.Weight("bias", {h}, 0.02f));
  FRT_ASSIGN_OR_RETURN(auto bias_ffn, b.Weight("bias_ffn", {s.ffn}, 0.02f));
  FRT_ASSIGN_OR_RETURN(auto gamma, b.Weight("gamma", {h}, 0.1f));
  FRT_ASSIGN_OR_RETURN(auto beta, b.Weight("beta", {h}, 0.1f));
  FRT_ASSIGN_OR_RETURN(auto split_heads, b.Ints("split_heads", {0, -1, s.heads, head_dim}));
  FRT_ASSIGN_OR_RETURN(auto merge_heads, b.Ints("merge_heads", {0, -1, h}));
  FRT_ASSIGN_OR_RETURN(auto scale, b.Scalar("scale", 1.0f / std::sqrt(float(head_dim))));
  FRT_ASSIGN_OR_RETURN(auto half, b.Scalar("half", 0.5f));
  FRT_ASSIGN_OR_RETURN(auto one, b.Scalar("one", 1.0f));
  FRT_ASSIGN_OR_RETURN(auto inv_sqrt2, b.Scalar("inv_sqrt2", 1.0f / std::sqrt(2.0f)));
  LayerAttributes to_heads, to_heads_t, from_heads, softmax, ln;
  to_heads.SetInts("perm", {0, 2, 1, 3});
  to_heads_t.SetInts("perm", {0, 2, 3, 1});
  from_heads.SetInts("perm", {0, 2, 1, 3});
  softmax.SetInt("axis", -1);
  ln.SetInt("axis", -1).SetFloat("epsilon", 1e-12f);

  std::string x = "x";
  for (int l = 0; l < s.layers; ++l) {
    std::string p = "l" + std::to_string(l) + "/";
    auto proj = [&](const std::string& name, const std::string& in, const std::string& w,
                    const std::string& bias_name) -> Result<std::string> {
      FRT_ASSIGN_OR_RETURN(auto mm, b.Layer("MatMul", p + name + "_mm", {in, w}));
      return b.Layer("Add", p + name, {mm, bias_name});
    };
    FRT_ASSIGN_OR_RETURN(auto q, proj("q", x, wq, bias));
    FRT_ASSIGN_OR_RETURN(auto k, proj("k", x, wk, bias));
    FRT_ASSIGN_OR_RETURN(auto v, proj("v", x, wv, bias));
    FRT_ASSIGN_OR_RETURN(auto q4, b.Layer("Reshape", p + "q4", {q, split_heads}));
    FRT_ASSIGN_OR_RETURN(auto k4, b.Layer("Reshape", p + "k4", {k, split_heads}));
    FRT_ASSIGN_OR_RETURN(auto v4, b.Layer("Reshape", p + "v4", {v, split_heads}));
    FRT_ASSIGN_OR_RETURN(auto qh, b.Layer("Transpose", p + "qh", {q4}, to_heads));
    FRT_ASSIGN_OR_RETURN(auto kt, b.Layer("Transpose", p + "kt", {k4}, to_heads_t));
    FRT_ASSIGN_OR_RETURN(auto vh, b.Layer("Transpose", p + "vh", {v4}, to_heads));
    FRT_ASSIGN_OR_RETURN(auto scores, b.Layer("MatMul", p + "scores", {qh, kt}));
    FRT_ASSIGN_OR_RETURN(auto scaled, b.Layer("Mul", p + "scaled", {scores, scale}));
    FRT_ASSIGN_OR_RETURN(auto probs, b.Layer("Softmax", p + "probs", {scaled}, softmax));
    FRT_ASSIGN_OR_RETURN(auto ctx, b.Layer("MatMul", p + "ctx", {probs, vh}));
    FRT_ASSIGN_OR_RETURN(auto ctx_t, b.Layer("Transpose", p + "ctx_t", {ctx}, from_heads));
    FRT_ASSIGN_OR_RETURN(auto merged, b.Layer("Reshape", p + "merged", {ctx_t, merge_heads}));
    FRT_ASSIGN_OR_RETURN(auto attn, proj("attn_out", merged, wo, bias));
    FRT_ASSIGN_OR_RETURN(auto res1, b.Layer("Add", p + "res1", {attn, x}));
    FRT_ASSIGN_OR_RETURN(auto ln1, b.Layer("LayerNormalization", p + "ln1", {res1, gamma, beta}, ln));
    FRT_ASSIGN_OR_RETURN(auto f1, proj("ffn1", ln1, w1, bias_ffn));
    // GELU, erf form: 0.5 * f1 * (1 + erf(f1 / sqrt(2)))
    FRT_ASSIGN_OR_RETURN(auto g0, b.Layer("Mul", p + "gelu_div", {f1, inv_sqrt2}));
    FRT_ASSIGN_OR_RETURN(auto g1, b.Layer("Erf", p + "gelu_erf", {g0}));
    FRT_ASSIGN_OR_RETURN(auto g2, b.Layer("Add", p + "gelu_add", {g1, one}));
    FRT_ASSIGN_OR_RETURN(auto g3, b.Layer("Mul", p + "gelu_mul", {f1, g2}));
    FRT_ASSIGN_OR_RETURN(auto gelu, b.Layer("Mul", p + "gelu", {g3, half}));
    FRT_ASSIGN_OR_RETURN(auto f2, proj("ffn2", gelu, w2, bias));
    FRT_ASSIGN_OR_RETURN(auto res2, b.Layer("Add", p + "res2", {f2, ln1}));
    FRT_ASSIGN_OR_RETURN(x, b.Layer("LayerNormalization", p + "ln2", {res2, gamma, beta}, ln));
  }
  FRT_RETURN_IF_ERROR(net.MarkOutput(x));
  return net;
}

}  // namespace frt::testing_util
