// Bidirectional: runs a recurrent layer forwards and a copy of it backwards, and merges the two outputs.
#pragma once

#include "rnnkit/layers/recurrent.h"

namespace rnnkit {

struct BidirectionalOptions {
  // "concat" (default), "sum", "mul", "ave", or nullopt (Keras's None: both outputs, unmerged).
  std::optional<std::string> merge_mode = "concat";
  std::optional<Shape> input_shape{};
  std::optional<Shape> batch_input_shape{};
  std::string name{};
};

class Bidirectional : public Layer {
 public:
  explicit Bidirectional(const Recurrent& layer, const BidirectionalOptions& options = {});
  Bidirectional(const Bidirectional& other);
  const Recurrent& forward_layer() const { return *forward_; }
  const Recurrent& backward_layer() const { return *backward_; }
  std::vector<Param*> params() override;
  std::vector<std::string> weight_names() const override;
  double activity_loss() const override { return forward_->activity_loss() + backward_->activity_loss(); }
  std::optional<Tensor> compute_mask(const Tensor& x, const Tensor* mask) const override;
  void reset_states() override;
  bool stateful() const override { return forward_->stateful(); }
  nlohmann::json config() const override;
  std::unique_ptr<Layer> clone() const override { return std::make_unique<Bidirectional>(*this); }
  // Keras's direct call: the merged output (two without merge), then forward states, then backward states.
  std::vector<Tensor> operator()(const Tensor& x, const CallArgs& args = {}) { return call(x, args); }
  using Layer::operator();  // calls on symbolic tensors (the Functional API)

 protected:
  std::vector<Shape> compute_output_shapes(const Shape& input_shape) const override;
  void build_weights(const Shape& input_shape, Rng& rng) override;
  std::vector<Tensor> forward(const Tensor& x, const CallArgs& args) override;
  InputGrads backward_pass(const std::vector<Tensor>& output_grads) override;

 private:
  enum class Merge { concat, sum, mul, ave, none };

  Merge merge_;
  nlohmann::json layer_config_;  // the wrapped layer as given, for config()
  std::unique_ptr<Recurrent> forward_;
  std::unique_ptr<Recurrent> backward_;
  Tensor trained_forward_output_;   // (B,[T,]U) of the last training call, for merge_mode mul
  Tensor trained_backward_output_;  // in forward time order
};

}  // namespace rnnkit
