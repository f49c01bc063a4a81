// Flatten, Reshape, Permute, RepeatVector, Masking and SpatialDropout1D: hand values, Keras's mask rules,
// clear errors, finite differences, configs of every era, .h5/.keras files, summary rows, and a RepeatVector
// seq2seq that learns to reverse digit strings. The TF.js oracle cases are in
// tests/parity/fixtures/shapes.json (parity_test.cpp).
#include <gtest/gtest.h>

#include <chrono>
#include <numeric>

#include "rnnkit/rnnkit.h"
#include "test_support.h"

namespace rnnkit {
namespace {

using nlohmann::json;
using testing::expect_error;

// 0, 1, 2, ... in row-major order.
Tensor counting(const Shape& shape) {
  Tensor x(shape);
  for (std::int64_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(i);
  return x;
}

// dL/dx of L = Σ y ⊙ g for a training call on x.
Tensor input_gradient(Layer& layer, const Tensor& x, const Tensor& g, const Tensor* mask = nullptr) {
  layer.call(x, {.mask = mask, .training = true});
  return layer.backward({g}).input;
}

// ---- Hand values

TEST(ShapeLayers, FlattenKeepsTheOrderOfTheValues) {
  Flatten flatten;
  const Tensor x = counting({2, 3, 2});
  const Tensor y = flatten.call(x)[0];
  ASSERT_EQ(y.shape(), (Shape{2, 6}));
  for (std::int64_t i = 0; i < x.size(); ++i) EXPECT_EQ(y[i], x[i]);
  EXPECT_EQ(flatten.output_shapes()[0], (Shape{kNone, 6}));
  // (batch,) gains a feature axis, as Keras's Flatten does.
  Flatten vector;
  EXPECT_EQ(vector.call(counting({3}))[0].shape(), (Shape{3, 1}));
  Flatten matrix;
  EXPECT_EQ(matrix.call(counting({2, 5}))[0].shape(), (Shape{2, 5}));
}

TEST(ShapeLayers, FlattenChannelsFirstMovesTheChannelsLast) {
  Flatten flatten({.data_format = "channels_first"});
  Tensor x({1, 2, 3});  // x[0, c, t] = 10c + t
  for (std::int64_t c = 0; c < 2; ++c)
    for (std::int64_t t = 0; t < 3; ++t) x.at({0, c, t}) = float(10 * c + t);
  const Tensor y = flatten.call(x, {.training = true})[0];
  EXPECT_EQ(std::vector<float>(y.values().begin(), y.values().end()),
            (std::vector<float>{0, 10, 1, 11, 2, 12}));
  // The gradient goes back to where each value came from.
  const Tensor grad = flatten.backward({counting({1, 6})}).input;
  for (std::int64_t c = 0; c < 2; ++c)
    for (std::int64_t t = 0; t < 3; ++t) EXPECT_EQ(grad.at({0, c, t}), float(2 * t + c));
}

TEST(ShapeLayers, ReshapeInfersItsMinusOne) {
  Reshape reshape({-1, 2});
  Rng rng;
  reshape.build({kNone, 3, 4}, rng);
  EXPECT_EQ(reshape.output_shapes()[0], (Shape{kNone, 6, 2}));
  const Tensor x = counting({2, 3, 4});
  const Tensor y = reshape.call(x, {.training = true})[0];
  ASSERT_EQ(y.shape(), (Shape{2, 6, 2}));
  for (std::int64_t i = 0; i < x.size(); ++i) EXPECT_EQ(y[i], x[i]);
  EXPECT_EQ(reshape.backward({counting({2, 6, 2})}).input.shape(), (Shape{2, 3, 4}));
  // An unknown input dimension leaves the -1 unknown until a call, as in Keras.
  Reshape free({-1, 2});
  free.build({kNone, kNone, 4}, rng);
  EXPECT_EQ(free.output_shapes()[0], (Shape{kNone, kNone, 2}));
  EXPECT_EQ(free.call(counting({1, 5, 4}))[0].shape(), (Shape{1, 10, 2}));
}

TEST(ShapeLayers, PermuteByHand) {
  Permute swap({2, 1});
  const Tensor x = counting({2, 2, 3});
  const Tensor y = swap.call(x)[0];
  ASSERT_EQ(y.shape(), (Shape{2, 3, 2}));
  for (std::int64_t b = 0; b < 2; ++b)
    for (std::int64_t i = 0; i < 2; ++i)
      for (std::int64_t j = 0; j < 3; ++j) EXPECT_EQ(y.at({b, j, i}), x.at({b, i, j}));
  Permute rotate({3, 1, 2});
  const Tensor x4 = counting({2, 2, 3, 4});
  const Tensor y4 = rotate.call(x4, {.training = true})[0];
  ASSERT_EQ(y4.shape(), (Shape{2, 4, 2, 3}));
  for (std::int64_t b = 0; b < 2; ++b)
    for (std::int64_t i = 0; i < 2; ++i)
      for (std::int64_t j = 0; j < 3; ++j)
        for (std::int64_t k = 0; k < 4; ++k) EXPECT_EQ(y4.at({b, k, i, j}), x4.at({b, i, j, k}));
  // Backward is the inverse permutation: dL/dy = y gives dL/dx = x.
  const Tensor back = rotate.backward({y4}).input;
  ASSERT_EQ(back.shape(), x4.shape());
  for (std::int64_t i = 0; i < x4.size(); ++i) EXPECT_EQ(back[i], x4[i]);
}

TEST(ShapeLayers, RepeatVectorRepeatsAndItsGradientSums) {
  RepeatVector repeat(4);
  const Tensor x = counting({2, 3});
  const Tensor y = repeat.call(x, {.training = true})[0];
  ASSERT_EQ(y.shape(), (Shape{2, 4, 3}));
  for (std::int64_t b = 0; b < 2; ++b)
    for (std::int64_t i = 0; i < 4; ++i)
      for (std::int64_t f = 0; f < 3; ++f) EXPECT_EQ(y.at({b, i, f}), x.at({b, f}));
  Tensor g({2, 4, 3});
  for (std::int64_t i = 0; i < 4; ++i) g.at({1, i, 2}) = float(i + 1);  // 1 + 2 + 3 + 4
  const Tensor grad = repeat.backward({g}).input;
  EXPECT_EQ(grad.at({1, 2}), 10.0f);
  EXPECT_EQ(grad.at({0, 2}), 0.0f);
  EXPECT_EQ(repeat.output_shapes()[0], (Shape{kNone, 4, 3}));
}

TEST(ShapeLayers, MaskingZeroesAndMasksTimestepsOfOnlyTheMaskValue) {
  // Row 0: step 1 all zeros (masked); row 1: step 0 all zeros (masked), step 2 one zero (kept).
  const Tensor x({2, 3, 2}, {1, 2, 0, 0, 3, 4, 0, 0, 5, 6, 0, 0.5f});
  Masking masking;
  const Tensor y = masking.call(x)[0];
  for (std::int64_t i = 0; i < x.size(); ++i) EXPECT_EQ(y[i], x[i]);
  const std::optional<Tensor> mask = masking.compute_mask(x, nullptr);
  ASSERT_TRUE(mask);
  EXPECT_EQ(std::vector<float>(mask->values().begin(), mask->values().end()),
            (std::vector<float>{1, 0, 1, 0, 1, 1}));
  // Another mask_value: those timesteps become zeros (Keras multiplies by the boolean mask).
  const Tensor z({1, 3, 2}, {1.5f, 1.5f, 1.5f, 2, -1, 1.5f});
  Masking other({.mask_value = 1.5f});
  const Tensor w = other.call(z, {.training = true})[0];
  EXPECT_EQ(std::vector<float>(w.values().begin(), w.values().end()),
            (std::vector<float>{0, 0, 1.5f, 2, -1, 1.5f}));
  // The incoming mask plays no part: Keras computes the mask from the input alone.
  const Tensor ones({1, 3}, 1.0f);
  const Tensor from_ones = *other.compute_mask(z, &ones);
  EXPECT_EQ(std::vector<float>(from_ones.values().begin(), from_ones.values().end()),
            (std::vector<float>{0, 1, 1}));
  // dL/dx = dL/dy at kept steps, 0 at masked ones.
  const Tensor grad = other.backward({Tensor({1, 3, 2}, 1.0f)}).input;
  EXPECT_EQ(std::vector<float>(grad.values().begin(), grad.values().end()),
            (std::vector<float>{0, 0, 1, 1, 1, 1}));
}

TEST(ShapeLayers, SpatialDropout1DDropsWholeChannelsWhileTraining) {
  SpatialDropout1D dropout(0.5f);
  const Tensor x({4, 6, 8}, 1.0f);
  EXPECT_EQ(dropout.call(x)[0].values()[7], 1.0f);  // inference: the identity
  Rng rng(3);
  const Tensor y = dropout.call(x, {.training = true, .rng = &rng})[0];
  int dropped = 0;
  for (std::int64_t b = 0; b < 4; ++b)
    for (std::int64_t f = 0; f < 8; ++f) {
      const float first = y.at({b, 0, f});
      EXPECT_TRUE(first == 0.0f || first == 2.0f) << first;  // kept ones scaled by 1/(1 - rate)
      dropped += first == 0.0f;
      for (std::int64_t t = 1; t < 6; ++t) EXPECT_EQ(y.at({b, t, f}), first) << "one draw per channel";
    }
  EXPECT_GT(dropped, 4);
  EXPECT_LT(dropped, 28);
  // The gradient goes through the same scale.
  const Tensor grad = dropout.backward({Tensor({4, 6, 8}, 1.0f)}).input;
  for (std::int64_t i = 0; i < y.size(); ++i) EXPECT_EQ(grad[i], y[i]);
  // A mask passes through.
  const Tensor mask({4, 6}, 1.0f);
  EXPECT_TRUE(dropout.compute_mask(x, &mask).has_value());
  EXPECT_EQ(std::string(SpatialDropout1D(0.1f).name()).rfind("spatial_dropout1d", 0), 0u);
}

// ---- Masks in models, as Keras propagates them

TEST(ShapeLayersMasks, FlattenReshapePermuteRepeatVectorDropTheMask) {
  clear_session();
  for (int which = 0; which < 3; ++which) {
    Sequential model;
    model.add(Embedding(10, 3, {.input_length = 4, .mask_zero = true}));
    if (which == 0) model.add(Flatten());
    if (which == 1) model.add(Reshape({2, 6}));
    if (which == 2) model.add(Permute({2, 1}));
    const Tensor ids({2, 4}, {1, 2, 0, 0, 3, 0, 0, 0});
    EXPECT_FALSE(model.call_with_mask(ids).second.has_value()) << which;
  }
  Sequential repeat;
  repeat.add(Embedding(10, 3, {.input_length = 4, .mask_zero = true}));
  repeat.add(LSTM(2));
  repeat.add(RepeatVector(3));
  EXPECT_FALSE(repeat.call_with_mask(Tensor({1, 4}, {1, 2, 0, 0})).second.has_value());
}

TEST(ShapeLayersMasks, MaskingAndSpatialDropoutPassTheMaskOn) {
  Sequential model;
  model.add(Masking({.input_shape = Shape{3, 2}}));
  model.add(SpatialDropout1D(0.3f));
  model.add(LSTM(2, {.return_sequences = true}));
  const Tensor x({1, 3, 2}, {1, 2, 0, 0, 3, 4});
  const auto [output, mask] = model.call_with_mask(x);
  ASSERT_TRUE(mask);
  EXPECT_EQ(std::vector<float>(mask->values().begin(), mask->values().end()), (std::vector<float>{1, 0, 1}));
}

// An LSTM behind Masking skips the padded steps: its last output is that of the sequence without them,
// whether the padding comes first or last.
TEST(ShapeLayersMasks, MaskingGivesTheUnpaddedSequencesAnswer) {
  clear_session();
  Sequential model({.seed = 4});
  model.add(Masking({.input_shape = Shape{5, 3}}));
  model.add(LSTM(4));
  Rng rng(8);
  const Tensor core = testing::random_tensor({1, 3, 3}, rng, 1.0);
  Sequential alone({.seed = 4});
  alone.add(LSTM(4, {.input_shape = Shape{3, 3}}));
  alone.set_weights(model.get_weights());
  const Tensor expected = alone.predict(core);
  for (const bool pre : {false, true}) {
    Tensor padded({1, 5, 3});
    for (std::int64_t t = 0; t < 3; ++t)
      for (std::int64_t f = 0; f < 3; ++f) padded.at({0, t + (pre ? 2 : 0), f}) = core.at({0, t, f});
    testing::expect_close(pre ? "pre-padded" : "post-padded", expected, model.predict(padded));
  }
}

// ---- Errors name the layer and the shapes

TEST(ShapeLayersErrors, BadShapesAndArguments) {
  clear_session();
  Rng rng;
  expect_error(
      [&] {
        Reshape({5, -1}, {.name = "r1"}).build({kNone, 3, 4}, rng);
      },
      {"layer 'r1' (Reshape)", "(None, 3, 4)", "12 values per sample", "(5, -1)"});
  expect_error(
      [&] {
        Reshape({5, 3}, {.name = "r2"}).build({kNone, 3, 4}, rng);
      },
      {"layer 'r2' (Reshape)", "(5, 3)", "15 values"});
  expect_error([] { Reshape({-1, -1}, {.name = "r3"}); }, {"layer 'r3' (Reshape)", "-1 only once"});
  expect_error([] { Reshape({0, 2}, {.name = "r4"}); }, {"layer 'r4' (Reshape)", "neither positive nor -1"});
  Reshape free({5, -1}, {.name = "r5"});
  free.build({kNone, kNone, 4}, rng);
  expect_error([&] { free.call(counting({2, 3, 4})); }, {"layer 'r5' (Reshape)", "(2, 3, 4)", "(5, -1)"});
  expect_error(
      [] {
        Permute({1, 3}, {.name = "p1"});
      },
      {"layer 'p1' (Permute)", "(1, 3)", "permutation of 1..n"});
  expect_error([] { Permute({0, 1}, {.name = "p2"}); }, {"layer 'p2' (Permute)", "permutation"});
  expect_error([] { Permute({2, 2}, {.name = "p3"}); }, {"layer 'p3' (Permute)", "permutation"});
  expect_error(
      [&] {
        Permute({2, 1}, {.name = "p4"}).build({kNone, 2, 3, 4}, rng);
      },
      {"layer 'p4' (Permute)", "rank 3", "(None, 2, 3, 4)"});
  expect_error([] { RepeatVector(0, {.name = "v1"}); }, {"layer 'v1' (RepeatVector)", "positive"});
  expect_error(
      [&] {
        RepeatVector(2, {.name = "v2"}).build({kNone, 3, 4}, rng);
      },
      {"layer 'v2' (RepeatVector)", "rank 2", "(None, 3, 4)"});
  expect_error(
      [&] {
        Masking({.name = "m1"}).build({kNone, 4}, rng);
      },
      {"layer 'm1' (Masking)", "rank 3", "(None, 4)"});
  expect_error([] { SpatialDropout1D(1.0f, {.name = "s1"}); }, {"layer 's1' (SpatialDropout1D)", "[0, 1)"});
  expect_error(
      [&] {
        SpatialDropout1D(0.5f, {.name = "s2"}).build({kNone, 4}, rng);
      },
      {"layer 's2' (SpatialDropout1D)", "rank 3"});
  expect_error([] { Flatten({.data_format = "channels_middle", .name = "f1"}); },
               {"layer 'f1' (Flatten)", "channels_middle"});
  // A model whose shapes do not fit says which layer.
  Sequential model;
  model.add(Dense(7, {.input_shape = Shape{3}, .name = "d"}));
  expect_error([&] { model.add(Reshape({2, -1}, {.name = "r6"})); }, {"r6", "(None, 7)", "(2, -1)"});
}

TEST(ShapeLayersErrors, BadConfigsNameTheLayerAndField) {
  expect_error(
      [] {
        layer_from_config({{"class_name", "RepeatVector"}, {"config", {{"name", "rv"}}}}, "file");
      },
      {"file", "'rv' (RepeatVector)", "field 'n' is missing"});
  expect_error(
      [] {
        layer_from_config({{"class_name", "Reshape"}, {"config", {{"name", "rs"}}}}, "file");
      },
      {"'rs' (Reshape)", "target_shape"});
  expect_error(
      [] {
        layer_from_config({{"class_name", "Permute"}, {"config", {{"name", "pm"}, {"dims", "2,1"}}}}, "file");
      },
      {"'pm' (Permute)", "dims"});
  expect_error(
      [] {
        layer_from_config({{"class_name", "Permute"}, {"config", {{"name", "pm"}, {"dims", {1, 1}}}}},
                          "file");
      },
      {"'pm' (Permute)", "permutation"});
  expect_error(
      [] {
        layer_from_config({{"class_name", "SpatialDropout1D"}, {"config", {{"name", "sd"}}}}, "file");
      },
      {"'sd' (SpatialDropout1D)", "field 'rate' is missing"});
}

// ---- Finite differences

// Every input gradient of L = Σ y ⊙ g against central differences of the layer's own training call.
void check_input_gradient(Layer& layer, Tensor x, const std::function<bool(std::int64_t)>& skip = nullptr,
                          std::uint64_t dropout_seed = 0) {
  Rng rng(11);
  Rng dropout(dropout_seed);
  const Tensor y = layer.call(x, {.training = true, .rng = &dropout})[0];
  const Tensor g = testing::random_tensor(y.shape(), rng, 1.0);
  Rng again(dropout_seed);
  layer.call(x, {.training = true, .rng = &again});
  const Tensor analytic = layer.backward({g}).input;
  ASSERT_EQ(analytic.shape(), x.shape()) << layer.name();
  const auto loss = [&] {
    Rng same(dropout_seed);
    const Tensor out = layer.call(x, {.training = true, .rng = &same})[0];
    double total = 0.0;
    for (std::int64_t i = 0; i < out.size(); ++i) total += double(out[i]) * g[i];
    return total;
  };
  for (std::int64_t i = 0; i < x.size(); ++i) {
    if (skip && skip(i)) continue;
    const double numeric = testing::central_difference(x[i], 1e-2f, loss);
    EXPECT_NEAR(analytic[i], numeric, 1e-4 + 1e-3 * std::abs(numeric)) << layer.name() << " element " << i;
  }
}

TEST(ShapeLayersGradients, InputGradientsMatchFiniteDifferences) {
  clear_session();
  Rng rng(2);
  Flatten flatten({.data_format = "channels_first"});
  check_input_gradient(flatten, testing::random_tensor({2, 3, 2, 2}, rng, 1.0));
  Reshape reshape({-1, 3});
  check_input_gradient(reshape, testing::random_tensor({2, 4, 3}, rng, 1.0));
  Permute permute({2, 3, 1});
  check_input_gradient(permute, testing::random_tensor({2, 2, 3, 2}, rng, 1.0));
  RepeatVector repeat(3);
  check_input_gradient(repeat, testing::random_tensor({3, 4}, rng, 1.0));
  SpatialDropout1D dropout(0.4f);
  check_input_gradient(dropout, testing::random_tensor({3, 4, 5}, rng, 1.0), nullptr, 21);
  // Masking: the mask is a constant of x (a comparison has no gradient); moving a padded value would unmask
  // its step, so the differences are taken at the kept steps, and the padded ones must get exactly 0.
  Tensor padded = testing::random_tensor({2, 4, 3}, rng, 1.0);
  for (std::int64_t f = 0; f < 3; ++f) padded.at({0, 3, f}) = padded.at({1, 0, f}) = 0.0f;
  const auto is_padding = [](std::int64_t i) { return i / 3 == 3 || i / 3 == 4; };  // steps (0,3) and (1,0)
  Masking masking;
  check_input_gradient(masking, padded, is_padding);
  const Tensor grad = input_gradient(masking, padded, Tensor({2, 4, 3}, 1.0f));
  for (std::int64_t i = 0; i < grad.size(); ++i) EXPECT_EQ(grad[i], is_padding(i) ? 0.0f : 1.0f) << i;
}

// A model that chains every shape layer between weighted ones: every input and weight gradient against
// central differences.
TEST(ShapeLayersGradients, ModelThroughEveryShapeLayerMatchesFiniteDifferences) {
  clear_session();
  Sequential model({.seed = 6});
  model.add(Masking({.input_shape = Shape{4, 3}}));
  model.add(LSTM(3, {.return_sequences = true}));
  model.add(Permute({2, 1}));
  model.add(Flatten());
  model.add(Dense(6, {.activation = "tanh"}));
  model.add(Reshape({3, -1}));
  model.add(SimpleRNN(2));
  model.add(RepeatVector(2));
  model.add(GRU(2, {.return_sequences = true}));
  Rng rng(13);
  Tensor x = testing::random_tensor({2, 4, 3}, rng, 1.0);
  for (std::int64_t f = 0; f < 3; ++f) x.at({1, 3, f}) = 0.0f;  // a padded last step
  const Tensor g = testing::random_tensor({2, 2, 2}, rng, 1.0);
  const auto loss = [&] {
    const Tensor y = model(x, true);
    double total = 0.0;
    for (std::int64_t i = 0; i < y.size(); ++i) total += double(y[i]) * g[i];
    return total;
  };
  model.zero_grads();
  model(x, true);
  const Tensor input_grad = model.backward(g);
  for (std::int64_t i = 0; i < x.size(); ++i) {
    if (i >= 21) continue;  // the padded step of row 1
    const double numeric = testing::central_difference(x[i], 1e-2f, loss);
    EXPECT_NEAR(input_grad[i], numeric, 2e-3 + 1e-2 * std::abs(numeric)) << "dL/dx " << i;
  }
  for (std::size_t l = 0; l < model.size(); ++l)
    for (Param* param : model.layer(l).params()) {
      const std::int64_t stride = std::max<std::int64_t>(1, param->value.size() / 12);
      for (std::int64_t i = 0; i < param->value.size(); i += stride) {
        const double numeric = testing::central_difference(param->value[i], 1e-2f, loss);
        EXPECT_NEAR(param->grad[i], numeric, 2e-3 + 1e-2 * std::abs(numeric))
            << model.layer(l).name() << "/" << param->name << " " << i;
      }
    }
}

// ---- Configs of every era

TEST(ShapeLayersConfig, KerasFieldsAndRoundTrips) {
  clear_session();
  const std::vector<std::pair<std::shared_ptr<Layer>, json>> layers{
      {std::make_shared<Flatten>(FlattenOptions{.data_format = "channels_first"}),
       {{"data_format", "channels_first"}}},
      {std::make_shared<Reshape>(Shape{-1, 2}), {{"target_shape", {-1, 2}}}},
      {std::make_shared<Permute>(std::vector<int>{3, 1, 2}), {{"dims", {3, 1, 2}}}},
      {std::make_shared<RepeatVector>(5), {{"n", 5}}},
      {std::make_shared<Masking>(MaskingOptions{.mask_value = -1.0f}), {{"mask_value", -1.0}}},
      {std::make_shared<SpatialDropout1D>(0.25f),
       {{"rate", 0.25}, {"noise_shape", nullptr}, {"seed", nullptr}}},
  };
  for (const auto& [layer, fields] : layers) {
    const json config = layer->config();
    for (const auto& [key, value] : fields.items())
      EXPECT_EQ(config.at(key), value) << layer->name() << " " << key;
    EXPECT_EQ(config.at("trainable"), true);
    EXPECT_EQ(config.at("dtype"), "float32");
    const std::unique_ptr<Layer> again =
        layer_from_config({{"class_name", layer->class_name()}, {"config", config}}, "round trip");
    EXPECT_EQ(again->class_name(), layer->class_name());
    EXPECT_EQ(again->config(), config) << layer->name();
  }
  EXPECT_EQ(Flatten().config().at("data_format"), "channels_last");
  EXPECT_EQ(Masking().config().at("mask_value"), 0.0);
  // Keras writes back the Python float it was given: 0.2, not float32's 0.20000000298023224.
  EXPECT_EQ(SpatialDropout1D(0.2f).config().at("rate").dump(), "0.2");
  EXPECT_EQ(Masking({.mask_value = 0.1f}).config().at("mask_value").dump(), "0.1");
}

// A Sequential config as each era writes it: every layer must read, with its arguments.
void expect_reads(const json& model_config, const std::string& era) {
  const Model model = model_from_keras_config(model_config, era);
  std::vector<std::string> classes;
  for (std::size_t i = 0; i < model.size(); ++i) classes.push_back(model.layer(i).class_name());
  EXPECT_EQ(classes, (std::vector<std::string>{"Masking", "SpatialDropout1D", "LSTM", "Flatten", "Dense",
                                               "RepeatVector", "Reshape", "Permute"}))
      << era;
  EXPECT_FLOAT_EQ(dynamic_cast<const Masking&>(model.layer(0)).mask_value(), -1.0f) << era;
  EXPECT_FLOAT_EQ(dynamic_cast<const SpatialDropout1D&>(model.layer(1)).rate(), 0.2f) << era;
  EXPECT_EQ(dynamic_cast<const Reshape&>(model.layer(6)).target_shape(), (Shape{-1, 2})) << era;
  EXPECT_EQ(dynamic_cast<const Permute&>(model.layer(7)).dims(), (std::vector<int>{2, 1})) << era;
  EXPECT_EQ(dynamic_cast<const RepeatVector&>(model.layer(5)).n(), 3) << era;
  // (None, 4, 2) -> Flatten (None, 8) -> Dense (None, 4) -> RepeatVector (None, 3, 4) -> Reshape (None, 6, 2)
  EXPECT_EQ(model.layer(7).output_shapes()[0], (Shape{kNone, 2, 6})) << era;
}

TEST(ShapeLayersConfig, ReadsConfigsOfEveryEra) {
  // tf.keras 2.11 (model.to_json()).
  const json tf_keras = json::parse(R"({"class_name": "Sequential", "keras_version": "2.11.0", "config": {
    "name": "sequential", "layers": [
    {"class_name": "InputLayer", "config": {"batch_input_shape": [null, 4, 3], "dtype": "float32", "sparse": false,
      "ragged": false, "name": "masking_input"}},
    {"class_name": "Masking", "config": {"name": "masking", "trainable": true, "batch_input_shape": [null, 4, 3],
      "dtype": "float32", "mask_value": -1.0}},
    {"class_name": "SpatialDropout1D", "config": {"name": "spatial_dropout1d", "trainable": true, "dtype": "float32",
      "rate": 0.2, "noise_shape": null, "seed": null}},
    {"class_name": "LSTM", "config": {"name": "lstm", "units": 2, "return_sequences": true}},
    {"class_name": "Flatten", "config": {"name": "flatten", "trainable": true, "dtype": "float32",
      "data_format": "channels_last"}},
    {"class_name": "Dense", "config": {"name": "dense", "units": 4}},
    {"class_name": "RepeatVector", "config": {"name": "repeat_vector", "trainable": true, "dtype": "float32", "n": 3}},
    {"class_name": "Reshape", "config": {"name": "reshape", "trainable": true, "dtype": "float32",
      "target_shape": [-1, 2]}},
    {"class_name": "Permute", "config": {"name": "permute", "trainable": true, "dtype": "float32", "dims": [2, 1]}}
  ]}})");
  expect_reads(tf_keras, "tf.keras 2.11");
  // Keras 3 (config.json of a .keras file): DTypePolicy objects, batch_shape, SpatialDropout1D's own short
  // config (rate, seed, name, dtype), Flatten as Keras 3.12 writes it.
  const json policy = json::parse(
      R"({"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"}, "registered_name": null,
          "shared_object_id": 1773083109376})");
  json keras3 =
      json::parse(R"({"module": "keras", "class_name": "Sequential", "keras_version": "3.12.1", "config": {
    "name": "sequential", "trainable": true, "layers": [
    {"module": "keras.layers", "class_name": "InputLayer", "config": {"batch_shape": [null, 4, 3], "dtype": "float32",
      "sparse": false, "ragged": false, "name": "input_layer"}, "registered_name": null},
    {"module": "keras.layers", "class_name": "Masking", "config": {"name": "masking", "trainable": true,
      "mask_value": -1.0}, "registered_name": null, "build_config": {"input_shape": [null, 4, 3]}},
    {"module": "keras.layers", "class_name": "SpatialDropout1D", "config": {"rate": 0.2, "seed": null,
      "name": "spatial_dropout1d", "dtype": "float32"}, "registered_name": null},
    {"module": "keras.layers", "class_name": "LSTM", "config": {"name": "lstm", "units": 2, "return_sequences": true},
      "registered_name": null},
    {"module": "keras.layers", "class_name": "Flatten", "config": {"name": "flatten", "trainable": true,
      "data_format": "channels_last"}, "registered_name": null, "build_config": {"input_shape": [null, 4, 2]}},
    {"module": "keras.layers", "class_name": "Dense", "config": {"name": "dense", "units": 4}, "registered_name": null},
    {"module": "keras.layers", "class_name": "RepeatVector", "config": {"name": "repeat_vector", "trainable": true,
      "n": 3}, "registered_name": null},
    {"module": "keras.layers", "class_name": "Reshape", "config": {"name": "reshape", "trainable": true,
      "target_shape": [-1, 2]}, "registered_name": null},
    {"module": "keras.layers", "class_name": "Permute", "config": {"name": "permute", "trainable": true,
      "dims": [2, 1]}, "registered_name": null}
  ]}})");
  for (json& layer : keras3["config"]["layers"])
    if (layer["class_name"] != "InputLayer" && layer["class_name"] != "SpatialDropout1D")
      layer["config"]["dtype"] = policy;
  expect_reads(keras3, "Keras 3.12");
  // Keras 1.2 (model.to_json()): the layer list is the config; Dropout's rate is p.
  const json keras1 = json::parse(R"({"class_name": "Sequential", "keras_version": "1.2.2", "config": [
    {"class_name": "Masking", "config": {"name": "masking_1", "trainable": true, "batch_input_shape": [null, 4, 3],
      "input_dtype": "float32", "mask_value": -1.0}},
    {"class_name": "SpatialDropout1D", "config": {"name": "spatialdropout1d_1", "trainable": true, "p": 0.2}},
    {"class_name": "LSTM", "config": {"name": "lstm_1", "output_dim": 2, "return_sequences": true,
      "init": "glorot_uniform", "inner_init": "orthogonal", "forget_bias_init": "one", "activation": "tanh",
      "inner_activation": "hard_sigmoid", "W_regularizer": null, "U_regularizer": null, "b_regularizer": null,
      "dropout_W": 0.0, "dropout_U": 0.0, "consume_less": "gpu", "stateful": false, "go_backwards": false,
      "unroll": false}},
    {"class_name": "Flatten", "config": {"name": "flatten_1", "trainable": true}},
    {"class_name": "Dense", "config": {"name": "dense_1", "output_dim": 4, "init": "glorot_uniform",
      "activation": "linear", "bias": true, "input_dim": null}},
    {"class_name": "RepeatVector", "config": {"name": "repeatvector_1", "trainable": true, "n": 3}},
    {"class_name": "Reshape", "config": {"name": "reshape_1", "trainable": true, "target_shape": [-1, 2]}},
    {"class_name": "Permute", "config": {"name": "permute_1", "trainable": true, "dims": [2, 1]}}
  ]})");
  expect_reads(keras1, "Keras 1.2.2");
}

// The model every file test below saves: each layer of this file between weighted ones.
Sequential every_shape_layer_model() {
  Sequential model({.seed = 9});
  model.add(Masking({.input_shape = Shape{6, 4}}));
  model.add(SpatialDropout1D(0.2f));
  model.add(LSTM(8, {.return_sequences = true}));
  model.add(Flatten());
  model.add(Dense(12));
  model.add(Reshape({3, 4}));
  model.add(Permute({2, 1}));
  model.add(Flatten({.data_format = "channels_first"}));
  model.add(Dense(5));
  model.add(RepeatVector(3));
  model.add(LSTM(4, {.return_sequences = true}));
  model.add(TimeDistributed(Dense(2, {.activation = "softmax"})));
  return model;
}

TEST(ShapeLayersFiles, H5AndKerasFilesRoundTripBitForBit) {
  clear_session();
  Sequential model = every_shape_layer_model();
  Rng rng(4);
  Tensor x = testing::random_tensor({3, 6, 4}, rng, 1.0);
  for (std::int64_t f = 0; f < 4; ++f) x.at({0, 5, f}) = x.at({2, 0, f}) = 0.0f;
  const Tensor y = model.predict(x);
  testing::TempFolder folder;
  for (const std::string name : {"model.h5", "model.keras"}) {
    save_model(model, folder / name);
    Model loaded = load_model(folder / name);
    EXPECT_EQ(loaded.config(), model.config()) << name;
    EXPECT_EQ(testing::weight_bytes(loaded), testing::weight_bytes(model)) << name;
    const Tensor again = loaded.predict(x);
    ASSERT_EQ(again.shape(), y.shape());
    for (std::int64_t i = 0; i < y.size(); ++i) ASSERT_EQ(again[i], y[i]) << name << " " << i;
    // Saved again, the file reads back to the same model.
    save_model(loaded, folder / ("again_" + name));
    EXPECT_EQ(load_model(folder / ("again_" + name)).config(), model.config()) << name;
  }
}

// The same layers in a Functional model (Keras 3's writer records SpatialDropout1D's training kwarg), with
// the encoder's states starting the decoder: files of both kinds give the model back bit for bit.
TEST(ShapeLayersFiles, FunctionalModelRoundTripsBitForBit) {
  clear_session();
  const SymbolicTensor input = Input({5, 3});
  const SymbolicTensor masked = Masking()(input);
  const SymbolicTensor dropped = SpatialDropout1D(0.1f)(masked);
  const LayerOutputs encoder = LSTM(4, {.return_state = true})(dropped);
  const SymbolicTensor repeated = RepeatVector(2)(encoder[0]);
  const SymbolicTensor decoded =
      LSTM(4, {.return_sequences = true})(repeated, {.initial_state = encoder.states()});
  const SymbolicTensor swapped = Permute({2, 1})(decoded);
  const SymbolicTensor flat = Flatten()(swapped);
  const SymbolicTensor shaped = Reshape({2, -1})(Dense(6)(flat));
  Model model(input, shaped);
  Rng rng(7);
  Tensor x = testing::random_tensor({2, 5, 3}, rng, 1.0);
  for (std::int64_t f = 0; f < 3; ++f) x.at({1, 4, f}) = 0.0f;
  const Tensor y = model.predict(x);
  ASSERT_EQ(y.shape(), (Shape{2, 2, 3}));
  testing::TempFolder folder;
  for (const std::string name : {"functional.h5", "functional.keras"}) {
    save_model(model, folder / name);
    Model loaded = load_model(folder / name);
    EXPECT_EQ(loaded.config(), model.config()) << name;
    EXPECT_EQ(testing::weight_bytes(loaded), testing::weight_bytes(model)) << name;
    const Tensor again = loaded.predict(x);
    for (std::int64_t i = 0; i < y.size(); ++i) ASSERT_EQ(again[i], y[i]) << name << " " << i;
  }
}

// Keras 3's SpatialDropout1D.__init__ takes rate, seed, name and dtype only: the .keras writer leaves out the
// fields tf.keras writes besides (noise_shape, trainable), which Keras 3 would refuse.
TEST(ShapeLayersFiles, KerasFileWritesKeras3Configs) {
  clear_session();
  Sequential model = every_shape_layer_model();
  testing::TempFolder folder;
  save_model(model, folder / "model.keras");
  const auto [status, output] = testing::python(R"(
import json, sys, zipfile
layers = json.loads(zipfile.ZipFile(sys.argv[1]).read("config.json"))["config"]["layers"]
for layer in layers:
    if layer["class_name"] in ("SpatialDropout1D", "Flatten", "Reshape", "Permute", "RepeatVector", "Masking"):
        print(layer["class_name"], json.dumps(layer["config"], sort_keys=True))
)",
                                                (folder / "model.keras").string(), folder.path());
  ASSERT_EQ(status, 0) << output;
  EXPECT_NE(
      output.find(
          R"(SpatialDropout1D {"dtype": "float32", "name": "spatial_dropout1d", "rate": 0.2, "seed": null})"),
      std::string::npos)
      << output;
  EXPECT_EQ(output.find("noise_shape"), std::string::npos) << output;
  EXPECT_NE(output.find(R"("target_shape": [3, 4])"), std::string::npos) << output;
  EXPECT_NE(output.find(R"("dims": [2, 1])"), std::string::npos) << output;
  EXPECT_NE(output.find(R"("data_format": "channels_first")"), std::string::npos) << output;
  EXPECT_NE(output.find(R"("mask_value": 0.0)"), std::string::npos) << output;
  EXPECT_NE(output.find(R"("n": 3)"), std::string::npos) << output;
}

// ---- Summary rows: Keras's output shapes, and no parameters

TEST(ShapeLayersSummary, RowsHaveKerasShapesAndNoParams) {
  clear_session();
  const Sequential model = every_shape_layer_model();
  const SummaryTable table = model.summary_table();
  const std::vector<std::tuple<std::string, std::string, std::string, std::int64_t>> expected{
      {"masking", "Masking", "(None, 6, 4)", 0},
      {"spatial_dropout1d", "SpatialDropout1D", "(None, 6, 4)", 0},
      {"lstm", "LSTM", "(None, 6, 8)", 4 * 8 * (4 + 8 + 1)},
      {"flatten", "Flatten", "(None, 48)", 0},
      {"dense", "Dense", "(None, 12)", 49 * 12},
      {"reshape", "Reshape", "(None, 3, 4)", 0},
      {"permute", "Permute", "(None, 4, 3)", 0},
      {"flatten_1", "Flatten", "(None, 12)", 0},
      {"dense_1", "Dense", "(None, 5)", 13 * 5},
      {"repeat_vector", "RepeatVector", "(None, 3, 5)", 0},
      {"lstm_1", "LSTM", "(None, 3, 4)", 4 * 4 * (5 + 4 + 1)},
      {"time_distributed", "TimeDistributed", "(None, 3, 2)", 10},
  };
  ASSERT_EQ(table.rows.size(), expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    const SummaryRow& row = table.rows[i];
    EXPECT_EQ(std::tie(row.name, row.class_name, row.output_shape, row.params), expected[i]) << i;
  }
  // 416 + 588 + 65 + 160 + 10 parameters, in every era's text.
  for (const SummaryStyle style :
       {SummaryStyle::keras2_6, SummaryStyle::keras2_12, SummaryStyle::keras2_15, SummaryStyle::keras3}) {
    const std::string text = model.summary_text(style);
    const bool total =
        text.find("Total params: 1,239") != std::string::npos ||
        text.find("Total params: 1239 ") != std::string::npos;  // Keras 2.13-2.15: no separators
    EXPECT_TRUE(total) << text;
    EXPECT_NE(text.find("(None, 3, 5)"), std::string::npos) << text;
  }
}

// ---- A RepeatVector seq2seq (keras.io's addition/reversal example's layout) learns to reverse digit strings

TEST(ShapeLayersSeq2seq, RepeatVectorSeq2seqLearnsToReverseDigitStrings) {
  clear_session();
  constexpr std::int64_t kLength = 4, kDigits = 6, kSamples = 600;
  Rng rng(1);
  Tensor x({kSamples, kLength, kDigits}), y({kSamples, kLength, kDigits});
  for (std::int64_t s = 0; s < kSamples; ++s)
    for (std::int64_t t = 0; t < kLength; ++t) {
      const auto digit = static_cast<std::int64_t>(rng.uniform() * kDigits) % kDigits;
      x.at({s, t, digit}) = 1.0f;
      y.at({s, kLength - 1 - t, digit}) = 1.0f;
    }
  Sequential model({.seed = 2});
  model.add(LSTM(64, {.input_shape = Shape{kLength, kDigits}}));
  model.add(RepeatVector(kLength));
  model.add(LSTM(64, {.return_sequences = true}));
  model.add(TimeDistributed(Dense(kDigits, {.activation = "softmax"})));
  model.compile({.loss = "categorical_crossentropy",
                 .optimizer = Adam({.learning_rate = 0.01}),
                 .metrics = {"accuracy"}});
  const auto start = std::chrono::steady_clock::now();
  model.fit(x, y, {.epochs = 25, .batch_size = 32, .verbose = 0});
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  // Fresh strings: the model reverses strings it has not seen, digit by digit.
  Tensor test_x({200, kLength, kDigits}), test_y({200, kLength, kDigits});
  for (std::int64_t s = 0; s < 200; ++s)
    for (std::int64_t t = 0; t < kLength; ++t) {
      const auto digit = static_cast<std::int64_t>(rng.uniform() * kDigits) % kDigits;
      test_x.at({s, t, digit}) = 1.0f;
      test_y.at({s, kLength - 1 - t, digit}) = 1.0f;
    }
  const double accuracy = model.evaluate(test_x, test_y, {.verbose = 0}).at("accuracy");
  std::cout << "RepeatVector seq2seq, reversing " << kLength << " digits of " << kDigits << ": accuracy "
            << accuracy << " on fresh strings after 25 epochs (" << seconds << " s)\n";
  EXPECT_GE(accuracy, 0.95);
}

}  // namespace
}  // namespace rnnkit
