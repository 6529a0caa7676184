// Shapes with symbolic dimensions. A Dim is either a known size, a named
// symbol taken from the model (e.g. "batch", "seq"), or unknown. Concrete
// shapes at run time are plain `Dims` (std::vector<int64_t>).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "fusionrt/status.h"
#include "fusionrt/types.h"

namespace frt {

class Dim {
 public:
  Dim() = default;                       // unknown
  Dim(int64_t value) : value_(value) {}  // NOLINT: a size converts implicitly
  static Dim Symbol(std::string name) {
    Dim d;
    d.symbol_ = std::move(name);
    return d;
  }
  static Dim Unknown() { return Dim(); }

  bool is_static() const { return value_ >= 0; }
  bool is_symbol() const { return value_ < 0 && !symbol_.empty(); }
  int64_t value() const { return value_; }  // -1 unless is_static()
  const std::string& symbol() const { return symbol_; }
  std::string ToString() const;  // "128", "batch" or "?"

  bool operator==(const Dim& o) const { return value_ == o.value_ && symbol_ == o.symbol_; }

 private:
  int64_t value_ = -1;
  std::string symbol_;
};

class Shape {
 public:
  Shape() = default;
  explicit Shape(std::vector<Dim> dims) : dims_(std::move(dims)) {}
  static Shape FromDims(const Dims& dims);

  size_t rank() const { return dims_.size(); }
  const Dim& operator[](size_t i) const { return dims_[i]; }
  Dim& operator[](size_t i) { return dims_[i]; }
  const std::vector<Dim>& dims() const { return dims_; }
  bool is_static() const;
  // Precondition: is_static().
  Dims static_dims() const;
  std::string ToString() const;  // "[batch,128,768]"

  bool operator==(const Shape& o) const { return dims_ == o.dims_; }

 private:
  std::vector<Dim> dims_;
};

// Number of elements of a concrete shape; error on negative dims or overflow
// past 2^62 elements.
Result<int64_t> NumElements(const Dims& dims);
std::string DimsToString(const Dims& dims);  // "[2,3,4]"

// Normalizes a possibly negative axis into [0, rank). Error names the axis.
Result<int64_t> NormalizeAxis(int64_t axis, int64_t rank);

// Numpy-style multidirectional broadcasting of concrete shapes.
Result<Dims> BroadcastDims(const Dims& a, const Dims& b);
// The same over symbolic shapes: a 1 yields to the other side, equal dims stay,
// anything undecidable becomes unknown. Error only for two different constants.
Result<Shape> BroadcastShapes(const Shape& a, const Shape& b);

}  // namespace frt
