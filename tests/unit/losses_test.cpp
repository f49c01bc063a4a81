// rnnkit's losses against Keras (tf.keras 2.11): values, gradients and accuracy from the oracle fixture
// tests/train_fixtures/losses.json (TensorFlow.js 4.22 where it computes Keras's formula, numpy
// transcriptions of the Keras sources where it does not: see make_loss_fixtures.mjs), every gradient again
// against float64 central differences of rnnkit's own loss value, and the errors for bad input.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "rnnkit/error.h"
#include "rnnkit/losses.h"
#include "test_support.h"

namespace rnnkit {
namespace {

using rnnkit::testing::all_close;
using rnnkit::testing::read_json;
using rnnkit::testing::tensor_from_json;
using rnnkit::testing::test_data;

struct FixtureCase {
  std::string name, loss, oracle;
  bool from_logits = false;
  Tensor y_pred, y_true, gradient;
  std::optional<Tensor> sample_weight;
  double value = 0.0, accuracy = 0.0;
};

std::vector<FixtureCase> load_cases() {
  const nlohmann::json fixture = read_json(test_data("train_fixtures/losses.json"));
  std::vector<FixtureCase> cases;
  for (const auto& item : fixture.at("cases")) {
    FixtureCase c;
    c.name = item.at("name").get<std::string>();
    c.loss = item.at("loss").get<std::string>();
    c.oracle = item.at("oracle").get<std::string>();
    c.from_logits = item.at("from_logits").get<bool>();
    c.y_pred = tensor_from_json(item.at("y_pred"));
    c.y_true = tensor_from_json(item.at("y_true"));
    c.gradient = tensor_from_json(item.at("gradient"));
    if (!item.at("sample_weight").is_null()) c.sample_weight = tensor_from_json(item.at("sample_weight"));
    c.value = item.at("value").get<double>();
    c.accuracy = item.at("accuracy").get<double>();
    cases.push_back(std::move(c));
  }
  return cases;
}

const Tensor* weights_of(const FixtureCase& c) {
  return c.sample_weight ? &*c.sample_weight : nullptr;
}

// ---------------------------------------------------------------------------------------------------------
// The oracle fixture.

TEST(LossFixtures, CoverEveryLossShapeAndWeighting) {
  const std::vector<FixtureCase> cases = load_cases();
  std::set<std::string> names;
  for (const FixtureCase& c : cases) names.insert(c.name);
  for (const char* loss :
       {"categorical_crossentropy", "sparse_categorical_crossentropy", "binary_crossentropy"})
    for (const char* form : {"probabilities", "logits"})
      for (const char* rank : {"2d", "3d"})
        for (const char* weighting : {"unweighted", "weighted"}) {
          const std::string name = std::string(loss) + "/" + form + "/" + rank + "/" + weighting;
          EXPECT_TRUE(names.count(name)) << "missing fixture case " << name;
        }
  for (const char* rank : {"2d", "3d"})
    for (const char* weighting : {"unweighted", "weighted"})
      EXPECT_TRUE(names.count(std::string("mean_squared_error/") + rank + "/" + weighting));
  // Cases whose expectation comes from numpy because TF.js computes something else than Keras.
  EXPECT_GE(std::count_if(cases.begin(), cases.end(), [](const auto& c) { return c.oracle == "numpy"; }), 5);
}

TEST(LossFixtures, ValueMatchesKeras) {
  for (const FixtureCase& c : load_cases()) {
    SCOPED_TRACE(c.name);
    const LossResult result = Loss(c.loss, c.from_logits).compute(c.y_pred, c.y_true, weights_of(c));
    // float32 oracles (TF.js) against rnnkit's double sums: a few float32 ulps of the value.
    EXPECT_NEAR(result.value, c.value, 1e-6 + 2e-6 * std::abs(c.value));
  }
}

TEST(LossFixtures, GradientMatchesKeras) {
  for (const FixtureCase& c : load_cases()) {
    SCOPED_TRACE(c.name);
    const LossResult result = Loss(c.loss, c.from_logits).compute(c.y_pred, c.y_true, weights_of(c));
    double largest = 0.0;
    for (float g : c.gradient.values()) largest = std::max(largest, static_cast<double>(std::abs(g)));
    EXPECT_TRUE(all_close(result.gradient, c.gradient, 1e-6 * largest + 1e-9, 1e-4));
  }
}

TEST(LossFixtures, AccuracyMatchesKeras) {
  for (const FixtureCase& c : load_cases()) {
    SCOPED_TRACE(c.name);
    EXPECT_NEAR(Loss(c.loss, c.from_logits).accuracy(c.y_pred, c.y_true), c.accuracy, 1e-12);
  }
}

// ---------------------------------------------------------------------------------------------------------
// Float64 central differences of rnnkit's own value. The value is computed in double from float32 inputs,
// so the difference quotient uses the float32-rounded perturbed inputs exactly. Steps: 1e-4·max(1, |x|) for
// logits and mse; for probabilities at most 1e-4, 1% of the distance from an unclipped value to the nearest
// clip bound (the curvature of log(p) is 1/p², so the truncation error stays ~1e-4 relative) and a quarter
// of the distance from a clipped one (there the loss does not move with that clip). The rounding error
// ~1e-16·|L|/h stays far below a wrong term. Elements whose step would still change a clip's state are
// skipped ("away from the clip boundaries"), as are rows of softmax_cross_entropy_with_logits whose labels
// do not sum to 1, where TensorFlow's gradient is softmax - y rather than the derivative.

constexpr double kLow = static_cast<double>(1e-7f), kHigh = static_cast<double>(1.0f - 1e-7f);

int clip_state(double v) {
  return v < kLow ? -1 : v > kHigh ? 1 : 0;
}
double clip_distance(double v) {
  return std::min(std::abs(v - kLow), std::abs(v - kHigh));
}

// The step for element i of a probability input (see above).
double probability_step(const Loss& loss, const Tensor& y_pred, std::int64_t i) {
  const std::int64_t classes = y_pred.shape().back();
  if (loss.kind() != Loss::Kind::categorical_crossentropy) {
    const double x = y_pred[i];
    return std::min(1e-4, (clip_state(x) == 0 ? 0.01 : 0.25) * clip_distance(x));
  }
  // Moving p_k by h moves every q_j = p_j / S by at most h / S.
  const float* row = y_pred.data() + i / classes * classes;
  double total = 0.0;
  for (std::int64_t j = 0; j < classes; ++j) total += row[j];
  double step = 1e-4;
  for (std::int64_t j = 0; j < classes; ++j) {
    const double q = row[j] / total;
    step = std::min(step, (clip_state(q) == 0 ? 0.01 : 0.25) * total * clip_distance(q));
  }
  return step;
}

// The clip states of one row as the loss sees them: p / sum(p) for the categorical loss, p otherwise.
std::vector<int> row_clip_states(const Loss& loss, const float* row, std::int64_t classes) {
  std::vector<int> states(static_cast<std::size_t>(classes));
  double total = 0.0;
  for (std::int64_t j = 0; j < classes; ++j) total += row[j];
  for (std::int64_t j = 0; j < classes; ++j) {
    const double v = loss.kind() == Loss::Kind::categorical_crossentropy ? row[j] / total : row[j];
    states[static_cast<std::size_t>(j)] = clip_state(v);
  }
  return states;
}

TEST(LossGradCheck, CentralDifferencesAgreeAwayFromClipBounds) {
  for (const FixtureCase& c : load_cases()) {
    SCOPED_TRACE(c.name);
    const Loss loss(c.loss, c.from_logits);
    const bool clipped = !c.from_logits && loss.kind() != Loss::Kind::mean_squared_error;
    const Tensor gradient = loss.compute(c.y_pred, c.y_true, weights_of(c)).gradient;
    const std::int64_t classes = c.y_pred.shape().back();
    double largest = 0.0;
    for (float g : gradient.values()) largest = std::max(largest, static_cast<double>(std::abs(g)));

    std::int64_t checked = 0;
    for (std::int64_t i = 0; i < c.y_pred.size(); ++i) {
      const std::int64_t row = i / classes;
      const float* truth_row = c.y_true.data() + row * classes;
      if (loss.kind() == Loss::Kind::categorical_crossentropy && c.from_logits) {
        double label_sum = 0.0;
        for (std::int64_t j = 0; j < classes; ++j) label_sum += truth_row[j];
        if (std::abs(label_sum - 1.0) > 1e-6) continue;
      }
      const double x = c.y_pred[i];
      // The softmax cross-entropies take their exponentials in float (as TF's float32 kernels do): half an
      // ulp of exp(z_i - max), about 3e-8 of p_i, is noise in the loss that a step of 1e-4 would magnify to
      // 3e-4 p_i in the difference quotient. A step of 1e-2 brings that to 3e-6 p_i, while the truncation
      // error (h^2 / 6 times a third derivative of at most 1) stays under 2e-5.
      const bool softmax_logits = c.from_logits && loss.kind() != Loss::Kind::binary_crossentropy;
      const double relative_step = softmax_logits ? 1e-2 : 1e-4;
      const double h =
          clipped ? probability_step(loss, c.y_pred, i) : relative_step * std::max(1.0, std::abs(x));
      if (h == 0.0) continue;  // on a clip bound
      Tensor up = c.y_pred, down = c.y_pred;
      up[i] = static_cast<float>(x + h);
      down[i] = static_cast<float>(x - h);
      if (!(up[i] > down[i])) continue;
      if (clipped) {
        const auto states = row_clip_states(loss, c.y_pred.data() + row * classes, classes);
        if (row_clip_states(loss, up.data() + row * classes, classes) != states ||
            row_clip_states(loss, down.data() + row * classes, classes) != states)
          continue;
      }
      const double numeric = (loss.compute(up, c.y_true, weights_of(c)).value -
                              loss.compute(down, c.y_true, weights_of(c)).value) /
                             (static_cast<double>(up[i]) - static_cast<double>(down[i]));
      EXPECT_NEAR(gradient[i], numeric, 1e-6 * largest + 2e-3 * std::abs(numeric)) << "element " << i;
      ++checked;
    }
    EXPECT_GE(checked, c.y_pred.size() / 2) << "too few elements away from the clip bounds";
  }
}

// ---------------------------------------------------------------------------------------------------------
// Names.

TEST(LossNames, KerasNamesAndAliasesGiveTheCanonicalName) {
  EXPECT_EQ(Loss("mse").name(), "mean_squared_error");
  EXPECT_EQ(Loss("MSE").name(), "mean_squared_error");
  EXPECT_EQ(Loss("MeanSquaredError").name(), "mean_squared_error");
  EXPECT_EQ(Loss("bce").name(), "binary_crossentropy");
  EXPECT_EQ(Loss("BinaryCrossentropy").name(), "binary_crossentropy");
  EXPECT_EQ(Loss("CategoricalCrossentropy").name(), "categorical_crossentropy");
  EXPECT_EQ(Loss("SparseCategoricalCrossentropy").name(), "sparse_categorical_crossentropy");
  EXPECT_EQ(Loss("sparse_categorical_crossentropy", true).kind(),
            Loss::Kind::sparse_categorical_crossentropy);
}

TEST(LossNames, WithLogitsSwitchesCrossentropiesOnly) {
  EXPECT_FALSE(Loss("categorical_crossentropy").from_logits());
  EXPECT_TRUE(Loss("categorical_crossentropy").with_logits().from_logits());
  EXPECT_TRUE(Loss("binary_crossentropy").with_logits().from_logits());
  EXPECT_EQ(Loss("sparse_categorical_crossentropy").with_logits().name(), "sparse_categorical_crossentropy");
  EXPECT_FALSE(Loss("mse").with_logits().from_logits());
}

TEST(LossNames, UnknownNameListsTheKnown) {
  try {
    Loss("categorical_cross_entropy");
    FAIL() << "expected an Error";
  } catch (const Error& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("categorical_cross_entropy"), std::string::npos) << message;
    EXPECT_NE(message.find("sparse_categorical_crossentropy"), std::string::npos) << message;
    EXPECT_NE(message.find("mse"), std::string::npos) << message;
  }
  EXPECT_THROW(Loss(""), Error);
  EXPECT_THROW(Loss("mean_squared_error", true), Error);
}

// ---------------------------------------------------------------------------------------------------------
// Bad input: Errors naming the shapes or the label at fault.

std::string error_of(const std::function<void()>& call) {
  try {
    call();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

Tensor probabilities(Shape shape) {
  Tensor t(std::move(shape));
  const std::int64_t classes = t.shape().back();
  for (float& v : t.values()) v = 1.0f / static_cast<float>(classes);
  return t;
}

TEST(LossErrors, ShapeMismatchNamesBothShapes) {
  const Tensor y_pred = probabilities({4, 3});
  const std::string message = error_of([&] {
    Loss("categorical_crossentropy").compute(y_pred, Tensor({4, 4}));
  });
  EXPECT_NE(message.find("(4, 4)"), std::string::npos) << message;
  EXPECT_NE(message.find("(4, 3)"), std::string::npos) << message;
  EXPECT_THROW(Loss("binary_crossentropy").compute(y_pred, Tensor({4})), Error);  // (4) only fits (4, 1)
  EXPECT_THROW(Loss("mse").compute(y_pred, Tensor({3, 3})), Error);
  EXPECT_THROW(Loss("categorical_crossentropy").accuracy(y_pred, Tensor({4, 4})), Error);
  EXPECT_THROW(Loss("mse").compute(Tensor({4}), Tensor({4})), Error);  // no class axis

  const std::string sparse = error_of([&] {
    Loss("sparse_categorical_crossentropy").compute(probabilities({2, 3, 4}), Tensor({2, 4}));
  });
  EXPECT_NE(sparse.find("(2, 4)"), std::string::npos) << sparse;
  EXPECT_NE(sparse.find("(2, 3, 4)"), std::string::npos) << sparse;
  EXPECT_THROW(Loss("sparse_categorical_crossentropy").compute(y_pred, Tensor({4, 3})), Error);

  const Tensor weights({5}, 1.0f);
  const std::string weight = error_of([&] { Loss("mse").compute(y_pred, y_pred, &weights); });
  EXPECT_NE(weight.find("(5,)"), std::string::npos) << weight;
  EXPECT_NE(weight.find("(4, 3)"), std::string::npos) << weight;
}

TEST(LossErrors, SparseLabelsMustBeClassIdsInRange) {
  const Loss loss("sparse_categorical_crossentropy");
  const Tensor y_pred = probabilities({2, 3, 4});
  for (float bad : {4.0f, -1.0f, 1.5f, std::numeric_limits<float>::quiet_NaN(),
                    std::numeric_limits<float>::infinity(), 1e9f}) {
    Tensor labels({2, 3}, 1.0f);
    labels.at({1, 2}) = bad;
    const std::string message = error_of([&] { loss.compute(y_pred, labels); });
    SCOPED_TRACE(message);
    EXPECT_NE(message.find("(1, 2)"), std::string::npos);
    EXPECT_NE(message.find("[0, 4)"), std::string::npos);
    EXPECT_THROW(loss.with_logits().compute(y_pred, labels), Error);
    EXPECT_THROW(loss.accuracy(y_pred, labels), Error);
  }
  Tensor labels({2, 3}, 1.0f);
  labels.at({0, 1}) = 1.5f;
  EXPECT_NE(error_of([&] { loss.compute(y_pred, labels); }).find("label 1.5"), std::string::npos);
}

// ---------------------------------------------------------------------------------------------------------
// Edge cases not in the fixture.

TEST(LossEdges, EmptyBatchGivesZeroAsKerasDivideNoNan) {
  const Tensor y_pred({0, 3}), y_true({0, 3});
  const LossResult result = Loss("categorical_crossentropy").compute(y_pred, y_true);
  EXPECT_EQ(result.value, 0.0);
  EXPECT_EQ(result.gradient.shape(), (Shape{0, 3}));
  EXPECT_EQ(Loss("categorical_crossentropy").accuracy(y_pred, y_true), 0.0);
}

TEST(LossEdges, WeightsAreNotNormalisedBySumOfWeights) {
  // SUM_OVER_BATCH_SIZE: sum(w * loss) / B, so halving every weight halves the loss.
  Tensor y_pred({2, 1}, std::vector<float>{0.5f, 1.5f}), y_true({2, 1}, std::vector<float>{0.0f, 0.5f});
  const Tensor half({2}, 0.5f);
  const Loss mse("mse");
  EXPECT_DOUBLE_EQ(mse.compute(y_pred, y_true, &half).value, 0.5 * mse.compute(y_pred, y_true).value);
  EXPECT_DOUBLE_EQ(mse.compute(y_pred, y_true).value, (0.25 + 1.0) / 2.0);
}

}  // namespace
}  // namespace rnnkit
