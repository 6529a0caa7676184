// The Python ExecutionContext: one fusionrt::ExecutionContext plus the rules
// that make it safe to drive from Python.
//
// Contract: every call of run()/execute() binds every input and every output
// anew, so no address kept from an earlier call (memory Python may have freed
// since) is ever read or written. An output whose size depends on data is left
// to the context to allocate and is then copied out; since the C++ API cannot
// unbind an address, a context whose such output was bound earlier is replaced
// by a fresh one on the same profile first.
//
// Thread safety: like the C++ context, one thread at a time. A second thread
// entering while the first executes (the GIL is released then) gets an
// InvalidArgumentError instead of undefined behavior.
#pragma once

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "common.h"
#include "fusionrt/engine.h"

namespace frt::py_ext {

class PyContext {
 public:
  explicit PyContext(std::shared_ptr<Engine> engine);

  const std::shared_ptr<Engine>& engine() const { return engine_; }
  void SetOptimizationProfile(int profile);
  int optimization_profile() const { return ctx_->optimization_profile(); }
  void SetInputShape(const std::string& name, const Dims& dims);
  py::tuple GetTensorShape(const std::string& name) const;

  // numpy in, numpy out (inputs bound in place, outputs allocated as arrays).
  py::dict Run(const py::dict& feeds);
  // DLPack in and out: inputs and optionally outputs are objects with
  // __dlpack__ (or DLPack capsules), bound without copies.
  py::dict Execute(const py::dict& bindings);

  // One tensor's memory for this call. `owner` keeps it alive (an array, or
  // the imported DLPack tensor); `result` is what run()/execute() returns for
  // a caller-supplied output.
  struct Binding {
    std::string name;
    Dims dims;
    void* data = nullptr;
    size_t bytes = 0;
    std::shared_ptr<void> owner;
    py::object result;
  };

 private:
  py::dict ExecuteBound(const std::vector<Binding>& inputs, const std::vector<Binding>& outputs);
  void Reset();
  // Raises unless every key names an engine tensor (inputs only unless
  // outputs_allowed) and every input is present.
  void CheckNames(const py::dict& bindings, bool outputs_allowed, const char* call) const;

  std::shared_ptr<Engine> engine_;
  std::unique_ptr<ExecutionContext> ctx_;
  std::set<std::string> bound_outputs_;  // outputs bound to memory at some point
  bool busy_ = false;
};

}  // namespace frt::py_ext
