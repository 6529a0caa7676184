#include "builder/profiles.h"

namespace frt {

Status OptimizationProfile::SetShapes(const std::string& input, const Dims& min, const Dims& opt,
                                      const Dims& max) {
  auto where = [&] {
    return StrCat("profile shapes for \"", input, "\" (min ", DimsToString(min), ", opt ",
                  DimsToString(opt), ", max ", DimsToString(max), ")");
  };
  if (min.size() != opt.size() || opt.size() != max.size()) {
    return MakeError(StatusCode::kInvalidArgument, where(), ": ranks differ");
  }
  for (size_t d = 0; d < min.size(); ++d) {
    if (min[d] < 0) {
      return MakeError(StatusCode::kInvalidArgument, where(), ": dimension ", d, " is negative");
    }
    if (min[d] > opt[d] || opt[d] > max[d]) {
      return MakeError(StatusCode::kInvalidArgument, where(), ": dimension ", d,
                       " must satisfy min <= opt <= max");
    }
  }
  shapes_[input] = {min, opt, max};
  return Status::Ok();
}

namespace {

// Dims of `v` when its declared shape is fully static.
std::optional<Dims> StaticDims(const Value& v) {
  if (v.shape && v.shape->is_static()) return v.shape->static_dims();
  return std::nullopt;
}

Status CheckAgainstDeclared(const Value& v, const ShapeRange& r, size_t profile_index) {
  if (!v.shape) return Status::Ok();  // rank unknown: anything goes
  const Shape& want = *v.shape;
  for (const Dims* dims : {&r.min, &r.opt, &r.max}) {
    if (dims->size() != want.rank()) {
      return MakeError(StatusCode::kInvalidArgument, "profile ", profile_index, ": input \"",
                       v.name, "\" has shape ", want.ToString(), " (rank ", want.rank(),
                       ") but the profile gives ", DimsToString(*dims));
    }
    for (size_t d = 0; d < want.rank(); ++d) {
      if (want[d].is_static() && want[d].value() != (*dims)[d]) {
        return MakeError(StatusCode::kInvalidArgument, "profile ", profile_index, ": input \"",
                         v.name, "\" has shape ", want.ToString(), " but the profile gives ",
                         DimsToString(*dims), " (dimension ", d, " is fixed at ", want[d].value(),
                         ")");
      }
    }
  }
  return Status::Ok();
}

}  // namespace

Result<std::vector<Profile>> ResolveProfiles(const Graph& graph,
                                             const std::vector<OptimizationProfile>& profiles) {
  std::vector<const Value*> runtime_inputs;
  for (const Value* in : graph.inputs()) {
    if (!in->constant) runtime_inputs.push_back(in);
  }
  std::vector<OptimizationProfile> given = profiles;
  if (given.empty()) given.emplace_back();  // static networks need no profile
  std::vector<Profile> out;
  for (size_t p = 0; p < given.size(); ++p) {
    Profile profile;
    for (const auto& [name, range] : given[p].shapes()) {
      const Value* v = graph.FindValue(name);
      if (v == nullptr || !v->is_graph_input || v->constant) {
        return MakeError(StatusCode::kNotFound, "profile ", p, " names \"", name,
                         "\", which is not a runtime input of the network");
      }
    }
    for (const Value* in : runtime_inputs) {
      auto it = given[p].shapes().find(in->name);
      std::optional<Dims> fixed = StaticDims(*in);
      if (it == given[p].shapes().end()) {
        if (fixed) continue;
        return MakeError(StatusCode::kInvalidArgument, "input \"", in->name,
                         "\" has dynamic shape ",
                         in->shape ? in->shape->ToString() : std::string("[?]"),
                         " but optimization profile ", p,
                         " gives no min/opt/max for it (fusionrt CLI: --shapes ", in->name,
                         ":<dims> for one shape, or --min-shapes/--opt-shapes/--max-shapes)");
      }
      FRT_RETURN_IF_ERROR(CheckAgainstDeclared(*in, it->second, p));
      if (fixed) continue;  // matches the static shape: nothing to record
      profile.inputs.push_back({in->name, it->second.min, it->second.opt, it->second.max});
    }
    out.push_back(std::move(profile));
  }
  return out;
}

std::map<std::string, Dims> ProfileInputDims(const Graph& graph, const Profile& profile,
                                             int which) {
  std::map<std::string, Dims> dims;
  for (const Value* in : graph.inputs()) {
    if (in->constant) continue;
    if (auto fixed = StaticDims(*in)) dims[in->name] = *fixed;
  }
  for (const ProfileInput& pi : profile.inputs) {
    dims[pi.name] = which == 0 ? pi.min : which == 1 ? pi.opt : pi.max;
  }
  return dims;
}

}  // namespace frt
