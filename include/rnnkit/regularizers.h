// Regularizers: penalties that training adds to the loss, as keras.regularizers.L1 / L2 / L1L2 /
// OrthogonalRegularizer.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "rnnkit/tensor.h"

namespace rnnkit {

// penalty(w) = l1·Σ|w| + l2·Σw². On a weight (kernel_regularizer, ...) Keras adds the penalty of the
// current value to every training and evaluation loss; on a layer's output (activity_regularizer) it adds
// the penalty of each output divided by that output's batch size (tf.keras 2.x
// Layer._handle_activity_regularization).
//
// OrthogonalRegularizer (tf.keras 2.10+, Keras 3) penalises a 2-D weight's rows ("rows") or columns
// ("columns") for not being orthogonal: with n_i each one divided by its L2 norm (at least 1e-6),
//   penalty = factor · Σ_{i≠j} |n_i·n_j| / (m(m-1)),   m rows (or columns);
// Keras's NaN for a single row or column included.
struct Regularizer {
  // The Keras class a config names; kept so that a model is written back as it was read (older tf.keras
  // wrote every regularizer as L1L2).
  enum class Kind { l1, l2, l1_l2, orthogonal };
  Kind kind = Kind::l2;
  double l1 = 0.0;
  double l2 = 0.0;
  double factor = 0.01;       // orthogonal only
  std::string mode = "rows";  // orthogonal only: "rows" or "columns"

  // The penalty of L1, L2 and L1L2, which look at the values alone.
  double penalty(std::span<const float> values) const;
  // Adds scale · d(penalty)/d(value) into `grads`. The derivative of |w| at 0 is 0, as TensorFlow's sign.
  void add_gradient(std::span<const float> values, std::span<float> grads, double scale = 1.0) const;
  // The same for a weight or output of any kind, OrthogonalRegularizer's included (which needs rank 2);
  // `where` names the layer for errors.
  double penalty(const Tensor& value, std::string_view where) const;
  void add_gradient(const Tensor& value, Tensor& grads, double scale, std::string_view where) const;
  // tf.keras 2.x's serialized form: {"class_name": "L2", "config": {"l2": 0.01}}.
  nlohmann::json config() const;
};

// keras.regularizers.l1(0.01), l2(0.01), l1_l2(l1=0.01, l2=0.01) and OrthogonalRegularizer(0.01, "rows").
Regularizer L1(double l1 = 0.01);
Regularizer L2(double l2 = 0.01);
Regularizer L1L2(double l1 = 0.01, double l2 = 0.01);
Regularizer OrthogonalRegularizer(double factor = 0.01, std::string mode = "rows");

// A regularizer from a Keras config of any era: null (none); a name ("l1", "l2", "l1_l2", Keras 3's "l1l2",
// "orthogonal_regularizer", or a class name); a serialized object of class L1, L2, L1L2 or
// OrthogonalRegularizer (or tf.keras 2's function names l1, l2, l1_l2 in their place); Keras 1's
// {"name": "L1L2Regularizer" (1.2) or "WeightRegularizer" / "ActivityRegularizer" (1.0-1.1), "l1": ..., "l2":
// ...}. `where` names the layer and field for errors.
std::optional<Regularizer> regularizer_from_config(const nlohmann::json& config, std::string_view where);
// Checks factors given in C++ as a config read would (finite, not negative); `where` names the layer and
// field.
void check_regularizer(const std::optional<Regularizer>& regularizer, std::string_view where);
// null, or the regularizer's config.
nlohmann::json regularizer_config(const std::optional<Regularizer>& regularizer);

}  // namespace rnnkit
