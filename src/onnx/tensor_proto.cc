// TensorProto -> Tensor. Every size is checked before it is trusted: dims are
// non-negative, the element count fits the allocation limit, raw_data and
// typed fields hold exactly as many elements as the dims say, and external
// data stays inside the model's folder with offset+length inside the file.
#include <filesystem>
#include <fstream>
#include <cstring>

#include "onnx/onnx_types.h"

namespace frt {
namespace fs = std::filesystem;

Result<DType> DTypeFromOnnx(int32_t t) {
  using TP = onnx::TensorProto;
  switch (t) {
    case TP::FLOAT: return DType::kFloat32;
    case TP::UINT8: return DType::kUInt8;
    case TP::INT8: return DType::kInt8;
    case TP::UINT16: return DType::kUInt16;
    case TP::INT16: return DType::kInt16;
    case TP::INT32: return DType::kInt32;
    case TP::INT64: return DType::kInt64;
    case TP::BOOL: return DType::kBool;
    case TP::FLOAT16: return DType::kFloat16;
    case TP::DOUBLE: return DType::kFloat64;
    case TP::UINT32: return DType::kUInt32;
    case TP::UINT64: return DType::kUInt64;
    case TP::BFLOAT16: return DType::kBFloat16;
    case 17: return DType::kFloat8E4M3FN;  // FLOAT8E4M3FN (ONNX >= 1.14)
    case 19: return DType::kFloat8E5M2;    // FLOAT8E5M2
    case TP::STRING: return MakeError(StatusCode::kUnsupported, "string tensors are not supported");
    case TP::COMPLEX64:
    case TP::COMPLEX128:
      return MakeError(StatusCode::kUnsupported, "complex tensors are not supported");
    default:
      return MakeError(StatusCode::kUnsupported, "ONNX element type ", t, " is not supported");
  }
}

int32_t DTypeToOnnx(DType t) {
  using TP = onnx::TensorProto;
  switch (t) {
    case DType::kFloat32: return TP::FLOAT;
    case DType::kUInt8: return TP::UINT8;
    case DType::kInt8: return TP::INT8;
    case DType::kUInt16: return TP::UINT16;
    case DType::kInt16: return TP::INT16;
    case DType::kInt32: return TP::INT32;
    case DType::kInt64: return TP::INT64;
    case DType::kBool: return TP::BOOL;
    case DType::kFloat16: return TP::FLOAT16;
    case DType::kFloat64: return TP::DOUBLE;
    case DType::kUInt32: return TP::UINT32;
    case DType::kUInt64: return TP::UINT64;
    case DType::kBFloat16: return TP::BFLOAT16;
    case DType::kFloat8E4M3FN: return 17;
    case DType::kFloat8E5M2: return 19;
    case DType::kUndefined: break;
  }
  return TP::UNDEFINED;
}

Result<std::string> ResolveExternalPath(const std::string& base_dir, const std::string& location) {
  if (base_dir.empty()) {
    return MakeError(StatusCode::kInvalidModel, "external data \"", location,
                     "\" referenced, but the model was not loaded from a file");
  }
  fs::path loc(location);
  if (location.empty() || loc.is_absolute() || location.find('\0') != std::string::npos) {
    return MakeError(StatusCode::kInvalidModel, "external data location \"", location,
                     "\" must be a relative path inside the model's folder");
  }
  for (const auto& part : loc) {
    if (part == "..") {
      return MakeError(StatusCode::kInvalidModel, "external data location \"", location,
                       "\" contains \"..\"; it must stay inside the model's folder");
    }
  }
  std::error_code ec;
  fs::path base = fs::canonical(base_dir, ec);
  if (ec) return MakeError(StatusCode::kIoError, "cannot resolve model folder \"", base_dir, "\"");
  fs::path full = fs::canonical(base / loc, ec);
  if (ec) {
    return MakeError(StatusCode::kNotFound, "external data file \"", location, "\" not found in \"",
                     base.string(), "\"");
  }
  auto rel = full.lexically_relative(base);
  if (rel.empty() || *rel.begin() == "..") {
    return MakeError(StatusCode::kInvalidModel, "external data \"", location,
                     "\" resolves (through a symlink) outside the model's folder to \"",
                     full.string(), "\"");
  }
  if (!fs::is_regular_file(full, ec)) {
    return MakeError(StatusCode::kInvalidModel, "external data \"", location,
                     "\" is not a regular file");
  }
  return full.string();
}

namespace {

Status ReadExternal(const onnx::TensorProto& proto, const std::string& base_dir, Tensor& t) {
  std::string location;
  int64_t offset = 0, length = -1;
  for (const auto& kv : proto.external_data()) {
    auto parse = [&](int64_t& out) -> Status {
      try {
        size_t used = 0;
        long long v = std::stoll(kv.value(), &used);
        if (used != kv.value().size() || v < 0) throw std::invalid_argument("bad");
        out = v;
      } catch (...) {
        return MakeError(StatusCode::kInvalidModel, "external data ", kv.key(), " \"", kv.value(),
                         "\" is not a non-negative integer");
      }
      return Status::Ok();
    };
    if (kv.key() == "location") location = kv.value();
    else if (kv.key() == "offset") FRT_RETURN_IF_ERROR(parse(offset));
    else if (kv.key() == "length") FRT_RETURN_IF_ERROR(parse(length));
  }
  FRT_ASSIGN_OR_RETURN(std::string path, ResolveExternalPath(base_dir, location));
  std::error_code ec;
  uint64_t file_size = fs::file_size(path, ec);
  if (ec) return MakeError(StatusCode::kIoError, "cannot stat external data file \"", path, "\"");
  uint64_t need = t.nbytes();
  if (length >= 0 && static_cast<uint64_t>(length) != need) {
    return MakeError(StatusCode::kInvalidModel, "external data length ", length, " does not match ",
                     need, " bytes for ", t.Describe());
  }
  if (static_cast<uint64_t>(offset) > file_size || need > file_size - offset) {
    return MakeError(StatusCode::kInvalidModel, "external data \"", location, "\": offset ", offset,
                     " + length ", need, " exceeds the file size ", file_size);
  }
  std::ifstream in(path, std::ios::binary);
  in.seekg(offset);
  in.read(static_cast<char*>(t.raw()), static_cast<std::streamsize>(need));
  if (!in) return MakeError(StatusCode::kIoError, "failed reading external data \"", path, "\"");
  return Status::Ok();
}

template <class Src>
Status CheckCount(const Tensor& t, const Src& field, const char* field_name) {
  if (static_cast<int64_t>(field.size()) != t.num_elements()) {
    return MakeError(StatusCode::kInvalidModel, field_name, " holds ", field.size(),
                     " values but the dims ", DimsToString(t.dims()), " need ", t.num_elements());
  }
  return Status::Ok();
}

// Typed-field storage (ONNX: small ints, bool, fp16/bf16 bits live in int32_data;
// uint32/uint64 in uint64_data).
Status ReadTypedFields(const onnx::TensorProto& p, Tensor& t) {
  switch (t.dtype()) {
    case DType::kFloat32:
      FRT_RETURN_IF_ERROR(CheckCount(t, p.float_data(), "float_data"));
      std::copy(p.float_data().begin(), p.float_data().end(), t.data<float>());
      return Status::Ok();
    case DType::kFloat64:
      FRT_RETURN_IF_ERROR(CheckCount(t, p.double_data(), "double_data"));
      std::copy(p.double_data().begin(), p.double_data().end(), t.data<double>());
      return Status::Ok();
    case DType::kInt64:
      FRT_RETURN_IF_ERROR(CheckCount(t, p.int64_data(), "int64_data"));
      std::copy(p.int64_data().begin(), p.int64_data().end(), t.data<int64_t>());
      return Status::Ok();
    case DType::kUInt32:
    case DType::kUInt64:
      FRT_RETURN_IF_ERROR(CheckCount(t, p.uint64_data(), "uint64_data"));
      for (int64_t i = 0; i < t.num_elements(); ++i) {
        if (t.dtype() == DType::kUInt32) t.data<uint32_t>()[i] = static_cast<uint32_t>(p.uint64_data(i));
        else t.data<uint64_t>()[i] = p.uint64_data(i);
      }
      return Status::Ok();
    default: break;
  }
  FRT_RETURN_IF_ERROR(CheckCount(t, p.int32_data(), "int32_data"));
  VisitDType(t.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    for (int64_t i = 0; i < t.num_elements(); ++i) {
      int32_t v = p.int32_data(static_cast<int>(i));
      if constexpr (kIsSmallFloat<T>) {
        T x;
        x.bits = static_cast<decltype(x.bits)>(v);
        t.data<T>()[i] = x;
      } else if constexpr (std::is_same_v<T, bool>) {
        t.data<bool>()[i] = v != 0;
      } else {
        t.data<T>()[i] = static_cast<T>(v);
      }
    }
  });
  return Status::Ok();
}

}  // namespace

Result<Tensor> TensorFromProto(const onnx::TensorProto& proto, const std::string& base_dir) {
  std::string what = proto.name().empty() ? std::string("unnamed tensor")
                                          : StrCat("tensor \"", proto.name(), "\"");
  auto fail = [&](const Status& s) { return s.WithPrefix(what); };
  auto dtype = DTypeFromOnnx(proto.data_type());
  if (!dtype.ok()) return fail(dtype.status());
  if (proto.has_segment()) return fail(MakeError(StatusCode::kUnsupported, "segmented tensors are not supported"));
  Dims dims(proto.dims().begin(), proto.dims().end());
  for (int64_t d : dims) {
    if (d < 0) return fail(MakeError(StatusCode::kInvalidModel, "negative dimension in dims ", DimsToString(dims)));
  }
  // raw_data's size is known before allocating: check it first, so that a few
  // bytes declaring huge dims cannot make the importer allocate (and zero) up
  // to the host allocation limit. Overflowing dims are left to Allocate.
  if (proto.data_location() != onnx::TensorProto::EXTERNAL && proto.has_raw_data()) {
    auto n = NumElements(dims);
    size_t elem = DTypeSize(*dtype);
    if (n.ok() && static_cast<uint64_t>(*n) <= SIZE_MAX / elem &&
        proto.raw_data().size() != static_cast<size_t>(*n) * elem) {
      return fail(MakeError(StatusCode::kInvalidModel, "raw_data has ", proto.raw_data().size(),
                            " bytes but ", DTypeName(*dtype), DimsToString(dims), " needs ",
                            static_cast<size_t>(*n) * elem));
    }
  }
  auto allocated = Tensor::Allocate(*dtype, dims);
  if (!allocated.ok()) return fail(allocated.status());
  Tensor t = std::move(*allocated);
  if (proto.data_location() == onnx::TensorProto::EXTERNAL) {
    Status s = ReadExternal(proto, base_dir, t);
    if (!s.ok()) return fail(s);
    return t;
  }
  if (proto.has_raw_data()) {
    if (proto.raw_data().size() != t.nbytes()) {
      return fail(MakeError(StatusCode::kInvalidModel, "raw_data has ", proto.raw_data().size(),
                            " bytes but ", t.Describe(), " needs ", t.nbytes()));
    }
    if (t.nbytes()) std::memcpy(t.raw(), proto.raw_data().data(), t.nbytes());
    if (t.dtype() == DType::kBool) {
      for (auto& b : t.span<bool>()) {  // normalize any non-zero byte to true
        uint8_t byte;
        std::memcpy(&byte, &b, 1);
        b = byte != 0;
      }
    }
    return t;
  }
  Status s = ReadTypedFields(proto, t);
  if (!s.ok()) return fail(s);
  return t;
}

}  // namespace frt
