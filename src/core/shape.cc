#include "core/shape.h"

#include <algorithm>

namespace frt {

std::string Dim::ToString() const {
  if (is_static()) return std::to_string(value_);
  if (is_symbol()) return symbol_;
  return "?";
}

Shape Shape::FromDims(const Dims& dims) {
  std::vector<Dim> out;
  out.reserve(dims.size());
  for (int64_t d : dims) out.emplace_back(d);
  return Shape(std::move(out));
}

bool Shape::is_static() const {
  return std::all_of(dims_.begin(), dims_.end(), [](const Dim& d) { return d.is_static(); });
}

Dims Shape::static_dims() const {
  Dims out;
  out.reserve(dims_.size());
  for (const Dim& d : dims_) out.push_back(d.value());
  return out;
}

std::string Shape::ToString() const {
  std::string s = "[";
  for (size_t i = 0; i < dims_.size(); ++i) {
    if (i) s += ",";
    s += dims_[i].ToString();
  }
  return s + "]";
}

std::string DimsToString(const Dims& dims) { return Shape::FromDims(dims).ToString(); }

Result<int64_t> NumElements(const Dims& dims) {
  constexpr int64_t kMax = int64_t{1} << 62;
  int64_t n = 1;
  for (int64_t d : dims) {
    if (d < 0) return MakeError(StatusCode::kInvalidArgument, "negative dimension in shape ", DimsToString(dims));
    if (d == 0) return int64_t{0};
  }
  for (int64_t d : dims) {
    if (n > kMax / d) {
      return MakeError(StatusCode::kResourceExhausted, "shape ", DimsToString(dims),
                       " has more than 2^62 elements");
    }
    n *= d;
  }
  return n;
}

Result<int64_t> NormalizeAxis(int64_t axis, int64_t rank) {
  if (axis < -rank || axis >= rank) {
    return MakeError(StatusCode::kOutOfRange, "axis ", axis, " out of range for rank-", rank,
                     " input (expected [", -rank, ", ", rank - 1, "])");
  }
  return axis < 0 ? axis + rank : axis;
}

Result<Dims> BroadcastDims(const Dims& a, const Dims& b) {
  size_t rank = std::max(a.size(), b.size());
  Dims out(rank);
  for (size_t i = 0; i < rank; ++i) {
    int64_t da = i < rank - a.size() ? 1 : a[i - (rank - a.size())];
    int64_t db = i < rank - b.size() ? 1 : b[i - (rank - b.size())];
    if (da == db || db == 1) {
      out[i] = da;
    } else if (da == 1) {
      out[i] = db;
    } else {
      return MakeError(StatusCode::kInvalidArgument, "shapes ", DimsToString(a), " and ",
                       DimsToString(b), " are not broadcastable (dimension ", i, ": ", da,
                       " vs ", db, ")");
    }
  }
  return out;
}

Result<Shape> BroadcastShapes(const Shape& a, const Shape& b) {
  size_t rank = std::max(a.rank(), b.rank());
  std::vector<Dim> out(rank);
  for (size_t i = 0; i < rank; ++i) {
    Dim da = i < rank - a.rank() ? Dim(1) : a[i - (rank - a.rank())];
    Dim db = i < rank - b.rank() ? Dim(1) : b[i - (rank - b.rank())];
    if (da == db || (db.is_static() && db.value() == 1)) {
      out[i] = da;
    } else if (da.is_static() && da.value() == 1) {
      out[i] = db;
    } else if (da.is_static() && db.is_static()) {
      return MakeError(StatusCode::kInvalidArgument, "shapes ", a.ToString(), " and ",
                       b.ToString(), " are not broadcastable (dimension ", i, ")");
    } else if (da.is_static()) {
      out[i] = da;  // the symbol must equal da (or be 1, which broadcasts to da)
    } else if (db.is_static()) {
      out[i] = db;
    } else {
      out[i] = Dim::Unknown();
    }
  }
  return Shape(std::move(out));
}

}  // namespace frt
