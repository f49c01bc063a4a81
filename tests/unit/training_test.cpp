// fit / evaluate / callbacks / progress, end to end on the Korean tutorial's word-level RNN language model.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "rnnkit/rnnkit.h"
#include "test_support.h"
#include "train/progress.h"

namespace rnnkit {
namespace {

// 경마장에 있는 말이 뛰고 있다 / 그의 말이 법이다 / 가는 말이 고와야 오는 말이 곱다, as Keras's Tokenizer numbers
// them (말이 1, 경마장에 2, 있는 3, 뛰고 4, 있다 5, 그의 6, 법이다 7, 가는 8, 고와야 9, 오는 10, 곱다 11); every
// prefix of two or more words, padded 'pre' to 6: the first 5 ids are the input, the last the target.
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
  EXPECT_GE(model.evaluate(data.x, data.y, {.verbose = 0}).at("accuracy"), 0.9);
}

TEST(Training, TutorialLstmLanguageModelLearnsItsSentences) {
  const TutorialData data = tutorial_data();
  Sequential model = tutorial_model<LSTM>(128);
  const History history = model.fit(data.x, data.y, {.epochs = 200, .verbose = 0});
  EXPECT_GE(history.history.at("accuracy").back(), 0.9);
}

TEST(Training, SameSeedGivesTheSameWeightsBitForBit) {
  const TutorialData data = tutorial_data();
  Sequential first = tutorial_model<GRU>(8, 7), second = tutorial_model<GRU>(8, 7);
  first.fit(data.x, data.y, {.epochs = 3, .batch_size = 4, .verbose = 0});
  second.fit(data.x, data.y, {.epochs = 3, .batch_size = 4, .verbose = 0});
  const std::vector<Tensor> a = first.get_weights(), b = second.get_weights();
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i)
    EXPECT_TRUE(std::equal(a[i].values().begin(), a[i].values().end(), b[i].values().begin())) << "weight " << i;
  Sequential other = tutorial_model<GRU>(8, 8);
  EXPECT_FALSE(std::equal(a[0].values().begin(), a[0].values().end(), other.get_weights()[0].values().begin()));
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
  const History history = model.fit(
      data.x, data.y,
      {.epochs = 50, .verbose = 0, .validation_split = 0.3,
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
            {.epochs = 3, .verbose = 0,
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

// Expected texts written from Keras 2.11's Progbar.update (keras/utils/generic_utils.py).
TEST(Progress, BarMatchesKerasLayout) {
  EXPECT_EQ(ProgressBar::bar_line(12, 40, 1.2, {{"loss", 2.1}, {"accuracy", 0.31}}),
            "12/40 [========>.....................] - ETA: 2s - loss: 2.1000 - accuracy: 0.3100");
  EXPECT_EQ(ProgressBar::bar_line(40, 40, 3.0, {{"loss", 2.1}}),
            "40/40 [==============================] - 3s 75ms/step - loss: 2.1000");
  EXPECT_EQ(ProgressBar::bar_line(1, 400, 0.5, {{"loss", 0.0001}}),
            "  1/400 [..............................] - ETA: 3:19 - loss: 1.0000e-04");
  EXPECT_EQ(ProgressBar::epoch_line(1, 0.012, {{"loss", 2.4}, {"accuracy", 0.09}}),
            "1/1 - 0s - loss: 2.4000 - accuracy: 0.0900 - 12ms/epoch - 12ms/step");
}

}  // namespace
}  // namespace rnnkit
