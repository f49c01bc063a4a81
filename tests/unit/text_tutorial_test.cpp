// The Korean RNN language-model tutorial end to end through the library: Tokenizer, prefix n-grams,
// Embedding(V,10) + SimpleRNN(32) + Dense(V, softmax), Adam, categorical cross-entropy, 200 epochs, then
// greedy generation from 경마장에, which must give the tutorial's sentence.
#include <gtest/gtest.h>

#include "rnnkit/rnnkit.h"
#include "rnnkit/text/datasets.h"
#include "rnnkit/text/generation.h"
#include "rnnkit/text/sequences.h"
#include "rnnkit/text/tokenizer.h"

namespace rnnkit {
namespace {

const std::vector<std::string> kLines = {"경마장에 있는 말이 뛰고 있다", "그의 말이 법이다",
                                         "가는 말이 고와야 오는 말이 곱다"};

std::vector<std::vector<std::int32_t>> encoded_lines(const Tokenizer& tokenizer) {
  std::vector<std::vector<std::int32_t>> lines;
  for (const std::vector<int>& line : tokenizer.texts_to_sequences(kLines))
    lines.emplace_back(line.begin(), line.end());
  return lines;
}

TEST(TextTutorial, PrefixNgramsAreTheTutorialsPadSequencesAndToCategorical) {
  Tokenizer tokenizer;
  tokenizer.fit_on_texts(kLines);
  const std::int64_t vocabulary = tokenizer.vocabulary_size();
  ASSERT_EQ(vocabulary, 12);
  // The tutorial's own construction, with Keras's pad_sequences and to_categorical.
  std::vector<std::vector<int>> prefixes;
  for (const std::vector<int>& line : tokenizer.texts_to_sequences(kLines))
    for (std::size_t end = 2; end <= line.size(); ++end)
      prefixes.emplace_back(line.begin(), line.begin() + end);
  const Tensor padded = pad_sequences(prefixes);  // (11, 6)
  Tensor x({padded.dim(0), padded.dim(1) - 1}), last({padded.dim(0)});
  for (std::int64_t row = 0; row < padded.dim(0); ++row) {
    for (std::int64_t t = 0; t + 1 < padded.dim(1); ++t) x.at({row, t}) = padded.at({row, t});
    last[row] = padded.at({row, padded.dim(1) - 1});
  }
  const Tensor y = to_categorical(last, vocabulary);

  PrefixNgramDataset dataset(encoded_lines(tokenizer),
                             {.batch_size = 32, .one_hot = true, .num_classes = vocabulary});
  const auto [dataset_x, dataset_y] = dataset.all();
  EXPECT_EQ(dataset_x.shape(), x.shape());
  EXPECT_EQ(std::vector<float>(dataset_x.values().begin(), dataset_x.values().end()),
            std::vector<float>(x.values().begin(), x.values().end()));
  EXPECT_EQ(std::vector<float>(dataset_y.values().begin(), dataset_y.values().end()),
            std::vector<float>(y.values().begin(), y.values().end()));
}

TEST(TextTutorial, TrainedModelGeneratesTheSentenceGreedily) {
  Tokenizer tokenizer;
  tokenizer.fit_on_texts(kLines);
  const std::int64_t vocabulary = tokenizer.vocabulary_size();
  PrefixNgramDataset dataset(encoded_lines(tokenizer),
                             {.batch_size = 32, .one_hot = true, .num_classes = vocabulary});
  const auto [x, y] = dataset.all();

  Sequential model({.name = "tutorial", .seed = 1});
  model.add(Embedding(vocabulary, 10, {.input_length = dataset.input_length()}));
  model.add(SimpleRNN(32));
  model.add(Dense(vocabulary, {.activation = "softmax"}));
  model.compile({.loss = "categorical_crossentropy", .optimizer = Adam(), .metrics = {"accuracy"}});
  model.fit(x, y, {.epochs = 200, .batch_size = 32, .verbose = 0});

  Generator generator(model);
  EXPECT_EQ(generator.mode(), GenerationMode::padded_window);
  Rng rng(1);
  const std::vector<std::int64_t> seed = {*tokenizer.word_index().find("경마장에")};
  const std::vector<std::int64_t> drawn = generate(generator, seed, 4, {.greedy = true}, rng);
  std::string sentence = "경마장에";
  for (const std::int64_t id : drawn) sentence += " " + *tokenizer.index_word().find(static_cast<int>(id));
  EXPECT_EQ(sentence, "경마장에 있는 말이 뛰고 있다");
}

}  // namespace
}  // namespace rnnkit
