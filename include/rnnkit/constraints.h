// Constraints: projections of a weight after each optimizer step, as keras.constraints.MaxNorm, NonNeg,
// UnitNorm and MinMaxNorm.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string_view>
#include <vector>

#include "rnnkit/tensor.h"

namespace rnnkit {

// Keras applies a weight's constraint right after the optimizer updates it (never at initialisation or
// set_weights). The norms are L2 norms over `axes` (Keras's axis: 0 for a kernel (F,U) is one norm per
// output unit), each kept within [min_value, max_value] as
//   w · (rate·clip(norm, min_value, max_value) + (1 - rate)·norm) / (ε + norm),   ε = 1e-7;
// MaxNorm is that with min_value 0 and rate 1, UnitNorm is w / (ε + norm), NonNeg zeroes negative values.
struct Constraint {
  enum class Kind { max_norm, non_neg, unit_norm, min_max_norm };  // Keras's MaxNorm, NonNeg, ...
  Kind kind = Kind::max_norm;
  double min_value = 0.0;
  double max_value = 2.0;
  double rate = 1.0;
  std::vector<int> axes{0};   // negative: from the last axis
  bool axes_as_list = false;  // the config gave axis as a list: written back as one

  void apply(Tensor& weight) const;
  // tf.keras 2.x's serialized form: {"class_name": "MaxNorm", "config": {"max_value": 2, "axis": 0}}.
  nlohmann::json config() const;
};

// keras.constraints.MaxNorm(max_value=2, axis=0), NonNeg(), UnitNorm(axis=0),
// MinMaxNorm(min_value=0.0, max_value=1.0, rate=1.0, axis=0).
Constraint MaxNorm(double max_value = 2.0, int axis = 0);
Constraint NonNeg();
Constraint UnitNorm(int axis = 0);
Constraint MinMaxNorm(double min_value = 0.0, double max_value = 1.0, double rate = 1.0, int axis = 0);

// A constraint from a Keras config of any era: null (none); a name ("max_norm", "non_neg", "unit_norm",
// "min_max_norm", Keras 1/2's "maxnorm", "nonneg", "unitnorm", or a class name); a serialized object whose
// class_name is any of those; Keras 1's {"name": "MaxNorm", "m": 2, "axis": 0} (MinMaxNorm's bounds as "low"
// and "high"). `where` names the layer and field for errors.
std::optional<Constraint> constraint_from_config(const nlohmann::json& config, std::string_view where);
// Checks a constraint given in C++ as a config read would; `where` names the layer and field.
void check_constraint(const std::optional<Constraint>& constraint, std::string_view where);
// null, or the constraint's config.
nlohmann::json constraint_config(const std::optional<Constraint>& constraint);

}  // namespace rnnkit
