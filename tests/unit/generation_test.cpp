// Generation: the stateful one-step-per-token path against the whole-sequence forward pass of the stateless
// model (model.predict on the growing prefix), which carries no state between calls.
#include "rnnkit/text/generation.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <set>

#include "rnnkit/error.h"
#include "rnnkit/rnnkit.h"

namespace rnnkit {
namespace {

constexpr std::int64_t kVocabulary = 9;

// Weights drawn from uniform(-1, 1), larger than Keras's initial ones, so every token and step matters.
void randomize(Sequential& model, std::uint64_t seed) {
  Rng rng(seed);
  std::vector<Tensor> weights = model.get_weights();
  for (Tensor& weight : weights)
    for (float& value : weight.values()) value = static_cast<float>(rng.uniform(-1.0, 1.0));
  model.set_weights(weights);
}

Sequential language_model(const std::vector<std::unique_ptr<Layer>>& recurrent_layers,
                          const std::string& activation,
                          std::optional<std::int64_t> input_length = std::nullopt) {
  Sequential model({.name = "lm", .seed = 5});
  model.add(Embedding(kVocabulary, 4, {.input_length = input_length}));
  for (const auto& layer : recurrent_layers) model.add(layer->clone());
  model.add(Dense(kVocabulary, {.activation = activation}));
  model.build({kNone, input_length.value_or(kNone)});
  randomize(model, 11);
  return model;
}

// The next-token scores from the stateless model on `ids`: the last timestep's output.
std::vector<float> predicted_scores(Sequential& model, const std::vector<std::int64_t>& ids) {
  Tensor x({1, static_cast<std::int64_t>(ids.size())});
  for (std::size_t i = 0; i < ids.size(); ++i) x[static_cast<std::int64_t>(i)] = static_cast<float>(ids[i]);
  const Tensor y = model.predict(x);
  return {y.values().end() - kVocabulary, y.values().end()};
}

// Greedy decoding as the tutorial's sentence_generation does it, by re-running the model on the whole
// input each time: argmax over the tokens (id 0, padding, excluded). `input` turns the text so far into the
// model's input.
std::vector<std::int64_t> reference_greedy(
    Sequential& model, std::vector<std::int64_t> text, int count,
    const std::function<std::vector<std::int64_t>(const std::vector<std::int64_t>&)>& input) {
  std::vector<std::int64_t> drawn;
  for (int i = 0; i < count; ++i) {
    const std::vector<float> scores = predicted_scores(model, input(text));
    const std::int64_t id = std::max_element(scores.begin() + 1, scores.end()) - scores.begin();
    drawn.push_back(id);
    text.push_back(id);
  }
  return drawn;
}

std::vector<std::int64_t> whole(const std::vector<std::int64_t>& text) {
  return text;
}

void expect_stateful_matches_stateless(Sequential& model) {
  Generator generator(model);
  EXPECT_EQ(generator.mode(), GenerationMode::stateful);
  const std::vector<std::int64_t> seed = {3, 1, 4};
  Rng rng(1);
  std::vector<std::int64_t> streamed;
  const auto drawn =
      generate(generator, seed, 12, {.greedy = true}, rng, [&](std::int64_t id) { streamed.push_back(id); });
  EXPECT_EQ(drawn, reference_greedy(model, seed, 12, whole));
  EXPECT_EQ(streamed, drawn);
  // The distributions themselves, step by step, to float32 rounding.
  std::vector<std::int64_t> text = seed;
  generator.start(seed);
  for (const std::int64_t id : drawn) {
    const std::vector<float> expected = predicted_scores(model, text);
    const auto actual = generator.next_scores();
    ASSERT_EQ(actual.size(), expected.size());
    for (std::size_t v = 0; v < expected.size(); ++v)
      EXPECT_NEAR(actual[v], expected[v], 1e-5f) << "token " << v;
    text.push_back(id);
    generator.push(id);
  }
  // The check has teeth: the context changes the distribution, so a generator that dropped its state
  // between tokens would fail above.
  const std::vector<float> with_context = predicted_scores(model, text),
                           alone = predicted_scores(model, {text.back()});
  float largest_difference = 0;
  for (std::size_t v = 0; v < alone.size(); ++v)
    largest_difference = std::max(largest_difference, std::abs(with_context[v] - alone[v]));
  EXPECT_GT(largest_difference, 1e-3f);
}

std::vector<std::unique_ptr<Layer>> layers(std::unique_ptr<Layer> a, std::unique_ptr<Layer> b = nullptr) {
  std::vector<std::unique_ptr<Layer>> result;
  result.push_back(std::move(a));
  if (b) result.push_back(std::move(b));
  return result;
}

TEST(Generation, StatefulLstmMatchesTheStatelessPrefix) {
  Sequential model = language_model(layers(LSTM(6, {.return_sequences = true}).clone()), "softmax");
  expect_stateful_matches_stateless(model);
}

TEST(Generation, StatefulGruMatchesTheStatelessPrefix) {
  Sequential model = language_model(layers(GRU(6, {.return_sequences = true}).clone()), "linear");
  expect_stateful_matches_stateless(model);
}

TEST(Generation, StatefulSimpleRnnMatchesTheStatelessPrefix) {
  // The last RNN without return_sequences and no fixed length: still stateful.
  Sequential model = language_model(layers(SimpleRNN(6).clone()), "softmax");
  expect_stateful_matches_stateless(model);
}

TEST(Generation, StatefulTwoLayerStackMatchesTheStatelessPrefix) {
  Sequential model = language_model(
      layers(LSTM(5, {.return_sequences = true}).clone(), GRU(6, {.return_sequences = true}).clone()),
      "softmax");
  expect_stateful_matches_stateless(model);
}

TEST(Generation, PaddedPrefixModelsMatchKerasSentenceGeneration) {
  // The tutorial's form: input_length 5, last RNN without return_sequences. Keras predicts from
  // pad_sequences([text], maxlen=5, padding='pre'): zeros first, and only the last 5 tokens once longer.
  constexpr std::int64_t kLength = 5;
  Sequential model = language_model(layers(SimpleRNN(6).clone()), "softmax", kLength);
  Generator generator(model);
  EXPECT_EQ(generator.mode(), GenerationMode::padded_window);
  const auto padded = [](const std::vector<std::int64_t>& text) {
    std::vector<std::int64_t> input(kLength, 0);
    const auto length = std::min<std::size_t>(kLength, text.size());
    std::copy(text.end() - static_cast<std::ptrdiff_t>(length), text.end(),
              input.end() - static_cast<std::ptrdiff_t>(length));
    return input;
  };
  Rng rng(1);
  const std::vector<std::int64_t> seed = {2};
  EXPECT_EQ(generate(generator, seed, 9, {.greedy = true}, rng), reference_greedy(model, seed, 9, padded));
  // Feeding the zeros once and then stepping would not be this: after one more token there is one zero fewer.
  generator.start(std::vector<std::int64_t>{2, 7});
  const std::vector<float> expected = predicted_scores(model, {0, 0, 0, 2, 7});
  for (std::size_t v = 0; v < expected.size(); ++v)
    EXPECT_NEAR(generator.next_scores()[v], expected[v], 1e-5f);
}

TEST(Generation, BidirectionalRerunsAWindow) {
  Sequential model({.name = "bi", .seed = 5});
  model.add(Embedding(kVocabulary, 4));
  model.add(Bidirectional(LSTM(3, {.return_sequences = true})));
  model.add(Dense(kVocabulary, {.activation = "softmax"}));
  model.build({kNone, kNone});
  randomize(model, 13);
  Generator generator(model, {.window = 4});
  EXPECT_EQ(generator.mode(), GenerationMode::window);
  const auto last_four = [](const std::vector<std::int64_t>& text) {
    return std::vector<std::int64_t>(text.end() - std::min<std::ptrdiff_t>(4, std::ssize(text)), text.end());
  };
  Rng rng(1);
  const std::vector<std::int64_t> seed = {5, 6};
  EXPECT_EQ(generate(generator, seed, 8, {.greedy = true}, rng), reference_greedy(model, seed, 8, last_four));
}

TEST(Generation, SamplingIsReproducibleAndNeverDrawsPadding) {
  Sequential model = language_model(layers(LSTM(6, {.return_sequences = true}).clone()), "softmax");
  Generator generator(model);
  Rng first(9), second(9);
  const std::vector<std::int64_t> seed = {1};
  const auto a = generate(generator, seed, 200, {.temperature = 1.5}, first);
  const auto b = generate(generator, seed, 200, {.temperature = 1.5}, second);
  EXPECT_EQ(a, b);
  EXPECT_EQ(std::count(a.begin(), a.end(), 0), 0);
  EXPECT_GT(std::set<std::int64_t>(a.begin(), a.end()).size(), 3u);
}

// The Keras char-RNN's x_pred: one row per token, (1, T, V); kPad rows stay all zero.
constexpr std::int64_t kPad = -1;
std::vector<float> predicted_one_hot_scores(Sequential& model, const std::vector<std::int64_t>& ids) {
  Tensor x({1, static_cast<std::int64_t>(ids.size()), kVocabulary});
  for (std::size_t t = 0; t < ids.size(); ++t)
    if (ids[t] != kPad) x[static_cast<std::int64_t>(t) * kVocabulary + ids[t]] = 1.0f;
  const Tensor y = model.predict(x);
  return {y.values().end() - kVocabulary, y.values().end()};
}

// The last `length` ids, padded to `length` with `pad` before ('pre') or after them.
std::vector<std::int64_t> pad_window(const std::vector<std::int64_t>& text, std::size_t length, bool pre,
                                     std::int64_t pad) {
  const std::size_t kept = std::min(length, text.size());
  std::vector<std::int64_t> window(text.end() - static_cast<std::ptrdiff_t>(kept), text.end());
  window.insert(pre ? window.begin() : window.end(), length - kept, pad);
  return window;
}

TEST(Generation, OneHotModelsMatchTheKerasCharRnn) {
  // LSTM(input_shape=(maxlen, V)) + Dense(V, softmax), one-hot inputs; with chars = sorted(set(text)) every
  // id is a character (id 0 too) and a window shorter than maxlen has all-zero rows.
  constexpr std::size_t kLength = 4;
  Sequential model({.name = "char_rnn", .seed = 5});
  model.add(LSTM(6, {.input_shape = Shape{static_cast<std::int64_t>(kLength), kVocabulary}}));
  model.add(Dense(kVocabulary, {.activation = "softmax"}));
  randomize(model, 17);
  for (const Padding padding : {Padding::pre, Padding::post}) {
    Generator generator(model, {.padding = padding, .zero_is_padding = false});
    EXPECT_TRUE(generator.one_hot_input());
    EXPECT_EQ(generator.mode(), GenerationMode::padded_window);
    EXPECT_TRUE(generator.drawable(0));
    std::vector<std::int64_t> text = {3, 0};
    Rng rng(1);
    const auto drawn = generate(generator, text, 10, {.greedy = true}, rng);
    for (const std::int64_t id : drawn) {
      const std::vector<float> scores =
          predicted_one_hot_scores(model, pad_window(text, kLength, padding == Padding::pre, kPad));
      EXPECT_EQ(id, std::max_element(scores.begin(), scores.end()) - scores.begin());
      text.push_back(id);
    }
    EXPECT_GT(std::set<std::int64_t>(drawn.begin(), drawn.end()).size(), 1u);
  }
  // The padding changes the prediction, so the checks above see where it goes.
  Generator pre(model, {.zero_is_padding = false}),
      post(model, {.padding = Padding::post, .zero_is_padding = false});
  pre.start(std::vector<std::int64_t>{5});
  post.start(std::vector<std::int64_t>{5});
  EXPECT_GT(std::abs(pre.next_scores()[1] - post.next_scores()[1]), 1e-4f);
  // With a Keras Tokenizer's ids, padding is to_categorical(0): id 0's row.
  Generator tokenizer_ids(model);
  tokenizer_ids.start(std::vector<std::int64_t>{5});
  const std::vector<float> expected = predicted_one_hot_scores(model, {0, 0, 0, 5});
  for (std::size_t v = 0; v < expected.size(); ++v)
    EXPECT_NEAR(tokenizer_ids.next_scores()[v], expected[v], 1e-5f);
}

TEST(Generation, SeqLengthPadsAModelWithoutAFixedLength) {
  // pad_sequences([text], maxlen=3) on a model over any length: the output over time is read at the last
  // token, which 'post' padding puts before the end.
  Sequential model = language_model(layers(GRU(5, {.return_sequences = true}).clone()), "softmax");
  for (const Padding padding : {Padding::pre, Padding::post}) {
    Generator generator(model, {.seq_length = 3, .padding = padding});
    EXPECT_EQ(generator.mode(), GenerationMode::padded_window);
    const std::vector<std::int64_t> seed = {4};
    Rng rng(1);
    const auto drawn = generate(generator, seed, 8, {.greedy = true}, rng);
    std::vector<std::int64_t> text = seed;
    for (const std::int64_t id : drawn) {
      const std::vector<std::int64_t> window = pad_window(text, 3, padding == Padding::pre, 0);
      const std::size_t last = padding == Padding::pre ? 3 : std::min<std::size_t>(3, text.size());
      const std::vector<float> scores =
          predicted_scores(model, std::vector<std::int64_t>(window.begin(), window.begin() + last));
      EXPECT_EQ(id, std::max_element(scores.begin() + 1, scores.end()) - scores.begin());
      text.push_back(id);
    }
  }
}

TEST(Generation, IdsFromDrawableIdsOnAreNeverDrawn) {
  // A Keras Tokenizer's num_words: the model's output is wider than the ids the tokenizer gives.
  Sequential model = language_model(layers(LSTM(6, {.return_sequences = true}).clone()), "softmax");
  Generator generator(model, {.drawable_ids = 4});
  Rng rng(3);
  const auto drawn = generate(generator, std::vector<std::int64_t>{1}, 300, {.temperature = 3.0}, rng);
  EXPECT_EQ(std::set<std::int64_t>(drawn.begin(), drawn.end()), (std::set<std::int64_t>{1, 2, 3}));
}

TEST(Generation, BadModelsAndSeedsAreErrors) {
  Sequential model = language_model(layers(LSTM(6, {.return_sequences = true}).clone()), "softmax");
  Generator generator(model);
  Rng rng(1);
  EXPECT_THROW(generate(generator, {}, 3, {.greedy = true}, rng), Error);
  EXPECT_THROW(generate(generator, std::vector<std::int64_t>{kVocabulary}, 3, {.greedy = true}, rng), Error);
  Sequential relu = language_model(layers(LSTM(6, {.return_sequences = true}).clone()), "relu");
  EXPECT_THROW(Generator{relu}, Error);
  Sequential floats({.name = "floats", .seed = 1});
  floats.add(LSTM(3, {.return_sequences = true, .input_shape = Shape{kNone, 2}}));
  floats.add(Dense(4, {.activation = "softmax"}));
  // One-hot rows of 2 values cannot take back the 4 ids the output gives.
  EXPECT_THROW(Generator{floats}, Error);
  Sequential fixed = language_model(layers(SimpleRNN(6).clone()), "softmax", 5);
  EXPECT_THROW(Generator(fixed, {.seq_length = 4}), Error);
  EXPECT_NO_THROW(Generator(fixed, {.seq_length = 5}));
  EXPECT_EQ(language_model_scores(model), ScoreKind::probabilities);
  EXPECT_THROW(language_model_scores(relu), Error);
}

}  // namespace
}  // namespace rnnkit
