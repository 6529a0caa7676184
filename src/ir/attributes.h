// Node attributes: a small typed map. Importers convert ONNX AttributeProto
// into these values; kernels and shape inference read them with defaults.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "core/tensor.h"

namespace frt {

class Graph;

using AttrValue = std::variant<int64_t, float, std::string, std::vector<int64_t>,
                               std::vector<float>, std::vector<std::string>, Tensor,
                               std::shared_ptr<Graph>>;

class Attributes {
 public:
  bool Has(const std::string& name) const { return values_.count(name) != 0; }
  void Set(const std::string& name, AttrValue v) { values_[name] = std::move(v); }
  void Erase(const std::string& name) { values_.erase(name); }
  const std::map<std::string, AttrValue>& all() const { return values_; }

  // Typed getters: return the default when absent; when present with another
  // type they also return the default (the importer validated types already).
  int64_t GetInt(const std::string& name, int64_t def = 0) const;
  float GetFloat(const std::string& name, float def = 0.0f) const;
  std::string GetString(const std::string& name, const std::string& def = "") const;
  std::vector<int64_t> GetInts(const std::string& name, std::vector<int64_t> def = {}) const;
  std::vector<float> GetFloats(const std::string& name, std::vector<float> def = {}) const;
  std::vector<std::string> GetStrings(const std::string& name) const;
  const Tensor* GetTensor(const std::string& name) const;  // nullptr if absent
  std::shared_ptr<Graph> GetGraph(const std::string& name) const;  // nullptr if absent

 private:
  std::map<std::string, AttrValue> values_;
};

std::string AttrValueToString(const AttrValue& v);

}  // namespace frt
