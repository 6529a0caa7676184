// Error translation and dtype tables for the `_fusionrt` extension (see common.h).
#include "common.h"

#include <array>

namespace frt::py_ext {
namespace {

struct DTypeEntry {
  DType dtype;
  const char* py_name;  // numpy name, or the ml_dtypes-style name numpy lacks
  bool in_numpy;
};

constexpr std::array<DTypeEntry, 15> kDTypes = {{
    {DType::kFloat32, "float32", true},
    {DType::kFloat16, "float16", true},
    {DType::kBFloat16, "bfloat16", false},
    {DType::kFloat64, "float64", true},
    {DType::kInt8, "int8", true},
    {DType::kUInt8, "uint8", true},
    {DType::kInt16, "int16", true},
    {DType::kUInt16, "uint16", true},
    {DType::kInt32, "int32", true},
    {DType::kUInt32, "uint32", true},
    {DType::kInt64, "int64", true},
    {DType::kUInt64, "uint64", true},
    {DType::kBool, "bool", true},
    {DType::kFloat8E4M3FN, "float8_e4m3fn", false},
    {DType::kFloat8E5M2, "float8_e5m2", false},
}};

}  // namespace

void RegisterErrorTranslator() {
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const StatusError& e) {
      // The classes live in the pure-Python layer (fusionrt/errors.py) so that
      // they can be documented, subclassed and caught without the extension.
      py::object cls = py::module_::import("fusionrt.errors")
                           .attr("error_class")(std::string(StatusCodeName(e.status.code())));
      PyErr_SetObject(cls.ptr(), py::str(e.status.message()).ptr());
    }
  });
}

std::string DTypePyName(DType t) {
  for (const auto& e : kDTypes) {
    if (e.dtype == t) return e.py_name;
  }
  return "undefined";
}

DType ParseDType(const py::handle& obj) {
  if (py::isinstance<py::str>(obj)) {
    const std::string name = obj.cast<std::string>();
    for (const auto& e : kDTypes) {
      if (name == e.py_name || name == DTypeName(e.dtype)) return e.dtype;
    }
  }
  py::dtype dt;
  try {
    dt = py::dtype::from_args(py::reinterpret_borrow<py::object>(obj));
  } catch (const py::error_already_set&) {
    throw py::type_error("not a dtype: " + py::repr(obj).cast<std::string>());
  }
  if (auto t = FromNumpy(dt)) return *t;
  throw py::type_error("FusionRT has no element type for numpy dtype " +
                       py::str(dt).cast<std::string>());
}

py::dtype NumpyDType(DType t, const std::string& tensor) {
  for (const auto& e : kDTypes) {
    if (e.dtype == t && e.in_numpy) return py::dtype(std::string(e.py_name));
  }
  ThrowError(StatusCode::kUnsupported, "tensor \"", tensor, "\" has element type ", DTypePyName(t),
             ", which numpy lacks; pass it through context.execute() with a "
             "DLPack tensor of a framework that has the type");
}

std::optional<DType> FromNumpy(const py::dtype& dt) {
  // Native byte order only: the engine reads memory as it is.
  if (dt.kind() == 'V' || !(dt.byteorder() == '=' || dt.byteorder() == '|')) return std::nullopt;
  for (const auto& e : kDTypes) {
    if (e.in_numpy && py::bool_(dt.attr("__eq__")(py::dtype(std::string(e.py_name))))) {
      return e.dtype;
    }
  }
  return std::nullopt;
}

}  // namespace frt::py_ext
