#include "layers/initializers.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <utility>
#include <vector>

#include "rnnkit/error.h"

namespace rnnkit {
namespace {

using nlohmann::json;

constexpr std::array<std::pair<std::string_view, std::string_view>, 13> kShortcuts{{
    {"zeros", "Zeros"},
    {"ones", "Ones"},
    {"constant", "Constant"},
    {"glorot_uniform", "GlorotUniform"},
    {"glorot_normal", "GlorotNormal"},
    {"he_uniform", "HeUniform"},
    {"he_normal", "HeNormal"},
    {"lecun_uniform", "LecunUniform"},
    {"lecun_normal", "LecunNormal"},
    {"orthogonal", "Orthogonal"},
    {"random_uniform", "RandomUniform"},
    {"random_normal", "RandomNormal"},
    {"uniform", "RandomUniform"},
}};

double number_or(const json& config, const char* key, double fallback) {
  const auto found = config.find(key);
  if (found == config.end() || found->is_null()) return fallback;
  return found->get<double>();
}

// Keras's fans: the last two axes are (fan_in, fan_out), earlier ones are a receptive field.
std::pair<double, double> fans(const Shape& shape) {
  if (shape.empty()) return {1.0, 1.0};
  if (shape.size() == 1) return {double(shape[0]), double(shape[0])};
  double receptive = 1.0;
  for (std::size_t i = 0; i + 2 < shape.size(); ++i) receptive *= double(shape[i]);
  return {double(shape[shape.size() - 2]) * receptive, double(shape.back()) * receptive};
}

// Keras's Orthogonal: QR of a normal matrix with the sign of R's diagonal folded in; rows of the result
// are orthonormal when it is wider than tall, columns otherwise. Modified Gram-Schmidt in double gives
// the same Q as Householder QR up to rounding.
void fill_orthogonal(Tensor& weight, Rng& rng, double gain) {
  const std::int64_t cols = weight.shape().empty() ? 1 : weight.shape().back();
  const std::int64_t rows = cols == 0 ? 0 : weight.size() / cols;
  const std::int64_t tall = std::max(rows, cols), narrow = std::min(rows, cols);
  std::vector<double> q(static_cast<std::size_t>(tall * narrow));  // column j at q[j*tall ...]
  for (double& v : q) v = rng.normal();
  for (std::int64_t j = 0; j < narrow; ++j) {
    double* column = &q[static_cast<std::size_t>(j * tall)];
    for (std::int64_t k = 0; k < j; ++k) {
      const double* previous = &q[static_cast<std::size_t>(k * tall)];
      double dot = 0.0;
      for (std::int64_t i = 0; i < tall; ++i) dot += previous[i] * column[i];
      for (std::int64_t i = 0; i < tall; ++i) column[i] -= dot * previous[i];
    }
    double norm = 0.0;
    for (std::int64_t i = 0; i < tall; ++i) norm += column[i] * column[i];
    norm = std::sqrt(norm);
    for (std::int64_t i = 0; i < tall; ++i) column[i] /= norm;
  }
  for (std::int64_t r = 0; r < rows; ++r)
    for (std::int64_t c = 0; c < cols; ++c) {
      const double value = rows >= cols ? q[static_cast<std::size_t>(c * tall + r)]
                                        : q[static_cast<std::size_t>(r * tall + c)];
      weight[r * cols + c] = static_cast<float>(gain * value);
    }
}

void fill_uniform(Tensor& weight, Rng& rng, double limit) {
  for (float& v : weight.values()) v = static_cast<float>(rng.uniform(-limit, limit));
}

// Keras's VarianceScaling with a truncated normal (cut at two standard deviations, rescaled).
void fill_truncated_normal(Tensor& weight, Rng& rng, double variance) {
  const double stddev = std::sqrt(variance) / 0.87962566103423978;
  for (float& v : weight.values()) {
    double sample = rng.normal();
    while (std::abs(sample) > 2.0) sample = rng.normal();
    v = static_cast<float>(stddev * sample);
  }
}

void fill(const json& config, Tensor& weight, Rng& rng, std::string_view where);

}  // namespace

json initializer_config(const json& name_or_config, std::string_view where) {
  if (name_or_config.is_string()) {
    const std::string name = name_or_config.get<std::string>();
    for (const auto& [shortcut, class_name] : kShortcuts)
      if (shortcut == name) {
        json config = json::object();
        if (class_name == "RandomUniform") config = {{"minval", -0.05}, {"maxval", 0.05}};
        if (class_name == "RandomNormal") config = {{"mean", 0.0}, {"stddev", 0.05}};
        if (class_name == "Orthogonal") config = {{"gain", 1.0}};
        if (class_name == "Constant") config = {{"value", 0.0}};
        if (class_name != "Zeros" && class_name != "Ones" && class_name != "Constant") config["seed"] = nullptr;
        return {{"class_name", class_name}, {"config", config}};
      }
    fail(where, ": unknown initializer '", name, "'");
  }
  check(name_or_config.is_object() && name_or_config.contains("class_name"), where,
        ": an initializer must be a name or {\"class_name\": ..., \"config\": {...}}");
  const std::string class_name = name_or_config.at("class_name").get<std::string>();
  const bool known = std::any_of(kShortcuts.begin(), kShortcuts.end(),
                                 [&](const auto& entry) { return entry.second == class_name; }) ||
                     class_name == "VarianceScaling";
  check(known, where, ": unknown initializer class '", class_name, "'");
  json config = name_or_config;
  if (!config.contains("config")) config["config"] = json::object();
  return config;
}

void initialize(const json& config, Tensor& weight, Rng& rng, std::string_view where) {
  try {
    fill(config, weight, rng, where);
  } catch (const json::exception& error) {
    fail(where, ": malformed initializer ", config.dump(), ": ", error.what());
  }
}

namespace {

void fill(const json& config, Tensor& weight, Rng& rng, std::string_view where) {
  const std::string class_name = config.at("class_name").get<std::string>();
  const json& options = config.at("config");
  const auto [fan_in, fan_out] = fans(weight.shape());
  if (class_name == "Zeros") return fill_uniform(weight, rng, 0.0);
  if (class_name == "Ones" || class_name == "Constant") {
    const float value = class_name == "Ones" ? 1.0f : static_cast<float>(number_or(options, "value", 0.0));
    for (float& v : weight.values()) v = value;
    return;
  }
  if (class_name == "GlorotUniform") return fill_uniform(weight, rng, std::sqrt(6.0 / (fan_in + fan_out)));
  if (class_name == "HeUniform") return fill_uniform(weight, rng, std::sqrt(6.0 / fan_in));
  if (class_name == "LecunUniform") return fill_uniform(weight, rng, std::sqrt(3.0 / fan_in));
  if (class_name == "GlorotNormal") return fill_truncated_normal(weight, rng, 2.0 / (fan_in + fan_out));
  if (class_name == "HeNormal") return fill_truncated_normal(weight, rng, 2.0 / fan_in);
  if (class_name == "LecunNormal") return fill_truncated_normal(weight, rng, 1.0 / fan_in);
  if (class_name == "VarianceScaling") {
    const std::string mode = options.value("mode", std::string("fan_in"));
    const std::string distribution = options.value("distribution", std::string("truncated_normal"));
    const double fan = mode == "fan_in" ? fan_in : mode == "fan_out" ? fan_out : (fan_in + fan_out) / 2.0;
    check(mode == "fan_in" || mode == "fan_out" || mode == "fan_avg", where, ": VarianceScaling mode '", mode,
          "' is not one of fan_in, fan_out, fan_avg");
    const double variance = number_or(options, "scale", 1.0) / std::max(1.0, fan);
    if (distribution == "uniform") return fill_uniform(weight, rng, std::sqrt(3.0 * variance));
    if (distribution == "truncated_normal" || distribution == "normal")
      return fill_truncated_normal(weight, rng, variance);
    if (distribution == "untruncated_normal") {
      for (float& v : weight.values()) v = static_cast<float>(std::sqrt(variance) * rng.normal());
      return;
    }
    fail(where, ": VarianceScaling distribution '", distribution, "' is not supported");
  }
  if (class_name == "Orthogonal") return fill_orthogonal(weight, rng, number_or(options, "gain", 1.0));
  if (class_name == "RandomUniform") {
    const double low = number_or(options, "minval", -0.05), high = number_or(options, "maxval", 0.05);
    for (float& v : weight.values()) v = static_cast<float>(rng.uniform(low, high));
    return;
  }
  if (class_name == "RandomNormal") {
    const double mean = number_or(options, "mean", 0.0), stddev = number_or(options, "stddev", 0.05);
    for (float& v : weight.values()) v = static_cast<float>(mean + stddev * rng.normal());
    return;
  }
  fail(where, ": initializer '", class_name, "' is not supported for creating weights");
}

}  // namespace

}  // namespace rnnkit
