#include "rnnkit/regularizers.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "rnnkit/error.h"

namespace rnnkit {
namespace {

using nlohmann::json;

// A penalty factor, as Keras 3's validate_float_arg takes it: a finite number, not negative.
double factor(const json& config, const char* key, std::string_view where) {
  if (!config.contains(key)) return 0.0;
  const json& value = config.at(key);
  check(value.is_number() && std::isfinite(value.get<double>()) && value.get<double>() >= 0.0, where,
        ": regularizer field '", key, "' must be a finite number >= 0, received ", value.dump());
  return value.get<double>();
}

Regularizer orthogonal_from_fields(const json& config, std::string_view where) {
  for (const auto& [key, value] : config.items())
    check(key == "factor" || key == "mode", where, ": unknown regularizer field '", key, "' in ",
          config.dump());
  const double value = config.contains("factor") ? factor(config, "factor", where) : 0.01;
  const json mode = config.value("mode", json("rows"));
  check(mode == "rows" || mode == "columns", where,
        ": OrthogonalRegularizer mode must be \"rows\" or \"columns\", received ", mode.dump());
  return OrthogonalRegularizer(value, mode.get<std::string>());
}

// `l1_l2_default`: the factors an L1L2 takes when its config leaves them out: 0 for the class L1L2, 0.01 for
// tf.keras 2's function l1_l2.
Regularizer from_fields(Regularizer::Kind kind, const json& config, std::string_view where,
                        double l1_l2_default = 0.0) {
  check(config.is_object(), where, ": a regularizer's 'config' must be an object, received ", config.dump());
  if (kind == Regularizer::Kind::orthogonal) return orthogonal_from_fields(config, where);
  // Keras 2's L1 and L2 also take their factor as 'l'.
  const char* own_key = kind == Regularizer::Kind::l1 ? "l1" : "l2";
  for (const auto& [key, value] : config.items()) {
    const bool known =
        kind == Regularizer::Kind::l1_l2 ? (key == "l1" || key == "l2") : (key == own_key || key == "l");
    check(known, where, ": unknown regularizer field '", key, "' in ", config.dump());
  }
  Regularizer regularizer{.kind = kind, .l1 = factor(config, "l1", where), .l2 = factor(config, "l2", where)};
  if (kind == Regularizer::Kind::l1_l2) {
    if (!config.contains("l1")) regularizer.l1 = l1_l2_default;
    if (!config.contains("l2")) regularizer.l2 = l1_l2_default;
    return regularizer;
  }
  // A bare L1 or L2 defaults to 0.01, as Keras's.
  const double value = config.contains(own_key) ? factor(config, own_key, where)
                       : config.contains("l")   ? factor(config, "l", where)
                                                : 0.01;
  (kind == Regularizer::Kind::l1 ? regularizer.l1 : regularizer.l2) = value;
  return regularizer;
}

// The rows (or columns) of a 2-D value, each divided by its L2 norm as tf.math.l2_normalize does (by at least
// 1e-6), with those norms.
struct UnitVectors {
  std::int64_t count = 0, length = 0;
  std::vector<double> units;  // vector i at units[i*length ...]
  std::vector<double> norms;  // the divisors
  std::int64_t index(const Tensor& value, bool rows, std::int64_t i, std::int64_t k) const {
    return rows ? i * value.dim(1) + k : k * value.dim(1) + i;
  }
};

constexpr double kMinNorm = 1e-6;

UnitVectors unit_vectors(const Tensor& value, bool rows) {
  UnitVectors result;
  result.count = rows ? value.dim(0) : value.dim(1);
  result.length = rows ? value.dim(1) : value.dim(0);
  result.units.resize(static_cast<std::size_t>(result.count * result.length));
  result.norms.resize(static_cast<std::size_t>(result.count));
  for (std::int64_t i = 0; i < result.count; ++i) {
    double squares = 0.0;
    for (std::int64_t k = 0; k < result.length; ++k) {
      const double v = value[result.index(value, rows, i, k)];
      squares += v * v;
    }
    const double norm = std::max(std::sqrt(squares), kMinNorm);
    result.norms[static_cast<std::size_t>(i)] = norm;
    for (std::int64_t k = 0; k < result.length; ++k)
      result.units[static_cast<std::size_t>(i * result.length + k)] =
          value[result.index(value, rows, i, k)] / norm;
  }
  return result;
}

double dot(const UnitVectors& vectors, std::int64_t i, std::int64_t j) {
  double sum = 0.0;
  for (std::int64_t k = 0; k < vectors.length; ++k)
    sum += vectors.units[static_cast<std::size_t>(i * vectors.length + k)] *
           vectors.units[static_cast<std::size_t>(j * vectors.length + k)];
  return sum;
}

double sign(double v) {
  return v > 0.0 ? 1.0 : (v < 0.0 ? -1.0 : 0.0);
}

void check_rank_2(const Tensor& value, std::string_view where) {
  check(value.rank() == 2, where,
        ": OrthogonalRegularizer applies to 2-D weights and outputs only, received shape ",
        shape_string(value.shape()));
}

}  // namespace

double Regularizer::penalty(const Tensor& value, std::string_view where) const {
  if (kind != Kind::orthogonal) return penalty(value.values());
  check_rank_2(value, where);
  const UnitVectors vectors = unit_vectors(value, mode == "rows");
  const double pairs = double(vectors.count) * double(vectors.count - 1);
  if (pairs == 0.0) return std::numeric_limits<double>::quiet_NaN();  // Keras's 0/0
  double sum = 0.0;
  for (std::int64_t i = 0; i < vectors.count; ++i)
    for (std::int64_t j = i + 1; j < vectors.count; ++j) sum += 2.0 * std::abs(dot(vectors, i, j));
  return factor * sum / pairs;
}

void Regularizer::add_gradient(const Tensor& value, Tensor& grads, double scale,
                               std::string_view where) const {
  if (kind != Kind::orthogonal) return add_gradient(value.values(), grads.values(), scale);
  check_rank_2(value, where);
  const bool rows = mode == "rows";
  const UnitVectors vectors = unit_vectors(value, rows);
  const double pairs = double(vectors.count) * double(vectors.count - 1);
  if (pairs == 0.0) {
    for (float& g : grads.values()) g = std::numeric_limits<float>::quiet_NaN();
    return;
  }
  // d(penalty)/d(unit i) = 2·factor/(m(m-1)) · Σ_{j≠i} sign(u_i·u_j) u_j; through u = v / |v|:
  // d/dv = (g - (g·u) u) / |v| where |v| is above the floor, g / floor below it.
  const double coefficient = 2.0 * factor / pairs;
  std::vector<double> g(static_cast<std::size_t>(vectors.length));
  for (std::int64_t i = 0; i < vectors.count; ++i) {
    std::fill(g.begin(), g.end(), 0.0);
    for (std::int64_t j = 0; j < vectors.count; ++j) {
      if (j == i) continue;
      const double s = coefficient * sign(dot(vectors, i, j));
      for (std::int64_t k = 0; k < vectors.length; ++k)
        g[static_cast<std::size_t>(k)] += s * vectors.units[static_cast<std::size_t>(j * vectors.length + k)];
    }
    const double norm = vectors.norms[static_cast<std::size_t>(i)];
    double along = 0.0;
    if (norm > kMinNorm)
      for (std::int64_t k = 0; k < vectors.length; ++k)
        along +=
            g[static_cast<std::size_t>(k)] * vectors.units[static_cast<std::size_t>(i * vectors.length + k)];
    for (std::int64_t k = 0; k < vectors.length; ++k) {
      const double unit = vectors.units[static_cast<std::size_t>(i * vectors.length + k)];
      const double d = (g[static_cast<std::size_t>(k)] - along * unit) / norm;
      grads[vectors.index(value, rows, i, k)] += static_cast<float>(scale * d);
    }
  }
}

double Regularizer::penalty(std::span<const float> values) const {
  check(kind != Kind::orthogonal, "OrthogonalRegularizer needs the weight's shape, not its values alone");
  double absolute = 0.0, squares = 0.0;
  for (const float v : values) {
    absolute += std::abs(v);
    squares += static_cast<double>(v) * v;
  }
  return l1 * absolute + l2 * squares;
}

void Regularizer::add_gradient(std::span<const float> values, std::span<float> grads, double scale) const {
  check(kind != Kind::orthogonal, "OrthogonalRegularizer needs the weight's shape, not its values alone");
  const auto l1_scale = static_cast<float>(scale * l1), l2_scale = static_cast<float>(2.0 * scale * l2);
  for (std::size_t i = 0; i < values.size(); ++i) {
    const float v = values[i];
    const float sign = v > 0.0f ? 1.0f : (v < 0.0f ? -1.0f : 0.0f);
    grads[i] += l1_scale * sign + l2_scale * v;
  }
}

json Regularizer::config() const {
  switch (kind) {
    case Kind::l1:
      return {{"class_name", "L1"}, {"config", {{"l1", l1}}}};
    case Kind::l2:
      return {{"class_name", "L2"}, {"config", {{"l2", l2}}}};
    case Kind::orthogonal:
      return {{"class_name", "OrthogonalRegularizer"}, {"config", {{"factor", factor}, {"mode", mode}}}};
    case Kind::l1_l2:
      break;
  }
  return {{"class_name", "L1L2"}, {"config", {{"l1", l1}, {"l2", l2}}}};
}

Regularizer L1(double l1) {
  return {.kind = Regularizer::Kind::l1, .l1 = l1, .l2 = 0.0};
}
Regularizer L2(double l2) {
  return {.kind = Regularizer::Kind::l2, .l1 = 0.0, .l2 = l2};
}
Regularizer L1L2(double l1, double l2) {
  return {.kind = Regularizer::Kind::l1_l2, .l1 = l1, .l2 = l2};
}
Regularizer OrthogonalRegularizer(double factor, std::string mode) {
  return {.kind = Regularizer::Kind::orthogonal, .factor = factor, .mode = std::move(mode)};
}

std::optional<Regularizer> regularizer_from_config(const json& config, std::string_view where) {
  using Kind = Regularizer::Kind;
  if (config.is_null()) return std::nullopt;
  if (config.is_string()) {
    const std::string name = config.get<std::string>();
    if (name == "l1" || name == "L1") return L1();
    if (name == "l2" || name == "L2") return L2();
    // tf.keras 2.10+ reads the name l1_l2 as L1L2(0.01, 0.01) (earlier tf.keras and Keras 2 gave the uncalled
    // function, which failed at the first penalty; Keras 3 refuses the name).
    if (name == "l1_l2") return L1L2(0.01, 0.01);
    // Keras 3's snake_case name for the class, and the class, whose factors default to 0.
    if (name == "l1l2" || name == "L1L2") return L1L2(0.0, 0.0);
    if (name == "orthogonal_regularizer" || name == "OrthogonalRegularizer") return OrthogonalRegularizer();
    fail(where, ": unknown regularizer '", name,
         "' (known: l1, l2, l1_l2, l1l2, orthogonal_regularizer, their class names, or a {\"class_name\": "
         "...} "
         "object)");
  }
  check(config.is_object(), where, ": a regularizer must be null, a name or an object, received ",
        config.dump());
  if (!config.contains("class_name") && config.contains("name") && config.at("name").is_string()) {
    // Keras 1 wrote the factors beside the class name: L1L2Regularizer (1.2), WeightRegularizer and
    // ActivityRegularizer (1.0-1.1), each l1·Σ|x| + l2·Σx².
    const std::string name = config.at("name").get<std::string>();
    check(name == "L1L2Regularizer" || name == "WeightRegularizer" || name == "ActivityRegularizer", where,
          ": Keras 1 regularizer '", name,
          "' is not supported (known: L1L2Regularizer, WeightRegularizer, ActivityRegularizer)");
    json fields = config;
    fields.erase("name");
    return from_fields(Kind::l1_l2, fields, where);
  }
  check(config.contains("class_name") && config.at("class_name").is_string(), where,
        ": a regularizer object needs a 'class_name', received ", config.dump());
  const std::string class_name = config.at("class_name").get<std::string>();
  const json fields =
      config.contains("config") && !config.at("config").is_null() ? config.at("config") : json::object();
  // Class names, Keras 3's snake_case names and tf.keras 2's module-level aliases (l1 = L1, ...).
  if (class_name == "L1" || class_name == "l1") return from_fields(Kind::l1, fields, where);
  if (class_name == "L2" || class_name == "l2") return from_fields(Kind::l2, fields, where);
  if (class_name == "L1L2" || class_name == "l1l2") return from_fields(Kind::l1_l2, fields, where);
  if (class_name == "l1_l2") return from_fields(Kind::l1_l2, fields, where, 0.01);  // the function's defaults
  if (class_name == "OrthogonalRegularizer" || class_name == "orthogonal_regularizer")
    return from_fields(Kind::orthogonal, fields, where);
  fail(where, ": unknown regularizer class '", class_name, "' (known: L1, L2, L1L2, OrthogonalRegularizer)");
}

void check_regularizer(const std::optional<Regularizer>& regularizer, std::string_view where) {
  regularizer_from_config(regularizer_config(regularizer), where);
}

json regularizer_config(const std::optional<Regularizer>& regularizer) {
  return regularizer ? regularizer->config() : json(nullptr);
}

}  // namespace rnnkit
