// Shared pieces of the `_fusionrt` extension: how library errors become Python
// exceptions, and how FusionRT element types map to numpy and DLPack types.
//
// Errors: library calls return Status/Result; Check()/Unwrap() turn a non-OK
// status into a C++ StatusError, which the translator registered in module.cc
// raises as the fusionrt.errors class named after the status code (with the
// library's message). Only this extension throws; nothing crosses into the
// library, which is built without relying on exceptions passing through it.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <optional>
#include <string>
#include <utility>

#include "fusionrt/status.h"
#include "fusionrt/types.h"

namespace frt::py_ext {

namespace py = pybind11;

struct StatusError {
  Status status;
};

inline void Check(const Status& s) {
  if (!s.ok()) throw StatusError{s};
}

template <class T>
T Unwrap(Result<T> r) {
  if (!r.ok()) throw StatusError{r.status()};
  return std::move(r).value();
}

template <class... Args>
[[noreturn]] void ThrowError(StatusCode code, const Args&... args) {
  throw StatusError{MakeError(code, args...)};
}

// Registers the translator for StatusError (module init).
void RegisterErrorTranslator();

// "float32", "int64", "bfloat16", ...: numpy's names where numpy has the type.
std::string DTypePyName(DType t);
// Parses DTypePyName() names and numpy dtypes ("f32"-style library names too).
DType ParseDType(const py::handle& obj);
// The numpy dtype of an engine tensor; raises UnsupportedError for bf16 / fp8,
// which numpy lacks (use the DLPack path with a framework that has them).
py::dtype NumpyDType(DType t, const std::string& tensor);
// The FusionRT type of a numpy dtype; nullopt when FusionRT has none.
std::optional<DType> FromNumpy(const py::dtype& dt);

}  // namespace frt::py_ext

namespace frt::py_ext {
// Per-area binders, called once from the module init (module.cc).
void BindNetwork(py::module_& m);  // network.cc: Network, parse_onnx_*, profiles, builder
void BindEngine(py::module_& m);   // engine.cc: Engine, TensorInfo, LayerInfo
void BindContext(py::module_& m);  // context.cc: ExecutionContext (numpy and DLPack)
}  // namespace frt::py_ext
