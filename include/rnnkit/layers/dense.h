// Dense: y = activation(x @ kernel + bias) over the last axis, as keras.layers.Dense.
#pragma once

#include "rnnkit/activation.h"
#include "rnnkit/layer.h"

namespace rnnkit {

struct DenseOptions {
  std::string activation = "linear";
  bool use_bias = true;
  nlohmann::json kernel_initializer = "glorot_uniform";
  nlohmann::json bias_initializer = "zeros";
  std::optional<Regularizer> kernel_regularizer{};  // rnnkit::L2(0.01), ...
  std::optional<Regularizer> bias_regularizer{};
  std::optional<Regularizer> activity_regularizer{};
  std::optional<Constraint> kernel_constraint{};  // rnnkit::MaxNorm(3), ...
  std::optional<Constraint> bias_constraint{};
  std::optional<Shape> input_shape{};
  std::optional<Shape> batch_input_shape{};
  std::string name{};
};

class Dense : public Layer {
 public:
  explicit Dense(std::int64_t units, const DenseOptions& options = {});
  std::int64_t units() const { return units_; }
  Activation activation() const { return activation_; }
  nlohmann::json config() const override;
  std::unique_ptr<Layer> clone() const override { return std::make_unique<Dense>(*this); }
  // x @ kernel + bias of the last training call, before the activation: what Keras's cross-entropy
  // reads when this layer ends a model with softmax or sigmoid.
  const Tensor& trained_logits() const;
  // x @ kernel + bias for an input x (N..., F): the layer's output before the activation, as forward computes
  // it.
  Tensor logits(const Tensor& x) const;
  // The layer's output for its logits: activation(logits).
  Tensor activation_of(const Tensor& logits) const;
  // A training call that stops at the logits, for a loss that reads them: sets trained_logits() (returned)
  // for backward_from_logits. Where the outputs are needed too, they are activation_of(the logits).
  const Tensor& train_to_logits(const Tensor& x);
  // Backward from dL/d(logits) instead of dL/d(output): the fused softmax/sigmoid cross-entropy path.
  Tensor backward_from_logits(const Tensor& logits_grad);

 protected:
  std::vector<Shape> compute_output_shapes(const Shape& input_shape) const override;
  void build_weights(const Shape& input_shape, Rng& rng) override;
  std::vector<Tensor> forward(const Tensor& x, const CallArgs& args) override;
  InputGrads backward_pass(const std::vector<Tensor>& output_grads) override;

 private:
  std::int64_t units_;  // U
  DenseOptions options_;
  Activation activation_;
  Tensor backward_affine(const Tensor& logits_grad);

  Tensor trained_input_;   // (N..., F) of the last training call
  Tensor trained_logits_;  // (N..., U), before the activation
};

}  // namespace rnnkit
