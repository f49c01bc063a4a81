#include "rnnkit/layers/conv1d.h"

#include <algorithm>

#include "core/blas.h"
#include "core/parallel.h"
#include "core/rows.h"
#include "layers/initializers.h"
#include "rnnkit/error.h"

namespace rnnkit {
namespace {

nlohmann::json one_tuple(std::int64_t value) {
  return nlohmann::json::array({value});
}

}  // namespace

Conv1D::Conv1D(std::int64_t filters, std::int64_t kernel_size, const Conv1DOptions& options)
    : Layer("Conv1D", "conv1d", options.name,
            {.input_shape = options.input_shape, .batch_input_shape = options.batch_input_shape}),
      filters_(filters),
      kernel_size_(kernel_size),
      options_(options),
      activation_(parse_activation(options.activation, where() + " field 'activation'")) {
  check(filters > 0, where(), ": filters must be positive, received ", filters);
  check(kernel_size > 0, where(), ": kernel_size must be positive, received ", kernel_size);
  check(options.strides > 0, where(), ": strides must be positive, received ", options.strides);
  check(options.dilation_rate > 0, where(), ": dilation_rate must be positive, received ",
        options.dilation_rate);
  check(options.padding == "valid" || options.padding == "same" || options.padding == "causal", where(),
        ": padding must be 'valid', 'same' or 'causal', received '", options.padding, "'");
  check(options.data_format == "channels_last", where(), ": data_format '", options.data_format,
        "' is not supported: rnnkit computes channels_last (batch, steps, channels) only");
  check(options.groups == 1, where(), ": groups = ", options.groups, " is not supported (only 1)");
  // As Keras (and TensorFlow's convolution) refuse it.
  check(options.strides == 1 || options.dilation_rate == 1, where(),
        ": strides > 1 cannot be combined with dilation_rate > 1 (received strides=", options.strides,
        ", dilation_rate=", options.dilation_rate, ")");
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

// TensorFlow's rule: "same" pads max((T_out - 1)·s + span - T, 0) zeros, the odd one on the right.
Conv1D::Geometry Conv1D::geometry(std::int64_t steps) const {
  const std::int64_t span = (kernel_size_ - 1) * options_.dilation_rate + 1, s = options_.strides;
  if (options_.padding == "valid") {
    const std::int64_t steps_out = steps >= span ? (steps - span) / s + 1 : 0;
    return {0, 0, steps_out};
  }
  const std::int64_t steps_out = (steps + s - 1) / s;
  if (options_.padding == "causal") return {span - 1, 0, steps_out};
  const std::int64_t total = std::max<std::int64_t>((steps_out - 1) * s + span - steps, 0);
  return {total / 2, total - total / 2, steps_out};
}

std::vector<Shape> Conv1D::compute_output_shapes(const Shape& input_shape) const {
  const std::int64_t steps = input_shape[1];
  return {{input_shape[0], steps == kNone ? kNone : geometry(steps).steps_out, filters_}};
}

void Conv1D::build_weights(const Shape& input_shape, Rng& rng) {
  check(input_shape.size() == 3, where(), ": expected an input of shape (batch, steps, channels), received ",
        shape_string(input_shape));
  const std::int64_t channels = input_shape[2], steps = input_shape[1];
  check(channels != kNone, where(), ": the channels (last) dimension of the input must be known, received ",
        shape_string(input_shape));
  check(steps == kNone || geometry(steps).steps_out > 0, where(), ": an input of ", steps,
        " steps is shorter than the dilated kernel (", (kernel_size_ - 1) * options_.dilation_rate + 1,
        " steps) with padding 'valid'");
  initialize(options_.kernel_initializer,
             add_param("kernel", {kernel_size_, channels, filters_}, options_.kernel_regularizer,
                       options_.kernel_constraint),
             rng, where() + " kernel_initializer");
  if (options_.use_bias)
    initialize(options_.bias_initializer,
               add_param("bias", {filters_}, options_.bias_regularizer, options_.bias_constraint), rng,
               where() + " bias_initializer");
}

Tensor Conv1D::columns(const Tensor& x, const Geometry& g) const {
  const std::int64_t batch = x.dim(0), steps = x.dim(1), channels = x.dim(2), width = kernel_size_ * channels;
  Tensor cols = Tensor::uninitialized({batch * g.steps_out, width});
  parallel_for(batch * g.steps_out, width, [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t row = begin; row < end; ++row) {
      const std::int64_t b = row / g.steps_out, t = row % g.steps_out;
      float* out = cols.data() + row * width;
      for (std::int64_t k = 0; k < kernel_size_; ++k) {
        const std::int64_t step = t * options_.strides + k * options_.dilation_rate - g.left;
        if (step >= 0 && step < steps)
          std::copy_n(x.data() + (b * steps + step) * channels, channels, out + k * channels);
        else
          std::fill_n(out + k * channels, channels, 0.0f);
      }
    }
  });
  return cols;
}

// z = columns(x) @ kernel + bias, y = activation(z): one GEMM over the whole batch.
std::vector<Tensor> Conv1D::forward(const Tensor& x, const CallArgs& args) {
  const std::int64_t batch = x.dim(0), steps = x.dim(1), channels = x.dim(2), width = kernel_size_ * channels;
  const Geometry g = geometry(steps);
  check(g.steps_out > 0, where(), ": an input of ", steps, " steps is shorter than the dilated kernel (",
        (kernel_size_ - 1) * options_.dilation_rate + 1, " steps) with padding 'valid'");
  // A kernel of one step with stride 1 reads each input row as it is: x is its own im2col matrix.
  const bool pointwise = kernel_size_ == 1 && options_.strides == 1;
  Tensor cols = pointwise ? Tensor() : columns(x, g);
  const float* a = pointwise ? x.data() : cols.data();
  Tensor y = Tensor::uninitialized({batch, g.steps_out, filters_});
  const std::int64_t rows = batch * g.steps_out;
  if (options_.use_bias) fill_rows(y.data(), rows, filters_, own_weight(1).data());
  gemm(false, false, rows, filters_, width, 1.0f, a, width, own_weight(0).data(), filters_,
       options_.use_bias ? 1.0f : 0.0f, y.data(), filters_);
  if (args.training) {
    trained_input_shape_ = x.shape();
    trained_columns_ = pointwise ? x.reshaped({rows, width}) : std::move(cols);
    trained_logits_ = activation_ == ActivationFunction::linear ? Tensor() : y;
  }
  apply_activation(activation_, y.values(), filters_);
  return {std::move(y)};
}

// dz = act'(dy);  dkernel += colsᵀ dz;  dbias += Σ_rows dz;  dcols = dz kernelᵀ, scattered back onto the
// input steps each column entry was read from (the transpose of columns()).
InputGrads Conv1D::backward_pass(const std::vector<Tensor>& output_grads) {
  Tensor grad = output_grads[0];  // (B, T_out, F): dL/dy, then dL/dz
  if (activation_ != ActivationFunction::linear) {
    if (activation_backward_needs_inputs(activation_)) {
      activation_backward(activation_, trained_logits_.values(), {}, grad.values(), filters_);
    } else {
      Tensor outputs = Tensor::uninitialized(trained_logits_.shape());
      apply_activation(activation_, trained_logits_.values(), outputs.values(), filters_);
      activation_backward(activation_, {}, outputs.values(), grad.values(), filters_);
    }
  }
  const std::int64_t batch = trained_input_shape_[0], steps = trained_input_shape_[1],
                     channels = trained_input_shape_[2], width = kernel_size_ * channels;
  const Geometry g = geometry(steps);
  const std::int64_t rows = batch * g.steps_out;
  gemm(true, false, width, filters_, rows, 1.0f, trained_columns_.data(), width, grad.data(), filters_, 1.0f,
       own_grad(0).data(), filters_);
  if (options_.use_bias) add_column_sums(grad.data(), rows, filters_, own_grad(1).data());
  Tensor col_grads = Tensor::uninitialized({rows, width});
  gemm(false, true, rows, width, filters_, 1.0f, grad.data(), filters_, own_weight(0).data(), filters_, 0.0f,
       col_grads.data(), width);
  if (kernel_size_ == 1 && options_.strides == 1)
    return {std::move(col_grads).reshaped(trained_input_shape_)};
  Tensor input_grad(trained_input_shape_);
  // Samples write disjoint parts of the input gradient; within one, steps are added in a fixed order.
  parallel_for(batch, g.steps_out * width, [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t b = begin; b < end; ++b)
      for (std::int64_t t = 0; t < g.steps_out; ++t) {
        const float* from = col_grads.data() + (b * g.steps_out + t) * width;
        for (std::int64_t k = 0; k < kernel_size_; ++k) {
          const std::int64_t step = t * options_.strides + k * options_.dilation_rate - g.left;
          if (step < 0 || step >= steps) continue;
          float* to = input_grad.data() + (b * steps + step) * channels;
          for (std::int64_t c = 0; c < channels; ++c) to[c] += from[k * channels + c];
        }
      }
  });
  return {std::move(input_grad)};
}

nlohmann::json Conv1D::config() const {
  nlohmann::json config = Layer::config();
  config["filters"] = filters_;
  config["kernel_size"] = one_tuple(kernel_size_);
  config["strides"] = one_tuple(options_.strides);
  config["padding"] = options_.padding;
  config["data_format"] = options_.data_format;
  config["dilation_rate"] = one_tuple(options_.dilation_rate);
  config["groups"] = options_.groups;
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
