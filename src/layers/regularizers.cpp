#include "rnnkit/regularizers.h"

#include <cmath>

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

Regularizer from_fields(Regularizer::Kind kind, const json& config, std::string_view where) {
  check(config.is_object(), where, ": a regularizer's 'config' must be an object, received ", config.dump());
  // Keras 2's L1 and L2 also take their factor as 'l'.
  const char* own_key = kind == Regularizer::Kind::l1 ? "l1" : "l2";
  for (const auto& [key, value] : config.items()) {
    const bool known =
        kind == Regularizer::Kind::l1_l2 ? (key == "l1" || key == "l2") : (key == own_key || key == "l");
    check(known, where, ": unknown regularizer field '", key, "' in ", config.dump());
  }
  Regularizer regularizer{.kind = kind, .l1 = factor(config, "l1", where), .l2 = factor(config, "l2", where)};
  if (kind == Regularizer::Kind::l1_l2) return regularizer;
  // A bare L1 or L2 defaults to 0.01, as Keras's.
  const double value = config.contains(own_key) ? factor(config, own_key, where)
                       : config.contains("l")   ? factor(config, "l", where)
                                                : 0.01;
  (kind == Regularizer::Kind::l1 ? regularizer.l1 : regularizer.l2) = value;
  return regularizer;
}

}  // namespace

double Regularizer::penalty(std::span<const float> values) const {
  double absolute = 0.0, squares = 0.0;
  for (const float v : values) {
    absolute += std::abs(v);
    squares += static_cast<double>(v) * v;
  }
  return l1 * absolute + l2 * squares;
}

void Regularizer::add_gradient(std::span<const float> values, std::span<float> grads, double scale) const {
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

std::optional<Regularizer> regularizer_from_config(const json& config, std::string_view where) {
  if (config.is_null()) return std::nullopt;
  if (config.is_string()) {
    const std::string name = config.get<std::string>();
    if (name == "l1") return L1();
    if (name == "l2") return L2();
    // Keras 3 builds the class L1L2(), whose factors default to 0 (tf.keras 2 resolves this name to the
    // function l1_l2 and fails when it first computes the penalty).
    if (name == "l1_l2") return L1L2(0.0, 0.0);
    fail(where, ": unknown regularizer '", name,
         "' (known: l1, l2, l1_l2, or a {\"class_name\": ...} object)");
  }
  check(config.is_object(), where, ": a regularizer must be null, a name or an object, received ",
        config.dump());
  if (!config.contains("class_name") && config.value("name", json()) == "L1L2Regularizer") {
    json fields = config;  // Keras 1 wrote the factors beside the name
    fields.erase("name");
    return from_fields(Regularizer::Kind::l1_l2, fields, where);
  }
  check(config.contains("class_name") && config.at("class_name").is_string(), where,
        ": a regularizer object needs a 'class_name', received ", config.dump());
  const std::string class_name = config.at("class_name").get<std::string>();
  const json fields = config.contains("config") ? config.at("config") : json::object();
  if (class_name == "L1") return from_fields(Regularizer::Kind::l1, fields, where);
  if (class_name == "L2") return from_fields(Regularizer::Kind::l2, fields, where);
  if (class_name == "L1L2") return from_fields(Regularizer::Kind::l1_l2, fields, where);
  fail(where, ": unknown regularizer class '", class_name, "' (known: L1, L2, L1L2)");
}

void check_regularizer(const std::optional<Regularizer>& regularizer, std::string_view where) {
  regularizer_from_config(regularizer_config(regularizer), where);
}

json regularizer_config(const std::optional<Regularizer>& regularizer) {
  return regularizer ? regularizer->config() : json(nullptr);
}

}  // namespace rnnkit
