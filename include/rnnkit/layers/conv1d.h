// Conv1D: y[b,t,f] = activation(bias[f] + Σ_k Σ_c x[b, t·strides + k·dilation_rate - pad, c] ·
// kernel[k,c,f]), a cross-correlation over the time axis as keras.layers.Conv1D (channels_last).
#pragma once

#include "rnnkit/activation.h"
#include "rnnkit/layer.h"

namespace rnnkit {

struct Conv1DOptions {
  std::int64_t strides = 1;
  // "valid" (no padding), "same" (output length ceil(T / strides), zeros split as TensorFlow does: the odd
  // one on the right) or "causal" (zeros on the left only, so output t never reads an input after t).
  std::string padding = "valid";
  std::string data_format = "channels_last";  // the only one rnnkit computes; channels_first is refused
  std::int64_t dilation_rate = 1;
  std::int64_t groups = 1;  // only 1
  std::string activation = "linear";
  bool use_bias = true;
  nlohmann::json kernel_initializer = "glorot_uniform";
  nlohmann::json bias_initializer = "zeros";
  std::optional<Regularizer> kernel_regularizer{};
  std::optional<Regularizer> bias_regularizer{};
  std::optional<Regularizer> activity_regularizer{};
  std::optional<Constraint> kernel_constraint{};
  std::optional<Constraint> bias_constraint{};
  std::optional<Shape> input_shape{};
  std::optional<Shape> batch_input_shape{};
  std::string name{};
};

class Conv1D : public Layer {
 public:
  // The kernel has Keras's layout (kernel_size, input channels, filters).
  Conv1D(std::int64_t filters, std::int64_t kernel_size, const Conv1DOptions& options = {});
  std::int64_t filters() const { return filters_; }
  std::int64_t kernel_size() const { return kernel_size_; }
  const Conv1DOptions& options() const { return options_; }
  ActivationFunction activation() const { return activation_; }
  nlohmann::json config() const override;
  std::unique_ptr<Layer> clone() const override { return std::make_unique<Conv1D>(*this); }
  // Keras's Conv1D does not support masking: an incoming mask stops here (tf.keras 2.x drops it silently,
  // Keras 3 with a warning).
  std::optional<Tensor> compute_mask(const Tensor& /*x*/, const Tensor* /*mask*/) const override {
    return std::nullopt;
  }

 protected:
  std::vector<Shape> compute_output_shapes(const Shape& input_shape) const override;
  void build_weights(const Shape& input_shape, Rng& rng) override;
  std::vector<Tensor> forward(const Tensor& x, const CallArgs& args) override;
  InputGrads backward_pass(const std::vector<Tensor>& output_grads) override;

 private:
  // Zeros before and after the T input steps, and the output length.
  struct Geometry {
    std::int64_t left, right, steps_out;
  };
  Geometry geometry(std::int64_t steps) const;
  // The im2col matrix of x: row (b, t) holds the K·C inputs that output step t of sample b reads (zeros in
  // the padding), so that the convolution is one GEMM with the kernel seen as a (K·C, F) matrix.
  Tensor columns(const Tensor& x, const Geometry& g) const;

  std::int64_t filters_;      // F
  std::int64_t kernel_size_;  // K
  Conv1DOptions options_;
  ActivationFunction activation_;

  Shape trained_input_shape_;  // (B, T, C) of the last training call
  Tensor trained_columns_;     // its im2col matrix (B·T_out, K·C)
  Tensor trained_logits_;      // (B, T_out, F) before the activation; empty when it is linear
};

}  // namespace rnnkit
