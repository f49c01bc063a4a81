#include "rnnkit/layers/layer_normalization.h"

#include <cmath>

#include "layers/initializers.h"
#include "layers/normalization_axes.h"
#include "rnnkit/error.h"

namespace rnnkit {

LayerNormalization::LayerNormalization(const LayerNormalizationOptions& options)
    : Layer("LayerNormalization", "layer_normalization", options.name,
            {.input_shape = options.input_shape, .batch_input_shape = options.batch_input_shape}),
      options_(options) {
  check(!options.axis.empty(), where(), ": axis must name at least one axis");
  check(options.epsilon >= 0.0 && std::isfinite(options.epsilon), where(),
        ": epsilon must be a non-negative number, received ", options.epsilon);
  options_.beta_initializer = initializer_config(options.beta_initializer, where() + " beta_initializer");
  options_.gamma_initializer = initializer_config(options.gamma_initializer, where() + " gamma_initializer");
  check_regularizer(options.beta_regularizer, where() + " beta_regularizer");
  check_regularizer(options.gamma_regularizer, where() + " gamma_regularizer");
  check_constraint(options.beta_constraint, where() + " beta_constraint");
  check_constraint(options.gamma_constraint, where() + " gamma_constraint");
}

void LayerNormalization::build_weights(const Shape& input_shape, Rng& rng) {
  axes_ = normalization::resolve_axes(options_.axis, input_shape, where());
  Shape param_shape;
  for (const int axis : axes_) param_shape.push_back(input_shape[static_cast<std::size_t>(axis)]);
  // Keras creates gamma before beta.
  if (options_.scale)
    initialize(options_.gamma_initializer,
               add_param("gamma", param_shape, options_.gamma_regularizer, options_.gamma_constraint), rng,
               where() + " gamma_initializer");
  if (options_.center)
    initialize(options_.beta_initializer,
               add_param("beta", param_shape, options_.beta_regularizer, options_.beta_constraint), rng,
               where() + " beta_initializer");
}

// Per sample (each position of the axes not normalized over), over the N elements of `axis`:
//   mean = Σx/N;  var = Σ(x - mean)²/N;  x̂ = (x - mean)/√(var + ε);  y = gamma·x̂ + beta.
// The mask passes through untouched: Keras's LayerNormalization supports masking but does not read it.
std::vector<Tensor> LayerNormalization::forward(const Tensor& x, const CallArgs& args) {
  const normalization::AxisSplit split = normalization::split_axes(x.shape(), axes_);
  const auto groups = static_cast<std::size_t>(split.outer_count);
  std::vector<double> mean(groups, 0.0), variance(groups, 0.0), inverse(groups);
  for (std::int64_t i = 0; i < x.size(); ++i) mean[split.outer(i)] += x[i];
  for (double& m : mean) m /= static_cast<double>(split.inner_count);
  for (std::int64_t i = 0; i < x.size(); ++i) {
    const double centred = x[i] - mean[split.outer(i)];
    variance[split.outer(i)] += centred * centred;
  }
  for (std::size_t g = 0; g < groups; ++g)
    inverse[g] = 1.0 / std::sqrt(variance[g] / static_cast<double>(split.inner_count) + options_.epsilon);
  const float* gamma = options_.scale ? own_weight(0).data() : nullptr;
  const float* beta = options_.center ? own_weight(options_.scale ? 1 : 0).data() : nullptr;
  Tensor normalized = Tensor::uninitialized(x.shape());
  Tensor y = Tensor::uninitialized(x.shape());
  for (std::int64_t i = 0; i < x.size(); ++i) {
    const std::size_t g = split.outer(i);
    normalized[i] = static_cast<float>((x[i] - mean[g]) * inverse[g]);
    const std::int64_t f = split.inner(i);
    y[i] = (gamma ? gamma[f] * normalized[i] : normalized[i]) + (beta ? beta[f] : 0.0f);
  }
  if (args.training) {
    trained_normalized_ = std::move(normalized);
    trained_inverse_ = std::move(inverse);
  }
  return {std::move(y)};
}

// dx̂ = gamma·dy;  dx = (dx̂ - mean(dx̂) - x̂·mean(dx̂·x̂)) / √(var + ε), the means over each sample's N
// elements;  dgamma += Σ dy·x̂;  dbeta += Σ dy, summed over the samples.
InputGrads LayerNormalization::backward_pass(const std::vector<Tensor>& output_grads) {
  const Tensor& dy = output_grads[0];
  const Tensor& normalized = trained_normalized_;
  const normalization::AxisSplit split = normalization::split_axes(dy.shape(), axes_);
  const float* gamma = options_.scale ? own_weight(0).data() : nullptr;
  float* gamma_grad = options_.scale ? own_grad(0).data() : nullptr;
  float* beta_grad = options_.center ? own_grad(options_.scale ? 1 : 0).data() : nullptr;
  const auto groups = static_cast<std::size_t>(split.outer_count);
  std::vector<double> sum(groups, 0.0), sum_normalized(groups, 0.0);
  Tensor dx = Tensor::uninitialized(dy.shape());  // dx̂ first
  for (std::int64_t i = 0; i < dy.size(); ++i) {
    const std::int64_t f = split.inner(i);
    if (gamma_grad) gamma_grad[f] += dy[i] * normalized[i];
    if (beta_grad) beta_grad[f] += dy[i];
    dx[i] = gamma ? gamma[f] * dy[i] : dy[i];
    sum[split.outer(i)] += dx[i];
    sum_normalized[split.outer(i)] += double(dx[i]) * normalized[i];
  }
  const auto count = static_cast<double>(split.inner_count);
  for (std::int64_t i = 0; i < dy.size(); ++i) {
    const std::size_t g = split.outer(i);
    dx[i] = static_cast<float>(trained_inverse_[g] *
                               (dx[i] - sum[g] / count - normalized[i] * sum_normalized[g] / count));
  }
  return {std::move(dx)};
}

nlohmann::json LayerNormalization::config() const {
  nlohmann::json config = Layer::config();
  config["axis"] = normalization::axis_config(options_.axis, axes_);
  config["epsilon"] = options_.epsilon;
  config["center"] = options_.center;
  config["scale"] = options_.scale;
  config["beta_initializer"] = options_.beta_initializer;
  config["gamma_initializer"] = options_.gamma_initializer;
  config["beta_regularizer"] = regularizer_config(options_.beta_regularizer);
  config["gamma_regularizer"] = regularizer_config(options_.gamma_regularizer);
  config["beta_constraint"] = constraint_config(options_.beta_constraint);
  config["gamma_constraint"] = constraint_config(options_.gamma_constraint);
  return config;
}

}  // namespace rnnkit
