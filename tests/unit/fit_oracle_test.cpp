// Training against the oracle: from identical initial weights and batches (shuffle off), 3 epochs of
// Sequential::fit with SGD, SGD with momentum and Adam give the losses and final weights of
// TensorFlow.js 4.22's model.fit, with Keras 2.11's Adam update and epoch-loss averaging
// (tests/train_fixtures/fit.json, written by make_fit_fixtures.mjs beside it; its header says where TF.js and
// Keras differ and what the fixture holds). Every case: 11 samples in batches of 4, 4 and 3, so 9 optimizer
// steps, and the smaller last batch weighs 3/11 in each epoch's loss. SameLossesAndWeights is the issue's
// check (fit's history and final weights); SameLossEveryStep replays the 9 steps with train_on_batch to show
// where a disagreement starts. The reg_* cases add Keras's L1/L2/L1L2 regularizers to every kind of weight.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <iostream>
#include <set>
#include <sstream>

#include "rnnkit/rnnkit.h"
#include "test_support.h"

namespace rnnkit {
namespace {

using nlohmann::json;
using testing::tensor_from_json;

// 1e-4 relative, as the issue asks. The absolute terms cover values whose own size says nothing of their
// precision:
//  * losses are O(0.2 .. 3); 1e-6 is there only so that the comparison never hinges on a zero.
//  * a weight's float32 error comes from the numbers that made it: an initial value up to 0.5 in size plus
//    nine updates, each built from gradients that the two implementations sum in different orders. A weight
//    that ends near zero (about a tenth of them end below 0.05) keeps the absolute error of its neighbours,
//    whose median size is 0.25: hence 5e-6 absolute, 1e-4 relative of 0.05. That is far below what the checks
//    must see: one step moves the median weight by 8e-5 .. 7e-3 here, and TF.js's own Adam (epsilon added to
//    the bias-corrected root) ends 2e-4 .. 4e-3 away from Keras's in the largest weight difference.
constexpr double kRelative = 1e-4;
constexpr double kLossAbsolute = 1e-6;
constexpr double kWeightAbsolute = 5e-6;

struct FitCase {
  json spec;
};

std::vector<FitCase> load_cases() {
  const json fixture = testing::read_json(testing::test_data("train_fixtures/fit.json"));
  std::vector<FitCase> cases;
  for (const json& spec : fixture.at("cases")) cases.push_back({spec});
  return cases;
}

// The Keras optimizer config the fixture records, as rnnkit's optimizer.
std::unique_ptr<Optimizer> optimizer_from(const json& keras) {
  const std::string class_name = keras.at("class_name").get<std::string>();
  const json& config = keras.at("config");
  if (class_name == "SGD")
    return SGD({.learning_rate = config.at("learning_rate").get<double>(),
                .momentum = config.at("momentum").get<double>(),
                .nesterov = config.at("nesterov").get<bool>()});
  if (class_name == "Adam")
    return Adam({.learning_rate = config.at("learning_rate").get<double>(),
                 .beta_1 = config.at("beta_1").get<double>(),
                 .beta_2 = config.at("beta_2").get<double>(),
                 .epsilon = config.at("epsilon").get<double>(),
                 .amsgrad = config.at("amsgrad").get<bool>()});
  throw std::runtime_error("fit.json: unknown optimizer " + class_name);
}

// Each epoch's on_batch_end logs["loss"].
class BatchEndLosses : public Callback {
 public:
  void on_epoch_begin(int /*epoch*/) override { losses.emplace_back(); }
  void on_batch_end(std::int64_t /*batch*/, const Logs& logs) override {
    losses.back().push_back(logs.at("loss"));
  }
  std::vector<std::vector<double>> losses;
};

// Rows [begin, end) of a batch-first tensor.
Tensor rows(const Tensor& x, std::int64_t begin, std::int64_t end) {
  Shape shape = x.shape();
  const std::int64_t row_size = x.size() / shape[0];
  shape[0] = end - begin;
  return Tensor(shape, std::vector<float>(x.data() + begin * row_size, x.data() + end * row_size));
}

bool close(double actual, double expected, double absolute) {
  return std::abs(actual - expected) <= absolute + kRelative * std::abs(expected);
}

// The largest |actual - expected| / (absolute + kRelative |expected|) seen: 1 is the tolerance.
double& worst_ratio() {
  static double worst = 0.0;
  return worst;
}

void expect_values(const std::vector<double>& actual, const json& expected, double absolute,
                   const std::string& what) {
  ASSERT_EQ(actual.size(), expected.size()) << what;
  for (std::size_t i = 0; i < actual.size(); ++i) {
    const double e = expected[i].get<double>();
    EXPECT_TRUE(close(actual[i], e, absolute))
        << what << " [" << i << "]: " << actual[i] << " != expected " << e << " (|diff| "
        << std::abs(actual[i] - e) << ", relative " << std::abs(actual[i] - e) / std::abs(e) << ")";
    worst_ratio() = std::max(worst_ratio(), std::abs(actual[i] - e) / (absolute + kRelative * std::abs(e)));
  }
}

void expect_weights(const Tensor& actual, const Tensor& expected, const std::string& what) {
  ASSERT_EQ(actual.shape(), expected.shape()) << what;
  std::int64_t failures = 0;
  std::ostringstream first;
  for (std::int64_t i = 0; i < actual.size(); ++i) {
    const double a = actual[i], e = expected[i];
    worst_ratio() = std::max(worst_ratio(), std::abs(a - e) / (kWeightAbsolute + kRelative * std::abs(e)));
    if (close(a, e, kWeightAbsolute)) continue;
    if (failures++ == 0)
      first << "value " << i << ": " << a << " != expected " << e << " (|diff| " << std::abs(a - e) << ")";
  }
  EXPECT_EQ(failures, 0) << what << ": " << failures << " of " << actual.size() << " values differ; first "
                         << first.str();
}

class TfjsFit : public ::testing::TestWithParam<FitCase> {
 protected:
  static void TearDownTestSuite() {
    std::cout << "FitOracle/TfjsFit: worst |diff| / tolerance " << worst_ratio() << "\n";
  }
};

// The case's model with its initial weights, compiled with its loss, optimizer and metrics.
Sequential compiled_model(const json& spec) {
  Sequential model = model_from_config(spec.at("model"), spec.at("name").get<std::string>());
  for (const auto& [layer_name, weights] : spec.at("weights").items()) {
    std::vector<Tensor> tensors;
    for (const json& weight : weights) tensors.push_back(tensor_from_json(weight));
    model.layer(layer_name).set_weights(tensors);
  }
  const json& compile = spec.at("compile");
  CompileOptions options;
  options.loss = compile.at("loss").get<std::string>();
  options.optimizer = optimizer_from(compile.at("optimizer"));
  for (const std::string& metric : compile.at("metrics").get<std::vector<std::string>>())
    options.metrics.emplace_back(metric);
  model.compile(std::move(options));
  return model;
}

FitOptions fit_options(const json& spec, std::ostream& silent) {
  const json& fit = spec.at("fit");
  if (fit.at("shuffle").get<bool>())
    throw std::runtime_error("fit.json: the oracle cases train with shuffle off");
  return {.epochs = fit.at("epochs").get<int>(),
          .batch_size = fit.at("batch_size").get<std::int64_t>(),
          .verbose = 0,
          .shuffle = false,
          .out = &silent};
}

void expect_final_weights(Sequential& model, const json& spec) {
  for (const auto& [layer_name, weights] : spec.at("final_weights").items()) {
    const std::vector<Tensor> actual = model.layer(layer_name).get_weights();
    ASSERT_EQ(actual.size(), weights.size()) << layer_name;
    for (std::size_t i = 0; i < actual.size(); ++i)
      expect_weights(actual[i], tensor_from_json(weights[i]),
                     "final weight " + std::to_string(i) + " of " + layer_name);
  }
}

// The check: fit's per-epoch history and the final weights.
TEST_P(TfjsFit, SameLossesAndWeights) {
  const json& spec = GetParam().spec;
  RecordProperty("note", spec.at("note").get<std::string>());
  Sequential model = compiled_model(spec);
  std::ostringstream silent;
  const History history =
      model.fit(tensor_from_json(spec.at("x")), tensor_from_json(spec.at("y")), fit_options(spec, silent));
  EXPECT_EQ(model.optimizer().iterations(), 9);
  for (const auto& [key, expected] : spec.at("history").items()) {
    ASSERT_TRUE(history.history.contains(key)) << "history has no '" << key << "'";
    // Accuracy is a count of correct predictions over 11 or 55: the generator keeps every prediction 1e-3
    // away from a decision, so it matches to rounding.
    expect_values(history.history.at(key), expected, key == "loss" ? kLossAbsolute : 1e-6, "history." + key);
  }
  EXPECT_EQ(history.history.size(), spec.at("history").size());
  expect_final_weights(model, spec);
}

// The same 9 steps one train_on_batch at a time (Keras's train_on_batch returns the batch's own loss): the
// first batch that differs says where a disagreement starts, and fit must be this loop.
TEST_P(TfjsFit, SameLossEveryStep) {
  const json& spec = GetParam().spec;
  Sequential model = compiled_model(spec);
  const Tensor x = tensor_from_json(spec.at("x")), y = tensor_from_json(spec.at("y"));
  const auto batch_size = spec.at("fit").at("batch_size").get<std::int64_t>();
  const json& batch_losses = spec.at("batch_losses");
  for (std::size_t epoch = 0; epoch < batch_losses.size(); ++epoch) {
    std::vector<double> losses;
    for (std::int64_t begin = 0; begin < x.dim(0); begin += batch_size) {
      const std::int64_t end = std::min(x.dim(0), begin + batch_size);
      losses.push_back(model.train_on_batch(rows(x, begin, end), rows(y, begin, end)).at("loss"));
    }
    expect_values(losses, batch_losses[epoch], kLossAbsolute,
                  "loss of each batch, epoch " + std::to_string(epoch));
  }
  expect_final_weights(model, spec);
}

// Keras 2.11's on_train_batch_end logs hold the metrics' running results (Model.train_step returns
// get_metrics_result(): each Mean metric over the epoch so far, weighted by batch size), not the batch's own
// loss. Disabled while rnnkit passes each batch's own logs to on_batch_end; run it with
// --gtest_also_run_disabled_tests.
TEST(FitOracleBatchLogs, BatchEndLogsAreKerasRunningMeans) {
  for (const FitCase& fit_case : load_cases()) {
    const json& spec = fit_case.spec;
    SCOPED_TRACE(spec.at("name").get<std::string>());
    Sequential model = compiled_model(spec);
    std::ostringstream silent;
    FitOptions options = fit_options(spec, silent);
    auto batch_end = std::make_shared<BatchEndLosses>();
    options.callbacks = {batch_end};
    model.fit(tensor_from_json(spec.at("x")), tensor_from_json(spec.at("y")), options);
    const json& expected = spec.at("keras_batch_end_loss");
    ASSERT_EQ(batch_end->losses.size(), expected.size());
    for (std::size_t epoch = 0; epoch < expected.size(); ++epoch)
      expect_values(batch_end->losses[epoch], expected[epoch], kLossAbsolute,
                    "on_batch_end loss, epoch " + std::to_string(epoch));
  }
}

// model.evaluate computes cross-entropy from the logits of a final Dense(softmax|sigmoid), as fit does
// (tf.keras reads the output's _keras_logits in test_step too): on the initial weights, the first batch's
// evaluate loss is the oracle's first training loss, which was taken before any update.
TEST_P(TfjsFit, EvaluateGivesTheOraclesFirstBatchLoss) {
  const json& spec = GetParam().spec;
  Sequential model = compiled_model(spec);
  const Tensor x = tensor_from_json(spec.at("x")), y = tensor_from_json(spec.at("y"));
  const auto batch_size = spec.at("fit").at("batch_size").get<std::int64_t>();
  std::ostringstream silent;
  const Logs logs = model.evaluate(rows(x, 0, batch_size), rows(y, 0, batch_size),
                                   {.batch_size = batch_size, .verbose = 0, .out = &silent});
  expect_values({logs.at("loss")}, json::array({spec.at("batch_losses")[0][0]}), kLossAbsolute,
                "evaluate loss");
}

// Keras's sum(model.losses) at the initial and the final weights: the fixture's float64 penalty from the
// regularizer configs in the model JSON (0 for the cases without regularizers).
TEST_P(TfjsFit, RegularizationLossIsTheOraclesPenalty) {
  const json& spec = GetParam().spec;
  Sequential model = compiled_model(spec);
  expect_values({model.regularization_loss()}, json::array({spec.value("initial_penalty", 0.0)}),
                kLossAbsolute, "initial penalty");
  std::ostringstream silent;
  model.fit(tensor_from_json(spec.at("x")), tensor_from_json(spec.at("y")), fit_options(spec, silent));
  expect_values({model.regularization_loss()}, json::array({spec.value("final_penalty", 0.0)}), kLossAbsolute,
                "final penalty");
}

std::string case_name(const ::testing::TestParamInfo<FitCase>& info) {
  std::string name = info.param.spec.at("name").get<std::string>();
  std::replace_if(
      name.begin(), name.end(), [](char c) { return !std::isalnum(static_cast<unsigned char>(c)); }, '_');
  return name;
}

// gtest prints the case by name instead of its bytes.
void PrintTo(const FitCase& fit_case, std::ostream* out) {
  *out << fit_case.spec.at("name").get<std::string>();
}

// Named so that --gtest_filter='FitOracle*' selects every case:
// FitOracle/TfjsFit.SameLossesAndWeights/<case>.
INSTANTIATE_TEST_SUITE_P(FitOracle, TfjsFit, ::testing::ValuesIn(load_cases()), case_name);

TEST(FitOracleSweep, CoversTheOptimizersAndLosses) {
  std::set<std::string> optimizers, losses;
  const std::vector<FitCase> cases = load_cases();
  for (const FitCase& fit_case : cases) {
    const json& compile = fit_case.spec.at("compile");
    const json& optimizer = compile.at("optimizer");
    optimizers.insert(optimizer.at("class_name").get<std::string>() +
                      (optimizer.at("config").value("momentum", 0.0) > 0 ? "+momentum" : ""));
    losses.insert(compile.at("loss").get<std::string>());
  }
  EXPECT_EQ(optimizers, (std::set<std::string>{"Adam", "SGD", "SGD+momentum"}));
  EXPECT_EQ(losses, (std::set<std::string>{"binary_crossentropy", "categorical_crossentropy",
                                           "mean_squared_error", "sparse_categorical_crossentropy"}));
  EXPECT_GE(cases.size(), 10u);
}

}  // namespace
}  // namespace rnnkit
