// Keras's metrics, sample weights, class weights and the learning-rate callbacks. The metric values come from
// tests/parity/gen_metrics.py (numpy, Keras's documented definitions, several batches each) and, where TF.js
// has the metric, gen_metrics_tfjs.mjs; the weighted loss, its gradient and a weighted SGD fit from the same
// numpy script and from central finite differences.
#include <gtest/gtest.h>

#include <cmath>

#include "io/compile_config.h"
#include "rnnkit/rnnkit.h"
#include "test_support.h"

namespace rnnkit {
namespace {

using nlohmann::json;

const json& fixture() {
  static const json value = testing::read_json(testing::test_data("parity/fixtures/metrics/metrics.json"));
  return value;
}

std::unique_ptr<Metric> metric_of(const json& spec) {
  return spec.is_string() ? make_metric(spec.get<std::string>()) : metric_from_config(spec, "fixture");
}

// Runs a fixture case's batches through `metric`; the result after each.
std::vector<double> stream(Metric& metric, const json& batches) {
  std::vector<double> results;
  for (const json& batch : batches) {
    const Tensor y_true = testing::tensor_from_json(batch.at("y_true"));
    const Tensor y_pred = testing::tensor_from_json(batch.at("y_pred"));
    std::optional<Tensor> weights;
    if (batch.contains("sample_weight")) weights = testing::tensor_from_json(batch.at("sample_weight"));
    metric.update_state(y_true, y_pred, weights ? &*weights : nullptr);
    results.push_back(metric.result());
  }
  return results;
}

TEST(Metrics, NumpyOracleOverSeveralBatches) {
  const json& cases = fixture().at("cases");
  ASSERT_GE(cases.size(), 60u);
  for (const json& c : cases) {
    SCOPED_TRACE(c.at("name").get<std::string>());
    std::unique_ptr<Metric> metric = metric_of(c.at("metric"));
    const std::vector<double> expected = c.at("expected").get<std::vector<double>>();
    const std::vector<double> results = stream(*metric, c.at("batches"));
    for (std::size_t i = 0; i < expected.size(); ++i)
      EXPECT_NEAR(results[i], expected[i], 2e-6) << "batch " << i;
    // reset_state starts over (Keras resets at each epoch), and a clone starts empty.
    metric->reset_state();
    const std::vector<double> again = stream(*metric, json::array({c.at("batches")[0]}));
    EXPECT_NEAR(again[0], expected[0], 2e-6);
    std::unique_ptr<Metric> copy = metric->clone();
    EXPECT_NEAR(stream(*copy, json::array({c.at("batches")[0]}))[0], expected[0], 2e-6);
  }
}

TEST(Metrics, TfjsAgrees) {
  const json tfjs = testing::read_json(testing::test_data("parity/fixtures/metrics/metrics_tfjs.json"));
  ASSERT_GE(tfjs.at("results").size(), 8u);
  for (const json& result : tfjs.at("results")) {
    const std::string name = result.at("name").get<std::string>();
    SCOPED_TRACE(name);
    const auto found =
        std::ranges::find_if(fixture().at("cases"), [&](const json& c) { return c.at("name") == name; });
    ASSERT_NE(found, fixture().at("cases").end());
    std::unique_ptr<Metric> metric = metric_of(found->at("metric"));
    EXPECT_NEAR(stream(*metric, found->at("batches")).back(), result.at("value").get<double>(), 2e-6);
  }
}

TEST(Metrics, HandValues) {
  // Two rows of (B, 2) one-hot labels; a weight of 0 leaves a row out of the mean.
  std::unique_ptr<Metric> accuracy = make_metric("categorical_accuracy");
  const Tensor y_true({2, 2}, {1, 0, 0, 1});
  const Tensor y_pred({2, 2}, {0.7f, 0.3f, 0.6f, 0.4f});
  const Tensor weights({2}, {3.0f, 1.0f});
  accuracy->update_state(y_true, y_pred, &weights);
  EXPECT_DOUBLE_EQ(accuracy->result(), 0.75);  // (3*1 + 1*0) / 4
  // AUC of perfectly separated scores is 1, of reversed ones 0.
  std::unique_ptr<Metric> auc = AUC();
  auc->update_state(Tensor({4}, {0, 0, 1, 1}), Tensor({4, 1}, {0.1f, 0.2f, 0.8f, 0.9f}), nullptr);
  EXPECT_NEAR(auc->result(), 1.0, 1e-12);
  auc->reset_state();
  auc->update_state(Tensor({4}, {1, 1, 0, 0}), Tensor({4, 1}, {0.1f, 0.2f, 0.8f, 0.9f}), nullptr);
  EXPECT_NEAR(auc->result(), 0.0, 1e-12);
  // Precision with nothing predicted positive is 0 (divide_no_nan).
  std::unique_ptr<Metric> precision = Precision();
  precision->update_state(Tensor({2}, {1, 0}), Tensor({2}, {0.1f, 0.2f}), nullptr);
  EXPECT_EQ(precision->result(), 0.0);
}

TEST(Metrics, BadInputIsAnError) {
  testing::expect_error([] { make_metric("f1_score"); }, {"unknown metric 'f1_score'", "AUC"});
  testing::expect_error(
      [] {
        Precision()->update_state(Tensor({2}, {1, 0}), Tensor({2, 3}), nullptr);
      },
      {"precision", "y_true (2,)", "y_pred (2, 3)"});
  testing::expect_error(
      [] {
        metric_from_config(json::parse(R"({"class_name":"AUC","config":{"multi_label":true}})"), "m.h5");
      },
      {"m.h5", "multi_label"});
  testing::expect_error(
      [] {
        metric_from_config(json::parse(R"({"class_name":"Precision","config":{"thresholds":[0.3,0.6]}})"),
                           "m.h5");
      },
      {"m.h5", "one threshold"});
  testing::expect_error(
      [] { metric_from_config(json::parse(R"({"class_name":"MeanIoU","config":{}})"), "m.keras"); },
      {"m.keras", "MeanIoU"});
  testing::expect_error(
      [] {
        make_metric("sparse_categorical_accuracy")->update_state(Tensor({2, 3}), Tensor({2, 3}), nullptr);
      },
      {"sparse_categorical_accuracy", "one class id per row"});
  testing::expect_error([] { AUC({.curve = "XY"}); }, {"curve must be ROC or PR"});
}

Sequential dense_model(int units, const char* activation) {
  Sequential model;
  model.add(Dense(units, {.activation = activation}));
  model.build({kNone, 4});
  return model;
}

TEST(Metrics, NamesAsKeras2LogsThem) {
  Sequential model = dense_model(1, "sigmoid");
  model.compile({.loss = "binary_crossentropy",
                 .optimizer = SGD(),
                 .metrics = {"acc", "AUC", AUC({.curve = "PR"}), "precision", Recall({.thresholds = 0.3})},
                 .weighted_metrics = {"acc", "binary_accuracy"}});
  EXPECT_EQ(model.metrics(), (std::vector<std::string>{"acc", "auc", "auc_1", "precision", "recall"}));
  EXPECT_EQ(model.weighted_metrics_of(0), (std::vector<std::string>{"acc", "binary_accuracy"}));
  Rng rng(3);
  const Tensor x = testing::random_tensor({6, 4}, rng, 1.0);
  const Tensor y({6, 1}, {0, 1, 1, 0, 1, 0});
  const Logs logs = model.evaluate(x, y, {.verbose = 0});
  for (const char* name :
       {"loss", "acc", "auc", "auc_1", "precision", "recall", "weighted_acc", "binary_accuracy"})
    EXPECT_TRUE(logs.contains(name)) << name;
  EXPECT_EQ(logs.size(), 8u);
  testing::expect_error(
      [&] {
        model.compile({.loss = "mse", .metrics = {"accuracy", "accuracy"}});
      },
      {"two metrics with the same name: accuracy"});
  testing::expect_error([&] { model.compile({.loss = "mse", .metrics = {"roc"}}); },
                        {"unknown metric 'roc'"});
}

TEST(Metrics, PerOutputOfAFunctionalModel) {
  SymbolicTensor input = Input({4}, {.name = "x"});
  SymbolicTensor a = Dense(1, {.activation = "sigmoid", .name = "yes"})(input);
  SymbolicTensor b = Dense(3, {.activation = "softmax", .name = "kind"})(input);
  Model model({input}, {a, b});
  model.compile({.loss = "mse",
                 .optimizer = SGD(),
                 .losses = {"binary_crossentropy", "sparse_categorical_crossentropy"},
                 .metrics_by_output = {{"yes", {"AUC", "accuracy"}}, {"kind", {"accuracy", "AUC"}}}});
  Rng rng(5);
  const Tensor x = testing::random_tensor({8, 4}, rng, 1.0);
  const Tensor ya({8, 1}, {0, 1, 1, 0, 1, 0, 0, 1});
  const Tensor yb({8}, {0, 1, 2, 0, 1, 2, 0, 1});
  // Keras 2 numbers the second default-named AUC as auc_1.
  EXPECT_EQ(model.metrics_of(0), (std::vector<std::string>{"auc", "accuracy"}));
  EXPECT_EQ(model.metrics_of(1), (std::vector<std::string>{"accuracy", "auc_1"}));
  testing::expect_error(
      [&] {
        model.evaluate({x}, {ya, yb}, {.verbose = 0});
      },
      {"kind_auc_1", "y_true (8,)", "y_pred (8, 3)"});
  model.compile({.loss = "mse",
                 .optimizer = SGD(),
                 .losses = {"binary_crossentropy", "sparse_categorical_crossentropy"},
                 .metrics_by_output = {{"yes", {"AUC", "accuracy"}}, {"kind", {"accuracy"}}}});
  const Logs logs = model.evaluate({x}, {ya, yb}, {.verbose = 0});
  for (const char* name : {"loss", "yes_loss", "kind_loss", "yes_auc", "yes_accuracy", "kind_accuracy"})
    EXPECT_TRUE(logs.contains(name)) << name;
  // Each output's metric sees its own predictions: AUC against an independent computation.
  const std::vector<Tensor> predictions = model.predict(std::vector<Tensor>{x});
  std::unique_ptr<Metric> auc = AUC();
  auc->update_state(ya, predictions[0], nullptr);
  EXPECT_NEAR(logs.at("yes_auc"), auc->result(), 1e-12);
}

TEST(Metrics, ReadFromATrainingConfig) {
  SymbolicTensor input = Input({4}, {.name = "x"});
  SymbolicTensor a = Dense(1, {.activation = "sigmoid", .name = "yes"})(input);
  SymbolicTensor b = Dense(3, {.activation = "softmax", .name = "kind"})(input);
  Model model({input}, {a, b});
  // tf.keras 2.15 saves a multi-output model's metrics per output under the names compile gave them; a
  // field of the wrong type and an unknown function are dropped with the reason.
  const json metrics = json::parse(R"([
    [{"class_name": "MeanMetricWrapper", "config": {"name": "yes_accuracy", "dtype": "float32", "fn": "binary_accuracy"}},
     {"class_name": "AUC", "config": {"name": "yes_auc", "curve": 5}}],
    [{"class_name": "MeanMetricWrapper", "config": {"name": "kind_acc", "fn": "sparse_categorical_accuracy"}},
     "mae"]])");
  const std::vector<std::string> dropped = compile_config::compile_model(
      model, json::array({"binary_crossentropy", "sparse_categorical_crossentropy"}), metrics,
      json::parse(R"({"kind": ["sparse_top_k_categorical_accuracy"]})"), "sgd", "f.h5");
  EXPECT_EQ(model.metrics_of(0), std::vector<std::string>{"accuracy"});
  EXPECT_EQ(model.metrics_of(1), std::vector<std::string>{"acc"});
  EXPECT_EQ(model.weighted_metrics_of(1), std::vector<std::string>{"sparse_top_k_categorical_accuracy"});
  ASSERT_EQ(dropped.size(), 2u);
  EXPECT_NE(dropped[0].find("malformed"), std::string::npos) << dropped[0];
  EXPECT_TRUE(dropped[1].starts_with(R"("mae": )")) << dropped[1];
  Rng rng(2);
  const Logs logs = model.evaluate({testing::random_tensor({4, 4}, rng, 1.0)},
                                   {Tensor({4, 1}, {0, 1, 1, 0}), Tensor({4}, {0, 1, 2, 0})}, {.verbose = 0});
  for (const char* name : {"yes_accuracy", "kind_acc", "kind_sparse_top_k_categorical_accuracy"})
    EXPECT_TRUE(logs.contains(name)) << name;
}

// The fixture's Dense(3, softmax) with its kernel and bias, compiled with SGD.
Sequential weighted_fit_model(double learning_rate) {
  const json& fit = fixture().at("weighted_fit");
  Sequential model = dense_model(3, "softmax");
  const auto kernel = fit.at("kernel").get<std::vector<std::vector<float>>>();
  std::vector<float> flat;
  for (const auto& row : kernel) flat.insert(flat.end(), row.begin(), row.end());
  model.set_weights({Tensor({4, 3}, flat), Tensor({3}, fit.at("bias").get<std::vector<float>>())});
  model.compile({.loss = "categorical_crossentropy",
                 .optimizer = SGD({.learning_rate = learning_rate}),
                 .metrics = {"accuracy"},
                 .weighted_metrics = {"accuracy"}});
  return model;
}

Tensor matrix(const json& rows) {
  const auto values = rows.get<std::vector<std::vector<float>>>();
  std::vector<float> flat;
  for (const auto& row : values) flat.insert(flat.end(), row.begin(), row.end());
  return Tensor({static_cast<std::int64_t>(values.size()), static_cast<std::int64_t>(values[0].size())},
                flat);
}

Tensor one_hot_labels(const json& labels) {
  const auto ids = labels.get<std::vector<int>>();
  Tensor y({static_cast<std::int64_t>(ids.size()), 3});
  for (std::size_t i = 0; i < ids.size(); ++i) y[static_cast<std::int64_t>(i) * 3 + ids[i]] = 1.0f;
  return y;
}

TEST(SampleWeight, LossAndGradientAgainstNumpyAndFiniteDifferences) {
  const json& fit = fixture().at("weighted_fit");
  const Tensor x = matrix(fit.at("x"));
  const Tensor y = one_hot_labels(fit.at("labels"));
  const Tensor w({10}, fit.at("sample_weight").get<std::vector<float>>());
  Sequential model = weighted_fit_model(1.0);
  // SUM_OVER_BATCH_SIZE: sum(w * loss) / 10, not / sum(w).
  const Logs logs = model.evaluate(x, y, {.batch_size = 10, .sample_weight = w, .verbose = 0});
  EXPECT_NEAR(logs.at("loss"), fit.at("loss").get<double>(), 1e-5);
  // The gradient rnnkit applies: one SGD step with learning rate 1 moves each weight by -gradient.
  const std::vector<Tensor> before = model.get_weights();
  model.train_on_batch(x, y, &w);
  const std::vector<Tensor> after = model.get_weights();
  Tensor grad_kernel({4, 3}), grad_bias({3});
  for (std::int64_t i = 0; i < 12; ++i) grad_kernel[i] = before[0][i] - after[0][i];
  for (std::int64_t i = 0; i < 3; ++i) grad_bias[i] = before[1][i] - after[1][i];
  EXPECT_TRUE(testing::all_close(grad_kernel, matrix(fit.at("grad_kernel")), 2e-6, 1e-4));
  EXPECT_TRUE(
      testing::all_close(grad_bias, Tensor({3}, fit.at("grad_bias").get<std::vector<float>>()), 2e-6, 1e-4));
  // Central differences of the weighted loss rnnkit evaluates.
  Sequential probe = weighted_fit_model(1.0);
  std::vector<Tensor> weights = probe.get_weights();
  for (std::size_t t = 0; t < 2; ++t)
    for (std::int64_t i = 0; i < weights[t].size(); ++i) {
      const double numeric = testing::central_difference(weights[t][i], 1e-2f, [&] {
        probe.set_weights(weights);
        return probe.evaluate(x, y, {.batch_size = 10, .sample_weight = w, .verbose = 0}).at("loss");
      });
      const double analytic = t == 0 ? grad_kernel[i] : grad_bias[i];
      EXPECT_NEAR(numeric, analytic, 2e-3) << "weight " << t << " element " << i;
    }
}

TEST(SampleWeight, FitMatchesNumpySgdAndWeightedMetrics) {
  const json& fit = fixture().at("weighted_fit");
  const Tensor x = matrix(fit.at("x"));
  const Tensor y = one_hot_labels(fit.at("labels"));
  const Tensor w({10}, fit.at("sample_weight").get<std::vector<float>>());
  Sequential model = weighted_fit_model(fit.at("learning_rate").get<double>());
  std::vector<std::vector<Tensor>> per_epoch;
  const History history = model.fit(
      x, y,
      {.epochs = 2,
       .batch_size = 4,
       .verbose = 0,
       .shuffle = false,
       .callbacks = {LambdaCallback([&](int, const Logs&) { per_epoch.push_back(model.get_weights()); })},
       .sample_weight = w});
  ASSERT_EQ(per_epoch.size(), 2u);
  for (std::size_t e = 0; e < 2; ++e) {
    const json& expected = fit.at("epochs")[e];
    EXPECT_TRUE(testing::all_close(per_epoch[e][0], matrix(expected.at("kernel")), 1e-5)) << "epoch " << e;
    EXPECT_TRUE(testing::all_close(per_epoch[e][1],
                                   Tensor({3}, expected.at("bias").get<std::vector<float>>()), 1e-5));
  }
  const json& last = fit.at("last_epoch");
  EXPECT_NEAR(history.history.at("loss").back(), last.at("loss").get<double>(), 1e-5);
  EXPECT_NEAR(history.history.at("accuracy").back(), last.at("accuracy").get<double>(), 1e-9);
  EXPECT_NEAR(history.history.at("weighted_accuracy").back(), last.at("weighted_accuracy").get<double>(),
              1e-9);
}

TEST(SampleWeight, ClassWeightIsTheSampleWeightOfEachClass) {
  const json& fit = fixture().at("weighted_fit");
  const Tensor x = matrix(fit.at("x"));
  const Tensor y = one_hot_labels(fit.at("labels"));
  const std::map<int, double> class_weight{{0, 2.0}, {1, 0.5}};  // class 2 unnamed: 1
  Tensor w({10});
  const auto labels = fit.at("labels").get<std::vector<int>>();
  for (std::size_t i = 0; i < labels.size(); ++i)
    w[static_cast<std::int64_t>(i)] = labels[i] == 0 ? 2.0f : labels[i] == 1 ? 0.5f : 1.0f;
  Sequential a = weighted_fit_model(0.1), b = weighted_fit_model(0.1);
  const History by_class = a.fit(
      x, y, {.epochs = 2, .batch_size = 4, .verbose = 0, .shuffle = false, .class_weight = class_weight});
  const History by_sample =
      b.fit(x, y, {.epochs = 2, .batch_size = 4, .verbose = 0, .shuffle = false, .sample_weight = w});
  EXPECT_EQ(testing::weight_bytes(a), testing::weight_bytes(b));
  EXPECT_EQ(by_class.history, by_sample.history);
  testing::expect_error(
      [&] { a.fit(x, y, {.verbose = 0, .class_weight = class_weight, .sample_weight = w}); },
      {"class_weight and sample_weight at the same time"});
  testing::expect_error([&] { a.fit(x, y, {.verbose = 0, .sample_weight = Tensor({9})}); },
                        {"sample_weight (9,)", "one entry per sample (10)"});
}

// A Dataset that gives its own weights.
class WeightedData final : public Dataset {
 public:
  WeightedData(Tensor x, Tensor y, Tensor w) : x_(std::move(x)), y_(std::move(y)), w_(std::move(w)) {}
  std::int64_t batch_count() const override { return 1; }
  void start_epoch(Rng&, bool) override {}
  std::pair<Tensor, Tensor> batch(std::int64_t) override { return {x_, y_}; }
  WeightedBatch weighted_batch(std::int64_t) override { return {{x_}, {y_}, w_}; }

 private:
  Tensor x_, y_, w_;
};

TEST(SampleWeight, ThroughTheDatasetInterface) {
  const json& fit = fixture().at("weighted_fit");
  const Tensor x = matrix(fit.at("x"));
  const Tensor y = one_hot_labels(fit.at("labels"));
  const Tensor w({10}, fit.at("sample_weight").get<std::vector<float>>());
  Sequential model = weighted_fit_model(0.1);
  WeightedData data(x, y, w);
  EXPECT_NEAR(model.evaluate(data, {.verbose = 0}).at("loss"), fit.at("loss").get<double>(), 1e-5);
  Sequential arrays = weighted_fit_model(0.1);
  model.fit(data, {.epochs = 1, .verbose = 0});
  arrays.fit(x, y, {.epochs = 1, .batch_size = 10, .verbose = 0, .shuffle = false, .sample_weight = w});
  EXPECT_EQ(testing::weight_bytes(model), testing::weight_bytes(arrays));
}

TEST(Callbacks, ReduceLROnPlateauRules) {
  Sequential model = dense_model(1, "sigmoid");
  model.compile({.loss = "mse", .optimizer = SGD({.learning_rate = 0.1})});
  auto reduce = ReduceLROnPlateau({.factor = 0.5, .patience = 2, .cooldown = 1, .min_lr = 0.01});
  reduce->set_model(&model);
  reduce->on_train_begin();
  // Worked by hand from Keras's rules (best starts at +inf; an improvement must beat best - 1e-4; the
  // cooldown counter is spent before the wait counts again; no reduction once lr is at min_lr):
  const std::vector<double> val_loss{1.0, 1.0, 1.0, 0.5, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.49995};
  const std::vector<float> logged{0.1f,   0.1f,    0.1f,    0.05f, 0.05f, 0.05f, 0.025f,
                                  0.025f, 0.0125f, 0.0125f, 0.01f, 0.01f, 0.01f};
  for (std::size_t epoch = 0; epoch < val_loss.size(); ++epoch) {
    Logs logs{{"val_loss", val_loss[epoch]}};
    reduce->add_epoch_logs(static_cast<int>(epoch), logs);
    EXPECT_EQ(logs.at("lr"), static_cast<double>(logged[epoch])) << "epoch " << epoch;
    reduce->on_epoch_end(static_cast<int>(epoch), logs);
  }
  // 'auto' maximizes a monitor containing "acc" (and minimizes anything else, val_auc included).
  model.compile({.loss = "mse", .optimizer = SGD({.learning_rate = 0.1})});
  auto on_accuracy = ReduceLROnPlateau({.monitor = "val_accuracy", .factor = 0.5, .patience = 1});
  on_accuracy->set_model(&model);
  on_accuracy->on_train_begin();
  for (double value : {0.5, 0.6}) on_accuracy->on_epoch_end(0, {{"val_accuracy", value}});
  EXPECT_FLOAT_EQ(static_cast<float>(model.optimizer().current_learning_rate()), 0.1f);
  on_accuracy->on_epoch_end(0, {{"val_accuracy", 0.55}});
  EXPECT_FLOAT_EQ(static_cast<float>(model.optimizer().current_learning_rate()), 0.05f);
  testing::expect_error([] { ReduceLROnPlateau({.factor = 1.0}); }, {"factor >= 1.0"});
}

TEST(Callbacks, LearningRateSchedulerInFitAndHistory) {
  const json& fit = fixture().at("weighted_fit");
  const Tensor x = matrix(fit.at("x"));
  const Tensor y = one_hot_labels(fit.at("labels"));
  Sequential model = weighted_fit_model(0.1);
  const History history = model.fit(
      x, y,
      {.epochs = 3,
       .batch_size = 10,
       .verbose = 0,
       .shuffle = false,
       .callbacks = {LearningRateScheduler([](int epoch, double lr) { return epoch == 0 ? lr : lr / 2; })}});
  ASSERT_EQ(history.history.at("lr").size(), 3u);
  EXPECT_EQ(history.history.at("lr"), (std::vector<double>{0.1f, 0.05f, 0.025f}));
  // Epoch 2 trained at 0.05: the same as a model stepped once at 0.1 and then at 0.05.
  Sequential manual = weighted_fit_model(0.1);
  manual.fit(x, y, {.epochs = 1, .batch_size = 10, .verbose = 0, .shuffle = false});
  manual.optimizer().set_learning_rate(0.05);
  manual.fit(x, y, {.epochs = 1, .batch_size = 10, .verbose = 0, .shuffle = false});
  Sequential two = weighted_fit_model(0.1);
  two.fit(
      x, y,
      {.epochs = 2,
       .batch_size = 10,
       .verbose = 0,
       .shuffle = false,
       .callbacks = {LearningRateScheduler([](int epoch, double lr) { return epoch == 0 ? lr : lr / 2; })}});
  EXPECT_EQ(testing::weight_bytes(manual), testing::weight_bytes(two));
}

TEST(Metrics, SavedAndLoadedWithTheModel) {
  const testing::TempFolder folder;
  Sequential model = dense_model(1, "sigmoid");
  model.compile({.loss = "binary_crossentropy",
                 .optimizer = SGD(),
                 .metrics = {"accuracy", AUC({.curve = "PR", .name = "pr_auc"}), "Precision",
                             Recall({.thresholds = 0.3, .class_id = 0})},
                 .weighted_metrics = {BinaryAccuracy(0.6)}});
  for (const char* file : {"m.keras", "m.h5"}) {
    SCOPED_TRACE(file);
    save_model(model, folder.path() / file);
    LoadedModel loaded = load_model_file(folder.path() / file);
    EXPECT_TRUE(loaded.dropped_metrics.empty());
    EXPECT_EQ(loaded.model.metrics(),
              (std::vector<std::string>{"accuracy", "pr_auc", "precision", "recall"}));
    EXPECT_EQ(loaded.model.weighted_metrics_of(0), std::vector<std::string>{"binary_accuracy"});
    const std::vector<const Metric*> metrics = loaded.model.metric_objects_of(0);
    EXPECT_EQ(metrics[1]->config().at("curve"), "PR");
    EXPECT_EQ(metrics[3]->config().at("thresholds"), 0.3);
    EXPECT_EQ(metrics[3]->config().at("class_id"), 0);
    EXPECT_EQ(loaded.model.metric_objects_of(0, true)[0]->config().at("threshold"), 0.6);
  }
}

}  // namespace
}  // namespace rnnkit
