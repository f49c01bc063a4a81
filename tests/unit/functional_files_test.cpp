// Functional models in files: the fixtures of tests/model_files/functional (written by
// make_functional_fixtures.py with h5py, checked against a numpy forward pass), round trips through .h5,
// .keras, JSON and the weights formats, a model built in C++ saved with its training state, and the errors.
#include <gtest/gtest.h>

#include <filesystem>
#include <random>
#include <string>

#include "io/keras_h5.h"
#include "io/keras_zip.h"
#include "rnnkit/error.h"
#include "rnnkit/keras_config.h"
#include "rnnkit/layers/dense.h"
#include "rnnkit/layers/lstm.h"
#include "rnnkit/model_file.h"
#include "rnnkit/npy.h"
#include "rnnkit/weights.h"
#include "test_support.h"

namespace rnnkit {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using testing::all_close;
using testing::tensor_from_json;

fs::path functional_files(const std::string& name) {
  return testing::test_data("model_files/functional/" + name);
}

const json& oracle() {
  static const json manifest = testing::read_json(functional_files("functional.json"));
  return manifest;
}

using testing::TempFolder;
using testing::weight_bytes;

bool same_values(const Tensor& a, const Tensor& b) {
  return a.shape() == b.shape() &&
         std::equal(a.values().begin(), a.values().end(), b.values().begin(), b.values().end());
}

// The fixture's inputs in the model's input order.
std::vector<Tensor> fixture_inputs(const json& entry, const Model& model) {
  std::vector<Tensor> x;
  for (const std::string& name : model.input_names())
    x.push_back(tensor_from_json(entry.at("inputs").at(name)));
  return x;
}

std::vector<std::pair<std::string, std::string>> fixture_files() {
  std::vector<std::pair<std::string, std::string>> files;
  for (const auto& [model, entry] : oracle().at("models").items())
    for (const json& file : entry.at("files")) files.emplace_back(model, file.get<std::string>());
  return files;
}

TEST(FunctionalFiles, FixturesPredictAsTheNumpyForwardPass) {
  for (const auto& [name, file] : fixture_files()) {
    SCOPED_TRACE(file);
    const json& entry = oracle().at("models").at(name);
    Model model = load_model(functional_files(file));
    EXPECT_FALSE(model.is_sequential());
    const std::vector<Tensor> y = model.predict(fixture_inputs(entry, model));
    const std::vector<std::string> outputs = model.output_names();
    ASSERT_EQ(y.size(), entry.at("outputs").size());
    for (std::size_t i = 0; i < y.size(); ++i)
      EXPECT_TRUE(all_close(y[i], tensor_from_json(entry.at("outputs").at(outputs[i])), 1e-5, 0))
          << outputs[i];
  }
}

TEST(FunctionalFiles, SharedLayerHasOneSetOfWeights) {
  const Model model = load_model(functional_files("shared_two_in_two_out.tf2.11.h5"));
  // input_a, input_b, shared_lstm (two calls), head_a, head_b
  ASSERT_EQ(model.size(), 5u);
  EXPECT_EQ(model.nodes().size(), 6u);
  EXPECT_EQ(model.get_weights().size(), 3u + 2u + 2u);
  const json config = model.config();
  const json& lstm = config.at("config").at("layers").at(2);
  EXPECT_EQ(lstm.at("name"), "shared_lstm");
  EXPECT_EQ(lstm.at("inbound_nodes"), json::parse(R"([[["input_a", 0, 0, {}]], [["input_b", 0, 0, {}]]])"));
  EXPECT_EQ(config.at("config").at("output_layers"), json::parse(R"([["head_a", 0, 0], ["head_b", 0, 0]])"));
}

TEST(FunctionalFiles, RoundTripsBitForBitThroughEveryFormat) {
  for (const auto& [name, file] : fixture_files()) {
    SCOPED_TRACE(file);
    const TempFolder folder;
    Model original = load_model(functional_files(file));
    const json config = original.config();
    const json keras3_config = keras3::model_config(original);
    const std::string weights = weight_bytes(original);
    const std::vector<Tensor> x = fixture_inputs(oracle().at("models").at(name), original);
    const std::vector<Tensor> expected = original.predict(x);
    for (const char* first : {"a.h5", "a.keras"}) {
      for (const char* second : {"b.h5", "b.keras"}) {
        SCOPED_TRACE(std::string(first) + " -> " + second);
        save_model(original, folder / first);
        Model once = load_model(folder / first);
        save_model(once, folder / second);
        Model twice = load_model(folder / second);
        EXPECT_EQ(once.config(), config) << json::diff(once.config(), config).dump();
        EXPECT_EQ(twice.config(), config);
        EXPECT_EQ(keras3::model_config(twice), keras3_config)
            << json::diff(keras3::model_config(twice), keras3_config).dump();
        EXPECT_EQ(weight_bytes(once), weights);
        EXPECT_EQ(weight_bytes(twice), weights);
        const std::vector<Tensor> y = twice.predict(x);
        for (std::size_t i = 0; i < y.size(); ++i) EXPECT_TRUE(same_values(y[i], expected[i]));
      }
    }
    // model.to_json(), then the weights in each weights format.
    { std::ofstream(folder / "m.json") << config.dump(); }
    for (const char* weights_file : {"w.h5", "w.weights.h5", "w.npz"}) {
      SCOPED_TRACE(weights_file);
      save_weights(original, folder / weights_file);
      Model fresh = load_model(folder / "m.json");
      EXPECT_EQ(fresh.config(), config);
      load_weights(fresh, folder / weights_file);
      EXPECT_EQ(weight_bytes(fresh), weights);
    }
  }
}

TEST(FunctionalFiles, TfKeras2ConfigIsTheFixturesOwn) {
  // The fixture's model_config is what tf.keras 2.11 wrote for the model (make_functional_fixtures.py);
  // rnnkit writes the same graph back: same layers, inbound nodes and endpoints.
  const h5::Reader file = h5::Reader::open_file(functional_files("seq2seq.tf2.11.h5"));
  const json saved = keras2::read_model_config(file);
  const json ours = load_model(functional_files("seq2seq.tf2.11.h5")).config();
  ASSERT_EQ(ours.at("config").at("layers").size(), saved.at("config").at("layers").size());
  for (std::size_t i = 0; i < ours.at("config").at("layers").size(); ++i) {
    const json& a = ours.at("config").at("layers")[i];
    const json& b = saved.at("config").at("layers")[i];
    EXPECT_EQ(a.at("name"), b.at("name"));
    EXPECT_EQ(a.at("class_name"), b.at("class_name"));
    EXPECT_EQ(a.at("inbound_nodes"), b.at("inbound_nodes")) << a.at("name");
  }
  EXPECT_EQ(ours.at("config").at("input_layers"), saved.at("config").at("input_layers"));
  EXPECT_EQ(ours.at("config").at("output_layers"), saved.at("config").at("output_layers"));
}

// A symbolic call of a new layer (LSTM's own operator() on Tensors hides Layer's).
template <class L, class Options>
LayerOutputs call(std::int64_t units, const Options& options, const SymbolicTensor& x,
                  const SymbolicCallArgs& args = {}) {
  std::shared_ptr<Layer> layer = std::make_shared<L>(units, options);
  return (*layer)(x, args);
}

// Keras's lstm_seq2seq, built with the Functional API and trained a step, saved and loaded.
Model seq2seq_model() {
  const SymbolicTensor encoder_inputs = Input({5, 3}, {.name = "encoder_inputs"});
  const LayerOutputs encoder =
      call<LSTM>(4, RecurrentOptions{.return_state = true, .name = "encoder"}, encoder_inputs);
  const SymbolicTensor decoder_inputs = Input({4, 2}, {.name = "decoder_inputs"});
  const LayerOutputs decoder =
      call<LSTM>(4, RecurrentOptions{.return_sequences = true, .return_state = true, .name = "decoder"},
                 decoder_inputs, {.initial_state = encoder.states()});
  const SymbolicTensor tokens =
      call<Dense>(2, DenseOptions{.activation = "softmax", .name = "tokens"}, decoder[0]);
  const SymbolicTensor last =
      call<Dense>(1, DenseOptions{.activation = "sigmoid", .name = "flag"}, decoder[1]);
  return Model({encoder_inputs, decoder_inputs}, {tokens, last}, {.name = "seq2seq_cpp"});
}

TEST(FunctionalFiles, ModelBuiltInCppSavesWithItsTrainingState) {
  const TempFolder folder;
  Model model = seq2seq_model();
  Rng rng(7);
  const std::vector<Tensor> x{testing::random_tensor({3, 5, 3}, rng, 1.0),
                              testing::random_tensor({3, 4, 2}, rng, 1.0)};
  Tensor tokens({3, 4, 2});
  for (std::int64_t i = 0; i < tokens.size(); i += 2) tokens[i] = 1.0f;
  const Tensor flag({3, 1}, std::vector<float>{1, 0, 1});
  model.compile({.optimizer = make_optimizer("adam"),
                 .loss_by_output = {{"tokens", "categorical_crossentropy"}, {"flag", "binary_crossentropy"}},
                 .loss_weight_by_output = {{"flag", 0.5}},
                 .metrics_by_output = {{"tokens", {"accuracy"}}}});
  model.train_on_batch(x, {tokens, flag});
  const std::vector<Tensor> expected = model.predict(x);
  const std::string weights = weight_bytes(model);
  for (const char* name : {"m.h5", "m.keras"}) {
    SCOPED_TRACE(name);
    save_model(model, folder / name);
    Model loaded = load_model(folder / name);
    EXPECT_FALSE(loaded.is_sequential());
    EXPECT_EQ(loaded.config(), model.config());
    EXPECT_EQ(weight_bytes(loaded), weights);
    const std::vector<Tensor> y = loaded.predict(x);
    ASSERT_EQ(y.size(), 2u);
    for (std::size_t i = 0; i < y.size(); ++i) EXPECT_TRUE(same_values(y[i], expected[i]));
    ASSERT_TRUE(loaded.compiled());
    EXPECT_EQ(loaded.losses()[0].name(), "categorical_crossentropy");
    EXPECT_EQ(loaded.losses()[1].name(), "binary_crossentropy");
    EXPECT_EQ(loaded.loss_weights(), (std::vector<double>{1.0, 0.5}));
    EXPECT_EQ(loaded.metrics_of(0), std::vector<std::string>{"accuracy"});
    EXPECT_TRUE(loaded.metrics_of(1).empty());
    EXPECT_EQ(loaded.optimizer().iterations(), 1);
  }
  // tf.keras 2.11's training_config: a dict of losses and loss weights by output for several outputs.
  const h5::Reader file = h5::Reader::open_file(folder / "m.h5");
  const json training = json::parse(file.string_attribute("/", "training_config"));
  EXPECT_EQ(training.at("loss"),
            json::parse(R"({"tokens": "categorical_crossentropy", "flag": "binary_crossentropy"})"));
  EXPECT_EQ(training.at("loss_weights"), json::parse(R"({"tokens": 1.0, "flag": 0.5})"));
  EXPECT_EQ(training.at("metrics"), json::parse(R"({"tokens": ["accuracy"]})"));
}

TEST(FunctionalFiles, SavedOptimizerStateContinuesTraining) {
  const TempFolder folder;
  Rng rng(3);
  const std::vector<Tensor> x{testing::random_tensor({2, 5, 3}, rng, 1.0),
                              testing::random_tensor({2, 4, 2}, rng, 1.0)};
  const std::vector<Tensor> y{testing::random_tensor({2, 4, 2}, rng, 1.0),
                              testing::random_tensor({2, 1}, rng, 1.0)};
  for (const char* name : {"m.h5", "m.keras"}) {
    SCOPED_TRACE(name);
    Model model = seq2seq_model();
    model.compile({.loss = "mean_squared_error", .optimizer = make_optimizer("adam")});
    model.train_on_batch(x, y);
    save_model(model, folder / name);
    Model loaded = load_model(folder / name);
    // The second step of the loaded model is the original's only if Adam's moments and step came back.
    model.train_on_batch(x, y);
    loaded.train_on_batch(x, y);
    EXPECT_EQ(weight_bytes(loaded), weight_bytes(model));
    EXPECT_EQ(loaded.optimizer().iterations(), 2);
  }
}

TEST(FunctionalFiles, ChainFunctionalHoldsAsSequential) {
  const SymbolicTensor input = Input({4, 3}, {.name = "chars"});
  const SymbolicTensor hidden =
      call<LSTM>(5, RecurrentOptions{.return_sequences = true, .name = "lstm"}, input);
  const SymbolicTensor output =
      call<Dense>(3, DenseOptions{.activation = "softmax", .name = "dense"}, hidden);
  Model functional({input}, {output}, {.name = "chain"});
  EXPECT_TRUE(holds_as_sequential(functional));
  Rng rng(1);
  const Tensor x = testing::random_tensor({2, 4, 3}, rng, 1.0);
  const Tensor expected = functional.predict(x);
  const TempFolder folder;
  save_model(functional, folder / "chain.h5");
  Model loaded = load_model(folder / "chain.h5");
  EXPECT_FALSE(loaded.is_sequential());
  Sequential sequential = std::move(loaded);
  EXPECT_TRUE(sequential.is_sequential());
  EXPECT_TRUE(same_values(sequential.predict(x), expected));
  EXPECT_FALSE(holds_as_sequential(seq2seq_model()));
}

std::string error_of(const json& config) {
  try {
    model_from_keras_config(config, "m.json");
  } catch (const Error& error) {
    return error.what();
  }
  return "no error";
}

// tf.keras 2.11 Functional.get_config of Input -> LSTM, LSTM -> two heads joined by `joiner`.
json config_with(const json& joiner) {
  json config = json::parse(R"({"class_name": "Functional", "config": {"name": "m", "layers": [
    {"class_name": "InputLayer", "config": {"batch_input_shape": [null, 3, 2], "dtype": "float32", "sparse": false, "ragged": false, "name": "in"}, "name": "in", "inbound_nodes": []},
    {"class_name": "LSTM", "config": {"name": "lstm", "units": 2, "return_sequences": true}, "name": "lstm", "inbound_nodes": [[["in", 0, 0, {}]]]},
    {"class_name": "Dense", "config": {"name": "d1", "units": 2}, "name": "d1", "inbound_nodes": [[["lstm", 0, 0, {}]]]},
    {"class_name": "Dense", "config": {"name": "d2", "units": 2}, "name": "d2", "inbound_nodes": [[["lstm", 0, 0, {}]]]}],
    "input_layers": [["in", 0, 0]], "output_layers": [["joined", 0, 0]]}, "keras_version": "2.11.0"})");
  config["config"]["layers"].push_back(joiner);
  return config;
}

TEST(FunctionalFiles, MergeLayerJoinsTheCallsItReads) {
  Model model = model_from_keras_config(config_with(json::parse(R"(
    {"class_name": "Concatenate", "config": {"name": "joined", "axis": -1}, "name": "joined",
     "inbound_nodes": [[["d1", 0, 0, {}], ["d2", 0, 0, {}]]]})")),
                                        "m.json");
  EXPECT_EQ(model.layer("joined").class_name(), "Concatenate");
  EXPECT_EQ(model.outputs()[0].shape(), (Shape{kNone, 3, 4}));
  Rng rng(5);
  const Tensor x = testing::random_tensor({2, 3, 2}, rng, 1.0);
  const Tensor joined = model.predict(x);
  const auto lstm = *std::ranges::find_if(model.nodes(), [](const auto& node) { return node->layer->name() == "lstm"; });
  Model lstm_model(model.inputs(), {SymbolicTensor(lstm, 0)});
  const Tensor sequence = lstm_model.predict(x);
  const Tensor first = model.layer("d1").call(sequence)[0], second = model.layer("d2").call(sequence)[0];
  for (std::int64_t row = 0; row < 6; ++row)
    for (std::int64_t j = 0; j < 2; ++j) {
      EXPECT_EQ(joined[row * 4 + j], first[row * 2 + j]);
      EXPECT_EQ(joined[row * 4 + 2 + j], second[row * 2 + j]);
    }
}

TEST(FunctionalFiles, UnknownLayerIsRefusedByName) {
  EXPECT_EQ(error_of(config_with(json::parse(R"(
    {"class_name": "Attention", "config": {"name": "joined"}, "name": "joined",
     "inbound_nodes": [[["d1", 0, 0, {}], ["d2", 0, 0, {}]]]})"))),
            "no error");
  const std::string multi_head = error_of(config_with(json::parse(R"(
    {"class_name": "MultiHeadAttention", "config": {"name": "joined", "num_heads": 2, "key_dim": 2}, "name": "joined",
     "inbound_nodes": [[["d1", 0, 0, {}], ["d2", 0, 0, {}]]]})")));
  EXPECT_NE(multi_head.find("m.json"), std::string::npos) << multi_head;
  EXPECT_NE(multi_head.find("'joined' (MultiHeadAttention)"), std::string::npos) << multi_head;
  const std::string lambda = error_of(config_with(json::parse(R"(
    {"class_name": "Lambda", "config": {"name": "joined", "function": ["4wEAAAAAAAAA", null, null]},
     "name": "joined", "inbound_nodes": [[["d1", 0, 0, {}]]]})")));
  EXPECT_NE(lambda.find("'joined' (Lambda)"), std::string::npos) << lambda;
  EXPECT_NE(lambda.find("Python code"), std::string::npos) << lambda;
}

// Nested models load (nested_model_test.cpp); a broken one is refused by name.
TEST(FunctionalFiles, BrokenNestedModelIsRefusedByName) {
  const std::string message = error_of(config_with(json::parse(R"(
    {"class_name": "Functional", "config": {"name": "joined", "layers": []}, "name": "joined",
     "inbound_nodes": [[["d1", 0, 0, {}]]]})")));
  EXPECT_NE(message.find("'joined'"), std::string::npos) << message;
  EXPECT_NE(message.find("nested"), std::string::npos) << message;
}

TEST(FunctionalFiles, LayerOffThePathIsRefusedByName) {
  json config = config_with(json::parse(R"(
    {"class_name": "Dense", "config": {"name": "joined", "units": 1}, "name": "joined",
     "inbound_nodes": [[["d1", 0, 0, {}]]]})"));
  const std::string message = error_of(config);
  EXPECT_NE(message.find("'d2'"), std::string::npos) << message;
  EXPECT_NE(message.find("not on a path"), std::string::npos) << message;
}

TEST(FunctionalFiles, InputDtypeIsKept) {
  const SymbolicTensor ids = Input({6}, {.name = "ids", .dtype = "int32"});
  const SymbolicTensor out = call<Dense>(2, DenseOptions{.name = "d"}, ids);
  const Model model({ids}, {out}, {.name = "typed"});
  const json config = model.config();
  EXPECT_EQ(config.at("config").at("layers").at(0).at("config").at("dtype"), "int32");
  const TempFolder folder;
  for (const char* name : {"t.h5", "t.keras"}) {
    save_model(model, folder / name);
    EXPECT_EQ(load_model(folder / name).config(), config) << name;
  }
}

}  // namespace
}  // namespace rnnkit
