// Flatten, Reshape, Permute, RepeatVector: Keras's weightless layers that rearrange a sample's values.
#pragma once

#include "rnnkit/layer.h"

namespace rnnkit {

// What every layer here takes besides its own argument.
struct ShapeLayerOptions {
  std::optional<Shape> input_shape{};
  std::optional<Shape> batch_input_shape{};
  std::string name{};
};

struct FlattenOptions {
  // "channels_first": the features are axis 1 and move last before flattening, as in Keras.
  std::string data_format = "channels_last";
  std::optional<Shape> input_shape{};
  std::optional<Shape> batch_input_shape{};
  std::string name{};
};

// (B, d1, ..., dk) -> (B, d1·...·dk); (B,) -> (B, 1). Like Keras 2.x (tf.keras) and Keras 3, it drops an
// incoming mask.
class Flatten : public Layer {
 public:
  explicit Flatten(const FlattenOptions& options = {});
  const std::string& data_format() const { return data_format_; }
  nlohmann::json config() const override;
  std::unique_ptr<Layer> clone() const override { return std::make_unique<Flatten>(*this); }
  std::optional<Tensor> compute_mask(const Tensor& /*x*/, const Tensor* /*mask*/) const override {
    return std::nullopt;
  }

 protected:
  std::vector<Shape> compute_output_shapes(const Shape& input_shape) const override;
  void build_weights(const Shape& input_shape, Rng& rng) override;
  std::vector<Tensor> forward(const Tensor& x, const CallArgs& args) override;
  InputGrads backward_pass(const std::vector<Tensor>& output_grads) override;

 private:
  std::string data_format_;
  Shape trained_input_shape_;
};

// (B, ...) -> (B, target_shape...), one entry of target_shape may be -1 (inferred). Drops an incoming mask.
class Reshape : public Layer {
 public:
  explicit Reshape(Shape target_shape, const ShapeLayerOptions& options = {});
  const Shape& target_shape() const { return target_shape_; }
  nlohmann::json config() const override;
  std::unique_ptr<Layer> clone() const override { return std::make_unique<Reshape>(*this); }
  std::optional<Tensor> compute_mask(const Tensor& /*x*/, const Tensor* /*mask*/) const override {
    return std::nullopt;
  }

 protected:
  std::vector<Shape> compute_output_shapes(const Shape& input_shape) const override;
  void build_weights(const Shape& input_shape, Rng& rng) override;
  std::vector<Tensor> forward(const Tensor& x, const CallArgs& args) override;
  InputGrads backward_pass(const std::vector<Tensor>& output_grads) override;

 private:
  // target_shape with its -1 resolved for `values` values per sample; errors name the layer.
  Shape resolved(std::int64_t values, const Shape& input_shape) const;
  Shape target_shape_;
  Shape trained_input_shape_;
};

// Reorders the non-batch axes: output axis i is input axis dims[i-1] (1-based, as Keras). Drops a mask.
class Permute : public Layer {
 public:
  explicit Permute(std::vector<int> dims, const ShapeLayerOptions& options = {});
  const std::vector<int>& dims() const { return dims_; }
  nlohmann::json config() const override;
  std::unique_ptr<Layer> clone() const override { return std::make_unique<Permute>(*this); }
  std::optional<Tensor> compute_mask(const Tensor& /*x*/, const Tensor* /*mask*/) const override {
    return std::nullopt;
  }

 protected:
  std::vector<Shape> compute_output_shapes(const Shape& input_shape) const override;
  void build_weights(const Shape& input_shape, Rng& rng) override;
  std::vector<Tensor> forward(const Tensor& x, const CallArgs& args) override;
  InputGrads backward_pass(const std::vector<Tensor>& output_grads) override;

 private:
  std::vector<int> dims_;
};

// (B, F) -> (B, n, F): the input repeated n times along a new time axis. Drops an incoming mask.
class RepeatVector : public Layer {
 public:
  explicit RepeatVector(std::int64_t n, const ShapeLayerOptions& options = {});
  std::int64_t n() const { return n_; }
  nlohmann::json config() const override;
  std::unique_ptr<Layer> clone() const override { return std::make_unique<RepeatVector>(*this); }
  std::optional<Tensor> compute_mask(const Tensor& /*x*/, const Tensor* /*mask*/) const override {
    return std::nullopt;
  }

 protected:
  std::vector<Shape> compute_output_shapes(const Shape& input_shape) const override;
  void build_weights(const Shape& input_shape, Rng& rng) override;
  std::vector<Tensor> forward(const Tensor& x, const CallArgs& args) override;
  InputGrads backward_pass(const std::vector<Tensor>& output_grads) override;

 private:
  std::int64_t n_;
};

}  // namespace rnnkit
