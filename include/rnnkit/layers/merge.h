// Keras's merge layers: Concatenate, Add, Subtract, Multiply, Average, Maximum, Minimum and Dot, each called on
// a list of tensors (Concatenate()({a, b})).
#pragma once

#include <array>
#include <variant>

#include "rnnkit/layer.h"

namespace rnnkit {

struct MergeOptions {
  std::string name{};
};

// Add, Subtract, Multiply, Average, Maximum, Minimum: one elementwise operation over inputs of one shape. The
// output's mask keeps a step where every input's mask does (Keras's _Merge).
class ElementwiseMerge : public ListInputLayer {
 public:
  enum class Operation { add, subtract, multiply, average, maximum, minimum };
  Operation operation() const { return operation_; }

 protected:
  ElementwiseMerge(Operation operation, std::string_view class_name, std::string_view snake_name,
                   const MergeOptions& options);
  std::pair<std::size_t, std::size_t> list_size_range() const override;
  std::vector<Shape> compute_list_output_shapes(const std::vector<Shape>& input_shapes) const override;
  std::vector<Tensor> forward_list(const std::vector<const Tensor*>& inputs,
                                   const std::vector<const Tensor*>& masks, const CallArgs& args) override;
  std::vector<Tensor> backward_list(const std::vector<Tensor>& output_grads) override;
  std::optional<Tensor> compute_list_mask(const std::vector<const Tensor*>& inputs,
                                          const std::vector<const Tensor*>& masks) const override;

 private:
  Operation operation_;
  std::vector<Tensor> trained_inputs_;  // multiply, maximum, minimum: the inputs of the last training call
  std::size_t trained_count_ = 0;
};

#define RNNKIT_ELEMENTWISE_MERGE(Class, snake, op)                                              \
  class Class : public ElementwiseMerge {                                                       \
   public:                                                                                      \
    explicit Class(const MergeOptions& options = {})                                            \
        : ElementwiseMerge(Operation::op, #Class, snake, options) {}                            \
    std::unique_ptr<Layer> clone() const override { return std::make_unique<Class>(*this); } \
  };
RNNKIT_ELEMENTWISE_MERGE(Add, "add", add)
RNNKIT_ELEMENTWISE_MERGE(Subtract, "subtract", subtract)
RNNKIT_ELEMENTWISE_MERGE(Multiply, "multiply", multiply)
RNNKIT_ELEMENTWISE_MERGE(Average, "average", average)
RNNKIT_ELEMENTWISE_MERGE(Maximum, "maximum", maximum)
RNNKIT_ELEMENTWISE_MERGE(Minimum, "minimum", minimum)
#undef RNNKIT_ELEMENTWISE_MERGE

struct ConcatenateOptions {
  int axis = -1;
  std::string name{};
};

// Joins its inputs along `axis` (not the batch axis); the other dimensions must agree.
class Concatenate : public ListInputLayer {
 public:
  explicit Concatenate(const ConcatenateOptions& options = {});
  int axis() const { return axis_; }
  nlohmann::json config() const override;
  std::unique_ptr<Layer> clone() const override { return std::make_unique<Concatenate>(*this); }

 protected:
  std::pair<std::size_t, std::size_t> list_size_range() const override { return {1, SIZE_MAX}; }
  std::vector<Shape> compute_list_output_shapes(const std::vector<Shape>& input_shapes) const override;
  std::vector<Tensor> forward_list(const std::vector<const Tensor*>& inputs,
                                   const std::vector<const Tensor*>& masks, const CallArgs& args) override;
  std::vector<Tensor> backward_list(const std::vector<Tensor>& output_grads) override;
  std::optional<Tensor> compute_list_mask(const std::vector<const Tensor*>& inputs,
                                          const std::vector<const Tensor*>& masks) const override;

 private:
  std::size_t positive_axis(std::size_t rank) const;
  int axis_;
  std::vector<Shape> trained_shapes_;
};

struct DotOptions {
  // One axis for both inputs, or one per input (Keras's axes=1 or axes=(2, 2)); negative counts from the end.
  std::variant<int, std::array<int, 2>> axes = 1;
  bool normalize = false;  // L2-normalize along the axes first: the cosine proximity
  std::string name{};
};

// The batched dot product of two tensors over one axis each (Keras's batch_dot): (B,F)·(B,F) -> (B,1);
// (B,T,F)·(B,S,F) over axes (2, 2) -> (B,T,S). It gives no mask.
class Dot : public ListInputLayer {
 public:
  explicit Dot(const DotOptions& options = {});
  nlohmann::json config() const override;
  std::unique_ptr<Layer> clone() const override { return std::make_unique<Dot>(*this); }

 protected:
  std::pair<std::size_t, std::size_t> list_size_range() const override { return {2, 2}; }
  std::vector<Shape> compute_list_output_shapes(const std::vector<Shape>& input_shapes) const override;
  std::vector<Tensor> forward_list(const std::vector<const Tensor*>& inputs,
                                   const std::vector<const Tensor*>& masks, const CallArgs& args) override;
  std::vector<Tensor> backward_list(const std::vector<Tensor>& output_grads) override;
  std::optional<Tensor> compute_list_mask(const std::vector<const Tensor*>& inputs,
                                          const std::vector<const Tensor*>& masks) const override;

 private:
  std::array<std::size_t, 2> axes_for(const Shape& a, const Shape& b) const;
  DotOptions options_;
  std::array<Tensor, 2> trained_inputs_;      // as given
  std::array<Tensor, 2> trained_normalized_;  // as multiplied (normalized where asked)
  std::array<Tensor, 2> trained_norms_;       // the L2 norms used, where normalized
};

}  // namespace rnnkit
