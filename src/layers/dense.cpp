#include "rnnkit/layers/dense.h"

#include "core/blas.h"
#include "core/rows.h"
#include "layers/initializers.h"
#include "rnnkit/error.h"

namespace rnnkit {

Dense::Dense(std::int64_t units, const DenseOptions& options)
    : Layer("Dense", "dense", options.name,
            {.input_shape = options.input_shape, .batch_input_shape = options.batch_input_shape}),
      units_(units),
      options_(options),
      activation_(parse_activation(options.activation, where() + " field 'activation'")) {
  check(units > 0, where(), ": units must be positive, received ", units);
  options_.kernel_initializer =
      initializer_config(options.kernel_initializer, where() + " kernel_initializer");
  options_.bias_initializer = initializer_config(options.bias_initializer, where() + " bias_initializer");
  check_regularizer(options.kernel_regularizer, where() + " kernel_regularizer");
  check_regularizer(options.bias_regularizer, where() + " bias_regularizer");
  check_regularizer(options.activity_regularizer, where() + " activity_regularizer");
  set_activity_regularizer(options.activity_regularizer);
  check_constraint(options.kernel_constraint, where() + " kernel_constraint");
  check_constraint(options.bias_constraint, where() + " bias_constraint");
}

std::vector<Shape> Dense::compute_output_shapes(const Shape& input_shape) const {
  Shape output = input_shape;
  output.back() = units_;
  return {output};
}

void Dense::build_weights(const Shape& input_shape, Rng& rng) {
  check(input_shape.size() >= 2, where(), ": expected an input of rank 2 or more, received shape ",
        shape_string(input_shape));
  const std::int64_t features = input_shape.back();
  check(features != kNone, where(), ": the last dimension of the input must be known, received shape ",
        shape_string(input_shape));
  initialize(options_.kernel_initializer,
             add_param("kernel", {features, units_}, options_.kernel_regularizer, options_.kernel_constraint),
             rng, where() + " kernel_initializer");
  if (options_.use_bias)
    initialize(options_.bias_initializer,
               add_param("bias", {units_}, options_.bias_regularizer, options_.bias_constraint), rng,
               where() + " bias_initializer");
}

Tensor Dense::logits(const Tensor& x) const {
  const std::int64_t features = x.dim(-1), rows = x.size() / features;  // x (N..., F)
  Shape output_shape = x.shape();
  output_shape.back() = units_;
  Tensor y = Tensor::uninitialized(output_shape);  // (N..., U): the bias rows, or the product alone
  if (options_.use_bias) fill_rows(y.data(), rows, units_, own_weight(1).data());
  gemm(false, false, rows, units_, features, 1.0f, x.data(), features, own_weight(0).data(), units_,
       options_.use_bias ? 1.0f : 0.0f, y.data(), units_);
  return y;
}

Tensor Dense::activation_of(const Tensor& logits) const {
  Tensor y = Tensor::uninitialized(logits.shape());
  apply_activation(activation_, logits.values(), y.values(), units_);
  return y;
}

const Tensor& Dense::train_to_logits(const Tensor& x) {
  check(built(), where(), ": the layer is not built");
  check_compatible_shape(input_shape(), x.shape(), where());
  trained_input_ = x;
  trained_logits_ = logits(x);
  return trained_logits_;
}

std::vector<Tensor> Dense::forward(const Tensor& x, const CallArgs& args) {
  if (!args.training) {
    Tensor y = logits(x);
    apply_activation(activation_, y.values(), units_);
    return {std::move(y)};
  }
  if (activation_ == ActivationFunction::linear) {
    trained_input_ = x;
    trained_logits_ = Tensor();  // the outputs are the logits: backward needs no copy of them
    return {logits(x)};
  }
  return {activation_of(train_to_logits(x))};
}

// y = act(x W + b):  dz = act'(dy);  dW += xᵀ dz;  db += Σ_rows dz;  dx = dz Wᵀ.
InputGrads Dense::backward_pass(const std::vector<Tensor>& output_grads) {
  Tensor grad = output_grads[0];  // (N..., U): dL/dy, then dL/dz
  if (activation_ != ActivationFunction::linear) {
    activation_backward_at_logits(grad);
  }
  return {backward_affine(grad)};
}

void Dense::activation_backward_at_logits(Tensor& grad) const {
  if (activation_backward_needs_inputs(activation_)) {
    activation_backward(activation_, trained_logits_.values(), {}, grad.values(), units_);
    return;
  }
  // The outputs again from the logits: keeping a copy of them costs every training step a pass over
  // (N..., U), while the fused cross-entropy path (backward_from_logits) never needs them.
  const Tensor outputs = activation_of(trained_logits_);
  activation_backward(activation_, {}, outputs.values(), grad.values(), units_);
}

const Tensor& Dense::trained_logits() const {
  check(!trained_logits_.empty(), where(), ": no training call has been made");
  return trained_logits_;
}

Tensor Dense::backward_from_logits(const Tensor& logits_grad) {
  check(logits_grad.shape() == trained_logits().shape(), where(), ": the logits gradient must have shape ",
        shape_string(trained_logits_.shape()), ", received ", shape_string(logits_grad.shape()));
  if (!activity_regularizer()) return backward_affine(logits_grad);
  // The activity penalty reads the output after the activation, so its gradient goes back through it.
  std::vector<Tensor> output_grad{Tensor(trained_logits_.shape())};
  add_activity_grads(output_grad);
  activation_backward_at_logits(output_grad[0]);
  Tensor grad = logits_grad;
  for (std::int64_t i = 0; i < grad.size(); ++i) grad[i] += output_grad[0][i];
  return backward_affine(grad);
}

Tensor Dense::backward_affine(const Tensor& grad) {
  const std::int64_t features = trained_input_.dim(-1), rows = trained_input_.size() / features;
  gemm(true, false, features, units_, rows, 1.0f, trained_input_.data(), features, grad.data(), units_, 1.0f,
       own_grad(0).data(), units_);
  if (options_.use_bias) add_column_sums(grad.data(), rows, units_, own_grad(1).data());
  Tensor input_grad = Tensor::uninitialized(trained_input_.shape());
  gemm(false, true, rows, features, units_, 1.0f, grad.data(), units_, own_weight(0).data(), units_, 0.0f,
       input_grad.data(), features);
  return input_grad;
}

nlohmann::json Dense::config() const {
  nlohmann::json config = Layer::config();
  config["units"] = units_;
  config["activation"] = activation_name(activation_);
  config["use_bias"] = options_.use_bias;
  config["kernel_initializer"] = options_.kernel_initializer;
  config["bias_initializer"] = options_.bias_initializer;
  config["kernel_regularizer"] = regularizer_config(options_.kernel_regularizer);
  config["bias_regularizer"] = regularizer_config(options_.bias_regularizer);
  config["activity_regularizer"] = regularizer_config(options_.activity_regularizer);
  config["kernel_constraint"] = constraint_config(options_.kernel_constraint);
  config["bias_constraint"] = constraint_config(options_.bias_constraint);
  return config;
}

}  // namespace rnnkit
