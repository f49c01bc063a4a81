// Sequential models built in C++ against the text Keras printed for the same models
// (tests/acceptance/summaries/STEM.keras2.12.txt, each beside the Keras JSON it came from), the ways Keras
// lets a model learn its input shape, predict in batches, and the config and .npz round trips.
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "rnnkit/rnnkit.h"
#include "test_support.h"

namespace rnnkit {
namespace {

using nlohmann::json;
using testing::all_close;

std::string keras_summary(const std::string& stem) {
  return testing::read_text(testing::test_data("acceptance/summaries/" + stem + ".keras2.12.txt"));
}

json keras_json(const std::string& stem) {
  return testing::read_json(testing::test_data("acceptance/summaries/" + stem + ".json"));
}

bool bit_identical(const Tensor& a, const Tensor& b) {
  return a.shape() == b.shape() &&
         std::memcmp(a.data(), b.data(), sizeof(float) * std::size_t(a.size())) == 0;
}

using testing::TempFolder;

// The layers of a Keras model JSON other than its InputLayer, as (class_name, config) pairs.
std::vector<json> keras_layers(const json& model) {
  std::vector<json> layers;
  for (const json& layer : model.at("config").at("layers"))
    if (layer.at("class_name") != "InputLayer") layers.push_back(layer);
  return layers;
}

// The fields that decide the summary agree with the Keras JSON: class, name, units, return_sequences,
// the wrapped layer, Embedding's sizes.
void expect_same_layers_as_keras(const Sequential& model, const json& keras) {
  const std::vector<json> expected = keras_layers(keras);
  const std::vector<json> ours = keras_layers(model.config());
  ASSERT_EQ(ours.size(), expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(ours[i].at("class_name"), expected[i].at("class_name")) << "layer " << i;
    const json& a = ours[i].at("config");
    const json& e = expected[i].at("config");
    for (const char* key : {"name", "units", "return_sequences", "return_state", "go_backwards", "activation",
                            "reset_after", "input_dim", "output_dim", "mask_zero", "merge_mode"})
      if (e.contains(key)) {
        EXPECT_EQ(a.value(key, json()), e.at(key)) << "layer " << i << " field " << key;
      }
    if (e.contains("layer")) {
      EXPECT_EQ(a.at("layer").at("class_name"), e.at("layer").at("class_name"));
      for (const char* key : {"name", "units", "return_sequences", "activation"})
        if (e.at("layer").at("config").contains(key)) {
          EXPECT_EQ(a.at("layer").at("config").value(key, json()), e.at("layer").at("config").at(key)) << key;
        }
    }
  }
}

// ---------------------------------------------------------------------------------------------------------
// The issue's example, and the other tutorial models, built in C++.

TEST(ModelSummary, IssueExamplePrintsWhatKerasPrinted) {
  clear_session();
  rnnkit::Sequential model;
  model.add(rnnkit::Embedding(100, 3));
  model.add(rnnkit::Bidirectional(rnnkit::LSTM(32)));
  model.add(rnnkit::Dense(1));
  EXPECT_EQ(model.summary_text(), keras_summary("embedding_bilstm_dense"));
  std::ostringstream printed;
  model.summary(printed);
  EXPECT_EQ(printed.str(), keras_summary("embedding_bilstm_dense"));
  EXPECT_EQ(model.count_params(), 9581);
  expect_same_layers_as_keras(model, keras_json("embedding_bilstm_dense"));
}

struct TutorialModel {
  std::string stem;
  std::function<void(Sequential&)> add_layers;
};

std::vector<TutorialModel> tutorial_models() {
  return {
      {"simple_rnn_2x10",
       [](Sequential& m) {
         m.add(SimpleRNN(3, {.input_shape = Shape{2, 10}}));
       }},
      {"simple_rnn_batch8",
       [](Sequential& m) {
         m.add(SimpleRNN(3, {.batch_input_shape = Shape{8, 2, 10}}));
       }},
      {"deep_simple_rnn",
       [](Sequential& m) {
         m.add(SimpleRNN(8, {.return_sequences = true, .input_shape = Shape{10, 5}}));
         m.add(SimpleRNN(8, {.return_sequences = true}));
       }},
      {"embedding3_lstm_dense",
       [](Sequential& m) {
         m.add(Embedding(100, 3, {.input_length = 32}));
         m.add(LSTM(32));
         m.add(Dense(1));
       }},
      {"stacked_lstm",
       [](Sequential& m) {
         m.add(Embedding(100, 32));
         m.add(LSTM(32, {.return_sequences = true}));
         m.add(LSTM(32));
         m.add(Dense(1));
       }},
      {"gru_reset_after",
       [](Sequential& m) {
         m.add(GRU(3, {.input_shape = Shape{2, 10}}));
       }},
      {"gru_reset_before",
       [](Sequential& m) {
         m.add(GRU(3, {.reset_after = false, .input_shape = Shape{2, 10}}));
       }},
      {"char_rnn_td",
       [](Sequential& m) {
         m.add(LSTM(256, {.return_sequences = true, .input_shape = Shape{kNone, 56}}));
         m.add(LSTM(256, {.return_sequences = true}));
         m.add(TimeDistributed(Dense(56, {.activation = "softmax"})));
       }},
  };
}

void PrintTo(const TutorialModel& tutorial, std::ostream* out) {
  *out << tutorial.stem;
}

class ModelTutorial : public ::testing::TestWithParam<TutorialModel> {};

TEST_P(ModelTutorial, BuiltInCppPrintsWhatKerasPrinted) {
  clear_session();
  Sequential model;
  GetParam().add_layers(model);
  EXPECT_EQ(model.summary_text(), keras_summary(GetParam().stem));
  expect_same_layers_as_keras(model, keras_json(GetParam().stem));
}

std::string tutorial_name(const ::testing::TestParamInfo<TutorialModel>& tutorial) {
  return tutorial.param.stem;
}

INSTANTIATE_TEST_SUITE_P(ModelAcceptance, ModelTutorial, ::testing::ValuesIn(tutorial_models()),
                         tutorial_name);

// ---------------------------------------------------------------------------------------------------------
// Every Keras way to give the input shape gives the same model: SimpleRNN(3) on (2, 10).

TEST(ModelInput, EveryKerasWayGivesTheSameSummary) {
  const std::string expected = keras_summary("simple_rnn_2x10");
  const std::vector<std::pair<std::string, std::function<void(Sequential&)>>> ways{
      {"input_shape",
       [](Sequential& m) {
         m.add(SimpleRNN(3, {.input_shape = Shape{2, 10}}));
       }},
      {"batch_input_shape",
       [](Sequential& m) {
         m.add(SimpleRNN(3, {.batch_input_shape = Shape{kNone, 2, 10}}));
       }},
      {"input_dim + input_length",
       [](Sequential& m) { m.add(SimpleRNN(3, {.input_dim = 10, .input_length = 2})); }},
      {"Input first",
       [](Sequential& m) {
         m.add(Input(Shape{2, 10}));
         m.add(SimpleRNN(3));
       }},
  };
  for (const auto& [way, add_layers] : ways) {
    clear_session();
    Sequential model;
    add_layers(model);
    EXPECT_TRUE(model.built()) << way;
    EXPECT_EQ(model.input_shape(), (Shape{kNone, 2, 10})) << way;
    EXPECT_EQ(model.size(), 1u) << way << ": the InputLayer is not one of model.layers";
    EXPECT_EQ(model.summary_text(), expected) << way;
  }
}

TEST(ModelInput, InputLayerIsNamedInput1) {
  clear_session();
  Sequential model;
  const SymbolicTensor input = Input(Shape{2, 10});
  EXPECT_EQ(input.layer().name(), "input_1");
  EXPECT_EQ(input.shape(), (Shape{kNone, 2, 10}));
  model.add(input);
  model.add(SimpleRNN(3));
  EXPECT_EQ(model.layer(0).name(), "simple_rnn");
  EXPECT_EQ(model.output_shape(), (Shape{kNone, 3}));
}

TEST(ModelInput, DeferredBuildsOnTheFirstCall) {
  clear_session();
  Sequential model;
  model.add(SimpleRNN(3));
  EXPECT_FALSE(model.built());
  EXPECT_THROW((void)model.summary_text(), Error) << "Keras: This model has not yet been built";
  const Tensor y = model(Tensor({4, 2, 10}, 0.5f));
  EXPECT_EQ(y.shape(), (Shape{4, 3}));
  EXPECT_TRUE(model.built());
  EXPECT_EQ(model.input_shape(), (Shape{kNone, 2, 10})) << "the batch size stays free";
  EXPECT_EQ(model.summary_text(), keras_summary("simple_rnn_2x10"));
}

TEST(ModelInput, ExplicitBuildWorksToo) {
  clear_session();
  Sequential model;
  model.add(SimpleRNN(3));
  model.build({kNone, 2, 10});
  EXPECT_EQ(model.summary_text(), keras_summary("simple_rnn_2x10"));
}

// ---------------------------------------------------------------------------------------------------------
// predict in batches gives what one call gives.

Sequential small_text_model(std::uint64_t seed) {
  Sequential model({.seed = seed});
  model.add(Embedding(30, 4, {.mask_zero = true}));
  model.add(LSTM(5, {.return_sequences = true}));
  model.add(GRU(3));
  model.add(Dense(2, {.activation = "softmax"}));
  return model;
}

const Tensor kTokens({7, 6}, {1,  2,  3,  4, 5, 6, 0, 0, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 29, 28, 27,
                              26, 25, 24, 0, 0, 0, 0, 0, 1, 3, 1, 4,  1,  5,  9,  2,  6,  5,  3,  5,  8});

TEST(ModelPredict, BatchesGiveTheSameNumbersAsOneCall) {
  Sequential model = small_text_model(21);
  const Tensor whole = model(kTokens);
  ASSERT_EQ(whole.shape(), (Shape{7, 2}));
  for (std::int64_t batch_size : {1, 2, 3, 7, 32})
    EXPECT_TRUE(all_close(model.predict(kTokens, batch_size), whole, 1e-6)) << "batch_size " << batch_size;
  // Each row alone: no sample sees another.
  for (std::int64_t row = 0; row < 7; ++row) {
    std::vector<float> ids(kTokens.data() + row * 6, kTokens.data() + (row + 1) * 6);
    const Tensor alone = model(Tensor({1, 6}, ids));
    EXPECT_NEAR(alone[0], whole.at({row, 0}), 1e-6) << "row " << row;
    EXPECT_NEAR(alone[1], whole.at({row, 1}), 1e-6) << "row " << row;
  }
  // softmax rows sum to one
  for (std::int64_t row = 0; row < 7; ++row) EXPECT_NEAR(whole.at({row, 0}) + whole.at({row, 1}), 1.0, 1e-6);
}

// ---------------------------------------------------------------------------------------------------------
// config() round trips.

Sequential varied_model() {
  Sequential model({.seed = 5});
  model.add(Embedding(50, 4, {.input_length = 6, .mask_zero = true}));
  model.add(Bidirectional(GRU(3, {.return_sequences = true, .reset_after = false}), {.merge_mode = "sum"}));
  model.add(LSTM(4, {.recurrent_activation = "hard_sigmoid",
                     .return_sequences = true,
                     .go_backwards = true,
                     .unit_forget_bias = false}));
  model.add(Dropout(0.25f));
  model.add(SimpleRNN(3, {.activation = "relu", .use_bias = false, .return_sequences = true}));
  model.add(TimeDistributed(Dense(3, {.activation = "softmax"})));
  return model;
}

TEST(ModelConfig, RoundTripGivesTheSameModel) {
  clear_session();
  Sequential model = varied_model();
  const json config = model.config();
  Sequential copy = model_from_config(config, "round trip");
  EXPECT_EQ(copy.name(), model.name());
  EXPECT_EQ(copy.summary_text(), model.summary_text());
  EXPECT_EQ(copy.config(), config);

  const Tensor x({2, 6}, {0, 0, 3, 14, 15, 9, 2, 6, 5, 3, 5, 0});
  const Tensor y = model(x);
  EXPECT_FALSE(all_close(copy(x), y, 1e-4, 0)) << "fresh weights differ (so the next check means something)";
  copy.set_weights(model.get_weights());
  EXPECT_TRUE(bit_identical(copy(x), y));
}

TEST(ModelConfig, RoundTripThroughAJsonFile) {
  clear_session();
  Sequential model = varied_model();
  TempFolder folder;
  const auto path = folder.path() / "model.json";
  {
    std::ofstream file(path);
    file << model.config().dump(2);
  }
  Sequential copy = load_model_json(path);
  EXPECT_EQ(copy.summary_text(), model.summary_text());
  copy.set_weights(model.get_weights());
  const Tensor x({1, 6}, {1, 2, 3, 0, 4, 5});
  EXPECT_TRUE(bit_identical(copy(x), model(x)));
}

// The C++-built tutorial models write the config Keras wrote for them, field for field, InputLayer included.
TEST(ModelConfig, CppModelsWriteKerasConfig) {
  for (const TutorialModel& tutorial : tutorial_models()) {
    clear_session();
    Sequential model;
    tutorial.add_layers(model);
    const json keras = keras_json(tutorial.stem);
    EXPECT_EQ(model.config(), keras) << tutorial.stem << "\n" << json::diff(model.config(), keras).dump();
  }
}

// tf.keras 2.11's to_json() lists the Sequential's InputLayer first, named after the first layer
// ("simple_rnn_input"), whenever the model knows its input shape.
TEST(ModelConfig, ListsTheInputLayerAsKeras) {
  clear_session();
  Sequential model;
  model.add(SimpleRNN(3, {.input_shape = Shape{2, 10}}));
  const json ours = model.config().at("config").at("layers");
  const json keras = keras_json("simple_rnn_2x10").at("config").at("layers");
  EXPECT_EQ(ours, keras);
}

// Each tutorial JSON survives load -> config() -> load with its summary.
TEST(ModelConfig, TutorialJsonRoundTrips) {
  for (const TutorialModel& tutorial : tutorial_models()) {
    Sequential loaded = model_from_config(keras_json(tutorial.stem), tutorial.stem);
    Sequential again = model_from_config(loaded.config(), tutorial.stem + " again");
    EXPECT_EQ(again.summary_text(), keras_summary(tutorial.stem)) << tutorial.stem;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Weights through .npz.

Sequential npz_model(std::uint64_t seed) {
  clear_session();  // the same layer names each time: weights are matched by name
  Sequential model({.seed = seed});
  model.add(Embedding(20, 3));
  model.add(Bidirectional(LSTM(4, {.return_sequences = true})));
  model.add(GRU(2));
  model.add(Dense(1));
  return model;
}

TEST(ModelWeights, NpzRoundTripIsBitIdentical) {
  Sequential source = npz_model(1);
  Sequential target = npz_model(2);
  const std::vector<Tensor> expected = source.get_weights();
  ASSERT_EQ(expected.size(), 1u + 6u + 3u + 2u);
  EXPECT_FALSE(all_close(target.get_weights()[1], expected[1], 1e-6, 0))
      << "different seeds, different weights";

  TempFolder folder;
  const auto path = folder.path() / "weights.npz";
  save_weights_npz(source, path);
  load_weights_npz(target, path);
  const std::vector<Tensor> loaded = target.get_weights();
  ASSERT_EQ(loaded.size(), expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) EXPECT_TRUE(bit_identical(loaded[i], expected[i])) << i;

  const Tensor x({2, 3}, {1, 2, 3, 4, 5, 6});
  EXPECT_TRUE(bit_identical(target(x), source(x)));
}

// The archive's members are Keras's tf.keras 2.x weight names, in model.weights order.
TEST(ModelWeights, NpzMembersAreKerasWeightNames) {
  Sequential model = npz_model(1);
  TempFolder folder;
  const auto path = folder.path() / "weights.npz";
  save_weights_npz(model, path);
  std::vector<std::string> names;
  for (const auto& [name, tensor] : load_npz(path)) names.push_back(name);
  EXPECT_EQ(names, (std::vector<std::string>{
                       "embedding/embeddings:0",
                       "bidirectional/forward_lstm/lstm_cell/kernel:0",
                       "bidirectional/forward_lstm/lstm_cell/recurrent_kernel:0",
                       "bidirectional/forward_lstm/lstm_cell/bias:0",
                       "bidirectional/backward_lstm/lstm_cell/kernel:0",
                       "bidirectional/backward_lstm/lstm_cell/recurrent_kernel:0",
                       "bidirectional/backward_lstm/lstm_cell/bias:0",
                       "gru/gru_cell/kernel:0",
                       "gru/gru_cell/recurrent_kernel:0",
                       "gru/gru_cell/bias:0",
                       "dense/kernel:0",
                       "dense/bias:0",
                   }));
}

}  // namespace
}  // namespace rnnkit
