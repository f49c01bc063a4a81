// Regularizers: penalties that training adds to the loss, as keras.regularizers.L1 / L2 / L1L2.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string_view>

namespace rnnkit {

// penalty(w) = l1·Σ|w| + l2·Σw². On a weight (kernel_regularizer, ...) Keras adds the penalty of the
// current value to every training and evaluation loss; on a layer's output (activity_regularizer) it adds
// the penalty of each output divided by that output's batch size (tf.keras 2.x
// Layer._handle_activity_regularization).
struct Regularizer {
  // The Keras class a config names; kept so that a model is written back as it was read (older tf.keras
  // wrote every regularizer as L1L2).
  enum class Kind { l1, l2, l1_l2 };
  Kind kind = Kind::l2;
  double l1 = 0.0;
  double l2 = 0.0;

  double penalty(std::span<const float> values) const;
  // Adds scale · d(penalty)/d(value) into `grads`. The derivative of |w| at 0 is 0, as TensorFlow's sign.
  void add_gradient(std::span<const float> values, std::span<float> grads, double scale = 1.0) const;
  // tf.keras 2.x's serialized form: {"class_name": "L2", "config": {"l2": 0.01}}.
  nlohmann::json config() const;
};

// keras.regularizers.l1(0.01), l2(0.01) and l1_l2(l1=0.01, l2=0.01).
Regularizer L1(double l1 = 0.01);
Regularizer L2(double l2 = 0.01);
Regularizer L1L2(double l1 = 0.01, double l2 = 0.01);

// A regularizer from a Keras config: null (none), a shortcut name ("l1", "l2", "l1_l2"), a serialized object
// of class L1, L2 or L1L2, or Keras 1's {"name": "L1L2Regularizer", "l1": ..., "l2": ...}. `where` names the
// layer and field for errors.
std::optional<Regularizer> regularizer_from_config(const nlohmann::json& config, std::string_view where);
// Checks factors given in C++ as a config read would (finite, not negative); `where` names the layer and
// field.
void check_regularizer(const std::optional<Regularizer>& regularizer, std::string_view where);
// null, or the regularizer's config.
nlohmann::json regularizer_config(const std::optional<Regularizer>& regularizer);

}  // namespace rnnkit
