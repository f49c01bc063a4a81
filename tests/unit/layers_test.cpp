// Layers one at a time, against numbers worked out by hand (or by the numpy lines of hand_values.py) and
// against Keras's documented facts (design.md section 3): parameter counts, weight shapes, forward values,
// the direct call, go_backwards, initial_state, stateful, masking, initializers and names.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "rnnkit/rnnkit.h"
#include "test_support.h"

namespace rnnkit {
namespace {

using testing::all_close;

std::vector<Shape> weight_shapes(const Layer& layer) {
  std::vector<Shape> shapes;
  for (const Tensor& weight : layer.get_weights()) shapes.push_back(weight.shape());
  return shapes;
}

std::vector<std::string> param_names(const Layer& layer) {
  std::vector<std::string> names;
  for (const Param* param : layer.params()) names.push_back(param->name);
  return names;
}

void build(Layer& layer, const Shape& input_shape, std::uint64_t seed = 1) {
  Rng rng(seed);
  layer.build(input_shape, rng);
}

// The same values in the other time order: x (B,T,F).
Tensor reversed_in_time(const Tensor& x) {
  const std::int64_t batch = x.dim(0), timesteps = x.dim(1), features = x.dim(2);
  Tensor reversed(x.shape());
  for (std::int64_t b = 0; b < batch; ++b)
    for (std::int64_t t = 0; t < timesteps; ++t)
      for (std::int64_t f = 0; f < features; ++f) reversed.at({b, timesteps - 1 - t, f}) = x.at({b, t, f});
  return reversed;
}

// x then y along time: (B,T1,F) and (B,T2,F) to (B,T1+T2,F).
Tensor concat_in_time(const Tensor& x, const Tensor& y) {
  const std::int64_t batch = x.dim(0), t1 = x.dim(1), t2 = y.dim(1), features = x.dim(2);
  Tensor joined({batch, t1 + t2, features});
  for (std::int64_t b = 0; b < batch; ++b)
    for (std::int64_t t = 0; t < t1 + t2; ++t)
      for (std::int64_t f = 0; f < features; ++f)
        joined.at({b, t, f}) = t < t1 ? x.at({b, t, f}) : y.at({b, t - t1, f});
  return joined;
}

// Timestep t of a (B,T,U) sequence, as (B,U).
Tensor time_slice(const Tensor& sequence, std::int64_t t) {
  const std::int64_t batch = sequence.dim(0), units = sequence.dim(2);
  Tensor slice({batch, units});
  for (std::int64_t b = 0; b < batch; ++b)
    for (std::int64_t u = 0; u < units; ++u) slice.at({b, u}) = sequence.at({b, t, u});
  return slice;
}

// Row b, timestep t of a (B,T,U) sequence, as (U).
std::vector<float> step_row(const Tensor& sequence, std::int64_t b, std::int64_t t) {
  const std::int64_t units = sequence.dim(2);
  std::vector<float> row;
  for (std::int64_t u = 0; u < units; ++u) row.push_back(sequence.at({b, t, u}));
  return row;
}

bool bit_identical(const Tensor& a, const Tensor& b) {
  return a.shape() == b.shape() &&
         std::memcmp(a.data(), b.data(), sizeof(float) * std::size_t(a.size())) == 0;
}

nlohmann::json constant(double value) {
  return {{"class_name", "Constant"}, {"config", {{"value", value}}}};
}

// ---------------------------------------------------------------------------------------------------------
// Parameter counts and weight shapes (design.md section 3: SimpleRNN U(F+U)+U, LSTM 4U(F+U)+4U, GRU
// 3U(F+U)+6U with bias (2,3U) or 3U(F+U)+3U with bias (3U), Embedding V·E, Dense F·U+U).

TEST(LayersParams, SimpleRnn3On2x10Is42) {
  SimpleRNN layer(3);
  build(layer, {kNone, 2, 10});
  EXPECT_EQ(layer.count_params(), 42);  // 3·(10+3)+3
  EXPECT_EQ(weight_shapes(layer), (std::vector<Shape>{{10, 3}, {3, 3}, {3}}));
  EXPECT_EQ(param_names(layer), (std::vector<std::string>{"kernel", "recurrent_kernel", "bias"}));
}

TEST(LayersParams, Lstm32On3FeaturesIs4608) {
  LSTM layer(32);
  build(layer, {kNone, kNone, 3});
  EXPECT_EQ(layer.count_params(), 4608);  // 4·32·(3+32)+4·32
  EXPECT_EQ(weight_shapes(layer), (std::vector<Shape>{{3, 128}, {32, 128}, {128}}));
  EXPECT_EQ(param_names(layer), (std::vector<std::string>{"kernel", "recurrent_kernel", "bias"}));
}

TEST(LayersParams, GruResetAfterIs135WithTwoBiasRows) {
  GRU layer(3);
  build(layer, {kNone, 2, 10});
  EXPECT_EQ(layer.count_params(), 135);  // 3·3·(10+3)+6·3
  EXPECT_EQ(weight_shapes(layer), (std::vector<Shape>{{10, 9}, {3, 9}, {2, 9}}));
}

TEST(LayersParams, GruResetBeforeIs126WithOneBiasRow) {
  GRU layer(3, {.reset_after = false});
  build(layer, {kNone, 2, 10});
  EXPECT_EQ(layer.count_params(), 126);  // 3·3·(10+3)+3·3
  EXPECT_EQ(weight_shapes(layer), (std::vector<Shape>{{10, 9}, {3, 9}, {9}}));
}

TEST(LayersParams, NoBiasDropsTheBias) {
  LSTM layer(2, {.use_bias = false});
  build(layer, {kNone, 4, 3});
  EXPECT_EQ(layer.count_params(), 4 * 2 * (3 + 2));
  EXPECT_EQ(param_names(layer), (std::vector<std::string>{"kernel", "recurrent_kernel"}));
}

TEST(LayersParams, Embedding100x3Is300) {
  Embedding layer(100, 3);
  build(layer, {kNone, kNone});
  EXPECT_EQ(layer.count_params(), 300);
  EXPECT_EQ(weight_shapes(layer), (std::vector<Shape>{{100, 3}}));
  EXPECT_EQ(param_names(layer), (std::vector<std::string>{"embeddings"}));
  EXPECT_EQ(layer.output_shapes(), (std::vector<Shape>{{kNone, kNone, 3}}));
}

TEST(LayersParams, BidirectionalLstm32On3FeaturesIs9216) {
  Bidirectional layer(LSTM(32));
  build(layer, {kNone, kNone, 3});
  EXPECT_EQ(layer.count_params(), 9216);
  EXPECT_EQ(weight_shapes(layer),
            (std::vector<Shape>{{3, 128}, {32, 128}, {128}, {3, 128}, {32, 128}, {128}}));
  EXPECT_EQ(layer.output_shapes(), (std::vector<Shape>{{kNone, 64}}));
}

TEST(LayersParams, Dense1On32Is33) {
  Dense layer(1);
  build(layer, {kNone, 32});
  EXPECT_EQ(layer.count_params(), 33);
  EXPECT_EQ(weight_shapes(layer), (std::vector<Shape>{{32, 1}, {1}}));
  EXPECT_EQ(param_names(layer), (std::vector<std::string>{"kernel", "bias"}));
}

TEST(LayersParams, TimeDistributedDense56On256Is14392) {
  TimeDistributed layer(Dense(56, {.activation = "softmax"}));
  build(layer, {kNone, kNone, 256});
  EXPECT_EQ(layer.count_params(), 14392);  // 256·56+56
  EXPECT_EQ(weight_shapes(layer), (std::vector<Shape>{{256, 56}, {56}}));
  EXPECT_EQ(layer.output_shapes(), (std::vector<Shape>{{kNone, kNone, 56}}));
}

// ---------------------------------------------------------------------------------------------------------
// Forward values worked out by hand.

// SimpleRNN(1), linear, kernel 0.5, recurrent 0.5, bias 0 on x = 1, 2, 3:
//   h1 = 0.5·1 = 0.5;  h2 = 0.5·2 + 0.5·0.5 = 1.25;  h3 = 0.5·3 + 0.5·1.25 = 2.125.
TEST(LayersForward, SimpleRnnLinearByHand) {
  SimpleRNN layer(1, {.activation = "linear", .return_sequences = true});
  build(layer, {kNone, 3, 1});
  layer.set_weights({Tensor({1, 1}, 0.5f), Tensor({1, 1}, 0.5f), Tensor({1}, 0.0f)});
  const Tensor x({1, 3, 1}, {1, 2, 3});
  EXPECT_TRUE(all_close(layer(x).output, Tensor({1, 3, 1}, {0.5f, 1.25f, 2.125f}), 0, 0));
}

// The same layer through Keras's Constant initializers instead of set_weights.
TEST(LayersForward, SimpleRnnConstantInitializersByHand) {
  SimpleRNN layer(1, {.activation = "linear",
                      .return_sequences = true,
                      .kernel_initializer = constant(0.5),
                      .recurrent_initializer = constant(0.5),
                      .bias_initializer = constant(0.25)});
  // With bias 0.25: h1 = 0.5+0.25 = 0.75; h2 = 1+0.375+0.25 = 1.625; h3 = 1.5+0.8125+0.25 = 2.5625.
  const Tensor x({1, 3, 1}, {1, 2, 3});
  EXPECT_TRUE(all_close(layer(x).output, Tensor({1, 3, 1}, {0.75f, 1.625f, 2.5625f}), 0, 0));
}

// tanh of the same sums, one step: h1 = tanh(0.5·1), h2 = tanh(0.5·2 + 0.5·h1).
TEST(LayersForward, SimpleRnnTanhByHand) {
  SimpleRNN layer(1, {.return_sequences = true});
  build(layer, {kNone, 2, 1});
  layer.set_weights({Tensor({1, 1}, 0.5f), Tensor({1, 1}, 0.5f), Tensor({1}, 0.0f)});
  const double h1 = std::tanh(0.5), h2 = std::tanh(1.0 + 0.5 * h1);
  EXPECT_TRUE(
      all_close(layer(Tensor({1, 2, 1}, {1, 2})).output, Tensor({1, 2, 1}, {float(h1), float(h2)}), 1e-6));
}

// All-zero weights: i = f = o = σ(0) = 0.5 and g = tanh(0) = 0, so c = 0.5·c + 0.5·0 stays 0 and
// h = 0.5·tanh(0) stays 0, whatever the input.
TEST(LayersForward, LstmAllZeroWeightsKeepsZeroState) {
  LSTM layer(2, {.return_sequences = true, .return_state = true});
  build(layer, {kNone, 3, 2});
  layer.set_weights({Tensor({2, 8}), Tensor({2, 8}), Tensor({8})});
  const Tensor x({2, 3, 2}, {1, -2, 3, 4, -5, 6, 0.5f, 7, -8, 9, 10, -1});
  auto [out, h, c] = layer(x);
  EXPECT_TRUE(all_close(out, Tensor({2, 3, 2}), 0, 0));
  EXPECT_TRUE(all_close(h, Tensor({2, 2}), 0, 0));
  EXPECT_TRUE(all_close(c, Tensor({2, 2}), 0, 0));
}

// Zero kernels and a constant bias (i, f, c, o) = (0, 0, 1, 0), hard_sigmoid gates and linear activation:
// i = f = o = clip(0.2·0 + 0.5) = 0.5, g = 1.  c' = 0.5·c + 0.5, h' = 0.5·c'.
//   c: 0.5, 0.75, 0.875;  h: 0.25, 0.375, 0.4375.
TEST(LayersForward, LstmConstantBiasByHand) {
  LSTM layer(1, {.activation = "linear",
                 .recurrent_activation = "hard_sigmoid",
                 .return_sequences = true,
                 .return_state = true});
  build(layer, {kNone, 3, 1});
  layer.set_weights({Tensor({1, 4}), Tensor({1, 4}), Tensor({4}, {0, 0, 1, 0})});
  auto [out, h, c] = layer(Tensor({1, 3, 1}, {5, -6, 7}));
  EXPECT_TRUE(all_close(out, Tensor({1, 3, 1}, {0.25f, 0.375f, 0.4375f}), 0, 0));
  EXPECT_TRUE(all_close(h, Tensor({1, 1}, {0.4375f}), 0, 0));
  EXPECT_TRUE(all_close(c, Tensor({1, 1}, {0.875f}), 0, 0));
}

// Distinct weights per gate, default sigmoid/tanh: the numbers depend on the gate order i, f, c, o.
// Values from tests/unit/hand_values.py (lstm_case): h 0.0980432182, 0.311984732, 0.58430388; c 0.90220186.
TEST(LayersForward, LstmGateOrderMatchesHandValues) {
  LSTM layer(1, {.return_sequences = true, .return_state = true});
  build(layer, {kNone, 3, 1});
  layer.set_weights({Tensor({1, 4}, {0.1f, 0.2f, 0.3f, 0.4f}), Tensor({1, 4}, {0.5f, 0.6f, 0.7f, 0.8f}),
                     Tensor({4}, {0.01f, 1.0f, 0.02f, 0.03f})});
  auto [out, h, c] = layer(Tensor({1, 3, 1}, {1, 2, 3}));
  EXPECT_TRUE(all_close(out, Tensor({1, 3, 1}, {0.0980432182f, 0.311984732f, 0.58430388f}), 1e-6));
  EXPECT_TRUE(all_close(c, Tensor({1, 1}, {0.90220186f}), 1e-6));
}

// GRU(2), one step from h0 = (1, 2) with x = 0 and zero kernel; hard_sigmoid gates, linear candidate.
// recurrent_kernel: z and r columns 0, h columns U_h = [[1, 2], [3, 4]]; r bias (2.5, 0).
//   z = hs(0) = (0.5, 0.5);  r = hs(2.5, 0) = (0.2·2.5+0.5, 0.5) = (1, 0.5);  h·U_h = (1+6, 2+8) = (7, 10).
//   reset_after:  hh = r ⊙ (h·U_h) = (7, 5);           h' = 0.5·(1, 2) + 0.5·(7, 5) = (4, 3.5)
//   reset_before: hh = (r ⊙ h)·U_h = (1, 1)·U_h = (4, 6); h' = 0.5·(1, 2) + 0.5·(4, 6) = (2.5, 4)
struct GruHandCase {
  Tensor recurrent_kernel = Tensor({2, 6}, {0, 0, 0, 0, 1, 2,  //
                                            0, 0, 0, 0, 3, 4});
  Tensor x = Tensor({1, 1, 1}, {0});
  Tensor h0 = Tensor({1, 2}, {1, 2});
};

Tensor run_gru_by_hand(bool reset_after, const Tensor& bias) {
  GruHandCase hand;
  GRU layer(2, {.activation = "linear", .recurrent_activation = "hard_sigmoid", .reset_after = reset_after});
  build(layer, {kNone, 1, 1});
  layer.set_weights({Tensor({1, 6}), hand.recurrent_kernel, bias});
  return layer(hand.x, {.initial_state = {hand.h0}}).output;
}

TEST(LayersForward, GruResetAfterAndBeforeDifferByHand) {
  const Tensor after = run_gru_by_hand(true, Tensor({2, 6}, {0, 0, 2.5f, 0, 0, 0,  //
                                                             0, 0, 0, 0, 0, 0}));
  const Tensor before = run_gru_by_hand(false, Tensor({6}, {0, 0, 2.5f, 0, 0, 0}));
  EXPECT_TRUE(all_close(after, Tensor({1, 2}, {4, 3.5f}), 1e-6));
  EXPECT_TRUE(all_close(before, Tensor({1, 2}, {2.5f, 4}), 1e-6));
}

// reset_after's two bias rows: row 0 (input) is added outside r ⊙ (...), row 1 (recurrent) inside it.
//   row 1 h part (1, 1): hh = r ⊙ (h·U_h + 1) = (1, 0.5) ⊙ (8, 11) = (8, 5.5)
//                        h' = (0.5 + 4, 1 + 2.75) = (4.5, 3.75)
//   row 0 h part (1, 1): hh = 1 + r ⊙ (h·U_h) = (1, 1) + (7, 5) = (8, 6)
//                        h' = (0.5 + 4, 1 + 3) = (4.5, 4)
TEST(LayersForward, GruResetAfterBiasRowsByHand) {
  const Tensor recurrent_row = run_gru_by_hand(true, Tensor({2, 6}, {0, 0, 2.5f, 0, 0, 0,  //
                                                                     0, 0, 0, 0, 1, 1}));
  const Tensor input_row = run_gru_by_hand(true, Tensor({2, 6}, {0, 0, 2.5f, 0, 1, 1,  //
                                                                 0, 0, 0, 0, 0, 0}));
  EXPECT_TRUE(all_close(recurrent_row, Tensor({1, 2}, {4.5f, 3.75f}), 1e-6));
  EXPECT_TRUE(all_close(input_row, Tensor({1, 2}, {4.5f, 4}), 1e-6));
}

// Default sigmoid/tanh, every weight distinct, two steps. Values from tests/unit/hand_values.py (gru_case):
//   reset_after=True:  0.140715092, -0.40473554, 0.172171049, -0.160538073
//   reset_after=False: 0.106580917, -0.405486905, 0.0730598185, -0.0807225805
TEST(LayersForward, GruDefaultActivationsMatchHandValues) {
  const Tensor kernel({1, 6}, {0.5f, -0.4f, 0.3f, 0.2f, 0.1f, -0.6f});
  const Tensor recurrent({2, 6}, {0.1f, 0.2f, 0.3f, 0.4f, 0.5f, 0.6f,  //
                                  -0.6f, -0.5f, -0.4f, -0.3f, -0.2f, -0.1f});
  const std::vector<float> input_bias{0.05f, -0.05f, 0.1f, -0.1f, 0.2f, -0.2f};
  const std::vector<float> recurrent_bias{0.3f, 0.3f, -0.3f, -0.3f, 0.4f, -0.4f};
  const Tensor x({1, 2, 1}, {1, -2});

  GRU after(2, {.return_sequences = true});
  build(after, {kNone, 2, 1});
  std::vector<float> both_rows = input_bias;
  both_rows.insert(both_rows.end(), recurrent_bias.begin(), recurrent_bias.end());
  after.set_weights({kernel, recurrent, Tensor({2, 6}, both_rows)});
  EXPECT_TRUE(all_close(after(x).output,
                        Tensor({1, 2, 2}, {0.140715092f, -0.40473554f, 0.172171049f, -0.160538073f}), 1e-6));

  GRU before(2, {.return_sequences = true, .reset_after = false});
  build(before, {kNone, 2, 1});
  before.set_weights({kernel, recurrent, Tensor({6}, input_bias)});
  EXPECT_TRUE(all_close(before(x).output,
                        Tensor({1, 2, 2}, {0.106580917f, -0.405486905f, 0.0730598185f, -0.0807225805f}),
                        1e-6));
}

// hard_sigmoid: Keras 1/2 clip(0.2x + 0.5, 0, 1); Keras 3 clip(x/6 + 0.5, 0, 1).
//   x:        -3    -2.5   0    1     2.5    3
//   Keras 2:   0     0     0.5  0.7   1      1
//   Keras 3:   0     1/12  0.5  2/3   11/12  1
const std::vector<float> kHardSigmoidInputs{-3, -2.5f, 0, 1, 2.5f, 3};
const std::vector<float> kHardSigmoidKeras2{0, 0, 0.5f, 0.7f, 1, 1};
const std::vector<float> kHardSigmoidKeras3{0, 1.0f / 12, 0.5f, 2.0f / 3, 11.0f / 12, 1};

TEST(LayersActivation, HardSigmoidKeras2AndKeras3Forms) {
  std::vector<float> keras2 = kHardSigmoidInputs, keras3 = kHardSigmoidInputs;
  apply_activation(parse_activation("hard_sigmoid", "test"), keras2, 6);
  apply_activation(parse_activation("hard_sigmoid_keras3", "test"), keras3, 6);
  EXPECT_TRUE(all_close(Tensor({6}, keras2), Tensor({6}, kHardSigmoidKeras2), 1e-6));
  EXPECT_TRUE(all_close(Tensor({6}, keras3), Tensor({6}, kHardSigmoidKeras3), 1e-6));
}

// Through a layer: SimpleRNN(1) with kernel 1, recurrent 0, bias 0 outputs activation(x_t) at every step.
Tensor hard_sigmoid_through_rnn(Layer& layer) {
  build(layer, {kNone, 6, 1});
  layer.set_weights({Tensor({1, 1}, 1.0f), Tensor({1, 1}, 0.0f), Tensor({1}, 0.0f)});
  return layer.call(Tensor({1, 6, 1}, kHardSigmoidInputs))[0];
}

TEST(LayersActivation, HardSigmoidInARecurrentLayer) {
  SimpleRNN keras2(1, {.activation = "hard_sigmoid", .return_sequences = true});
  SimpleRNN keras3(1, {.activation = "hard_sigmoid_keras3", .return_sequences = true});
  EXPECT_TRUE(all_close(hard_sigmoid_through_rnn(keras2), Tensor({1, 6, 1}, kHardSigmoidKeras2), 1e-6));
  EXPECT_TRUE(all_close(hard_sigmoid_through_rnn(keras3), Tensor({1, 6, 1}, kHardSigmoidKeras3), 1e-6));
}

// A Keras 3 file's "hard_sigmoid" is the Keras 3 form; a Keras 2 file's the Keras 2 form.
TEST(LayersActivation, HardSigmoidNameFollowsTheFilesKeras) {
  const nlohmann::json config = {
      {"class_name", "SimpleRNN"},
      {"config",
       {{"name", "rnn"}, {"units", 1}, {"activation", "hard_sigmoid"}, {"return_sequences", true}}}};
  std::unique_ptr<Layer> keras2 = layer_from_config(config, "test");
  std::unique_ptr<Layer> keras3 = layer_from_config(config, "test", KerasDialect{.keras3 = true});
  EXPECT_TRUE(all_close(hard_sigmoid_through_rnn(*keras2), Tensor({1, 6, 1}, kHardSigmoidKeras2), 1e-6));
  EXPECT_TRUE(all_close(hard_sigmoid_through_rnn(*keras3), Tensor({1, 6, 1}, kHardSigmoidKeras3), 1e-6));
}

// Dense over the last axis of (B,T,F), and TimeDistributed(Dense) the same:
//   kernel [[1, 2], [3, 4]], bias (0.5, -0.5):
//   (1, 0) -> (1.5, 1.5);  (0, 1) -> (3.5, 3.5);  (1, 1) -> (4.5, 5.5)
TEST(LayersForward, DenseAndTimeDistributedByHand) {
  const std::vector<Tensor> weights{Tensor({2, 2}, {1, 2, 3, 4}), Tensor({2}, {0.5f, -0.5f})};
  const Tensor x({1, 3, 2}, {1, 0, 0, 1, 1, 1});
  const Tensor expected({1, 3, 2}, {1.5f, 1.5f, 3.5f, 3.5f, 4.5f, 5.5f});
  Dense dense(2);
  build(dense, {kNone, 3, 2});
  dense.set_weights(weights);
  EXPECT_TRUE(all_close(dense.call(x)[0], expected, 0, 0));
  TimeDistributed wrapped(Dense(2));
  build(wrapped, {kNone, 3, 2});
  wrapped.set_weights(weights);
  EXPECT_TRUE(all_close(wrapped.call(x)[0], expected, 0, 0));
}

// softmax over the last axis: logits (0, ln 3) -> (1/4, 3/4); relu clips at zero.
TEST(LayersForward, DenseSoftmaxAndReluByHand) {
  Dense softmax(2, {.activation = "softmax"});
  build(softmax, {kNone, 1});
  softmax.set_weights({Tensor({1, 2}, {0.0f, float(std::log(3.0))}), Tensor({2}, 0.0f)});
  EXPECT_TRUE(
      all_close(softmax.call(Tensor({2, 1}, {1, 2}))[0], Tensor({2, 2}, {0.25f, 0.75f, 0.1f, 0.9f}), 1e-6));
  Dense relu(2, {.activation = "relu"});
  build(relu, {kNone, 1});
  relu.set_weights({Tensor({1, 2}, {1, -1}), Tensor({2}, 0.0f)});
  EXPECT_TRUE(all_close(relu.call(Tensor({1, 1}, {3}))[0], Tensor({1, 2}, {3, 0}), 0, 0));
}

// Embedding is a row lookup: ids (2, 0) of the table [[0, 1], [2, 3], [4, 5]] are (4, 5), (0, 1).
TEST(LayersForward, EmbeddingLooksUpRows) {
  Embedding layer(3, 2);
  build(layer, {kNone, kNone});
  layer.set_weights({Tensor({3, 2}, {0, 1, 2, 3, 4, 5})});
  EXPECT_TRUE(all_close(layer.call(Tensor({1, 2}, {2, 0}))[0], Tensor({1, 2, 2}, {4, 5, 0, 1}), 0, 0));
}

// ---------------------------------------------------------------------------------------------------------
// The direct layer call of the issue.

const Tensor kSmallBatch({2, 4, 3},
                         {0.1f,  -0.2f, 0.3f, 0.4f, 0.5f,  -0.6f, 0.7f, 0.8f, 0.9f,  -1.0f, 0.0f, 0.2f,
                          -0.3f, 0.6f,  0.1f, 0.9f, -0.4f, 0.5f,  0.2f, 0.2f, -0.7f, 0.3f,  1.0f, -0.5f});

TEST(LayersDirectCall, LstmReturnStateGivesOutputAndBothStates) {
  auto [out, h, c] = LSTM(3, {.return_state = true})(kSmallBatch);
  EXPECT_EQ(out.shape(), (Shape{2, 3}));
  EXPECT_EQ(h.shape(), (Shape{2, 3}));
  EXPECT_EQ(c.shape(), (Shape{2, 3}));
  EXPECT_TRUE(bit_identical(out, h)) << "the output of an LSTM is its last h";
  EXPECT_FALSE(all_close(c, h, 1e-6, 0)) << "c is not h";
  // |h| = |o·tanh(c)| < |tanh(c)|: a check on c that does not repeat the cell's maths.
  for (std::int64_t i = 0; i < h.size(); ++i) EXPECT_LT(std::abs(h[i]), std::abs(std::tanh(c[i])) + 1e-7f);
}

TEST(LayersDirectCall, GruReturnStateGivesOutputAndState) {
  auto [out, state] = GRU(3, {.return_state = true})(kSmallBatch);
  EXPECT_EQ(out.shape(), (Shape{2, 3}));
  EXPECT_TRUE(bit_identical(out, state));
  auto [rnn_out, rnn_state] = SimpleRNN(3, {.return_state = true})(kSmallBatch);
  EXPECT_EQ(rnn_out.shape(), (Shape{2, 3}));
  EXPECT_TRUE(bit_identical(rnn_out, rnn_state));
}

TEST(LayersDirectCall, WithoutReturnStateOnlyTheOutput) {
  LSTM lstm(3);
  EXPECT_EQ(lstm.call(kSmallBatch).size(), 1u);
  auto [out, h, c] = lstm(kSmallBatch);
  EXPECT_EQ(out.shape(), (Shape{2, 3}));
  EXPECT_TRUE(h.empty());
  EXPECT_TRUE(c.empty());
}

TEST(LayersDirectCall, LastStepOfTheSequenceIsTheState) {
  auto [out, h, c] = LSTM(3, {.return_sequences = true, .return_state = true})(kSmallBatch);
  EXPECT_EQ(out.shape(), (Shape{2, 4, 3}));
  EXPECT_TRUE(bit_identical(time_slice(out, 3), h));
  auto [gru_out, gru_state] = GRU(3, {.return_sequences = true, .return_state = true})(kSmallBatch);
  EXPECT_TRUE(bit_identical(time_slice(gru_out, 3), gru_state));
  auto [rnn_out, rnn_state] = SimpleRNN(2, {.return_sequences = true, .return_state = true})(kSmallBatch);
  EXPECT_TRUE(bit_identical(time_slice(rnn_out, 3), rnn_state));
}

// The same SimpleRNN with the hand weights: state = h3 = 2.125.
TEST(LayersDirectCall, SimpleRnnStateByHand) {
  SimpleRNN layer(1, {.activation = "linear", .return_state = true});
  build(layer, {kNone, 3, 1});
  layer.set_weights({Tensor({1, 1}, 0.5f), Tensor({1, 1}, 0.5f), Tensor({1}, 0.0f)});
  auto [out, state] = layer(Tensor({1, 3, 1}, {1, 2, 3}));
  EXPECT_TRUE(all_close(state, Tensor({1, 1}, {2.125f}), 0, 0));
  EXPECT_TRUE(all_close(out, Tensor({1, 1}, {2.125f}), 0, 0));
}

// Bidirectional's direct call: merged output, forward h and c, backward h and c. Its backward half is a
// go_backwards copy of the layer; its forward half the layer itself.
TEST(LayersDirectCall, BidirectionalOutputsAndStates) {
  Bidirectional bi(LSTM(2, {.return_state = true}));
  build(bi, {kNone, 4, 3});
  const std::vector<Tensor> weights = bi.get_weights();
  std::vector<Tensor> results = bi(kSmallBatch);
  ASSERT_EQ(results.size(), 5u);
  EXPECT_EQ(results[0].shape(), (Shape{2, 4}));

  LSTM forward(2, {.return_state = true});
  LSTM backward(2, {.return_state = true, .go_backwards = true});
  build(forward, {kNone, 4, 3});
  build(backward, {kNone, 4, 3});
  forward.set_weights({weights[0], weights[1], weights[2]});
  backward.set_weights({weights[3], weights[4], weights[5]});
  auto [f_out, f_h, f_c] = forward(kSmallBatch);
  auto [b_out, b_h, b_c] = backward(kSmallBatch);
  EXPECT_TRUE(all_close(results[1], f_h, 1e-6));
  EXPECT_TRUE(all_close(results[2], f_c, 1e-6));
  EXPECT_TRUE(all_close(results[3], b_h, 1e-6));
  EXPECT_TRUE(all_close(results[4], b_c, 1e-6));
  for (std::int64_t b = 0; b < 2; ++b)
    for (std::int64_t u = 0; u < 2; ++u) {
      EXPECT_NEAR(results[0].at({b, u}), f_h.at({b, u}), 1e-6) << "concat: forward first";
      EXPECT_NEAR(results[0].at({b, 2 + u}), b_h.at({b, u}), 1e-6) << "concat: backward second";
    }
}

TEST(LayersDirectCall, BidirectionalMergeModes) {
  Bidirectional none(SimpleRNN(2), {.merge_mode = std::nullopt});
  build(none, {kNone, 4, 3});
  const std::vector<Tensor> halves = none(kSmallBatch);
  ASSERT_EQ(halves.size(), 2u);
  const Tensor& f = halves[0];
  const Tensor& b = halves[1];
  for (const char* mode : {"sum", "mul", "ave", "concat"}) {
    Bidirectional merged(SimpleRNN(2), {.merge_mode = mode});
    build(merged, {kNone, 4, 3});
    merged.set_weights(none.get_weights());
    const Tensor y = merged(kSmallBatch)[0];
    Tensor expected(std::string(mode) == "concat" ? Shape{2, 4} : Shape{2, 2});
    for (std::int64_t r = 0; r < 2; ++r)
      for (std::int64_t u = 0; u < 2; ++u) {
        const float fv = f.at({r, u}), bv = b.at({r, u});
        if (std::string(mode) == "sum") expected.at({r, u}) = fv + bv;
        if (std::string(mode) == "mul") expected.at({r, u}) = fv * bv;
        if (std::string(mode) == "ave") expected.at({r, u}) = (fv + bv) / 2;
        if (std::string(mode) == "concat") {
          expected.at({r, u}) = fv;
          expected.at({r, 2 + u}) = bv;
        }
      }
    EXPECT_TRUE(all_close(y, expected, 1e-6)) << mode;
  }
}

// With return_sequences, Bidirectional puts the backward copy's outputs back in time order: at time t the
// backward half is what a go_backwards layer outputs after reading T-1 ... t: its step T-1-t.
TEST(LayersDirectCall, BidirectionalSequencesInTimeOrder) {
  Bidirectional bi(SimpleRNN(2, {.return_sequences = true}));
  build(bi, {kNone, 4, 3});
  const std::vector<Tensor> weights = bi.get_weights();
  const Tensor y = bi(kSmallBatch)[0];
  ASSERT_EQ(y.shape(), (Shape{2, 4, 4}));
  SimpleRNN forward(2, {.return_sequences = true});
  SimpleRNN backward(2, {.return_sequences = true, .go_backwards = true});
  build(forward, {kNone, 4, 3});
  build(backward, {kNone, 4, 3});
  forward.set_weights({weights[0], weights[1], weights[2]});
  backward.set_weights({weights[3], weights[4], weights[5]});
  const Tensor f = forward(kSmallBatch).output, b = backward(kSmallBatch).output;
  for (std::int64_t r = 0; r < 2; ++r)
    for (std::int64_t t = 0; t < 4; ++t)
      for (std::int64_t u = 0; u < 2; ++u) {
        EXPECT_NEAR(y.at({r, t, u}), f.at({r, t, u}), 1e-6) << r << " " << t << " " << u;
        EXPECT_NEAR(y.at({r, t, 2 + u}), b.at({r, 3 - t, u}), 1e-6) << r << " " << t << " " << u;
      }
}

// ---------------------------------------------------------------------------------------------------------
// go_backwards.

// Hand weights again, reading 3, 2, 1: h = 1.5, then 1 + 0.75 = 1.75, then 0.5 + 0.875 = 1.375; the
// sequence comes out in that processing order, not re-reversed.
TEST(LayersGoBackwards, SimpleRnnByHand) {
  SimpleRNN layer(1, {.activation = "linear", .return_sequences = true, .go_backwards = true});
  build(layer, {kNone, 3, 1});
  layer.set_weights({Tensor({1, 1}, 0.5f), Tensor({1, 1}, 0.5f), Tensor({1}, 0.0f)});
  EXPECT_TRUE(
      all_close(layer(Tensor({1, 3, 1}, {1, 2, 3})).output, Tensor({1, 3, 1}, {1.5f, 1.75f, 1.375f}), 0, 0));
}

TEST(LayersGoBackwards, EqualsTheLayerOnTheReversedInput) {
  SimpleRNN backwards(3, {.return_sequences = true, .go_backwards = true});
  SimpleRNN forwards(3, {.return_sequences = true});
  build(backwards, {kNone, 4, 3}, 5);
  build(forwards, {kNone, 4, 3}, 6);
  forwards.set_weights(backwards.get_weights());
  const Tensor y_backwards = backwards(kSmallBatch).output;
  const Tensor y_reversed = forwards(reversed_in_time(kSmallBatch)).output;
  EXPECT_TRUE(all_close(y_backwards, y_reversed, 1e-6)) << "outputs in processing order";
  EXPECT_FALSE(all_close(y_backwards, reversed_in_time(y_reversed), 1e-3, 0)) << "not re-reversed";
  EXPECT_FALSE(all_close(y_backwards, forwards(kSmallBatch).output, 1e-3, 0)) << "direction matters here";
}

// A go_backwards layer passes its mask on as it received it (not reversed), though its outputs are in
// reversed order: Keras's behaviour. The next layer then sees the original mask over the reversed outputs.
TEST(LayersGoBackwards, PassesTheMaskOnUnreversed) {
  Sequential model({.seed = 16});
  model.add(Embedding(10, 2, {.mask_zero = true}));
  model.add(SimpleRNN(2, {.return_sequences = true, .go_backwards = true}));
  model.add(SimpleRNN(2, {.return_sequences = true}));
  const Tensor x({1, 4}, {0, 3, 4, 5});
  const Tensor mask({1, 4}, {0, 1, 1, 1});
  const Tensor embedded = model.layer(0).call(x)[0];
  const Tensor reversed_outputs = model.layer(1).call(embedded, {.mask = &mask})[0];
  const Tensor expected = model.layer(2).call(reversed_outputs, {.mask = &mask})[0];
  EXPECT_TRUE(all_close(model(x), expected, 0, 0));
  // What the reversed mask would give instead: the check above can tell the two apart.
  const Tensor reversed_mask({1, 4}, {1, 1, 1, 0});
  EXPECT_FALSE(
      all_close(model.layer(2).call(reversed_outputs, {.mask = &reversed_mask})[0], expected, 1e-6, 0));
}

// ---------------------------------------------------------------------------------------------------------
// initial_state.

// Hand weights with h0 = 2 (batch row 0) and h0 = 0 (row 1):
//   row 0: h1 = 0.5 + 0.5·2 = 1.5;  h2 = 1 + 0.75 = 1.75;  h3 = 1.5 + 0.875 = 2.375
//   row 1: 0.5, 1.25, 2.125 as without an initial state.
TEST(LayersInitialState, SimpleRnnByHand) {
  SimpleRNN layer(1, {.activation = "linear", .return_sequences = true});
  build(layer, {kNone, 3, 1});
  layer.set_weights({Tensor({1, 1}, 0.5f), Tensor({1, 1}, 0.5f), Tensor({1}, 0.0f)});
  const Tensor x({2, 3, 1}, {1, 2, 3, 1, 2, 3});
  const Tensor y = layer(x, {.initial_state = {Tensor({2, 1}, {2, 0})}}).output;
  EXPECT_TRUE(all_close(y, Tensor({2, 3, 1}, {1.5f, 1.75f, 2.375f, 0.5f, 1.25f, 2.125f}), 0, 0));
}

// LSTM with zero weights from (h0, c0) = (5, 2): every gate is 0.5 and g = 0, so c_t = 2·0.5^t and
// h_t = 0.5·tanh(c_t); h0 itself only reaches the gates through the zero recurrent kernel.
TEST(LayersInitialState, LstmZeroWeightsByHand) {
  LSTM layer(1, {.return_sequences = true, .return_state = true});
  build(layer, {kNone, 3, 1});
  layer.set_weights({Tensor({1, 4}), Tensor({1, 4}), Tensor({4})});
  auto [out, h, c] =
      layer(Tensor({1, 3, 1}, {1, 2, 3}), {.initial_state = {Tensor({1, 1}, 5.0f), Tensor({1, 1}, 2.0f)}});
  const Tensor expected(
      {1, 3, 1}, {float(0.5 * std::tanh(1.0)), float(0.5 * std::tanh(0.5)), float(0.5 * std::tanh(0.25))});
  EXPECT_TRUE(all_close(out, expected, 1e-6));
  EXPECT_TRUE(all_close(c, Tensor({1, 1}, {0.25f}), 1e-7));
}

// ---------------------------------------------------------------------------------------------------------
// stateful.

TEST(LayersStateful, CarriesTheStateBetweenCallsUntilReset) {
  Sequential model({.seed = 3});
  model.add(SimpleRNN(2, {.stateful = true, .batch_input_shape = Shape{2, 3, 1}}));
  const Tensor x({2, 3, 1}, {1, 2, 3, -1, 0.5f, 2});
  const Tensor first = model.predict(x);
  const Tensor second = model.predict(x);
  EXPECT_FALSE(all_close(second, first, 1e-4, 0)) << "the second call starts from the first call's state";

  Sequential once;  // one run over x then x, from a zero state
  once.add(SimpleRNN(2, {.input_shape = Shape{6, 1}}));
  once.set_weights(model.get_weights());
  EXPECT_TRUE(all_close(second, once.predict(concat_in_time(x, x)), 1e-6));

  model.reset_states();
  EXPECT_TRUE(all_close(model.predict(x), first, 0, 0));
}

TEST(LayersStateful, DirectCallCarriesLstmStates) {
  LSTM layer(2, {.return_state = true, .stateful = true, .batch_input_shape = Shape{2, 4, 3}});
  build(layer, {2, 4, 3});
  auto [out1, h1, c1] = layer(kSmallBatch);
  auto [out2, h2, c2] = layer(kSmallBatch);
  LSTM plain(2, {.return_state = true});
  build(plain, {kNone, 4, 3});
  plain.set_weights(layer.get_weights());
  auto [out_ref, h_ref, c_ref] = plain(kSmallBatch, {.initial_state = {h1, c1}});
  EXPECT_TRUE(all_close(h2, h_ref, 1e-6));
  EXPECT_TRUE(all_close(c2, c_ref, 1e-6));
  layer.reset_states();
  EXPECT_TRUE(all_close(layer(kSmallBatch).state_h, h1, 0, 0));
}

TEST(LayersStateful, NeedsABatchSize) {
  Sequential model;
  try {
    model.add(SimpleRNN(2, {.stateful = true, .input_shape = Shape{3, 1}}));
    ADD_FAILURE() << "a stateful layer without a batch size was accepted";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("batch size"), std::string::npos) << error.what();
  }
}

// Keras's direct (eager) call of a stateful layer declared with batch_input_shape builds for that batch
// and carries its state to the next call.
TEST(LayersStateful, DirectCallWithBatchInputShape) {
  SimpleRNN layer(2, {.stateful = true, .batch_input_shape = Shape{2, 4, 3}});
  const Tensor x = kSmallBatch;  // (2, 4, 3)
  Tensor first;
  try {
    first = layer(x).output;
  } catch (const Error& error) {
    FAIL()
        << "BUG: a direct call of a stateful layer declared with batch_input_shape (2, 4, 3) throws: "
        << error.what();
  }
  const Tensor second = layer(x).output;
  SimpleRNN plain(2);
  build(plain, {kNone, 8, 3});
  plain.set_weights(layer.get_weights());
  EXPECT_TRUE(all_close(second, plain(concat_in_time(x, x)).output, 1e-6));
  EXPECT_FALSE(all_close(second, first, 1e-4, 0));
}

// The batch size through batch_size + input_shape, Keras's other way.
TEST(LayersStateful, BatchSizeOptionGivesTheBatch) {
  Sequential model;
  model.add(SimpleRNN(2, {.stateful = true, .input_shape = Shape{3, 1}, .batch_size = 2}));
  EXPECT_EQ(model.input_shape(), (Shape{2, 3, 1}));
}

// ---------------------------------------------------------------------------------------------------------
// Masking: Embedding(mask_zero=True) masks id 0. Rows [0, 3, 0, 5] and [4, 0, 0, 6] are the sequences
// [3, 5] and [4, 6] padded; a masked step keeps the state and repeats the previous output (zeros before
// the first unmasked step).
const Tensor kPadded({2, 4}, {0, 3, 0, 5, 4, 0, 0, 6});
const Tensor kUnpadded({2, 2}, {3, 5, 4, 6});

TEST(LayersMasking, MaskedStepsRepeatTheOutputAndKeepTheState) {
  Sequential model({.seed = 11});
  model.add(Embedding(10, 2, {.mask_zero = true}));
  model.add(SimpleRNN(3, {.return_sequences = true}));
  const Tensor padded = model(kPadded);
  const Tensor unpadded = model(kUnpadded);
  ASSERT_EQ(padded.shape(), (Shape{2, 4, 3}));
  const auto near = [](const std::vector<float>& a, const std::vector<float>& b) {
    return all_close(Tensor({3}, a), Tensor({3}, b), 1e-6);
  };
  EXPECT_EQ(step_row(padded, 0, 0), (std::vector<float>{0, 0, 0})) << "zeros before the first step";
  EXPECT_TRUE(near(step_row(padded, 0, 1), step_row(unpadded, 0, 0)));
  EXPECT_EQ(step_row(padded, 0, 2), step_row(padded, 0, 1)) << "repeats the previous output";
  EXPECT_TRUE(near(step_row(padded, 0, 3), step_row(unpadded, 0, 1))) << "the state was kept";
  EXPECT_TRUE(near(step_row(padded, 1, 0), step_row(unpadded, 1, 0)));
  EXPECT_EQ(step_row(padded, 1, 1), step_row(padded, 1, 0));
  EXPECT_EQ(step_row(padded, 1, 2), step_row(padded, 1, 0));
  EXPECT_TRUE(near(step_row(padded, 1, 3), step_row(unpadded, 1, 1)));
  EXPECT_FALSE(near(step_row(unpadded, 0, 0), {0, 0, 0}));
  EXPECT_FALSE(near(step_row(unpadded, 0, 1), step_row(unpadded, 0, 0)));
}

// The mask goes on past a return_sequences layer to the next one.
TEST(LayersMasking, MaskPropagatesThroughReturnSequences) {
  Sequential model({.seed = 12});
  model.add(Embedding(10, 2, {.mask_zero = true}));
  model.add(GRU(3, {.return_sequences = true}));
  model.add(LSTM(2));
  EXPECT_TRUE(all_close(model(kPadded), model(kUnpadded), 1e-6));
}

TEST(LayersMasking, LstmKeepsHAndCAtMaskedSteps) {
  LSTM layer(2, {.return_state = true});
  build(layer, {kNone, kNone, 1}, 13);
  const Tensor x({1, 4, 1}, {9, 1, -9, 2});  // masked values are ignored, however large
  const Tensor mask({1, 4}, {0, 1, 0, 1});
  auto [out, h, c] = layer(x, {.mask = &mask});
  auto [ref_out, ref_h, ref_c] = layer(Tensor({1, 2, 1}, {1, 2}));
  EXPECT_TRUE(all_close(h, ref_h, 1e-6));
  EXPECT_TRUE(all_close(c, ref_c, 1e-6));
  EXPECT_TRUE(all_close(out, ref_out, 1e-6));
}

// Inside Bidirectional with return_sequences, Keras outputs zeros at masked steps (zero_output_for_mask).
// Unmasked steps: forward half as on the unpadded sequence, backward half too, at the same tokens.
TEST(LayersMasking, BidirectionalReturnSequencesZerosAtMaskedSteps) {
  Sequential model({.seed = 14});
  model.add(Embedding(10, 2, {.mask_zero = true}));
  model.add(Bidirectional(SimpleRNN(2, {.return_sequences = true})));
  const Tensor padded = model(kPadded);
  const Tensor unpadded = model(kUnpadded);
  ASSERT_EQ(padded.shape(), (Shape{2, 4, 4}));
  const std::vector<float> zeros(4, 0.0f);
  EXPECT_EQ(step_row(padded, 0, 0), zeros);
  EXPECT_EQ(step_row(padded, 0, 2), zeros);
  EXPECT_EQ(step_row(padded, 1, 1), zeros);
  EXPECT_EQ(step_row(padded, 1, 2), zeros);
  const auto near = [](const std::vector<float>& a, const std::vector<float>& b) {
    return all_close(Tensor({4}, a), Tensor({4}, b), 1e-6);
  };
  EXPECT_TRUE(near(step_row(padded, 0, 1), step_row(unpadded, 0, 0)));
  EXPECT_TRUE(near(step_row(padded, 0, 3), step_row(unpadded, 0, 1)));
  EXPECT_TRUE(near(step_row(padded, 1, 0), step_row(unpadded, 1, 0)));
  EXPECT_TRUE(near(step_row(padded, 1, 3), step_row(unpadded, 1, 1)));
}

// Without return_sequences, Bidirectional on a padded sequence equals it on the unpadded one.
TEST(LayersMasking, BidirectionalLastOutputIgnoresPadding) {
  Sequential model({.seed = 15});
  model.add(Embedding(10, 2, {.mask_zero = true}));
  model.add(Bidirectional(LSTM(2)));
  EXPECT_TRUE(all_close(model(kPadded), model(kUnpadded), 1e-6));
}

// ---------------------------------------------------------------------------------------------------------
// Initializers (Keras defaults: kernel glorot_uniform, recurrent orthogonal, bias zeros, LSTM
// unit_forget_bias, Embedding uniform(-0.05, 0.05)).

TEST(LayersInit, OrthogonalRecurrentKernelHasOrthonormalRows) {
  for (std::uint64_t seed : {1u, 2u, 3u}) {
    LSTM layer(8);
    build(layer, {kNone, 5, 5}, seed);
    const Tensor r = layer.get_weights()[1];  // (U, 4U) = (8, 32)
    ASSERT_EQ(r.shape(), (Shape{8, 32}));
    for (std::int64_t i = 0; i < 8; ++i)
      for (std::int64_t j = 0; j < 8; ++j) {
        double dot = 0.0;
        for (std::int64_t k = 0; k < 32; ++k) dot += double(r.at({i, k})) * double(r.at({j, k}));
        EXPECT_NEAR(dot, i == j ? 1.0 : 0.0, 1e-5) << "R·Rᵀ at (" << i << ", " << j << ")";
      }
  }
}

// A square recurrent kernel (SimpleRNN: (U,U)) is an orthogonal matrix: columns orthonormal too.
TEST(LayersInit, OrthogonalSquareKernelHasOrthonormalColumns) {
  SimpleRNN layer(6);
  build(layer, {kNone, 2, 3}, 4);
  const Tensor r = layer.get_weights()[1];
  for (std::int64_t i = 0; i < 6; ++i)
    for (std::int64_t j = 0; j < 6; ++j) {
      double dot = 0.0;
      for (std::int64_t k = 0; k < 6; ++k) dot += double(r.at({k, i})) * double(r.at({k, j}));
      EXPECT_NEAR(dot, i == j ? 1.0 : 0.0, 1e-5);
    }
}

void expect_uniform_within(const Tensor& weight, double limit, const std::string& what) {
  float largest = 0.0f;
  for (float v : weight.values()) {
    EXPECT_LE(std::abs(v), limit) << what;
    largest = std::max(largest, std::abs(v));
  }
  // Many draws from U(-limit, limit): some land in the outer fifth (a zero or tiny fill would not).
  EXPECT_GT(largest, 0.8 * limit) << what << " looks too narrow";
}

TEST(LayersInit, GlorotUniformWithinItsLimit) {
  LSTM lstm(8);
  build(lstm, {kNone, 5, 5});
  expect_uniform_within(lstm.get_weights()[0], std::sqrt(6.0 / (5 + 32)), "LSTM kernel (5, 32)");
  Dense dense(7);
  build(dense, {kNone, 20});
  expect_uniform_within(dense.get_weights()[0], std::sqrt(6.0 / (20 + 7)), "Dense kernel (20, 7)");
  EXPECT_TRUE(all_close(dense.get_weights()[1], Tensor({7}), 0, 0)) << "bias zeros";
}

TEST(LayersInit, LstmUnitForgetBias) {
  LSTM layer(4);
  build(layer, {kNone, 3, 2});
  EXPECT_TRUE(all_close(layer.get_weights()[2],
                        Tensor({16}, {0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0}), 0, 0));
  LSTM without(4, {.unit_forget_bias = false});
  build(without, {kNone, 3, 2});
  EXPECT_TRUE(all_close(without.get_weights()[2], Tensor({16}), 0, 0));
}

TEST(LayersInit, EmbeddingUniformWithinFiveHundredths) {
  Embedding layer(50, 4);
  build(layer, {kNone, kNone});
  expect_uniform_within(layer.get_weights()[0], 0.05, "embeddings (50, 4)");
}

std::vector<Tensor> seeded_weights(std::uint64_t seed) {
  Sequential model({.seed = seed});
  model.add(Embedding(20, 3));
  model.add(LSTM(4));
  model.add(Dense(2));
  return model.get_weights();
}

TEST(LayersInit, SameSeedSameWeightsOtherSeedOtherWeights) {
  const std::vector<Tensor> a = seeded_weights(7), b = seeded_weights(7), c = seeded_weights(8);
  ASSERT_EQ(a.size(), 6u);
  for (std::size_t i = 0; i < a.size(); ++i) EXPECT_TRUE(bit_identical(a[i], b[i])) << "weight " << i;
  // The random ones: embeddings, LSTM kernel and recurrent kernel, Dense kernel.
  for (std::size_t i : {0u, 1u, 2u, 4u}) EXPECT_FALSE(all_close(a[i], c[i], 1e-6, 0)) << "weight " << i;
}

// ---------------------------------------------------------------------------------------------------------
// Names: snake_case of the class plus a per-process counter; clear_session() restarts the counters.

TEST(LayersNames, CountersAsKeras) {
  clear_session();
  EXPECT_EQ(LSTM(2).name(), "lstm");
  EXPECT_EQ(LSTM(2).name(), "lstm_1");
  EXPECT_EQ(LSTM(2).name(), "lstm_2");
  EXPECT_EQ(Sequential().name(), "sequential");
  EXPECT_EQ(Sequential().name(), "sequential_1");
  EXPECT_EQ(Input(Shape{3, 1}).layer().name(), "input_1");
  EXPECT_EQ(Input(Shape{3, 1}).layer().name(), "input_2");
  EXPECT_EQ(SimpleRNN(1).name(), "simple_rnn");
  EXPECT_EQ(GRU(1).name(), "gru");
  EXPECT_EQ(Embedding(3, 1).name(), "embedding");
  EXPECT_EQ(Dense(1).name(), "dense");
  EXPECT_EQ(Dropout(0.5f).name(), "dropout");
  EXPECT_EQ(TimeDistributed(Dense(1)).name(), "time_distributed");  // the Dense inside is dense_1
  EXPECT_EQ(Dense(1).name(), "dense_2");
  EXPECT_EQ(LSTM(2, {.name = "mine"}).name(), "mine");
  EXPECT_EQ(LSTM(2).name(), "lstm_3") << "a given name takes no number";
  clear_session();
  EXPECT_EQ(LSTM(2).name(), "lstm");
  EXPECT_EQ(Sequential().name(), "sequential");
  EXPECT_EQ(Input(Shape{3, 1}).layer().name(), "input_1");
}

TEST(LayersNames, BidirectionalCopiesAreForwardAndBackward) {
  clear_session();
  Bidirectional bi(LSTM(2));
  EXPECT_EQ(bi.name(), "bidirectional");
  EXPECT_EQ(bi.forward_layer().name(), "forward_lstm");
  EXPECT_EQ(bi.backward_layer().name(), "backward_lstm");
  EXPECT_FALSE(bi.forward_layer().options().go_backwards);
  EXPECT_TRUE(bi.backward_layer().options().go_backwards);
}

// ---------------------------------------------------------------------------------------------------------
// NaN in a float input is not an error: it propagates as in Keras, and only within its batch row.
TEST(LayersNaN, PropagatesThroughAnRnnWithinItsRow) {
  SimpleRNN layer(2, {.return_sequences = true});
  build(layer, {kNone, 3, 1});
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const Tensor y = layer(Tensor({2, 3, 1}, {1, nan, 2, 1, 1, 2})).output;
  EXPECT_FALSE(std::isnan(y.at({0, 0, 0})));
  EXPECT_TRUE(std::isnan(y.at({0, 1, 0})));
  EXPECT_TRUE(std::isnan(y.at({0, 2, 1}))) << "later steps see the NaN through the state";
  for (std::int64_t t = 0; t < 3; ++t) EXPECT_FALSE(std::isnan(y.at({1, t, 0}))) << "row 1, step " << t;
  auto [out, h, c] = LSTM(2, {.return_state = true})(Tensor({1, 2, 1}, {nan, 0}));
  EXPECT_TRUE(std::isnan(out[0]));
  EXPECT_TRUE(std::isnan(c[0]));
}

}  // namespace
}  // namespace rnnkit
