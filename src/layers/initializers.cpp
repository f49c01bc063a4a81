#include "layers/initializers.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "rnnkit/error.h"

namespace rnnkit {
namespace {

using nlohmann::json;

enum class Kind {
  zeros,
  ones,
  constant,
  random_normal,
  random_uniform,
  truncated_normal,
  variance_scaling,
  orthogonal,
  identity,
  glorot_uniform,
  glorot_normal,
  he_uniform,
  he_normal,
  lecun_uniform,
  lecun_normal,
  stft,
};

struct Name {
  std::string_view name;
  Kind kind;
};

// Every name a Keras era wrote or resolves for a built-in initializer: class names, their snake_case
// forms, Keras 1/2's aliases (zero, one, normal, uniform), tf.keras 2's V2 compatibility names, and Keras
// 3.0-3.6's OrthogonalInitializer (its class name then) and IdentityInitializer (its first exported name).
constexpr std::array<Name, 61> kNames{{
    {"Zeros", Kind::zeros},
    {"zeros", Kind::zeros},
    {"zero", Kind::zeros},
    {"ZerosV2", Kind::zeros},
    {"Ones", Kind::ones},
    {"ones", Kind::ones},
    {"one", Kind::ones},
    {"OnesV2", Kind::ones},
    {"Constant", Kind::constant},
    {"constant", Kind::constant},
    {"ConstantV2", Kind::constant},
    {"RandomNormal", Kind::random_normal},
    {"random_normal", Kind::random_normal},
    {"normal", Kind::random_normal},
    {"RandomNormalV2", Kind::random_normal},
    {"RandomUniform", Kind::random_uniform},
    {"random_uniform", Kind::random_uniform},
    {"uniform", Kind::random_uniform},
    {"RandomUniformV2", Kind::random_uniform},
    {"TruncatedNormal", Kind::truncated_normal},
    {"truncated_normal", Kind::truncated_normal},
    {"TruncatedNormalV2", Kind::truncated_normal},
    {"VarianceScaling", Kind::variance_scaling},
    {"variance_scaling", Kind::variance_scaling},
    {"VarianceScalingV2", Kind::variance_scaling},
    {"Orthogonal", Kind::orthogonal},
    {"orthogonal", Kind::orthogonal},
    {"OrthogonalV2", Kind::orthogonal},
    {"OrthogonalInitializer", Kind::orthogonal},
    {"orthogonal_initializer", Kind::orthogonal},
    {"Identity", Kind::identity},
    {"identity", Kind::identity},
    {"IdentityV2", Kind::identity},
    {"IdentityInitializer", Kind::identity},
    {"GlorotUniform", Kind::glorot_uniform},
    {"glorot_uniform", Kind::glorot_uniform},
    {"GlorotUniformV2", Kind::glorot_uniform},
    {"glorot_uniformV2", Kind::glorot_uniform},
    {"GlorotNormal", Kind::glorot_normal},
    {"glorot_normal", Kind::glorot_normal},
    {"GlorotNormalV2", Kind::glorot_normal},
    {"glorot_normalV2", Kind::glorot_normal},
    {"HeUniform", Kind::he_uniform},
    {"he_uniform", Kind::he_uniform},
    {"HeUniformV2", Kind::he_uniform},
    {"he_uniformV2", Kind::he_uniform},
    {"HeNormal", Kind::he_normal},
    {"he_normal", Kind::he_normal},
    {"HeNormalV2", Kind::he_normal},
    {"he_normalV2", Kind::he_normal},
    {"LecunUniform", Kind::lecun_uniform},
    {"lecun_uniform", Kind::lecun_uniform},
    {"LecunUniformV2", Kind::lecun_uniform},
    {"lecun_uniformV2", Kind::lecun_uniform},
    {"LecunNormal", Kind::lecun_normal},
    {"lecun_normal", Kind::lecun_normal},
    {"LecunNormalV2", Kind::lecun_normal},
    {"lecun_normalV2", Kind::lecun_normal},
    {"STFT", Kind::stft},
    {"stft", Kind::stft},
    {"STFTInitializer", Kind::stft},
}};

// The class name tf.keras 2 and Keras 3.7+ both write for each kind.
std::string_view class_of(Kind kind) {
  switch (kind) {
    case Kind::zeros:
      return "Zeros";
    case Kind::ones:
      return "Ones";
    case Kind::constant:
      return "Constant";
    case Kind::random_normal:
      return "RandomNormal";
    case Kind::random_uniform:
      return "RandomUniform";
    case Kind::truncated_normal:
      return "TruncatedNormal";
    case Kind::variance_scaling:
      return "VarianceScaling";
    case Kind::orthogonal:
      return "Orthogonal";
    case Kind::identity:
      return "Identity";
    case Kind::glorot_uniform:
      return "GlorotUniform";
    case Kind::glorot_normal:
      return "GlorotNormal";
    case Kind::he_uniform:
      return "HeUniform";
    case Kind::he_normal:
      return "HeNormal";
    case Kind::lecun_uniform:
      return "LecunUniform";
    case Kind::lecun_normal:
      return "LecunNormal";
    case Kind::stft:
      return "STFT";
  }
  return "";
}

std::optional<Kind> kind_of(std::string_view name) {
  for (const Name& entry : kNames)
    if (entry.name == name) return entry.kind;
  return std::nullopt;
}

// Keras's defaults for each class, as its get_config writes them.
json default_config(Kind kind) {
  switch (kind) {
    case Kind::zeros:
    case Kind::ones:
      return json::object();
    case Kind::constant:
      return {{"value", 0.0}};
    case Kind::random_normal:
    case Kind::truncated_normal:
      return {{"mean", 0.0}, {"stddev", 0.05}, {"seed", nullptr}};
    case Kind::random_uniform:
      return {{"minval", -0.05}, {"maxval", 0.05}, {"seed", nullptr}};
    case Kind::variance_scaling:
      return {{"scale", 1.0}, {"mode", "fan_in"}, {"distribution", "truncated_normal"}, {"seed", nullptr}};
    case Kind::orthogonal:
      return {{"gain", 1.0}, {"seed", nullptr}};
    case Kind::identity:
      return {{"gain", 1.0}};
    case Kind::stft:
      return {{"side", "real"}, {"window", "hann"}, {"scaling", "density"}, {"periodic", false}};
    default:
      return {{"seed", nullptr}};
  }
}

// What an initializer config asks for, its arguments read and checked.
struct Spec {
  Kind kind = Kind::zeros;
  double mean = 0.0, stddev = 0.05;                       // RandomNormal, TruncatedNormal
  double minval = -0.05, maxval = 0.05;                   // RandomUniform
  double value = 0.0;                                     // Constant
  double gain = 1.0;                                      // Orthogonal, Identity
  double scale = 1.0;                                     // VarianceScaling and the classes built on it
  std::string mode = "fan_in";                            // fan_in, fan_out, fan_avg
  std::string distribution = "truncated_normal";          // uniform, truncated_normal, untruncated_normal
  std::vector<std::int64_t> input_axes{}, output_axes{};  // Keras 3.15: both given, the fans are their sizes
};

class Arguments {
 public:
  Arguments(const json& options, std::string class_name, std::string_view where)
      : options_(options), class_name_(std::move(class_name)), where_(where) {
    check(options.is_object(), where_, ": initializer ", class_name_,
          "'s 'config' must be an object, received ", options.dump());
  }

  double number(const char* key, double fallback) const {
    const auto found = options_.find(key);
    if (found == options_.end() || found->is_null()) return fallback;
    check(found->is_number(), where_, ": initializer ", class_name_, " field '", key,
          "' must be a number, received ", found->dump());
    return found->get<double>();
  }

  std::string text(const char* key, const std::string& fallback) const {
    const auto found = options_.find(key);
    if (found == options_.end() || found->is_null()) return fallback;
    check(found->is_string(), where_, ": initializer ", class_name_, " field '", key,
          "' must be a string, received ", found->dump());
    return found->get<std::string>();
  }

  std::vector<std::int64_t> axes(const char* key) const {
    const auto found = options_.find(key);
    if (found == options_.end() || found->is_null()) return {};
    const json list = found->is_array() ? *found : json::array({*found});
    std::vector<std::int64_t> result;
    for (const json& axis : list) {
      check(axis.is_number_integer(), where_, ": initializer ", class_name_, " field '", key,
            "' must be a list of axes, received ", found->dump());
      result.push_back(axis.get<std::int64_t>());
    }
    return result;
  }

  const std::string& where() const { return where_; }

 private:
  const json& options_;
  std::string class_name_;
  std::string where_;
};

Spec read_spec(Kind kind, const json& options, const std::string& class_name, std::string_view where) {
  const Arguments args(options, class_name, where);
  Spec spec{.kind = kind};
  const auto scaled = [&](double scale, const char* mode, const char* distribution) {
    spec.kind = Kind::variance_scaling;
    spec.scale = scale;
    spec.mode = mode;
    spec.distribution = distribution;
  };
  switch (kind) {
    case Kind::constant:
      spec.value = args.number("value", 0.0);
      break;
    case Kind::random_normal:
    case Kind::truncated_normal:
      spec.mean = args.number("mean", 0.0);
      spec.stddev = args.number("stddev", 0.05);
      break;
    case Kind::random_uniform:
      spec.minval = args.number("minval", -0.05);
      spec.maxval = args.number("maxval", 0.05);
      break;
    case Kind::orthogonal:
    case Kind::identity:
      spec.gain = args.number("gain", 1.0);
      break;
    case Kind::variance_scaling: {
      spec.scale = args.number("scale", 1.0);
      check(spec.scale > 0.0, where, ": initializer ", class_name,
            " field 'scale' must be positive, received ", spec.scale);
      spec.mode = args.text("mode", "fan_in");
      check(spec.mode == "fan_in" || spec.mode == "fan_out" || spec.mode == "fan_avg", where,
            ": initializer ", class_name, " mode '", spec.mode, "' is not one of fan_in, fan_out, fan_avg");
      std::string distribution = args.text("distribution", "truncated_normal");
      std::transform(distribution.begin(), distribution.end(), distribution.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      // Keras 2.2+, tf.keras 2 and Keras 3 read "normal" as the truncated normal (Keras 2.0-2.1's own
      // "normal" lacked the 0.8796 correction; the loader rescales those configs).
      if (distribution == "normal") distribution = "truncated_normal";
      check(distribution == "uniform" || distribution == "truncated_normal" ||
                distribution == "untruncated_normal",
            where, ": initializer ", class_name, " distribution '", distribution,
            "' is not one of uniform, normal, truncated_normal, untruncated_normal");
      spec.distribution = distribution;
      spec.input_axes = args.axes("input_axes");
      spec.output_axes = args.axes("output_axes");
      break;
    }
    // Keras's functions and classes built on VarianceScaling, with the arguments they fix.
    case Kind::glorot_uniform:
      scaled(1.0, "fan_avg", "uniform");
      break;
    case Kind::glorot_normal:
      scaled(1.0, "fan_avg", "truncated_normal");
      break;
    case Kind::he_uniform:
      scaled(2.0, "fan_in", "uniform");
      break;
    case Kind::he_normal:
      scaled(2.0, "fan_in", "truncated_normal");
      break;
    case Kind::lecun_uniform:
      scaled(1.0, "fan_in", "uniform");
      break;
    case Kind::lecun_normal:
      scaled(1.0, "fan_in", "truncated_normal");
      break;
    default:
      break;
  }
  return spec;
}

// Keras's fans: the last two axes are (fan_in, fan_out), earlier ones are a receptive field.
std::pair<double, double> fans(const Shape& shape) {
  if (shape.empty()) return {1.0, 1.0};
  if (shape.size() == 1) return {double(shape[0]), double(shape[0])};
  double receptive = 1.0;
  for (std::size_t i = 0; i + 2 < shape.size(); ++i) receptive *= double(shape[i]);
  return {double(shape[shape.size() - 2]) * receptive, double(shape.back()) * receptive};
}

// Keras 3.15's compute_fans(input_axes=, output_axes=): the product of the sizes along each list.
std::optional<std::pair<double, double>> fans_along(const Spec& spec, const Shape& shape) {
  if (spec.input_axes.empty() || spec.output_axes.empty()) return std::nullopt;
  const auto product = [&](const std::vector<std::int64_t>& axes) -> std::optional<double> {
    double result = 1.0;
    for (std::int64_t axis : axes) {
      const std::int64_t rank = static_cast<std::int64_t>(shape.size());
      const std::int64_t resolved = axis < 0 ? axis + rank : axis;
      if (resolved < 0 || resolved >= rank) return std::nullopt;
      result *= double(shape[static_cast<std::size_t>(resolved)]);
    }
    return result;
  };
  const std::optional<double> in = product(spec.input_axes), out = product(spec.output_axes);
  if (!in || !out) return std::nullopt;
  return std::pair{*in, *out};
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

void fill_uniform(Tensor& weight, Rng& rng, double low, double high) {
  for (float& v : weight.values()) v = static_cast<float>(rng.uniform(low, high));
}

void fill_normal(Tensor& weight, Rng& rng, double mean, double stddev) {
  for (float& v : weight.values()) v = static_cast<float>(mean + stddev * rng.normal());
}

// Keras's truncated normal: draws further than two standard deviations from the mean are drawn again.
void fill_truncated_normal(Tensor& weight, Rng& rng, double mean, double stddev) {
  for (float& v : weight.values()) {
    double sample = rng.normal();
    while (std::abs(sample) > 2.0) sample = rng.normal();
    v = static_cast<float>(mean + stddev * sample);
  }
}

thread_local int weights_follow_depth = 0;

// Why `spec` cannot fill a weight of `shape`, or nothing when it can.
std::optional<std::string> unavailable(const Spec& spec, const Shape& shape) {
  if (spec.kind == Kind::stft)
    return "Keras's STFT fills 3-D convolution kernels (frame_length, channels, frequency bins) only";
  if (spec.kind == Kind::identity && shape.size() != 2) return "Keras's Identity fills 2-D weights only";
  if (spec.kind == Kind::orthogonal && shape.size() < 2)
    return "Keras's Orthogonal fills weights of two or more dimensions only";
  return std::nullopt;
}

void fill(const Spec& spec, Tensor& weight, Rng& rng) {
  switch (spec.kind) {
    case Kind::zeros:
      return fill_uniform(weight, rng, 0.0, 0.0);
    case Kind::ones:
    case Kind::constant: {
      const float value = spec.kind == Kind::ones ? 1.0f : static_cast<float>(spec.value);
      for (float& v : weight.values()) v = value;
      return;
    }
    case Kind::random_normal:
      return fill_normal(weight, rng, spec.mean, spec.stddev);
    case Kind::truncated_normal:
      return fill_truncated_normal(weight, rng, spec.mean, spec.stddev);
    case Kind::random_uniform:
      return fill_uniform(weight, rng, spec.minval, spec.maxval);
    case Kind::orthogonal:
      return fill_orthogonal(weight, rng, spec.gain);
    case Kind::identity: {
      const std::int64_t rows = weight.dim(0), cols = weight.dim(1);
      for (std::int64_t r = 0; r < rows; ++r)
        for (std::int64_t c = 0; c < cols; ++c)
          weight[r * cols + c] = r == c ? static_cast<float>(spec.gain) : 0.0f;
      return;
    }
    default:
      break;
  }
  // VarianceScaling and the classes built on it.
  const auto [fan_in, fan_out] = fans_along(spec, weight.shape()).value_or(fans(weight.shape()));
  const double fan = spec.mode == "fan_in"    ? fan_in
                     : spec.mode == "fan_out" ? fan_out
                                              : (fan_in + fan_out) / 2.0;
  const double variance = spec.scale / std::max(1.0, fan);
  if (spec.distribution == "uniform") {
    const double limit = std::sqrt(3.0 * variance);
    return fill_uniform(weight, rng, -limit, limit);
  }
  if (spec.distribution == "untruncated_normal") return fill_normal(weight, rng, 0.0, std::sqrt(variance));
  // 0.8796... is the standard deviation of a standard normal truncated at ±2: the draws keep `variance`.
  fill_truncated_normal(weight, rng, 0.0, std::sqrt(variance) / 0.87962566103423978);
}

std::string name_of(const json& config) {
  return config.is_string() ? config.get<std::string>() : config.at("class_name").get<std::string>();
}

}  // namespace

json initializer_config(const json& name_or_config, std::string_view where) {
  if (name_or_config.is_string()) {
    const std::string name = name_or_config.get<std::string>();
    const std::optional<Kind> kind = kind_of(name);
    if (!kind) return name_or_config;  // a custom initializer's name: kept, refused only when used
    return {{"class_name", class_of(*kind)}, {"config", default_config(*kind)}};
  }
  check(name_or_config.is_object() && name_or_config.contains("class_name") &&
            name_or_config.at("class_name").is_string(),
        where, ": an initializer must be a name or {\"class_name\": ..., \"config\": {...}}, received ",
        name_or_config.dump());
  json config = name_or_config;
  if (!config.contains("config") || config.at("config").is_null()) config["config"] = json::object();
  const std::string class_name = config.at("class_name").get<std::string>();
  if (const std::optional<Kind> kind = kind_of(class_name))
    read_spec(*kind, config.at("config"), class_name, where);  // checks the arguments
  return config;
}

void initialize(const json& config, Tensor& weight, Rng& rng, std::string_view where) {
  const std::string class_name = name_of(config);
  const std::optional<Kind> kind = kind_of(class_name);
  const json options = config.is_object() ? config.at("config") : json::object();
  std::optional<std::string> reason = "rnnkit knows no initializer of that name (a custom one?)";
  Spec spec;
  if (kind) {
    spec = read_spec(*kind, options, class_name, where);
    reason = unavailable(spec, weight.shape());
  }
  if (reason) {
    check(weights_follow_depth > 0, where, ": cannot create a weight of shape ", shape_string(weight.shape()),
          " with initializer '", class_name, "': ", *reason,
          ". A model file that holds the weights loads; creating them afresh needs another initializer");
    std::fill(weight.values().begin(), weight.values().end(), 0.0f);
    return;
  }
  fill(spec, weight, rng);
}

WeightsFollowFromFile::WeightsFollowFromFile() {
  ++weights_follow_depth;
}
WeightsFollowFromFile::~WeightsFollowFromFile() {
  --weights_follow_depth;
}

json initializer_for_era(const json& config, KerasEra era) {
  if (!config.is_string() &&
      !(config.is_object() && config.contains("class_name") && config.at("class_name").is_string()))
    return config;
  const std::string name = name_of(config);
  const std::optional<Kind> kind = kind_of(name);
  if (!kind) return config;
  std::string renamed = name;
  if (era == KerasEra::tf_keras2 && (name == "OrthogonalInitializer" || name == "IdentityInitializer"))
    renamed = class_of(*kind);
  if (era == KerasEra::tf_keras2 && name == "orthogonal_initializer") renamed = "orthogonal";
  if (era == KerasEra::keras3 && name.ends_with("V2")) renamed = class_of(*kind);
  if (config.is_string()) return renamed;
  json result = config;
  result["class_name"] = renamed;
  if (era == KerasEra::keras3 && result.contains("config") && result["config"].is_object())
    result["config"].erase("dtype");  // TF1's initializers wrote it; Keras 3's take no such argument
  if (era == KerasEra::tf_keras2 && result.contains("config") && result["config"].is_object())
    for (const char* key : {"input_axes", "output_axes"})  // Keras 3.15's; tf.keras 2 has none
      if (result["config"].contains(key) && result["config"][key].is_null()) result["config"].erase(key);
  return result;
}

json initializers_for_era(const json& config, KerasEra era) {
  if (config.is_array()) {
    json result = json::array();
    for (const json& item : config) result.push_back(initializers_for_era(item, era));
    return result;
  }
  if (!config.is_object()) return config;
  json result = json::object();
  for (const auto& [key, item] : config.items())
    result[key] =
        key.ends_with("_initializer") ? initializer_for_era(item, era) : initializers_for_era(item, era);
  return result;
}

}  // namespace rnnkit
