#include "rnnkit/constraints.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "rnnkit/error.h"

namespace rnnkit {
namespace {

using nlohmann::json;

constexpr double kEpsilon = 1e-7;  // Keras's backend.epsilon()

double number(const json& config, const char* key, double fallback, std::string_view where) {
  if (!config.contains(key)) return fallback;
  const json& value = config.at(key);
  check(value.is_number() && std::isfinite(value.get<double>()), where, ": constraint field '", key,
        "' must be a finite number, received ", value.dump());
  return value.get<double>();
}

Constraint from_fields(Constraint::Kind kind, const json& config, std::string_view where) {
  check(config.is_object(), where, ": a constraint's 'config' must be an object, received ", config.dump());
  Constraint constraint{.kind = kind};
  std::vector<std::string> known = {"axis"};
  if (kind == Constraint::Kind::non_neg) known.clear();
  if (kind == Constraint::Kind::max_norm) known.push_back("max_value");
  if (kind == Constraint::Kind::min_max_norm) known.insert(known.end(), {"min_value", "max_value", "rate"});
  for (const auto& [key, value] : config.items())
    check(std::find(known.begin(), known.end(), key) != known.end(), where, ": unknown constraint field '",
          key, "' in ", config.dump());
  if (kind == Constraint::Kind::min_max_norm) constraint.max_value = 1.0;
  constraint.min_value = number(config, "min_value", constraint.min_value, where);
  constraint.max_value = number(config, "max_value", constraint.max_value, where);
  constraint.rate = number(config, "rate", constraint.rate, where);
  check(constraint.min_value >= 0.0 && constraint.min_value <= constraint.max_value, where,
        ": constraint norms must satisfy 0 <= min_value <= max_value, received min_value ",
        constraint.min_value, " and max_value ", constraint.max_value);
  check(constraint.rate >= 0.0 && constraint.rate <= 1.0, where,
        ": constraint rate must be in [0, 1], received ", constraint.rate);
  if (config.contains("axis")) {
    const json& axis = config.at("axis");
    constraint.axes_as_list = axis.is_array();
    const json axes = axis.is_array() ? axis : json::array({axis});
    check(!axes.empty(), where, ": constraint field 'axis' must name at least one axis");
    constraint.axes.clear();
    for (const json& a : axes) {
      check(a.is_number_integer(), where,
            ": constraint field 'axis' must be an integer or a list of integers, ", "received ", axis.dump());
      constraint.axes.push_back(a.get<int>());
    }
  }
  return constraint;
}

}  // namespace

void Constraint::apply(Tensor& weight) const {
  if (kind == Kind::non_neg) {
    for (float& v : weight.values()) v = v >= 0.0f ? v : 0.0f;
    return;
  }
  const int rank = weight.rank();
  std::vector<bool> reduced(static_cast<std::size_t>(rank), false);
  for (int axis : axes) {
    const int resolved = axis < 0 ? axis + rank : axis;
    check(resolved >= 0 && resolved < rank, "constraint axis ", axis,
          " is out of range for a weight of shape ", shape_string(weight.shape()));
    reduced[static_cast<std::size_t>(resolved)] = true;
  }
  // One norm per position along the kept axes: `group` numbers them in row-major order.
  const auto group_of = [&](std::int64_t index) {
    std::int64_t group = 0, kept_stride = 1;
    for (int a = rank - 1; a >= 0; --a) {
      const std::int64_t extent = weight.dim(a), position = index % extent;
      index /= extent;
      if (!reduced[static_cast<std::size_t>(a)]) group += position * kept_stride, kept_stride *= extent;
    }
    return group;
  };
  std::vector<double> norms(static_cast<std::size_t>(weight.size()), 0.0);
  for (std::int64_t i = 0; i < weight.size(); ++i)
    norms[static_cast<std::size_t>(group_of(i))] += static_cast<double>(weight[i]) * weight[i];
  for (double& norm : norms) norm = std::sqrt(norm);
  for (std::int64_t i = 0; i < weight.size(); ++i) {
    const double norm = norms[static_cast<std::size_t>(group_of(i))];
    const double desired =
        kind == Kind::unit_norm ? 1.0 : rate * std::clamp(norm, min_value, max_value) + (1.0 - rate) * norm;
    weight[i] = static_cast<float>(weight[i] * (desired / (kEpsilon + norm)));
  }
}

json Constraint::config() const {
  const json axis = axes_as_list || axes.size() != 1 ? json(axes) : json(axes.front());
  switch (kind) {
    case Kind::max_norm:
      return {{"class_name", "MaxNorm"}, {"config", {{"max_value", max_value}, {"axis", axis}}}};
    case Kind::non_neg:
      return {{"class_name", "NonNeg"}, {"config", json::object()}};
    case Kind::unit_norm:
      return {{"class_name", "UnitNorm"}, {"config", {{"axis", axis}}}};
    case Kind::min_max_norm:
      break;
  }
  return {{"class_name", "MinMaxNorm"},
          {"config", {{"min_value", min_value}, {"max_value", max_value}, {"rate", rate}, {"axis", axis}}}};
}

Constraint MaxNorm(double max_value, int axis) {
  return {.kind = Constraint::Kind::max_norm, .max_value = max_value, .axes = {axis}};
}
Constraint NonNeg() {
  return {.kind = Constraint::Kind::non_neg};
}
Constraint UnitNorm(int axis) {
  return {.kind = Constraint::Kind::unit_norm, .axes = {axis}};
}
Constraint MinMaxNorm(double min_value, double max_value, double rate, int axis) {
  return {.kind = Constraint::Kind::min_max_norm,
          .min_value = min_value,
          .max_value = max_value,
          .rate = rate,
          .axes = {axis}};
}

namespace {

// Every name a Keras era resolves for a constraint: class names, their snake_case forms and Keras 1/2's
// aliases (maxnorm, nonneg, unitnorm).
std::optional<Constraint::Kind> kind_named(const std::string& name) {
  using Kind = Constraint::Kind;
  if (name == "MaxNorm" || name == "max_norm" || name == "maxnorm") return Kind::max_norm;
  if (name == "NonNeg" || name == "non_neg" || name == "nonneg") return Kind::non_neg;
  if (name == "UnitNorm" || name == "unit_norm" || name == "unitnorm") return Kind::unit_norm;
  if (name == "MinMaxNorm" || name == "min_max_norm") return Kind::min_max_norm;
  return std::nullopt;
}

// `what`: "constraint" for a name, "constraint class" for an object's class_name.
[[noreturn]] void unknown(const char* what, const std::string& name, std::string_view where) {
  if (name == "RadialConstraint" || name == "radial_constraint")
    fail(where, ": tf.keras's RadialConstraint is not supported (it constrains 2-D convolution kernels)");
  fail(where, ": unknown ", what, " '", name, "' (known: MaxNorm, NonNeg, UnitNorm, MinMaxNorm and their ",
       "snake_case names, maxnorm, nonneg, unitnorm)");
}

}  // namespace

std::optional<Constraint> constraint_from_config(const json& config, std::string_view where) {
  if (config.is_null()) return std::nullopt;
  if (config.is_string()) {
    const std::string name = config.get<std::string>();
    const std::optional<Constraint::Kind> kind = kind_named(name);
    if (!kind) unknown("constraint", name, where);
    return from_fields(*kind, json::object(), where);
  }
  check(config.is_object(), where,
        ": a constraint must be null, a name or {\"class_name\": ..., \"config\": {...}}, ", "received ",
        config.dump());
  if (!config.contains("class_name") && config.contains("name") && config.at("name").is_string()) {
    // Keras 1 wrote the arguments beside the class name, MaxNorm's bound as m, MinMaxNorm's as low and high.
    const std::string name = config.at("name").get<std::string>();
    const std::optional<Constraint::Kind> kind = kind_named(name);
    if (!kind) unknown("constraint class", name, where);
    json fields = json::object();
    for (const auto& [key, value] : config.items()) {
      if (key == "name") continue;
      const std::string renamed = key == "m" || key == "high" ? "max_value"
                                  : key == "low"              ? "min_value"
                                                              : key;
      fields[renamed] = value;
    }
    return from_fields(*kind, fields, where);
  }
  check(config.contains("class_name") && config.at("class_name").is_string(), where,
        ": a constraint must be null, a name or {\"class_name\": ..., \"config\": {...}}, received ",
        config.dump());
  const std::string class_name = config.at("class_name").get<std::string>();
  const std::optional<Constraint::Kind> kind = kind_named(class_name);
  if (!kind) unknown("constraint class", class_name, where);
  const json fields =
      config.contains("config") && !config.at("config").is_null() ? config.at("config") : json::object();
  return from_fields(*kind, fields, where);
}

void check_constraint(const std::optional<Constraint>& constraint, std::string_view where) {
  constraint_from_config(constraint_config(constraint), where);
}

json constraint_config(const std::optional<Constraint>& constraint) {
  return constraint ? constraint->config() : json(nullptr);
}

}  // namespace rnnkit
