// fit / evaluate / callbacks / progress, end to end on the Korean tutorial's word-level RNN language model.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <csignal>
#include <fstream>
#include <sstream>

#include "rnnkit/rnnkit.h"
#include "test_support.h"
#include "train/progress.h"

namespace rnnkit {
namespace {

// 경마장에 있는 말이 뛰고 있다 / 그의 말이 법이다 / 가는 말이 고와야 오는 말이 곱다, as Keras's Tokenizer
// numbers them (말이 1, 경마장에 2, 있는 3, 뛰고 4, 있다 5, 그의 6, 법이다 7, 가는 8, 고와야 9, 오는 10, 곱다
// 11); every prefix of two or more words, padded 'pre' to 6: the first 5 ids are the input, the last the
// target.
struct TutorialData {
  Tensor x;  // (11, 5) token ids
  Tensor y;  // (11, 12) one-hot next word
};

TutorialData tutorial_data() {
  const std::vector<std::vector<int>> lines = {{2, 3, 1, 4, 5}, {6, 1, 7}, {8, 1, 9, 10, 1, 11}};
  std::vector<std::vector<int>> sequences;
  for (const auto& line : lines)
    for (std::size_t end = 2; end <= line.size(); ++end) {
      std::vector<int> padded(6 - end, 0);
      padded.insert(padded.end(), line.begin(), line.begin() + long(end));
      sequences.push_back(padded);
    }
  const auto samples = static_cast<std::int64_t>(sequences.size());
  TutorialData data{Tensor({samples, 5}), Tensor({samples, 12})};
  for (std::int64_t i = 0; i < samples; ++i) {
    for (std::int64_t t = 0; t < 5; ++t) data.x.at({i, t}) = float(sequences[std::size_t(i)][std::size_t(t)]);
    data.y.at({i, sequences[std::size_t(i)][5]}) = 1.0f;
  }
  return data;
}

template <class Cell>
Sequential tutorial_model(std::int64_t units, std::uint64_t seed = 1) {
  Sequential model({.seed = seed});
  model.add(Embedding(12, 10));
  model.add(Cell(units));
  model.add(Dense(12, {.activation = "softmax"}));
  model.compile({.loss = "categorical_crossentropy", .optimizer = Adam(), .metrics = {"accuracy"}});
  return model;
}

TEST(Training, TutorialSimpleRnnLanguageModelLearnsItsSentences) {
  const TutorialData data = tutorial_data();
  ASSERT_EQ(data.x.dim(0), 11);
  Sequential model = tutorial_model<SimpleRNN>(32);
  const History history = model.fit(data.x, data.y, {.epochs = 200, .verbose = 0});
  ASSERT_EQ(history.history.at("accuracy").size(), 200u);
  EXPECT_GE(history.history.at("accuracy").back(), 0.9);
  EXPECT_LT(history.history.at("loss").back(), history.history.at("loss").front());
  const double accuracy = model.evaluate(data.x, data.y, {.verbose = 0}).at("accuracy");
  EXPECT_GE(accuracy, 0.9);
  std::cout << "tutorial SimpleRNN(32), 200 epochs: accuracy " << accuracy << "\n";
}

TEST(Training, TutorialLstmLanguageModelLearnsItsSentences) {
  const TutorialData data = tutorial_data();
  Sequential model = tutorial_model<LSTM>(128);
  const History history = model.fit(data.x, data.y, {.epochs = 200, .verbose = 0});
  EXPECT_GE(history.history.at("accuracy").back(), 0.9);
  std::cout << "tutorial LSTM(128), 200 epochs: accuracy " << history.history.at("accuracy").back() << "\n";
}

TEST(Training, SameSeedGivesTheSameWeightsBitForBit) {
  const TutorialData data = tutorial_data();
  Sequential first = tutorial_model<GRU>(8, 7), second = tutorial_model<GRU>(8, 7);
  first.fit(data.x, data.y, {.epochs = 3, .batch_size = 4, .verbose = 0});
  second.fit(data.x, data.y, {.epochs = 3, .batch_size = 4, .verbose = 0});
  const std::vector<Tensor> a = first.get_weights(), b = second.get_weights();
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i)
    EXPECT_TRUE(std::equal(a[i].values().begin(), a[i].values().end(), b[i].values().begin()))
        << "weight " << i;
  Sequential other = tutorial_model<GRU>(8, 8);
  EXPECT_FALSE(
      std::equal(a[0].values().begin(), a[0].values().end(), other.get_weights()[0].values().begin()));
}

TEST(Training, NanLossStopsWithTheEpochAndBatchAndKeepsTheLastGoodWeights) {
  TutorialData data = tutorial_data();
  data.y.at({6, 3}) = std::numeric_limits<float>::quiet_NaN();  // in the second batch of 4
  Sequential model = tutorial_model<SimpleRNN>(4);
  std::vector<Tensor> weights_after_first_batch;
  try {
    model.fit(data.x, data.y, {.epochs = 2, .batch_size = 4, .verbose = 0, .shuffle = false});
    FAIL() << "fit went on with a NaN loss";
  } catch (const Error& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find("Batch 1"), std::string::npos) << message;
    EXPECT_NE(message.find("epoch 1"), std::string::npos) << message;
  }
  for (const Tensor& weight : model.get_weights())
    for (float v : weight.values()) ASSERT_TRUE(std::isfinite(v));
  EXPECT_EQ(model.optimizer().iterations(), 1);  // only the first batch was applied
}

TEST(Training, ValidationSplitTakesTheLastSamplesAndEarlyStoppingStops) {
  const TutorialData data = tutorial_data();
  Sequential model = tutorial_model<SimpleRNN>(8);
  std::vector<int> epochs_seen;
  const History history =
      model.fit(data.x, data.y,
                {.epochs = 50,
                 .verbose = 0,
                 .validation_split = 0.3,
                 .callbacks = {EarlyStopping({.monitor = "val_loss", .patience = 2}),
                               LambdaCallback([&](int epoch, const Logs& logs) {
                                 epochs_seen.push_back(epoch);
                                 EXPECT_TRUE(logs.count("val_loss") && logs.count("val_accuracy"));
                               })}});
  // 11 samples: floor(11 · 0.7) = 7 train, 4 validation; the held-out last sentence's words are never
  // seen, so val_loss soon rises and patience 2 stops training long before 50 epochs.
  EXPECT_LT(epochs_seen.size(), 50u);
  EXPECT_EQ(history.history.at("val_loss").size(), epochs_seen.size());
}

TEST(Training, CsvLoggerAndCheckpointWriteFiles) {
  const TutorialData data = tutorial_data();
  const auto folder = std::filesystem::temp_directory_path() / "rnnkit_training_test";
  std::filesystem::create_directories(folder);
  clear_session();
  Sequential model = tutorial_model<SimpleRNN>(4);
  model.fit(data.x, data.y,
            {.epochs = 3,
             .verbose = 0,
             .callbacks = {CSVLogger(folder / "history.csv"),
                           ModelCheckpoint(folder / "weights_{epoch:02d}.npz", {.monitor = "loss"})}});
  std::ifstream csv(folder / "history.csv");
  std::string header, line;
  std::getline(csv, header);
  EXPECT_EQ(header, "epoch,accuracy,loss");
  int rows = 0;
  while (std::getline(csv, line)) ++rows;
  EXPECT_EQ(rows, 3);
  EXPECT_TRUE(std::filesystem::exists(folder / "weights_03.npz"));
  clear_session();  // the same layer names, which the weights file is keyed by
  Sequential reloaded = tutorial_model<SimpleRNN>(4, 99);
  load_weights_npz(reloaded, folder / "weights_03.npz");
  EXPECT_TRUE(testing::all_close(reloaded.predict(data.x), model.predict(data.x), 0.0, 0.0));
  std::filesystem::remove_all(folder);
}

TEST(Training, VerboseTwoPrintsKerasEpochLines) {
  const TutorialData data = tutorial_data();
  Sequential model = tutorial_model<SimpleRNN>(4);
  std::ostringstream out;
  model.fit(data.x, data.y, {.epochs = 2, .verbose = 2, .out = &out});
  std::istringstream lines(out.str());
  std::string line;
  std::getline(lines, line);
  EXPECT_EQ(line, "Epoch 1/2");
  std::getline(lines, line);
  // "1/1 - 0s - loss: 2.4861 - accuracy: 0.0909 - 5ms/epoch - 5ms/step": times vary, the form does not.
  EXPECT_TRUE(line.starts_with("1/1 - 0s - loss: ")) << line;
  EXPECT_NE(line.find(" - accuracy: "), std::string::npos) << line;
  EXPECT_TRUE(line.ends_with("/step")) << line;
  std::getline(lines, line);
  EXPECT_EQ(line, "Epoch 2/2");
}

// Batches made on demand from fixed rows, in order: a Dataset as a user would write one.
class RowsDataset : public Dataset {
 public:
  RowsDataset(const Tensor& x, const Tensor& y, std::int64_t batch_size)
      : x_(x), y_(y), batch_size_(batch_size) {}
  std::int64_t batch_count() const override { return (x_.dim(0) + batch_size_ - 1) / batch_size_; }
  void start_epoch(Rng& /*rng*/, bool /*shuffle*/) override { ++epochs_started; }
  std::pair<Tensor, Tensor> batch(std::int64_t index) override {
    const std::int64_t begin = index * batch_size_, end = std::min(x_.dim(0), begin + batch_size_);
    return {rows(x_, begin, end), rows(y_, begin, end)};
  }
  int epochs_started = 0;

 private:
  static Tensor rows(const Tensor& t, std::int64_t begin, std::int64_t end) {
    Shape shape = t.shape();
    const std::int64_t width = t.size() / shape[0];
    shape[0] = end - begin;
    return Tensor(shape, std::vector<float>(t.data() + begin * width, t.data() + end * width));
  }
  Tensor x_, y_;
  std::int64_t batch_size_;
};

// Keras's ProgbarLogger writes an epoch's line in on_epoch_end, after validation, so the line carries the
// val_ values after the training ones. With learning rate 0 the weights stay, so each value is what evaluate
// gives on its data.
TEST(Training, EpochLinesOfBothVerbositiesShowTheValidationValues) {
  const TutorialData data = tutorial_data();
  const auto value = [](double v) {
    char text[32];
    std::snprintf(text, sizeof text, std::abs(v) > 1e-3 ? "%.4f" : "%.4e", v);  // Keras's Progbar rule
    return std::string(text);
  };
  for (const int verbose : {1, 2}) {
    SCOPED_TRACE("verbose " + std::to_string(verbose));
    Sequential model = tutorial_model<SimpleRNN>(4);
    model.compile({.loss = "categorical_crossentropy",
                   .optimizer = SGD({.learning_rate = 0.0}),
                   .metrics = {"accuracy"}});
    RowsDataset train(data.x, data.y, 6), validation(data.x, data.y, 4);
    const Logs on_train = model.evaluate(train, {.verbose = 0});
    const Tensor held_x = RowsDataset(data.x, data.y, 5).batch(0).first;
    const Tensor held_y = RowsDataset(data.x, data.y, 5).batch(0).second;
    RowsDataset held_out(held_x, held_y, 2);
    const Logs on_held_out = model.evaluate(held_out, {.verbose = 0});
    ASSERT_NE(value(on_train.at("loss")), value(on_held_out.at("loss")));  // the line must tell them apart
    std::ostringstream out;
    model.fit(train, {.epochs = 1, .verbose = verbose, .validation_dataset = &held_out, .out = &out});
    std::istringstream lines(out.str());
    std::string line;
    std::getline(lines, line);
    EXPECT_EQ(line, "Epoch 1/1");
    std::getline(lines, line);
    const std::string values = " - loss: " + value(on_train.at("loss")) +
                               " - accuracy: " + value(on_train.at("accuracy")) +
                               " - val_loss: " + value(on_held_out.at("loss")) +
                               " - val_accuracy: " + value(on_held_out.at("accuracy"));
    if (verbose == 2) {
      // "2/2 - 0s - loss: ... - val_accuracy: ... - 9ms/epoch - 4ms/step"
      EXPECT_TRUE(line.starts_with("2/2 - 0s" + values + " - ")) << line;
      EXPECT_TRUE(line.ends_with("/step")) << line;
    } else {
      // "2/2 [==============================] - 0s 4ms/step - loss: ... - val_accuracy: ..."
      EXPECT_TRUE(line.starts_with("2/2 [==============================] - 0s ")) << line;
      EXPECT_TRUE(line.ends_with("/step" + values)) << line;
    }
    EXPECT_FALSE(std::getline(lines, line)) << "one line per epoch, got also: " << line;
  }
}

bool same_weights(const Sequential& a, const Sequential& b) {
  const std::vector<Tensor> wa = a.get_weights(), wb = b.get_weights();
  if (wa.size() != wb.size()) return false;
  for (std::size_t i = 0; i < wa.size(); ++i)
    if (wa[i].shape() != wb[i].shape() ||
        !std::equal(wa[i].values().begin(), wa[i].values().end(), wb[i].values().begin()))
      return false;
  return true;
}

TEST(Training, DatasetFitIsTheTensorFitBitForBit) {
  const TutorialData data = tutorial_data();
  clear_session();
  Sequential from_tensors = tutorial_model<LSTM>(6, 3);
  clear_session();
  Sequential from_dataset = tutorial_model<LSTM>(6, 3);
  ASSERT_TRUE(same_weights(from_tensors, from_dataset));
  const History expected = from_tensors.fit(data.x, data.y,
                                            {.epochs = 3,
                                             .batch_size = 4,
                                             .verbose = 0,
                                             .shuffle = false,
                                             .validation_data = std::make_pair(data.x, data.y),
                                             .class_weight = {{1, 2.0}}});
  RowsDataset train(data.x, data.y, 4), validation(data.x, data.y, 4);
  const History actual = from_dataset.fit(train, {.epochs = 3,
                                                  .verbose = 0,
                                                  .shuffle = false,
                                                  .validation_dataset = &validation,
                                                  .class_weight = {{1, 2.0}}});
  EXPECT_EQ(train.epochs_started, 3);
  EXPECT_EQ(actual.history, expected.history);  // val_ logs too: a mean over samples, whatever the batches
  EXPECT_TRUE(same_weights(from_tensors, from_dataset));
  EXPECT_EQ(from_dataset.optimizer().iterations(), 9);  // 11 samples in batches of 4: 3 a pass
  EXPECT_EQ(actual.stop_reason, StopReason::none);
  RowsDataset all(data.x, data.y, 3);
  EXPECT_EQ(from_dataset.evaluate(all, {.verbose = 0}),
            from_dataset.evaluate(data.x, data.y, {.batch_size = 3, .verbose = 0}));
}

// Counts on_train_end and raises SIGINT (as Ctrl-C would) or sets stop_training after batch `at` of epoch 2.
class StopAt : public Callback {
 public:
  StopAt(std::int64_t at, bool interrupt) : at_(at), interrupt_(interrupt) {}
  void on_epoch_begin(int epoch) override { epoch_ = epoch; }
  void on_batch_end(std::int64_t batch, const Logs& /*logs*/) override {
    if (epoch_ != 1 || batch != at_) return;
    if (interrupt_)
      std::raise(SIGINT);
    else
      model().stop_training = true;
  }
  void on_train_end() override { ++train_ends; }
  int train_ends = 0;

 private:
  std::int64_t at_;
  bool interrupt_;
  int epoch_ = 0;
};

extern "C" void count_interrupt(int) {}

TEST(Training, CtrlCStopsAfterTheCurrentBatchAndRestoresTheHandler) {
  const TutorialData data = tutorial_data();
  Sequential model = tutorial_model<SimpleRNN>(4);
  const auto previous = std::signal(SIGINT, count_interrupt);
  auto stopper = std::make_shared<StopAt>(1, true);
  const History history = model.fit(
      data.x, data.y, {.epochs = 5, .batch_size = 4, .verbose = 0, .shuffle = false, .callbacks = {stopper}});
  EXPECT_EQ(history.stop_reason, StopReason::interrupt);
  EXPECT_EQ(model.optimizer().iterations(), 3 + 2);    // epoch 1 whole, then batches 0 and 1 of epoch 2
  ASSERT_EQ(history.epoch, (std::vector<int>{0, 1}));  // the cut epoch is logged, from its two batches
  EXPECT_EQ(stopper->train_ends, 1);
  EXPECT_EQ(model.predict(data.x).shape(), (Shape{11, 12}));  // still usable
  // fit put back the handler it found.
  EXPECT_EQ(std::signal(SIGINT, previous), count_interrupt);
  // And a later fit is not stopped by the old Ctrl-C.
  EXPECT_EQ(model.fit(data.x, data.y, {.epochs = 2, .verbose = 0}).stop_reason, StopReason::none);
}

TEST(Training, StopTrainingFromOnBatchEndStopsAfterThatBatch) {
  const TutorialData data = tutorial_data();
  Sequential model = tutorial_model<SimpleRNN>(4);
  auto stopper = std::make_shared<StopAt>(0, false);
  const History history = model.fit(
      data.x, data.y,
      {.epochs = 5, .batch_size = 4, .verbose = 0, .validation_split = 0.3, .callbacks = {stopper}});
  EXPECT_EQ(history.stop_reason, StopReason::callback);
  EXPECT_EQ(model.optimizer().iterations(), 2 + 1);      // 7 training samples: 2 batches, then 1
  EXPECT_EQ(history.history.at("val_loss").size(), 2u);  // the stopped epoch is validated, as in Keras
  EXPECT_EQ(stopper->train_ends, 1);
}

TEST(Training, MaxDurationStopsAtTheEndOfTheBatchItPassesIn) {
  const TutorialData data = tutorial_data();
  Sequential model = tutorial_model<SimpleRNN>(4);
  std::ostringstream out;
  const History history = model.fit(data.x, data.y,
                                    {.epochs = 100,
                                     .batch_size = 2,
                                     .verbose = 2,
                                     .out = &out,
                                     .max_duration = std::chrono::nanoseconds(0)});
  EXPECT_EQ(history.stop_reason, StopReason::max_duration);
  EXPECT_EQ(model.optimizer().iterations(), 1);
  EXPECT_EQ(history.epoch, std::vector<int>{0});
  EXPECT_EQ(history.history.at("loss").size(), 1u);
  // Keras's ProgbarLogger finalizes a stopped epoch's line at its target (6 steps), not at the steps it ran.
  EXPECT_NE(out.str().find("Epoch 1/100\n6/6 - "), std::string::npos) << out.str();
  EXPECT_EQ(out.str().find("Epoch 2/100"), std::string::npos) << out.str();
}

// ModelCheckpoint picks by extension: a .keras or .h5 checkpoint is the whole model, compiled, with its
// optimizer state and assets; .weights.h5 and .npz the weights.
TEST(Training, ModelCheckpointSavesTheWholeModelWithAssetsOrTheWeights) {
  const TutorialData data = tutorial_data();
  const testing::TempFolder folder;
  Sequential model = tutorial_model<SimpleRNN>(4);
  const std::map<std::string, std::string> assets{{"tokenizer.json", R"({"말이": 1})"}};
  model.fit(data.x, data.y,
            {.epochs = 2,
             .verbose = 0,
             .callbacks = {
                 ModelCheckpoint(folder.path() / "m_{epoch}.keras", {.monitor = "loss", .assets = assets}),
                 ModelCheckpoint(folder.path() / "m.h5", {.monitor = "loss", .assets = assets}),
                 ModelCheckpoint(folder.path() / "w.weights.h5", {.monitor = "loss"})}});
  for (const char* name : {"m_2.keras", "m.h5"}) {
    const LoadedModel loaded = load_model_file(folder.path() / name);
    EXPECT_EQ(loaded.assets, assets) << name;
    ASSERT_TRUE(loaded.model.compiled()) << name;
    EXPECT_EQ(loaded.model.optimizer().iterations(), 2) << name;
  }
  EXPECT_TRUE(std::filesystem::exists(folder.path() / "m_1.keras"));
  Sequential weights_only = tutorial_model<SimpleRNN>(4, 5);
  load_weights(weights_only, folder.path() / "w.weights.h5");
  EXPECT_TRUE(testing::all_close(weights_only.predict(data.x), model.predict(data.x), 0.0, 0.0));
  EXPECT_THROW(ModelCheckpoint(folder.path() / "m.txt"), Error);
  EXPECT_THROW(ModelCheckpoint(folder.path() / "w.npz", {.assets = assets}), Error);
}

// evaluate, like fit, takes cross-entropy from a final Dense(softmax|sigmoid)'s logits, unclipped: with
// logits (0, 30) and the first class true, -log softmax = log(1 + e^30) = 30.0000000000001, where clipped
// probabilities would give -log(1e-7) = 16.118; a sigmoid logit of 30 with target 0 gives log(1 + e^30) too.
TEST(Training, EvaluateTakesCrossEntropyFromTheLogits) {
  for (const char* activation : {"softmax", "sigmoid"}) {
    SCOPED_TRACE(activation);
    const bool softmax = std::string(activation) == "softmax";
    Sequential model;
    model.add(Dense(softmax ? 2 : 1, {.activation = activation, .input_shape = Shape{1}}));
    model.set_weights(
        {softmax ? Tensor({1, 2}, {0.0f, 30.0f}) : Tensor({1, 1}, {30.0f}), Tensor({softmax ? 2 : 1})});
    model.compile({.loss = softmax ? "categorical_crossentropy" : "binary_crossentropy", .optimizer = SGD()});
    const Tensor x({1, 1}, {1.0f});
    const Tensor y = softmax ? Tensor({1, 2}, {1.0f, 0.0f}) : Tensor({1, 1}, {0.0f});
    EXPECT_NEAR(model.evaluate(x, y, {.verbose = 0}).at("loss"), 30.0, 1e-4);
  }
}

// Expected texts written from Keras 2.11's Progbar.update (keras/utils/generic_utils.py).
TEST(Progress, BarMatchesKerasLayout) {
  EXPECT_EQ(ProgressBar::bar_line(12, 40, 1.2, 0.1, {{"loss", 2.1}, {"accuracy", 0.31}}, false),
            "12/40 [========>.....................] - ETA: 2s - loss: 2.1000 - accuracy: 0.3100");
  EXPECT_EQ(ProgressBar::bar_line(40, 40, 3.0, 0.075, {{"loss", 2.1}}, true),
            "40/40 [==============================] - 3s 75ms/step - loss: 2.1000");
  EXPECT_EQ(ProgressBar::bar_line(1, 400, 0.5, 0.5, {{"loss", 0.0001}}, false),
            "  1/400 [..............................] - ETA: 3:19 - loss: 1.0000e-04");
  EXPECT_EQ(ProgressBar::epoch_line(1, 0.012, {{"loss", 2.4}, {"accuracy", 0.09}}),
            "1/1 - 0s - loss: 2.4000 - accuracy: 0.0900 - 12ms/epoch - 12ms/step");
}

// Keras 2.11's Progbar._estimate_step_duration: once step 1 is done, the time per step leaves it out.
TEST(Progress, StepDurationLeavesOutTheFirstStep) {
  StepTimer timer;
  EXPECT_EQ(timer.seconds_per_step(0, 0.5), 0.0);
  EXPECT_EQ(timer.seconds_per_step(1, 10.0), 10.0);  // the first step: slow (building, warming up)
  EXPECT_EQ(timer.seconds_per_step(2, 11.0), 1.0);
  EXPECT_EQ(timer.seconds_per_step(5, 14.0), 1.0);  // (14 - 10) / 4, where the plain mean would say 2.8
  StepTimer never_saw_step_one;
  EXPECT_EQ(never_saw_step_one.seconds_per_step(4, 8.0), 2.0);  // Keras's fallback: the plain mean
}

// A final Dense(softmax|sigmoid) under cross-entropy runs to its logits only in train_on_batch and evaluate;
// the accuracy still reads its outputs, and the loss is still that of the outputs. The references are
// computed here from the model's inference outputs: -log p of the target and the argmax (or p > 0.5).
TEST(Training, HeadRunToItsLogitsGivesTheLossAndAccuracyOfItsOutputs) {
  for (const bool binary : {false, true}) {
    SCOPED_TRACE(binary ? "Dense(1, sigmoid), binary_crossentropy" : "Dense(5, softmax), sparse");
    Sequential model({.seed = 3});
    model.add(Embedding(7, 4));
    model.add(GRU(6, {.return_sequences = true}));
    model.add(Dense(binary ? 1 : 5, {.activation = binary ? "sigmoid" : "softmax"}));
    model.compile({.loss = binary ? "binary_crossentropy" : "sparse_categorical_crossentropy",
                   .optimizer = SGD({.learning_rate = 0.5}),
                   .metrics = {"accuracy"}});
    constexpr std::int64_t kSamples = 6, kSteps = 4;
    Tensor x({kSamples, kSteps}), y({kSamples, kSteps, 1});
    Rng rng(5);
    for (float& id : x.values()) id = static_cast<float>(rng.next() % 7);
    for (float& label : y.values()) label = static_cast<float>(rng.next() % (binary ? 2 : 5));

    const Tensor outputs = model(x);
    double loss = 0.0, matches = 0.0;
    for (std::int64_t row = 0; row < kSamples * kSteps; ++row) {
      const auto label = static_cast<std::int64_t>(y[row]);
      if (binary) {
        const double p = outputs[row];
        loss -= label == 1 ? std::log(p) : std::log(1.0 - p);
        matches += (p > 0.5) == (label == 1);
      } else {
        const float* p = outputs.data() + row * 5;
        loss -= std::log(static_cast<double>(p[label]));
        matches += std::max_element(p, p + 5) - p == label;
      }
    }
    loss /= kSamples * kSteps;
    const double accuracy = matches / (kSamples * kSteps);
    ASSERT_GT(accuracy, 0.0);
    ASSERT_LT(accuracy, 1.0);

    const Logs evaluated = model.evaluate(x, y, {.verbose = 0});
    EXPECT_NEAR(evaluated.at("loss"), loss, 1e-6);
    EXPECT_DOUBLE_EQ(evaluated.at("accuracy"), accuracy);
    const Logs trained = model.train_on_batch(x, y);  // reports the batch before its update
    EXPECT_NEAR(trained.at("loss"), loss, 1e-6);
    EXPECT_DOUBLE_EQ(trained.at("accuracy"), accuracy);
    EXPECT_GT(std::abs(model(x)[0] - outputs[0]), 1e-6) << "the step did not train";
  }
}

}  // namespace
}  // namespace rnnkit
