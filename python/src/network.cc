// Bindings for the offline phase: NetworkDefinition (parsed from ONNX or built
// layer by layer), OptimizationProfile, BuilderConfig and Builder::Build.
// Builds release the GIL; the optional log callback re-acquires it per line.
#include <pybind11/stl.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common.h"
#include "fusionrt/builder.h"
#include "fusionrt/onnx.h"

namespace frt::py_ext {
namespace {

// BuilderConfig with the log callback held as a Python object: the C++
// std::function is made at build time, when the GIL handling is known.
struct PyBuilderConfig {
  BuilderConfig config;
  py::object log = py::none();
};

std::vector<InputDim> ToInputDims(const py::sequence& shape) {
  std::vector<InputDim> dims;
  for (const py::handle& d : shape) {
    if (d.is_none()) {
      dims.push_back(InputDim::Dynamic(""));
    } else if (py::isinstance<py::str>(d)) {
      dims.push_back(InputDim::Dynamic(d.cast<std::string>()));
    } else {
      const int64_t size = d.cast<int64_t>();
      dims.push_back(size < 0 ? InputDim::Dynamic("") : InputDim::Fixed(size));
    }
  }
  return dims;
}

py::array Contiguous(const py::handle& obj) {
  return py::module_::import("numpy").attr("ascontiguousarray")(obj);
}

Dims ShapeOf(const py::array& a) { return Dims(a.shape(), a.shape() + a.ndim()); }

DType ArrayDType(const py::array& a, const std::string& what) {
  auto t = FromNumpy(a.dtype());
  if (!t) {
    throw py::type_error(what + ": FusionRT has no element type for numpy dtype " +
                         py::str(a.dtype()).cast<std::string>());
  }
  return *t;
}

// ONNX attribute values from Python: int/bool, float, str, sequences of ints
// or floats, numpy arrays (tensor attributes).
LayerAttributes ToAttributes(const py::dict& attrs, const std::string& layer) {
  LayerAttributes out;
  for (const auto& [key, value] : attrs) {
    const std::string name = key.cast<std::string>();
    const std::string what = "layer \"" + layer + "\" attribute \"" + name + "\"";
    if (py::isinstance<py::bool_>(value) || py::isinstance<py::int_>(value)) {
      out.SetInt(name, value.cast<int64_t>());
    } else if (py::isinstance<py::float_>(value)) {
      out.SetFloat(name, value.cast<float>());
    } else if (py::isinstance<py::str>(value)) {
      out.SetString(name, value.cast<std::string>());
    } else if (py::isinstance<py::array>(value)) {
      py::array a = Contiguous(value);
      Check(out.SetTensor(name, ArrayDType(a, what), ShapeOf(a), a.data()));
    } else if (py::isinstance<py::sequence>(value)) {
      auto seq = value.cast<py::sequence>();
      bool all_ints = true;
      for (const py::handle& v : seq) all_ints = all_ints && py::isinstance<py::int_>(v);
      if (all_ints) {
        out.SetInts(name, value.cast<std::vector<int64_t>>());
      } else {
        out.SetFloats(name, value.cast<std::vector<float>>());
      }
    } else {
      throw py::type_error(what + ": unsupported value type " +
                           py::str(value.get_type()).cast<std::string>());
    }
  }
  return out;
}

DeviceKind ParseDevice(const std::string& s) {
  if (s == "auto") return DeviceKind::kAuto;
  if (s == "cpu") return DeviceKind::kCpu;
  if (s == "cuda") return DeviceKind::kCuda;
  ThrowError(StatusCode::kInvalidArgument, "device \"", s, "\": expected auto, cpu or cuda");
}

std::string DeviceName(DeviceKind d) {
  switch (d) {
    case DeviceKind::kCpu:
      return "cpu";
    case DeviceKind::kCuda:
      return "cuda";
    case DeviceKind::kAuto:
      break;
  }
  return "auto";
}

std::shared_ptr<Engine> Build(const NetworkDefinition& network, const PyBuilderConfig& py_config) {
  BuilderConfig config = py_config.config;
  py::object log = py_config.log;
  // A Python exception in the callback must not unwind through the builder:
  // keep the first one and raise it after the build returns.
  std::optional<py::error_already_set> log_error;
  if (!log.is_none()) {
    config.log = [&log, &log_error](const std::string& line) {
      py::gil_scoped_acquire gil;
      if (log_error) return;
      try {
        log(line);
      } catch (py::error_already_set& e) {
        log_error = std::move(e);
      }
    };
  }
  Result<std::shared_ptr<Engine>> engine = MakeError(StatusCode::kInternal, "build did not run");
  {
    py::gil_scoped_release release;
    engine = Builder::Build(network, config);
  }
  if (log_error) throw *log_error;
  return Unwrap(std::move(engine));
}

}  // namespace

void BindNetwork(py::module_& m) {
  py::class_<NetworkDefinition>(m, "Network",
                                "A model for the builder: parsed from ONNX or built layer by layer "
                                "with ONNX operator semantics.")
      .def(py::init<>())
      .def(
          "add_input",
          [](NetworkDefinition& n, const std::string& name, const py::handle& dtype,
             const py::sequence& shape) {
            Check(n.AddInput(name, ParseDType(dtype), ToInputDims(shape)));
          },
          py::arg("name"), py::arg("dtype"), py::arg("shape"),
          "Declares an input; shape items: int (fixed), str (named dynamic), None/-1 (dynamic).")
      .def(
          "add_constant",
          [](NetworkDefinition& n, const std::string& name, const py::handle& value) {
            py::array a = Contiguous(value);
            Check(n.AddConstant(name, ArrayDType(a, "constant \"" + name + "\""), ShapeOf(a),
                                a.data()));
          },
          py::arg("name"), py::arg("value"), "Adds weights (copied).")
      .def(
          "add_layer",
          [](NetworkDefinition& n, const std::string& op, const std::string& name,
             const std::vector<std::string>& inputs, const std::vector<std::string>& outputs,
             const py::dict& attrs) {
            Check(n.AddLayer(op, name, inputs, outputs, ToAttributes(attrs, name)));
          },
          py::arg("op"), py::arg("name"), py::arg("inputs"), py::arg("outputs"),
          py::arg("attributes") = py::dict())
      .def("mark_output",
           [](NetworkDefinition& n, const std::string& name) { Check(n.MarkOutput(name)); })
      .def_property_readonly("input_names", &NetworkDefinition::input_names)
      .def_property_readonly("output_names", &NetworkDefinition::output_names)
      .def_property_readonly("num_layers", &NetworkDefinition::num_layers)
      .def("__str__", &NetworkDefinition::ToString);

  m.def(
      "parse_onnx_file", [](const std::string& path) { return Unwrap(ParseOnnxFile(path)); },
      py::arg("path"));
  m.def(
      "parse_onnx_bytes",
      [](const py::bytes& data, const std::string& base_dir) {
        std::string_view view = data;  // borrowed: the bytes object outlives the call
        return Unwrap(ParseOnnxBytes(view.data(), view.size(), base_dir));
      },
      py::arg("data"), py::arg("base_dir") = ".");

  py::class_<OptimizationProfile>(m, "OptimizationProfile",
                                  "Shape bounds (min, opt, max) for each dynamic input.")
      .def(py::init<>())
      .def(
          "set_shapes",
          [](OptimizationProfile& p, const std::string& input, const Dims& min, const Dims& opt,
             const Dims& max) { Check(p.SetShapes(input, min, opt, max)); },
          py::arg("input"), py::arg("min"), py::arg("opt"), py::arg("max"))
      .def_property_readonly("shapes", [](const OptimizationProfile& p) {
        py::dict out;
        for (const auto& [name, r] : p.shapes()) {
          out[py::str(name)] = py::make_tuple(
              py::tuple(py::cast(r.min)), py::tuple(py::cast(r.opt)), py::tuple(py::cast(r.max)));
        }
        return out;
      });

  py::class_<PyBuilderConfig>(m, "BuilderConfig", "Build settings (see docs/python.md).")
      .def(py::init<>())
      .def_property(
          "fp16", [](const PyBuilderConfig& c) { return c.config.fp16; },
          [](PyBuilderConfig& c, bool v) { c.config.fp16 = v; })
      .def_property(
          "bf16", [](const PyBuilderConfig& c) { return c.config.bf16; },
          [](PyBuilderConfig& c, bool v) { c.config.bf16 = v; })
      .def_property(
          "profiles", [](const PyBuilderConfig& c) { return c.config.profiles; },
          [](PyBuilderConfig& c, std::vector<OptimizationProfile> v) {
            c.config.profiles = std::move(v);
          })
      .def_property(
          "memory_limit", [](const PyBuilderConfig& c) { return c.config.memory_limit; },
          [](PyBuilderConfig& c, uint64_t v) { c.config.memory_limit = v; })
      .def_property(
          "optimization_level",
          [](const PyBuilderConfig& c) { return c.config.optimization_level; },
          [](PyBuilderConfig& c, int v) {
            if (v < 0 || v > 5) {
              ThrowError(StatusCode::kOutOfRange, "optimization_level ", v, " outside 0..5");
            }
            c.config.optimization_level = v;
          })
      .def_property(
          "device", [](const PyBuilderConfig& c) { return DeviceName(c.config.device); },
          [](PyBuilderConfig& c, const std::string& v) { c.config.device = ParseDevice(v); })
      .def_property(
          "verbose", [](const PyBuilderConfig& c) { return c.config.verbose; },
          [](PyBuilderConfig& c, bool v) { c.config.verbose = v; })
      .def_readwrite("log", &PyBuilderConfig::log);

  m.def("build_network", &Build, py::arg("network"), py::arg("config"),
        "Builds an engine from a Network (GIL released while building).");
}

}  // namespace frt::py_ext
