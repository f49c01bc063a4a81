#include "rnnkit/layers/masking.h"

#include "layers/config_number.h"
#include "rnnkit/error.h"

namespace rnnkit {

Masking::Masking(const MaskingOptions& options)
    : Layer("Masking", "masking", options.name,
            {.input_shape = options.input_shape, .batch_input_shape = options.batch_input_shape}),
      mask_value_(options.mask_value) {}

// Keras's mask has the input's rank less one; rnnkit's masks are (batch, timesteps), so the input is 3D.
void Masking::build_weights(const Shape& input_shape, Rng& /*rng*/) {
  check(input_shape.size() == 3, where(),
        ": expected an input of rank 3 (batch, timesteps, features), received ", shape_string(input_shape));
}

Tensor Masking::keep(const Tensor& x) const {
  check(x.rank() == 3, where(), ": expected an input of rank 3 (batch, timesteps, features), received ",
        shape_string(x.shape()));
  const std::int64_t steps = x.dim(0) * x.dim(1), features = x.dim(2);
  Tensor result({x.dim(0), x.dim(1)});
  for (std::int64_t step = 0; step < steps; ++step)
    for (std::int64_t f = 0; f < features && result[step] == 0.0f; ++f)
      if (x[step * features + f] != mask_value_) result[step] = 1.0f;
  return result;
}

std::optional<Tensor> Masking::compute_mask(const Tensor& x, const Tensor* /*mask*/) const {
  return keep(x);
}

// y = x · keep: a masked timestep's features become zeros (they all equal mask_value, which need not be 0).
std::vector<Tensor> Masking::forward(const Tensor& x, const CallArgs& args) {
  Tensor kept = keep(x);
  Tensor y = x;
  const std::int64_t features = x.dim(2);
  for (std::int64_t i = 0; i < y.size(); ++i) y[i] *= kept[i / features];
  if (args.training) trained_keep_ = std::move(kept);
  return {std::move(y)};
}

// keep is a constant of x (a comparison has no gradient), so dL/dx = dL/dy · keep.
InputGrads Masking::backward_pass(const std::vector<Tensor>& output_grads) {
  Tensor grad = output_grads[0];
  const std::int64_t features = grad.dim(2);
  for (std::int64_t i = 0; i < grad.size(); ++i) grad[i] *= trained_keep_[i / features];
  return {std::move(grad)};
}

nlohmann::json Masking::config() const {
  nlohmann::json config = Layer::config();
  config["mask_value"] = config_number(mask_value_);
  return config;
}

}  // namespace rnnkit
