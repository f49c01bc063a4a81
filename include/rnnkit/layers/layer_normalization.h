// LayerNormalization: y = gamma * (x - mean) / sqrt(var + epsilon) + beta, the moments taken over `axis`
// of each sample, as keras.layers.LayerNormalization.
#pragma once

#include "rnnkit/layer.h"

namespace rnnkit {

struct LayerNormalizationOptions {
  std::vector<int> axis{-1};  // the axes normalized over (Keras's int axis is a one-element list)
  double epsilon = 1e-3;
  bool center = true;  // add beta
  bool scale = true;   // multiply by gamma
  nlohmann::json beta_initializer = "zeros";
  nlohmann::json gamma_initializer = "ones";
  std::optional<Regularizer> beta_regularizer{};
  std::optional<Regularizer> gamma_regularizer{};
  std::optional<Constraint> beta_constraint{};
  std::optional<Constraint> gamma_constraint{};
  std::optional<Shape> input_shape{};
  std::optional<Shape> batch_input_shape{};
  std::string name{};
};

class LayerNormalization : public Layer {
 public:
  explicit LayerNormalization(const LayerNormalizationOptions& options = {});
  const LayerNormalizationOptions& options() const { return options_; }
  nlohmann::json config() const override;
  std::unique_ptr<Layer> clone() const override { return std::make_unique<LayerNormalization>(*this); }

 protected:
  std::vector<Shape> compute_output_shapes(const Shape& input_shape) const override { return {input_shape}; }
  void build_weights(const Shape& input_shape, Rng& rng) override;
  std::vector<Tensor> forward(const Tensor& x, const CallArgs& args) override;
  InputGrads backward_pass(const std::vector<Tensor>& output_grads) override;

 private:
  LayerNormalizationOptions options_;
  std::vector<int> axes_;  // resolved once built: non-negative, in the order given

  Tensor trained_normalized_;            // (x - mean) / sqrt(var + epsilon) of the last training call
  std::vector<double> trained_inverse_;  // 1 / sqrt(var + epsilon) per normalized group
};

}  // namespace rnnkit
