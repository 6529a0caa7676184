// NetworkDefinition: the model handed to the builder. Filled by the ONNX
// parser (fusionrt/onnx.h) or built by hand, layer by layer, with ONNX
// operator semantics (latest supported opset). Tensors are referred to by name.
//
// Ownership: a NetworkDefinition owns its graph and the data of its constants
// (AddConstant copies). Thread safety: not thread safe for writes; concurrent
// const use (e.g. two builds from the same network) is safe.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "fusionrt/status.h"
#include "fusionrt/types.h"

namespace frt {

class Graph;

// One dimension of a network input: a fixed size or a named dynamic
// dimension. Dynamic dimensions with the same name must agree at run time.
struct InputDim {
  int64_t size = -1;   // >= 0: fixed
  std::string name;    // dynamic: its name ("batch"); empty with size -1: anonymous dynamic
  static InputDim Fixed(int64_t size) { return {size, ""}; }
  static InputDim Dynamic(std::string name) { return {-1, std::move(name)}; }
};

// Attributes of a hand-added layer: names, types and meanings are those of
// the ONNX operator of the same type.
class LayerAttributes {
 public:
  LayerAttributes();
  ~LayerAttributes();
  LayerAttributes(const LayerAttributes&);
  LayerAttributes& operator=(const LayerAttributes&);

  LayerAttributes& SetInt(const std::string& name, int64_t v);
  LayerAttributes& SetFloat(const std::string& name, float v);
  LayerAttributes& SetString(const std::string& name, const std::string& v);
  LayerAttributes& SetInts(const std::string& name, const std::vector<int64_t>& v);
  LayerAttributes& SetFloats(const std::string& name, const std::vector<float>& v);
  // Copies dims.product * DTypeSize(dtype) bytes from `data`.
  Status SetTensor(const std::string& name, DType dtype, const Dims& dims, const void* data);

  struct Impl;
  const Impl& impl() const { return *impl_; }

 private:
  std::unique_ptr<Impl> impl_;
};

class NetworkDefinition {
 public:
  NetworkDefinition();
  ~NetworkDefinition();
  NetworkDefinition(NetworkDefinition&&) noexcept;
  NetworkDefinition& operator=(NetworkDefinition&&) noexcept;

  // Declares a network input. Error if the name is taken or a dim is invalid.
  Status AddInput(const std::string& name, DType dtype, const std::vector<InputDim>& dims);
  // Adds a constant (weights); copies the data.
  Status AddConstant(const std::string& name, DType dtype, const Dims& dims, const void* data);
  // Adds a layer computing ONNX operator `op_type` from named inputs (an empty
  // name = absent optional input) into new tensors named `outputs`. Checks the
  // op is supported, the inputs exist and the arity; types and shapes are
  // inferred when the network is built.
  Status AddLayer(const std::string& op_type, const std::string& layer_name,
                  const std::vector<std::string>& inputs, const std::vector<std::string>& outputs,
                  const LayerAttributes& attrs = LayerAttributes());
  // Marks an existing tensor as a network output.
  Status MarkOutput(const std::string& name);

  std::vector<std::string> input_names() const;
  std::vector<std::string> output_names() const;
  size_t num_layers() const;
  // The network as readable text, one line per layer.
  std::string ToString() const;

  // Library-internal access to the IR (not part of the stable API).
  static NetworkDefinition FromGraph(std::unique_ptr<Graph> graph);
  const Graph& graph() const { return *graph_; }

 private:
  std::unique_ptr<Graph> graph_;
};

}  // namespace frt
