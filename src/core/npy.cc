#include "core/npy.h"

#include <cstring>
#include <fstream>
#include <iterator>

namespace frt {
namespace {

struct NpyType {
  const char* descr;
  DType dtype;
};
constexpr NpyType kTypes[] = {
    {"<f4", DType::kFloat32}, {"<f8", DType::kFloat64}, {"<f2", DType::kFloat16},
    {"|i1", DType::kInt8},    {"|u1", DType::kUInt8},   {"<i2", DType::kInt16},
    {"<u2", DType::kUInt16},  {"<i4", DType::kInt32},   {"<u4", DType::kUInt32},
    {"<i8", DType::kInt64},   {"<u8", DType::kUInt64},  {"|b1", DType::kBool},
};

// Value of `key` in the header dict text, e.g. 'descr': '<f4' -> <f4.
std::string DictField(const std::string& header, const std::string& key) {
  size_t k = header.find("'" + key + "'");
  if (k == std::string::npos) return "";
  size_t colon = header.find(':', k);
  if (colon == std::string::npos) return "";
  size_t start = header.find_first_not_of(' ', colon + 1);
  if (start == std::string::npos) return "";
  char open = header[start];
  if (open == '\'') {
    size_t end = header.find('\'', start + 1);
    return end == std::string::npos ? "" : header.substr(start + 1, end - start - 1);
  }
  if (open == '(') {
    size_t end = header.find(')', start);
    return end == std::string::npos ? "" : header.substr(start + 1, end - start - 1);
  }
  size_t end = header.find_first_of(",}", start);
  return header.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

}  // namespace

Result<Tensor> ParseNpy(std::string_view bytes, const std::string& what) {
  auto bad = [&](const std::string& why) {
    return MakeError(StatusCode::kInvalidArgument, what, ": not a valid .npy file: ", why);
  };
  if (bytes.size() < 10 || bytes.substr(0, 6) != std::string_view("\x93NUMPY", 6)) {
    return bad("missing \\x93NUMPY magic");
  }
  uint8_t major = static_cast<uint8_t>(bytes[6]);
  size_t header_len, offset;
  if (major == 1) {
    header_len = static_cast<uint8_t>(bytes[8]) | (static_cast<uint8_t>(bytes[9]) << 8);
    offset = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12) return bad("truncated header");
    header_len = 0;
    for (int i = 0; i < 4; ++i) header_len |= static_cast<size_t>(static_cast<uint8_t>(bytes[8 + i])) << (8 * i);
    offset = 12;
  } else {
    return bad(StrCat("unsupported format version ", int(major)));
  }
  if (header_len > bytes.size() - offset) return bad("header runs past the end of the file");
  std::string header(bytes.substr(offset, header_len));
  offset += header_len;
  std::string descr = DictField(header, "descr");
  std::string fortran = DictField(header, "fortran_order");
  std::string shape_text = DictField(header, "shape");
  if (fortran.find("True") != std::string::npos) return bad("fortran_order arrays are not supported");
  DType dtype = DType::kUndefined;
  for (const auto& t : kTypes) {
    if (descr == t.descr) dtype = t.dtype;
  }
  if (descr == "<b1") dtype = DType::kBool;
  if (dtype == DType::kUndefined) return bad(StrCat("unsupported dtype descr '", descr, "'"));
  Dims dims;
  size_t pos = 0;
  while (pos < shape_text.size()) {
    size_t next = shape_text.find(',', pos);
    std::string item = shape_text.substr(pos, next == std::string::npos ? std::string::npos : next - pos);
    item.erase(0, item.find_first_not_of(' '));
    if (!item.empty()) {
      char* end = nullptr;
      long long v = std::strtoll(item.c_str(), &end, 10);
      if (v < 0 || end == item.c_str()) return bad(StrCat("bad shape entry '", item, "'"));
      dims.push_back(v);
    }
    if (next == std::string::npos) break;
    pos = next + 1;
  }
  FRT_ASSIGN_OR_RETURN(Tensor t, Tensor::Allocate(dtype, dims));
  if (bytes.size() - offset != t.nbytes()) {
    return bad(StrCat("payload has ", bytes.size() - offset, " bytes, shape ", DimsToString(dims),
                      " of ", DTypeName(dtype), " needs ", t.nbytes()));
  }
  if (t.nbytes()) std::memcpy(t.raw(), bytes.data() + offset, t.nbytes());
  if (dtype == DType::kBool) {
    for (auto& b : t.span<bool>()) {
      uint8_t byte;
      std::memcpy(&byte, &b, 1);
      b = byte != 0;
    }
  }
  return t;
}

Result<Tensor> ReadNpy(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return MakeError(StatusCode::kNotFound, "cannot open \"", path, "\"");
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return ParseNpy(bytes, StrCat("\"", path, "\""));
}

Status WriteNpy(const std::string& path, const Tensor& t) {
  const char* descr = nullptr;
  for (const auto& e : kTypes) {
    if (e.dtype == t.dtype()) descr = e.descr;
  }
  if (!descr) {
    return MakeError(StatusCode::kUnsupported, "cannot write ", DTypeName(t.dtype()),
                     " tensors to .npy (no numpy dtype)");
  }
  std::string shape = "(";
  for (size_t i = 0; i < t.rank(); ++i) shape += StrCat(t.dims()[i], t.rank() == 1 ? "," : (i + 1 < t.rank() ? ", " : ""));
  shape += ")";
  std::string header = StrCat("{'descr': '", descr, "', 'fortran_order': False, 'shape': ", shape, ", }");
  size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';
  std::ofstream out(path, std::ios::binary);
  if (!out) return MakeError(StatusCode::kIoError, "cannot write \"", path, "\"");
  out.write("\x93NUMPY\x01\x00", 8);
  uint16_t len = static_cast<uint16_t>(header.size());
  char le[2] = {static_cast<char>(len & 0xFF), static_cast<char>(len >> 8)};
  out.write(le, 2);
  out.write(header.data(), static_cast<std::streamsize>(header.size()));
  out.write(static_cast<const char*>(t.raw()), static_cast<std::streamsize>(t.nbytes()));
  if (!out) return MakeError(StatusCode::kIoError, "failed writing \"", path, "\"");
  return Status::Ok();
}

}  // namespace frt
