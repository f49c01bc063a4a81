// Pooling over the time axis of (batch, steps, channels) inputs, as keras.layers.MaxPooling1D,
// AveragePooling1D, GlobalMaxPooling1D and GlobalAveragePooling1D (channels_last).
#pragma once

#include "rnnkit/layer.h"

namespace rnnkit {

struct Pooling1DOptions {
  std::optional<std::int64_t> strides{};  // Keras's None: the pool size
  std::string padding = "valid";          // "valid" or "same" (zeros split as TensorFlow does)
  std::string data_format = "channels_last";
  std::optional<Shape> input_shape{};
  std::optional<Shape> batch_input_shape{};
  std::string name{};
};

// y[b,t,c] = max, or mean, of x[b, t·strides + i - pad, c] over the pool_size steps i of each window that lie
// inside the input: padding never takes part (an average with padding "same" divides by the steps inside).
class Pooling1D : public Layer {
 public:
  std::int64_t pool_size() const { return pool_size_; }
  std::int64_t strides() const { return strides_; }
  const std::string& padding() const { return options_.padding; }
  nlohmann::json config() const override;
  // Keras's pooling layers do not support masking: an incoming mask stops here.
  std::optional<Tensor> compute_mask(const Tensor& /*x*/, const Tensor* /*mask*/) const override {
    return std::nullopt;
  }

 protected:
  Pooling1D(std::string_view class_name, std::string_view snake_name, bool max, std::int64_t pool_size,
            const Pooling1DOptions& options);
  std::vector<Shape> compute_output_shapes(const Shape& input_shape) const override;
  void build_weights(const Shape& input_shape, Rng& rng) override;
  std::vector<Tensor> forward(const Tensor& x, const CallArgs& args) override;
  InputGrads backward_pass(const std::vector<Tensor>& output_grads) override;

 private:
  struct Window {
    std::int64_t first, last;  // the input steps [first, last) of one output step
  };
  std::int64_t steps_out(std::int64_t steps) const;
  Window window(std::int64_t t, std::int64_t steps) const;

  bool max_;
  std::int64_t pool_size_;
  std::int64_t strides_;
  Pooling1DOptions options_;
  Shape trained_input_shape_;
  std::vector<std::int64_t> trained_argmax_;  // max: the input step each output took (the first of ties)
};

class MaxPooling1D : public Pooling1D {
 public:
  explicit MaxPooling1D(std::int64_t pool_size = 2, const Pooling1DOptions& options = {})
      : Pooling1D("MaxPooling1D", "max_pooling1d", true, pool_size, options) {}
  std::unique_ptr<Layer> clone() const override { return std::make_unique<MaxPooling1D>(*this); }
};

class AveragePooling1D : public Pooling1D {
 public:
  explicit AveragePooling1D(std::int64_t pool_size = 2, const Pooling1DOptions& options = {})
      : Pooling1D("AveragePooling1D", "average_pooling1d", false, pool_size, options) {}
  std::unique_ptr<Layer> clone() const override { return std::make_unique<AveragePooling1D>(*this); }
};

struct GlobalPooling1DOptions {
  bool keepdims = false;  // true: output (batch, 1, channels) instead of (batch, channels)
  std::string data_format = "channels_last";
  std::optional<Shape> input_shape{};
  std::optional<Shape> batch_input_shape{};
  std::string name{};
};

// y[b,c] = max, or mean, of x[b,t,c] over the steps t. GlobalAveragePooling1D honours a mask: the mean of
// the unmasked steps only (Σ_t m·x / Σ_t m, which is NaN for a row with every step masked, as in Keras).
// GlobalMaxPooling1D ignores a mask, as tf.keras 2.x and Keras 3 do; where several steps share the maximum,
// the gradient is split equally among them (TensorFlow's reduce_max gradient). Neither passes a mask on.
class GlobalPooling1D : public Layer {
 public:
  bool keepdims() const { return options_.keepdims; }
  nlohmann::json config() const override;
  std::optional<Tensor> compute_mask(const Tensor& /*x*/, const Tensor* /*mask*/) const override {
    return std::nullopt;
  }

 protected:
  GlobalPooling1D(std::string_view class_name, std::string_view snake_name, bool max,
                  const GlobalPooling1DOptions& options);
  std::vector<Shape> compute_output_shapes(const Shape& input_shape) const override;
  void build_weights(const Shape& input_shape, Rng& rng) override;
  std::vector<Tensor> forward(const Tensor& x, const CallArgs& args) override;
  InputGrads backward_pass(const std::vector<Tensor>& output_grads) override;

 private:
  bool max_;
  GlobalPooling1DOptions options_;
  Tensor trained_input_;   // max: the input, to find the steps that share each maximum
  Tensor trained_output_;  // max: the maxima
  Tensor trained_weight_;  // average: (B, T) the weight of each step in its row's mean, 1/T or m/Σm
};

class GlobalMaxPooling1D : public GlobalPooling1D {
 public:
  explicit GlobalMaxPooling1D(const GlobalPooling1DOptions& options = {})
      : GlobalPooling1D("GlobalMaxPooling1D", "global_max_pooling1d", true, options) {}
  std::unique_ptr<Layer> clone() const override { return std::make_unique<GlobalMaxPooling1D>(*this); }
};

class GlobalAveragePooling1D : public GlobalPooling1D {
 public:
  explicit GlobalAveragePooling1D(const GlobalPooling1DOptions& options = {})
      : GlobalPooling1D("GlobalAveragePooling1D", "global_average_pooling1d", false, options) {}
  std::unique_ptr<Layer> clone() const override { return std::make_unique<GlobalAveragePooling1D>(*this); }
};

}  // namespace rnnkit
