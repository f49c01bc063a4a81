// The Functional core (Model as a graph of layer calls): gradients against central finite differences of the
// model's loss, the two training paths (model.backward of a loss computed outside, and train_on_batch with
// the Embedding-table and logits-head fusions) against each other, the graph's structure as tf.keras builds
// it, its errors, inference models sharing trained layers, and keras.io's lstm_seq2seq end to end.
//
// Finite differences as in gradcheck_test.cpp: the layers compute in float32, so each weight is moved by
// h = 1e-2 in float32 and the loss summed in double; truncation O(h²) ≈ 1e-4 and rounding about
// ε·|L|/h ≈ 1e-5 stay well inside 2e-3 + 1e-2·|g|, far below the O(|g|) of a dropped or misrouted term.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <iostream>
#include <map>
#include <numeric>
#include <source_location>
#include <sstream>

#include "rnnkit/rnnkit.h"
#include "test_support.h"

namespace rnnkit {
namespace {

using testing::expect_error;

using testing::all_close;
using testing::random_tensor;

constexpr float kStep = 1e-2f;
constexpr double kFdAbsolute = 2e-3, kFdRelative = 1e-2;
constexpr std::uint64_t kDropoutSeed = 1234;

// A Model whose dropout generator can be put back to a fixed state, so that every evaluation of the loss
// draws the same masks.
class TestModel : public Model {
 public:
  using Model::Model;
  void reseed() { rng() = Rng(kDropoutSeed); }
};

// L = Σ_k weight_k · loss_k(output_k, y_k) over a training call.
struct Objective {
  std::vector<Tensor> x, y;
  std::vector<std::string> losses;
  std::vector<double> weights;
};

struct Gradients {
  double loss = 0.0;
  std::map<std::string, std::vector<Tensor>> weights;  // layer name -> dL/d(each weight)
  std::vector<Tensor> inputs;                          // dL/d(each input); empty for token ids
};

double loss_value(TestModel& model, const Objective& objective) {
  model.reseed();
  const std::vector<Tensor> outputs = model(objective.x, true);
  double total = 0.0;
  for (std::size_t k = 0; k < outputs.size(); ++k)
    total += objective.weights[k] * Loss(objective.losses[k]).compute(outputs[k], objective.y[k]).value;
  return total;
}

std::map<std::string, std::vector<Tensor>> weight_grads(Model& model) {
  std::map<std::string, std::vector<Tensor>> grads;
  for (const auto& layer : model.layers())
    for (const Param* param : layer->params()) grads[layer->name()].push_back(param->grad);
  return grads;
}

// The loss from the probabilities, outside the model, and its gradient through model.backward.
Gradients backward_gradients(TestModel& model, const Objective& objective) {
  model.reseed();
  const std::vector<Tensor> outputs = model(objective.x, true);
  Gradients result;
  std::vector<Tensor> output_grads;
  for (std::size_t k = 0; k < outputs.size(); ++k) {
    LossResult term = Loss(objective.losses[k]).compute(outputs[k], objective.y[k]);
    result.loss += objective.weights[k] * term.value;
    for (float& g : term.gradient.values()) g = static_cast<float>(g * objective.weights[k]);
    output_grads.push_back(std::move(term.gradient));
  }
  model.zero_grads();
  result.inputs = model.backward(output_grads);
  result.weights = weight_grads(model);
  return result;
}

// train_on_batch with a zero learning rate: the compiled loss, the fusions, and the weights kept.
Gradients fused_gradients(TestModel& model, const Objective& objective) {
  model.compile({.optimizer = SGD({.learning_rate = 0.0}),
                 .losses = objective.losses,
                 .loss_weights = objective.weights});
  model.reseed();
  const Logs logs = model.train_on_batch(objective.x, objective.y);
  return {logs.at("loss"), weight_grads(model), {}};
}

// The largest |analytic - numeric| / max(|numeric|, |analytic|, 1e-2) per test, printed at its end.
double worst_relative_error = 0.0;

void check_position(const std::string& what, float analytic, double numeric) {
  EXPECT_NEAR(analytic, numeric, kFdAbsolute + kFdRelative * std::abs(numeric)) << what;
  const double scale = std::max({std::abs(numeric), double(std::abs(analytic)), 1e-2});
  worst_relative_error = std::max(worst_relative_error, std::abs(analytic - numeric) / scale);
}

// Every weight of every layer and every float input, at up to 24 positions each, against central differences
// of the loss.
void expect_matches_differences(TestModel& model, Objective objective, const Gradients& gradients) {
  const auto evaluate = [&] { return loss_value(model, objective); };
  const auto check_tensor = [&](const std::string& what, Tensor& value, const Tensor& analytic) {
    ASSERT_EQ(value.shape(), analytic.shape()) << what;
    const std::int64_t stride = std::max<std::int64_t>(1, value.size() / 24);
    for (std::int64_t i = 0; i < value.size(); i += stride)
      check_position(what + " element " + std::to_string(i), analytic[i],
                     testing::central_difference(value[i], kStep, evaluate));
  };
  for (const auto& layer : model.layers()) {
    const std::vector<Param*> params = layer->params();
    for (std::size_t w = 0; w < params.size(); ++w)
      check_tensor(layer->name() + "/" + params[w]->name, params[w]->value,
                   gradients.weights.at(layer->name())[w]);
  }
  for (std::size_t i = 0; i < objective.x.size(); ++i)
    if (!gradients.inputs[i].empty())
      check_tensor("input " + std::to_string(i), objective.x[i], gradients.inputs[i]);
}

// The fused path gives the same loss and weight gradients as the unfused one (float32 rounding apart).
void expect_same_gradients(const Gradients& actual, const Gradients& expected, const std::string& what,
                           double tolerance = 1e-5) {
  EXPECT_NEAR(actual.loss, expected.loss, tolerance * (1 + std::abs(expected.loss))) << what << " loss";
  ASSERT_EQ(actual.weights.size(), expected.weights.size()) << what;
  for (const auto& [layer, grads] : expected.weights)
    for (std::size_t w = 0; w < grads.size(); ++w)
      EXPECT_TRUE(all_close(actual.weights.at(layer)[w], grads[w], tolerance, 1e-4))
          << what << ": " << layer << " weight " << w;
}

// Order-one weights, so that every term of every gradient matters.
void randomize_weights(Model& model, std::uint64_t seed, double scale = 0.6) {
  Rng rng(seed);
  for (const auto& layer : model.layers())
    for (Param* param : layer->params()) param->value = random_tensor(param->value.shape(), rng, scale);
}

Tensor one_hot_targets(const Shape& shape, Rng& rng) {
  Tensor y(shape);
  const std::int64_t classes = shape.back();
  for (std::int64_t row = 0; row < y.size() / classes; ++row)
    y[row * classes + std::int64_t(rng.next() % classes)] = 1.0f;
  return y;
}

class FunctionalGradients : public ::testing::Test {
 protected:
  void SetUp() override {
    clear_session();
    worst_relative_error = 0.0;
  }
  void TearDown() override {
    std::cout << "functional gradcheck " << ::testing::UnitTest::GetInstance()->current_test_info()->name()
              << ": max relative error " << worst_relative_error << "\n";
  }
};

// keras.io's seq2seq: the decoder starts from the encoder's states; the gradient reaches the encoder only
// through initial_state.
void check_seq2seq(const std::string& cell) {
  const SymbolicTensor encoder_inputs = Input({kNone, 3}), decoder_inputs = Input({kNone, 4});
  const auto recurrent = [&](RecurrentOptions options) -> std::shared_ptr<Layer> {
    if (cell == "gru") return std::make_shared<GRU>(5, options);
    if (cell == "simple_rnn") return std::make_shared<SimpleRNN>(5, options);
    return std::make_shared<LSTM>(5, options);
  };
  const LayerOutputs encoder = (*recurrent({.return_state = true}))(encoder_inputs);
  const LayerOutputs decoder = (*recurrent({.return_sequences = true, .return_state = true}))(
      decoder_inputs, {.initial_state = encoder.states()});
  const SymbolicTensor output = Dense(4, {.activation = "softmax"})(decoder[0]);
  TestModel model({encoder_inputs, decoder_inputs}, {output});
  randomize_weights(model, 11);
  Rng rng(12);
  const Objective objective{{random_tensor({3, 5, 3}, rng, 1.0), random_tensor({3, 4, 4}, rng, 1.0)},
                            {one_hot_targets({3, 4, 4}, rng)},
                            {"categorical_crossentropy"},
                            {1.0}};
  const Gradients gradients = backward_gradients(model, objective);
  // The encoder is reached only through the decoder's initial state: its gradient is not zero.
  double encoder_norm = 0.0;
  for (const Tensor& grad : gradients.weights.at(model.layer(2).name()))
    for (float g : grad.values()) encoder_norm += std::abs(g);
  EXPECT_EQ(model.layer(2).class_name(), model.layer(3).class_name());
  EXPECT_GT(encoder_norm, 1e-3);
  expect_matches_differences(model, objective, gradients);
  expect_same_gradients(fused_gradients(model, objective), gradients, "train_on_batch");
}

TEST_F(FunctionalGradients, Seq2seqLstmWithInitialState) {
  check_seq2seq("lstm");
}
TEST_F(FunctionalGradients, Seq2seqGruWithInitialState) {
  check_seq2seq("gru");
}
TEST_F(FunctionalGradients, Seq2seqSimpleRnnWithInitialState) {
  check_seq2seq("simple_rnn");
}

// One LSTM (and, with dropout, one Dropout) called on two inputs: one set of weights, whose gradient sums
// both calls. The first call is recomputed before its backward (the layer's cache holds the second), and
// must draw the same dropout masks as in the forward pass.
void check_shared(bool dropout) {
  const SymbolicTensor a = Input({5, 3}), b = Input({5, 3});
  const auto lstm = std::make_shared<LSTM>(
      4, RecurrentOptions{.dropout = dropout ? 0.25f : 0.0f, .recurrent_dropout = dropout ? 0.2f : 0.0f});
  const auto drop = std::make_shared<Dropout>(0.3f);
  const auto path = [&](const SymbolicTensor& x) {
    return (*lstm)(dropout ? SymbolicTensor((*drop)(x)) : x);
  };
  const SymbolicTensor out_a = Dense(2)(path(a)[0]);
  const SymbolicTensor out_b = Dense(3, {.activation = "softmax"})(path(b)[0]);
  TestModel model({a, b}, {out_a, out_b});
  randomize_weights(model, 21);
  Rng rng(22);
  const Objective objective{{random_tensor({4, 5, 3}, rng, 1.0), random_tensor({4, 5, 3}, rng, 1.0)},
                            {random_tensor({4, 2}, rng, 1.0), one_hot_targets({4, 3}, rng)},
                            {"mse", "categorical_crossentropy"},
                            {0.3, 1.7}};
  const Gradients gradients = backward_gradients(model, objective);
  // The loss of the pass that gave the gradients is the loss the differences see.
  EXPECT_DOUBLE_EQ(gradients.loss, loss_value(model, objective));
  if (dropout) {
    const std::vector<Tensor> inference = model(objective.x, false);
    model.reseed();
    const std::vector<Tensor> training = model(objective.x, true);
    EXPECT_FALSE(all_close(training[0], inference[0], 1e-4, 0)) << "dropout is active while training";
  }
  expect_matches_differences(model, objective, gradients);
  expect_same_gradients(fused_gradients(model, objective), gradients, "train_on_batch");
}

TEST_F(FunctionalGradients, SharedLstmCalledTwice) {
  check_shared(false);
}
TEST_F(FunctionalGradients, SharedDropoutAndLstmReplayTheirMasks) {
  check_shared(true);
}

// A shared layer whose two calls feed each other (the second reads the first's output): its recompute must
// not disturb the value the second call read.
TEST_F(FunctionalGradients, SharedDenseAppliedTwiceInARow) {
  const SymbolicTensor x = Input({4, 3});
  const auto dense = std::make_shared<Dense>(3, DenseOptions{.activation = "tanh"});
  const SymbolicTensor twice = (*dense)((*dense)(x));
  const SymbolicTensor output = Dense(2, {.activation = "softmax"})(LSTM(4)(twice));
  TestModel model(x, output);
  randomize_weights(model, 31);
  Rng rng(32);
  const Objective objective{{random_tensor({3, 4, 3}, rng, 1.0)},
                            {one_hot_targets({3, 2}, rng)},
                            {"categorical_crossentropy"},
                            {1.0}};
  const Gradients gradients = backward_gradients(model, objective);
  expect_matches_differences(model, objective, gradients);
  expect_same_gradients(fused_gradients(model, objective), gradients, "train_on_batch");
}

// Embedding -> LSTM -> Dense(softmax). Read only by the LSTM, the Embedding's table is read by the LSTM
// directly while training (the lookup scan); also read by another layer, the Embedding runs as a layer. Both
// give the same gradients (the second reader's loss weighs 0), and the finite differences.
TEST_F(FunctionalGradients, EmbeddingTableFusionOnAndOffAgree) {
  const SymbolicTensor ids = Input({5});
  const auto embedding = std::make_shared<Embedding>(6, 3);
  const auto lstm = std::make_shared<LSTM>(4);
  const auto head = std::make_shared<Dense>(3, DenseOptions{.activation = "softmax"});
  const SymbolicTensor embedded = (*embedding)(ids);
  const SymbolicTensor output = (*head)((*lstm)(embedded));
  const SymbolicTensor side = Dense(2, {.name = "side"})(embedded);  // a second reader of the Embedding
  TestModel alone(ids, output, {.name = "alone"});
  TestModel read_twice({ids}, {output, side}, {.name = "read_twice"});
  randomize_weights(read_twice, 41);

  Rng rng(42);
  Tensor tokens({3, 5});  // 6 rows for 15 steps: the lookup scan applies
  for (float& id : tokens.values()) id = static_cast<float>(rng.next() % 6);
  const Tensor y = one_hot_targets({3, 3}, rng), y_side = random_tensor({3, 5, 2}, rng, 1.0);
  const Objective one{{tokens}, {y}, {"categorical_crossentropy"}, {1.0}};
  const Objective two{{tokens}, {y, y_side}, {"categorical_crossentropy", "mse"}, {1.0, 0.0}};

  const Gradients fused = fused_gradients(alone, one);
  EXPECT_EQ(lstm->trained_scan(), TrainingScan::lookup) << "the table fusion is on";
  Gradients unfused = fused_gradients(read_twice, two);
  EXPECT_NE(lstm->trained_scan(), TrainingScan::lookup) << "the table fusion is off";
  unfused.weights.erase("side");
  expect_same_gradients(fused, unfused, "table fusion on vs off");
  expect_same_gradients(fused, backward_gradients(alone, one), "train_on_batch vs backward");
  expect_matches_differences(alone, one, backward_gradients(alone, one));
  // With the second reader in the loss, its gradient reaches the table too.
  const Objective both{{tokens}, {y, y_side}, {"categorical_crossentropy", "mse"}, {1.0, 0.5}};
  const Gradients gradients = backward_gradients(read_twice, both);
  expect_matches_differences(read_twice, both, gradients);
  expect_same_gradients(fused_gradients(read_twice, both), gradients, "train_on_batch, two readers");
}

// LSTM -> Dense(softmax) as an output with categorical cross-entropy: train_on_batch reads the logits (as
// tf.keras's _keras_logits); the same loss from the probabilities, outside the model, agrees.
TEST_F(FunctionalGradients, SoftmaxHeadLogitsFusionMatchesTheUnfusedLoss) {
  const SymbolicTensor x = Input({4, 3});
  const auto head = std::make_shared<Dense>(5, DenseOptions{.activation = "softmax"});
  const SymbolicTensor hidden = LSTM(6)(x);
  TestModel model(x, (*head)(hidden));
  randomize_weights(model, 51);
  Rng rng(52);
  const Objective objective{{random_tensor({3, 4, 3}, rng, 1.0)},
                            {one_hot_targets({3, 5}, rng)},
                            {"categorical_crossentropy"},
                            {1.0}};
  const Gradients gradients = backward_gradients(model, objective);
  expect_matches_differences(model, objective, gradients);
  expect_same_gradients(fused_gradients(model, objective), gradients, "logits fusion");

  // Where a probability falls below 1e-7 the probabilities' loss is clipped and the logits' is not: the fused
  // loss is -log_softmax of the logits, computed here in double from the LSTM's output.
  std::vector<Tensor> head_weights = head->get_weights();
  for (std::int64_t u = 0; u < 5; ++u)
    if (objective.y[0].at({0, u}) == 1.0f) head_weights[1][u] = -40.0f;  // row 0's target: p ~ 1e-17
  head->set_weights(head_weights);
  Model hidden_model(x, hidden);
  const Tensor h = hidden_model.predict(objective.x[0]);
  double expected = 0.0;
  for (std::int64_t b = 0; b < 3; ++b) {
    std::vector<double> logits(5);
    for (std::int64_t u = 0; u < 5; ++u) {
      logits[u] = head_weights[1][u];
      for (std::int64_t f = 0; f < 6; ++f) logits[u] += double(h.at({b, f})) * head_weights[0].at({f, u});
    }
    const double top = *std::max_element(logits.begin(), logits.end());
    double sum = 0.0;
    for (double z : logits) sum += std::exp(z - top);
    for (std::int64_t u = 0; u < 5; ++u)
      if (objective.y[0].at({b, u}) == 1.0f) expected += -(logits[u] - top - std::log(sum)) / 3.0;
  }
  const Gradients saturated = fused_gradients(model, objective);
  EXPECT_NEAR(saturated.loss, expected, 1e-5 * expected);
  // From the probabilities, row 0 is clipped at -log(1e-7) = 16.1 instead of about 40.
  EXPECT_LT(backward_gradients(model, objective).loss, expected - 5.0)
      << "the probabilities' loss is clipped";
}

// Embedding(mask_zero) -> LSTM(return_sequences) -> LSTM -> Dense(sigmoid): the mask flows along the graph;
// padded steps touch nothing (the id 0 row gets no gradient).
TEST_F(FunctionalGradients, MaskThroughTheGraph) {
  const SymbolicTensor ids = Input({6});
  const SymbolicTensor embedded = Embedding(5, 3, {.mask_zero = true})(ids);
  const SymbolicTensor sequence = LSTM(4, {.return_sequences = true})(embedded);
  const SymbolicTensor output = Dense(1, {.activation = "sigmoid"})(LSTM(3)(sequence));
  TestModel model(ids, output);
  randomize_weights(model, 61);
  const Tensor tokens({3, 6}, {1, 2, 3, 4, 0, 0,    // post-padded
                               0, 0, 4, 1, 3, 2,    // pre-padded
                               2, 0, 3, 0, 1, 4});  // gaps
  const Objective objective{{tokens}, {Tensor({3, 1}, {1, 0, 1})}, {"binary_crossentropy"}, {1.0}};
  const Gradients gradients = backward_gradients(model, objective);
  const Tensor& table_grad = gradients.weights.at(model.layer(1).name())[0];
  for (std::int64_t e = 0; e < 3; ++e)
    EXPECT_EQ(table_grad.at({0, e}), 0.0f) << "row 0 is only read at masked steps";
  // The mask changes the output: without it the padded steps would be read.
  const Tensor unmasked = Tensor({3, 6}, {1, 2, 3, 4, 0, 0, 0, 0, 4, 1, 3, 2, 2, 0, 3, 0, 1, 4});
  EXPECT_TRUE(all_close(model.predict(unmasked), model.predict(tokens)));
  expect_matches_differences(model, objective, gradients);
  expect_same_gradients(fused_gradients(model, objective), gradients, "train_on_batch");
}

// Every merge layer, Subtract and Concatenate on the time axis included, with masks flowing through Add and
// both Concatenates; Dot in 3D (plain and normalized) and 2D. Shared inputs are read by several merges, so
// their gradients sum over the readers.
TEST_F(FunctionalGradients, MergeLayers) {
  const SymbolicTensor ids_a = Input({5}), ids_b = Input({5}), x = Input({5, 3});
  const SymbolicTensor a = Embedding(6, 3, {.mask_zero = true})(ids_a);
  const SymbolicTensor b = Embedding(6, 3, {.mask_zero = true})(ids_b);
  const SymbolicTensor difference = Subtract()({a, x});
  const SymbolicTensor sum = Add()({a, b, difference});
  const SymbolicTensor product = Multiply()({sum, x, b});
  const SymbolicTensor mean = Average()({Maximum()({product, a}), Minimum()({x, sum, b})});
  const SymbolicTensor features = Concatenate()({mean, x});
  const SymbolicTensor steps = Concatenate({.axis = 1})({features, Concatenate()({a, b})});
  const SymbolicTensor h = LSTM(3)(steps);
  const SymbolicTensor h_sum = GRU(2)(sum);
  const SymbolicTensor cosine = Dot({.axes = std::array{1, 1}, .normalize = true})({x, difference});
  const SymbolicTensor scores = Dot({.axes = 2})({x, a});
  const SymbolicTensor rows = Dot({.axes = 1})({SimpleRNN(2)(cosine), SimpleRNN(2)(scores)});
  TestModel model({ids_a, ids_b, x}, {Dense(2, {.activation = "softmax"})(h), h_sum, rows});
  randomize_weights(model, 71);
  Rng rng(72);
  const Tensor ids_1({3, 5}, {1, 2, 3, 0, 0, 4, 5, 1, 2, 3, 2, 0, 0, 0, 0});
  const Tensor ids_2({3, 5}, {3, 1, 0, 0, 0, 5, 5, 5, 5, 0, 1, 2, 3, 4, 5});
  const Objective objective{{ids_1, ids_2, random_tensor({3, 5, 3}, rng, 1.0)},
                            {one_hot_targets({3, 2}, rng), random_tensor({3, 2}, rng, 0.5),
                             random_tensor({3, 1}, rng, 0.5)},
                            {"categorical_crossentropy", "mean_squared_error", "mean_squared_error"},
                            {1.0, 0.7, 1.3}};
  const Gradients gradients = backward_gradients(model, objective);
  expect_matches_differences(model, objective, gradients);
  expect_same_gradients(fused_gradients(model, objective), gradients, "train_on_batch");
  // Keras's masks: Add keeps a step every masked input keeps (ids_1 and ids_2 both non-zero); the GRU over
  // it must equal the GRU run on the sum with that mask by hand.
  const std::vector<Tensor> outputs = model.predict(objective.x);
  Model sum_model({ids_a, ids_b, x}, {sum});
  const Tensor sum_values = sum_model.predict(objective.x)[0];
  Tensor both({3, 5});
  for (std::int64_t i = 0; i < both.size(); ++i) both[i] = ids_1[i] != 0 && ids_2[i] != 0;
  Layer& gru = *model.nodes()[std::distance(
      model.nodes().begin(), std::ranges::find_if(model.nodes(), [](const auto& node) {
        return node->layer->class_name() == "GRU";
      }))]->layer;
  EXPECT_TRUE(all_close(gru.call(sum_values, {.mask = &both})[0], outputs[1], 1e-6));
  EXPECT_FALSE(all_close(gru.call(sum_values)[0], outputs[1], 1e-3)) << "the mask changes the answer";
}

// Attention and AdditiveAttention in a graph: the value's mask (an Embedding's) removes keys, the query's
// zeroes and masks the output, key and value both get gradients, and an LSTM's sequence attends to itself.
TEST_F(FunctionalGradients, AttentionLayers) {
  const SymbolicTensor ids = Input({5}), x = Input({4, 3});
  const SymbolicTensor embedded = Embedding(6, 3, {.mask_zero = true})(ids);
  const SymbolicTensor h = LSTM(3, {.return_sequences = true})(x);
  const SymbolicTensor self = Attention({.use_scale = true, .use_causal_mask = true})({h, h});
  const LayerOutputs keyed =
      Attention({.score_mode = "concat", .return_attention_scores = true})({embedded, h, self});
  const SymbolicTensor over_tokens = AdditiveAttention()({self, embedded});
  const SymbolicTensor masked = GRU(2)(keyed[0]);  // the query's mask (ids) reaches the GRU
  TestModel model({ids, x}, {Dense(2, {.activation = "softmax"})(LSTM(2)(over_tokens)), masked, keyed[1]});
  randomize_weights(model, 81);
  Rng rng(82);
  const Objective objective{{Tensor({3, 5}, {1, 2, 3, 0, 0, 4, 5, 1, 2, 3, 2, 0, 0, 0, 0}),
                             random_tensor({3, 4, 3}, rng, 1.0)},
                            {one_hot_targets({3, 2}, rng), random_tensor({3, 2}, rng, 0.5),
                             random_tensor({3, 5, 4}, rng, 0.5)},
                            {"categorical_crossentropy", "mean_squared_error", "mean_squared_error"},
                            {1.0, 0.7, 1.3}};
  const Gradients gradients = backward_gradients(model, objective);
  expect_matches_differences(model, objective, gradients);
  expect_same_gradients(fused_gradients(model, objective), gradients, "train_on_batch");
}

// --- Structure ---

// Keras's model.layers order, by hand from tf.keras 2.11 functional._map_graph_network for this graph
// (inputs [a, b], outputs [head2, head1]):
//   a = Input((5,3)); b = Input((5,3)); proj = Dense(4) called on a (node 0) and on b (node 1)
//   s1 = l1(proj(a)) (return_sequences); y1 = l2(s1); y2 = l3(proj(b), initial_state=[y1, y1])
//   head2(y2), head1(y1)
// _build_map walks depth first from each output, numbering layers when first met (layer_indices):
//   head2 0, l3 1, proj 2 (via b's call), b 3, l2 4, l1 5, a 6, head1 7; nodes in decreasing depth:
//   [b, proj#1, a, proj#0, l1, l2, l3, head2, head1].
// Depths, over those nodes reversed (a node's depth is at least its layer's depth so far; each parent gets
// depth + 1 at least): head1 0 -> l2 1; head2 0 -> l3 1; l3 1 -> proj#1 2, l2 2; l2 2 -> l1 3; l1 3 -> proj#0
// 4; proj#0 4 (proj's depth 4) -> a 5; proj#1: max(2, proj's 4) = 4 -> b 5. Layers by depth, deepest first,
// ties by layer index: 5: b (3), a (6); 4: proj; 3: l1; 2: l2; 1: l3; 0: head2 (0), head1 (7).
TEST(FunctionalStructure, LayersInKerasGraphOrder) {
  clear_session();
  const SymbolicTensor a = Input({5, 3}, {.name = "a"}), b = Input({5, 3}, {.name = "b"});
  const auto proj = std::make_shared<Dense>(4, DenseOptions{.name = "proj"});
  const SymbolicTensor s1 = LSTM(4, {.return_sequences = true, .name = "l1"})((*proj)(a));
  const SymbolicTensor y1 = LSTM(4, {.name = "l2"})(s1);
  const SymbolicTensor y2 = LSTM(4, {.name = "l3"})((*proj)(b), {.initial_state = {y1, y1}});
  const SymbolicTensor head2 = Dense(2, {.name = "head2"})(y2);
  const SymbolicTensor head1 = Dense(3, {.name = "head1"})(y1);
  Model model({a, b}, {head2, head1});
  std::vector<std::string> names;
  for (const auto& layer : model.layers()) names.push_back(layer->name());
  EXPECT_EQ(names, (std::vector<std::string>{"b", "a", "proj", "l1", "l2", "l3", "head2", "head1"}));
  EXPECT_EQ(model.input_names(), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(model.output_names(), (std::vector<std::string>{"head2", "head1"}));
  ASSERT_EQ(model.inputs().size(), 2u);
  EXPECT_TRUE(model.inputs()[0] == a && model.inputs()[1] == b);
  ASSERT_EQ(model.outputs().size(), 2u);
  EXPECT_TRUE(model.outputs()[0] == head2 && model.outputs()[1] == head1);
  EXPECT_EQ(model.outputs()[1].shape(), (Shape{kNone, 3}));
  // get_layer: the very objects of the graph.
  EXPECT_EQ(&model.get_layer("proj"), proj.get());
  EXPECT_EQ(model.shared_layer("proj"), proj);
  EXPECT_EQ(&model.layer(std::size_t{3}), &model.get_layer("l1"));
  try {
    model.get_layer("nope");
    ADD_FAILURE() << "get_layer of an unknown name did not throw";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("no layer named 'nope'"), std::string::npos) << error.what();
    EXPECT_NE(std::string(error.what()).find("head1"), std::string::npos) << error.what();
  }
  // proj is counted once; each call is a node.
  // proj 3·4 + 4, three LSTMs 4·16 + 4·16 + 16 on 4 features each, head2 4·2 + 2, head1 4·3 + 3.
  EXPECT_EQ(model.count_params(), 16 + 3 * 144 + 10 + 15);
  EXPECT_EQ(std::ranges::count_if(model.nodes(), [&](const auto& node) { return node->layer == proj; }), 2);

  // A branch that ends in the outputs only through one input is still ordered as Keras: outputs [head1]
  // need a alone.
  Model one(a, head1);
  names.clear();
  for (const auto& layer : one.layers()) names.push_back(layer->name());
  EXPECT_EQ(names, (std::vector<std::string>{"a", "proj", "l1", "l2", "head1"}));
}

// Two outputs of one layer (an LSTM's states): tf.keras names them "states", "states_1", and each gets its
// own loss and log.
TEST(FunctionalStructure, OutputsOfOneLayerHaveNamesOfTheirOwn) {
  clear_session();
  const SymbolicTensor x = Input({4, 3});
  const LayerOutputs lstm = LSTM(2, {.return_state = true, .name = "states"})(x);
  Model model(std::vector{x}, {lstm[1], lstm[2]});
  EXPECT_EQ(model.output_names(), (std::vector<std::string>{"states", "states_1"}));
  model.compile(
      {.optimizer = SGD({.learning_rate = 0.0}), .losses = {"mse", "mse"}, .loss_weights = {1.0, 3.0}});
  Rng rng(3);
  const Tensor input = random_tensor({5, 4, 3}, rng, 1.0), zeros({5, 2});
  const std::vector<Tensor> states = model.predict(std::vector{input});
  const auto mean_square = [](const Tensor& t) {
    double sum = 0.0;
    for (float v : t.values()) sum += double(v) * v;
    return sum / double(t.size());
  };
  const Logs logs = model.train_on_batch({input}, {zeros, zeros});
  EXPECT_NEAR(logs.at("states_loss"), mean_square(states[0]), 1e-6);
  EXPECT_NEAR(logs.at("states_1_loss"), mean_square(states[1]), 1e-6);
  EXPECT_NEAR(logs.at("loss"), mean_square(states[0]) + 3 * mean_square(states[1]), 1e-5);
}

TEST(FunctionalStructure, Errors) {
  clear_session();
  const SymbolicTensor a = Input({5, 3}, {.name = "input_a"}), b = Input({5, 2}, {.name = "input_b"});
  const auto encoder = std::make_shared<LSTM>(4, RecurrentOptions{.return_state = true, .name = "encoder"});
  const LayerOutputs states = (*encoder)(a);
  const SymbolicTensor decoded = LSTM(4, {.name = "decoder"})(b, {.initial_state = states.states()});
  // The outputs need input_b, which is not given.
  expect_error([&] { return Model(a, decoded); }, {"graph disconnected", "'input_b'"});
  // Two layers under one name.
  const SymbolicTensor d1 = Dense(2, {.name = "dup"})(decoded);
  const SymbolicTensor d2 = Dense(2, {.name = "dup"})(d1);
  expect_error([&] { return Model({a, b}, {d2}); }, {"\"dup\"", "unique"});
  // A layer that is not held by a shared_ptr cannot be called (a second call could not share its weights).
  Dense plain(3, {.name = "plain"});
  expect_error([&] { return plain(decoded); }, {"'plain'", "std::shared_ptr"});
  // initial_state: count and shape.
  expect_error([&] { return LSTM(4, {.name = "one_state"})(b, {.initial_state = {states[1]}}); },
               {"'one_state'", "2 initial state", "received 1"});
  const SymbolicTensor wide = Dense(5)(states[1]);
  expect_error(
      [&] {
        return LSTM(4, {.name = "wide_state"})(b, {.initial_state = {wide, states[2]}});
      },
      {"'wide_state'", "(batch, 4)", "(None, 5)"});
  expect_error([&] { return Dense(2, {.name = "no_state"})(b, {.initial_state = {states[1]}}); },
               {"'no_state'", "takes no initial_state"});
  // Arrays: one per input.
  Model model({a, b}, {decoded}, {.name = "two_inputs"});
  Rng rng(1);
  expect_error(
      [&] {
        return model(std::vector{random_tensor({2, 5, 3}, rng, 1.0)});
      },
      {"'two_inputs'", "2 inputs", "received 1"});
  expect_error(
      [&] {
        return model({random_tensor({2, 5, 3}, rng, 1.0), random_tensor({2, 5, 3}, rng, 1.0)});
      },
      {"'two_inputs'", "input_b"});
  expect_error([&] { return model.backward({Tensor(), Tensor()}); }, {"'two_inputs'"});
}

// --- Inference models sharing trained layers ---

struct Seq2seq {
  SymbolicTensor encoder_inputs, decoder_inputs;
  std::shared_ptr<LSTM> encoder, decoder;
  std::shared_ptr<Dense> dense;
  std::unique_ptr<Model> training;
  std::unique_ptr<Model> encoder_model, decoder_model;
};

// keras.io's lstm_seq2seq: the training model, then the inference encoder and decoder from its layers.
Seq2seq make_seq2seq(std::int64_t input_tokens, std::int64_t output_tokens, std::int64_t latent) {
  Seq2seq s{
      Input({kNone, input_tokens}, {.name = "encoder_inputs"}),
      Input({kNone, output_tokens}, {.name = "decoder_inputs"}),
      std::make_shared<LSTM>(latent, RecurrentOptions{.return_state = true, .name = "encoder"}),
      std::make_shared<LSTM>(
          latent, RecurrentOptions{.return_sequences = true, .return_state = true, .name = "decoder"}),
      std::make_shared<Dense>(output_tokens, DenseOptions{.activation = "softmax", .name = "decoder_dense"}),
      nullptr,
      nullptr,
      nullptr};
  const LayerOutputs encoded = (*s.encoder)(s.encoder_inputs);
  const LayerOutputs decoded = (*s.decoder)(s.decoder_inputs, {.initial_state = encoded.states()});
  s.training = std::make_unique<Model>(std::vector{s.encoder_inputs, s.decoder_inputs},
                                       std::vector<SymbolicTensor>{(*s.dense)(decoded[0])},
                                       ModelOptions{.name = "training"});
  s.encoder_model = std::make_unique<Model>(std::vector{s.encoder_inputs}, encoded.states(),
                                            ModelOptions{.name = "encoder_model"});
  const SymbolicTensor h = Input({latent}, {.name = "state_h"}), c = Input({latent}, {.name = "state_c"});
  const LayerOutputs step = (*s.decoder)(s.decoder_inputs, {.initial_state = {h, c}});
  s.decoder_model = std::make_unique<Model>(
      std::vector{s.decoder_inputs, h, c}, std::vector<SymbolicTensor>{(*s.dense)(step[0]), step[1], step[2]},
      ModelOptions{.name = "decoder_model"});
  return s;
}

// Step t of a (B,T,C) tensor as (B,1,C).
Tensor step_of(const Tensor& x, std::int64_t t) {
  Tensor step({x.dim(0), 1, x.dim(2)});
  for (std::int64_t b = 0; b < x.dim(0); ++b)
    for (std::int64_t c = 0; c < x.dim(2); ++c) step.at({b, 0, c}) = x.at({b, t, c});
  return step;
}

// The inference models fed the true previous token (teacher forcing) give the training model's outputs.
void expect_teacher_forcing_equivalence(Seq2seq& s, const Tensor& xe, const Tensor& xd) {
  const Tensor expected = s.training->predict({xe, xd})[0];  // (B,T,C)
  std::vector<Tensor> states = s.encoder_model->predict(std::vector{xe});
  ASSERT_EQ(states.size(), 2u);
  for (std::int64_t t = 0; t < xd.dim(1); ++t) {
    const std::vector<Tensor> out = s.decoder_model->predict({step_of(xd, t), states[0], states[1]});
    ASSERT_EQ(out[0].shape(), (Shape{xd.dim(0), 1, expected.dim(2)}));
    EXPECT_TRUE(all_close(out[0], step_of(expected, t), 1e-6, 1e-5)) << "step " << t;
    states = {out[1], out[2]};
  }
}

TEST(FunctionalInference, SharedLayersGiveTheTrainingModelsOutputsStepByStep) {
  clear_session();
  Seq2seq s = make_seq2seq(3, 5, 8);
  Rng rng(71);
  const Tensor xe = random_tensor({6, 4, 3}, rng, 1.0), xd = random_tensor({6, 5, 5}, rng, 1.0);
  s.training->compile({.loss = "categorical_crossentropy", .optimizer = Adam({.learning_rate = 0.05})});
  std::ostringstream silent;
  s.training->fit({xe, xd}, {one_hot_targets({6, 5, 5}, rng)},
                  {.epochs = 5, .batch_size = 3, .verbose = 0, .out = &silent});
  expect_teacher_forcing_equivalence(s, xe, xd);

  // The models hold the same layer objects: no weights were copied.
  EXPECT_EQ(&s.decoder_model->get_layer("decoder"), &s.training->get_layer("decoder"));
  EXPECT_EQ(&s.encoder_model->get_layer("encoder"), &s.training->get_layer("encoder"));
  std::vector<std::string> names;
  for (const auto& layer : s.encoder_model->layers()) names.push_back(layer->name());
  EXPECT_EQ(names, (std::vector<std::string>{"encoder_inputs", "encoder"}));
  EXPECT_EQ(s.decoder_model->input_names(),
            (std::vector<std::string>{"decoder_inputs", "state_h", "state_c"}));
  // tf.keras names a layer's second output "decoder_1" (_set_output_names).
  EXPECT_EQ(s.decoder_model->output_names(),
            (std::vector<std::string>{"decoder_dense", "decoder", "decoder_1"}));
  EXPECT_EQ(s.training->count_params(), s.encoder_model->count_params() + s.decoder_model->count_params());

  // A weight changed through one model shows in the others.
  const Tensor before = s.training->predict({xe, xd})[0];
  std::vector<Tensor> weights = s.decoder_model->layer("decoder_dense").get_weights();
  weights[1][2] += 1.5f;
  s.decoder_model->layer("decoder_dense").set_weights(weights);
  EXPECT_TRUE(
      std::ranges::equal(s.training->layer("decoder_dense").get_weights()[1].values(), weights[1].values()));
  std::vector<Tensor> encoder_weights = s.training->layer("encoder").get_weights();
  for (float& w : encoder_weights[1].values()) w *= 0.5f;
  s.training->layer("encoder").set_weights(encoder_weights);
  EXPECT_FALSE(all_close(s.training->predict({xe, xd})[0], before, 1e-3, 0));
  expect_teacher_forcing_equivalence(s, xe, xd);
}

// --- keras.io's lstm_seq2seq, end to end: learn to reverse strings ---

// Strings of 2 to 5 letters over "abcd" (1360 of them; 200 held out), reversed. Encoder tokens: ' ' (padding)
// and the letters; decoder tokens: '\t' (start), '\n' (end), ' ' (padding) and the letters, as in the
// keras.io example (one-hot, the target is the decoder input one step ahead).
TEST(FunctionalSeq2seqExample, LearnsToReverseStrings) {
  clear_session();
  const std::string letters = "abcd", input_tokens = " abcd", output_tokens = "\t\n abcd";
  std::vector<std::string> texts;
  for (int length = 2; length <= 5; ++length) {
    const int count = 1 << (2 * length);
    for (int n = 0; n < count; ++n) {
      std::string text;
      for (int i = 0, rest = n; i < length; ++i, rest /= 4) text += letters[rest % 4];
      texts.push_back(text);
    }
  }
  Rng rng(2024);
  for (std::size_t i = texts.size(); i > 1; --i) std::swap(texts[i - 1], texts[rng.next() % i]);
  const std::size_t held_out = 200;
  const std::vector<std::string> test(texts.begin(), texts.begin() + held_out),
      train(texts.begin() + held_out, texts.end());
  const std::int64_t encoder_steps = 5, decoder_steps = 7, in = 5, out = 7;
  const auto index_of = [](const std::string& tokens, char c) { return std::int64_t(tokens.find(c)); };
  const auto encode = [&](const std::vector<std::string>& batch) {
    Tensor x({std::int64_t(batch.size()), encoder_steps, in});
    for (std::size_t b = 0; b < batch.size(); ++b)
      for (std::int64_t t = 0; t < encoder_steps; ++t)
        x.at({std::int64_t(b), t,
              index_of(input_tokens, t < std::int64_t(batch[b].size()) ? batch[b][t] : ' ')}) = 1;
    return x;
  };
  const auto target_text = [](const std::string& text) {
    return "\t" + std::string(text.rbegin(), text.rend()) + "\n";
  };
  Tensor decoder_input({std::int64_t(train.size()), decoder_steps, out}), decoder_target = decoder_input;
  for (std::size_t b = 0; b < train.size(); ++b) {
    std::string target = target_text(train[b]);
    target.resize(decoder_steps + 1, ' ');
    for (std::int64_t t = 0; t < decoder_steps; ++t) {
      decoder_input.at({std::int64_t(b), t, index_of(output_tokens, target[t])}) = 1;
      decoder_target.at({std::int64_t(b), t, index_of(output_tokens, target[t + 1])}) = 1;
    }
  }

  Seq2seq s = make_seq2seq(in, out, 32);
  s.training->compile({.loss = "categorical_crossentropy",
                       .optimizer = Adam({.learning_rate = 0.01}),
                       .metrics = {"accuracy"}});
  std::ostringstream silent;
  const auto start = std::chrono::steady_clock::now();
  const History history = s.training->fit({encode(train), decoder_input}, {decoder_target},
                                          {.epochs = 30, .batch_size = 32, .verbose = 0, .out = &silent});
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  // Greedy decoding of the held-out strings, all at once, each row until it emits '\n'.
  std::vector<Tensor> states = s.encoder_model->predict(std::vector{encode(test)});
  Tensor token({std::int64_t(test.size()), 1, out});
  for (std::size_t b = 0; b < test.size(); ++b)
    token.at({std::int64_t(b), 0, index_of(output_tokens, '\t')}) = 1;
  std::vector<std::string> decoded(test.size());
  std::vector<bool> done(test.size(), false);
  for (std::int64_t t = 0; t < decoder_steps; ++t) {
    const std::vector<Tensor> step = s.decoder_model->predict({token, states[0], states[1]});
    token = Tensor(token.shape());
    for (std::size_t b = 0; b < test.size(); ++b) {
      const float* p = step[0].data() + std::int64_t(b) * out;
      const std::int64_t best = std::max_element(p, p + out) - p;
      token.at({std::int64_t(b), 0, best}) = 1;
      if (output_tokens[best] == '\n') done[b] = true;
      if (!done[b]) decoded[b] += output_tokens[best];
    }
    states = {step[1], step[2]};
  }
  std::size_t right = 0;
  for (std::size_t b = 0; b < test.size(); ++b)
    right += done[b] && decoded[b] == std::string(test[b].rbegin(), test[b].rend());
  const double accuracy = double(right) / double(test.size());
  std::cout << "seq2seq reverse: " << right << "/" << test.size() << " held-out strings reversed exactly ("
            << accuracy << "), final loss " << history.history.at("loss").back() << ", accuracy "
            << history.history.at("accuracy").back() << ", fit " << seconds << " s\n";
  EXPECT_GE(accuracy, 0.9);
}

}  // namespace
}  // namespace rnnkit
