// Keras's MaxNorm, NonNeg, UnitNorm and MinMaxNorm: the projections by hand, applied after each optimizer
// step (and never at set_weights), through the wrappers, and their configs read, written and saved.
// (TensorFlow.js cannot be the oracle here: its optimizers update the variables without its constraints.)
#include <gtest/gtest.h>

#include <cstdio>

#include "rnnkit/rnnkit.h"
#include "test_support.h"

namespace rnnkit {
namespace {

using nlohmann::json;

void expect_values(const Tensor& actual, const std::vector<double>& expected, double tolerance = 1e-6) {
  ASSERT_EQ(actual.size(), static_cast<std::int64_t>(expected.size()));
  for (std::size_t i = 0; i < expected.size(); ++i)
    EXPECT_NEAR(actual[static_cast<std::int64_t>(i)], expected[i], tolerance) << "value " << i;
}

TEST(Constraints, ProjectionsByHand) {
  // A kernel (F=2, U=2): column norms 5 and 0.5, row norms sqrt(9.09) and sqrt(16.16).
  const Tensor kernel({2, 2}, {3.0f, 0.3f, 4.0f, 0.4f});
  Tensor w = kernel;
  MaxNorm(2.0).apply(w);  // column 0: × 2/5; column 1 (norm 0.5 < 2): × 0.5/(0.5 + 1e-7)
  expect_values(w, {1.2, 0.3, 1.6, 0.4});
  w = kernel;
  MaxNorm(2.0, 1).apply(w);  // one norm per row
  expect_values(w, {3.0 * 2 / std::sqrt(9.09), 0.3 * 2 / std::sqrt(9.09), 4.0 * 2 / std::sqrt(16.16),
                    0.4 * 2 / std::sqrt(16.16)});
  w = kernel;
  UnitNorm().apply(w);
  expect_values(w, {0.6, 0.6, 0.8, 0.8});
  w = kernel;
  // rate 0.5 between the norm and its clip to [1, 2]: column 0 to 0.5·2 + 0.5·5 = 3.5 (× 0.7), column 1 to
  // 0.5·1 + 0.5·0.5 = 0.75 (× 1.5).
  MinMaxNorm(1.0, 2.0, 0.5).apply(w);
  expect_values(w, {2.1, 0.45, 2.8, 0.6});
  Tensor bias({3}, {-1.0f, 0.0f, 2.0f});
  NonNeg().apply(bias);
  expect_values(bias, {0.0, 0.0, 2.0});
  Tensor vector({2}, {3.0f, 4.0f});  // a 1-D weight: one norm over the whole of it
  MaxNorm(1.0).apply(vector);
  expect_values(vector, {0.6, 0.8});
  const auto all_axes =
      constraint_from_config(json{{"class_name", "UnitNorm"}, {"config", {{"axis", {0, 1}}}}}, "t");
  w = kernel;
  all_axes->apply(w);
  const double norm = std::sqrt(9.0 + 0.09 + 16.0 + 0.16);
  expect_values(w, {3.0 / norm, 0.3 / norm, 4.0 / norm, 0.4 / norm});
}

// Dense(1) with kernel (0.6, 0.8)ᵀ under MaxNorm(1) and bias 0.5 under NonNeg; x = [[1, 1]], y = [[-10]],
// mean squared error, SGD(0.1). By hand: y_pred = 1.9, dL/dy = 2·11.9 = 23.8 = dL/db = each dL/dW; W = (0.6
// - 2.38, 0.8 - 2.38) = (-1.78, -1.58), norm 2.380084, so W = (-0.7478727, -0.6638421); b = 0.5 - 2.38 < 0,
// so b = 0.
TEST(Constraints, AppliedAfterEachStepNotAtSetWeights) {
  Sequential model;
  model.add(
      Dense(1, {.kernel_constraint = MaxNorm(1.0), .bias_constraint = NonNeg(), .input_shape = Shape{2}}));
  model.layer(0).set_weights({Tensor({2, 1}, {0.6f, 0.8f}), Tensor({1}, {0.5f})});
  model.compile({.loss = "mean_squared_error", .optimizer = SGD({.learning_rate = 0.1})});
  model.train_on_batch(Tensor({1, 2}, {1.0f, 1.0f}), Tensor({1, 1}, {-10.0f}));
  const std::vector<Tensor> weights = model.layer(0).get_weights();
  expect_values(weights[0], {-0.7478727, -0.6638421});
  expect_values(weights[1], {0.0});
  // Keras constrains only in the optimizer: weights set from outside stay as given.
  model.layer(0).set_weights({Tensor({2, 1}, {3.0f, 4.0f}), Tensor({1}, {-1.0f})});
  expect_values(model.layer(0).get_weights()[0], {3.0, 4.0});
  expect_values(model.layer(0).get_weights()[1], {-1.0});
}

// Through Bidirectional and TimeDistributed: one step from the same weights with and without NonNeg on every
// weight; the constrained step's weights are the unconstrained step's with the negative values zeroed.
TEST(Constraints, WrappedLayersAreConstrainedToo) {
  const auto make = [](bool constrained) {
    const std::optional<Constraint> c = constrained ? std::optional<Constraint>(NonNeg()) : std::nullopt;
    clear_session();
    Sequential model({.seed = 4});
    model.add(Bidirectional(LSTM(3, {.return_sequences = true,
                                     .kernel_constraint = c,
                                     .recurrent_constraint = c,
                                     .bias_constraint = c,
                                     .input_shape = Shape{4, 2}})));
    model.add(TimeDistributed(Dense(2, {.kernel_constraint = c, .bias_constraint = c})));
    model.build({kNone, 4, 2});
    model.compile({.loss = "mean_squared_error", .optimizer = SGD({.learning_rate = 0.5})});
    return model;
  };
  Sequential plain = make(false), constrained = make(true);
  constrained.set_weights(plain.get_weights());
  Rng rng(2);
  Tensor x({3, 4, 2}), y({3, 4, 2});
  for (float& v : x.values()) v = static_cast<float>(rng.uniform(-1, 1));
  for (float& v : y.values()) v = static_cast<float>(rng.uniform(-1, 1));
  plain.train_on_batch(x, y);
  constrained.train_on_batch(x, y);
  const std::vector<Tensor> expected = plain.get_weights(), actual = constrained.get_weights();
  ASSERT_EQ(actual.size(), 8u);  // 3 + 3 LSTM weights, Dense kernel and bias
  std::int64_t zeroed = 0;
  for (std::size_t k = 0; k < actual.size(); ++k)
    for (std::int64_t i = 0; i < actual[k].size(); ++i) {
      zeroed += expected[k][i] < 0.0f;
      EXPECT_EQ(actual[k][i], std::max(expected[k][i], 0.0f)) << "weight " << k << " value " << i;
    }
  EXPECT_GT(zeroed, 20);  // the constraint had work to do
}

TEST(Constraints, ConfigsOfEveryEra) {
  const json max_norm = {{"class_name", "MaxNorm"}, {"config", {{"max_value", 3.0}, {"axis", 0}}}};
  const json min_max = {{"class_name", "MinMaxNorm"},
                        {"config", {{"min_value", 0.5}, {"max_value", 1.5}, {"rate", 0.25}, {"axis", {0}}}}};
  const json lstm = {{"class_name", "LSTM"},
                     {"config",
                      {{"name", "enc"},
                       {"units", 2},
                       {"kernel_constraint", max_norm},
                       {"recurrent_constraint", min_max},
                       {"bias_constraint",
                        {{"module", "keras.constraints"},
                         {"class_name", "NonNeg"},
                         {"config", json::object()},
                         {"registered_name", nullptr}}}}}};
  const json written = layer_from_config(lstm, "here")->config();
  EXPECT_EQ(written.at("kernel_constraint"), max_norm);
  EXPECT_EQ(written.at("recurrent_constraint"), min_max);  // axis stays a list
  EXPECT_EQ(written.at("bias_constraint"), (json{{"class_name", "NonNeg"}, {"config", json::object()}}));
  const json dense = {
      {"class_name", "Dense"},
      {"config",
       {{"name", "out"}, {"units", 2}, {"kernel_constraint", "unit_norm"}, {"bias_constraint", "maxnorm"}}}};
  const json dense_written = layer_from_config(dense, "here")->config();
  EXPECT_EQ(dense_written.at("kernel_constraint"),
            (json{{"class_name", "UnitNorm"}, {"config", {{"axis", 0}}}}));
  EXPECT_EQ(dense_written.at("bias_constraint"),
            (json{{"class_name", "MaxNorm"}, {"config", {{"max_value", 2.0}, {"axis", 0}}}}));
}

std::string python_output(const std::string& script, const std::string& argument) {
  const std::string command = "/usr/bin/python3 -c \"" + script + "\" '" + argument + "' 2>&1";
  std::string output;
  FILE* pipe = popen(command.c_str(), "r");
  if (!pipe) return "popen failed";
  char buffer[4096];
  while (std::fgets(buffer, sizeof buffer, pipe)) output += buffer;
  pclose(pipe);
  return output;
}

TEST(Constraints, SavedFilesKeepThem) {
  const testing::TempFolder folder;
  Sequential model;
  model.add(Embedding(7, 3, {.input_length = 4, .embeddings_constraint = UnitNorm(1)}));
  model.add(GRU(2, {.kernel_constraint = MinMaxNorm(0.1, 0.9, 0.5)}));
  model.add(Dense(1, {.bias_constraint = NonNeg()}));
  model.build({kNone, 4});
  for (const char* file : {"m.h5", "m.keras"}) {
    SCOPED_TRACE(file);
    save_model(model, folder.path() / file);
    EXPECT_EQ(load_model(folder.path() / file).config(), model.config());
  }
  const std::string output = python_output(
      "import sys, json, zipfile\n"
      "layers = json.loads(zipfile.ZipFile(sys.argv[1]).read('config.json'))['config']['layers']\n"
      "print(json.dumps(layers[1]['config']['embeddings_constraint'], sort_keys=True))\n"
      "print(json.dumps(layers[3]['config']['bias_constraint'], sort_keys=True))\n",
      (folder.path() / "m.keras").string());
  EXPECT_EQ(output,
            "{\"class_name\": \"UnitNorm\", \"config\": {\"axis\": 1}, \"module\": \"keras.constraints\", "
            "\"registered_name\": null}\n"
            "{\"class_name\": \"NonNeg\", \"config\": {}, \"module\": \"keras.constraints\", "
            "\"registered_name\": null}\n");
}

}  // namespace
}  // namespace rnnkit
