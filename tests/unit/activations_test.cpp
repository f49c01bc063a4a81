// Every activation Keras names, and keras.layers.Activation: names and errors, derivatives against central
// finite differences, the C++ API, summaries, configs and model files, and training through an Activation
// head. Values and gradients against PyTorch are the parity cases of tests/parity/fixtures/activations.json
// (parity_test.cpp), and activation_fit.json beside the other training fixtures; both come from
// tests/parity/gen_activations.py.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "rnnkit/rnnkit.h"
#include "test_support.h"

namespace rnnkit {
namespace {

using nlohmann::json;
using testing::tensor_from_json;

// What Keras 3 (keras/src/activations/__init__.py, ALL_OBJECTS_DICT with its aliases) and tf.keras 2.x
// (keras/activations.py with its tf.nn additions) accept by name; Keras 1's and 2.0-2.2's are among them.
const std::vector<std::string> kKerasNames = {
    "relu",        "leaky_relu", "relu6",          "softmax",     "celu",         "elu",
    "selu",        "softplus",   "softsign",       "squareplus",  "soft_shrink",  "sparse_plus",
    "silu",        "swish",      "gelu",           "glu",         "tanh",         "tanh_shrink",
    "threshold",   "sigmoid",    "sparse_sigmoid", "exponential", "hard_sigmoid", "hard_silu",
    "hard_swish",  "hard_tanh",  "hard_shrink",    "linear",      "mish",         "log_softmax",
    "log_sigmoid", "sparsemax",  "crelu"};
const std::vector<std::string> kRefused = {"glu", "crelu", "threshold", "sparsemax"};

bool refused(const std::string& name) {
  return std::find(kRefused.begin(), kRefused.end(), name) != kRefused.end();
}

// Every name rnnkit computes: Keras's, and its own two for what Keras spells by dialect or cannot name.
std::vector<std::string> computed_names() {
  std::vector<std::string> names{"hard_sigmoid_keras3", "gelu_approximate"};
  for (const std::string& name : kKerasNames)
    if (!refused(name)) names.push_back(name);
  return names;
}

std::string error_of(const std::function<void()>& action) {
  try {
    action();
  } catch (const Error& error) {
    return error.what();
  }
  return "(no error)";
}

TEST(ActivationFunction, EveryKerasNameIsComputedOrRefusedByName) {
  for (const std::string& name : kKerasNames) {
    if (refused(name)) {
      const std::string message = error_of([&] { parse_activation(name, "layer 'x' field 'activation'"); });
      EXPECT_NE(message.find("layer 'x' field 'activation'"), std::string::npos) << message;
      EXPECT_NE(message.find("'" + name + "' is not supported"), std::string::npos) << message;
      continue;
    }
    EXPECT_EQ(activation_name(parse_activation(name, "test")), name);
  }
  EXPECT_EQ(parse_activation("None", "test"), ActivationFunction::linear);
  EXPECT_EQ(parse_activation("", "test"), ActivationFunction::linear);
}

TEST(ActivationFunction, UnknownNameIsAnErrorNamingLayerFieldAndName) {
  const std::string dense = error_of([] { Dense(3, {.activation = "gelu_fast", .name = "head"}); });
  EXPECT_NE(dense.find("layer 'head' (Dense) field 'activation'"), std::string::npos) << dense;
  EXPECT_NE(dense.find("unknown activation 'gelu_fast'"), std::string::npos) << dense;
  EXPECT_NE(dense.find("known: linear, tanh"), std::string::npos) << dense;
  const std::string layer = error_of([] {
    layer_from_config(
        json{{"class_name", "Activation"}, {"config", {{"name", "act"}, {"activation", "swishh"}}}},
        "model.json");
  });
  EXPECT_NE(layer.find("layer 'act' (Activation) field 'activation'"), std::string::npos) << layer;
  EXPECT_NE(layer.find("unknown activation 'swishh'"), std::string::npos) << layer;
  const std::string lstm = error_of([] { LSTM(2, {.recurrent_activation = "glu", .name = "rnn"}); });
  EXPECT_NE(lstm.find("layer 'rnn' (LSTM) field 'recurrent_activation'"), std::string::npos) << lstm;
  EXPECT_NE(lstm.find("halves the last axis"), std::string::npos) << lstm;
}

// Inputs of order one, at least 0.05 from every kink (0, ±0.5, ±1, ±2.5, ±3) so that a step of 1e-2
// never crosses one.
Tensor inputs_away_from_kinks(const Shape& shape, std::uint64_t seed) {
  Rng rng(seed);
  Tensor x(shape);
  for (float& v : x.values()) {
    do v = static_cast<float>(rng.uniform(-3.5, 3.5));
    while (std::abs(v) < 0.05f || std::abs(std::abs(v) - 0.5f) < 0.05f ||
           std::abs(std::abs(v) - 1.0f) < 0.05f || std::abs(std::abs(v) - 2.5f) < 0.05f ||
           std::abs(std::abs(v) - 3.0f) < 0.05f);
  }
  return x;
}

// dL/dx of L = Σ g ⊙ layer(x) from backward, against central differences of the forward pass (float32
// values, the loss summed in double; the tolerance is gradcheck_test.cpp's).
void expect_gradient_matches_differences(Layer& layer, const Tensor& x_in, const std::string& what) {
  Tensor x = x_in;
  Rng rng(11);
  const Tensor g = testing::random_tensor(layer.call(x)[0].shape(), rng, 1.0);
  const auto loss = [&] {
    const Tensor y = layer.call(x, {.training = true})[0];
    double total = 0.0;
    for (std::int64_t i = 0; i < y.size(); ++i) total += double(y[i]) * g[i];
    return total;
  };
  layer.call(x, {.training = true});
  layer.zero_grads();
  const Tensor analytic = layer.backward({g}).input;
  for (std::int64_t i = 0; i < x.size(); ++i) {
    const double numeric = testing::central_difference(x[i], 1e-2f, loss);
    EXPECT_NEAR(analytic[i], numeric, 2e-3 + 1e-2 * std::abs(numeric)) << what << " element " << i;
  }
}

TEST(ActivationFunction, ActivationLayerBackwardMatchesFiniteDifferences) {
  for (const std::string& name : computed_names()) {
    Activation layer(name);
    Rng rng;
    layer.build({kNone, 3, 5}, rng);
    // exponential's values grow with x; a smaller range keeps the rounding of the loss within tolerance.
    Tensor x = inputs_away_from_kinks({2, 3, 5}, 3);
    expect_gradient_matches_differences(layer, x, "Activation('" + name + "')");
  }
}

TEST(ActivationFunction, DenseBackwardMatchesFiniteDifferences) {
  for (const std::string& name : computed_names()) {
    Dense layer(4, {.activation = name});
    Rng rng(7);
    layer.build({kNone, 3}, rng);
    expect_gradient_matches_differences(layer, inputs_away_from_kinks({2, 3}, 5),
                                        "Dense(activation='" + name + "')");
  }
}

TEST(ActivationFunction, OnlyTheActivationsThatNeedThemKeepInputs) {
  for (const char* name : {"gelu", "gelu_approximate", "swish", "silu", "hard_silu", "hard_swish", "mish",
                           "tanh_shrink", "squareplus"})
    EXPECT_TRUE(activation_backward_needs_inputs(parse_activation(name, "test"))) << name;
  for (const char* name : {"linear", "tanh", "sigmoid", "relu", "softmax", "elu", "softplus", "log_softmax"})
    EXPECT_FALSE(activation_backward_needs_inputs(parse_activation(name, "test"))) << name;
}

TEST(ActivationFunction, RecurrentLayersRefuseToTrainThroughActivationsNeedingInputs) {
  LSTM lstm(2, {.activation = "gelu", .name = "lstm_gelu"});
  Rng rng;
  lstm.build({kNone, 3, 2}, rng);
  const Tensor x = testing::random_tensor({1, 3, 2}, rng, 1.0);
  EXPECT_NO_THROW(lstm.call(x));  // prediction works
  const std::string message = error_of([&] { lstm.call(x, {.training = true}); });
  EXPECT_NE(message.find("layer 'lstm_gelu' (LSTM)"), std::string::npos) << message;
  EXPECT_NE(message.find("training through activation 'gelu'"), std::string::npos) << message;
  GRU gru(2, {.recurrent_activation = "swish", .name = "gru_swish"});
  gru.build({kNone, 3, 2}, rng);
  const std::string gru_message = error_of([&] { gru.call(x, {.training = true}); });
  EXPECT_NE(gru_message.find("layer 'gru_swish' (GRU)"), std::string::npos) << gru_message;
  EXPECT_NE(gru_message.find("'swish'"), std::string::npos) << gru_message;
  // SimpleRNN has no recurrent activation, so its unused default never stops it.
  SimpleRNN simple(2, {.activation = "elu", .recurrent_activation = "mish"});
  simple.build({kNone, 3, 2}, rng);
  EXPECT_NO_THROW(simple.call(x, {.training = true}));
}

// keras.layers.Activation through the C++ API: Dense(5) + Activation("softmax") gives the oracle's output for
// the parity case's weights.
json parity_case(const std::string& name) {
  const json fixture = testing::read_json(testing::test_data("parity/fixtures/activations.json"));
  for (const json& spec : fixture.at("cases"))
    if (spec.at("name") == name) return spec;
  throw std::runtime_error("no parity case " + name);
}

Sequential dense_softmax_model() {
  clear_session();
  Sequential model;
  model.add(Input({3}));
  model.add(Dense(5));
  model.add(Activation("softmax"));
  const json spec = parity_case("dense_linear_activation_softmax");
  model.layer("dense").set_weights({tensor_from_json(spec.at("weights").at("dense")[0]),
                                    tensor_from_json(spec.at("weights").at("dense")[1])});
  return model;
}

TEST(ActivationLayer, SequentialDenseThenSoftmaxPredictsTheOracle) {
  Sequential model = dense_softmax_model();
  const json spec = parity_case("dense_linear_activation_softmax");
  EXPECT_TRUE(testing::all_close(model.predict(tensor_from_json(spec.at("input"))),
                                 tensor_from_json(spec.at("output"))));
  EXPECT_EQ(model.layer(1).name(), "activation");
  EXPECT_EQ(model.layer(1).count_params(), 0);
}

TEST(ActivationLayer, PassesTheMaskOn) {
  Activation layer("relu");
  const Tensor x({2, 3, 1});
  const Tensor mask({2, 3}, std::vector<float>{1, 1, 0, 1, 0, 0});
  const std::optional<Tensor> out = layer.compute_mask(x, &mask);
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(out->values()[2], 0.0f);
  EXPECT_EQ(out->values()[3], 1.0f);
}

TEST(ActivationLayer, SummaryRowsAreKerasRows) {
  Sequential model = dense_softmax_model();
  const SummaryTable table = model.summary_table();
  ASSERT_EQ(table.rows.size(), 2u);
  EXPECT_EQ(table.rows[1].name, "activation");
  EXPECT_EQ(table.rows[1].class_name, "Activation");
  EXPECT_EQ(table.rows[1].output_shape, "(None, 5)");
  EXPECT_EQ(table.rows[1].params, 0);
  EXPECT_EQ(table.trainable_params, 20);
  // Keras 2.12's row, laid out as in tests/acceptance/summaries/*.keras2.12.txt: columns end at 29, 55, 65.
  const std::string text = format_summary(table, SummaryStyle::keras2_12);
  EXPECT_NE(text.find("\n activation (Activation)     (None, 5)                 0         \n"),
            std::string::npos)
      << text;
}

TEST(ActivationLayer, ConfigRoundTripsThroughLayerFromConfig) {
  clear_session();
  const Activation layer("gelu", {.name = "act"});
  const json config = layer.config();
  EXPECT_EQ(config,
            (json{{"name", "act"}, {"trainable", true}, {"dtype", "float32"}, {"activation", "gelu"}}));
  const std::unique_ptr<Layer> back =
      layer_from_config(json{{"class_name", "Activation"}, {"config", config}}, "round trip");
  EXPECT_EQ(back->class_name(), "Activation");
  EXPECT_EQ(back->config(), config);
}

TEST(ActivationLayer, KerasThreeSerializedFunctionsAreNamesAndOtherObjectsAreErrors) {
  const auto make = [](const json& activation, const std::string& version) {
    const json model = {
        {"class_name", "Sequential"},
        {"keras_version", version},
        {"config",
         {{"name", "sequential"},
          {"layers",
           {{{"class_name", "InputLayer"}, {"config", {{"name", "in"}, {"batch_shape", {nullptr, 3}}}}},
            {{"class_name", "Activation"}, {"config", {{"name", "act"}, {"activation", activation}}}}}}}}};
    return model_from_config(model, "config.json");
  };
  const json function = {{"module", "keras.activations"},
                         {"class_name", "function"},
                         {"config", "gelu"},
                         {"registered_name", nullptr}};
  Sequential model = make(function, "3.7.0");
  EXPECT_EQ(model.layer("act").config().at("activation"), "gelu");
  // Keras 3's hard_sigmoid is x/6 + 0.5.
  Sequential keras3 = make("hard_sigmoid", "3.7.0");
  EXPECT_EQ(dynamic_cast<Activation&>(keras3.layer("act")).activation(),
            ActivationFunction::hard_sigmoid_keras3);
  const json leaky = {{"module", "keras.layers"},
                      {"class_name", "LeakyReLU"},
                      {"config", {{"name", "leaky_re_lu"}, {"negative_slope", 0.1}}},
                      {"registered_name", nullptr}};
  const std::string message = error_of([&] { make(leaky, "3.7.0"); });
  EXPECT_NE(message.find("'act' (Activation) field 'activation'"), std::string::npos) << message;
  EXPECT_NE(message.find("a 'LeakyReLU' object is not supported"), std::string::npos) << message;
  EXPECT_NE(message.find("negative_slope"), std::string::npos) << message;
  const json lambda = {{"module", "builtins"}, {"class_name", "__lambda__"}, {"config", {{"value", "..."}}}};
  EXPECT_NE(error_of([&] { make(lambda, "3.7.0"); }).find("'__lambda__' object"), std::string::npos);
}

TEST(ActivationLayer, ModelFilesRoundTripWithTheSamePredictions) {
  testing::TempFolder folder;
  for (const std::string file : {"model.h5", "model.keras"}) {
    Sequential model = dense_softmax_model();
    save_model(model, folder.path() / file);
    Sequential loaded = load_model(folder.path() / file);
    ASSERT_EQ(loaded.size(), 2u) << file;
    EXPECT_EQ(loaded.layer(1).class_name(), "Activation") << file;
    const Tensor x = tensor_from_json(parity_case("dense_linear_activation_softmax").at("input"));
    EXPECT_TRUE(testing::all_close(loaded.predict(x), model.predict(x))) << file;
  }
}

TEST(ActivationLayer, GeluApproximateCannotBeSavedForKeras) {
  testing::TempFolder folder;
  for (const std::string file : {"model.h5", "model.keras"}) {
    clear_session();
    Sequential model;
    model.add(Input({3}));
    model.add(Dense(2, {.activation = "gelu_approximate"}));
    const std::string message = error_of([&] { save_model(model, folder.path() / file); });
    EXPECT_NE(message.find("gelu's tanh approximation"), std::string::npos) << file << ": " << message;
  }
}

// Two SGD steps of cross-entropy on Dense + Activation(softmax|sigmoid) give the oracle's losses and weights:
// the loss is taken from the logits, as tf.keras does for a softmax or sigmoid output, so a sample whose
// true class has a probability below the clipping epsilon costs its full -log p.
TEST(ActivationLayer, FitsThroughTheLogitsOfASoftmaxOrSigmoidHead) {
  const json fixture = testing::read_json(testing::test_data("train_fixtures/activation_fit.json"));
  for (const json& spec : fixture.at("cases")) {
    const std::string name = spec.at("name");
    for (const bool fused_dense : {false, true}) {
      json config = spec.at("model");
      if (fused_dense) {  // the same model with the activation inside the Dense: the same answer
        auto& layers = config.at("config").at("layers");
        layers[1]["config"]["activation"] = layers[2]["config"]["activation"];
        layers.erase(2);
      }
      Sequential model = model_from_config(config, name);
      model.layer("dense").set_weights({tensor_from_json(spec.at("weights").at("dense")[0]),
                                        tensor_from_json(spec.at("weights").at("dense")[1])});
      model.compile({.loss = spec.at("loss"),
                     .optimizer = SGD({.learning_rate = spec.at("learning_rate").get<double>()})});
      const Tensor x = tensor_from_json(spec.at("x")), y = tensor_from_json(spec.at("y"));
      for (std::size_t step = 0; step < 2; ++step) {
        const double expected = spec.at("losses")[step];
        EXPECT_NEAR(model.train_on_batch(x, y).at("loss"), expected, 1e-5 * std::abs(expected))
            << name << (fused_dense ? " (Dense head)" : "") << " step " << step;
      }
      const auto final_weights = model.layer("dense").get_weights();
      for (std::size_t k = 0; k < 2; ++k)
        EXPECT_TRUE(testing::all_close(final_weights[k],
                                       tensor_from_json(spec.at("final_weights").at("dense")[k]), 1e-5, 1e-4))
            << name << " weight " << k;
      // evaluate reads the logits too.
      const double final_loss = spec.at("final_loss");
      EXPECT_NEAR(model.evaluate(x, y, {.verbose = 0}).at("loss"), final_loss, 1e-5 * std::abs(final_loss))
          << name;
    }
  }
}

}  // namespace
}  // namespace rnnkit
