// Tensor: a contiguous row-major float32 array with a shape; the one data type of rnnkit.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace rnnkit {

// The allocator of tensor values. Large arrays freed by one training step are kept and handed to the
// next step's tensors of the same size: a fresh page costs a page fault on first touch, which at the
// sizes of a language model's logits (tens of MB per step) costs more than the arithmetic on them.
struct FloatAllocator {
  using value_type = float;
  template <class Other>
  struct rebind {
    using other = FloatAllocator;  // float arrays only
  };
  FloatAllocator() = default;
  float* allocate(std::size_t count);
  void deallocate(float* values, std::size_t count) noexcept;
  // A vector sized without a fill value (Tensor::uninitialized) leaves its floats unset; every other
  // construction, the fill of Tensor(shape, fill) included, goes on as usual.
  template <class Value>
  void construct(Value* place) noexcept {
    ::new (static_cast<void*>(place)) Value;
  }
  template <class Value, class... Arguments>
  void construct(Value* place, Arguments&&... arguments) {
    ::new (static_cast<void*>(place)) Value(std::forward<Arguments>(arguments)...);
  }
  friend bool operator==(FloatAllocator, FloatAllocator) { return true; }
};

// A shape in Keras's order, batch first: (B,T,F). kNone marks a dimension not known yet (Keras's None).
using Shape = std::vector<std::int64_t>;
inline constexpr std::int64_t kNone = -1;

// "(None, 5, 10)" as Keras prints shapes; a rank-1 shape prints as "(3,)".
std::string shape_string(const Shape& shape);
// Number of elements; every dimension must be known.
std::int64_t element_count(const Shape& shape);

class Tensor {
 public:
  Tensor() = default;
  explicit Tensor(Shape shape, float fill = 0.0f);
  Tensor(Shape shape, std::vector<float> values);
  // A tensor whose values are left unset, for an array written whole before anything reads it (a
  // product's output, a per-step record): zero-filling it first would be a pass over memory for nothing.
  static Tensor uninitialized(Shape shape);

  const Shape& shape() const { return shape_; }
  int rank() const { return static_cast<int>(shape_.size()); }
  std::int64_t dim(int axis) const;  // negative axes count from the end
  std::int64_t size() const { return static_cast<std::int64_t>(values_.size()); }
  bool empty() const { return values_.empty() && shape_.empty(); }

  float* data() { return values_.data(); }
  const float* data() const { return values_.data(); }
  std::span<float> values() { return values_; }
  std::span<const float> values() const { return values_; }
  float& operator[](std::int64_t flat_index) { return values_[static_cast<std::size_t>(flat_index)]; }
  float operator[](std::int64_t flat_index) const { return values_[static_cast<std::size_t>(flat_index)]; }
  // Bounds-checked element access by full index, e.g. x.at({b, t, f}).
  float& at(std::initializer_list<std::int64_t> index);
  float at(std::initializer_list<std::int64_t> index) const;

  // The same values under another shape with the same element count.
  Tensor reshaped(Shape shape) const&;
  Tensor reshaped(Shape shape) &&;

 private:
  std::int64_t flat_index(std::initializer_list<std::int64_t> index) const;

  Shape shape_;
  std::vector<float, FloatAllocator> values_;
};

}  // namespace rnnkit
