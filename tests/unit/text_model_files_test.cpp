// The Keras text models that mix RNNs with other layers, written from their Keras definitions: IMDB's
// CNN-LSTM, a 1D CNN classifier, a RepeatVector seq2seq and a Luong-attention seq2seq (Functional). Each,
// after a training step (so that every weight and the optimizer state are non-trivial), saves and loads
// through .h5 and .keras bit for bit: config, weights, predictions, and training going on alike. (Each also
// learns its task in the layers' own tests: conv_pooling_test, shape_layers_test, attention_test.)
#include <gtest/gtest.h>

#include "rnnkit/rnnkit.h"
#include "test_support.h"

namespace rnnkit {
namespace {

using nlohmann::json;
using testing::TempFolder;
using testing::weight_bytes;

struct Case {
  Model model;
  std::vector<Tensor> x, y;
};

Tensor token_ids(std::int64_t rows, std::int64_t steps, std::int64_t vocabulary, Rng& rng) {
  Tensor ids({rows, steps});
  for (float& id : ids.values()) id = static_cast<float>(1 + rng.next() % (vocabulary - 1));
  return ids;
}

Tensor binary_labels(std::int64_t rows, Rng& rng) {
  Tensor labels({rows, 1});
  for (float& label : labels.values()) label = static_cast<float>(rng.next() % 2);
  return labels;
}

// keras/examples/imdb_cnn_lstm.py, smaller.
Case imdb_cnn_lstm(Rng& rng) {
  Sequential model({.name = "imdb_cnn_lstm"});
  model.add(Embedding(50, 8, {.input_length = 20}));
  model.add(Dropout(0.25f));
  model.add(Conv1D(6, 5, {.padding = "valid", .activation = "relu"}));
  model.add(MaxPooling1D(4));
  model.add(LSTM(7));
  model.add(Dense(1, {.activation = "sigmoid"}));
  return {std::move(model), {token_ids(8, 20, 50, rng)}, {binary_labels(8, rng)}};
}

// keras/examples/imdb_cnn.py, smaller.
Case cnn_classifier(Rng& rng) {
  Sequential model({.name = "imdb_cnn"});
  model.add(Embedding(50, 8, {.input_length = 20}));
  model.add(Dropout(0.2f));
  model.add(Conv1D(10, 3, {.padding = "same", .activation = "relu"}));
  model.add(GlobalMaxPooling1D());
  model.add(Dense(6, {.activation = "relu"}));
  model.add(Dropout(0.2f));
  model.add(Dense(1, {.activation = "sigmoid"}));
  return {std::move(model), {token_ids(8, 20, 50, rng)}, {binary_labels(8, rng)}};
}

// The addition seq2seq of the Keras examples: encoder LSTM, RepeatVector, decoder LSTM, a softmax per step.
Case repeat_vector_seq2seq(Rng& rng) {
  Sequential model({.name = "repeat_vector_seq2seq"});
  model.add(LSTM(8, {.input_shape = Shape{5, 4}}));
  model.add(RepeatVector(3));
  model.add(LSTM(8, {.return_sequences = true}));
  model.add(TimeDistributed(Dense(4, {.activation = "softmax"})));
  Tensor y({6, 3, 4});
  for (std::int64_t row = 0; row < 18; ++row) y[row * 4 + static_cast<std::int64_t>(rng.next() % 4)] = 1.0f;
  return {std::move(model), {testing::random_tensor({6, 5, 4}, rng, 1.0)}, {y}};
}

// Luong attention over the encoder's sequence, the decoder started from the encoder's states.
Case attention_seq2seq(Rng& rng) {
  const SymbolicTensor source = Input({6}, {.name = "source"}), target_in = Input({5}, {.name = "target_in"});
  // input_length given: a Keras 3 file has none, and reading one fills it in from the Input (a C++ model
  // without it would not read back with the same config).
  const SymbolicTensor source_embedded = Embedding(12, 6, {.input_length = 6, .mask_zero = true})(source);
  const SymbolicTensor target_embedded = Embedding(13, 6, {.input_length = 5})(target_in);
  const LayerOutputs encoder = LSTM(8, {.return_sequences = true, .return_state = true})(source_embedded);
  const SymbolicTensor decoder =
      LSTM(8, {.return_sequences = true})(target_embedded, {.initial_state = encoder.states()});
  const SymbolicTensor context = Attention({.use_scale = true})({decoder, encoder[0]});
  const SymbolicTensor joined = Concatenate()({decoder, context});
  const SymbolicTensor probabilities = Dense(12, {.activation = "softmax"})(joined);
  Model model({source, target_in}, {probabilities}, {.name = "attention_seq2seq"});
  Tensor source_ids = token_ids(6, 6, 12, rng);
  source_ids[5] = source_ids[4] = 0;  // padding, masked
  Tensor targets({6, 5});
  for (float& id : targets.values()) id = static_cast<float>(rng.next() % 12);
  return {std::move(model), {source_ids, token_ids(6, 5, 13, rng)}, {targets}};
}

void expect_round_trips(Case& c, const std::string& loss) {
  c.model.compile({.loss = loss, .optimizer = Adam({.learning_rate = 0.01}), .metrics = {"accuracy"}});
  c.model.fit(c.x, c.y, {.epochs = 1, .batch_size = 4, .verbose = 0});
  const json config = c.model.config();
  const std::string weights = weight_bytes(c.model);
  const std::vector<Tensor> expected = c.model.predict(c.x);
  const TempFolder folder;
  std::vector<std::string> continued;
  for (const char* file : {"m.h5", "m.keras"}) {
    SCOPED_TRACE(file);
    save_model(c.model, folder / file);
    LoadedModel loaded = load_model_file(folder / file);
    EXPECT_EQ(loaded.model.config(), config) << json::diff(loaded.model.config(), config).dump();
    EXPECT_EQ(weight_bytes(loaded.model), weights);
    const std::vector<Tensor> y = loaded.model.predict(c.x);
    ASSERT_EQ(y.size(), expected.size());
    for (std::size_t k = 0; k < y.size(); ++k)
      EXPECT_TRUE(std::ranges::equal(y[k].values(), expected[k].values()));
    // The loaded model comes compiled with its optimizer state and generator: one more epoch of it gives what
    // one more epoch of the original gives.
    ASSERT_TRUE(loaded.model.compiled());
    loaded.model.fit(c.x, c.y, {.epochs = 1, .batch_size = 4, .verbose = 0});
    continued.push_back(weight_bytes(loaded.model));
  }
  c.model.fit(c.x, c.y, {.epochs = 1, .batch_size = 4, .verbose = 0});
  EXPECT_NE(weight_bytes(c.model), weights) << "the extra epoch changes the weights";
  for (const std::string& bytes : continued) EXPECT_EQ(bytes, weight_bytes(c.model));
}

TEST(TextModelFiles, ImdbCnnLstm) {
  clear_session();
  Rng rng(1);
  Case c = imdb_cnn_lstm(rng);
  expect_round_trips(c, "binary_crossentropy");
}

TEST(TextModelFiles, CnnClassifier) {
  clear_session();
  Rng rng(2);
  Case c = cnn_classifier(rng);
  expect_round_trips(c, "binary_crossentropy");
}

TEST(TextModelFiles, RepeatVectorSeq2seq) {
  clear_session();
  Rng rng(3);
  Case c = repeat_vector_seq2seq(rng);
  expect_round_trips(c, "categorical_crossentropy");
}

TEST(TextModelFiles, AttentionSeq2seq) {
  clear_session();
  Rng rng(4);
  Case c = attention_seq2seq(rng);
  expect_round_trips(c, "sparse_categorical_crossentropy");
}

}  // namespace
}  // namespace rnnkit
