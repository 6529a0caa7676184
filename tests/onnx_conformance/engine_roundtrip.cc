#include "engine_roundtrip.h"

#include <algorithm>
#include <cstring>

#include "fusionrt/builder.h"
#include "fusionrt/onnx.h"

namespace frt {
namespace {

Result<OptimizationProfile> ProfileFor(const NetworkDefinition& net,
                                       const std::vector<std::map<std::string, Tensor>>& feeds) {
  OptimizationProfile profile;
  std::map<std::string, std::pair<Dims, Dims>> bounds;  // name -> (min, max)
  for (const auto& set : feeds) {
    for (const auto& [name, t] : set) {
      auto [it, fresh] = bounds.emplace(name, std::make_pair(t.dims(), t.dims()));
      if (fresh) continue;
      if (it->second.first.size() != t.rank()) {
        return MakeError(StatusCode::kUnsupported, "input \"", name, "\" changes rank across data sets");
      }
      for (size_t d = 0; d < t.rank(); ++d) {
        it->second.first[d] = std::min(it->second.first[d], t.dims()[d]);
        it->second.second[d] = std::max(it->second.second[d], t.dims()[d]);
      }
    }
  }
  std::vector<std::string> inputs = net.input_names();
  for (const auto& [name, mm] : bounds) {
    if (std::find(inputs.begin(), inputs.end(), name) == inputs.end()) continue;
    FRT_RETURN_IF_ERROR(profile.SetShapes(name, mm.first, feeds[0].at(name).dims(), mm.second));
  }
  return profile;
}

Result<std::vector<Tensor>> RunContext(const Engine& engine, ExecutionContext& ctx,
                                       const std::map<std::string, Tensor>& feeds) {
  for (const auto& [name, t] : feeds) {
    const TensorDesc* d = engine.FindTensor(name);
    if (d == nullptr) continue;  // an initializer override: the engine keeps the constant
    FRT_RETURN_IF_ERROR(ctx.SetInputShape(name, t.dims()));
    // Zero-size tensors have no buffer; any aligned non-null address will do.
    alignas(64) static std::byte empty[64];
    void* p = t.nbytes() ? const_cast<void*>(t.raw()) : empty;
    FRT_RETURN_IF_ERROR(ctx.SetTensorAddress(name, p, t.nbytes()));
  }
  FRT_RETURN_IF_ERROR(ctx.Execute());
  std::vector<Tensor> outs;
  for (const TensorDesc& d : engine.io_tensors()) {
    if (d.is_input) continue;
    FRT_ASSIGN_OR_RETURN(Dims dims, ctx.GetTensorShape(d.name));
    outs.push_back(Tensor::View(d.dtype, dims, const_cast<void*>(ctx.GetTensorAddress(d.name))));
  }
  return outs;
}

}  // namespace

std::string CheckEngineRoundTrip(const std::string& model_path,
                                 const std::vector<std::map<std::string, Tensor>>& feeds,
                                 const std::vector<std::vector<Tensor>>& reference) {
  auto net = ParseOnnxFile(model_path);
  if (!net.ok()) return "parse: " + net.status().ToString();
  auto profile = ProfileFor(*net, feeds);
  if (!profile.ok()) return "profile: " + profile.status().ToString();
  BuilderConfig config;
  if (!profile->shapes().empty()) config.profiles.push_back(*profile);
  auto built = Builder::Build(*net, config);
  if (!built.ok()) return "build: " + built.status().ToString();
  auto bytes = (*built)->Serialize();
  if (!bytes.ok()) return "serialize: " + bytes.status().ToString();
  auto engine = Engine::Deserialize(bytes->data(), bytes->size(), model_path);
  if (!engine.ok()) return "load: " + engine.status().ToString();
  auto ctx = (*engine)->CreateContext();
  if (!ctx.ok()) return "context: " + ctx.status().ToString();
  for (size_t s = 0; s < feeds.size(); ++s) {
    auto outs = RunContext(**engine, **ctx, feeds[s]);
    if (!outs.ok()) return StrCat("data set ", s, ": run: ", outs.status().ToString());
    for (size_t i = 0; i < outs->size() && i < reference[s].size(); ++i) {
      const Tensor& a = (*outs)[i];
      const Tensor& b = reference[s][i];
      if (a.dtype() != b.dtype() || a.dims() != b.dims() ||
          (a.nbytes() && std::memcmp(a.raw(), b.raw(), a.nbytes()) != 0)) {
        return StrCat("data set ", s, " output ", i, ": engine gives ", a.Describe(),
                      ", the reference executor ", b.Describe(),
                      a.dims() == b.dims() ? " (values differ)" : "");
      }
    }
  }
  return "";
}

}  // namespace frt
