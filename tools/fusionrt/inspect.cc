// `fusionrt inspect`: what an engine holds and what it will do (trtexec
// --dumpLayerInfo / --exportLayerInfo): the I/O tensors with their profile
// bounds, every executed layer with its tactic, precision, source ONNX nodes
// and the shapes of its inputs and outputs at chosen input dims, and the
// profile's activation memory plan.
//
// Shapes per value come from concrete shape propagation over the plan's graph
// at the chosen dims (--shapes, else static dims, else the profile's opt
// shapes); the dims are first set on an execution context, which checks them
// against the profile. The report is assembled once as JSON; the text form is
// rendered from that JSON, so --json and the text always agree.
#include <iomanip>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "backends/cpu/shape_propagation.h"
#include "engine/plan.h"
#include "engine_source.h"
#include "options.h"
#include "subcommands.h"

namespace frt::cli {
namespace {

using Json = nlohmann::ordered_json;

struct InspectOptions {
  EngineFlags engine;
  std::string shapes;
  int profile = 0;
  bool json = false;
};

// "[batch,16,64]": dynamic dims by name ("?" when unnamed).
std::string DeclaredShape(const TensorDesc& d) {
  std::string out = "[";
  for (size_t i = 0; i < d.dims.size(); ++i) {
    if (i) out += ",";
    if (i < d.dim_names.size() && !d.dim_names[i].empty())
      out += d.dim_names[i];
    else
      out += d.dims[i] < 0 ? "?" : std::to_string(d.dims[i]);
  }
  return out + "]";
}

// Input dims to inspect at, checked against the profile by a context.
Result<std::map<std::string, Dims>> ChooseInputDims(const Engine& e, int profile,
                                                    const std::map<std::string, Dims>& given) {
  for (const auto& [name, dims] : given) {
    const TensorDesc* d = e.FindTensor(name);
    if (d == nullptr || !d->is_input) {
      return MakeError(StatusCode::kNotFound, "--shapes names \"", name,
                       "\", which is not an input of the engine");
    }
  }
  FRT_ASSIGN_OR_RETURN(std::unique_ptr<ExecutionContext> ctx, e.CreateContext());
  FRT_RETURN_IF_ERROR(ctx->SetOptimizationProfile(profile));
  std::map<std::string, Dims> chosen;
  for (const TensorDesc& d : e.io_tensors()) {
    if (!d.is_input) continue;
    FRT_ASSIGN_OR_RETURN(ShapeRange range, e.GetProfileShapes(profile, d.name));
    auto it = given.find(d.name);
    chosen[d.name] = it != given.end() ? it->second : range.opt;
    FRT_RETURN_IF_ERROR(ctx->SetInputShape(d.name, chosen[d.name]));
  }
  return chosen;
}

// {"name", "dtype", "shape"}: shape null when it depends on data.
Json ValueJson(const Graph& graph, const ConcreteValues& values, const std::string& name) {
  Json j = {{"name", name}};
  const Value* v = graph.FindValue(name);
  auto it = v ? values.find(v) : values.end();
  j["dtype"] = v ? std::string(DTypeName(v->dtype)) : "";
  j["shape"] = it != values.end() && it->second.dims ? Json(*it->second.dims) : Json(nullptr);
  if (v && v->constant) j["constant"] = true;
  return j;
}

Result<Json> BuildReport(const Engine& e, int profile, const std::map<std::string, Dims>& dims) {
  const Graph& graph = *e.plan().graph;
  auto propagated = PropagateConcreteShapes(graph, dims);
  if (!propagated.ok()) {
    return propagated.status().WithPrefix("propagating shapes at the chosen input dims");
  }
  const ConcreteValues& values = *propagated;
  Json report;
  report["engine"] = {{"description", e.description()},
                      {"backend", e.backend()},
                      {"num_profiles", e.num_profiles()},
                      {"profile", profile},
                      {"weights_bytes", e.weights_size()}};
  Json shapes = Json::object();
  for (const auto& [name, d] : dims) shapes[name] = d;
  report["shapes"] = shapes;

  Json io = Json::array();
  for (const TensorDesc& d : e.io_tensors()) {
    Json t = {{"name", d.name},
              {"kind", d.is_input ? "input" : "output"},
              {"dtype", std::string(DTypeName(d.dtype))},
              {"dims", d.dims},
              {"dim_names", d.dim_names},
              {"declared", DeclaredShape(d)}};
    if (d.is_input) {
      FRT_ASSIGN_OR_RETURN(ShapeRange r, e.GetProfileShapes(profile, d.name));
      t["profile"] = {{"min", r.min}, {"opt", r.opt}, {"max", r.max}};
    }
    t["shape"] = ValueJson(graph, values, d.name)["shape"];
    io.push_back(t);
  }
  report["io"] = io;

  Json layers = Json::array();
  std::vector<LayerInfo> infos = e.layers();
  for (size_t i = 0; i < infos.size(); ++i) {
    const LayerInfo& l = infos[i];
    Json ins = Json::array(), outs = Json::array();
    for (const std::string& n : l.inputs) {
      if (!n.empty()) ins.push_back(ValueJson(graph, values, n));  // "" is an absent optional
    }
    for (const std::string& n : l.outputs) {
      if (!n.empty()) outs.push_back(ValueJson(graph, values, n));
    }
    layers.push_back({{"index", i},
                      {"name", l.name},
                      {"op", l.op},
                      {"tactic", l.tactic},
                      {"precision", std::string(DTypeName(l.precision))},
                      {"inputs", ins},
                      {"outputs", outs},
                      {"source_nodes", l.source_nodes}});
  }
  report["layers"] = layers;
  // Executed layers by op; host.shape layers only compute shape values and
  // run on the host when input shapes are set (docs/optimizer.md).
  Json executed = Json::object();
  size_t host = 0;
  for (const LayerInfo& l : infos) {
    if (l.tactic == "host.shape") {
      ++host;
    } else {
      executed[l.op] = executed.value(l.op, 0) + 1;
    }
  }
  report["summary"] = {{"layers", infos.size()},
                       {"executed", infos.size() - host},
                       {"host_shape", host},
                       {"executed_by_op", executed}};

  MemoryPlanInfo m = e.GetMemoryPlan(profile);
  Json slots = Json::array();
  for (const MemorySlotInfo& s : m.slots) {
    slots.push_back({{"tensor", s.tensor},
                     {"offset", s.offset},
                     {"size", s.size},
                     {"first_step", s.first_layer},
                     {"last_step", s.last_layer}});
  }
  // ratio: arena / naive sum as a fraction; null when nothing is planned.
  Json ratio =
      m.naive_size ? Json(static_cast<double>(m.arena_size) / m.naive_size) : Json(nullptr);
  report["memory"] = {{"arena_bytes", m.arena_size},
                      {"naive_bytes", m.naive_size},
                      {"ratio", ratio},
                      {"slots", slots}};
  return report;
}

std::string DimsText(const Json& shape) {
  if (shape.is_null()) return "[?]";  // data dependent: known after execution
  return DimsToString(shape.get<Dims>());
}

std::string ValuesText(const Json& list) {
  std::string out;
  for (const Json& v : list) {
    if (!out.empty()) out += ", ";
    out +=
        v["name"].get<std::string>() + " " + v["dtype"].get<std::string>() + DimsText(v["shape"]);
  }
  return out;
}

void PrintText(const Json& r, bool verbose) {
  const Json& eng = r["engine"];
  std::string shapes;  // in --shapes syntax: x:2x16x64
  for (const auto& [name, dims] : r["shapes"].items()) {
    shapes += (shapes.empty() ? "" : ",") + name + ":";
    for (size_t i = 0; i < dims.size(); ++i) shapes += (i ? "x" : "") + dims[i].dump();
  }
  std::cout << eng["description"].get<std::string>() << "\n"
            << "weights " << eng["weights_bytes"] << " bytes; profile " << eng["profile"] << " of "
            << eng["num_profiles"] << "; layer shapes at " << shapes << "\n\nI/O tensors:\n";
  for (const Json& t : r["io"]) {
    std::cout << "  " << std::left << std::setw(7) << t["kind"].get<std::string>()
              << t["name"].get<std::string>() << " " << t["dtype"].get<std::string>()
              << t["declared"].get<std::string>();
    if (t.contains("profile")) {
      const Json& p = t["profile"];
      std::cout << "  min " << DimsText(p["min"]) << " opt " << DimsText(p["opt"]) << " max "
                << DimsText(p["max"]);
    }
    std::cout << "  now " << DimsText(t["shape"]) << "\n";
  }
  const Json& sum = r["summary"];
  std::cout << "\nLayers (" << r["layers"].size() << ": " << sum["executed"] << " executed, "
            << sum["host_shape"] << " shape layers evaluated on the host):\n";
  for (const Json& l : r["layers"]) {
    std::string from;
    for (const Json& s : l["source_nodes"])
      from += (from.empty() ? "" : ", ") + s.get<std::string>();
    std::cout << "  #" << l["index"] << " \"" << l["name"].get<std::string>() << "\" "
              << l["op"].get<std::string>() << " tactic " << l["tactic"].get<std::string>() << " "
              << l["precision"].get<std::string>() << " (" << ValuesText(l["inputs"]) << ") -> ("
              << ValuesText(l["outputs"]) << ") from: " << (from.empty() ? "-" : from) << "\n";
  }
  const Json& m = r["memory"];
  std::cout << "\nMemory plan of profile " << eng["profile"] << " (sized at its max shapes): arena "
            << m["arena_bytes"] << " bytes, naive sum " << m["naive_bytes"]
            << " bytes, arena/naive ";
  if (m["ratio"].is_null())
    std::cout << "n/a";
  else
    std::cout << std::fixed << std::setprecision(1) << m["ratio"].get<double>() * 100 << "%";
  std::cout << ", " << m["slots"].size() << " tensors" << (verbose ? "" : " (--verbose lists them)")
            << "\n";
  if (!verbose) return;
  for (const Json& s : m["slots"]) {
    std::cout << "  slot " << s["tensor"].get<std::string>() << "  offset " << s["offset"]
              << "  size " << s["size"] << "  steps " << s["first_step"] << "-" << s["last_step"]
              << "\n";
  }
}

int Inspect(const InspectOptions& o) {
  auto shapes = ParseShapes(o.shapes);
  if (!shapes.ok()) return ReportError(shapes.status());
  auto engine = GetEngine(o.engine, *shapes);
  if (!engine.ok()) return ReportError(engine.status());
  const Engine& e = **engine;
  if (o.profile < 0 || o.profile >= e.num_profiles()) {
    return ReportError(MakeError(StatusCode::kOutOfRange, "--profile ", o.profile,
                                 " does not exist (the engine has ", e.num_profiles(),
                                 " profile(s))"));
  }
  auto dims = ChooseInputDims(e, o.profile, *shapes);
  if (!dims.ok()) return ReportError(dims.status());
  auto report = BuildReport(e, o.profile, *dims);
  if (!report.ok()) return ReportError(report.status());
  if (o.json) {
    std::cout << report->dump(2) << "\n";
  } else {
    PrintText(*report, o.engine.build.verbose);
  }
  return 0;
}

}  // namespace

Runner AddInspectCommand(CLI::App& app) {
  auto o = std::make_shared<InspectOptions>();
  CLI::App* sub = app.add_subcommand(
      "inspect", "Show an engine's I/O, layers (tactics, shapes, sources) and memory plan");
  AddEngineFlags(sub, o->engine);
  sub->add_option("--shapes", o->shapes,
                  "input shapes to show layer shapes at (default: the profile's opt shapes)");
  sub->add_option("--profile", o->profile, "optimization profile to inspect (default 0)");
  sub->add_flag("--json", o->json,
                "print the report as one JSON object (trtexec --exportLayerInfo)");
  return [o] { return Inspect(*o); };
}

}  // namespace frt::cli
