// Keras's optimizers as tf.keras 2.11 runs them (keras/optimizers/optimizer_experimental/*.py, the
// optimizers `tf.keras.optimizers.*` name from 2.11 on), their gradient clipping, and ExponentialDecay.
//
// Precision, as Keras: weights, grads and slots are float32 and every elementwise step is float32
// arithmetic, with each hyperparameter cast to float32 where Keras casts it (Python floats such as
// `1 - self.beta_1` are formed in double and become float32 tensors when they meet a float32 one).
// The per-step scalars (Adam's alpha = lr·√(1-β₂ᵗ)/(1-β₁ᵗ), a schedule's learning rate, the clipping
// norms and scales) are computed in double and cast to float32 once. TF 2.11 computes those scalars in
// float32 from float32 casts of lr, β₁, β₂ and t (adam.py: tf.pow(tf.cast(self.beta_1, variable.dtype),
// local_step)); as 0.999 is no float32, its 1 - β₂ᵗ is off by ~1.3e-5 relative, so Keras's own alpha
// differs from the exact one by ~6e-6 relative over the first hundreds of steps (less once β₂ᵗ is well
// below 1). Ours is the exact one, which the oracles compute.

#include "rnnkit/optimizers.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <limits>
#include <string_view>
#include <utility>

#include "core/fast_math.h"  // RNNKIT_VECTOR_CLONES
#include "core/parallel.h"
#include "rnnkit/error.h"

namespace rnnkit {
namespace {

// "Adam: option 'beta_1' must be in [0, 1), received 1".
template <class Value>
void check_option(bool ok, std::string_view optimizer, std::string_view option, std::string_view rule,
                  Value received) {
  check(ok, optimizer, ": option '", option, "' must be ", rule, ", received ", received);
}

bool finite_at_least_zero(double value) {
  return std::isfinite(value) && value >= 0.0;
}
bool finite_above_zero(double value) {
  return std::isfinite(value) && value > 0.0;
}
bool in_unit_interval_open_right(double value) {
  return std::isfinite(value) && value >= 0.0 && value < 1.0;
}

// What every optimizer checks: the learning rate, the clips (Keras 3's base_optimizer.py allows one at
// most; a clip <= 0, which tf.keras 2.11 ignored silently, is an error here) and the schedule.
void validate_common(std::string_view optimizer, double learning_rate, const OptimizerCommon& common) {
  check_option(finite_at_least_zero(learning_rate), optimizer, "learning_rate", "a finite number >= 0",
               learning_rate);
  const std::pair<const char*, const std::optional<double>*> clips[] = {
      {"clipnorm", &common.clipnorm},
      {"clipvalue", &common.clipvalue},
      {"global_clipnorm", &common.global_clipnorm}};
  int clip_count = 0;
  for (const auto& [option, value] : clips) {
    if (!value->has_value()) continue;
    ++clip_count;
    check_option(finite_above_zero(**value), optimizer, option, "a finite number > 0", **value);
  }
  check(clip_count <= 1, optimizer,
        ": at most one of the options 'clipnorm', 'clipvalue' and 'global_clipnorm' ",
        "can be set, received ", clip_count);
  if (const auto& schedule = common.schedule) {
    check_option(finite_at_least_zero(schedule->initial_learning_rate), optimizer,
                 "schedule.initial_learning_rate", "a finite number >= 0", schedule->initial_learning_rate);
    check_option(schedule->decay_steps > 0, optimizer, "schedule.decay_steps", "> 0", schedule->decay_steps);
    check_option(finite_above_zero(schedule->decay_rate), optimizer, "schedule.decay_rate",
                 "a finite number > 0", schedule->decay_rate);
  }
}

double sum_of_squares(const Tensor& tensor) {
  double sum = 0.0;
  for (const float value : tensor.values()) sum += static_cast<double>(value) * static_cast<double>(value);
  return sum;
}

// tf.keras 2.11 keras/optimizers/optimizer_experimental/optimizer.py, _BaseOptimizer._clip_gradients: the
// first clip set wins (only one can be set here). Returns the clipped copies, or nothing when no clip is
// set. TF's formulas, elementwise in float32 with the norm (summed in double here) cast to float32:
//   tf.clip_by_norm(g, c)           = g·c / max(‖g‖, c)
//   tf.clip_by_global_norm(gs, c)   = g · (c·min(1/‖gs‖, 1/c)), NaN everywhere when ‖gs‖ is not finite
//   tf.clip_by_value(g, -c, c)      = min(max(g, -c), c)
std::vector<Tensor> clip_gradients(const OptimizerCommon& common, const std::vector<Param*>& params) {
  std::vector<Tensor> clipped;
  if (common.clipnorm) {
    const float clip = static_cast<float>(*common.clipnorm);
    for (const Param* param : params) {
      Tensor grad = param->grad;
      const float denominator = std::max(static_cast<float>(std::sqrt(sum_of_squares(grad))), clip);
      for (float& value : grad.values()) value = value * clip / denominator;
      clipped.push_back(std::move(grad));
    }
  } else if (common.global_clipnorm) {
    double total = 0.0;
    for (const Param* param : params) total += sum_of_squares(param->grad);
    const double norm = std::sqrt(total), clip = *common.global_clipnorm;
    const double scale = std::isfinite(norm) ? clip * std::min(1.0 / norm, 1.0 / clip)
                                             : std::numeric_limits<double>::quiet_NaN();
    const float scale_f = static_cast<float>(scale);
    for (const Param* param : params) {
      Tensor grad = param->grad;
      for (float& value : grad.values()) value *= scale_f;
      clipped.push_back(std::move(grad));
    }
  } else if (common.clipvalue) {
    const float clip = static_cast<float>(*common.clipvalue);
    for (const Param* param : params) {
      Tensor grad = param->grad;
      for (float& value : grad.values()) value = std::min(std::max(value, -clip), clip);  // NaN stays NaN
      clipped.push_back(std::move(grad));
    }
  }
  return clipped;
}

// The slot tensor of param `index`, created (filled with `initial`) on the first step that reaches it, as
// Keras's build() does for every param at once; a slot restored for resuming must match its param.
Tensor& slot(std::vector<Tensor>& list, std::size_t index, const Tensor& weight, float initial,
             std::string_view optimizer, std::string_view slot_name) {
  if (index == list.size()) list.emplace_back(weight.shape(), initial);
  check(index < list.size(), optimizer, ": slot '", slot_name, "' holds ", list.size(),
        " tensors, too few to reach param ", index);
  check(list[index].shape() == weight.shape(), optimizer, ": slot '", slot_name, "' of param ", index,
        " has shape ", shape_string(list[index].shape()), " but the param has shape ",
        shape_string(weight.shape()));
  return list[index];
}

// Adam's element-wise update, one pass over the weight and its slots; amsgrad apart so that neither loop
// branches per element (both vectorise).
RNNKIT_VECTOR_CLONES void adam_loop(float* w, float* m, float* v, const float* g, std::int64_t size,
                                    float alpha, float one_minus_beta_1, float one_minus_beta_2,
                                    float epsilon) {
  for (std::int64_t i = 0; i < size; ++i) {
    m[i] += (g[i] - m[i]) * one_minus_beta_1;
    v[i] += (g[i] * g[i] - v[i]) * one_minus_beta_2;
    w[i] -= (m[i] * alpha) / (std::sqrt(v[i]) + epsilon);
  }
}

RNNKIT_VECTOR_CLONES void amsgrad_loop(float* w, float* m, float* v, float* v_hat, const float* g,
                                       std::int64_t size, float alpha, float one_minus_beta_1,
                                       float one_minus_beta_2, float epsilon) {
  for (std::int64_t i = 0; i < size; ++i) {
    m[i] += (g[i] - m[i]) * one_minus_beta_1;
    v[i] += (g[i] * g[i] - v[i]) * one_minus_beta_2;
    v_hat[i] = std::max(v_hat[i], v[i]);
    w[i] -= (m[i] * alpha) / (std::sqrt(v_hat[i]) + epsilon);
  }
}

// tf.keras 2.11 keras/optimizers/optimizer_experimental/adam.py, Adam.update_step (dense gradients):
//   alpha = lr·√(1-β₂ᵗ)/(1-β₁ᵗ)            t = iterations + 1, running across apply() calls and epochs
//   m += (g - m)·(1-β₁);  v += (g² - v)·(1-β₂)
//   amsgrad: v̂ = max(v̂, v), and v̂ replaces v below
//   w -= (m·alpha) / (√v + ε)               ε added to √v, not to PyTorch's bias-corrected √v̂
// Slots (Keras 3 keras/src/optimizers/adam.py build()): "momentum", "velocity", "velocity_hat".
class AdamOptimizer final : public Optimizer {
 public:
  explicit AdamOptimizer(const AdamOptions& options)
      : Optimizer(options.learning_rate, options.common), options_(options) {
    validate_common(name(), options.learning_rate, options.common);
    check_option(in_unit_interval_open_right(options.beta_1), name(), "beta_1", "in [0, 1)", options.beta_1);
    check_option(in_unit_interval_open_right(options.beta_2), name(), "beta_2", "in [0, 1)", options.beta_2);
    check_option(finite_at_least_zero(options.epsilon), name(), "epsilon", "a finite number >= 0",
                 options.epsilon);
  }

  std::string name() const override { return "Adam"; }

  nlohmann::json config() const override {
    nlohmann::json config = Optimizer::config();
    config["beta_1"] = options_.beta_1;
    config["beta_2"] = options_.beta_2;
    config["epsilon"] = options_.epsilon;
    config["amsgrad"] = options_.amsgrad;
    return config;
  }

  std::vector<std::pair<std::string, std::vector<Tensor>*>> slots() override {
    std::vector<std::pair<std::string, std::vector<Tensor>*>> lists = {{"momentum", &momentums_},
                                                                       {"velocity", &velocities_}};
    if (options_.amsgrad) lists.emplace_back("velocity_hat", &velocity_hats_);
    return lists;
  }

 protected:
  void update(std::size_t index, Tensor& weight, const Tensor& grad, double learning_rate,
              std::int64_t step) override {
    const double t = static_cast<double>(step);
    const float alpha = static_cast<float>(learning_rate * std::sqrt(1.0 - std::pow(options_.beta_2, t)) /
                                           (1.0 - std::pow(options_.beta_1, t)));
    const float one_minus_beta_1 = static_cast<float>(1.0 - options_.beta_1);
    const float one_minus_beta_2 = static_cast<float>(1.0 - options_.beta_2);
    const float epsilon = static_cast<float>(options_.epsilon);
    float* m = slot(momentums_, index, weight, 0.0f, name(), "momentum").data();
    float* v = slot(velocities_, index, weight, 0.0f, name(), "velocity").data();
    float* v_hat =
        options_.amsgrad ? slot(velocity_hats_, index, weight, 0.0f, name(), "velocity_hat").data() : nullptr;
    float* w = weight.data();
    const float* g = grad.data();
    parallel_for(weight.size(), 4, [&](std::int64_t begin, std::int64_t end) {
      if (v_hat == nullptr)
        adam_loop(w + begin, m + begin, v + begin, g + begin, end - begin, alpha, one_minus_beta_1,
                  one_minus_beta_2, epsilon);
      else
        amsgrad_loop(w + begin, m + begin, v + begin, v_hat + begin, g + begin, end - begin, alpha,
                     one_minus_beta_1, one_minus_beta_2, epsilon);
    });
  }

  std::size_t interleaved_slots() const override { return 2; }  // momentum and velocity, per param

 private:
  AdamOptions options_;
  std::vector<Tensor> momentums_, velocities_, velocity_hats_;
};

// tf.keras 2.11 keras/optimizers/optimizer_experimental/rmsprop.py, RMSprop.update_step (dense gradients):
//   v = ρ·v + (1-ρ)·g²
//   centered: a = ρ·a + (1-ρ)·g, denominator = v - a² + ε;  otherwise denominator = v + ε   (ε inside √)
//   increment = lr·g·(1/√denominator)
//   momentum > 0: mom = μ·mom + increment, w -= mom;  otherwise w -= increment
// Slots (Keras 3 keras/src/optimizers/rmsprop.py build()): "velocity", "momentum", "average_gradient".
class RMSpropOptimizer final : public Optimizer {
 public:
  explicit RMSpropOptimizer(const RMSpropOptions& options)
      : Optimizer(options.learning_rate, options.common), options_(options) {
    validate_common(name(), options.learning_rate, options.common);
    check_option(in_unit_interval_open_right(options.rho), name(), "rho", "in [0, 1)", options.rho);
    check_option(std::isfinite(options.momentum) && options.momentum >= 0.0 && options.momentum <= 1.0,
                 name(), "momentum", "in [0, 1]", options.momentum);
    check_option(finite_at_least_zero(options.epsilon), name(), "epsilon", "a finite number >= 0",
                 options.epsilon);
  }

  std::string name() const override { return "RMSprop"; }

  nlohmann::json config() const override {
    nlohmann::json config = Optimizer::config();
    config["ema_overwrite_frequency"] = 100;  // RMSprop's own default in tf.keras 2.11
    config["rho"] = options_.rho;
    config["momentum"] = options_.momentum;
    config["epsilon"] = options_.epsilon;
    config["centered"] = options_.centered;
    return config;
  }

  std::vector<std::pair<std::string, std::vector<Tensor>*>> slots() override {
    std::vector<std::pair<std::string, std::vector<Tensor>*>> lists = {{"velocity", &velocities_}};
    if (options_.momentum > 0.0) lists.emplace_back("momentum", &momentums_);
    if (options_.centered) lists.emplace_back("average_gradient", &average_gradients_);
    return lists;
  }

 protected:
  void update(std::size_t index, Tensor& weight, const Tensor& grad, double learning_rate,
              std::int64_t /*step*/) override {
    const float lr = static_cast<float>(learning_rate);
    const float rho = static_cast<float>(options_.rho);
    const float one_minus_rho = static_cast<float>(1.0 - options_.rho);
    const float momentum = static_cast<float>(options_.momentum);
    const float epsilon = static_cast<float>(options_.epsilon);
    float* v = slot(velocities_, index, weight, 0.0f, name(), "velocity").data();
    float* mom =
        options_.momentum > 0.0 ? slot(momentums_, index, weight, 0.0f, name(), "momentum").data() : nullptr;
    float* a = options_.centered
                   ? slot(average_gradients_, index, weight, 0.0f, name(), "average_gradient").data()
                   : nullptr;
    float* w = weight.data();
    const float* g = grad.data();
    for (std::int64_t i = 0; i < weight.size(); ++i) {
      v[i] = rho * v[i] + one_minus_rho * (g[i] * g[i]);
      float denominator = v[i] + epsilon;
      if (a != nullptr) {
        a[i] = rho * a[i] + one_minus_rho * g[i];
        denominator = v[i] - a[i] * a[i] + epsilon;
      }
      const float increment = lr * g[i] * (1.0f / std::sqrt(denominator));
      if (mom != nullptr) {
        mom[i] = momentum * mom[i] + increment;
        w[i] -= mom[i];
      } else {
        w[i] -= increment;
      }
    }
  }

 private:
  RMSpropOptions options_;
  std::vector<Tensor> velocities_, momentums_, average_gradients_;
};

// tf.keras 2.11 keras/optimizers/optimizer_experimental/sgd.py, SGD.update_step (dense gradients):
//   m = -g·lr + m·μ
//   nesterov: w += -g·lr + m·μ (with the new m);  otherwise w += m
// Without momentum, w -= g·lr, as Keras 3's keras/src/optimizers/sgd.py, which then creates no slot
// (2.11 kept an m = -g·lr there, which gives the same float32 result).
// Slot (Keras 3 build()): "momentum". This m is -lr times PyTorch's momentum buffer; the two rules agree
// while lr is constant and part when a schedule changes it.
class SGDOptimizer final : public Optimizer {
 public:
  explicit SGDOptimizer(const SGDOptions& options)
      : Optimizer(options.learning_rate, options.common), options_(options) {
    validate_common(name(), options.learning_rate, options.common);
    check_option(std::isfinite(options.momentum) && options.momentum >= 0.0 && options.momentum <= 1.0,
                 name(), "momentum", "in [0, 1]", options.momentum);
  }

  std::string name() const override { return "SGD"; }

  nlohmann::json config() const override {
    nlohmann::json config = Optimizer::config();
    config["momentum"] = options_.momentum;
    config["nesterov"] = options_.nesterov;
    return config;
  }

  std::vector<std::pair<std::string, std::vector<Tensor>*>> slots() override {
    if (options_.momentum == 0.0) return {};
    return {{"momentum", &momentums_}};
  }

 protected:
  void update(std::size_t index, Tensor& weight, const Tensor& grad, double learning_rate,
              std::int64_t /*step*/) override {
    const float lr = static_cast<float>(learning_rate);
    float* w = weight.data();
    const float* g = grad.data();
    if (options_.momentum == 0.0) {
      for (std::int64_t i = 0; i < weight.size(); ++i) w[i] -= g[i] * lr;
      return;
    }
    const float momentum = static_cast<float>(options_.momentum);
    float* m = slot(momentums_, index, weight, 0.0f, name(), "momentum").data();
    for (std::int64_t i = 0; i < weight.size(); ++i) {
      m[i] = -g[i] * lr + m[i] * momentum;
      w[i] += options_.nesterov ? -g[i] * lr + m[i] * momentum : m[i];
    }
  }

 private:
  SGDOptions options_;
  std::vector<Tensor> momentums_;
};

// tf.keras 2.11 keras/optimizers/optimizer_experimental/adagrad.py, Adagrad.update_step (dense gradients):
//   accumulator starts at initial_accumulator_value;  accumulator += g²
//   w -= lr·g / √(accumulator + ε)          ε inside the root (PyTorch adds it to the root, from 0)
// Slot (Keras 3 keras/src/optimizers/adagrad.py build()): "accumulator".
class AdagradOptimizer final : public Optimizer {
 public:
  explicit AdagradOptimizer(const AdagradOptions& options)
      : Optimizer(options.learning_rate, options.common), options_(options) {
    validate_common(name(), options.learning_rate, options.common);
    check_option(finite_at_least_zero(options.initial_accumulator_value), name(), "initial_accumulator_value",
                 "a finite number >= 0", options.initial_accumulator_value);
    check_option(finite_at_least_zero(options.epsilon), name(), "epsilon", "a finite number >= 0",
                 options.epsilon);
  }

  std::string name() const override { return "Adagrad"; }

  nlohmann::json config() const override {
    nlohmann::json config = Optimizer::config();
    config["initial_accumulator_value"] = options_.initial_accumulator_value;
    config["epsilon"] = options_.epsilon;
    return config;
  }

  std::vector<std::pair<std::string, std::vector<Tensor>*>> slots() override {
    return {{"accumulator", &accumulators_}};
  }

 protected:
  float initial_slot_value(std::string_view /*slot*/) const override {
    return static_cast<float>(options_.initial_accumulator_value);
  }

 protected:
  void update(std::size_t index, Tensor& weight, const Tensor& grad, double learning_rate,
              std::int64_t /*step*/) override {
    const float lr = static_cast<float>(learning_rate);
    const float epsilon = static_cast<float>(options_.epsilon);
    const float initial = static_cast<float>(options_.initial_accumulator_value);
    float* accumulator = slot(accumulators_, index, weight, initial, name(), "accumulator").data();
    float* w = weight.data();
    const float* g = grad.data();
    for (std::int64_t i = 0; i < weight.size(); ++i) {
      accumulator[i] += g[i] * g[i];
      w[i] -= lr * g[i] / std::sqrt(accumulator[i] + epsilon);
    }
  }

 private:
  AdagradOptions options_;
  std::vector<Tensor> accumulators_;
};

}  // namespace

// keras/optimizers/schedules/learning_rate_schedule.py, ExponentialDecay.__call__:
//   p = step / decay_steps (floored when staircase);  lr = initial_learning_rate · decay_rate^p
// Keras computes it in the dtype of initial_learning_rate (float32 for a Python float); here in double,
// cast to float32 by the update with the rest of the learning rate.
double ExponentialDecay::operator()(std::int64_t step) const {
  check(decay_steps > 0, "ExponentialDecay: decay_steps must be > 0, received ", decay_steps);
  double p = static_cast<double>(step) / static_cast<double>(decay_steps);
  if (staircase) p = std::floor(p);
  return initial_learning_rate * std::pow(decay_rate, p);
}

// Keras keeps a plain learning rate in a float32 variable (and writes that value in its config): holding the
// same float32 value makes a model resumed from its file step exactly as the one that never stopped.
Optimizer::Optimizer(double learning_rate, const OptimizerCommon& common)
    : learning_rate_(static_cast<float>(learning_rate)), common_(common) {}

void Optimizer::set_learning_rate(double learning_rate) {
  check(!common_.schedule, name(),
        ": the learning rate follows a schedule (ExponentialDecay), so it cannot be set");
  check(std::isfinite(learning_rate) && learning_rate >= 0.0, name(),
        ": learning_rate must be a finite number >= 0, received ", learning_rate);
  learning_rate_ = static_cast<float>(learning_rate);
}

void Optimizer::set_iterations(std::int64_t iterations) {
  check(iterations >= 0, name(), ": iterations must not be negative, received ", iterations);
  iterations_ = iterations;
}

// tf.keras 2.11 optimizer.py, _BaseOptimizer._compute_current_learning_rate: a schedule is evaluated at
// `iterations` (the steps already taken) at the start of apply_gradients.
double Optimizer::current_learning_rate() const {
  return common_.schedule ? (*common_.schedule)(iterations_) : learning_rate_;
}

// tf.keras 2.11 optimizer.py, _BaseOptimizer.apply_gradients: the current learning rate, nothing more for
// an empty list, clipping, one update_step per weight, then iterations += 1.
void Optimizer::apply(const std::vector<Param*>& params) {
  if (params.empty()) return;
  const std::string where = name();
  for (std::size_t i = 0; i < params.size(); ++i) {
    check(params[i] != nullptr, where, ": param ", i, " is null");
    const Param& param = *params[i];
    check(param.grad.shape() == param.value.shape(), where, ": param ", i, " '", param.name, "' has shape ",
          shape_string(param.value.shape()), " but its gradient has shape ",
          shape_string(param.grad.shape()));
  }
  if (param_shapes_.empty()) {
    for (const Param* param : params) param_shapes_.push_back(param->value.shape());
  } else {
    check(params.size() == param_shapes_.size(), where, ": apply() received ", params.size(),
          " params but the optimizer was built for ", param_shapes_.size(),
          "; pass the same params in the same order every step, or use a new optimizer");
    for (std::size_t i = 0; i < params.size(); ++i)
      check(params[i]->value.shape() == param_shapes_[i], where, ": param ", i, " '", params[i]->name,
            "' has shape ", shape_string(params[i]->value.shape()),
            " but the optimizer was built with shape ", shape_string(param_shapes_[i]),
            " there; pass the same params in the same order every step");
  }
  const double learning_rate = current_learning_rate();
  const std::vector<Tensor> clipped = clip_gradients(common_, params);
  for (std::size_t i = 0; i < params.size(); ++i)
    update(i, params[i]->value, clipped.empty() ? params[i]->grad : clipped[i], learning_rate,
           iterations_ + 1);
  ++iterations_;
}

// tf.keras 2.11 optimizer.py, _BaseOptimizer.get_config, and each optimizer's get_config for the rest.
// The learning rate lives in a float32 variable there, so a plain one serializes as its float32 value
// (0.001 is written 0.0010000000474974513); a schedule as serialize_keras_object writes it. jit_compile is
// false as Keras writes it on a machine without a GPU; weight decay and EMA are not supported here.
nlohmann::json Optimizer::config() const {
  const auto optional = [](const std::optional<double>& value) {
    return value ? nlohmann::json(*value) : nlohmann::json(nullptr);
  };
  nlohmann::json config = {
      {"name", name()},
      {"weight_decay", nullptr},
      {"clipnorm", optional(common_.clipnorm)},
      {"global_clipnorm", optional(common_.global_clipnorm)},
      {"clipvalue", optional(common_.clipvalue)},
      {"use_ema", false},
      {"ema_momentum", 0.99},
      {"ema_overwrite_frequency", nullptr},
      {"jit_compile", false},
      {"is_legacy_optimizer", false},
  };
  if (const auto& schedule = common_.schedule) {
    config["learning_rate"] = {{"class_name", "ExponentialDecay"},
                               {"config",
                                {{"initial_learning_rate", schedule->initial_learning_rate},
                                 {"decay_steps", schedule->decay_steps},
                                 {"decay_rate", schedule->decay_rate},
                                 {"staircase", schedule->staircase},
                                 {"name", nullptr}}}};
  } else {
    config["learning_rate"] = learning_rate_;
  }
  return config;
}

std::vector<std::pair<std::string, Tensor*>> Optimizer::keras3_variables() {
  const auto lists = slots();
  const std::size_t interleaved = std::min(interleaved_slots(), lists.size());
  std::vector<std::pair<std::string, Tensor*>> variables;
  if (interleaved > 0) {
    const std::size_t count = lists[0].second->size();
    for (std::size_t k = 1; k < interleaved; ++k)
      check(lists[k].second->size() == count, name(), ": slot '", lists[k].first, "' holds ",
            lists[k].second->size(), " tensors but slot '", lists[0].first, "' holds ", count);
    for (std::size_t i = 0; i < count; ++i)
      for (std::size_t k = 0; k < interleaved; ++k)
        variables.emplace_back(lists[k].first, &(*lists[k].second)[i]);
  }
  for (std::size_t k = interleaved; k < lists.size(); ++k)
    for (Tensor& tensor : *lists[k].second) variables.emplace_back(lists[k].first, &tensor);
  return variables;
}

void Optimizer::build(const std::vector<Shape>& param_shapes) {
  if (built()) {
    check(param_shapes == param_shapes_, name(), ": already built for ", param_shapes_.size(),
          " params of other shapes than the ", param_shapes.size(), " given");
    return;
  }
  param_shapes_ = param_shapes;
  for (const auto& [slot_name, list] : slots()) {
    list->clear();
    for (const Shape& shape : param_shapes) list->emplace_back(shape, initial_slot_value(slot_name));
  }
}

std::vector<std::pair<std::string, const Tensor*>> Optimizer::keras3_variables() const {
  // slots() hands out pointers for filling; reading them changes nothing.
  std::vector<std::pair<std::string, const Tensor*>> variables;
  for (const auto& [name, tensor] : const_cast<Optimizer*>(this)->keras3_variables())
    variables.emplace_back(name, tensor);
  return variables;
}

std::unique_ptr<Optimizer> Adam(const AdamOptions& options) {
  return std::make_unique<AdamOptimizer>(options);
}
std::unique_ptr<Optimizer> RMSprop(const RMSpropOptions& options) {
  return std::make_unique<RMSpropOptimizer>(options);
}
std::unique_ptr<Optimizer> SGD(const SGDOptions& options) {
  return std::make_unique<SGDOptimizer>(options);
}
std::unique_ptr<Optimizer> Adagrad(const AdagradOptions& options) {
  return std::make_unique<AdagradOptimizer>(options);
}

// As keras.optimizers.get("adam"): Keras's defaults; the name in any case.
std::unique_ptr<Optimizer> make_optimizer(std::string_view name, std::optional<double> learning_rate) {
  std::string key(name);
  std::transform(key.begin(), key.end(), key.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (key == "adam") {
    AdamOptions options;
    if (learning_rate) options.learning_rate = *learning_rate;
    return Adam(options);
  }
  if (key == "rmsprop") {
    RMSpropOptions options;
    if (learning_rate) options.learning_rate = *learning_rate;
    return RMSprop(options);
  }
  if (key == "sgd") {
    SGDOptions options;
    if (learning_rate) options.learning_rate = *learning_rate;
    return SGD(options);
  }
  if (key == "adagrad") {
    AdagradOptions options;
    if (learning_rate) options.learning_rate = *learning_rate;
    return Adagrad(options);
  }
  fail("unknown optimizer '", name, "' (known: adam, rmsprop, sgd, adagrad)");
}

}  // namespace rnnkit

namespace rnnkit {
namespace {

using nlohmann::json;

// A number the config may hold as a JSON number; `fallback` when absent or null.
double number(const json& config, const char* key, double fallback, const std::string& where) {
  if (!config.contains(key) || config[key].is_null()) return fallback;
  check(config[key].is_number(), where, ": optimizer config field '", key, "' must be a number, found ",
        config[key].dump());
  return config[key].get<double>();
}

bool flag(const json& config, const char* key, bool fallback, const std::string& where) {
  if (!config.contains(key) || config[key].is_null()) return fallback;
  check(config[key].is_boolean(), where, ": optimizer config field '", key, "' must be true or false, found ",
        config[key].dump());
  return config[key].get<bool>();
}

std::optional<double> optional_number(const json& config, const char* key, const std::string& where) {
  if (!config.contains(key) || config[key].is_null()) return std::nullopt;
  return number(config, key, 0.0, where);
}

// learning_rate as a number, or an ExponentialDecay ({"class_name", "config"}, with Keras 3's module
// wrapper).
void read_learning_rate(const json& config, double fallback, double& learning_rate, OptimizerCommon& common,
                        const std::string& where) {
  const char* key = config.contains("learning_rate") ? "learning_rate" : "lr";  // optimizer_v2 wrote "lr"
  if (!config.contains(key) || config[key].is_null()) {
    learning_rate = fallback;
    return;
  }
  const json& value = config[key];
  if (value.is_number()) {
    learning_rate = value.get<double>();
    return;
  }
  check(value.is_object() && value.value("class_name", std::string()) == "ExponentialDecay" &&
            value.contains("config") && value["config"].is_object(),
        where, ": optimizer learning_rate ", value.dump(),
        " is not supported (a number or ExponentialDecay)");
  const json& schedule = value["config"];
  ExponentialDecay decay;
  decay.initial_learning_rate = number(schedule, "initial_learning_rate", decay.initial_learning_rate, where);
  decay.decay_steps = static_cast<std::int64_t>(number(schedule, "decay_steps", 1000, where));
  decay.decay_rate = number(schedule, "decay_rate", decay.decay_rate, where);
  decay.staircase = flag(schedule, "staircase", false, where);
  common.schedule = decay;
  learning_rate = decay.initial_learning_rate;
}

}  // namespace

std::unique_ptr<Optimizer> optimizer_from_config(std::string_view class_name, const json& config,
                                                 const std::string& where) {
  check(config.is_object(), where, ": optimizer config must be a JSON object, found ", config.dump());
  // tf.keras 2.11 registered its optimizers as "Custom>Adam", ...; Keras 3 and optimizer_v2 wrote "Adam".
  std::string name(class_name);
  if (name.starts_with("Custom>")) name = name.substr(7);
  // What rnnkit does not implement must not be dropped silently: it changes the updates.
  for (const char* key : {"weight_decay", "loss_scale_factor", "gradient_accumulation_steps", "decay"}) {
    const bool set = config.contains(key) && !config[key].is_null() &&
                     !(config[key].is_number() && config[key].get<double>() == 0.0);
    check(!set, where, ": optimizer ", name, " sets '", key, "' = ", set ? config[key].dump() : "",
          ", which rnnkit does not support");
  }
  check(!flag(config, "use_ema", false, where), where, ": optimizer ", name,
        " sets 'use_ema', which rnnkit does not support");
  OptimizerCommon common;
  common.clipnorm = optional_number(config, "clipnorm", where);
  common.clipvalue = optional_number(config, "clipvalue", where);
  common.global_clipnorm = optional_number(config, "global_clipnorm", where);
  if (name == "Adam") {
    AdamOptions options;
    read_learning_rate(config, options.learning_rate, options.learning_rate, common, where);
    options.beta_1 = number(config, "beta_1", options.beta_1, where);
    options.beta_2 = number(config, "beta_2", options.beta_2, where);
    options.epsilon = number(config, "epsilon", options.epsilon, where);
    options.amsgrad = flag(config, "amsgrad", false, where);
    options.common = common;
    return Adam(options);
  }
  if (name == "RMSprop") {
    RMSpropOptions options;
    read_learning_rate(config, options.learning_rate, options.learning_rate, common, where);
    options.rho = number(config, "rho", options.rho, where);
    options.momentum = number(config, "momentum", options.momentum, where);
    options.epsilon = number(config, "epsilon", options.epsilon, where);
    options.centered = flag(config, "centered", false, where);
    options.common = common;
    return RMSprop(options);
  }
  if (name == "SGD") {
    SGDOptions options;
    read_learning_rate(config, options.learning_rate, options.learning_rate, common, where);
    options.momentum = number(config, "momentum", options.momentum, where);
    options.nesterov = flag(config, "nesterov", false, where);
    options.common = common;
    return SGD(options);
  }
  if (name == "Adagrad") {
    AdagradOptions options;
    read_learning_rate(config, options.learning_rate, options.learning_rate, common, where);
    options.initial_accumulator_value =
        number(config, "initial_accumulator_value", options.initial_accumulator_value, where);
    options.epsilon = number(config, "epsilon", options.epsilon, where);
    options.common = common;
    return Adagrad(options);
  }
  fail(where, ": optimizer '", class_name, "' is not supported (known: Adam, RMSprop, SGD, Adagrad)");
}

}  // namespace rnnkit
