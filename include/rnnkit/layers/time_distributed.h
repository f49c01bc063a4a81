// TimeDistributed: applies one layer (typically Dense) to every timestep of a (B,T,...) input.
#pragma once

#include "rnnkit/layer.h"

namespace rnnkit {

struct TimeDistributedOptions {
  std::optional<Shape> input_shape{};
  std::optional<Shape> batch_input_shape{};
  std::string name{};
};

class TimeDistributed : public Layer {
 public:
  explicit TimeDistributed(const Layer& layer, const TimeDistributedOptions& options = {});
  TimeDistributed(const TimeDistributed& other);
  const Layer& layer() const { return *layer_; }
  std::vector<Param*> params() override { return layer_->params(); }
  // The wrapped layer sees (B·T, ...) inputs, so its activity penalty is divided by B·T, as in Keras.
  double activity_loss() const override { return layer_->activity_loss(); }
  nlohmann::json config() const override;
  std::unique_ptr<Layer> clone() const override { return std::make_unique<TimeDistributed>(*this); }
  bool stateful() const override { return layer_->stateful(); }

 protected:
  std::vector<Shape> compute_output_shapes(const Shape& input_shape) const override;
  void build_weights(const Shape& input_shape, Rng& rng) override;
  std::vector<Tensor> forward(const Tensor& x, const CallArgs& args) override;
  InputGrads backward_pass(const std::vector<Tensor>& output_grads) override;

 private:
  std::unique_ptr<Layer> layer_;
  Shape trained_input_shape_;  // (B,T,...) of the last training call
};

}  // namespace rnnkit
