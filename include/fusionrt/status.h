// Errors as values: every fallible FusionRT call returns Status or Result<T>.
// No exception and no abort crosses the library boundary.
//
// Thread safety: Status and Result are plain values; distinct objects may be
// used from distinct threads freely.
#pragma once

#include <cstdint>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace frt {

enum class StatusCode : int {
  kOk = 0,
  kInvalidArgument = 1,    // caller passed something malformed (flag, shape, address)
  kInvalidModel = 2,       // the model file/graph violates the ONNX spec
  kUnsupported = 3,        // valid, but FusionRT does not implement it (op, attribute, dtype)
  kNotFound = 4,           // a named file, tensor or node does not exist
  kOutOfRange = 5,         // index/axis/shape outside allowed bounds (incl. profiles)
  kResourceExhausted = 6,  // allocation beyond the configured limit
  kIoError = 7,            // filesystem failure
  kInvalidEngine = 8,      // engine file corrupt, truncated or for another target
  kInternal = 9,           // broken invariant inside FusionRT (a bug)
};

std::string_view StatusCodeName(StatusCode code);

// Concatenates any streamable values into a string.
template <class... Args>
std::string StrCat(const Args&... args) {
  std::ostringstream os;
  (os << ... << args);
  return os.str();
}

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}
  static Status Ok() { return Status(); }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "InvalidModel: <message>"
  std::string ToString() const;
  // Returns a copy whose message is "<prefix>: <message>", same code.
  Status WithPrefix(std::string_view prefix) const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

template <class... Args>
Status MakeError(StatusCode code, const Args&... args) {
  return Status(code, StrCat(args...));
}

// Holds either a T or a non-OK Status.
template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : data_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : data_(std::move(status)) {  // NOLINT: implicit by design
    if (std::get<Status>(data_).ok()) {
      data_ = Status(StatusCode::kInternal, "Result constructed from an OK status without value");
    }
  }

  bool ok() const { return std::holds_alternative<T>(data_); }
  Status status() const { return ok() ? Status::Ok() : std::get<Status>(data_); }
  // Precondition: ok().
  T& value() & { return std::get<T>(data_); }
  const T& value() const& { return std::get<T>(data_); }
  T&& value() && { return std::get<T>(std::move(data_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<T, Status> data_;
};

}  // namespace frt

#define FRT_CONCAT_INNER(a, b) a##b
#define FRT_CONCAT(a, b) FRT_CONCAT_INNER(a, b)

#define FRT_RETURN_IF_ERROR(expr)             \
  do {                                        \
    ::frt::Status frt_status_ = (expr);       \
    if (!frt_status_.ok()) return frt_status_; \
  } while (0)

#define FRT_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                              \
  if (!tmp.ok()) return tmp.status();             \
  lhs = std::move(tmp).value()

#define FRT_ASSIGN_OR_RETURN(lhs, expr) \
  FRT_ASSIGN_OR_RETURN_IMPL(FRT_CONCAT(frt_result_, __LINE__), lhs, expr)
