// Masking: masks the timesteps whose features all equal mask_value, and zeroes them, as keras.layers.Masking.
#pragma once

#include "rnnkit/layer.h"

namespace rnnkit {

struct MaskingOptions {
  float mask_value = 0.0f;
  std::optional<Shape> input_shape{};
  std::optional<Shape> batch_input_shape{};
  std::string name{};
};

// On (B,T,F): keep[b,t] = any_f(x[b,t,f] != mask_value); output = x · keep; the next layers get keep as
// their mask, whatever mask came in.
class Masking : public Layer {
 public:
  explicit Masking(const MaskingOptions& options = {});
  float mask_value() const { return mask_value_; }
  nlohmann::json config() const override;
  std::unique_ptr<Layer> clone() const override { return std::make_unique<Masking>(*this); }
  std::optional<Tensor> compute_mask(const Tensor& x, const Tensor* mask) const override;

 protected:
  std::vector<Shape> compute_output_shapes(const Shape& input_shape) const override { return {input_shape}; }
  void build_weights(const Shape& input_shape, Rng& rng) override;
  std::vector<Tensor> forward(const Tensor& x, const CallArgs& args) override;
  InputGrads backward_pass(const std::vector<Tensor>& output_grads) override;

 private:
  Tensor keep(const Tensor& x) const;  // (B,T): 1 where a timestep has a value other than mask_value
  float mask_value_;
  Tensor trained_keep_;  // keep() of the last training call's input
};

}  // namespace rnnkit
