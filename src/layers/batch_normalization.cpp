#include "rnnkit/layers/batch_normalization.h"

#include <algorithm>
#include <cmath>

#include "layers/initializers.h"
#include "layers/normalization_axes.h"
#include "rnnkit/error.h"

namespace rnnkit {

BatchNormalization::BatchNormalization(const BatchNormalizationOptions& options)
    : Layer("BatchNormalization", "batch_normalization", options.name,
            {.input_shape = options.input_shape, .batch_input_shape = options.batch_input_shape}),
      options_(options) {
  check(!options.axis.empty(), where(), ": axis must name at least one axis");
  check(options.epsilon >= 0.0 && std::isfinite(options.epsilon), where(),
        ": epsilon must be a non-negative number, received ", options.epsilon);
  check(std::isfinite(options.momentum), where(), ": momentum must be a number, received ", options.momentum);
  for (auto [field, value] :
       {std::pair{"beta_initializer", &options_.beta_initializer},
        std::pair{"gamma_initializer", &options_.gamma_initializer},
        std::pair{"moving_mean_initializer", &options_.moving_mean_initializer},
        std::pair{"moving_variance_initializer", &options_.moving_variance_initializer}})
    *value = initializer_config(*value, where() + " " + field);
  check_regularizer(options.beta_regularizer, where() + " beta_regularizer");
  check_regularizer(options.gamma_regularizer, where() + " gamma_regularizer");
  check_constraint(options.beta_constraint, where() + " beta_constraint");
  check_constraint(options.gamma_constraint, where() + " gamma_constraint");
}

void BatchNormalization::build_weights(const Shape& input_shape, Rng& rng) {
  const auto rank = static_cast<int>(input_shape.size());
  for (const int axis : options_.axis)
    check(axis != 0 && axis != -rank, where(), ": axis ", axis, " is the batch axis of the input shape ",
          shape_string(input_shape), ", which BatchNormalization cannot normalize by");
  axes_ = normalization::resolve_axes(options_.axis, input_shape, where());
  // One axis: weights of shape (F,); several: the input's shape with 1 on every other axis, as Keras.
  Shape param_shape;
  if (axes_.size() == 1) {
    param_shape = {input_shape[static_cast<std::size_t>(axes_[0])]};
  } else {
    for (std::size_t a = 0; a < input_shape.size(); ++a)
      param_shape.push_back(std::ranges::find(axes_, static_cast<int>(a)) != axes_.end() ? input_shape[a]
                                                                                         : 1);
  }
  // Keras's order: gamma, beta, moving_mean, moving_variance.
  if (options_.scale)
    initialize(options_.gamma_initializer,
               add_param("gamma", param_shape, options_.gamma_regularizer, options_.gamma_constraint), rng,
               where() + " gamma_initializer");
  if (options_.center)
    initialize(options_.beta_initializer,
               add_param("beta", param_shape, options_.beta_regularizer, options_.beta_constraint), rng,
               where() + " beta_initializer");
  initialize(options_.moving_mean_initializer, add_non_trainable_param("moving_mean", param_shape), rng,
             where() + " moving_mean_initializer");
  initialize(options_.moving_variance_initializer, add_non_trainable_param("moving_variance", param_shape),
             rng, where() + " moving_variance_initializer");
}

// tf.keras 2.x's fused kernel serves rank 4 and 5 inputs with the features on axis 1 or the last one.
bool BatchNormalization::fused(const Shape& shape) const {
  if (axes_.size() != 1) return false;
  const int axis = axes_[0];
  return (shape.size() == 4 && (axis == 1 || axis == 3)) || (shape.size() == 5 && (axis == 1 || axis == 4));
}

namespace {

// The batch's moments per feature, as tf.nn.weighted_moments: `weights` is the (B,T) mask of a (B,T,F)
// input, or empty for weight 1 everywhere.
struct Moments {
  std::vector<double> mean, variance, counts;  // counts: Σw, the elements each feature's moments took
};

Moments batch_moments(const Tensor& x, const normalization::AxisSplit& split, const Tensor& weights) {
  const auto features = static_cast<std::size_t>(split.inner_count);
  Moments moments{std::vector<double>(features), std::vector<double>(features),
                  std::vector<double>(features)};
  const std::int64_t per_step = x.rank() >= 3 ? x.dim(2) : 1;
  const auto weight = [&](std::int64_t i) { return weights.empty() ? 1.0 : double(weights[i / per_step]); };
  for (std::int64_t i = 0; i < x.size(); ++i) {
    moments.mean[split.inner(i)] += weight(i) * x[i];
    moments.counts[split.inner(i)] += weight(i);
  }
  // A feature with no unmasked element has mean and variance 0 (weighted_moments divides with div_no_nan).
  const auto divide = [](double sum, double count) { return count > 0.0 ? sum / count : 0.0; };
  for (std::size_t f = 0; f < features; ++f) moments.mean[f] = divide(moments.mean[f], moments.counts[f]);
  for (std::int64_t i = 0; i < x.size(); ++i) {
    const double centred = x[i] - moments.mean[split.inner(i)];
    moments.variance[split.inner(i)] += weight(i) * centred * centred;
  }
  for (std::size_t f = 0; f < features; ++f)
    moments.variance[f] = divide(moments.variance[f], moments.counts[f]);
  return moments;
}

}  // namespace

// Per feature f, over every element of the batch with that feature (weighted by the mask where given):
//   mean = Σw·x/Σw;  var = Σw·(x - mean)²/Σw;  x̂ = (x - mean)/√(var + ε);  y = gamma·x̂ + beta;
//   moving_mean -= (moving_mean - mean)·(1 - momentum), and likewise moving_variance with var.
// At inference mean and var are the moving ones.
std::vector<Tensor> BatchNormalization::forward(const Tensor& x, const CallArgs& args) {
  const bool batch_statistics = args.training && trainable();
  const bool fused_kernel = fused(x.shape());
  const double epsilon = fused_kernel ? std::max(options_.epsilon, 1.001e-5) : options_.epsilon;
  const normalization::AxisSplit split = normalization::split_axes(x.shape(), axes_);
  const auto features = static_cast<std::size_t>(split.inner_count);
  Tensor& moving_mean = params()[moving_mean_index()]->value;
  Tensor& moving_variance = params()[moving_mean_index() + 1]->value;

  Tensor weights;
  Moments moments;
  if (batch_statistics) {
    if (args.mask && !fused_kernel) {  // the fused kernel ignores a mask
      check(x.rank() == 3, where(), ": a mask of shape ", shape_string(args.mask->shape()),
            " goes with an input of rank 3 (batch, timesteps, features), received shape ",
            shape_string(x.shape()));
      weights = *args.mask;
    }
    moments = batch_moments(x, split, weights);
    // Keras's _assign_moving_average in float32: moving -= (moving - batch) · (1 - momentum). The fused
    // kernel hands back the unbiased variance for it.
    const auto decay = static_cast<float>(1.0 - options_.momentum);
    const auto samples = static_cast<double>(split.outer_count);
    const double bessel = fused_kernel && samples > 1.0 ? samples / (samples - 1.0) : 1.0;
    for (std::size_t f = 0; f < features; ++f) {
      moving_mean[f] -= (moving_mean[f] - static_cast<float>(moments.mean[f])) * decay;
      moving_variance[f] -= (moving_variance[f] - static_cast<float>(moments.variance[f] * bessel)) * decay;
    }
  } else {
    moments.mean.assign(moving_mean.values().begin(), moving_mean.values().end());
    moments.variance.assign(moving_variance.values().begin(), moving_variance.values().end());
  }

  const float* gamma = options_.scale ? own_weight(0).data() : nullptr;
  const float* beta = options_.center ? own_weight(options_.scale ? 1 : 0).data() : nullptr;
  std::vector<double> inverse(features);
  for (std::size_t f = 0; f < features; ++f) inverse[f] = 1.0 / std::sqrt(moments.variance[f] + epsilon);
  Tensor normalized = Tensor::uninitialized(x.shape());
  Tensor y = Tensor::uninitialized(x.shape());
  for (std::int64_t i = 0; i < x.size(); ++i) {
    const std::int64_t f = split.inner(i);
    normalized[i] = static_cast<float>((x[i] - moments.mean[f]) * inverse[f]);
    y[i] = (gamma ? gamma[f] * normalized[i] : normalized[i]) + (beta ? beta[f] : 0.0f);
  }
  if (args.training) {
    trained_with_batch_statistics_ = batch_statistics;
    trained_normalized_ = std::move(normalized);
    trained_inverse_ = std::move(inverse);
    trained_weights_ = std::move(weights);
    trained_counts_ = std::move(moments.counts);
  }
  return {std::move(y)};
}

// dx̂ = gamma·dy;  dgamma += Σ dy·x̂;  dbeta += Σ dy.  With the moving statistics dx = dx̂/√(var + ε).
// With the batch's, whose mean and variance depend on every weighted element:
//   dx_i = (dx̂_i - w_i·Σdx̂/Σw - w_i·x̂_i·Σ(dx̂·x̂)/Σw) / √(var + ε), the sums over the feature's elements.
InputGrads BatchNormalization::backward_pass(const std::vector<Tensor>& output_grads) {
  const Tensor& dy = output_grads[0];
  const Tensor& normalized = trained_normalized_;
  const normalization::AxisSplit split = normalization::split_axes(dy.shape(), axes_);
  const auto features = static_cast<std::size_t>(split.inner_count);
  const float* gamma = options_.scale ? own_weight(0).data() : nullptr;
  float* gamma_grad = options_.scale ? own_grad(0).data() : nullptr;
  float* beta_grad = options_.center ? own_grad(options_.scale ? 1 : 0).data() : nullptr;
  std::vector<double> sum(features, 0.0), sum_normalized(features, 0.0);
  Tensor dx = Tensor::uninitialized(dy.shape());  // dx̂ first
  for (std::int64_t i = 0; i < dy.size(); ++i) {
    const std::int64_t f = split.inner(i);
    if (gamma_grad) gamma_grad[f] += dy[i] * normalized[i];
    if (beta_grad) beta_grad[f] += dy[i];
    dx[i] = gamma ? gamma[f] * dy[i] : dy[i];
    sum[f] += dx[i];
    sum_normalized[f] += double(dx[i]) * normalized[i];
  }
  const std::int64_t per_step = dy.rank() >= 3 ? dy.dim(2) : 1;
  for (std::int64_t i = 0; i < dy.size(); ++i) {
    const std::int64_t f = split.inner(i);
    double grad = dx[i];
    const double count = trained_counts_.empty() ? 0.0 : trained_counts_[f];
    if (trained_with_batch_statistics_ && count > 0.0) {
      const double w = trained_weights_.empty() ? 1.0 : double(trained_weights_[i / per_step]);
      grad -= w * (sum[f] + normalized[i] * sum_normalized[f]) / count;
    }
    dx[i] = static_cast<float>(grad * trained_inverse_[f]);
  }
  return {std::move(dx)};
}

nlohmann::json BatchNormalization::config() const {
  nlohmann::json config = Layer::config();
  config["axis"] = normalization::axis_config(options_.axis, axes_);
  config["momentum"] = options_.momentum;
  config["epsilon"] = options_.epsilon;
  config["center"] = options_.center;
  config["scale"] = options_.scale;
  config["beta_initializer"] = options_.beta_initializer;
  config["gamma_initializer"] = options_.gamma_initializer;
  config["moving_mean_initializer"] = options_.moving_mean_initializer;
  config["moving_variance_initializer"] = options_.moving_variance_initializer;
  config["beta_regularizer"] = regularizer_config(options_.beta_regularizer);
  config["gamma_regularizer"] = regularizer_config(options_.gamma_regularizer);
  config["beta_constraint"] = constraint_config(options_.beta_constraint);
  config["gamma_constraint"] = constraint_config(options_.gamma_constraint);
  return config;
}

}  // namespace rnnkit
