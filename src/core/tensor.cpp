#include "rnnkit/tensor.h"

#include "rnnkit/error.h"

namespace rnnkit {

std::string shape_string(const Shape& shape) {
  std::string text = "(";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (i > 0) text += ", ";
    text += shape[i] == kNone ? "None" : std::to_string(shape[i]);
  }
  if (shape.size() == 1) text += ",";
  return text + ")";
}

std::int64_t element_count(const Shape& shape) {
  std::int64_t count = 1;
  for (std::int64_t extent : shape) {
    check(extent >= 0, "shape ", shape_string(shape), " has an unknown or negative dimension");
    check(extent == 0 || count <= INT64_MAX / extent, "shape ", shape_string(shape), " is too large");
    count *= extent;
  }
  return count;
}

Tensor::Tensor(Shape shape, float fill)
    : shape_(std::move(shape)), values_(static_cast<std::size_t>(element_count(shape_)), fill) {}

Tensor::Tensor(Shape shape, std::vector<float> values)
    : shape_(std::move(shape)), values_(values.begin(), values.end()) {
  // The message is formatted only on failure: these run for every tensor and element access.
  if (static_cast<std::int64_t>(values_.size()) != element_count(shape_))
    fail("a tensor of shape ", shape_string(shape_), " needs ", element_count(shape_), " values, received ",
         values_.size());
}

Tensor Tensor::uninitialized(Shape shape) {
  Tensor tensor;
  tensor.values_ = std::vector<float, FloatAllocator>(static_cast<std::size_t>(element_count(shape)));
  tensor.shape_ = std::move(shape);
  return tensor;
}

std::int64_t Tensor::dim(int axis) const {
  const int resolved = axis < 0 ? axis + rank() : axis;
  if (resolved < 0 || resolved >= rank())
    fail("axis ", axis, " is out of range for a tensor of shape ", shape_string(shape_));
  return shape_[static_cast<std::size_t>(resolved)];
}

std::int64_t Tensor::flat_index(std::initializer_list<std::int64_t> index) const {
  if (static_cast<int>(index.size()) != rank())
    fail("index of rank ", index.size(), " into a tensor of shape ", shape_string(shape_));
  std::int64_t flat = 0;
  std::size_t axis = 0;
  for (std::int64_t i : index) {
    if (i < 0 || i >= shape_[axis])
      fail("index ", i, " on axis ", axis, " is out of range for shape ", shape_string(shape_));
    flat = flat * shape_[axis] + i;
    ++axis;
  }
  return flat;
}

float& Tensor::at(std::initializer_list<std::int64_t> index) { return (*this)[flat_index(index)]; }
float Tensor::at(std::initializer_list<std::int64_t> index) const { return (*this)[flat_index(index)]; }

Tensor Tensor::reshaped(Shape shape) const& { return Tensor(*this).reshaped(std::move(shape)); }

Tensor Tensor::reshaped(Shape shape) && {
  check(element_count(shape) == size(), "cannot reshape a tensor of shape ", shape_string(shape_), " to ",
        shape_string(shape));
  Tensor result;
  result.shape_ = std::move(shape);
  result.values_ = std::move(values_);
  return result;
}

}  // namespace rnnkit
