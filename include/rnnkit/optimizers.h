// Keras's optimizers (tf.keras >= 2.11 update rules and defaults), gradient clipping and learning-rate
// schedules.
#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "rnnkit/layer.h"

namespace rnnkit {

// keras.optimizers.schedules.ExponentialDecay: lr · decay_rate^(step / decay_steps), the exponent floored
// when staircase. An optimizer evaluates it at its iterations() before each step (0 for the first).
struct ExponentialDecay {
  double initial_learning_rate = 0.001;
  std::int64_t decay_steps = 1000;
  double decay_rate = 0.96;
  bool staircase = false;
  double operator()(std::int64_t step) const;
};

// What every optimizer takes besides its own hyperparameters. At most one of the three clips, each > 0
// (Keras 3 rejects more than one; tf.keras 2.11 rejected clipnorm with global_clipnorm and let either
// silently override clipvalue).
struct OptimizerCommon {
  std::optional<double> clipnorm{};            // per weight: g · clipnorm / max(‖g‖, clipnorm)
  std::optional<double> clipvalue{};           // per element: clip(g, -clipvalue, clipvalue)
  std::optional<double> global_clipnorm{};     // all weights together, as tf.clip_by_global_norm
  std::optional<ExponentialDecay> schedule{};  // replaces learning_rate when given
};

class Optimizer {
 public:
  virtual ~Optimizer() = default;
  // One update of every param from its grad, after clipping (Keras's apply_gradients). Each param keeps
  // its slots (moments) by position: pass the same params in the same order every step. The grads are
  // read, not changed (clipping works on copies). An empty list is a no-op that does not count a step.
  void apply(const std::vector<Param*>& params);
  // Keras's `iterations`: the steps taken so far, across every apply() (and so across epochs).
  std::int64_t iterations() const { return iterations_; }
  // Restores the step count, as when resuming from a saved optimizer; never negative.
  void set_iterations(std::int64_t iterations);
  // The learning rate of the step about to be taken: the schedule at iterations() when there is one.
  double current_learning_rate() const;
  // Sets the learning rate, as Keras's backend.set_value(optimizer.lr, value): held as float32, finite and
  // >= 0. An Error where a schedule drives the rate.
  void set_learning_rate(double learning_rate);
  virtual std::string name() const = 0;  // Keras's class name: "Adam"
  // Keras's get_config() (tf.keras 2.11 keys: name, weight_decay, clipnorm, global_clipnorm, clipvalue,
  // use_ema, ema_momentum, ema_overwrite_frequency, jit_compile, is_legacy_optimizer, learning_rate and
  // the optimizer's own hyperparameters; a schedule serializes as {"class_name", "config"}).
  virtual nlohmann::json config() const;
  // Slot variables, for saving and resuming, under Keras 3's names: one list per name, holding one tensor
  // per param in apply() order, and only the slots the options create. Adam: "momentum", "velocity", then
  // "velocity_hat" with amsgrad; RMSprop: "velocity", "momentum" when momentum > 0, "average_gradient"
  // when centered; SGD: "momentum" when momentum != 0; Adagrad: "accumulator". (tf.keras 2.11 called
  // Adam's "m", "v", "vhat" and SGD's "m".) The lists are empty until the first apply(); fill them, in
  // param order and with the params' shapes, to resume.
  virtual std::vector<std::pair<std::string, std::vector<Tensor>*>> slots() = 0;
  // Every slot tensor in the order Keras 3 lists them in optimizer.variables after "iteration" and
  // "learning_rate" (the order of a .keras file's optimizer/vars/N): Adam creates momentum and velocity
  // interleaved per param (m0, v0, m1, v1, ...) and then every velocity_hat; the others create each
  // slot's list whole, in slots() order.
  std::vector<std::pair<std::string, Tensor*>> keras3_variables();
  std::vector<std::pair<std::string, const Tensor*>> keras3_variables() const;
  // Creates every slot for params of these shapes, as Keras's optimizer.build does before the first step, so
  // that keras3_variables() lists them (to restore a saved state into). An error when already built for
  // other shapes; nothing changes when built for these.
  void build(const std::vector<Shape>& param_shapes);
  bool built() const { return !param_shapes_.empty(); }

 protected:
  Optimizer(double learning_rate, const OptimizerCommon& common);
  // Updates one weight; `step` counts from 1. Slots are created on the first call with `index`.
  virtual void update(std::size_t index, Tensor& weight, const Tensor& grad, double learning_rate,
                      std::int64_t step) = 0;
  // How many of the leading slots() Keras 3 creates interleaved per param (Adam: 2).
  virtual std::size_t interleaved_slots() const { return 1; }
  // The value a slot starts from (Adagrad's accumulator: initial_accumulator_value).
  virtual float initial_slot_value(std::string_view /*slot*/) const { return 0.0f; }

  double learning_rate_;
  OptimizerCommon common_;
  std::int64_t iterations_ = 0;

 private:
  std::vector<Shape> param_shapes_;  // the params of the first apply(), which every later one must match
};

struct AdamOptions {
  double learning_rate = 0.001, beta_1 = 0.9, beta_2 = 0.999, epsilon = 1e-7;
  bool amsgrad = false;
  OptimizerCommon common{};
};
struct RMSpropOptions {
  double learning_rate = 0.001, rho = 0.9, momentum = 0.0, epsilon = 1e-7;
  bool centered = false;
  OptimizerCommon common{};
};
struct SGDOptions {
  double learning_rate = 0.01, momentum = 0.0;
  bool nesterov = false;
  OptimizerCommon common{};
};
struct AdagradOptions {
  double learning_rate = 0.001, initial_accumulator_value = 0.1, epsilon = 1e-7;
  OptimizerCommon common{};
};

std::unique_ptr<Optimizer> Adam(const AdamOptions& options = {});
std::unique_ptr<Optimizer> RMSprop(const RMSpropOptions& options = {});
std::unique_ptr<Optimizer> SGD(const SGDOptions& options = {});
std::unique_ptr<Optimizer> Adagrad(const AdagradOptions& options = {});
// By Keras name ("adam", "rmsprop", "sgd", "adagrad"), with Keras's defaults, optionally another learning
// rate.
std::unique_ptr<Optimizer> make_optimizer(std::string_view name, std::optional<double> learning_rate = {});
// From Keras's serialized optimizer: a class name ("Adam"; tf.keras 2.11's registered "Custom>Adam") and its
// get_config() (tf.keras 2.11 or Keras 3 keys; legacy optimizer_v2's "lr" too). A feature rnnkit lacks
// (weight decay, EMA, loss scaling, gradient accumulation, another schedule) is an Error naming `where` and
// the key.
std::unique_ptr<Optimizer> optimizer_from_config(std::string_view class_name, const nlohmann::json& config,
                                                 const std::string& where);

}  // namespace rnnkit
