// Bindings for Engine: load/save/(de)serialize, I/O tensor metadata, profiles,
// memory plan and layers. An Engine is immutable and thread safe; Python holds
// it through a shared_ptr, and each context keeps its engine alive.
#include "fusionrt/engine.h"

#include <pybind11/stl.h>

#include <memory>
#include <string>
#include <vector>

#include "common.h"
#include "fusionrt/builder.h"

namespace frt::py_ext {
namespace {

py::tuple Tuple(const std::vector<int64_t>& v) { return py::tuple(py::cast(v)); }

std::string DimsRepr(const std::vector<int64_t>& dims) {
  std::string s = "(";
  for (size_t i = 0; i < dims.size(); ++i) {
    s += (i ? ", " : "") + std::to_string(dims[i]);
  }
  return s + (dims.size() == 1 ? ",)" : ")");
}

void CheckProfile(const Engine& e, int profile) {
  if (profile < 0 || profile >= e.num_profiles()) {
    ThrowError(StatusCode::kOutOfRange, "profile ", profile, " out of range: the engine has ",
               e.num_profiles(), " profile(s)");
  }
}

std::vector<TensorDesc> Select(const Engine& e, bool inputs) {
  std::vector<TensorDesc> out;
  for (const TensorDesc& t : e.io_tensors()) {
    if (t.is_input == inputs) out.push_back(t);
  }
  return out;
}

}  // namespace

void BindEngine(py::module_& m) {
  py::class_<TensorDesc>(m, "TensorInfo", "An engine input or output.")
      .def_readonly("name", &TensorDesc::name)
      .def_property_readonly("dtype", [](const TensorDesc& t) { return DTypePyName(t.dtype); })
      .def_property_readonly(
          "shape", [](const TensorDesc& t) { return Tuple(t.dims); },
          "Dimensions, -1 where dynamic.")
      .def_property_readonly("dim_names",
                             [](const TensorDesc& t) { return py::tuple(py::cast(t.dim_names)); })
      .def_readonly("is_input", &TensorDesc::is_input)
      .def("__repr__", [](const TensorDesc& t) {
        return "TensorInfo(name='" + t.name + "', dtype='" + DTypePyName(t.dtype) +
               "', shape=" + DimsRepr(t.dims) + ", is_input=" + (t.is_input ? "True" : "False") +
               ")";
      });

  py::class_<LayerInfo>(m, "LayerInfo", "One executed layer of the optimized plan.")
      .def_readonly("name", &LayerInfo::name)
      .def_readonly("op", &LayerInfo::op)
      .def_readonly("tactic", &LayerInfo::tactic)
      .def_property_readonly("precision",
                             [](const LayerInfo& l) { return DTypePyName(l.precision); })
      .def_readonly("inputs", &LayerInfo::inputs)
      .def_readonly("outputs", &LayerInfo::outputs)
      .def_readonly("source_nodes", &LayerInfo::source_nodes)
      .def("__repr__", [](const LayerInfo& l) {
        return "LayerInfo(name='" + l.name + "', op='" + l.op + "', tactic='" + l.tactic + "')";
      });

  py::class_<Engine, std::shared_ptr<Engine>>(m, "Engine", "A built, immutable engine.")
      .def_static(
          "load", [](const std::string& path) { return Unwrap(Engine::Load(path)); },
          py::arg("path"), "Reads an engine file (verified; InvalidEngineError if not).")
      .def_static(
          "deserialize",
          [](const py::bytes& data, const std::string& source) {
            std::string_view view = data;
            return Unwrap(Engine::Deserialize(view.data(), view.size(), source));
          },
          py::arg("data"), py::arg("source") = "<memory>")
      .def("serialize",
           [](const Engine& e) {
             std::vector<uint8_t> bytes = Unwrap(e.Serialize());
             return py::bytes(reinterpret_cast<const char*>(bytes.data()), bytes.size());
           })
      .def(
          "save", [](const Engine& e, const std::string& path) { Check(e.Save(path)); },
          py::arg("path"), "Writes the engine file atomically.")
      .def_property_readonly("inputs", [](const Engine& e) { return Select(e, true); })
      .def_property_readonly("outputs", [](const Engine& e) { return Select(e, false); })
      .def_property_readonly("num_profiles", &Engine::num_profiles)
      .def(
          "profile_shapes",
          [](const Engine& e, int profile, const std::string& input) {
            CheckProfile(e, profile);
            ShapeRange r = Unwrap(e.GetProfileShapes(profile, input));
            return py::make_tuple(Tuple(r.min), Tuple(r.opt), Tuple(r.max));
          },
          py::arg("profile"), py::arg("input"), "(min, opt, max) shapes of an input.")
      .def(
          "memory_plan",
          [](const Engine& e, int profile) {
            CheckProfile(e, profile);
            MemoryPlanInfo plan = e.GetMemoryPlan(profile);
            py::list slots;
            for (const MemorySlotInfo& s : plan.slots) {
              py::dict d;
              d["tensor"] = s.tensor;
              d["offset"] = s.offset;
              d["size"] = s.size;
              d["first_layer"] = s.first_layer;
              d["last_layer"] = s.last_layer;
              slots.append(d);
            }
            py::dict out;
            out["arena_size"] = plan.arena_size;
            out["naive_size"] = plan.naive_size;
            out["slots"] = slots;
            return out;
          },
          py::arg("profile") = 0)
      .def_property_readonly("weights_size", &Engine::weights_size)
      .def_property_readonly("backend", &Engine::backend)
      .def_property_readonly("description", &Engine::description)
      .def_property_readonly("layers", &Engine::layers);
  // create_context is added by BindContext (context.cc).
}

}  // namespace frt::py_ext
