// The names every Keras era wrote for initializers, regularizers, constraints and layers: the files of
// tests/model_files/names (written by make_name_fixtures.py, predictions from its numpy forward pass) load,
// predict and are written back in their era's form; every initializer name draws from Keras's distribution
// for it (moments and bounds against the formulas of Keras's initializers); OrthogonalRegularizer against
// PyTorch autograd of Keras's formula (orthogonal_regularizer_oracle.py) and central differences.
#include <gtest/gtest.h>

#include <cmath>
#include <numeric>

#include "io/keras_h5.h"
#include "io/keras_zip.h"
#include "layers/initializers.h"
#include "rnnkit/rnnkit.h"
#include "test_support.h"

namespace rnnkit {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using testing::all_close;

fs::path name_files(const std::string& relative) {
  return testing::test_data("model_files/names/" + relative);
}

const json& manifest() {
  static const json value = testing::read_json(name_files("names.json"));
  return value;
}

// A nested list of numbers as a tensor.
Tensor tensor_of(const json& nested) {
  Shape shape;
  for (const json* level = &nested; level->is_array(); level = &level->at(0))
    shape.push_back(std::ssize(*level));
  std::vector<float> values;
  const auto flatten = [&](const auto& self, const json& value) -> void {
    if (value.is_array())
      for (const json& item : value) self(self, item);
    else
      values.push_back(value.get<float>());
  };
  flatten(flatten, nested);
  return Tensor(shape, values);
}

std::string message_of(const std::function<void()>& action) {
  try {
    action();
  } catch (const Error& error) {
    return error.what();
  }
  return "(no error)";
}

void expect_mentions(const std::string& message, const std::vector<std::string_view>& parts) {
  for (std::string_view part : parts)
    EXPECT_NE(message.find(part), std::string::npos) << part << " in: " << message;
}

// ---------------------------------------------------------------------------------------------------------
// Files of every era.

class KerasNamesFile : public ::testing::TestWithParam<json> {
 protected:
  void SetUp() override { clear_session(); }
};

TEST_P(KerasNamesFile, LoadsAndPredictsAsTheNumpyForwardPass) {
  const json& entry = GetParam();
  RecordProperty("era", entry.at("era").get<std::string>());
  Sequential model = load_model(name_files(entry.at("file").get<std::string>()));
  EXPECT_TRUE(
      all_close(model.predict(tensor_of(entry.at("input"))), tensor_of(entry.at("output")), 1e-5, 1e-5));
}

std::vector<json> name_entries() {
  const json& files = manifest().at("files");
  return {files.begin(), files.end()};
}

std::string entry_name(const ::testing::TestParamInfo<json>& info) {
  std::string name = info.param.at("file").get<std::string>();
  for (char& c : name)
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  return name;
}

INSTANTIATE_TEST_SUITE_P(EveryEra, KerasNamesFile, ::testing::ValuesIn(name_entries()), entry_name);

json h5_model_config(const fs::path& path) {
  const h5::Reader file = h5::Reader::open_file(path);
  return json::parse(file.string_attribute("/", "model_config"));
}

// The layer config named `name` in a Keras model config (Keras 3's wrappers included).
const json& layer_named(const json& model, const std::string& name) {
  for (const json& layer : model.at("config").at("layers"))
    if (layer.at("config").value("name", "") == name) return layer.at("config");
  throw std::runtime_error("no layer " + name);
}

TEST(KerasNamesFile, WrittenBackInTheFormOfEachEra) {
  const testing::TempFolder folder;
  const Sequential keras34 = load_model(name_files("lstm_gru_dense.keras3.4.1.keras"));
  // As .keras: Keras 3.0-3.6's names stay (every Keras 3 reads them), the custom object keeps its
  // registration.
  save_model(keras34, folder.path() / "a.keras");
  const json written3 = keras3::model_config(keras34);  // what config.json holds
  const json& lstm3 = layer_named(written3, "lstm");
  EXPECT_EQ(lstm3.at("recurrent_initializer"), (json{{"module", "keras.initializers"},
                                                     {"class_name", "OrthogonalInitializer"},
                                                     {"config", {{"gain", 1.0}, {"seed", nullptr}}},
                                                     {"registered_name", nullptr}}));
  EXPECT_EQ(lstm3.at("recurrent_regularizer").at("class_name"), "OrthogonalRegularizer");
  EXPECT_EQ(lstm3.at("kernel_constraint").at("class_name"), "MaxNorm");
  const json& gru3 = layer_named(written3, "gru");
  EXPECT_EQ(gru3.at("kernel_initializer").at("class_name"), "IdentityInitializer");
  EXPECT_EQ(gru3.at("bias_initializer").at("class_name"), "MyInit");
  EXPECT_EQ(gru3.at("bias_initializer").at("registered_name"), "my_package>MyInit");
  EXPECT_EQ(gru3.at("bias_initializer").at("config"), (json{{"scale", 3}}));
  // As .h5 (tf.keras 2's form): the names tf.keras 2 reads; a registered custom object is "package>Name".
  save_model(keras34, folder.path() / "a.h5");
  const json written2 = h5_model_config(folder.path() / "a.h5");
  EXPECT_EQ(layer_named(written2, "lstm").at("recurrent_initializer"),
            (json{{"class_name", "Orthogonal"}, {"config", {{"gain", 1.0}, {"seed", nullptr}}}}));
  EXPECT_EQ(layer_named(written2, "gru").at("kernel_initializer").at("class_name"), "Identity");
  EXPECT_EQ(layer_named(written2, "gru").at("bias_initializer").at("class_name"), "my_package>MyInit");
  // Both load again and predict alike.
  const Tensor x = tensor_of(manifest().at("files").at(0).at("input"));
  const Tensor expected = load_model(name_files("lstm_gru_dense.keras3.4.1.keras")).predict(x);
  EXPECT_TRUE(all_close(load_model(folder.path() / "a.keras").predict(x), expected, 0, 0));
  EXPECT_TRUE(all_close(load_model(folder.path() / "a.h5").predict(x), expected, 0, 0));

  // tf.keras 2.11's class names round-trip as they were.
  const fs::path tf2 = name_files("embedding_simplernn_dense.tf2.11.h5");
  save_model(load_model(tf2), folder.path() / "b.h5");
  const json original = h5_model_config(tf2), again = h5_model_config(folder.path() / "b.h5");
  for (const char* layer : {"embedding", "simple_rnn", "dense"})
    for (const auto& [key, value] : layer_named(original, layer).items()) {
      if (key.ends_with("_initializer") || key.ends_with("_regularizer") || key.ends_with("_constraint")) {
        EXPECT_EQ(layer_named(again, layer).at(key), value) << layer << " " << key;
      }
    }

  // TF1's initializer configs carry "dtype", which Keras 3's constructors refuse: dropped for .keras.
  const json tf1_written = keras3::model_config(load_model(name_files("bicudnnlstm_cudnngru_dense.tf1.h5")));
  const json& inner = layer_named(tf1_written, "bidirectional").at("layer").at("config");
  EXPECT_EQ(inner.at("kernel_initializer").at("config"),
            (json{{"scale", 1.0}, {"mode", "fan_avg"}, {"distribution", "uniform"}, {"seed", nullptr}}));
}

// A file with weights loads whatever its initializers; building the same model afresh needs them.
TEST(KerasNamesFile, CustomInitializerOnlyStopsAFreshBuild) {
  const Sequential model = load_model(name_files("lstm_gru_dense.keras3.4.1.keras"));
  expect_mentions(message_of([&] { (void)model_from_config(model.config(), "config"); }),
                  {"'gru'", "bias_initializer", "my_package>MyInit", "custom"});
}

// A custom layer registered under a Keras class name is not read as the Keras class.
TEST(KerasNamesFile, RegisteredCustomLayerIsNotTheKerasOne) {
  const json config = {{"module", "keras"},
                       {"class_name", "Sequential"},
                       {"config",
                        {{"name", "s"},
                         {"layers",
                          {{{"module", "my_package.layers"},
                            {"class_name", "LSTM"},
                            {"config", {{"name", "mine"}, {"units", 2}, {"batch_shape", {nullptr, 3, 2}}}},
                            {"registered_name", "my_package>LSTM"}}}}}},
                       {"registered_name", nullptr}};
  expect_mentions(message_of([&] { (void)model_from_keras_config(config, "config.json"); }),
                  {"config.json", "my_package>LSTM"});
}

// ---------------------------------------------------------------------------------------------------------
// Initializers: names.

Tensor drawn(const json& initializer, const Shape& shape = {6, 5}, std::uint64_t seed = 3) {
  Tensor weight(shape);
  Rng rng(seed);
  initialize(initializer_config(initializer, "test"), weight, rng, "test");
  return weight;
}

json object(const std::string& class_name, json config = json::object()) {
  return {{"class_name", class_name}, {"config", std::move(config)}};
}

// Each name draws exactly what its class draws (same seed, same numbers), whether given as a name or as a
// config object, and a config object keeps the name it was given.
TEST(InitializerNames, EveryNameOfEveryEraIsItsClass) {
  const std::vector<std::pair<std::vector<std::string>, std::string>> names = {
      {{"zeros", "zero", "ZerosV2"}, "Zeros"},
      {{"ones", "one", "OnesV2"}, "Ones"},
      {{"constant", "ConstantV2"}, "Constant"},
      {{"random_normal", "normal", "RandomNormalV2"}, "RandomNormal"},
      {{"random_uniform", "uniform", "RandomUniformV2"}, "RandomUniform"},
      {{"truncated_normal", "TruncatedNormalV2"}, "TruncatedNormal"},
      {{"variance_scaling", "VarianceScalingV2"}, "VarianceScaling"},
      {{"orthogonal", "OrthogonalV2", "OrthogonalInitializer", "orthogonal_initializer"}, "Orthogonal"},
      {{"identity", "IdentityV2", "IdentityInitializer"}, "Identity"},
      {{"glorot_uniform", "GlorotUniformV2", "glorot_uniformV2"}, "GlorotUniform"},
      {{"glorot_normal", "GlorotNormalV2", "glorot_normalV2"}, "GlorotNormal"},
      {{"he_uniform", "HeUniformV2", "he_uniformV2"}, "HeUniform"},
      {{"he_normal", "HeNormalV2", "he_normalV2"}, "HeNormal"},
      {{"lecun_uniform", "LecunUniformV2", "lecun_uniformV2"}, "LecunUniform"},
      {{"lecun_normal", "LecunNormalV2", "lecun_normalV2"}, "LecunNormal"},
  };
  for (const auto& [aliases, class_name] : names) {
    const Tensor expected = drawn(object(class_name));
    EXPECT_EQ(initializer_config(class_name, "test").at("class_name"), class_name);
    for (const std::string& alias : aliases) {
      SCOPED_TRACE(alias);
      EXPECT_TRUE(all_close(drawn(alias), expected, 0, 0));
      EXPECT_TRUE(all_close(drawn(object(alias)), expected, 0, 0));
      EXPECT_EQ(initializer_config(object(alias), "test").at("class_name"), alias);
    }
  }
  // Glorot, He and LeCun are VarianceScaling with the arguments Keras fixes.
  const auto scaling = [](double scale, const char* mode, const char* distribution) {
    return object("VarianceScaling", {{"scale", scale}, {"mode", mode}, {"distribution", distribution}});
  };
  EXPECT_TRUE(all_close(drawn("glorot_uniform"), drawn(scaling(1.0, "fan_avg", "uniform")), 0, 0));
  EXPECT_TRUE(all_close(drawn("glorot_normal"), drawn(scaling(1.0, "fan_avg", "truncated_normal")), 0, 0));
  EXPECT_TRUE(all_close(drawn("he_uniform"), drawn(scaling(2.0, "fan_in", "uniform")), 0, 0));
  EXPECT_TRUE(all_close(drawn("he_normal"), drawn(scaling(2.0, "fan_in", "truncated_normal")), 0, 0));
  EXPECT_TRUE(all_close(drawn("lecun_uniform"), drawn(scaling(1.0, "fan_in", "uniform")), 0, 0));
  EXPECT_TRUE(all_close(drawn("lecun_normal"), drawn(scaling(1.0, "fan_in", "truncated_normal")), 0, 0));
  // Keras 3's module / registered_name wrapper, and TF1's "dtype", change nothing.
  json keras3 = object("OrthogonalInitializer", {{"gain", 1.0}, {"seed", nullptr}});
  keras3["module"] = "keras.initializers";
  keras3["registered_name"] = nullptr;
  EXPECT_TRUE(all_close(drawn(keras3), drawn("orthogonal"), 0, 0));
  EXPECT_TRUE(all_close(drawn(object("Orthogonal", {{"gain", 1.0}, {"seed", nullptr}, {"dtype", "float32"}})),
                        drawn("orthogonal"), 0, 0));
  // "normal" as a VarianceScaling distribution is the truncated normal (Keras 2.2+, tf.keras, Keras 3).
  EXPECT_TRUE(all_close(drawn(scaling(1.0, "fan_in", "normal")),
                        drawn(scaling(1.0, "fan_in", "truncated_normal")), 0, 0));
  EXPECT_TRUE(all_close(drawn(scaling(1.0, "fan_in", "Normal")),
                        drawn(scaling(1.0, "fan_in", "truncated_normal")), 0, 0));
}

// What each era reads back: Keras 3.0-3.6's names for tf.keras 2, tf.keras 2's V2 names and TF1's dtype for
// Keras 3; names an era knows stay.
TEST(InitializerNames, WrittenForEachEra) {
  const auto tf2 = [](const json& config) { return initializer_for_era(config, KerasEra::tf_keras2); };
  const auto k3 = [](const json& config) { return initializer_for_era(config, KerasEra::keras3); };
  EXPECT_EQ(tf2(object("OrthogonalInitializer", {{"gain", 2.0}})), object("Orthogonal", {{"gain", 2.0}}));
  EXPECT_EQ(tf2(object("IdentityInitializer", {{"gain", 2.0}})), object("Identity", {{"gain", 2.0}}));
  EXPECT_EQ(tf2("orthogonal_initializer"), "orthogonal");
  EXPECT_EQ(tf2(object("GlorotUniformV2")), object("GlorotUniformV2"));
  EXPECT_EQ(
      tf2(object("VarianceScaling", {{"scale", 1.0}, {"input_axes", nullptr}, {"output_axes", nullptr}})),
      object("VarianceScaling", {{"scale", 1.0}}));
  EXPECT_EQ(k3(object("GlorotUniformV2", {{"seed", nullptr}})), object("GlorotUniform", {{"seed", nullptr}}));
  EXPECT_EQ(k3(object("glorot_uniformV2")), object("GlorotUniform"));
  EXPECT_EQ(k3(object("Zeros", {{"dtype", "float32"}})), object("Zeros"));
  EXPECT_EQ(k3(object("OrthogonalInitializer")), object("OrthogonalInitializer"));
  EXPECT_EQ(k3(object("my_package>MyInit", {{"dtype", 1}})), object("my_package>MyInit", {{"dtype", 1}}));
}

// ---------------------------------------------------------------------------------------------------------
// Initializers: distributions. Moments of 120 000 draws: the sample mean is within 5 standard errors of the
// distribution's, the standard deviation within 2%.

struct Moments {
  double mean = 0.0, stddev = 0.0, smallest = 0.0, largest = 0.0;
  double beyond = 0.0;  // fraction further than `threshold` from the mean
};

Moments moments(const Tensor& weight, double threshold = 0.0, double center = 0.0) {
  Moments m;
  const auto values = weight.values();
  m.mean = std::accumulate(values.begin(), values.end(), 0.0) / double(values.size());
  double squares = 0.0;
  std::size_t beyond = 0;
  for (float v : values) {
    squares += (v - m.mean) * (v - m.mean);
    if (threshold > 0.0 && std::abs(v - center) > threshold) ++beyond;
  }
  m.stddev = std::sqrt(squares / double(values.size()));
  m.smallest = *std::min_element(values.begin(), values.end());
  m.largest = *std::max_element(values.begin(), values.end());
  m.beyond = double(beyond) / double(values.size());
  return m;
}

constexpr double kTruncatedStd = 0.87962566103423978;  // of a standard normal cut at ±2
const Shape kBig{300, 400};                            // fan_in 300, fan_out 400
constexpr double kCount = 120000.0;

void expect_distribution(const std::string& what, const Tensor& weight, double mean, double stddev) {
  const Moments m = moments(weight);
  EXPECT_NEAR(m.mean, mean, 5.0 * stddev / std::sqrt(kCount)) << what;
  EXPECT_NEAR(m.stddev, stddev, 0.02 * stddev) << what;
}

TEST(InitializerDistributions, UniformNormalAndTruncated) {
  const Tensor uniform = drawn(object("RandomUniform", {{"minval", -0.3}, {"maxval", 0.7}}), kBig);
  expect_distribution("RandomUniform(-0.3, 0.7)", uniform, 0.2, 1.0 / std::sqrt(12.0));
  EXPECT_GE(moments(uniform).smallest, -0.3);
  EXPECT_LT(moments(uniform).largest, 0.7);
  // Keras 1/2's "uniform" and "normal": ±0.05 and stddev 0.05.
  expect_distribution("uniform", drawn("uniform", kBig), 0.0, 0.1 / std::sqrt(12.0));
  expect_distribution("normal", drawn("normal", kBig), 0.0, 0.05);

  // A normal: 4.55% of draws beyond two standard deviations; the truncated one has none, and its standard
  // deviation is 0.8796 of the untruncated one's.
  const Tensor normal = drawn(object("RandomNormal", {{"mean", 1.0}, {"stddev", 0.5}}), kBig);
  expect_distribution("RandomNormal(1, 0.5)", normal, 1.0, 0.5);
  EXPECT_NEAR(moments(normal, 1.0, 1.0).beyond, 0.0455, 0.003);
  const Tensor truncated = drawn(object("TruncatedNormal", {{"mean", 0.5}, {"stddev", 0.2}}), kBig);
  expect_distribution("TruncatedNormal(0.5, 0.2)", truncated, 0.5, 0.2 * kTruncatedStd);
  EXPECT_EQ(moments(truncated, 0.4, 0.5).beyond, 0.0);
  expect_distribution("truncated_normal", drawn("truncated_normal", kBig), 0.0, 0.05 * kTruncatedStd);
}

TEST(InitializerDistributions, VarianceScalingAndItsNamedForms) {
  struct Case {
    json initializer;
    double variance;   // scale / n
    const char* kind;  // uniform, truncated, untruncated
  };
  const double fan_in = 300, fan_out = 400, fan_avg = 350;
  const auto scaling = [](double scale, const char* mode, const char* distribution) {
    return object("VarianceScaling", {{"scale", scale}, {"mode", mode}, {"distribution", distribution}});
  };
  const std::vector<Case> cases = {
      {"glorot_uniform", 1.0 / fan_avg, "uniform"},
      {"glorot_normal", 1.0 / fan_avg, "truncated"},
      {"he_uniform", 2.0 / fan_in, "uniform"},
      {"he_normal", 2.0 / fan_in, "truncated"},
      {"lecun_uniform", 1.0 / fan_in, "uniform"},
      {"lecun_normal", 1.0 / fan_in, "truncated"},
      {scaling(3.0, "fan_out", "untruncated_normal"), 3.0 / fan_out, "untruncated"},
      {scaling(0.5, "fan_avg", "truncated_normal"), 0.5 / fan_avg, "truncated"},
      {scaling(2.0, "fan_in", "uniform"), 2.0 / fan_in, "uniform"},
      {object("VarianceScaling"), 1.0 / fan_in, "truncated"},  // Keras's defaults: 1, fan_in, truncated
      // Keras 3.15: the fans are the sizes along the given axes.
      {object("VarianceScaling", {{"mode", "fan_in"}, {"input_axes", {1}}, {"output_axes", {0}}}),
       1.0 / fan_out, "truncated"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.initializer.dump());
    const Tensor weight = drawn(c.initializer, kBig);
    const double stddev = std::sqrt(c.variance);
    expect_distribution(c.initializer.dump(), weight, 0.0, stddev);
    const Moments m = moments(weight, 2.0 * stddev / kTruncatedStd);
    if (std::string(c.kind) == "uniform") {
      EXPECT_LE(std::max(-m.smallest, m.largest), std::sqrt(3.0) * stddev);
      EXPECT_GT(std::max(-m.smallest, m.largest), 0.99 * std::sqrt(3.0) * stddev);
    } else if (std::string(c.kind) == "truncated") {
      EXPECT_EQ(m.beyond, 0.0);  // cut at two standard deviations of the normal before truncation
    } else {
      EXPECT_NEAR(moments(weight, 2.0 * stddev).beyond, 0.0455, 0.003);
    }
  }
}

TEST(InitializerDistributions, OrthogonalIdentityAndConstants) {
  // Orthogonal(gain): a wide matrix has orthogonal rows of norm gain; Keras 3.0-3.6's name draws the same.
  const Tensor wide = drawn(object("OrthogonalInitializer", {{"gain", 1.5}}), {4, 9});
  for (std::int64_t i = 0; i < 4; ++i)
    for (std::int64_t j = 0; j < 4; ++j) {
      double dot = 0.0;
      for (std::int64_t k = 0; k < 9; ++k) dot += double(wide.at({i, k})) * double(wide.at({j, k}));
      EXPECT_NEAR(dot, i == j ? 2.25 : 0.0, 1e-5);
    }
  // Identity(gain): gain on the diagonal of a 2-D weight, square or not.
  const Tensor eye = drawn(object("IdentityInitializer", {{"gain", 0.5}}), {3, 5});
  for (std::int64_t i = 0; i < 3; ++i)
    for (std::int64_t j = 0; j < 5; ++j) EXPECT_EQ(eye.at({i, j}), i == j ? 0.5f : 0.0f);
  EXPECT_TRUE(
      all_close(drawn(object("Constant", {{"value", 0.25}}), {7}), Tensor({7}, std::vector(7, 0.25f)), 0, 0));
  EXPECT_TRUE(all_close(drawn("one", {3}), Tensor({3}, {1, 1, 1}), 0, 0));
  EXPECT_TRUE(all_close(drawn("zero", {3}), Tensor({3}), 0, 0));
}

// Keras 2.0-2.1 drew VarianceScaling(distribution="normal") from a normal of standard deviation sqrt(scale/n)
// cut at two of them (no 0.8796 correction): a model of those versions built afresh draws the same.
TEST(InitializerDistributions, KerasTwoZeroNormalDrawsAsKerasTwoZero) {
  const auto model_of = [](const std::string& version) {
    const json dense = {
        {"class_name", "Dense"},
        {"config",
         {{"name", "d"},
          {"units", 400},
          {"batch_input_shape", {nullptr, 300}},
          {"kernel_initializer",
           object("VarianceScaling",
                  {{"scale", 1.0}, {"mode", "fan_in"}, {"distribution", "normal"}, {"seed", nullptr}})}}}};
    return model_from_keras_config(
        {{"class_name", "Sequential"}, {"keras_version", version}, {"config", json::array({dense})}},
        version);
  };
  const double stddev = std::sqrt(1.0 / 300.0);
  for (const char* version : {"2.0.8", "2.1.6"}) {
    const Tensor kernel = model_of(version).layer(0).get_weights()[0];
    expect_distribution(version, kernel, 0.0, stddev * kTruncatedStd);
    EXPECT_EQ(moments(kernel, 2.0 * stddev).beyond, 0.0) << version;
  }
  for (const char* version : {"2.2.4", "2.1.6-tf", "2.11.0", "3.4.1"}) {
    const Tensor kernel = model_of(version).layer(0).get_weights()[0];
    expect_distribution(version, kernel, 0.0, stddev);
    EXPECT_GT(moments(kernel, 2.0 * stddev).beyond, 0.01) << version;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Initializers: what cannot be computed.

TEST(InitializerErrors, OnlyAFreshWeightNeedsTheInitializer) {
  const std::vector<std::tuple<json, Shape, std::vector<std::string_view>>> cases = {
      {"my_init", {3, 2}, {"'my_init'", "custom"}},
      {object("package>Custom", {{"a", 1}}), {3, 2}, {"'package>Custom'"}},
      {object("Initializer"), {3, 2}, {"'Initializer'"}},
      {object("STFT", {{"side", "real"}}), {3, 2}, {"'STFT'", "3-D"}},
      {object("IdentityInitializer"), {4}, {"'IdentityInitializer'", "2-D", "(4,)"}},
      {object("Orthogonal"), {4}, {"'Orthogonal'", "two or more"}},
  };
  for (const auto& [initializer, shape, parts] : cases) {
    SCOPED_TRACE(initializer.dump());
    const json config = initializer_config(initializer, "layer 'l' (Dense) kernel_initializer");
    Tensor weight(shape, std::vector<float>(static_cast<std::size_t>(element_count(shape)), 7.0f));
    Rng rng(1);
    const std::string message =
        message_of([&] { initialize(config, weight, rng, "layer 'l' (Dense) kernel_initializer"); });
    expect_mentions(message, {"layer 'l' (Dense) kernel_initializer"});
    expect_mentions(message, parts);
    {
      const WeightsFollowFromFile weights_follow;
      initialize(config, weight, rng, "here");
      EXPECT_TRUE(all_close(weight, Tensor(shape), 0, 0));
    }
  }
}

TEST(InitializerErrors, FreshLayerNamesLayerAndField) {
  expect_mentions(
      message_of([] {
        Sequential model;
        model.add(Dense(2, {.bias_initializer = "my_init", .input_shape = Shape{3}, .name = "out"}));
      }),
      {"'out'", "bias_initializer", "'my_init'"});
  expect_mentions(
      message_of([] {
        Sequential model;
        model.add(
            LSTM(2, {.recurrent_initializer = object("STFT"), .input_shape = Shape{3, 2}, .name = "enc"}));
      }),
      {"'enc'", "recurrent_initializer", "'STFT'"});
}

TEST(InitializerErrors, ArgumentsKerasWouldRefuse) {
  const std::vector<std::pair<json, std::vector<std::string_view>>> cases = {
      {object("RandomUniform", {{"minval", "a"}}), {"RandomUniform", "'minval'", "number"}},
      {object("VarianceScaling", {{"mode", "fan_sideways"}}), {"fan_sideways", "fan_in"}},
      {object("VarianceScaling", {{"distribution", "cauchy"}}), {"cauchy", "untruncated_normal"}},
      {object("VarianceScaling", {{"scale", -1.0}}), {"'scale'", "positive"}},
      {object("OrthogonalInitializer", {{"gain", json::array()}}), {"OrthogonalInitializer", "'gain'"}},
      {object("Orthogonal", "not an object"), {"'config' must be an object"}},
      {json{{"config", json::object()}}, {"an initializer must be"}},
  };
  for (const auto& [initializer, parts] : cases) {
    SCOPED_TRACE(initializer.dump());
    expect_mentions(message_of([&] { (void)initializer_config(initializer, "layer 'x' field"); }), parts);
  }
}

// ---------------------------------------------------------------------------------------------------------
// Regularizers and constraints: names.

TEST(RegularizerNames, EveryNameOfEveryEra) {
  struct Case {
    json config;
    Regularizer::Kind kind;
    double l1, l2;
  };
  using Kind = Regularizer::Kind;
  const std::vector<Case> cases = {
      {"l1", Kind::l1, 0.01, 0.0},
      {"L1", Kind::l1, 0.01, 0.0},
      {"l2", Kind::l2, 0.0, 0.01},
      {"L2", Kind::l2, 0.0, 0.01},
      {"l1_l2", Kind::l1_l2, 0.01, 0.01},  // tf.keras 2.10+
      {"l1l2", Kind::l1_l2, 0.0, 0.0},     // Keras 3's snake_case of the class L1L2()
      {"L1L2", Kind::l1_l2, 0.0, 0.0},
      {object("l1", {{"l1", 0.3}}), Kind::l1, 0.3, 0.0},
      {object("L1", {{"l", 0.3}}), Kind::l1, 0.3, 0.0},  // Keras 2's factor name
      {object("l2", json::object()), Kind::l2, 0.0, 0.01},
      {object("l1l2", {{"l2", 0.2}}), Kind::l1_l2, 0.0, 0.2},
      {object("l1_l2", {{"l2", 0.2}}), Kind::l1_l2, 0.01, 0.2},  // tf.keras 2's function l1_l2(l1=0.01, ...)
      {{{"module", "keras.regularizers"},
        {"class_name", "L1L2"},
        {"config", {{"l1", 0.5}, {"l2", 0.25}}},
        {"registered_name", nullptr}},
       Kind::l1_l2,
       0.5,
       0.25},
      {{{"name", "L1L2Regularizer"}, {"l1", 0.1}, {"l2", 0.2}}, Kind::l1_l2, 0.1, 0.2},    // Keras 1.2
      {{{"name", "WeightRegularizer"}, {"l1", 0.1}, {"l2", 0.0}}, Kind::l1_l2, 0.1, 0.0},  // Keras 1.0-1.1
      {{{"name", "ActivityRegularizer"}, {"l2", 0.3}}, Kind::l1_l2, 0.0, 0.3},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.config.dump());
    const std::optional<Regularizer> regularizer = regularizer_from_config(c.config, "here");
    ASSERT_TRUE(regularizer.has_value());
    EXPECT_EQ(regularizer->kind, c.kind);
    EXPECT_DOUBLE_EQ(regularizer->l1, c.l1);
    EXPECT_DOUBLE_EQ(regularizer->l2, c.l2);
  }
  for (const json& orthogonal : {json("orthogonal_regularizer"), json("OrthogonalRegularizer"),
                                 object("orthogonal_regularizer"), object("OrthogonalRegularizer")}) {
    const std::optional<Regularizer> regularizer = regularizer_from_config(orthogonal, "here");
    EXPECT_EQ(regularizer->kind, Kind::orthogonal);
    EXPECT_DOUBLE_EQ(regularizer->factor, 0.01);
    EXPECT_EQ(regularizer->mode, "rows");
  }
  const json columns = object("OrthogonalRegularizer", {{"factor", 0.2}, {"mode", "columns"}});
  EXPECT_EQ(regularizer_from_config(columns, "here")->config(), columns);
  expect_mentions(message_of([] {
                    (void)regularizer_from_config({{"name", "EigenvalueRegularizer"}, {"k", 1}}, "w");
                  }),
                  {"w", "EigenvalueRegularizer", "not supported"});
  expect_mentions(
      message_of([] {
        (void)regularizer_from_config(object("OrthogonalRegularizer", {{"mode", "diagonal"}}), "w");
      }),
      {"w", "rows", "diagonal"});
}

TEST(ConstraintNames, EveryNameOfEveryEra) {
  using Kind = Constraint::Kind;
  const std::vector<std::pair<json, Constraint>> cases = {
      {"max_norm", MaxNorm()},
      {"maxnorm", MaxNorm()},
      {"MaxNorm", MaxNorm()},
      {"non_neg", NonNeg()},
      {"nonneg", NonNeg()},
      {"NonNeg", NonNeg()},
      {"unit_norm", UnitNorm()},
      {"unitnorm", UnitNorm()},
      {"UnitNorm", UnitNorm()},
      {"min_max_norm", MinMaxNorm()},
      {"MinMaxNorm", MinMaxNorm()},
      {object("max_norm", {{"max_value", 3.0}, {"axis", 1}}), MaxNorm(3.0, 1)},
      {object("min_max_norm", {{"min_value", 0.5}}), MinMaxNorm(0.5)},
      {{{"module", "keras.constraints"},
        {"class_name", "UnitNorm"},
        {"config", {{"axis", 1}}},
        {"registered_name", nullptr}},
       UnitNorm(1)},
      // Keras 1: the arguments beside the name, MaxNorm's bound as m, MinMaxNorm's as low and high.
      {{{"name", "MaxNorm"}, {"m", 4}, {"axis", 1}}, MaxNorm(4.0, 1)},
      {{{"name", "NonNeg"}}, NonNeg()},
      {{{"name", "UnitNorm"}, {"axis", 0}}, UnitNorm(0)},
      {{{"name", "MinMaxNorm"}, {"low", 0.5}, {"high", 2.0}, {"rate", 0.5}, {"axis", 0}},
       MinMaxNorm(0.5, 2.0, 0.5)},
  };
  for (const auto& [config, expected] : cases) {
    SCOPED_TRACE(config.dump());
    const std::optional<Constraint> constraint = constraint_from_config(config, "here");
    ASSERT_TRUE(constraint.has_value());
    EXPECT_EQ(constraint->config(), expected.config());
  }
  EXPECT_EQ(constraint_from_config("nonneg", "here")->kind, Kind::non_neg);
  expect_mentions(message_of([] { (void)constraint_from_config(object("RadialConstraint"), "here"); }),
                  {"here", "RadialConstraint", "not supported"});
}

// ---------------------------------------------------------------------------------------------------------
// OrthogonalRegularizer: penalty and gradient.

Tensor orthogonal_w() {
  return Tensor({3, 4}, {0.5f, -1.0f, 0.25f, 2.0f, 1.5f, 0.75f, -0.5f, 0.1f, -0.3f, 0.2f, 1.0f, -1.2f});
}

TEST(OrthogonalRegularizer, PenaltyAndGradientAsPyTorchAutograd) {
  // orthogonal_regularizer_oracle.py
  const Tensor rows_gradient(
      {3, 4}, {0.00129013205027f, 0.000874541865751f, -0.00142368791984f, 0.000292698910288f,
               0.000205398421806f, -0.00134379850601f, -0.000792293333394f, 0.00303604580104f,
               -0.00183973678479f, -0.000247987450909f, -0.000934603256284f, -0.000360233092525f});
  const Tensor columns_gradient(
      {3, 4}, {-0.0107365359012f, 0.00697911549195f, -0.0178083110107f, -0.00470835099542f,
               -0.000599926648892f, 0.0145796727756f, -0.0319503527941f, 0.0102150387358f, -0.0208938597464f,
               -0.019778195449f, -0.0115230986444f, -0.00699599843105f});
  const std::vector<std::tuple<Regularizer, double, Tensor>> cases = {
      {OrthogonalRegularizer(0.01, "rows"), 0.00340849578368, rows_gradient},
      {OrthogonalRegularizer(0.2, "columns"), 0.0829000250207, columns_gradient},
  };
  for (const auto& [regularizer, penalty, gradient] : cases) {
    SCOPED_TRACE(regularizer.mode);
    EXPECT_NEAR(regularizer.penalty(orthogonal_w(), "w"), penalty, 1e-9);
    Tensor grads({3, 4}, std::vector(12, 1.0f));
    regularizer.add_gradient(orthogonal_w(), grads, 2.0, "w");
    Tensor expected = gradient;
    for (float& v : expected.values()) v = 1.0f + 2.0f * v;
    EXPECT_TRUE(all_close(grads, expected, 1e-7, 1e-5));
  }
}

TEST(OrthogonalRegularizer, GradientAsCentralDifferences) {
  for (const char* mode : {"rows", "columns"}) {
    SCOPED_TRACE(mode);
    const Regularizer regularizer = OrthogonalRegularizer(0.3, mode);
    Tensor w = orthogonal_w();
    Tensor grads({3, 4});
    regularizer.add_gradient(w, grads, 1.0, "w");
    for (std::int64_t i = 0; i < w.size(); ++i) {
      const double numeric =
          testing::central_difference(w[i], 1e-3f, [&] { return regularizer.penalty(w, "w"); });
      EXPECT_NEAR(grads[i], numeric, 2e-4) << "element " << i;
    }
  }
}

TEST(OrthogonalRegularizer, OnALayerAndItsLimits) {
  // A kernel regularizer of a loaded model: the layer's regularization loss is the penalty of its kernel.
  Dense dense(4, {.kernel_regularizer = OrthogonalRegularizer(0.01), .input_shape = Shape{3}});
  Rng rng(2);
  dense.build({kNone, 3}, rng);
  dense.set_weights({orthogonal_w(), Tensor({4})});
  EXPECT_NEAR(dense.regularization_loss(), 0.00340849578368, 1e-9);
  // One row: Keras's 0/0. A 3-D output as activity: Keras refuses, so does rnnkit, naming the layer.
  EXPECT_TRUE(std::isnan(OrthogonalRegularizer().penalty(Tensor({1, 4}, {1, 2, 3, 4}), "w")));
  expect_mentions(message_of([] {
                    (void)OrthogonalRegularizer().penalty(Tensor({2, 2, 2}), "layer 'x'");
                  }),
                  {"layer 'x'", "2-D", "(2, 2, 2)"});
}

}  // namespace
}  // namespace rnnkit
