#include "rnnkit/layers/activation.h"

#include "rnnkit/error.h"

namespace rnnkit {

Activation::Activation(const std::string& activation, const ActivationOptions& options)
    : Layer("Activation", "activation", options.name,
            {.input_shape = options.input_shape, .batch_input_shape = options.batch_input_shape}),
      activation_(parse_activation(activation, where() + " field 'activation'")) {}

// The row-wise activations (softmax, ...) work over the last axis, as Keras's default axis=-1.
Tensor Activation::activation_of(const Tensor& logits) const {
  Tensor y = Tensor::uninitialized(logits.shape());
  apply_activation(activation_, logits.values(), y.values(), logits.rank() ? logits.dim(-1) : 1);
  return y;
}

std::vector<Tensor> Activation::forward(const Tensor& x, const CallArgs& args) {
  Tensor y = activation_of(x);
  trained_to_logits_ = false;
  if (args.training) trained_ = activation_backward_needs_inputs(activation_) ? x : y;
  return {std::move(y)};
}

InputGrads Activation::backward_pass(const std::vector<Tensor>& output_grads) {
  check(!trained_to_logits_, where(),
        ": the last training call stopped at the logits: use backward_from_logits");
  Tensor grad = output_grads[0];
  const bool from_inputs = activation_backward_needs_inputs(activation_);
  activation_backward(activation_, from_inputs ? trained_.values() : std::span<const float>{},
                      from_inputs ? std::span<const float>{} : trained_.values(), grad.values(),
                      grad.rank() ? grad.dim(-1) : 1);
  return {std::move(grad)};
}

const Tensor& Activation::train_to_logits(const Tensor& x) {
  check(built(), where(), ": the layer is not built");
  check_compatible_shape(input_shape(), x.shape(), where());
  trained_ = x;
  trained_to_logits_ = true;
  return trained_;
}

const Tensor& Activation::trained_logits() const {
  check(trained_to_logits_, where(), ": no training call has stopped at the logits");
  return trained_;
}

Tensor Activation::backward_from_logits(const Tensor& logits_grad) {
  check(logits_grad.shape() == trained_logits().shape(), where(), ": the logits gradient must have shape ",
        shape_string(trained_.shape()), ", received ", shape_string(logits_grad.shape()));
  return logits_grad;
}

nlohmann::json Activation::config() const {
  nlohmann::json config = Layer::config();
  config["activation"] = activation_name(activation_);
  return config;
}

}  // namespace rnnkit
