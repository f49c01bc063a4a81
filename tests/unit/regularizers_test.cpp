// Keras's L1, L2 and L1L2 regularizers: the penalty and its gradient by hand, a whole model's training
// gradient (penalties included) against finite differences of its evaluate loss, and the configs of every
// Keras era read, written and saved. The training steps themselves are checked against TensorFlow.js in
// fit_oracle_test.cpp (the reg_* cases of tests/train_fixtures/fit.json).
#include <gtest/gtest.h>

#include <cstdio>
#include <functional>

#include "rnnkit/rnnkit.h"
#include "test_support.h"

namespace rnnkit {
namespace {

using nlohmann::json;

TEST(Regularizers, PenaltyAndGradientByHand) {
  const std::vector<float> w = {1.0f, -2.0f, 0.0f, 0.5f};
  // Σ|w| = 3.5, Σw² = 5.25.
  EXPECT_DOUBLE_EQ(L1(0.1).penalty(w), 0.35);
  EXPECT_DOUBLE_EQ(L2(0.5).penalty(w), 2.625);
  EXPECT_DOUBLE_EQ(L1L2(0.1, 0.5).penalty(w), 2.975);
  // d/dw = l1·sign(w) + 2·l2·w, sign(0) = 0 as TensorFlow's; scaled and added to what is there.
  std::vector<float> grad = {10.0f, 10.0f, 10.0f, 10.0f};
  L1L2(0.1, 0.5).add_gradient(w, grad, 2.0);
  EXPECT_FLOAT_EQ(grad[0], 10.0f + 2.0f * (0.1f + 1.0f));
  EXPECT_FLOAT_EQ(grad[1], 10.0f + 2.0f * (-0.1f - 2.0f));
  EXPECT_FLOAT_EQ(grad[2], 10.0f);
  EXPECT_FLOAT_EQ(grad[3], 10.0f + 2.0f * (0.1f + 0.5f));
  // Keras's defaults: l1(0.01), l2(0.01), l1_l2(l1=0.01, l2=0.01).
  EXPECT_DOUBLE_EQ(L1().l1, 0.01);
  EXPECT_DOUBLE_EQ(L2().l2, 0.01);
  EXPECT_DOUBLE_EQ(L1L2().l1, 0.01);
  EXPECT_DOUBLE_EQ(L1L2().l2, 0.01);
}

// Dense(1, no bias) with kernel (1, 2)ᵀ, kernel L2(0.25), activity L1L2(0.1, 0.5), on x = [[1, 1], [2, -3]]
// and targets 0, mean squared error. By hand:
//   y = [3, -4]; data loss (9 + 16)/2 = 12.5; kernel penalty 0.25·(1 + 4) = 1.25;
//   activity penalty (0.1·(3 + 4) + 0.5·(9 + 16)) / 2 (the batch size) = 6.6; total 20.35.
//   dL/dy = 2y/2 + (0.1·sign(y) + 2·0.5·y)/2 = [3 + 1.55, -4 - 2.05] = [4.55, -6.05];
//   dL/dW = xᵀ dL/dy + 2·0.25·W = [4.55 - 12.1 + 0.5, 4.55 + 18.15 + 1.0] = [-7.05, 23.7];
//   SGD(0.01): W = [1.0705, 1.763].
Sequential hand_model() {
  Sequential model;
  model.add(Dense(1, {.use_bias = false,
                      .kernel_regularizer = L2(0.25),
                      .activity_regularizer = L1L2(0.1, 0.5),
                      .input_shape = Shape{2}}));
  model.layer(0).set_weights({Tensor({2, 1}, {1.0f, 2.0f})});
  model.compile({.loss = "mean_squared_error", .optimizer = SGD({.learning_rate = 0.01})});
  return model;
}

TEST(Regularizers, LossAndStepByHand) {
  const Tensor x({2, 2}, {1.0f, 1.0f, 2.0f, -3.0f}), y({2, 1}, {0.0f, 0.0f});
  std::ostringstream silent;
  Sequential evaluated = hand_model();
  // Keras's evaluate adds model.losses too (compiled_loss(..., regularization_losses=self.losses)).
  EXPECT_NEAR(evaluated.evaluate(x, y, {.batch_size = 2, .verbose = 0, .out = &silent}).at("loss"), 20.35,
              1e-4);
  EXPECT_NEAR(evaluated.regularization_loss(), 1.25 + 6.6, 1e-5);
  // One sample a batch: [15.05, 25.65] (the activity penalty divided by a batch of 1), weighted mean 20.35.
  EXPECT_NEAR(evaluated.evaluate(x, y, {.batch_size = 1, .verbose = 0, .out = &silent}).at("loss"), 20.35,
              1e-4);

  Sequential trained = hand_model();
  EXPECT_NEAR(trained.train_on_batch(x, y).at("loss"), 20.35, 1e-4);
  const Tensor kernel = trained.layer(0).get_weights()[0];
  EXPECT_NEAR(kernel[0], 1.0705, 1e-6);
  EXPECT_NEAR(kernel[1], 1.763, 1e-6);
}

Tensor away_from_zero(const Shape& shape, Rng& rng) {
  // |w| in [0.1, 0.8]: clear of the kink of |w| by far more than the finite-difference step.
  Tensor t(shape);
  for (float& v : t.values()) {
    const double size = rng.uniform(0.1, 0.8);
    v = static_cast<float>(rng.next() % 2 ? size : -size);
  }
  return t;
}

struct ModelCase {
  std::string name;
  std::function<Sequential()> make;  // built and compiled with SGD(1)
  Tensor x, y;
};

// train_on_batch's gradient (weights before minus after one SGD step of rate 1) against central differences
// of evaluate's loss, which holds the same data loss and penalties (no dropout here, so the training and
// inference passes agree). Step and tolerance as gradcheck_test.cpp.
void expect_gradient_matches_differences(const ModelCase& c) {
  SCOPED_TRACE(c.name);
  Sequential model = c.make();
  Rng rng(11);
  for (std::size_t i = 0; i < model.size(); ++i)
    for (Param* param : model.layer(i).params()) param->value = away_from_zero(param->value.shape(), rng);
  std::ostringstream silent;
  const auto loss = [&] {
    return model.evaluate(c.x, c.y, {.batch_size = c.x.dim(0), .verbose = 0, .out = &silent}).at("loss");
  };
  loss();
  // The penalties are a real part of the loss here, not a rounding error.
  EXPECT_GT(model.regularization_loss(), 0.1);
  const std::vector<Tensor> before = model.get_weights();
  model.train_on_batch(c.x, c.y);
  const std::vector<Tensor> after = model.get_weights();
  model.set_weights(before);

  std::vector<Param*> params;
  for (std::size_t i = 0; i < model.size(); ++i)
    for (Param* param : model.layer(i).params()) params.push_back(param);
  ASSERT_EQ(params.size(), before.size());
  constexpr float kStep = 1e-2f;
  for (std::size_t k = 0; k < params.size(); ++k) {
    Tensor& value = params[k]->value;
    const std::int64_t stride = std::max<std::int64_t>(1, value.size() / 40);
    for (std::int64_t i = 0; i < value.size(); i += stride) {
      const double numeric = rnnkit::testing::central_difference(value[i], kStep, loss);
      const double analytic = double(before[k][i]) - after[k][i];
      EXPECT_NEAR(analytic, numeric, 2e-3 + 1e-2 * std::abs(numeric)) << "weight " << k << " element " << i;
    }
  }
}

TEST(Regularizers, ModelGradientMatchesFiniteDifferences) {
  Rng data(3);
  const auto ids = [&](Shape shape, int below) {
    Tensor t(shape);
    for (float& v : t.values()) v = static_cast<float>(data.next() % std::uint64_t(below));
    return t;
  };
  const auto floats = [&](Shape shape) {
    Tensor t(shape);
    for (float& v : t.values()) v = static_cast<float>(data.uniform(-1, 1));
    return t;
  };
  const auto one_hot = [&](std::int64_t rows, std::int64_t classes) {
    Tensor t({rows, classes});
    for (std::int64_t r = 0; r < rows; ++r) t[r * classes + std::int64_t(data.next() % classes)] = 1.0f;
    return t;
  };
  const auto compiled = [](Sequential model, const char* loss) {
    model.compile({.loss = loss, .optimizer = SGD({.learning_rate = 1.0})});
    return model;
  };
  const std::vector<ModelCase> cases = {
      {"embedding_lstm_time_distributed_dense_softmax",
       [&] {
         Sequential model;
         model.add(Embedding(
             6, 3, {.input_length = 4, .embeddings_regularizer = L2(0.1), .activity_regularizer = L2(0.2)}));
         model.add(LSTM(3, {.return_sequences = true,
                            .kernel_regularizer = L1(0.1),
                            .recurrent_regularizer = L2(0.2),
                            .bias_regularizer = L1L2(0.05, 0.1),
                            .activity_regularizer = L2(0.3)}));
         model.add(TimeDistributed(Dense(4, {.activation = "softmax",
                                             .kernel_regularizer = L2(0.1),
                                             .bias_regularizer = L1(0.05),
                                             .activity_regularizer = L2(0.5)})));
         model.build({kNone, 4});
         return compiled(std::move(model), "sparse_categorical_crossentropy");
       },
       ids({3, 4}, 6), ids({3, 4}, 4)},
      // The final Dense(softmax) takes the fused logits path, where its activity gradient must go back
      // through the softmax.
      {"bidirectional_gru_dense_softmax",
       [&] {
         Sequential model;
         model.add(Bidirectional(GRU(3, {.kernel_regularizer = L2(0.1),
                                         .recurrent_regularizer = L1(0.1),
                                         .bias_regularizer = L1L2(0.05, 0.05),
                                         .activity_regularizer = L2(0.3),
                                         .input_shape = Shape{4, 2}})));
         model.add(Dense(
             3, {.activation = "softmax", .kernel_regularizer = L1(0.1), .activity_regularizer = L2(0.5)}));
         model.build({kNone, 4, 2});
         return compiled(std::move(model), "categorical_crossentropy");
       },
       floats({3, 4, 2}), one_hot(3, 3)},
      {"simple_rnn_dense_sigmoid",
       [&] {
         Sequential model;
         model.add(SimpleRNN(3, {.kernel_regularizer = L1L2(0.05, 0.1),
                                 .activity_regularizer = L2(0.4),
                                 .input_shape = Shape{4, 2}}));
         model.add(Dense(
             1, {.activation = "sigmoid", .bias_regularizer = L2(0.3), .activity_regularizer = L2(1.0)}));
         model.build({kNone, 4, 2});
         return compiled(std::move(model), "binary_crossentropy");
       },
       floats({3, 4, 2}), ids({3, 1}, 2)},
  };
  for (const ModelCase& c : cases) expect_gradient_matches_differences(c);
}

// What each era writes for a regularizer, read and written back as it came (older tf.keras wrote L1L2 for
// every regularizer, Keras 1 a "name" beside the factors).
TEST(Regularizers, ConfigsOfEveryEra) {
  const json tf2_l2 = {{"class_name", "L2"}, {"config", {{"l2", 0.009999999776482582}}}};
  const json tf2_l1 = {{"class_name", "L1"}, {"config", {{"l1", 0.02}}}};
  const json old_l1l2 = {{"class_name", "L1L2"}, {"config", {{"l1", 0.0}, {"l2", 0.03}}}};
  const json lstm = {{"class_name", "LSTM"},
                     {"config",
                      {{"name", "enc"},
                       {"units", 2},
                       {"kernel_regularizer", tf2_l2},
                       {"recurrent_regularizer", tf2_l1},
                       {"bias_regularizer", old_l1l2},
                       {"activity_regularizer", nullptr}}}};
  const json written = layer_from_config(lstm, "here")->config();
  EXPECT_EQ(written.at("kernel_regularizer"), tf2_l2);
  EXPECT_EQ(written.at("recurrent_regularizer"), tf2_l1);
  EXPECT_EQ(written.at("bias_regularizer"), old_l1l2);
  EXPECT_TRUE(written.at("activity_regularizer").is_null());

  // Keras 3 wraps each in module / registered_name; Keras's shortcut names give the defaults (tf.keras 2.10+
  // reads "l1_l2" as L1L2(0.01, 0.01)).
  const json keras3_l2 = {{"module", "keras.regularizers"},
                          {"class_name", "L2"},
                          {"config", {{"l2", 0.05}}},
                          {"registered_name", nullptr}};
  const json dense = {{"class_name", "Dense"},
                      {"config",
                       {{"name", "out"},
                        {"units", 2},
                        {"kernel_regularizer", keras3_l2},
                        {"bias_regularizer", "l1"},
                        {"activity_regularizer", "l1_l2"}}}};
  const json dense_written = layer_from_config(dense, "here")->config();
  EXPECT_EQ(dense_written.at("kernel_regularizer"), (json{{"class_name", "L2"}, {"config", {{"l2", 0.05}}}}));
  EXPECT_EQ(dense_written.at("bias_regularizer"), (json{{"class_name", "L1"}, {"config", {{"l1", 0.01}}}}));
  EXPECT_EQ(dense_written.at("activity_regularizer"),
            (json{{"class_name", "L1L2"}, {"config", {{"l1", 0.01}, {"l2", 0.01}}}}));

  const json keras1 = {
      {"class_name", "Embedding"},
      {"config",
       {{"name", "emb"},
        {"input_dim", 5},
        {"output_dim", 2},
        {"embeddings_regularizer", {{"name", "L1L2Regularizer"}, {"l1", 0.0}, {"l2", 0.5}}}}}};
  std::unique_ptr<Layer> embedding = layer_from_config(keras1, "here");
  Rng rng;
  embedding->build({kNone, 3}, rng);
  embedding->set_weights({Tensor({5, 2}, std::vector<float>(10, 1.0f))});
  EXPECT_DOUBLE_EQ(embedding->regularization_loss(), 0.5 * 10);
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

// A model's regularizers survive .h5 and .keras files, and the Keras 3 archive writes them as Keras 3 does.
TEST(Regularizers, SavedFilesKeepThem) {
  const testing::TempFolder folder;
  Sequential model;
  model.add(Embedding(7, 3, {.input_length = 4, .embeddings_regularizer = L2(0.01)}));
  model.add(Bidirectional(LSTM(2, {.kernel_regularizer = L1(0.02), .activity_regularizer = L1L2(0.0, 0.3)})));
  model.add(Dense(1, {.activation = "sigmoid", .bias_regularizer = L2(0.1)}));
  model.build({kNone, 4});
  for (const char* file : {"m.h5", "m.keras"}) {
    SCOPED_TRACE(file);
    save_model(model, folder.path() / file);
    Sequential loaded = load_model(folder.path() / file);
    EXPECT_EQ(loaded.config(), model.config());
    EXPECT_DOUBLE_EQ(loaded.regularization_loss(), model.regularization_loss());
  }
  const std::string output = python_output(
      "import sys, json, zipfile\n"
      "layers = json.loads(zipfile.ZipFile(sys.argv[1]).read('config.json'))['config']['layers']\n"
      "print(json.dumps(layers[1]['config']['embeddings_regularizer'], sort_keys=True))\n"
      "print(json.dumps(layers[2]['config']['layer']['config']['kernel_regularizer'], sort_keys=True))\n"
      "print(json.dumps(layers[2]['config']['backward_layer']['config']['activity_regularizer'], "
      "sort_keys=True))\n",
      (folder.path() / "m.keras").string());
  EXPECT_EQ(output,
            "{\"class_name\": \"L2\", \"config\": {\"l2\": 0.01}, \"module\": \"keras.regularizers\", "
            "\"registered_name\": null}\n"
            "{\"class_name\": \"L1\", \"config\": {\"l1\": 0.02}, \"module\": \"keras.regularizers\", "
            "\"registered_name\": null}\n"
            "{\"class_name\": \"L1L2\", \"config\": {\"l1\": 0.0, \"l2\": 0.3}, \"module\": "
            "\"keras.regularizers\", "
            "\"registered_name\": null}\n");
}

}  // namespace
}  // namespace rnnkit
