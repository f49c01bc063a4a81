// Stateful training, as Keras's fit with stateful=True and shuffle=False: each batch starts from the state
// the previous batch ended in (computed with the weights of that step, before its update), no gradient
// flows into the previous batch, fit does not reset the state between epochs, and reset_states() does.
// The references: a hand-written training loop over the layers themselves, the carried state fed explicitly
// as initial_state (and detached: its gradient is dropped), with plain SGD written out; and PyTorch.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "rnnkit/rnnkit.h"
#include "test_support.h"

namespace rnnkit {
namespace {

using rnnkit::testing::all_close;

constexpr std::int64_t kBatch = 2, kSteps = 3, kFeatures = 2, kUnits = 4, kSamples = 4;
constexpr double kLearningRate = 0.1;

Tensor random_tensor(const Shape& shape, std::uint64_t seed) {
  Rng rng(seed);
  Tensor t(shape);
  for (float& v : t.values()) v = static_cast<float>(rng.uniform(-1.0, 1.0));
  return t;
}

Tensor rows(const Tensor& t, std::int64_t begin, std::int64_t count) {
  Shape shape = t.shape();
  const std::int64_t width = t.size() / shape[0];
  shape[0] = count;
  return Tensor(shape, std::vector<float>(t.data() + begin * width, t.data() + (begin + count) * width));
}

Sequential stateful_model() {
  clear_session();
  Sequential model({.seed = 11});
  model.add(LSTM(kUnits, {.stateful = true, .batch_input_shape = Shape{kBatch, kSteps, kFeatures}}));
  model.add(Dense(1));
  model.compile({.loss = "mse", .optimizer = SGD({.learning_rate = kLearningRate})});
  return model;
}

// The same network as loose layers, trained batch by batch with the state passed by hand.
struct Reference {
  LSTM lstm{kUnits, {.return_state = true}};
  Dense dense{1};
  std::vector<Tensor> state{Tensor({kBatch, kUnits}), Tensor({kBatch, kUnits})};  // h, c

  explicit Reference(const std::vector<Tensor>& weights) {
    Rng rng(0);
    lstm.build({kBatch, kSteps, kFeatures}, rng);
    dense.build({kBatch, kUnits}, rng);
    lstm.set_weights({weights[0], weights[1], weights[2]});
    dense.set_weights({weights[3], weights[4]});
  }

  // One SGD step on (x, y); `carry` false starts from zeros as a stateless layer would.
  double train(const Tensor& x, const Tensor& y, bool carry) {
    const std::vector<Tensor> start =
        carry ? state : std::vector<Tensor>{Tensor({kBatch, kUnits}), Tensor({kBatch, kUnits})};
    const std::vector<Tensor> outputs = lstm.call(x, {.initial_state = start, .training = true});
    state = {outputs[1], outputs[2]};  // from this step's weights, before the update
    const Tensor prediction = dense.call(outputs[0], {.training = true})[0];
    const LossResult loss = Loss("mse").compute(prediction, y);
    lstm.zero_grads();
    dense.zero_grads();
    const Tensor hidden_grad = dense.backward({loss.gradient}).input;
    lstm.backward({hidden_grad, Tensor(), Tensor()});  // the initial state's gradient is dropped: detached
    for (Layer* layer : {static_cast<Layer*>(&lstm), static_cast<Layer*>(&dense)})
      for (Param* param : layer->params())
        for (std::int64_t i = 0; i < param->value.size(); ++i)
          param->value[i] -= static_cast<float>(kLearningRate * param->grad[i]);
    return loss.value;
  }

  std::vector<Tensor> weights() const {
    std::vector<Tensor> all = lstm.get_weights();
    for (Tensor& w : dense.get_weights()) all.push_back(std::move(w));
    return all;
  }
};

::testing::AssertionResult same_weights(const std::vector<Tensor>& actual,
                                        const std::vector<Tensor>& expected, double atol) {
  if (actual.size() != expected.size()) return ::testing::AssertionFailure() << "weight counts differ";
  for (std::size_t k = 0; k < actual.size(); ++k) {
    ::testing::AssertionResult close = all_close(actual[k], expected[k], atol, 1e-5);
    if (!close) return close << " (weight " << k << ")";
  }
  return ::testing::AssertionSuccess();
}

TEST(StatefulTraining, FitCarriesTheStateAcrossBatchesAndEpochsWithoutBackpropagatingIntoIt) {
  Sequential model = stateful_model();
  const std::vector<Tensor> start = model.get_weights();
  const Tensor x = random_tensor({kSamples, kSteps, kFeatures}, 1), y = random_tensor({kSamples, 1}, 2);

  const History history =
      model.fit(x, y, {.epochs = 2, .batch_size = kBatch, .verbose = 0, .shuffle = false});

  Reference carried(start), stateless(start);
  std::vector<double> epoch_losses;
  for (int epoch = 0; epoch < 2; ++epoch) {
    double total = 0.0;
    for (std::int64_t b = 0; b < kSamples / kBatch; ++b) {
      total += carried.train(rows(x, b * kBatch, kBatch), rows(y, b * kBatch, kBatch), true);
      stateless.train(rows(x, b * kBatch, kBatch), rows(y, b * kBatch, kBatch), false);
    }
    epoch_losses.push_back(total / static_cast<double>(kSamples / kBatch));
  }
  EXPECT_TRUE(same_weights(model.get_weights(), carried.weights(), 1e-6));
  ASSERT_EQ(history.history.at("loss").size(), 2u);
  EXPECT_NEAR(history.history.at("loss")[0], epoch_losses[0], 1e-6);
  EXPECT_NEAR(history.history.at("loss")[1], epoch_losses[1], 1e-6);
  // The carried state matters: training from zeros every batch ends elsewhere.
  EXPECT_FALSE(same_weights(model.get_weights(), stateless.weights(), 1e-4));
}

TEST(StatefulTraining, ResetStatesStartsAgainFromZeros) {
  Sequential model = stateful_model();
  const Tensor x = random_tensor({kSamples, kSteps, kFeatures}, 3), y = random_tensor({kSamples, 1}, 4);
  model.fit(x, y, {.epochs = 1, .batch_size = kBatch, .verbose = 0, .shuffle = false});

  // A stateless copy of the trained weights gives what a fresh state gives.
  Reference fresh(model.get_weights());
  const Tensor first = rows(x, 0, kBatch);
  const std::vector<Tensor> outputs =
      fresh.lstm.call(first, {.initial_state = {Tensor({kBatch, kUnits}), Tensor({kBatch, kUnits})}});
  const Tensor from_zeros = fresh.dense.call(outputs[0])[0];

  const Tensor carried = model(first);  // goes on from the state training ended in
  EXPECT_FALSE(all_close(carried, from_zeros, 1e-4, 0.0));
  model.reset_states();
  EXPECT_TRUE(all_close(model(first), from_zeros, 1e-6, 1e-5));
}

// The second reference: PyTorch's LSTM trained with the state carried and detached between batches
// (tests/train_fixtures/make_stateful_fixtures.py), three batches an epoch for two epochs.
TEST(StatefulTraining, FitMatchesPyTorchWithTheStateCarriedAndDetached) {
  const nlohmann::json fixture = testing::read_json(testing::test_data("train_fixtures/stateful_fit.json"));
  const auto tensors = [&](const char* key) {
    std::vector<Tensor> all;
    for (const auto& item : fixture.at(key)) all.push_back(testing::tensor_from_json(item));
    return all;
  };
  clear_session();
  Sequential model;
  model.add(LSTM(kUnits, {.stateful = true, .batch_input_shape = Shape{kBatch, kSteps, kFeatures}}));
  model.add(Dense(1));
  model.compile(
      {.loss = "mse", .optimizer = SGD({.learning_rate = fixture.at("learning_rate").get<double>()})});
  model.set_weights(tensors("initial_weights"));
  const Tensor x = testing::tensor_from_json(fixture.at("x")), y = testing::tensor_from_json(fixture.at("y"));

  const History history = model.fit(x, y,
                                    {.epochs = fixture.at("epochs").get<int>(),
                                     .batch_size = fixture.at("batch_size").get<std::int64_t>(),
                                     .verbose = 0,
                                     .shuffle = false});

  EXPECT_TRUE(same_weights(model.get_weights(), tensors("final_weights"), 1e-5));
  const auto expected_losses = fixture.at("epoch_losses").get<std::vector<double>>();
  ASSERT_EQ(history.history.at("loss").size(), expected_losses.size());
  for (std::size_t epoch = 0; epoch < expected_losses.size(); ++epoch)
    EXPECT_NEAR(history.history.at("loss")[epoch], expected_losses[epoch], 1e-6);
  // Prediction goes on from the state training ended in, until reset_states().
  const Tensor first = rows(x, 0, kBatch);
  EXPECT_TRUE(
      all_close(model(first), testing::tensor_from_json(fixture.at("next_prediction_carried")), 1e-6));
  model.reset_states();
  EXPECT_TRUE(
      all_close(model(first), testing::tensor_from_json(fixture.at("next_prediction_from_zeros")), 1e-6));
}

// As in Keras, the fixed batch size is part of the input shape: a short last batch is refused by shape.
TEST(StatefulTraining, BatchOfAnotherSizeIsAnErrorNamingBothShapes) {
  Sequential model = stateful_model();
  const Tensor x = random_tensor({3, kSteps, kFeatures}, 5), y = random_tensor({3, 1}, 6);
  try {
    model.fit(x, y, {.epochs = 1, .batch_size = kBatch, .verbose = 0, .shuffle = false});
    FAIL() << "no error";
  } catch (const Error& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find("(2, 3, 2)"), std::string::npos) << message;
    EXPECT_NE(message.find("(1, 3, 2)"), std::string::npos) << message;
  }
}

// The data is refused before any batch trains, with the batch that would not fit: a short last batch, a
// batch_size other than the fixed one, or a validation split that leaves one.
TEST(StatefulTraining, DataThatGivesABatchOfAnotherSizeIsRefusedBeforeTraining) {
  Sequential model = stateful_model();
  const Tensor weights_before = model.layer(0).params()[0]->value;
  auto message = [&](std::int64_t samples, std::int64_t batch_size, double validation_split) {
    const Tensor x = random_tensor({samples, kSteps, kFeatures}, 5), y = random_tensor({samples, 1}, 6);
    try {
      model.fit(x, y,
                {.epochs = 1,
                 .batch_size = batch_size,
                 .verbose = 0,
                 .shuffle = false,
                 .validation_split = validation_split});
    } catch (const Error& error) {
      return std::string(error.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message(5, kBatch, 0.0)
                .find("the model takes batches of exactly 2 (its input shape is (2, 3, 2), as a "
                      "stateful RNN needs), but 5 training samples in batches of 2 give a batch "
                      "of shape (1, 3, 2). Use batch_size 2 and a multiple of 2 samples"),
            std::string::npos)
      << message(5, kBatch, 0.0);
  EXPECT_NE(message(4, 4, 0.0).find("4 training samples in batches of 4 give a batch of shape (4, 3, 2)"),
            std::string::npos)
      << message(4, 4, 0.0);
  EXPECT_NE(message(6, kBatch, 0.5).find("3 training samples in batches of 2"), std::string::npos)
      << message(6, kBatch, 0.5);
  EXPECT_NE(
      message(5, kBatch, 0.2).find("1 validation sample in batches of 2 give a batch of shape (1, 3, 2)"),
      std::string::npos)
      << message(5, kBatch, 0.2);
  for (std::int64_t i = 0; i < weights_before.size(); ++i)
    ASSERT_EQ(model.layer(0).params()[0]->value[i], weights_before[i]) << "a refused fit trained";
  EXPECT_EQ(message(4, kBatch, 0.5), "no error");
  EXPECT_NE(model.layer(0).params()[0]->value[0], weights_before[0]);
}

// Where the data does not say how many samples it has up front (a Dataset) or is not trained on (evaluate,
// predict, validation_data), the batch of another size is refused as clearly, before it runs.
class TwoBatches : public Dataset {
 public:
  TwoBatches(std::int64_t first, std::int64_t second) : sizes_{first, second} {}
  std::int64_t batch_count() const override { return 2; }
  void start_epoch(Rng& /*rng*/, bool /*shuffle*/) override {}
  std::pair<Tensor, Tensor> batch(std::int64_t index) override {
    const std::int64_t size = sizes_[static_cast<std::size_t>(index)];
    return {random_tensor({size, kSteps, kFeatures}, 7), random_tensor({size, 1}, 8)};
  }

 private:
  std::vector<std::int64_t> sizes_;
};

std::string error_of(const std::function<void()>& call) {
  try {
    call();
  } catch (const Error& error) {
    return error.what();
  }
  return "no error";
}

TEST(StatefulTraining, EveryWayInRefusesABatchOfAnotherSizeNamingIt) {
  Sequential model = stateful_model();
  const std::string takes =
      "the model takes batches of exactly 2 (its input shape is (2, 3, 2), as a stateful RNN needs), but ";
  const Tensor x3 = random_tensor({3, kSteps, kFeatures}, 5), y3 = random_tensor({3, 1}, 6);
  const Tensor x4 = random_tensor({4, kSteps, kFeatures}, 5), y4 = random_tensor({4, 1}, 6);

  TwoBatches short_second(kBatch, 1);
  std::string message = error_of([&] { model.fit(short_second, {.epochs = 1, .verbose = 0}); });
  EXPECT_NE(message.find("batch 1 of epoch 1: " + takes + "this batch has shape (1, 3, 2)"),
            std::string::npos)
      << message;
  message = error_of([&] { model.evaluate(short_second, {.verbose = 0}); });
  EXPECT_NE(message.find("batch 1: " + takes + "this batch has shape (1, 3, 2)"), std::string::npos)
      << message;

  const Tensor weights_before = model.layer(0).params()[0]->value;
  message = error_of([&] {
    model.fit(x4, y4, {.epochs = 1, .batch_size = kBatch, .verbose = 0, .validation_data = {{x3, y3}}});
  });
  EXPECT_NE(message.find(takes + "3 validation samples in batches of 2 give a batch of shape (1, 3, 2)"),
            std::string::npos)
      << message;
  for (std::int64_t i = 0; i < weights_before.size(); ++i)
    ASSERT_EQ(model.layer(0).params()[0]->value[i], weights_before[i]) << "a refused fit trained";

  message = error_of([&] { model.evaluate(x3, y3, {.batch_size = kBatch, .verbose = 0}); });
  EXPECT_NE(message.find(takes + "3 samples in batches of 2 give a batch of shape (1, 3, 2)"),
            std::string::npos)
      << message;
  message = error_of([&] { model.predict(x4, 4); });
  EXPECT_NE(message.find(takes + "4 samples in batches of 4 give a batch of shape (4, 3, 2)"),
            std::string::npos)
      << message;

  // Fewer samples than batch_size make one batch, which fits when it has the fixed size (as in Keras).
  EXPECT_EQ(error_of([&] { model.predict(rows(x4, 0, 2)); }), "no error");
  EXPECT_EQ(error_of([&] {
              model.fit(rows(x4, 0, 2), rows(y4, 0, 2), {.epochs = 1, .batch_size = 32, .verbose = 0});
            }),
            "no error");
  EXPECT_EQ(
      error_of([&] {
        model.fit(x4, y4, {.epochs = 1, .batch_size = kBatch, .verbose = 0, .validation_data = {{x4, y4}}});
      }),
      "no error");
}

}  // namespace
}  // namespace rnnkit
