#include "ir/attributes.h"

namespace frt {
namespace {
template <class T>
const T* Find(const std::map<std::string, AttrValue>& m, const std::string& name) {
  auto it = m.find(name);
  if (it == m.end()) return nullptr;
  return std::get_if<T>(&it->second);
}

template <class T>
std::string JoinList(const std::vector<T>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? "," : "") + StrCat(v[i]);
  return s + "]";
}
}  // namespace

int64_t Attributes::GetInt(const std::string& name, int64_t def) const {
  const int64_t* v = Find<int64_t>(values_, name);
  return v ? *v : def;
}
float Attributes::GetFloat(const std::string& name, float def) const {
  const float* v = Find<float>(values_, name);
  return v ? *v : def;
}
std::string Attributes::GetString(const std::string& name, const std::string& def) const {
  const std::string* v = Find<std::string>(values_, name);
  return v ? *v : def;
}
std::vector<int64_t> Attributes::GetInts(const std::string& name, std::vector<int64_t> def) const {
  const auto* v = Find<std::vector<int64_t>>(values_, name);
  return v ? *v : def;
}
std::vector<float> Attributes::GetFloats(const std::string& name, std::vector<float> def) const {
  const auto* v = Find<std::vector<float>>(values_, name);
  return v ? *v : def;
}
std::vector<std::string> Attributes::GetStrings(const std::string& name) const {
  const auto* v = Find<std::vector<std::string>>(values_, name);
  return v ? *v : std::vector<std::string>{};
}
const Tensor* Attributes::GetTensor(const std::string& name) const {
  return Find<Tensor>(values_, name);
}
std::shared_ptr<Graph> Attributes::GetGraph(const std::string& name) const {
  const auto* v = Find<std::shared_ptr<Graph>>(values_, name);
  return v ? *v : nullptr;
}

std::string AttrValueToString(const AttrValue& v) {
  struct Printer {
    std::string operator()(int64_t x) const { return std::to_string(x); }
    std::string operator()(float x) const { return StrCat(x); }
    std::string operator()(const std::string& x) const { return "\"" + x + "\""; }
    std::string operator()(const std::vector<int64_t>& x) const { return JoinList(x); }
    std::string operator()(const std::vector<float>& x) const { return JoinList(x); }
    std::string operator()(const std::vector<std::string>& x) const { return JoinList(x); }
    std::string operator()(const Tensor& t) const { return "tensor " + t.Describe(); }
    std::string operator()(const std::shared_ptr<Graph>&) const { return "<graph>"; }
  };
  return std::visit(Printer{}, v);
}

}  // namespace frt
