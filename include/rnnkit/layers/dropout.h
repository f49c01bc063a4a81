// Dropout: zeroes a fraction `rate` of the inputs while training; the identity at inference.
#pragma once

#include "rnnkit/layer.h"

namespace rnnkit {

struct DropoutOptions {
  std::optional<Shape> input_shape{};
  std::optional<Shape> batch_input_shape{};
  std::string name{};
};

class Dropout : public Layer {
 public:
  explicit Dropout(float rate, const DropoutOptions& options = {});
  float rate() const { return rate_; }
  nlohmann::json config() const override;
  std::unique_ptr<Layer> clone() const override { return std::make_unique<Dropout>(*this); }

 protected:
  std::vector<Shape> compute_output_shapes(const Shape& input_shape) const override { return {input_shape}; }
  void build_weights(const Shape& /*input_shape*/, Rng& /*rng*/) override {}
  std::vector<Tensor> forward(const Tensor& x, const CallArgs& args) override;
  InputGrads backward_pass(const std::vector<Tensor>& output_grads) override;

 private:
  float rate_;
  Tensor trained_scale_;  // 0 or 1/(1-rate) per element of the last training call; empty: identity
};

// InputLayer: declares the model's input shape (keras.Input / InputLayer); passes its input through.
class InputLayer : public Layer {
 public:
  // `shape` excludes the batch dimension, as keras.Input(shape=...); or give batch_input_shape.
  // `dtype`: what the model's input holds ("int32" for token ids is kept for the config; values are float32).
  explicit InputLayer(const InputSpec& input, std::string name = {}, std::string dtype = "float32");
  nlohmann::json config() const override;
  const std::string& dtype() const { return dtype_; }
  std::unique_ptr<Layer> clone() const override { return std::make_unique<InputLayer>(*this); }

 protected:
  std::vector<Shape> compute_output_shapes(const Shape& input_shape) const override { return {input_shape}; }
  void build_weights(const Shape& /*input_shape*/, Rng& /*rng*/) override {}
  std::vector<Tensor> forward(const Tensor& x, const CallArgs& /*args*/) override { return {x}; }
  InputGrads backward_pass(const std::vector<Tensor>& output_grads) override { return {output_grads[0]}; }

 private:
  std::string dtype_;
};

}  // namespace rnnkit
