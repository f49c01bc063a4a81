// SpatialDropout1D: drops whole feature channels of a (B,T,F) input while training, as Keras's layer.
#pragma once

#include "rnnkit/layer.h"
#include "rnnkit/layers/dropout.h"

namespace rnnkit {

// Keras's Dropout with noise shape (B, 1, F): each sample keeps a channel at every timestep or at none, kept
// ones scaled by 1/(1 - rate); the identity at inference. A mask passes through.
class SpatialDropout1D : public Layer {
 public:
  explicit SpatialDropout1D(float rate, const DropoutOptions& options = {});
  float rate() const { return rate_; }
  nlohmann::json config() const override;
  std::unique_ptr<Layer> clone() const override { return std::make_unique<SpatialDropout1D>(*this); }

 protected:
  std::vector<Shape> compute_output_shapes(const Shape& input_shape) const override { return {input_shape}; }
  void build_weights(const Shape& input_shape, Rng& rng) override;
  std::vector<Tensor> forward(const Tensor& x, const CallArgs& args) override;
  InputGrads backward_pass(const std::vector<Tensor>& output_grads) override;

 private:
  float rate_;
  Tensor trained_scale_;  // (B,F): 0 or 1/(1 - rate) per channel of the last training call; empty: identity
};

}  // namespace rnnkit
