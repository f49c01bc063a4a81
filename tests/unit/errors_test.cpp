// Bad input throws rnnkit::Error, and the message names what is at fault: the layer, the field, the shapes.
#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <limits>
#include <source_location>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "rnnkit/rnnkit.h"
#include "test_support.h"

namespace rnnkit {
namespace {

using testing::expect_error;

using nlohmann::json;

void build(Layer& layer, const Shape& input_shape) {
  Rng rng(1);
  layer.build(input_shape, rng);
}

using testing::TempFolder;

// The helper itself: it must fail on no throw, on the wrong exception and on a missing part.
TEST(ErrorsHelper, FailsWhenItShould) {
  EXPECT_NONFATAL_FAILURE(expect_error([] { return 0; }, {}), "did not throw");
  EXPECT_NONFATAL_FAILURE(expect_error([]() -> int { throw std::runtime_error("x"); }, {}), "something else");
  EXPECT_NONFATAL_FAILURE(expect_error([]() -> int { fail("layer 'a'"); }, {"layer 'b'"}),
                          "does not mention");
  expect_error([]() -> int { fail("layer 'a' (LSTM)"); }, {"layer 'a'", "LSTM"});
}

// ---------------------------------------------------------------------------------------------------------
// Configs.

TEST(ErrorsConfig, UnknownClassName) {
  const json layer = {{"class_name", "Conv9D"}, {"config", {{"name", "conv"}}}};
  expect_error([&] { return layer_from_config(layer, "model.json layer 2"); },
               {"Conv9D", "model.json layer 2", "LSTM"});  // the known ones are listed
  const json model = {
      {"class_name", "Sequential"},
      {"config",
       {{"name", "m"}, {"layers", {{{"class_name", "Dense"}, {"config", {{"units", 1}}}}, layer}}}}};
  expect_error([&] { return model_from_config(model, "m.json"); }, {"m.json", "layer 1", "Conv9D"});
}

TEST(ErrorsConfig, UnknownActivation) {
  const json dense = {{"class_name", "Dense"},
                      {"config", {{"name", "head"}, {"units", 2}, {"activation", "swishy"}}}};
  expect_error([&] { return layer_from_config(dense, "here"); }, {"swishy", "activation", "head"});
  const json lstm = {{"class_name", "LSTM"},
                     {"config", {{"name", "enc"}, {"units", 2}, {"recurrent_activation", "rrelu"}}}};
  expect_error([&] { return layer_from_config(lstm, "here"); }, {"rrelu", "recurrent_activation", "enc"});
  expect_error([] { return SimpleRNN(2, {.activation = "gelu_x", .name = "rnn"}); },
               {"gelu_x", "activation", "rnn"});
  expect_error([] { return Dense(2, {.activation = "Tanh", .name = "d"}); }, {"Tanh", "activation", "'d'"});
}

TEST(ErrorsConfig, MissingOrMistypedField) {
  const json no_units = {{"class_name", "GRU"}, {"config", {{"name", "g"}}}};
  expect_error([&] { return layer_from_config(no_units, "here"); }, {"'g'", "units", "missing"});
  const json text_units = {{"class_name", "GRU"}, {"config", {{"name", "g"}, {"units", "three"}}}};
  expect_error([&] { return layer_from_config(text_units, "here"); }, {"'g'", "units", "three"});
  const json not_a_layer = {{"config", {{"units", 2}}}};
  expect_error([&] { return layer_from_config(not_a_layer, "layer 0"); }, {"layer 0", "class_name"});
}

TEST(ErrorsConfig, UnsupportedDtypeAndTimeMajor) {
  const json half = {{"class_name", "Dense"},
                     {"config", {{"name", "d"}, {"units", 2}, {"dtype", "float16"}}}};
  expect_error([&] { return layer_from_config(half, "here"); }, {"float16", "dtype", "'d'"});
  const json time_major = {{"class_name", "LSTM"},
                           {"config", {{"name", "l"}, {"units", 2}, {"time_major", true}}}};
  expect_error([&] { return layer_from_config(time_major, "here"); }, {"time_major", "'l'"});
}

// A constraint rnnkit does not know, or with fields Keras would refuse: an error naming the layer and field.
TEST(ErrorsConfig, BadConstraints) {
  const auto dense_with = [](const json& constraint) {
    return json{{"class_name", "Dense"},
                {"config", {{"name", "out"}, {"units", 2}, {"kernel_constraint", constraint}}}};
  };
  const std::vector<std::pair<json, std::vector<std::string_view>>> bad = {
      {{{"class_name", "RadialConstraint"}, {"config", json::object()}},
       {"RadialConstraint", "not supported"}},
      {{{"class_name", "MaxNormal"}, {"config", json::object()}}, {"unknown constraint class", "MaxNorm"}},
      {{{"class_name", "MaxNorm"}, {"config", {{"max_value", "2"}}}}, {"'max_value'", "number"}},
      {{{"class_name", "MaxNorm"}, {"config", {{"max_value", -1.0}}}}, {"min_value <= max_value"}},
      {{{"class_name", "MinMaxNorm"}, {"config", {{"min_value", 2.0}, {"max_value", 1.0}}}},
       {"min_value <= max_value"}},
      {{{"class_name", "MinMaxNorm"}, {"config", {{"rate", 1.5}}}}, {"rate", "[0, 1]"}},
      {{{"class_name", "UnitNorm"}, {"config", {{"axis", "rows"}}}}, {"'axis'", "integer"}},
      {{{"class_name", "NonNeg"}, {"config", {{"axis", 0}}}}, {"unknown constraint field 'axis'"}},
      {"max_norms", {"unknown constraint 'max_norms'"}},
      {7, {"a constraint must be"}},
  };
  for (const auto& [constraint, parts] : bad) {
    SCOPED_TRACE(constraint.dump());
    std::vector<std::string_view> expected = {"'out'", "kernel_constraint"};
    expected.insert(expected.end(), parts.begin(), parts.end());
    try {
      layer_from_config(dense_with(constraint), "here");
      ADD_FAILURE() << "did not throw";
    } catch (const Error& error) {
      for (std::string_view part : expected)
        EXPECT_NE(std::string(error.what()).find(part), std::string::npos) << part << " in " << error.what();
    }
  }
  // An axis the weight does not have: found when the layer builds its weights.
  expect_error(
      [] {
        Sequential model;
        model.add(Dense(2, {.kernel_constraint = MaxNorm(2.0, 2), .input_shape = Shape{3}, .name = "out"}));
        return model.count_params();
      },
      {"'out'", "kernel", "axis 2", "(3, 2)"});
}

// A regularizer that is not Keras's L1, L2 or L1L2 with finite factors >= 0: an error naming the layer and
// the field, never a crash or a silent default.
TEST(ErrorsConfig, BadRegularizers) {
  const auto lstm_with = [](const json& regularizer) {
    return json{{"class_name", "LSTM"},
                {"config", {{"name", "enc"}, {"units", 2}, {"recurrent_regularizer", regularizer}}}};
  };
  const std::vector<std::pair<json, std::vector<std::string_view>>> bad = {
      {{{"class_name", "L2"}, {"config", {{"l2", -0.01}}}}, {"'l2'", ">= 0", "-0.01"}},
      {{{"class_name", "L2"}, {"config", {{"l2", "0.01"}}}}, {"'l2'", "number"}},
      {{{"class_name", "L1L2"}, {"config", {{"l1", nullptr}}}}, {"'l1'", "number"}},
      {{{"class_name", "L2"}, {"config", {{"l1", 0.01}}}}, {"unknown regularizer field 'l1'"}},
      {{{"class_name", "L3"}, {"config", json::object()}}, {"unknown regularizer class 'L3'", "L1L2"}},
      {{{"class_name", "OrthogonalRegularizer"}, {"config", {{"mode", "diagonal"}}}},
       {"OrthogonalRegularizer", "diagonal"}},
      {"l3", {"unknown regularizer 'l3'"}},
      {42, {"null, a name or an object", "42"}},
      {{{"config", {{"l2", 0.01}}}}, {"'class_name'"}},
      {{{"class_name", "L2"}, {"config", 0.01}}, {"'config' must be an object"}},
  };
  for (const auto& [regularizer, parts] : bad) {
    SCOPED_TRACE(regularizer.dump());
    std::vector<std::string_view> expected = {"'enc'", "recurrent_regularizer"};
    expected.insert(expected.end(), parts.begin(), parts.end());
    try {
      layer_from_config(lstm_with(regularizer), "here");
      ADD_FAILURE() << "did not throw";
    } catch (const Error& error) {
      for (std::string_view part : expected)
        EXPECT_NE(std::string(error.what()).find(part), std::string::npos) << part << " in " << error.what();
    }
  }
  // Given in C++: checked the same way, naming the layer.
  expect_error([] { return Dense(2, {.kernel_regularizer = L2(-1.0), .name = "out"}); },
               {"'out'", "kernel_regularizer", "'l2'", ">= 0"});
  expect_error([] { return Embedding(5, 2, {.activity_regularizer = L1(std::nan("")), .name = "emb"}); },
               {"'emb'", "activity_regularizer", "'l1'"});
  // A layer kind without an activity penalty in rnnkit says so rather than dropping it.
  const json dropout = {{"class_name", "Dropout"},
                        {"config", {{"name", "drop"}, {"rate", 0.5}, {"activity_regularizer", "l2"}}}};
  expect_error([&] { return layer_from_config(dropout, "here"); },
               {"'drop'", "activity_regularizer", "Dropout"});
}

// An initializer rnnkit does not know (a custom one) is kept in the config; creating a weight with it fails.
TEST(ErrorsConfig, UnknownInitializer) {
  expect_error(
      [] {
        Sequential model;
        model.add(LSTM(2, {.kernel_initializer = "glorot_bogus", .input_shape = Shape{3, 2}, .name = "enc"}));
        return model;
      },
      {"glorot_bogus", "kernel_initializer", "enc"});
  expect_error(
      [] {
        Sequential model;
        model.add(Embedding(5, 2, {.embeddings_initializer = {{"class_name", "Bogus"}}, .name = "emb"}));
        model.build({kNone, 3});
        return model;
      },
      {"Bogus", "embeddings_initializer", "emb"});
}

TEST(ErrorsConfig, ModelJsonNotSequential) {
  expect_error([] { return model_from_config(json::array({1, 2}), "x.json"); }, {"x.json", "Sequential"});
  const json functional = {{"class_name", "Functional"},
                           {"config", {{"name", "f"}, {"layers", json::array()}}}};
  expect_error([&] { return model_from_config(functional, "f.json"); }, {"f.json", "Functional"});
}

// ---------------------------------------------------------------------------------------------------------
// Sizes.

TEST(ErrorsSizes, UnitsMustBePositive) {
  expect_error([] { return LSTM(0, {.name = "l0"}); }, {"l0", "units", "0"});
  expect_error([] { return GRU(-3, {.name = "g3"}); }, {"g3", "units", "-3"});
  expect_error([] { return SimpleRNN(0, {.name = "s0"}); }, {"s0", "units"});
  expect_error([] { return Dense(0, {.name = "d0"}); }, {"d0", "units"});
  expect_error([] { return Embedding(0, 3, {.name = "e0"}); }, {"e0", "input_dim", "0"});
  expect_error([] { return Embedding(3, -1, {.name = "e1"}); }, {"e1", "output_dim", "-1"});
  const json config = {{"class_name", "LSTM"}, {"config", {{"name", "zero"}, {"units", 0}}}};
  expect_error([&] { return layer_from_config(config, "here"); }, {"zero", "units"});
}

TEST(ErrorsSizes, RatesInRange) {
  expect_error([] { return LSTM(2, {.dropout = 1.5f, .name = "l"}); }, {"'l'", "dropout", "1.5"});
  expect_error([] { return GRU(2, {.recurrent_dropout = -0.5f, .name = "g"}); },
               {"'g'", "recurrent_dropout", "-0.5"});
  expect_error([] { return Dropout(1.0f, {.name = "drop"}); }, {"drop", "rate", "1"});
}

TEST(ErrorsSizes, InputShapeDeclaredTwiceOrNotPositive) {
  expect_error(
      [] {
        return SimpleRNN(2, {.input_shape = Shape{3, 1}, .batch_input_shape = Shape{2, 3, 1}});
      },
      {"input_shape", "batch_input_shape"});
  expect_error(
      [] {
        return SimpleRNN(2, {.input_shape = Shape{0, 1}, .name = "r"});
      },
      {"'r'", "(None, 0, 1)"});
}

// ---------------------------------------------------------------------------------------------------------
// Calls with the wrong input.

TEST(ErrorsCall, WrongRankNamesBothShapes) {
  SimpleRNN layer(2, {.name = "rnn"});
  build(layer, {kNone, 3, 4});
  expect_error([&] { return layer.call(Tensor({2, 3})); }, {"'rnn'", "(None, 3, 4)", "(2, 3)"});
  expect_error([&] { return layer.call(Tensor({2, 3, 4, 1})); }, {"'rnn'", "(None, 3, 4)", "(2, 3, 4, 1)"});
  LSTM unbuilt(2, {.name = "fresh"});
  expect_error([&] { return unbuilt.call(Tensor({2, 3})); }, {"'fresh'", "(None, 3)", "timesteps"});
}

TEST(ErrorsCall, WrongFeatureSizeNamesBothShapes) {
  SimpleRNN layer(2, {.name = "rnn"});
  build(layer, {kNone, 3, 4});
  expect_error([&] { return layer.call(Tensor({2, 3, 5})); }, {"'rnn'", "(None, 3, 4)", "(2, 3, 5)"});
  Dense dense(2, {.name = "head"});
  build(dense, {kNone, 4});
  expect_error([&] { return dense.call(Tensor({2, 5})); }, {"'head'", "(None, 4)", "(2, 5)"});
}

TEST(ErrorsCall, ModelWithWrongInputNamesBothShapes) {
  Sequential model({.name = "net"});
  model.add(LSTM(2, {.input_shape = Shape{3, 4}}));
  expect_error([&] { return model(Tensor({2, 3, 5})); }, {"'net'", "(None, 3, 4)", "(2, 3, 5)"});
  expect_error([&] { return model.predict(Tensor({2, 3, 5})); }, {"(None, 3, 4)", "(2, 3, 5)"});
  expect_error([&] { return model.predict(Tensor({2, 3, 4}), 0); }, {"'net'", "batch_size", "0"});
}

TEST(ErrorsCall, NoTimesteps) {
  LSTM layer(2, {.name = "empty"});
  build(layer, {kNone, kNone, 3});
  expect_error([&] { return layer.call(Tensor({2, 0, 3})); }, {"'empty'", "timestep", "(2, 0, 3)"});
}

// ---------------------------------------------------------------------------------------------------------
// set_weights.

TEST(ErrorsWeights, WrongCountOrShapeNamesTheWeight) {
  LSTM layer(2, {.name = "enc"});
  build(layer, {kNone, 3, 3});
  expect_error([&] { layer.set_weights({Tensor({3, 8})}); }, {"'enc'", "3 weights", "received 1"});
  expect_error(
      [&] {
        layer.set_weights({Tensor({3, 8}), Tensor({3, 8}), Tensor({8})});
      },
      {"'enc'", "recurrent_kernel", "(2, 8)", "(3, 8)"});
  expect_error(
      [&] {
        layer.set_weights({Tensor({3, 8}), Tensor({2, 8}), Tensor({2, 4})});
      },
      {"'enc'", "bias", "(8,)", "(2, 4)"});
  GRU gru(3, {.name = "g"});
  build(gru, {kNone, 2, 10});
  // A reset_after=False bias into a reset_after GRU: Keras's "(2, 9)" vs "(9,)".
  expect_error(
      [&] {
        gru.set_weights({Tensor({10, 9}), Tensor({3, 9}), Tensor({9})});
      },
      {"'g'", "bias", "(2, 9)", "(9,)"});
}

TEST(ErrorsWeights, ModelWrongCount) {
  Sequential model({.name = "net"});
  model.add(Embedding(10, 2));
  model.add(Dense(1));
  expect_error([&] { model.set_weights({Tensor({10, 2})}); }, {"'net'", "3", "received 1"});
}

TEST(ErrorsWeights, UnbuiltLayerSaysSo) {
  Dense layer(2, {.name = "late"});
  expect_error([&] { layer.set_weights({Tensor({4, 2}), Tensor({2})}); }, {"'late'", "not built"});
}

TEST(ErrorsWeights, NpzForAnotherModelNamesTheMissingWeight) {
  TempFolder folder;
  const auto path = folder.path() / "w.npz";
  Sequential source({.name = "a"});
  source.add(Dense(2, {.input_shape = Shape{3}, .name = "first"}));
  save_weights_npz(source, path);
  Sequential other({.name = "b"});
  other.add(Dense(2, {.input_shape = Shape{3}, .name = "second"}));
  expect_error([&] { load_weights_npz(other, path); }, {"w.npz", "second", "kernel"});
  Sequential wider({.name = "c"});
  wider.add(Dense(5, {.input_shape = Shape{3}, .name = "first"}));
  expect_error([&] { load_weights_npz(wider, path); }, {"w.npz", "'first'", "kernel", "(3, 5)", "(3, 2)"});
}

// ---------------------------------------------------------------------------------------------------------
// Token ids.

TEST(ErrorsEmbedding, TokenIdsMustBeIntegersInRange) {
  Embedding layer(10, 2, {.name = "tokens"});
  build(layer, {kNone, kNone});
  expect_error(
      [&] {
        return layer.call(Tensor({1, 4}, {1, 2, 3, 10}));
      },
      {"'tokens'", "10", "[0, 10)", "position 3"});
  expect_error([&] { return layer.call(Tensor({1, 2}, {-1, 2})); }, {"'tokens'", "-1"});
  expect_error([&] { return layer.call(Tensor({1, 2}, {1.5f, 2})); }, {"'tokens'", "1.5"});
  expect_error(
      [&] {
        return layer.call(Tensor({1, 2}, {1, std::numeric_limits<float>::quiet_NaN()}));
      },
      {"'tokens'", "nan", "position 1"});
  expect_error(
      [&] {
        return layer.call(Tensor({1, 1}, {std::numeric_limits<float>::infinity()}));
      },
      {"'tokens'", "inf"});
  EXPECT_NO_THROW(layer.call(Tensor({1, 3}, {0, 9, 5})));
}

TEST(ErrorsEmbedding, InsideAModel) {
  Sequential model;
  model.add(Embedding(10, 2, {.name = "words"}));
  model.add(LSTM(2));
  expect_error([&] { return model.predict(Tensor({2, 2}, {1, 2, 3, 12})); }, {"'words'", "12"});
}

// ---------------------------------------------------------------------------------------------------------
// Model files.

TEST(ErrorsFiles, TruncatedModelJson) {
  clear_session();
  Sequential model;
  model.add(Embedding(100, 3));
  model.add(LSTM(4));
  const std::string text = model.config().dump();
  TempFolder folder;
  const auto path = folder.path() / "truncated.json";
  {
    std::ofstream file(path);
    file << text.substr(0, text.size() / 2);
  }
  expect_error([&] { return load_model_json(path); }, {"truncated.json", "not valid JSON"});
  expect_error([&] { return load_model_json(folder.path() / "absent.json"); },
               {"absent.json", "cannot open"});
}

// Valid JSON of the wrong structure is still an rnnkit::Error naming the file (design.md: rnnkit throws one
// exception type), never a raw nlohmann::json exception.
TEST(ErrorsFiles, MalformedModelStructure) {
  const std::vector<std::pair<std::string, std::string>> cases{
      {"no_layers.json", R"({"class_name": "Sequential", "config": {"name": "x"}})"},
      {"config_string.json", R"({"class_name": "Sequential", "config": "oops"})"},
      {"class_number.json", R"({"class_name": 5, "config": {"layers": []}})"},
      {"version_number.json",
       R"({"class_name": "Sequential", "keras_version": 3, "config": {"layers": []}})"},
      {"name_number.json",
       R"({"class_name": "Sequential", "config": {"layers": [{"class_name": "Dense", "config": {"name": 5, "units": 2}}]}})"},
      {"dtype_number.json",
       R"({"class_name": "Sequential", "config": {"layers": [{"class_name": "Dense", "config": {"name": "d", "units": 2, "dtype": 5}}]}})"},
      {"bidirectional_no_layer.json",
       R"({"class_name": "Sequential", "config": {"layers": [{"class_name": "Bidirectional", "config": {"name": "b"}}]}})"},
      {"initializer_class_number.json",
       R"({"class_name": "Sequential", "config": {"layers": [{"class_name": "Dense", "config": {"name": "d", "units": 2, "kernel_initializer": {"class_name": 7}}}]}})"},
      {"initializer_value_text.json",
       R"({"class_name": "Sequential", "config": {"layers": [{"class_name": "Dense", "config": {"name": "d", "units": 2, "batch_input_shape": [null, 3], "kernel_initializer": {"class_name": "RandomUniform", "config": {"minval": "a"}}}}]}})"},
      {"input_length_text.json",
       R"({"class_name": "Sequential", "config": {"layers": [{"class_name": "Embedding", "config": {"name": "e", "input_dim": 3, "output_dim": 2, "input_length": ["x"]}}]}})"},
  };
  TempFolder folder;
  std::string leaked;
  for (const auto& [file_name, text] : cases) {
    const auto path = folder.path() / file_name;
    {
      std::ofstream file(path);
      file << text;
    }
    try {
      (void)load_model_json(path);
      ADD_FAILURE() << file_name << " was accepted";
    } catch (const Error& error) {
      EXPECT_NE(std::string(error.what()).find(file_name), std::string::npos) << error.what();
    } catch (const std::exception& other) {
      leaked += "\n  " + file_name + ": " + other.what();
    }
  }
  if (!leaked.empty())
    FAIL() << "BUG: load_model_json lets nlohmann::json exceptions out, not rnnkit::Error:" << leaked;
}

// ---------------------------------------------------------------------------------------------------------
// Layers that do not fit.

TEST(ErrorsBidirectional, BogusMergeMode) {
  expect_error([] { return Bidirectional(LSTM(2), {.merge_mode = "bogus", .name = "bi"}); },
               {"'bi'", "merge_mode", "bogus", "concat"});
  const json config = {{"class_name", "Bidirectional"},
                       {"config",
                        {{"name", "bi2"},
                         {"merge_mode", "bogus"},
                         {"layer", {{"class_name", "LSTM"}, {"config", {{"name", "l"}, {"units", 2}}}}}}}};
  expect_error([&] { return layer_from_config(config, "here"); }, {"bi2", "bogus"});
}

TEST(ErrorsBidirectional, WrapsOnlyRecurrentLayers) {
  const json config = {
      {"class_name", "Bidirectional"},
      {"config",
       {{"name", "bi"}, {"layer", {{"class_name", "Dense"}, {"config", {{"name", "d"}, {"units", 2}}}}}}}};
  expect_error([&] { return layer_from_config(config, "here"); }, {"bi", "Dense"});
  LSTM built(2, {.name = "used"});
  build(built, {kNone, 3, 1});
  expect_error([&] { return Bidirectional(built); }, {"'used'", "built"});
}

TEST(ErrorsSequential, ReturnStateIsNotASingleOutput) {
  Sequential model({.name = "net"});
  expect_error(
      [&] {
        model.add(LSTM(2, {.return_state = true, .input_shape = Shape{3, 1}, .name = "two"}));
      },
      {"single output tensor", "'two'"});
  Sequential deferred;
  deferred.add(GRU(2, {.return_state = true, .name = "late_state"}));
  expect_error([&] { return deferred(Tensor({1, 3, 1})); }, {"single output tensor", "'late_state'"});
  Sequential unmerged;
  expect_error(
      [&] {
        unmerged.add(Bidirectional(SimpleRNN(2),
                                   {.merge_mode = std::nullopt, .input_shape = Shape{3, 1}, .name = "pair"}));
      },
      {"single output tensor", "'pair'"});
}

// Keras appends a layer only once it has been called successfully: a failed add leaves the model as it was.
TEST(ErrorsSequential, FailedAddLeavesTheModelAsItWas) {
  Sequential model({.name = "net"});
  model.add(LSTM(2, {.return_sequences = true, .input_shape = Shape{3, 1}}));
  const std::string before = model.summary_text();
  expect_error([&] { model.add(LSTM(2, {.return_state = true, .name = "bad"})); },
               {"single output tensor", "'bad'"});
  Sequential flat({.name = "flat"});
  flat.add(Dense(2, {.input_shape = Shape{3}}));
  expect_error([&] { flat.add(LSTM(2, {.name = "needs_time"})); }, {"'needs_time'", "(None, 2)"});
  if (model.size() != 1 || !model.built() || flat.size() != 1 || !flat.built())
    FAIL() << "BUG: after a failed add the model keeps the bad layer and is no longer built: " << model.size()
           << " layers, built() = " << model.built() << "; " << flat.size()
           << " layers, built() = " << flat.built();
  EXPECT_EQ(model.summary_text(), before);
  EXPECT_EQ(model.predict(Tensor({1, 3, 1})).shape(), (Shape{1, 3, 2}));
  EXPECT_EQ(flat.predict(Tensor({1, 3})).shape(), (Shape{1, 2}));
}

TEST(ErrorsSequential, InputLayerFirstAndNamesUnique) {
  Sequential model({.name = "net"});
  model.add(Dense(2, {.input_shape = Shape{3}}));
  expect_error([&] { model.add(Input(Shape{3}, {.name = "late_input"})); }, {"'net'", "InputLayer", "first"});
  model.add(Dense(2, {.name = "twin"}));
  expect_error([&] { model.add(Dense(2, {.name = "twin"})); }, {"'net'", "unique", "'twin'"});
  expect_error([&] { return &model.layer("nope"); }, {"'net'", "nope", "twin"});
  expect_error([&] { return &model.layer(7); }, {"'net'", "7"});
}

TEST(ErrorsSequential, SummaryBeforeBuild) {
  Sequential model({.name = "later"});
  model.add(LSTM(2));
  expect_error([&] { return model.summary_text(); }, {"not yet been built", "'later'"});
}

// ---------------------------------------------------------------------------------------------------------
// Stateful layers, initial states, masks.

TEST(ErrorsStateful, BatchMismatch) {
  Sequential model({.name = "net"});
  model.add(SimpleRNN(2, {.stateful = true, .batch_input_shape = Shape{2, 3, 1}, .name = "keeper"}));
  expect_error([&] { return model.predict(Tensor({3, 3, 1})); }, {"(2, 3, 1)", "(3, 3, 1)"});
  SimpleRNN layer(2, {.stateful = true, .batch_input_shape = Shape{2, 3, 1}, .name = "direct"});
  build(layer, {2, 3, 1});
  expect_error([&] { return layer.call(Tensor({3, 3, 1})); }, {"'direct'", "(2, 3, 1)", "(3, 3, 1)"});
}

TEST(ErrorsStateful, WithoutBatchSize) {
  Sequential model;
  expect_error(
      [&] {
        model.add(LSTM(2, {.stateful = true, .input_shape = Shape{3, 1}, .name = "st"}));
      },
      {"'st'", "stateful", "batch"});
}

TEST(ErrorsInitialState, WrongCountOrShape) {
  LSTM lstm(2, {.name = "enc"});
  build(lstm, {kNone, 3, 1});
  const Tensor x({2, 3, 1});
  expect_error(
      [&] {
        return lstm.call(x, {.initial_state = {Tensor({2, 2})}});
      },
      {"'enc'", "2 initial state", "received 1"});
  expect_error(
      [&] {
        return lstm.call(x, {.initial_state = {Tensor({2, 2}), Tensor({2, 3})}});
      },
      {"'enc'", "(2, 2)", "(2, 3)"});
  expect_error(
      [&] {
        return lstm.call(x, {.initial_state = {Tensor({1, 2}), Tensor({1, 2})}});
      },
      {"'enc'", "(2, 2)", "(1, 2)"});
  SimpleRNN rnn(2, {.name = "rnn"});
  build(rnn, {kNone, 3, 1});
  expect_error(
      [&] {
        return rnn.call(x, {.initial_state = {Tensor({2, 2}), Tensor({2, 2})}});
      },
      {"'rnn'", "1 initial state", "received 2"});
  Bidirectional bi(GRU(2), {.name = "bi"});
  build(bi, {kNone, 3, 1});
  expect_error(
      [&] {
        return bi.call(x, {.initial_state = {Tensor({2, 2})}});
      },
      {"'bi'", "2 initial state", "received 1"});
}

TEST(ErrorsMask, WrongShape) {
  SimpleRNN layer(2, {.name = "rnn"});
  build(layer, {kNone, 4, 3});
  const Tensor x({2, 4, 3});
  const Tensor long_mask({2, 5}, 1.0f);
  expect_error([&] { return layer.call(x, {.mask = &long_mask}); }, {"'rnn'", "mask", "(2, 4)", "(2, 5)"});
  const Tensor rank3({2, 4, 1}, 1.0f);
  expect_error([&] { return layer.call(x, {.mask = &rank3}); }, {"'rnn'", "mask", "(2, 4, 1)"});
  const Tensor other_batch({1, 4}, 1.0f);
  expect_error([&] { return layer.call(x, {.mask = &other_batch}); }, {"'rnn'", "mask", "(1, 4)"});
}

// ---------------------------------------------------------------------------------------------------------
// Not errors: NaN in a float input of an RNN is allowed and reaches the output, as in Keras.

TEST(ErrorsNot, NaNInAFloatInputPropagates) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  Sequential model;
  model.add(GRU(2, {.input_shape = Shape{2, 1}}));
  model.add(Dense(1));
  Tensor y;
  EXPECT_NO_THROW(y = model.predict(Tensor({2, 2, 1}, {nan, 1, 1, 1})));
  ASSERT_EQ(y.shape(), (Shape{2, 1}));
  EXPECT_TRUE(std::isnan(y[0]));
  EXPECT_FALSE(std::isnan(y[1])) << "the other sample is untouched";
}

}  // namespace
}  // namespace rnnkit
