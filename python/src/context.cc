// ExecutionContext bindings: run() with numpy arrays and execute() with DLPack
// tensors, both bound in place (no copies), executed with the GIL released.
// See context.h for the binding rules.
#include "context.h"

#include <dlpack/dlpack.h>
#include <pybind11/stl.h>

#include <cstring>
#include <optional>

namespace frt::py_ext {
namespace {

std::string ShapeStr(const Dims& d) {
  std::string s = "[";
  for (size_t i = 0; i < d.size(); ++i) s += (i ? "," : "") + std::to_string(d[i]);
  return s + "]";
}

bool IsDynamic(const Dims& d) {
  for (int64_t v : d) {
    if (v < 0) return true;
  }
  return false;
}

size_t NumBytes(const Dims& d, DType t) {
  size_t n = DTypeSize(t);
  for (int64_t v : d) n *= static_cast<size_t>(v);
  return n;
}

// numpy.empty rather than pybind11's array constructor: Debian's pybind11 2.10
// reads the element size from the NumPy 1.x descriptor layout, which NumPy 2
// changed (its itemsize()/nbytes() read garbage there), so sizes are computed
// from the engine's dtype instead throughout this file.
py::array NewArray(const TensorDesc& desc, const Dims& dims) {
  return py::module_::import("numpy").attr("empty")(py::tuple(py::cast(dims)),
                                                    NumpyDType(desc.dtype, desc.name));
}

// ---- numpy ----

PyContext::Binding FromNumpy(const TensorDesc& desc, const py::handle& obj) {
  const char* role = desc.is_input ? "input" : "output";
  if (!py::isinstance<py::array>(obj)) {
    throw py::type_error(std::string(role) + " \"" + desc.name +
                         "\": expected a numpy.ndarray, "
                         "got " +
                         py::str(obj.get_type()).cast<std::string>() +
                         " (tensors of other frameworks go through context.execute())");
  }
  auto a = py::reinterpret_borrow<py::array>(obj);
  py::dtype want = NumpyDType(desc.dtype, desc.name);
  if (!py::bool_(a.dtype().attr("__eq__")(want))) {
    throw py::type_error(std::string(role) + " \"" + desc.name + "\": dtype " +
                         py::str(a.dtype()).cast<std::string>() + ", but the engine expects " +
                         DTypePyName(desc.dtype));
  }
  if (!(a.flags() & py::array::c_style)) {
    throw py::value_error(std::string(role) + " \"" + desc.name +
                          "\" is not C-contiguous; pass numpy.ascontiguousarray(...)");
  }
  if (!desc.is_input && !a.writeable()) {
    throw py::value_error("output \"" + desc.name + "\": the array is read-only");
  }
  PyContext::Binding b;
  b.name = desc.name;
  b.dims.assign(a.shape(), a.shape() + a.ndim());
  // Inputs are only read; const_cast because one SetTensorAddress serves both.
  b.data = const_cast<void*>(a.data());
  b.bytes = NumBytes(b.dims, desc.dtype);  // dtype checked equal above
  b.result = a;
  return b;
}

// ---- DLPack (legacy "dltensor" capsules, DLPack <= 0.8 ABI) ----

std::optional<DType> FromDl(DLDataType t) {
  if (t.lanes != 1) return std::nullopt;
  switch (t.code) {
    case kDLFloat:
      if (t.bits == 16) return DType::kFloat16;
      if (t.bits == 32) return DType::kFloat32;
      if (t.bits == 64) return DType::kFloat64;
      break;
    case kDLBfloat:
      if (t.bits == 16) return DType::kBFloat16;
      break;
    case kDLInt:
      if (t.bits == 8) return DType::kInt8;
      if (t.bits == 16) return DType::kInt16;
      if (t.bits == 32) return DType::kInt32;
      if (t.bits == 64) return DType::kInt64;
      break;
    case kDLUInt:
      if (t.bits == 8) return DType::kUInt8;
      if (t.bits == 16) return DType::kUInt16;
      if (t.bits == 32) return DType::kUInt32;
      if (t.bits == 64) return DType::kUInt64;
      break;
    case 6:  // kDLBool (DLPack 0.8; the packaged header predates it)
      if (t.bits == 8) return DType::kBool;
      break;
  }
  return std::nullopt;
}

PyContext::Binding FromDlpack(const TensorDesc& desc, const py::handle& obj) {
  const char* role = desc.is_input ? "input" : "output";
  const std::string what = std::string(role) + " \"" + desc.name + "\"";
  py::object capsule;
  if (PyCapsule_CheckExact(obj.ptr())) {
    capsule = py::reinterpret_borrow<py::object>(obj);
  } else if (py::hasattr(obj, "__dlpack__")) {
    capsule = obj.attr("__dlpack__")();  // CPU memory: no stream to synchronize with
  } else {
    throw py::type_error(what +
                         ": expected an object with __dlpack__ (numpy >= 1.23 array, "
                         "torch/CuPy/JAX tensor) or a DLPack capsule, got " +
                         py::str(obj.get_type()).cast<std::string>());
  }
  if (!PyCapsule_IsValid(capsule.ptr(), "dltensor")) {
    throw py::type_error(what +
                         ": not an unused \"dltensor\" capsule (a capsule can be "
                         "consumed once)");
  }
  auto* mt = static_cast<DLManagedTensor*>(PyCapsule_GetPointer(capsule.ptr(), "dltensor"));
  // Taking ownership: renamed, the capsule's destructor no longer frees it; we
  // call the producer's deleter once the call is done with the memory.
  PyCapsule_SetName(capsule.ptr(), "used_dltensor");
  std::shared_ptr<void> owner(mt, [](void* p) {
    auto* t = static_cast<DLManagedTensor*>(p);
    if (t->deleter != nullptr) t->deleter(t);
  });
  const DLTensor& t = mt->dl_tensor;
  if (t.device.device_type != kDLCPU) {
    ThrowError(StatusCode::kUnsupported, what, ": DLPack device type ",
               static_cast<int>(t.device.device_type), " (", t.device.device_id,
               "); this build runs on the cpu and takes host memory (kDLCPU)");
  }
  std::optional<DType> dtype = FromDl(t.dtype);
  if (!dtype || *dtype != desc.dtype) {
    throw py::type_error(what + ": DLPack dtype (code " + std::to_string(t.dtype.code) + ", bits " +
                         std::to_string(t.dtype.bits) + ", lanes " + std::to_string(t.dtype.lanes) +
                         ") is " +
                         (dtype ? DTypePyName(*dtype) : std::string("not a FusionRT type")) +
                         ", but the engine expects " + DTypePyName(desc.dtype));
  }
  PyContext::Binding b;
  b.name = desc.name;
  b.dims.assign(t.shape, t.shape + t.ndim);
  if (t.strides != nullptr) {  // null strides mean compact row-major
    int64_t expected = 1;
    for (int i = t.ndim - 1; i >= 0; --i) {
      if (t.shape[i] != 1 && t.strides[i] != expected) {
        throw py::value_error(what +
                              " is not C-contiguous (DLPack strides in elements); pass a "
                              "contiguous tensor");
      }
      expected *= t.shape[i];
    }
  }
  b.data = static_cast<char*>(t.data) + t.byte_offset;
  b.bytes = NumBytes(b.dims, desc.dtype);
  b.owner = std::move(owner);
  b.result = py::reinterpret_borrow<py::object>(obj);
  return b;
}

}  // namespace

PyContext::PyContext(std::shared_ptr<Engine> engine) : engine_(std::move(engine)) {
  ctx_ = Unwrap(engine_->CreateContext());
}

void PyContext::Reset() {
  const int profile = ctx_->optimization_profile();
  ctx_ = Unwrap(engine_->CreateContext());
  if (profile != 0) Check(ctx_->SetOptimizationProfile(profile));
  bound_outputs_.clear();
}

void PyContext::SetOptimizationProfile(int profile) {
  if (busy_) ThrowError(StatusCode::kInvalidArgument, "context in use by another thread");
  Check(ctx_->SetOptimizationProfile(profile));
}

void PyContext::SetInputShape(const std::string& name, const Dims& dims) {
  if (busy_) ThrowError(StatusCode::kInvalidArgument, "context in use by another thread");
  Check(ctx_->SetInputShape(name, dims));
}

py::tuple PyContext::GetTensorShape(const std::string& name) const {
  return py::tuple(py::cast(Unwrap(ctx_->GetTensorShape(name))));
}

void PyContext::CheckNames(const py::dict& bindings, bool outputs_allowed, const char* call) const {
  for (const auto& [key, value] : bindings) {
    const std::string name = py::str(key).cast<std::string>();
    const TensorDesc* d = engine_->FindTensor(name);
    if (d == nullptr) {
      std::string names;
      for (const TensorDesc& t : engine_->io_tensors()) {
        if (t.is_input || outputs_allowed) names += (names.empty() ? "" : ", ") + t.name;
      }
      ThrowError(StatusCode::kNotFound, call, ": \"", name, "\" is not a tensor of the engine (",
                 outputs_allowed ? "tensors" : "inputs", ": ", names, ")");
    }
    if (!d->is_input && !outputs_allowed) {
      ThrowError(StatusCode::kInvalidArgument, call, ": \"", name,
                 "\" is an output; run() takes inputs only (execute() also takes output buffers)");
    }
  }
  for (const TensorDesc& t : engine_->io_tensors()) {
    if (t.is_input && !bindings.contains(py::str(t.name))) {
      ThrowError(StatusCode::kInvalidArgument, call, ": input \"", t.name,
                 "\" is missing; every call binds every input");
    }
  }
}

py::dict PyContext::Run(const py::dict& feeds) {
  CheckNames(feeds, /*outputs_allowed=*/false, "run");
  std::vector<Binding> inputs;
  for (const TensorDesc& t : engine_->io_tensors()) {
    if (t.is_input) inputs.push_back(FromNumpy(t, feeds[py::str(t.name)]));
  }
  return ExecuteBound(inputs, {});
}

py::dict PyContext::Execute(const py::dict& bindings) {
  CheckNames(bindings, /*outputs_allowed=*/true, "execute");
  std::vector<Binding> inputs, outputs;
  for (const TensorDesc& t : engine_->io_tensors()) {
    py::str key(t.name);
    if (!bindings.contains(key)) continue;
    (t.is_input ? inputs : outputs).push_back(FromDlpack(t, bindings[key]));
  }
  return ExecuteBound(inputs, outputs);
}

py::dict PyContext::ExecuteBound(const std::vector<Binding>& inputs,
                                 const std::vector<Binding>& outputs) {
  if (busy_) ThrowError(StatusCode::kInvalidArgument, "context in use by another thread");
  busy_ = true;
  struct Clear {
    bool& b;
    ~Clear() { b = false; }
  } clear{busy_};

  py::dict results;
  std::vector<const TensorDesc*> copy_out;  // data-dependent outputs the context allocates
  for (int attempt = 0;; ++attempt) {
    for (const Binding& b : inputs) {
      Check(ctx_->SetInputShape(b.name, b.dims));
      Check(ctx_->SetTensorAddress(b.name, b.data, b.bytes));
    }
    results = py::dict();
    copy_out.clear();
    bool reset = false;
    for (const TensorDesc& t : engine_->io_tensors()) {
      if (t.is_input) continue;
      const Dims dims = Unwrap(ctx_->GetTensorShape(t.name));
      const Binding* user = nullptr;
      for (const Binding& b : outputs) {
        if (b.name == t.name) user = &b;
      }
      if (user != nullptr) {
        if (IsDynamic(dims)) {
          throw py::value_error("output \"" + t.name + "\" has a data-dependent shape " +
                                ShapeStr(dims) + "; leave it unbound and take the returned array");
        }
        if (user->dims != dims) {
          throw py::value_error("output \"" + t.name + "\": buffer shape " + ShapeStr(user->dims) +
                                ", but these inputs give " + ShapeStr(dims));
        }
        Check(ctx_->SetTensorAddress(t.name, user->data, user->bytes));
        bound_outputs_.insert(t.name);
        results[py::str(t.name)] = user->result;
      } else if (!IsDynamic(dims)) {
        py::array a = NewArray(t, dims);
        Check(ctx_->SetTensorAddress(t.name, a.mutable_data(), NumBytes(dims, t.dtype)));
        bound_outputs_.insert(t.name);
        results[py::str(t.name)] = a;
      } else if (bound_outputs_.count(t.name)) {
        reset = true;
      } else {
        copy_out.push_back(&t);
      }
    }
    if (!reset) break;
    if (attempt > 0) ThrowError(StatusCode::kInternal, "fresh context still has bound outputs");
    Reset();
  }

  Status status;
  {
    py::gil_scoped_release release;
    status = ctx_->Execute();
  }
  Check(status);

  for (const TensorDesc* t : copy_out) {
    const Dims dims = Unwrap(ctx_->GetTensorShape(t->name));
    const void* src = ctx_->GetTensorAddress(t->name);
    py::array a = NewArray(*t, dims);
    const size_t bytes = NumBytes(dims, t->dtype);
    if (bytes > 0) {
      if (src == nullptr) {
        ThrowError(StatusCode::kInternal, "output \"", t->name, "\" has no memory after execution");
      }
      // The context reuses this memory on its next execution: copy it out.
      std::memcpy(a.mutable_data(), src, bytes);
    }
    results[py::str(t->name)] = a;
  }
  return results;
}

void BindContext(py::module_& m) {
  py::class_<PyContext>(m, "ExecutionContext",
                        "Per-request state of an engine; one thread at a time.")
      .def_property_readonly("engine", &PyContext::engine)
      .def_property("optimization_profile", &PyContext::optimization_profile,
                    &PyContext::SetOptimizationProfile)
      .def("set_input_shape", &PyContext::SetInputShape, py::arg("name"), py::arg("shape"))
      .def("get_tensor_shape", &PyContext::GetTensorShape, py::arg("name"))
      .def("run", &PyContext::Run, py::arg("feeds"),
           "Binds numpy inputs in place, runs, returns {output name: numpy array}.")
      .def("execute", &PyContext::Execute, py::arg("bindings"),
           "Binds DLPack tensors (inputs, optionally outputs) without copies and runs.");
  // Added here rather than in engine.cc: PyContext lives in this file.
  py::class_<Engine, std::shared_ptr<Engine>> engine_class(m.attr("Engine"));
  engine_class.def(
      "create_context",
      [](const std::shared_ptr<Engine>& e) { return std::make_unique<PyContext>(e); },
      "A fresh context on profile 0; it keeps the engine alive.");
}

}  // namespace frt::py_ext
