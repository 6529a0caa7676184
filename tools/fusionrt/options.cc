#include "options.h"

#include <iostream>

namespace frt::cli {

Result<std::map<std::string, Dims>> ParseShapes(const std::string& text) {
  std::map<std::string, Dims> out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t comma = text.find(',', pos);
    std::string item = text.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    pos = comma == std::string::npos ? text.size() : comma + 1;
    if (item.empty()) continue;
    size_t colon = item.rfind(':');
    if (colon == std::string::npos || colon == 0) {
      return MakeError(StatusCode::kInvalidArgument, "shape \"", item,
                       "\" must look like name:1x128 (name, colon, dims joined by x)");
    }
    std::string name = item.substr(0, colon);
    std::string dims_text = item.substr(colon + 1);
    Dims dims;
    size_t p = 0;
    while (p < dims_text.size()) {
      size_t x = dims_text.find('x', p);
      std::string d = dims_text.substr(p, x == std::string::npos ? std::string::npos : x - p);
      char* end = nullptr;
      long long v = std::strtoll(d.c_str(), &end, 10);
      if (d.empty() || *end != '\0' || v < 0) {
        return MakeError(StatusCode::kInvalidArgument, "shape \"", item, "\": dimension \"", d,
                         "\" is not a non-negative integer");
      }
      dims.push_back(v);
      if (x == std::string::npos) break;
      p = x + 1;
    }
    if (out.count(name)) {
      return MakeError(StatusCode::kInvalidArgument, "shape for \"", name, "\" given twice");
    }
    out[name] = dims;
  }
  return out;
}

Result<std::pair<std::string, std::string>> ParseInputFlag(const std::string& text) {
  size_t eq = text.rfind('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == text.size()) {
    return MakeError(StatusCode::kInvalidArgument, "--input \"", text,
                     "\" must look like name=file.npy");
  }
  return std::make_pair(text.substr(0, eq), text.substr(eq + 1));
}

int ReportError(const Status& s) {
  std::cerr << "error: " << s.ToString() << "\n";
  return 1;
}

}  // namespace frt::cli
