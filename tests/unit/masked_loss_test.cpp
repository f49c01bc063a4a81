// Per-timestep loss masking, as tf.keras 2.11 applies the mask a model's output carries (see losses.h): the
// loss rule against masked_losses.json (numpy transcription of Keras's apply_mask / apply_valid_mask,
// generator make_masked_loss_fixtures.py beside it), against hand values and central differences of rnnkit's
// own value; then whole models: a padded batch with Embedding(mask_zero=true) must give the loss, the
// gradients and the accuracy of its unpadded sequences run alone, without any mask.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <optional>
#include <string>
#include <vector>

#include "rnnkit/rnnkit.h"
#include "test_support.h"

namespace rnnkit {
namespace {

using rnnkit::testing::all_close;
using rnnkit::testing::read_json;
using rnnkit::testing::tensor_from_json;
using rnnkit::testing::test_data;

struct MaskedCase {
  std::string name, loss;
  bool from_logits = false;
  Tensor y_pred, y_true, mask, gradient;
  std::optional<Tensor> sample_weight;
  double value = 0.0, accuracy = 0.0;
};

std::vector<MaskedCase> masked_cases() {
  const nlohmann::json fixture = read_json(test_data("train_fixtures/masked_losses.json"));
  std::vector<MaskedCase> cases;
  for (const auto& item : fixture.at("cases")) {
    MaskedCase c;
    c.name = item.at("name").get<std::string>();
    c.loss = item.at("loss").get<std::string>();
    c.from_logits = item.at("from_logits").get<bool>();
    c.y_pred = tensor_from_json(item.at("y_pred"));
    c.y_true = tensor_from_json(item.at("y_true"));
    c.mask = tensor_from_json(item.at("mask"));
    c.gradient = tensor_from_json(item.at("gradient"));
    if (!item.at("sample_weight").is_null()) c.sample_weight = tensor_from_json(item.at("sample_weight"));
    c.value = item.at("value").get<double>();
    c.accuracy = item.at("accuracy").get<double>();
    cases.push_back(std::move(c));
  }
  return cases;
}

const Tensor* weights_of(const MaskedCase& c) {
  return c.sample_weight ? &*c.sample_weight : nullptr;
}

TEST(MaskedLoss, FixtureCoversEveryLossAndWeighting) {
  const std::vector<MaskedCase> cases = masked_cases();
  EXPECT_EQ(cases.size(), 24u);
  for (const MaskedCase& c : cases) EXPECT_EQ(c.mask.shape(), (Shape{3, 5})) << c.name;
}

TEST(MaskedLoss, ValueGradientAndAccuracyMatchKerasRule) {
  for (const MaskedCase& c : masked_cases()) {
    SCOPED_TRACE(c.name);
    const Loss loss(c.loss, c.from_logits);
    const LossResult result = loss.compute(c.y_pred, c.y_true, weights_of(c), &c.mask);
    EXPECT_NEAR(result.value, c.value, 1e-6 + 2e-6 * std::abs(c.value));
    double largest = 0.0;
    for (float g : c.gradient.values()) largest = std::max(largest, static_cast<double>(std::abs(g)));
    EXPECT_TRUE(all_close(result.gradient, c.gradient, 1e-6 * largest + 1e-9, 1e-4));
    EXPECT_DOUBLE_EQ(loss.accuracy(c.y_pred, c.y_true, &c.mask), c.accuracy);
    // Masked rows get exactly nothing.
    const std::int64_t classes = c.y_pred.shape().back();
    for (std::int64_t row = 0; row < c.mask.size(); ++row) {
      if (c.mask[row] != 0.0f) continue;
      for (std::int64_t j = 0; j < classes; ++j) EXPECT_EQ(result.gradient[row * classes + j], 0.0f);
    }
  }
}

// The unclipped losses (logits, mse), where the derivative is smooth: rnnkit's gradient against central
// differences of rnnkit's own masked value, in double.
TEST(MaskedLoss, GradientIsTheDerivativeOfTheMaskedValue) {
  int checked_cases = 0;
  for (const MaskedCase& c : masked_cases()) {
    const Loss loss(c.loss, c.from_logits);
    if (!c.from_logits && loss.kind() != Loss::Kind::mean_squared_error) continue;
    SCOPED_TRACE(c.name);
    ++checked_cases;
    const Tensor gradient = loss.compute(c.y_pred, c.y_true, weights_of(c), &c.mask).gradient;
    for (std::int64_t i = 0; i < c.y_pred.size(); ++i) {
      Tensor up = c.y_pred, down = c.y_pred;
      const double h = 1e-3 * std::max(1.0, std::abs(static_cast<double>(c.y_pred[i])));
      up[i] = static_cast<float>(c.y_pred[i] + h);
      down[i] = static_cast<float>(c.y_pred[i] - h);
      const double numeric = (loss.compute(up, c.y_true, weights_of(c), &c.mask).value -
                              loss.compute(down, c.y_true, weights_of(c), &c.mask).value) /
                             (static_cast<double>(up[i]) - static_cast<double>(down[i]));
      EXPECT_NEAR(gradient[i], numeric, 1e-5 + 1e-3 * std::abs(numeric)) << "element " << i;
    }
  }
  EXPECT_EQ(checked_cases, 14);  // 10 with logits, 4 mse
}

TEST(MaskedLoss, HandValues) {
  // mse on (1,3,1): errors 1, 2, 3 with the last step masked: (1 + 4) / 2, not (1 + 4) / 3.
  const Tensor pred({1, 3, 1}, {1.0f, 2.0f, 3.0f}), zeros({1, 3, 1}), mask({1, 3}, {1.0f, 1.0f, 0.0f});
  const LossResult mse = Loss("mse").compute(pred, zeros, nullptr, &mask);
  EXPECT_DOUBLE_EQ(mse.value, 2.5);
  // d/dp of (p0^2 + p1^2) / 2 = p; nothing for the masked step.
  EXPECT_TRUE(all_close(mse.gradient, Tensor({1, 3, 1}, {1.0f, 2.0f, 0.0f}), 1e-7, 0.0));
  // Sample weights (2, 1) on two samples of two steps, one step of each masked: (2*1 + 1*9) / 2 unmasked
  // rows.
  const Tensor pred2({2, 2, 1}, {1.0f, 5.0f, 7.0f, 3.0f}), mask2({2, 2}, {1.0f, 0.0f, 0.0f, 1.0f});
  const Tensor weights({2}, {2.0f, 1.0f});
  EXPECT_DOUBLE_EQ(Loss("mse").compute(pred2, Tensor({2, 2, 1}), &weights, &mask2).value, 5.5);
  // Binary accuracy: y_pred > 0.5 against the targets on the two unmasked steps only; one of two is right.
  const Tensor probabilities({1, 3, 1}, {0.9f, 0.2f, 0.9f}), targets({1, 3, 1}, {1.0f, 1.0f, 0.0f});
  EXPECT_DOUBLE_EQ(Loss("binary_crossentropy").accuracy(probabilities, targets, &mask), 0.5);
}

TEST(MaskedLoss, WhollyMaskedBatchGivesZeroLikeAnEmptyOne) {
  const Tensor pred({1, 2, 3}, {0.2f, 0.3f, 0.5f, 0.1f, 0.1f, 0.8f}), labels({1, 2}, {0.0f, 2.0f});
  const Tensor mask({1, 2});
  const Loss loss("sparse_categorical_crossentropy");
  const LossResult result = loss.compute(pred, labels, nullptr, &mask);
  EXPECT_EQ(result.value, 0.0);
  EXPECT_TRUE(all_close(result.gradient, Tensor({1, 2, 3}), 0.0, 0.0));
  EXPECT_EQ(loss.accuracy(pred, labels, &mask), 0.0);
}

TEST(MaskedLoss, MaskOfTheWrongShapeIsAnErrorNamingBothShapes) {
  const Tensor pred({2, 3, 4}), labels({2, 3}), mask({2, 4});
  const Loss loss("sparse_categorical_crossentropy");
  try {
    loss.compute(pred, labels, nullptr, &mask);
    FAIL() << "no error";
  } catch (const Error& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find("mask (2, 4)"), std::string::npos) << message;
    EXPECT_NE(message.find("(2, 3, 4)"), std::string::npos) << message;
    EXPECT_NE(message.find("expected (2, 3)"), std::string::npos) << message;
  }
  EXPECT_THROW(loss.accuracy(pred, labels, &mask), Error);
}

// ---------------------------------------------------------------------------------------------------------
// Whole models: Embedding(mask_zero) -> LSTM(return_sequences) -> a per-timestep softmax head.

constexpr std::int64_t kVocabulary = 7, kClasses = 3;

Sequential tagger(bool time_distributed) {
  clear_session();
  Sequential model({.seed = 5});
  model.add(Embedding(kVocabulary, 4, {.mask_zero = true}));
  model.add(LSTM(5, {.return_sequences = true}));
  // Dense on (B,T,F) is the fused logits path of train_on_batch; TimeDistributed(Dense) the plain one.
  if (time_distributed)
    model.add(TimeDistributed(Dense(kClasses, {.activation = "softmax"})));
  else
    model.add(Dense(kClasses, {.activation = "softmax"}));
  // Plain SGD with learning rate 1: a training step subtracts exactly the gradient.
  model.compile({.loss = "sparse_categorical_crossentropy",
                 .optimizer = SGD({.learning_rate = 1.0}),
                 .metrics = {"accuracy"}});
  model.build({kNone, kNone});
  return model;
}

struct Sequence {
  std::vector<float> tokens, labels;
};

// Two sentences of different lengths; a batch pads them with zeros ('post' or 'pre') to 5 steps.
const std::vector<Sequence> kSequences = {{{3, 1, 4}, {0, 2, 1}}, {{5, 2, 6, 6}, {1, 1, 0, 2}}};
constexpr std::int64_t kPadded = 5;

std::pair<Tensor, Tensor> padded_batch(bool pre) {
  Tensor x({2, kPadded}), y({2, kPadded});
  for (std::int64_t i = 0; i < 2; ++i) {
    const Sequence& s = kSequences[static_cast<std::size_t>(i)];
    const auto length = static_cast<std::int64_t>(s.tokens.size());
    const std::int64_t start = pre ? kPadded - length : 0;
    for (std::int64_t t = 0; t < length; ++t) {
      x.at({i, start + t}) = s.tokens[static_cast<std::size_t>(t)];
      y.at({i, start + t}) = s.labels[static_cast<std::size_t>(t)];
    }
  }
  return {x, y};
}

std::pair<Tensor, Tensor> alone(const Sequence& s) {
  const auto length = static_cast<std::int64_t>(s.tokens.size());
  return {Tensor({1, length}, s.tokens), Tensor({1, length}, s.labels)};
}

// The weights after one SGD(1) step minus those before: minus the gradient.
std::vector<Tensor> step_change(Sequential& model, const std::vector<Tensor>& start, const Tensor& x,
                                const Tensor& y, double* loss) {
  model.set_weights(start);
  *loss = model.train_on_batch(x, y).at("loss");
  std::vector<Tensor> change = model.get_weights();
  for (std::size_t k = 0; k < change.size(); ++k)
    for (std::int64_t i = 0; i < change[k].size(); ++i) change[k][i] -= start[k][i];
  return change;
}

class MaskedModel : public ::testing::TestWithParam<std::tuple<bool, bool>> {};

TEST_P(MaskedModel, PaddedBatchGivesTheLossAndGradientsOfItsSequencesAlone) {
  const auto [time_distributed, pre] = GetParam();
  Sequential model = tagger(time_distributed);
  const std::vector<Tensor> start = model.get_weights();

  // Alone, without padding there is no mask: each sequence's loss is the mean over its own steps.
  double loss_a = 0.0, loss_b = 0.0;
  const auto [xa, ya] = alone(kSequences[0]);
  const auto [xb, yb] = alone(kSequences[1]);
  const std::vector<Tensor> change_a = step_change(model, start, xa, ya, &loss_a);
  const std::vector<Tensor> change_b = step_change(model, start, xb, yb, &loss_b);

  // Padded together: the mean over the 7 real steps, so each sequence weighs by its length.
  const auto [x, y] = padded_batch(pre);
  const auto [output, mask] = model.call_with_mask(x);
  ASSERT_TRUE(mask.has_value());
  EXPECT_EQ(mask->shape(), (Shape{2, kPadded}));
  EXPECT_EQ(std::count(mask->values().begin(), mask->values().end(), 1.0f), 7);
  double loss = 0.0;
  const std::vector<Tensor> change = step_change(model, start, x, y, &loss);
  EXPECT_NEAR(loss, (3.0 * loss_a + 4.0 * loss_b) / 7.0, 1e-6);
  ASSERT_EQ(change.size(), change_a.size());
  for (std::size_t k = 0; k < change.size(); ++k) {
    Tensor expected(change[k].shape());
    for (std::int64_t i = 0; i < expected.size(); ++i)
      expected[i] = static_cast<float>((3.0 * change_a[k][i] + 4.0 * change_b[k][i]) / 7.0);
    EXPECT_TRUE(all_close(change[k], expected, 1e-6, 1e-4)) << "weight " << k;
  }

  // evaluate: the same loss; accuracy counts the real steps of the predictions made alone.
  model.set_weights(start);
  std::int64_t matches = 0;
  for (const Sequence& s : kSequences) {
    const auto [xs, ys] = alone(s);
    const Tensor predicted = model(xs);
    for (std::int64_t t = 0; t < xs.dim(1); ++t) {
      const float* row = predicted.data() + t * kClasses;
      matches += std::max_element(row, row + kClasses) - row == static_cast<std::ptrdiff_t>(ys[t]);
    }
  }
  const Logs logs = model.evaluate(x, y, {.verbose = 0});
  EXPECT_NEAR(logs.at("loss"), (3.0 * loss_a + 4.0 * loss_b) / 7.0, 1e-6);
  EXPECT_DOUBLE_EQ(logs.at("accuracy"), static_cast<double>(matches) / 7.0);
}

// The SGD(1) step on a padded batch against central differences of evaluate's loss on that batch, over every
// weight tensor (the padding token's embedding row included: it only feeds masked steps, so both are 0).
// float32 model, step 1e-2: the tolerance of gradcheck_test.cpp.
TEST(MaskedFit, StepIsMinusTheDerivativeOfTheMaskedLoss) {
  Sequential model = tagger(false);
  const std::vector<Tensor> start = model.get_weights();
  const auto [x, y] = padded_batch(true);
  double loss = 0.0;
  const std::vector<Tensor> change = step_change(model, start, x, y, &loss);
  std::vector<Tensor> weights = start;
  const auto loss_at = [&] {
    model.set_weights(weights);
    return model.evaluate(x, y, {.verbose = 0}).at("loss");
  };
  constexpr float kStep = 1e-2f;
  int padding_row_checked = 0;
  for (std::size_t k = 0; k < weights.size(); ++k) {
    const std::int64_t stride = std::max<std::int64_t>(1, weights[k].size() / 12);
    for (std::int64_t i = 0; i < weights[k].size(); i += stride) {
      const double numeric = rnnkit::testing::central_difference(weights[k][i], kStep, loss_at);
      EXPECT_NEAR(-change[k][i], numeric, 2e-3 + 1e-2 * std::abs(numeric))
          << "weight " << k << " element " << i;
      if (k == 0 && i < 4) {  // embeddings (V,4): row 0 is the padding token
        EXPECT_EQ(change[k][i], 0.0f);
        EXPECT_EQ(numeric, 0.0);
        ++padding_row_checked;
      }
    }
  }
  EXPECT_GT(padding_row_checked, 0);
}

std::string head_and_padding(const ::testing::TestParamInfo<std::tuple<bool, bool>>& param_info) {
  return std::string(std::get<0>(param_info.param) ? "TimeDistributed" : "Dense") +
         (std::get<1>(param_info.param) ? "PrePadded" : "PostPadded");
}

INSTANTIATE_TEST_SUITE_P(HeadAndPadding, MaskedModel,
                         ::testing::Combine(::testing::Bool(), ::testing::Bool()), head_and_padding);

// How many steps of one sentence (x (1,T) and labels y (1,T)) the model's argmax gets right.
std::int64_t right_steps(Sequential& model, const Tensor& x, const Tensor& y) {
  const Tensor predicted = model(x);
  std::int64_t right = 0;
  for (std::int64_t t = 0; t < x.dim(1); ++t) {
    const float* row = predicted.data() + t * kClasses;
    right += std::max_element(row, row + kClasses) - row == static_cast<std::ptrdiff_t>(y[t]);
  }
  return right;
}

// Keras's epoch accuracy is the matches over every unmasked step of the epoch (its Mean metric counts the
// mask), not the mean of per-batch accuracies; the loss is the mean of batch losses by samples.
TEST(MaskedFit, EpochAccuracyCountsUnmaskedStepsAcrossBatches) {
  Sequential model = tagger(false);
  model.compile({.loss = "sparse_categorical_crossentropy",
                 .optimizer = SGD({.learning_rate = 0.0}),  // weights stay
                 .metrics = {"accuracy"}});
  std::vector<double> losses;
  std::vector<std::int64_t> matches;
  for (const Sequence& s : kSequences) {
    const auto [xs, ys] = alone(s);
    losses.push_back(model.evaluate(xs, ys, {.verbose = 0}).at("loss"));
    matches.push_back(right_steps(model, xs, ys));
  }
  const double per_step = static_cast<double>(matches[0] + matches[1]) / 7.0;
  // The data must tell the two means apart.
  ASSERT_GT(std::abs(per_step -
                     (static_cast<double>(matches[0]) / 3.0 + static_cast<double>(matches[1]) / 4.0) / 2.0),
            1e-3);
  const auto [x, y] = padded_batch(false);
  const History history = model.fit(x, y, {.epochs = 1, .batch_size = 1, .verbose = 0, .shuffle = false});
  EXPECT_NEAR(history.history.at("loss")[0], (losses[0] + losses[1]) / 2.0, 1e-6);
  EXPECT_DOUBLE_EQ(history.history.at("accuracy")[0], per_step);
}

// Without a mask Keras's Mean metric still counts every step: batches of different lengths (here each
// sentence alone, 3 and 4 steps) weigh by their steps, not by their samples.
class EachSentenceAlone : public Dataset {
 public:
  std::int64_t batch_count() const override { return 2; }
  void start_epoch(Rng& /*rng*/, bool /*shuffle*/) override {}
  std::pair<Tensor, Tensor> batch(std::int64_t index) override {
    return alone(kSequences[static_cast<std::size_t>(index)]);
  }
};

TEST(MaskedFit, EpochAccuracyWithoutAMaskCountsStepsAcrossBatchesOfDifferentLengths) {
  clear_session();
  Sequential model({.seed = 5});
  model.add(Embedding(kVocabulary, 4));
  model.add(LSTM(5, {.return_sequences = true}));
  model.add(Dense(kClasses, {.activation = "softmax"}));
  model.compile({.loss = "sparse_categorical_crossentropy",
                 .optimizer = SGD({.learning_rate = 0.0}),  // weights stay
                 .metrics = {"accuracy"}});
  std::vector<std::int64_t> matches;
  for (const Sequence& s : kSequences) {
    const auto [xs, ys] = alone(s);
    matches.push_back(right_steps(model, xs, ys));
  }
  const double per_step = static_cast<double>(matches[0] + matches[1]) / 7.0;
  // The data must tell per-step from per-sample weighing apart.
  ASSERT_GT(std::abs(per_step -
                     (static_cast<double>(matches[0]) / 3.0 + static_cast<double>(matches[1]) / 4.0) / 2.0),
            1e-3);
  EachSentenceAlone data;
  const History history = model.fit(data, {.epochs = 1, .verbose = 0, .shuffle = false});
  EXPECT_DOUBLE_EQ(history.history.at("accuracy")[0], per_step);
  EXPECT_DOUBLE_EQ(model.evaluate(data, {.verbose = 0}).at("accuracy"), per_step);
}

// A batch whose every step is padding has loss 0 and moves no weight: Keras's _safe_mean divides by zero
// rows with divide_no_nan, and its own test of an all-zero mask (keras-team/keras#11643, test_loss_masking)
// asserts train_on_batch's loss == 0.
TEST(MaskedFit, WhollyMaskedBatchHasLossZeroAndTrainsNothing) {
  Sequential model = tagger(false);
  const std::vector<Tensor> before = model.get_weights();
  const Tensor padding({2, kPadded}), labels({2, kPadded});  // ids 0: every step masked
  const Logs logs = model.train_on_batch(padding, labels);
  EXPECT_EQ(logs.at("loss"), 0.0);
  const std::vector<Tensor> after = model.get_weights();
  ASSERT_EQ(before.size(), after.size());
  for (std::size_t k = 0; k < before.size(); ++k)
    for (std::int64_t i = 0; i < before[k].size(); ++i)
      ASSERT_EQ(before[k][i], after[k][i]) << k << ", " << i;
  EXPECT_EQ(model.evaluate(padding, labels, {.verbose = 0}).at("loss"), 0.0);
}

}  // namespace
}  // namespace rnnkit
