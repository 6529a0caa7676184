// The `_fusionrt` extension module: pybind11 bindings over the public C++ API
// (include/fusionrt/) only. The pure-Python package `fusionrt` re-exports and
// extends it; import that, not this module.
#include "common.h"
#include "fusionrt/version.h"

PYBIND11_MODULE(_fusionrt, m) {
  namespace py_ext = frt::py_ext;
  m.doc() = "FusionRT bindings (internal; use the fusionrt package)";
  m.attr("__version__") = frt::kFusionRtVersion;
  py_ext::RegisterErrorTranslator();
  py_ext::BindNetwork(m);
  py_ext::BindEngine(m);
  py_ext::BindContext(m);
}
