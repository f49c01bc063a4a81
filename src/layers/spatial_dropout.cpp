#include "rnnkit/layers/spatial_dropout.h"

#include "layers/config_number.h"
#include "rnnkit/error.h"

namespace rnnkit {

SpatialDropout1D::SpatialDropout1D(float rate, const DropoutOptions& options)
    : Layer("SpatialDropout1D", "spatial_dropout1d", options.name,
            {.input_shape = options.input_shape, .batch_input_shape = options.batch_input_shape}),
      rate_(rate) {
  check(rate >= 0.0f && rate < 1.0f, where(), ": rate must be in [0, 1), received ", rate);
}

void SpatialDropout1D::build_weights(const Shape& input_shape, Rng& /*rng*/) {
  check(input_shape.size() == 3, where(),
        ": expected an input of rank 3 (batch, timesteps, channels), received ", shape_string(input_shape));
}

std::vector<Tensor> SpatialDropout1D::forward(const Tensor& x, const CallArgs& args) {
  trained_scale_ = Tensor();
  if (!args.training || rate_ == 0.0f) return {x};
  check(args.rng != nullptr, where(), ": a training call needs a random generator for the dropout mask");
  // Keras's inverted dropout with noise shape (B, 1, F): one draw per sample and channel, for every timestep.
  const std::int64_t batch = x.dim(0), steps = x.dim(1), channels = x.dim(2);
  trained_scale_ = Tensor({batch, channels});
  const float keep_scale = 1.0f / (1.0f - rate_);
  for (float& scale : trained_scale_.values()) scale = args.rng->uniform() >= rate_ ? keep_scale : 0.0f;
  Tensor y = x;
  for (std::int64_t b = 0; b < batch; ++b)
    for (std::int64_t t = 0; t < steps; ++t)
      for (std::int64_t f = 0; f < channels; ++f)
        y[(b * steps + t) * channels + f] *= trained_scale_[b * channels + f];
  return {std::move(y)};
}

InputGrads SpatialDropout1D::backward_pass(const std::vector<Tensor>& output_grads) {
  Tensor grad = output_grads[0];
  if (trained_scale_.empty()) return {std::move(grad)};
  const std::int64_t batch = grad.dim(0), steps = grad.dim(1), channels = grad.dim(2);
  for (std::int64_t b = 0; b < batch; ++b)
    for (std::int64_t t = 0; t < steps; ++t)
      for (std::int64_t f = 0; f < channels; ++f)
        grad[(b * steps + t) * channels + f] *= trained_scale_[b * channels + f];
  return {std::move(grad)};
}

nlohmann::json SpatialDropout1D::config() const {
  nlohmann::json config = Layer::config();
  config["rate"] = config_number(rate_);
  config["noise_shape"] = nullptr;
  config["seed"] = nullptr;
  return config;
}

}  // namespace rnnkit
