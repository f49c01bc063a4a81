// Activation: applies an activation function to its input, as keras.layers.Activation.
#pragma once

#include "rnnkit/activation.h"
#include "rnnkit/layer.h"

namespace rnnkit {

struct ActivationOptions {
  std::optional<Shape> input_shape{};
  std::optional<Shape> batch_input_shape{};
  std::string name{};
};

// Keras's layer takes the name Keras gives it; the function it applies is an ActivationFunction.
class Activation : public Layer, public LogitsHead {
 public:
  // `activation` is Keras's name: "softmax", "relu", ...
  explicit Activation(const std::string& activation, const ActivationOptions& options = {});
  ActivationFunction activation() const { return activation_; }
  nlohmann::json config() const override;
  std::unique_ptr<Layer> clone() const override { return std::make_unique<Activation>(*this); }

  // Its input is its logits.
  ActivationFunction head_activation() const override { return activation_; }
  Tensor logits(const Tensor& x) const override { return x; }
  Tensor activation_of(const Tensor& logits) const override;
  const Tensor& train_to_logits(const Tensor& x) override;
  const Tensor& trained_logits() const override;
  Tensor backward_from_logits(const Tensor& logits_grad) override;

 protected:
  std::vector<Shape> compute_output_shapes(const Shape& input_shape) const override { return {input_shape}; }
  void build_weights(const Shape& /*input_shape*/, Rng& /*rng*/) override {}
  std::vector<Tensor> forward(const Tensor& x, const CallArgs& args) override;
  InputGrads backward_pass(const std::vector<Tensor>& output_grads) override;

 private:
  ActivationFunction activation_;
  // What backward reads from the last training call: its input where the derivative needs it, otherwise
  // its output (see activation_backward_needs_inputs); or, after train_to_logits, its input.
  Tensor trained_;
  bool trained_to_logits_ = false;
};

}  // namespace rnnkit
