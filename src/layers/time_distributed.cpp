#include "rnnkit/layers/time_distributed.h"

#include "rnnkit/error.h"

namespace rnnkit {
namespace {

// (B,T,rest...) -> (B,rest...): the shape one timestep has.
Shape step_shape(const Shape& shape) {
  Shape step{shape[0]};
  step.insert(step.end(), shape.begin() + 2, shape.end());
  return step;
}

}  // namespace

TimeDistributed::TimeDistributed(const Layer& layer, const TimeDistributedOptions& options)
    : Layer("TimeDistributed", "time_distributed", options.name,
            {.input_shape = options.input_shape, .batch_input_shape = options.batch_input_shape}),
      layer_(layer.clone()) {}

TimeDistributed::TimeDistributed(const TimeDistributed& other) : Layer(other), layer_(other.layer_->clone()) {}

std::vector<Shape> TimeDistributed::compute_output_shapes(const Shape& input_shape) const {
  std::vector<Shape> inner = layer_->output_shapes();
  check(inner.size() == 1, where(), ": the wrapped layer must have one output");
  Shape output{input_shape[0], input_shape[1]};
  output.insert(output.end(), inner[0].begin() + 1, inner[0].end());
  return {output};
}

void TimeDistributed::build_weights(const Shape& input_shape, Rng& rng) {
  check(input_shape.size() >= 3, where(), ": expected an input of rank 3 or more (batch, timesteps, ...), received ",
        shape_string(input_shape));
  layer_->build(step_shape(input_shape), rng);
}

std::vector<Tensor> TimeDistributed::forward(const Tensor& x, const CallArgs& args) {
  const std::int64_t batch = x.dim(0), timesteps = x.dim(1);
  Shape flat = step_shape(x.shape());
  flat[0] = batch * timesteps;
  if (args.training) trained_input_shape_ = x.shape();
  Tensor y = layer_->call(x.reshaped(flat), {.mask = nullptr, .initial_state = {}, .training = args.training,
                                             .rng = args.rng})[0];
  Shape output{batch, timesteps};
  output.insert(output.end(), y.shape().begin() + 1, y.shape().end());
  return {std::move(y).reshaped(output)};
}

InputGrads TimeDistributed::backward_pass(const std::vector<Tensor>& output_grads) {
  const Tensor& grad = output_grads[0];  // (B,T,...)
  Shape flat{grad.dim(0) * grad.dim(1)};
  flat.insert(flat.end(), grad.shape().begin() + 2, grad.shape().end());
  Tensor input_grad = layer_->backward({grad.reshaped(flat)}).input;
  return {std::move(input_grad).reshaped(trained_input_shape_)};
}

nlohmann::json TimeDistributed::config() const {
  nlohmann::json config = Layer::config();
  config["layer"] = {{"class_name", layer_->class_name()}, {"config", layer_->config()}};
  return config;
}

}  // namespace rnnkit
