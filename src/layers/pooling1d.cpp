#include "rnnkit/layers/pooling1d.h"

#include <algorithm>
#include <limits>

#include "rnnkit/error.h"

namespace rnnkit {
namespace {

void check_rank3(const Shape& input_shape, const std::string& where) {
  check(input_shape.size() == 3, where, ": expected an input of shape (batch, steps, channels), received ",
        shape_string(input_shape));
}

void check_channels_last(const std::string& data_format, const std::string& where) {
  check(data_format == "channels_last", where, ": data_format '", data_format,
        "' is not supported: rnnkit computes channels_last (batch, steps, channels) only");
}

}  // namespace

Pooling1D::Pooling1D(std::string_view class_name, std::string_view snake_name, bool max,
                     std::int64_t pool_size, const Pooling1DOptions& options)
    : Layer(class_name, snake_name, options.name,
            {.input_shape = options.input_shape, .batch_input_shape = options.batch_input_shape}),
      max_(max),
      pool_size_(pool_size),
      strides_(options.strides.value_or(pool_size)),
      options_(options) {
  check(pool_size > 0, where(), ": pool_size must be positive, received ", pool_size);
  check(strides_ > 0, where(), ": strides must be positive, received ", strides_);
  check(options.padding == "valid" || options.padding == "same", where(),
        ": padding must be 'valid' or 'same', received '", options.padding, "'");
  check_channels_last(options.data_format, where());
}

std::int64_t Pooling1D::steps_out(std::int64_t steps) const {
  if (options_.padding == "same") return (steps + strides_ - 1) / strides_;
  return steps >= pool_size_ ? (steps - pool_size_) / strides_ + 1 : 0;
}

// TensorFlow's "same": max((T_out - 1)·s + pool - T, 0) padding steps, the odd one on the right.
Pooling1D::Window Pooling1D::window(std::int64_t t, std::int64_t steps) const {
  std::int64_t left = 0;
  if (options_.padding == "same")
    left = std::max<std::int64_t>((steps_out(steps) - 1) * strides_ + pool_size_ - steps, 0) / 2;
  const std::int64_t start = t * strides_ - left;
  return {std::max<std::int64_t>(start, 0), std::min(start + pool_size_, steps)};
}

std::vector<Shape> Pooling1D::compute_output_shapes(const Shape& input_shape) const {
  const std::int64_t steps = input_shape[1];
  return {{input_shape[0], steps == kNone ? kNone : steps_out(steps), input_shape[2]}};
}

void Pooling1D::build_weights(const Shape& input_shape, Rng& /*rng*/) {
  check_rank3(input_shape, where());
  check(input_shape[1] == kNone || steps_out(input_shape[1]) > 0, where(), ": an input of ", input_shape[1],
        " steps is shorter than pool_size ", pool_size_, " with padding 'valid'");
}

std::vector<Tensor> Pooling1D::forward(const Tensor& x, const CallArgs& args) {
  const std::int64_t batch = x.dim(0), steps = x.dim(1), channels = x.dim(2), out_steps = steps_out(steps);
  check(out_steps > 0, where(), ": an input of ", steps, " steps is shorter than pool_size ", pool_size_,
        " with padding 'valid'");
  Tensor y = Tensor::uninitialized({batch, out_steps, channels});
  std::vector<std::int64_t> argmax(max_ && args.training ? static_cast<std::size_t>(y.size()) : 0);
  for (std::int64_t b = 0; b < batch; ++b)
    for (std::int64_t t = 0; t < out_steps; ++t) {
      const Window w = window(t, steps);
      for (std::int64_t c = 0; c < channels; ++c) {
        const float* column = x.data() + b * steps * channels + c;
        const std::int64_t out = (b * out_steps + t) * channels + c;
        if (max_) {
          std::int64_t best = w.first;  // the first of equal maxima, as TensorFlow's gradient routes it
          for (std::int64_t i = w.first + 1; i < w.last; ++i)
            if (column[i * channels] > column[best * channels]) best = i;
          y[out] = column[best * channels];
          if (!argmax.empty()) argmax[static_cast<std::size_t>(out)] = best;
        } else {
          float sum = 0.0f;
          for (std::int64_t i = w.first; i < w.last; ++i) sum += column[i * channels];
          y[out] = sum / static_cast<float>(w.last - w.first);
        }
      }
    }
  if (args.training) {
    trained_input_shape_ = x.shape();
    trained_argmax_ = std::move(argmax);
  }
  return {std::move(y)};
}

// Max: each output's gradient goes to the step it took. Average: spread evenly over its window's steps.
InputGrads Pooling1D::backward_pass(const std::vector<Tensor>& output_grads) {
  const Tensor& grad = output_grads[0];
  const std::int64_t batch = trained_input_shape_[0], steps = trained_input_shape_[1],
                     channels = trained_input_shape_[2], out_steps = grad.dim(1);
  Tensor input_grad(trained_input_shape_);
  for (std::int64_t b = 0; b < batch; ++b)
    for (std::int64_t t = 0; t < out_steps; ++t) {
      const Window w = window(t, steps);
      for (std::int64_t c = 0; c < channels; ++c) {
        const std::int64_t out = (b * out_steps + t) * channels + c;
        float* column = input_grad.data() + b * steps * channels + c;
        if (max_) {
          column[trained_argmax_[static_cast<std::size_t>(out)] * channels] += grad[out];
        } else {
          const float share = grad[out] / static_cast<float>(w.last - w.first);
          for (std::int64_t i = w.first; i < w.last; ++i) column[i * channels] += share;
        }
      }
    }
  return {std::move(input_grad)};
}

nlohmann::json Pooling1D::config() const {
  nlohmann::json config = Layer::config();
  config["strides"] = nlohmann::json::array({strides_});
  config["pool_size"] = nlohmann::json::array({pool_size_});
  config["padding"] = options_.padding;
  config["data_format"] = options_.data_format;
  return config;
}

GlobalPooling1D::GlobalPooling1D(std::string_view class_name, std::string_view snake_name, bool max,
                                 const GlobalPooling1DOptions& options)
    : Layer(class_name, snake_name, options.name,
            {.input_shape = options.input_shape, .batch_input_shape = options.batch_input_shape}),
      max_(max),
      options_(options) {
  check_channels_last(options.data_format, where());
}

std::vector<Shape> GlobalPooling1D::compute_output_shapes(const Shape& input_shape) const {
  if (options_.keepdims) return {{input_shape[0], 1, input_shape[2]}};
  return {{input_shape[0], input_shape[2]}};
}

void GlobalPooling1D::build_weights(const Shape& input_shape, Rng& /*rng*/) {
  check_rank3(input_shape, where());
}

std::vector<Tensor> GlobalPooling1D::forward(const Tensor& x, const CallArgs& args) {
  const std::int64_t batch = x.dim(0), steps = x.dim(1), channels = x.dim(2);
  Tensor y = options_.keepdims ? Tensor::uninitialized({batch, 1, channels})
                               : Tensor::uninitialized({batch, channels});
  Tensor weight;
  for (std::int64_t b = 0; b < batch; ++b) {
    const float* rows = x.data() + b * steps * channels;
    float* out = y.data() + b * channels;
    if (max_) {
      std::fill_n(out, channels, -std::numeric_limits<float>::infinity());
      for (std::int64_t t = 0; t < steps; ++t)
        for (std::int64_t c = 0; c < channels; ++c) out[c] = std::max(out[c], rows[t * channels + c]);
      continue;
    }
    // Keras: Σ_t x·m / Σ_t m under a mask (tf.keras multiplies the inputs by the mask), Σ_t x / T without.
    std::fill_n(out, channels, 0.0f);
    float count = 0.0f;
    for (std::int64_t t = 0; t < steps; ++t) {
      const float keep = args.mask ? (*args.mask)[b * steps + t] : 1.0f;
      count += keep;
      for (std::int64_t c = 0; c < channels; ++c) out[c] += rows[t * channels + c] * keep;
    }
    for (std::int64_t c = 0; c < channels; ++c) out[c] /= count;
    if (args.training) {
      if (weight.empty()) weight = Tensor::uninitialized({batch, steps});
      for (std::int64_t t = 0; t < steps; ++t)
        weight[b * steps + t] = (args.mask ? (*args.mask)[b * steps + t] : 1.0f) / count;
    }
  }
  if (args.training) {
    trained_input_ = max_ ? x : Tensor();
    trained_output_ = max_ ? y : Tensor();
    trained_weight_ = std::move(weight);
  }
  return {std::move(y)};
}

InputGrads GlobalPooling1D::backward_pass(const std::vector<Tensor>& output_grads) {
  const Tensor& grad = output_grads[0];
  const std::int64_t batch = grad.dim(0), channels = grad.dim(-1);
  if (!max_) {
    const std::int64_t steps = trained_weight_.dim(1);
    Tensor input_grad = Tensor::uninitialized({batch, steps, channels});
    for (std::int64_t b = 0; b < batch; ++b)
      for (std::int64_t t = 0; t < steps; ++t)
        for (std::int64_t c = 0; c < channels; ++c)
          input_grad[(b * steps + t) * channels + c] =
              grad[b * channels + c] * trained_weight_[b * steps + t];
    return {std::move(input_grad)};
  }
  const std::int64_t steps = trained_input_.dim(1);
  Tensor input_grad(trained_input_.shape());
  for (std::int64_t b = 0; b < batch; ++b)
    for (std::int64_t c = 0; c < channels; ++c) {
      const float best = trained_output_[b * channels + c];
      float ties = 0.0f;
      for (std::int64_t t = 0; t < steps; ++t) ties += trained_input_[(b * steps + t) * channels + c] == best;
      for (std::int64_t t = 0; t < steps; ++t) {
        const std::int64_t index = (b * steps + t) * channels + c;
        if (trained_input_[index] == best) input_grad[index] = grad[b * channels + c] / ties;
      }
    }
  return {std::move(input_grad)};
}

nlohmann::json GlobalPooling1D::config() const {
  nlohmann::json config = Layer::config();
  config["data_format"] = options_.data_format;
  config["keepdims"] = options_.keepdims;
  return config;
}

}  // namespace rnnkit
