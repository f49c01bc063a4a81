#include "rnnkit/layers/dense.h"

#include "core/blas.h"
#include "layers/initializers.h"
#include "rnnkit/error.h"

namespace rnnkit {

Dense::Dense(std::int64_t units, const DenseOptions& options)
    : Layer("Dense", "dense", options.name, {.input_shape = options.input_shape, .batch_input_shape = options.batch_input_shape}),
      units_(units),
      options_(options),
      activation_(parse_activation(options.activation, where() + " field 'activation'")) {
  check(units > 0, where(), ": units must be positive, received ", units);
  options_.kernel_initializer = initializer_config(options.kernel_initializer, where() + " kernel_initializer");
  options_.bias_initializer = initializer_config(options.bias_initializer, where() + " bias_initializer");
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
  initialize(options_.kernel_initializer, add_param("kernel", {features, units_}), rng, where());
  if (options_.use_bias) initialize(options_.bias_initializer, add_param("bias", {units_}), rng, where());
}

std::vector<Tensor> Dense::forward(const Tensor& x, const CallArgs& /*args*/) {
  const std::int64_t features = x.dim(-1), rows = x.size() / features;  // x (N..., F)
  Shape output_shape = x.shape();
  output_shape.back() = units_;
  Tensor y(output_shape);  // (N..., U)
  if (options_.use_bias) {
    const Tensor& bias = own_weight(1);
    for (std::int64_t r = 0; r < rows; ++r) std::copy(bias.data(), bias.data() + units_, y.data() + r * units_);
  }
  gemm(false, false, rows, units_, features, 1.0f, x.data(), features, own_weight(0).data(), units_,
       options_.use_bias ? 1.0f : 0.0f, y.data(), units_);
  apply_activation(activation_, y.values(), units_);
  return {std::move(y)};
}

nlohmann::json Dense::config() const {
  nlohmann::json config = Layer::config();
  config["units"] = units_;
  config["activation"] = activation_name(activation_);
  config["use_bias"] = options_.use_bias;
  config["kernel_initializer"] = options_.kernel_initializer;
  config["bias_initializer"] = options_.bias_initializer;
  for (const char* key : {"kernel_regularizer", "bias_regularizer", "activity_regularizer", "kernel_constraint",
                          "bias_constraint"})
    config[key] = nullptr;
  return config;
}

}  // namespace rnnkit
