// Keras's merge layers (Concatenate, Add, Subtract, Multiply, Average, Maximum, Minimum, Dot): values by hand,
// Keras's mask rules, shapes and their errors, configs and files. Gradients are checked against finite
// differences in functional_model_test.cpp (FunctionalGradients.MergeLayers) and against TF.js in
// functional_oracle_test.cpp (functional_merge.json).
#include <gtest/gtest.h>

#include "io/keras_zip.h"
#include "rnnkit/rnnkit.h"
#include "test_support.h"

namespace rnnkit {
namespace {

using nlohmann::json;
using testing::all_close;
using testing::expect_error;
using testing::TempFolder;

const Tensor kA({2, 3}, {1, -2, 3, 0.5f, 4, -1});
const Tensor kB({2, 3}, {2, 2, -3, 0.5f, -4, 6});

TEST(MergeLayers, ElementwiseValuesByHand) {
  const auto merged = [](Layer&& layer, std::vector<Tensor> inputs) {
    return static_cast<ListInputLayer&>(layer).call_list(inputs)[0];
  };
  EXPECT_TRUE(all_close(merged(Add(), {kA, kB}), Tensor({2, 3}, {3, 0, 0, 1, 0, 5}), 0, 0));
  EXPECT_TRUE(all_close(merged(Subtract(), {kA, kB}), Tensor({2, 3}, {-1, -4, 6, 0, 8, -7}), 0, 0));
  EXPECT_TRUE(all_close(merged(Multiply(), {kA, kB, kB}), Tensor({2, 3}, {4, -8, 27, 0.125f, 64, -36}), 0, 0));
  EXPECT_TRUE(all_close(merged(Average(), {kA, kB}), Tensor({2, 3}, {1.5f, 0, 0, 0.5f, 0, 2.5f}), 0, 0));
  EXPECT_TRUE(all_close(merged(Maximum(), {kA, kB}), Tensor({2, 3}, {2, 2, 3, 0.5f, 4, 6}), 0, 0));
  EXPECT_TRUE(all_close(merged(Minimum(), {kA, kB}), Tensor({2, 3}, {1, -2, -3, 0.5f, -4, -1}), 0, 0));
  EXPECT_TRUE(all_close(merged(Add(), {kA}), kA, 0, 0)) << "Keras merges a list of one";
}

TEST(MergeLayers, MaximumGivesATieToTheFirstInput) {
  Maximum maximum;
  const Tensor a({1, 2}, {1, 5}), b({1, 2}, {1, 2});
  maximum.call_list({a, b}, {}, true);
  const InputGrads grads = maximum.backward({Tensor({1, 2}, {10, 20})});
  EXPECT_TRUE(all_close(grads.input, Tensor({1, 2}, {10, 20}), 0, 0));
  ASSERT_EQ(grads.more_inputs.size(), 1u);
  EXPECT_TRUE(all_close(grads.more_inputs[0], Tensor({1, 2}, {0, 0}), 0, 0));
}

TEST(MergeLayers, ConcatenateJoinsAlongItsAxis) {
  const Tensor x({2, 2, 1}, {1, 2, 3, 4}), y({2, 2, 2}, {5, 6, 7, 8, 9, 10, 11, 12});
  Concatenate features;
  EXPECT_TRUE(all_close(features.call_list({x, y})[0],
                        Tensor({2, 2, 3}, {1, 5, 6, 2, 7, 8, 3, 9, 10, 4, 11, 12}), 0, 0));
  Concatenate steps({.axis = 1});
  const Tensor z({2, 1, 2}, {-1, -2, -3, -4});
  EXPECT_TRUE(all_close(steps.call_list({y, z})[0],
                        Tensor({2, 3, 2}, {5, 6, 7, 8, -1, -2, 9, 10, 11, 12, -3, -4}), 0, 0));
}

TEST(MergeLayers, DotByHand) {
  // (B,F)·(B,F) over axis 1: one number per row, kept as (B,1).
  Dot rows({.axes = 1});
  EXPECT_TRUE(all_close(rows.call_list({kA, kB})[0], Tensor({2, 1}, {-11, -21.75f}), 0, 0));
  // The cosine: 2·(-2)... of unit vectors.
  Dot cosine({.axes = -1, .normalize = true});
  const Tensor u({1, 2}, {3, 4}), v({1, 2}, {4, 3});
  EXPECT_TRUE(all_close(cosine.call_list({u, v})[0], Tensor({1, 1}, {24.0f / 25.0f}), 1e-7, 0));
  // (B,T,F)·(B,S,F) over the features: every pair of steps, (B,T,S).
  const Tensor q({1, 2, 2}, {1, 0, 0, 2}), k({1, 3, 2}, {1, 1, 2, 0, 0, 3});
  Dot scores({.axes = 2});
  EXPECT_TRUE(all_close(scores.call_list({q, k})[0], Tensor({1, 2, 3}, {1, 2, 0, 2, 0, 6}), 0, 0));
  // Over the steps, axes (1, 1): (B,F,G).
  Dot over_steps({.axes = std::array{1, 1}});
  const Tensor p({1, 2, 1}, {1, 2});
  EXPECT_TRUE(all_close(over_steps.call_list({p, q})[0], Tensor({1, 1, 2}, {1, 4}), 0, 0));
}

TEST(MergeLayers, MasksFollowKeras) {
  const Tensor x({2, 3, 1}, {1, 2, 3, 4, 5, 6});
  const Tensor mask_a({2, 3}, {1, 1, 0, 1, 0, 0}), mask_b({2, 3}, {1, 0, 1, 1, 1, 0});
  Add add;
  add.call_list({x, x});
  const std::optional<Tensor> both = add.compute_call_mask(x, &mask_a, {.more_inputs = {&x}, .more_masks = {&mask_b}});
  ASSERT_TRUE(both);
  EXPECT_TRUE(all_close(*both, Tensor({2, 3}, {1, 0, 0, 1, 0, 0}), 0, 0));
  EXPECT_TRUE(all_close(*add.compute_call_mask(x, nullptr, {.more_inputs = {&x}, .more_masks = {&mask_b}}), mask_b, 0, 0));
  EXPECT_FALSE(add.compute_call_mask(x, nullptr, {.more_inputs = {&x}}));
  Concatenate steps({.axis = 1});
  steps.call_list({x, x});
  const std::optional<Tensor> joined = steps.compute_call_mask(x, &mask_a, {.more_inputs = {&x}});
  ASSERT_TRUE(joined);
  EXPECT_TRUE(all_close(*joined, Tensor({2, 6}, {1, 1, 0, 1, 1, 1, 1, 0, 0, 1, 1, 1}), 0, 0));
  Dot dot({.axes = 2});
  dot.call_list({x, x});
  EXPECT_FALSE(dot.compute_call_mask(x, &mask_a, {.more_inputs = {&x}, .more_masks = {&mask_b}}));
}

TEST(MergeLayers, ShapesAndTheirErrors) {
  const SymbolicTensor a = Input({5, 3}), b = Input({5, 4}), c = Input({kNone, 3});
  EXPECT_EQ(SymbolicTensor(Concatenate()({a, b})).shape(), (Shape{kNone, 5, 7}));
  EXPECT_EQ(SymbolicTensor(Concatenate({.axis = 1})({a, c})).shape(), (Shape{kNone, kNone, 3}));
  EXPECT_EQ(SymbolicTensor(Add()({a, c})).shape(), (Shape{kNone, 5, 3}));
  EXPECT_EQ(SymbolicTensor(Dot({.axes = 2})({a, c})).shape(), (Shape{kNone, 5, kNone}));
  // A braced list of one is a list for a merge, as Keras's Concatenate()([a]), and the tensor for Dense.
  EXPECT_EQ(SymbolicTensor(Concatenate()({a})).shape(), (Shape{kNone, 5, 3}));
  EXPECT_EQ(SymbolicTensor(Dense(2)({a})).shape(), (Shape{kNone, 5, 2}));
  expect_error([&] { Add()({a, b}); }, {"layer 'add", "(Add)", "one shape", "(None, 5, 3)", "(None, 5, 4)"});
  expect_error([&] { Subtract()({a, a, a}); }, {"(Subtract)", "list of 2", "received 3"});
  expect_error([&] { Concatenate({.axis = 1})({a, b}); }, {"(Concatenate)", "every axis but axis 1"});
  expect_error([&] { Concatenate({.axis = 0})({a, a}); }, {"(Concatenate)", "batch axis"});
  expect_error([&] { Dot({.axes = 2})({a, b}); }, {"(Dot)", "dimension 2", "must be equal"});
  expect_error([&] { Add()(a); }, {"(Add)", "list of tensors"});
  expect_error([&] { LSTM(2)(std::vector<SymbolicTensor>{a, a}); }, {"(LSTM)", "one tensor"});
  Add add;
  expect_error([&] { add.call_list({kA, Tensor({3, 3})}); }, {"(Add)", "same batch size"});
}

// Two LSTM branches merged every way, as a Keras user writes them; the model saves and loads bit for bit in
// every format and dialect, and the files' configs are Keras's.
Model merged_model() {
  clear_session();
  const SymbolicTensor a = Input({4, 2}, {.name = "input_a"}), b = Input({4, 2}, {.name = "input_b"});
  const SymbolicTensor h_a = LSTM(3)(a), h_b = LSTM(3)(b);
  const SymbolicTensor joined = Concatenate()({h_a, h_b});
  const SymbolicTensor mixed = Average()({Add()({h_a, h_b}), Multiply()({h_a, h_b}), Maximum()({h_a, h_b}),
                                          Minimum()({h_a, h_b}), Subtract()({h_a, h_b})});
  const SymbolicTensor cosine = Dot({.axes = std::array{1, 1}, .normalize = true})({h_a, mixed});
  return Model({a, b}, {Dense(2, {.activation = "softmax"})(joined), cosine}, {.name = "merged"});
}

TEST(MergeLayers, FilesRoundTripBitForBit) {
  Model model = merged_model();
  Rng rng(3);
  const std::vector<Tensor> x{testing::random_tensor({3, 4, 2}, rng, 1.0), testing::random_tensor({3, 4, 2}, rng, 1.0)};
  const std::vector<Tensor> expected = model.predict(x);
  const json config = model.config();
  const json& layers = config.at("config").at("layers");
  const auto entry = [&](const std::string& name) {
    for (const json& layer : layers)
      if (layer.at("name") == name) return layer;
    return json();
  };
  EXPECT_EQ(entry("concatenate").at("config").at("axis"), -1);
  EXPECT_EQ(entry("concatenate").at("inbound_nodes"),
            json::parse(R"([[["lstm", 0, 0, {}], ["lstm_1", 0, 0, {}]]])"));
  EXPECT_EQ(entry("dot").at("config").at("axes"), json::parse("[1, 1]"));
  EXPECT_EQ(entry("dot").at("config").at("normalize"), true);
  const json keras3_config = keras3::model_config(model);
  for (const json& layer : keras3_config.at("config").at("layers")) {
    if (layer.at("name") != "concatenate") continue;
    const json& args = layer.at("inbound_nodes").at(0).at("args");
    ASSERT_EQ(args.size(), 1u);
    ASSERT_EQ(args[0].size(), 2u) << "Keras 3 passes the list as the one positional argument";
    EXPECT_EQ(args[0][1].at("config").at("keras_history"), json::parse(R"(["lstm_1", 0, 0])"));
    EXPECT_EQ(layer.at("build_config").at("input_shape"), json::parse("[[null, 3], [null, 3]]"));
  }
  const TempFolder folder;
  for (const char* file : {"m.h5", "m.keras"}) {
    SCOPED_TRACE(file);
    save_model(model, folder / file);
    Model loaded = load_model(folder / file);
    EXPECT_EQ(loaded.config(), config) << json::diff(loaded.config(), config).dump();
    EXPECT_EQ(keras3::model_config(loaded), keras3_config);
    EXPECT_EQ(testing::weight_bytes(loaded), testing::weight_bytes(model));
    const std::vector<Tensor> y = loaded.predict(x);
    for (std::size_t k = 0; k < y.size(); ++k) EXPECT_TRUE(all_close(y[k], expected[k], 0, 0));
  }
  // A config read back gives the same config, in both dialects.
  EXPECT_EQ(model_from_keras_config(config, "config").config(), config);
  EXPECT_EQ(model_from_keras_config(keras3_config, "keras3 config").config(), config);
}

TEST(MergeLayers, SummaryListsEveryInput) {
  Model model = merged_model();
  std::ostringstream out;
  model.summary(out);
  const std::string text = out.str();
  EXPECT_NE(text.find("concatenate (Concatenate)"), std::string::npos) << text;
  EXPECT_NE(text.find("['lstm[0][0]',"), std::string::npos) << text;
  EXPECT_NE(text.find("'lstm_1[0][0]']"), std::string::npos) << text;
  EXPECT_NE(text.find("(None, 6)"), std::string::npos) << text;
  EXPECT_NE(text.find("(None, 1)"), std::string::npos) << text;
}

}  // namespace
}  // namespace rnnkit
