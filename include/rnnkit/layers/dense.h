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

class Dense : public Layer, public LogitsHead {
 public:
  explicit Dense(std::int64_t units, const DenseOptions& options = {});
  std::int64_t units() const { return units_; }
  ActivationFunction activation() const { return activation_; }
  nlohmann::json config() const override;
  std::unique_ptr<Layer> clone() const override { return std::make_unique<Dense>(*this); }

  // Its logits are x @ kernel + bias.
  ActivationFunction head_activation() const override { return activation_; }
  Tensor logits(const Tensor& x) const override;
  Tensor activation_of(const Tensor& logits) const override;
  const Tensor& train_to_logits(const Tensor& x) override;
  const Tensor& trained_logits() const override;
  // With an activity penalty, which reads the output, its gradient goes through the activation too.
  Tensor backward_from_logits(const Tensor& logits_grad) override;

 protected:
  std::vector<Shape> compute_output_shapes(const Shape& input_shape) const override;
  void build_weights(const Shape& input_shape, Rng& rng) override;
  std::vector<Tensor> forward(const Tensor& x, const CallArgs& args) override;
  InputGrads backward_pass(const std::vector<Tensor>& output_grads) override;

 private:
  std::int64_t units_;  // U
  DenseOptions options_;
  ActivationFunction activation_;
  Tensor backward_affine(const Tensor& logits_grad);
  // Turns dL/d(output) of the last training call into dL/d(logits).
  void activation_backward_at_logits(Tensor& grad) const;

  Tensor trained_input_;   // (N..., F) of the last training call
  Tensor trained_logits_;  // (N..., U), before the activation
};

}  // namespace rnnkit
