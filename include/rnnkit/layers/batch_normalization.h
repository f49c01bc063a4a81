// BatchNormalization: y = gamma * (x - mean) / sqrt(var + epsilon) + beta per feature of `axis`, with the
// batch's moments while training (moving averages of them kept as non-trainable weights) and the moving
// ones at inference, as tf.keras 2.x's keras.layers.BatchNormalization.
#pragma once

#include "rnnkit/layer.h"

namespace rnnkit {

struct BatchNormalizationOptions {
  std::vector<int> axis{-1};  // the feature axes (Keras's int axis is a one-element list)
  double momentum = 0.99;     // moving = moving·momentum + batch·(1 - momentum)
  double epsilon = 1e-3;
  bool center = true;  // add beta
  bool scale = true;   // multiply by gamma
  nlohmann::json beta_initializer = "zeros";
  nlohmann::json gamma_initializer = "ones";
  nlohmann::json moving_mean_initializer = "zeros";
  nlohmann::json moving_variance_initializer = "ones";
  std::optional<Regularizer> beta_regularizer{};
  std::optional<Regularizer> gamma_regularizer{};
  std::optional<Constraint> beta_constraint{};
  std::optional<Constraint> gamma_constraint{};
  std::optional<Shape> input_shape{};
  std::optional<Shape> batch_input_shape{};
  std::string name{};
};

// A training call (training=true on a trainable layer) normalizes with the batch's mean and biased
// variance over every axis but `axis`, counting only the unmasked timesteps where a (B,T) mask comes with a
// (B,T,F) input, and updates moving_mean and moving_variance; any other call uses the moving statistics.
// As tf.keras 2.x, a layer with trainable=false always runs in inference mode, and a rank 4 or 5 input
// whose feature axis is 1 or the last takes TensorFlow's fused kernel's path: the mask is ignored, epsilon
// is at least 1.001e-5 and the moving variance follows the unbiased batch variance.
class BatchNormalization : public Layer {
 public:
  explicit BatchNormalization(const BatchNormalizationOptions& options = {});
  const BatchNormalizationOptions& options() const { return options_; }
  const Tensor& moving_mean() const { return own_weight(moving_mean_index()); }
  const Tensor& moving_variance() const { return own_weight(moving_mean_index() + 1); }
  nlohmann::json config() const override;
  std::unique_ptr<Layer> clone() const override { return std::make_unique<BatchNormalization>(*this); }

 protected:
  std::vector<Shape> compute_output_shapes(const Shape& input_shape) const override { return {input_shape}; }
  void build_weights(const Shape& input_shape, Rng& rng) override;
  std::vector<Tensor> forward(const Tensor& x, const CallArgs& args) override;
  InputGrads backward_pass(const std::vector<Tensor>& output_grads) override;

 private:
  BatchNormalizationOptions options_;
  std::vector<int> axes_;  // resolved once built: non-negative, in the order given

  std::size_t moving_mean_index() const { return (options_.scale ? 1 : 0) + (options_.center ? 1 : 0); }
  bool fused(const Shape& shape) const;

  // Of the last training call:
  bool trained_with_batch_statistics_ = false;
  Tensor trained_normalized_;            // x̂ = (x - mean) / sqrt(var + epsilon)
  std::vector<double> trained_inverse_;  // 1 / sqrt(var + epsilon) per feature
  Tensor trained_weights_;               // the (B,T) mask the moments counted with; empty: every element
  std::vector<double> trained_counts_;   // per feature: the elements (or unmasked ones) its moments took
};

}  // namespace rnnkit
