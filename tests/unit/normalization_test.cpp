// LayerNormalization and BatchNormalization: outputs, gradients and moving statistics against the PyTorch
// oracle (tests/parity/gen_normalization.py), central differences, configs and files of every era,
// summaries, and training with fit.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <set>

#include "io/keras_zip.h"
#include "rnnkit/rnnkit.h"
#include "test_support.h"

namespace rnnkit {
namespace {

using nlohmann::json;
using testing::all_close;
using testing::expect_error;
using testing::tensor_from_json;

std::vector<json> oracle_cases() {
  const json fixture =
      testing::read_json(testing::test_data("parity/fixtures/normalization/normalization.json"));
  return fixture.at("cases").get<std::vector<json>>();
}

// The layer of a case, built for its input and given its weights.
std::unique_ptr<Layer> layer_of(const json& c) {
  clear_session();
  std::unique_ptr<Layer> layer = layer_from_config(c.at("layer"), "case " + c.at("name").get<std::string>());
  Shape shape = c.at("input").at("shape").get<Shape>();
  shape[0] = kNone;
  Rng rng(1);
  layer->build(shape, rng);
  std::vector<Tensor> weights;
  for (const json& weight : c.at("weights")) weights.push_back(tensor_from_json(weight));
  layer->set_weights(weights);
  return layer;
}

// A case at inference (training=false) is differentiated as Keras does a frozen layer's call, which runs in
// inference mode: rnnkit keeps what backward needs only from a training call.
void freeze_for_inference_case(Layer& layer, const json& c) {
  if (!c.at("training").get<bool>()) layer.set_trainable(false);
}

// L = Σ output ⊙ output_grads for a training call.
double loss(Layer& layer, const Tensor& x, const Tensor* mask, const Tensor& output_grads) {
  const Tensor y = layer.call(x, {.mask = mask, .training = true})[0];
  double total = 0.0;
  for (std::int64_t i = 0; i < y.size(); ++i) total += double(y[i]) * output_grads[i];
  return total;
}

class NormalizationOracle : public ::testing::TestWithParam<json> {};

TEST_P(NormalizationOracle, OutputsGradientsAndMovingStatistics) {
  const json& c = GetParam();
  std::unique_ptr<Layer> layer = layer_of(c);
  const Tensor x = tensor_from_json(c.at("input"));
  const std::optional<Tensor> mask =
      c.at("mask").is_null() ? std::nullopt : std::optional(tensor_from_json(c.at("mask")));
  const bool training = c.at("training").get<bool>();
  const std::vector<Tensor> before = layer->get_weights();
  freeze_for_inference_case(*layer, c);

  const std::vector<Tensor> outputs = layer->call(x, {.mask = mask ? &*mask : nullptr, .training = true});
  EXPECT_TRUE(all_close(outputs[0], tensor_from_json(c.at("output")))) << "output";
  // Keras propagates the mask unchanged through both layers.
  const std::optional<Tensor> next_mask = layer->compute_mask(x, mask ? &*mask : nullptr);
  ASSERT_EQ(next_mask.has_value(), mask.has_value());
  if (mask) {
    EXPECT_TRUE(all_close(*next_mask, *mask, 0, 0));
  }

  // The moving statistics: updated by a training call of a trainable layer, else untouched.
  const std::vector<Param*> params = layer->params();
  if (c.at("moving_after").is_null()) {
    for (std::size_t k = 0; k < params.size(); ++k)
      EXPECT_TRUE(all_close(params[k]->value, before[k], 0, 0)) << params[k]->name;
  } else {
    EXPECT_TRUE(all_close(params[params.size() - 2]->value, tensor_from_json(c.at("moving_after")[0]), 1e-6))
        << "moving_mean";
    EXPECT_TRUE(all_close(params[params.size() - 1]->value, tensor_from_json(c.at("moving_after")[1]), 1e-6))
        << "moving_variance";
  }

  layer->zero_grads();
  const InputGrads grads = layer->backward({tensor_from_json(c.at("output_grads"))});
  EXPECT_TRUE(all_close(grads.input, tensor_from_json(c.at("grads").at("input")), 1e-4, 1e-4))
      << "input grad";
  std::vector<Param*> trainable;
  for (Param* param : params)
    if (param->trainable) trainable.push_back(param);
  ASSERT_EQ(trainable.size(), c.at("grads").at("weights").size());
  for (std::size_t k = 0; k < trainable.size(); ++k)
    EXPECT_TRUE(all_close(trainable[k]->grad, tensor_from_json(c.at("grads").at("weights")[k]), 1e-4, 1e-4))
        << trainable[k]->name << " grad";
  for (Param* param : params) {
    if (param->trainable) continue;
    for (float g : param->grad.values()) EXPECT_EQ(g, 0.0f) << param->name << " has no gradient";
  }

  // The call in the case's own mode (inference where training is false) gives the same output.
  std::unique_ptr<Layer> fresh = layer_of(c);
  EXPECT_TRUE(all_close(fresh->call(x, {.mask = mask ? &*mask : nullptr, .training = training})[0],
                        tensor_from_json(c.at("output"))));
}

// The gradients of the same calls against central differences of rnnkit's own forward pass (float32, step
// 1e-2: truncation O(h²) and rounding far below the 2e-3 + 1e-2·|g| allowed, far above nothing a dropped
// term of the normalization's gradient would leave).
TEST_P(NormalizationOracle, GradientsMatchFiniteDifferences) {
  const json& c = GetParam();
  std::unique_ptr<Layer> layer = layer_of(c);
  Tensor x = tensor_from_json(c.at("input"));
  const std::optional<Tensor> mask =
      c.at("mask").is_null() ? std::nullopt : std::optional(tensor_from_json(c.at("mask")));
  const Tensor* mask_pointer = mask ? &*mask : nullptr;
  freeze_for_inference_case(*layer, c);
  const Tensor output_grads = tensor_from_json(c.at("output_grads"));
  layer->call(x, {.mask = mask_pointer, .training = true});
  layer->zero_grads();
  const InputGrads grads = layer->backward({output_grads});
  const auto evaluate = [&] { return loss(*layer, x, mask_pointer, output_grads); };
  const auto compare = [&](const std::string& what, Tensor& value, const Tensor& analytic) {
    for (std::int64_t i = 0; i < value.size(); ++i) {
      const double numeric = testing::central_difference(value[i], 1e-2f, evaluate);
      EXPECT_NEAR(analytic[i], numeric, 2e-3 + 1e-2 * std::abs(numeric)) << what << " element " << i;
    }
  };
  compare("input", x, grads.input);
  for (Param* param : layer->params())
    if (param->trainable) compare(param->name, param->value, param->grad);
}

// The layer's config is tf.keras 2.15's get_config() of the built layer, key for key, and reads back.
TEST_P(NormalizationOracle, ConfigIsKerasAndRoundTrips) {
  const json& c = GetParam();
  std::unique_ptr<Layer> layer = layer_of(c);
  EXPECT_EQ(layer->config(), c.at("layer").at("config"));
  std::unique_ptr<Layer> again =
      layer_from_config({{"class_name", layer->class_name()}, {"config", layer->config()}}, "again");
  EXPECT_EQ(again->trainable(), layer->trainable());
  Rng rng(1);
  again->build(layer->input_shape(), rng);
  EXPECT_EQ(again->config(), layer->config());
}

std::string case_name(const ::testing::TestParamInfo<json>& info) {
  std::string name = info.param.at("name").get<std::string>();
  for (char& ch : name)
    if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
  return name;
}

INSTANTIATE_TEST_SUITE_P(Torch, NormalizationOracle, ::testing::ValuesIn(oracle_cases()), case_name);

TEST(Normalization, OracleSweepCoversTheOptions) {
  std::set<std::string> seen;
  for (const json& c : oracle_cases()) {
    const json& config = c.at("layer").at("config");
    const std::string kind = c.at("layer").at("class_name").get<std::string>();
    seen.insert(kind + (config.at("center").get<bool>() ? "" : " no center"));
    seen.insert(kind + (config.at("scale").get<bool>() ? "" : " no scale"));
    seen.insert(kind + " axes " + std::to_string(config.at("axis").size()));
    if (kind == "BatchNormalization") {
      seen.insert(c.at("training").get<bool>() ? "bn training" : "bn inference");
      if (!c.at("mask").is_null()) seen.insert("bn mask");
      if (!config.at("trainable").get<bool>()) seen.insert("bn frozen");
    }
  }
  for (const char* wanted :
       {"LayerNormalization no center", "LayerNormalization no scale", "LayerNormalization axes 2",
        "BatchNormalization no center", "BatchNormalization no scale", "BatchNormalization axes 2",
        "bn training", "bn inference", "bn mask", "bn frozen"})
    EXPECT_TRUE(seen.contains(wanted)) << wanted;
}

// ---- Models: summary, files, training

Sequential lstm_bn_dense(bool frozen = false) {
  clear_session();
  Sequential model;
  model.add(LSTM(32, {.return_sequences = true, .batch_input_shape = Shape{kNone, 10, 4}}));
  BatchNormalization bn({.axis = {2}});
  bn.set_trainable(!frozen);
  model.add(bn);
  model.add(LayerNormalization());
  model.add(Dense(3));
  return model;
}

TEST(NormalizationModel, SummaryCountsMovingStatisticsAsNonTrainable) {
  const Sequential model = lstm_bn_dense();
  const SummaryTable table = model.summary_table();
  ASSERT_EQ(table.rows.size(), 4u);
  EXPECT_EQ(table.rows[1].name, "batch_normalization");
  EXPECT_EQ(table.rows[1].output_shape, "(None, 10, 32)");
  EXPECT_EQ(table.rows[1].params, 128);  // gamma, beta, moving_mean, moving_variance of 32 each
  EXPECT_EQ(table.rows[2].params, 64);   // LayerNormalization: gamma, beta
  const std::int64_t lstm = 4 * 32 * (4 + 32 + 1), dense = 32 * 3 + 3;
  EXPECT_EQ(table.trainable_params, lstm + 64 + 64 + dense);
  EXPECT_EQ(table.non_trainable_params, 64);
  const std::string text = model.summary_text(SummaryStyle::keras2_12);
  EXPECT_NE(text.find("Non-trainable params: 64\n"), std::string::npos) << text;
  EXPECT_NE(text.find("\nTrainable params: 4,963\n"), std::string::npos) << text;  // lstm + 128 + dense
  // tf.keras 2.12 cuts the name column at 27 characters and wraps the rest onto the next line.
  EXPECT_NE(text.find(" batch_normalization (BatchN  (None, 10, 32)           128       \n"
                      " ormalization)              "),
            std::string::npos)
      << text;
  // A frozen layer's weights are all non-trainable.
  const SummaryTable frozen = lstm_bn_dense(true).summary_table();
  EXPECT_EQ(frozen.non_trainable_params, 128);
}

// One step of fit on one batch: the moving statistics follow moving·0.99 + batch·0.01 of the batch that
// reached the layer (the identity here: the layer is first), the optimizer never touches them, and evaluate
// afterwards normalizes with them.
TEST(NormalizationModel, FitUpdatesMovingStatisticsAndEvaluateUsesThem) {
  clear_session();
  Sequential model;
  model.add(BatchNormalization({.batch_input_shape = Shape{kNone, 3, 2}}));
  model.compile({.loss = "mse", .optimizer = SGD({.learning_rate = 0.1})});
  Rng rng(3);
  const Tensor x = testing::random_tensor({4, 3, 2}, rng, 2.0),
               y = testing::random_tensor({4, 3, 2}, rng, 1.0);
  model.fit(x, y, {.epochs = 1, .batch_size = 4, .verbose = 0});
  const std::vector<Tensor> weights = model.get_weights();  // gamma, beta, moving_mean, moving_variance
  for (int f = 0; f < 2; ++f) {
    double mean = 0, square = 0;
    for (int i = 0; i < 12; ++i) mean += x[i * 2 + f] / 12.0;
    for (int i = 0; i < 12; ++i) square += (x[i * 2 + f] - mean) * (x[i * 2 + f] - mean) / 12.0;
    EXPECT_NEAR(weights[2][f], 0.0 * 0.99 + mean * 0.01, 1e-6);
    EXPECT_NEAR(weights[3][f], 1.0 * 0.99 + square * 0.01, 1e-6);
    // gamma and beta moved with SGD; the moving statistics only by the layer (no step of 0.1·grad).
    EXPECT_NE(weights[0][f], 1.0f);
  }
  double expected = 0;
  for (int i = 0; i < 24; ++i) {
    const int f = i % 2;
    const double out =
        weights[0][f] * (x[i] - weights[2][f]) / std::sqrt(weights[3][f] + 1e-3) + weights[1][f];
    expected += (out - y[i]) * (out - y[i]) / 24.0;
  }
  EXPECT_NEAR(model.evaluate(x, y, {.verbose = 0}).at("loss"), expected, 1e-5);
  // evaluate and predict leave the statistics alone.
  model.predict(x);
  EXPECT_TRUE(all_close(model.get_weights()[2], weights[2], 0, 0));
}

// A layer called twice updates its statistics once per call, as Keras's; running a call again for its
// gradient (the layer keeps only its last call) does not update them a third time.
TEST(NormalizationModel, SharedBatchNormalizationUpdatesOncePerCall) {
  clear_session();
  auto a = Input({2}), b = Input({2});
  auto bn = std::make_shared<BatchNormalization>();
  Model model({a, b}, {(*bn)(a)[0], (*bn)(b)[0]});
  model.compile({.loss = "mse", .optimizer = SGD({.learning_rate = 0.0})});
  const Tensor xa({2, 2}, {1, 2, 3, 6}), xb({2, 2}, {-1, 0, 5, 2});
  model.fit({xa, xb}, {Tensor({2, 2}), Tensor({2, 2})}, {.epochs = 1, .batch_size = 2, .verbose = 0});
  // Per feature: the batch means (2, 4) then (2, 1); the biased variances (1, 4) then (9, 1).
  const double mean0 = (0.0 * 0.99 + 2 * 0.01) * 0.99 + 2 * 0.01,
               mean1 = (0.0 * 0.99 + 4 * 0.01) * 0.99 + 1 * 0.01;
  const double var0 = (0.99 + 1 * 0.01) * 0.99 + 9 * 0.01, var1 = (0.99 + 4 * 0.01) * 0.99 + 1 * 0.01;
  EXPECT_NEAR(bn->moving_mean()[0], mean0, 1e-6);
  EXPECT_NEAR(bn->moving_mean()[1], mean1, 1e-6);
  EXPECT_NEAR(bn->moving_variance()[0], var0, 1e-6);
  EXPECT_NEAR(bn->moving_variance()[1], var1, 1e-6);
}

TEST(NormalizationModel, FrozenBatchNormalizationStaysInInferenceMode) {
  clear_session();
  Sequential model;
  BatchNormalization bn({.batch_input_shape = Shape{kNone, 3}});
  bn.set_trainable(false);
  model.add(bn);
  model.add(Dense(1));
  model.compile({.loss = "mse", .optimizer = SGD({.learning_rate = 0.1})});
  Rng rng(4);
  const Tensor x = testing::random_tensor({8, 3}, rng, 2.0), y = testing::random_tensor({8, 1}, rng, 1.0);
  const std::vector<Tensor> before = model.get_weights();
  model.fit(x, y, {.epochs = 2, .batch_size = 4, .verbose = 0});
  const std::vector<Tensor> after = model.get_weights();
  for (std::size_t k = 0; k < 4; ++k) EXPECT_TRUE(all_close(after[k], before[k], 0, 0)) << k;
  EXPECT_FALSE(all_close(after[4], before[4], 0, 0));  // the Dense kernel learned
}

TEST(NormalizationModel, FilesRoundTripBitForBitWithMovingStatistics) {
  Sequential model = lstm_bn_dense();
  model.compile({.loss = "mse", .optimizer = Adam()});
  Rng rng(6);
  const Tensor x = testing::random_tensor({5, 10, 4}, rng, 1.0),
               y = testing::random_tensor({5, 10, 3}, rng, 1.0);
  model.fit(x, y, {.epochs = 2, .batch_size = 5, .verbose = 0});
  EXPECT_FALSE(all_close(model.layer(1).get_weights()[2], Tensor({32}), 0, 0));  // the statistics moved
  const Tensor expected = model.predict(x);
  const testing::TempFolder folder;
  for (const std::string file : {"m.h5", "m.keras"}) {
    SCOPED_TRACE(file);
    save_model(model, folder / file);
    Sequential loaded = load_model(folder / file);
    EXPECT_EQ(loaded.config(), model.config());
    EXPECT_EQ(testing::weight_bytes(loaded), testing::weight_bytes(model));
    EXPECT_TRUE(all_close(loaded.predict(x), expected, 0, 0));
    // Keras's optimizer holds slots for the trainable weights only: training on resumes.
    loaded.fit(x, y, {.epochs = 1, .batch_size = 5, .verbose = 0});
  }
  save_weights(model, folder / "w.h5");
  Sequential fresh = lstm_bn_dense();
  load_weights(fresh, folder / "w.h5");
  EXPECT_EQ(testing::weight_bytes(fresh), testing::weight_bytes(model));
}

TEST(NormalizationModel, OptimizerStateCoversTrainableWeightsOnly) {
  if (!testing::have_h5py()) GTEST_SKIP() << "needs /usr/bin/python3 with h5py";
  Sequential model = lstm_bn_dense();
  model.compile({.loss = "mse", .optimizer = Adam()});
  Rng rng(6);
  const Tensor x = testing::random_tensor({5, 10, 4}, rng, 1.0),
               y = testing::random_tensor({5, 10, 3}, rng, 1.0);
  model.fit(x, y, {.epochs = 1, .batch_size = 5, .verbose = 0});
  const testing::TempFolder folder;
  save_model(model, folder / "m.h5");
  const auto [status, output] = testing::python(
      "import h5py, sys\n"
      "f = h5py.File(sys.argv[1])\n"
      "text = lambda names: ','.join(n.decode() if isinstance(n, bytes) else str(n) for n in names)\n"
      "slots = text(f['optimizer_weights'].attrs['weight_names']).split(',')\n"
      "print('SLOTS ' + ','.join(n for n in slots if 'batch_normalization' in n))\n"
      "print('WEIGHTS ' + text(f['model_weights/batch_normalization'].attrs['weight_names']))\n",
      (folder / "m.h5").string(), folder.path());
  ASSERT_EQ(status, 0) << output;
  // Adam's m and v for gamma and beta, none for the moving statistics.
  EXPECT_NE(output.find("SLOTS Adam/m/batch_normalization/gamma:0,Adam/v/batch_normalization/gamma:0,"
                        "Adam/m/batch_normalization/beta:0,Adam/v/batch_normalization/beta:0\n"),
            std::string::npos)
      << output;
  EXPECT_NE(output.find("WEIGHTS batch_normalization/gamma:0,batch_normalization/beta:0,"
                        "batch_normalization/moving_mean:0,batch_normalization/moving_variance:0\n"),
            std::string::npos)
      << output;
}

TEST(NormalizationModel, Keras3ConfigHasKeras3Fields) {
  const Sequential model = lstm_bn_dense();
  const json config = keras3::model_config(model);
  json bn, ln;
  for (const json& layer : config.at("config").at("layers")) {
    if (layer.at("class_name") == "BatchNormalization") bn = layer.at("config");
    if (layer.at("class_name") == "LayerNormalization") ln = layer.at("config");
  }
  EXPECT_EQ(bn.at("axis"), 2);  // Keras 3's BatchNormalization takes one integer axis
  EXPECT_EQ(bn.at("synchronized"), false);
  EXPECT_EQ(bn.at("momentum"), 0.99);
  EXPECT_EQ(ln.at("rms_scaling"), false);
  EXPECT_EQ(ln.at("axis"), json::array({2}));
  // And Keras 3's own config of a layer reads.
  const json keras3_bn = {
      {"class_name", "BatchNormalization"},
      {"config",
       {{"name", "bn"},
        {"trainable", true},
        {"dtype", {{"module", "keras"}, {"class_name", "DTypePolicy"}, {"config", {{"name", "float32"}}}}},
        {"axis", -1},
        {"momentum", 0.9},
        {"epsilon", 0.01},
        {"center", true},
        {"scale", false},
        {"synchronized", false}}}};
  std::unique_ptr<Layer> layer = layer_from_config(keras3_bn, "keras3", {.keras3 = true});
  const auto& options = dynamic_cast<const BatchNormalization&>(*layer).options();
  EXPECT_EQ(options.axis, std::vector<int>{-1});
  EXPECT_EQ(options.momentum, 0.9);
  EXPECT_FALSE(options.scale);
}

TEST(NormalizationModel, Keras1BatchNormalizationConfigReads) {
  // Keras 1.2.2's get_config: mode, beta_init/gamma_init; its weights are gamma, beta, running_mean and
  // running_std (which holds the variance).
  const json keras1 = {{"class_name", "BatchNormalization"},
                       {"config",
                        {{"name", "batchnormalization_1"},
                         {"trainable", true},
                         {"epsilon", 0.001},
                         {"mode", 0},
                         {"axis", -1},
                         {"momentum", 0.99},
                         {"gamma_regularizer", nullptr},
                         {"beta_regularizer", nullptr}}}};
  std::unique_ptr<Layer> layer = layer_from_config(keras1, "keras1");
  EXPECT_EQ(layer->class_name(), "BatchNormalization");
  json mode2 = keras1;
  mode2["config"]["mode"] = 2;
  expect_error([&] { return layer_from_config(mode2, "file.h5"); },
               {"file.h5", "batchnormalization_1", "mode"});
}

// A tf.keras 2.15 file with BatchNormalization(axis=[2]) and its moving statistics, and a Keras 1.2.2 one
// (mode 0, running_std), written with h5py by tests/model_files/make_norm_fixtures.py; predictions from
// PyTorch.
TEST(NormalizationModel, LoadsFilesWithMovingStatistics) {
  const json fixtures = testing::read_json(testing::test_data("model_files/norm_fixtures.json"));
  for (const json& entry : fixtures.at("files")) {
    SCOPED_TRACE(entry.at("file").get<std::string>());
    Model model = load_model(testing::test_data("model_files/" + entry.at("file").get<std::string>()));
    EXPECT_TRUE(
        all_close(model.predict(tensor_from_json(entry.at("input"))), tensor_from_json(entry.at("output"))));
    const SummaryTable table = model.summary_table();
    for (const SummaryRow& row : table.rows) {
      if (!entry.at("params").contains(row.name)) continue;
      EXPECT_EQ(row.params, entry.at("params").at(row.name)) << row.name;
    }
    EXPECT_EQ(table.trainable_params, entry.at("trainable_params"));
    EXPECT_EQ(table.non_trainable_params, entry.at("non_trainable_params"));
  }
  const Model model = load_model(testing::test_data("model_files/files/lstm_bn_ln_dense.tf2.15.h5"));
  const auto& bn = dynamic_cast<const BatchNormalization&>(model.layer("batch_normalization"));
  EXPECT_EQ(bn.config().at("axis"), json::array({2}));
  EXPECT_EQ(bn.moving_mean().shape(), Shape{4});
}

TEST(NormalizationErrors, BadAxesAndOptionsNameTheLayer) {
  Rng rng(1);
  expect_error(
      [&] {
        LayerNormalization({.axis = {3}, .name = "ln"}).build({kNone, 4, 5}, rng);
      },
      {"'ln'", "axis 3", "(None, 4, 5)"});
  expect_error(
      [&] {
        LayerNormalization({.axis = {1, -2}, .name = "ln"}).build({kNone, 4, 5}, rng);
      },
      {"'ln'", "twice"});
  expect_error(
      [&] {
        BatchNormalization({.axis = {0}, .name = "bn"}).build({kNone, 4}, rng);
      },
      {"'bn'", "batch axis"});
  expect_error(
      [&] {
        LayerNormalization({.axis = {0, 2}, .name = "ln"}).build({kNone, 3, 4}, rng);
      },
      {"'ln'", "axis 0", "known"});
  expect_error([&] { BatchNormalization({.name = "bn"}).build({kNone, 4, kNone}, rng); }, {"'bn'", "known"});
  expect_error([&] { return BatchNormalization({.epsilon = -1, .name = "bn"}); }, {"'bn'", "epsilon"});
  expect_error([&] { return LayerNormalization({.axis = {}, .name = "ln"}); }, {"'ln'", "axis"});
  BatchNormalization bn({.name = "bn"});
  bn.build({kNone, 4}, rng);
  expect_error([&] { return bn.call(Tensor({2, 5})); }, {"'bn'", "(2, 5)"});
  // A mask goes with (batch, timesteps, features).
  BatchNormalization bn4({.axis = {2}, .name = "bn4"});
  bn4.build({kNone, 2, 3, 4}, rng);
  const Tensor mask({2, 2}, 1.0f);
  expect_error(
      [&] {
        return bn4.call(Tensor({2, 2, 3, 4}), {.mask = &mask, .training = true});
      },
      {"'bn4'", "rank 3"});
  const json renorm = {{"class_name", "BatchNormalization"}, {"config", {{"name", "bn"}, {"renorm", true}}}};
  expect_error([&] { return layer_from_config(renorm, "f.h5"); }, {"f.h5", "'bn'", "renorm"});
  const json axis = {{"class_name", "LayerNormalization"}, {"config", {{"name", "ln"}, {"axis", "last"}}}};
  expect_error([&] { return layer_from_config(axis, "f.h5"); }, {"f.h5", "'ln'", "axis"});
  const json rms = {{"class_name", "LayerNormalization"},
                    {"config", {{"name", "ln"}, {"rms_scaling", true}}}};
  expect_error([&] { return layer_from_config(rms, "f.h5"); }, {"f.h5", "'ln'", "rms_scaling"});
}

}  // namespace
}  // namespace rnnkit
