// The Keras tutorials' text classifiers, trained on Korean movie reviews (NSMC): Embedding + LSTM, the IMDB
// CNN-LSTM (Conv1D + MaxPooling1D + LSTM), a 1D CNN with GlobalMaxPooling1D, and a BiLSTM with
// self-attention (Functional). Each prints its test accuracy.
//
//   build/rnnkit_text_classifiers ../shared/corpora/ko_nsmc_derived_train.tsv [rows] [epochs] [model...]
#include <chrono>
#include <fstream>
#include <iostream>
#include <sstream>

#include "rnnkit/rnnkit.h"

namespace {

struct Reviews {
  std::vector<std::string> texts;
  std::vector<float> labels;
};

// id<TAB>document<TAB>label, with a header line.
Reviews read_reviews(const std::string& path, std::size_t rows) {
  std::ifstream in(path);
  rnnkit::check(in.good(), "cannot read '", path, "'");
  Reviews reviews;
  std::string line;
  std::getline(in, line);
  for (std::size_t number = 2; reviews.texts.size() < rows && std::getline(in, line); ++number) {
    const std::size_t first = line.find('\t'), last = line.rfind('\t');
    rnnkit::check(first != std::string::npos && last != first, path, " line ", number,
                  ": expected id<TAB>document<TAB>label");
    reviews.texts.push_back(line.substr(first + 1, last - first - 1));
    reviews.labels.push_back(line.substr(last + 1) == "1" ? 1.0f : 0.0f);
  }
  return reviews;
}

rnnkit::Model build(const std::string& kind, std::int64_t vocabulary, std::int64_t length) {
  using namespace rnnkit;
  if (kind == "attention") {
    const SymbolicTensor ids = Input({length});
    const SymbolicTensor embedded = Embedding(vocabulary, 64, {.mask_zero = true})(ids);
    const SymbolicTensor states = Bidirectional(LSTM(32, {.return_sequences = true}))(embedded);
    const SymbolicTensor attended = Attention()({states, states});
    const SymbolicTensor pooled = GlobalAveragePooling1D()(Concatenate()({states, attended}));
    return Model(ids, Dense(1, {.activation = "sigmoid"})(pooled));
  }
  Sequential model;
  model.add(Embedding(vocabulary, 64, {.input_length = length}));
  if (kind == "lstm") {
    model.add(LSTM(64));
  } else if (kind == "cnn_lstm") {  // keras/examples imdb_cnn_lstm.py
    model.add(Dropout(0.25f));
    model.add(Conv1D(64, 5, {.activation = "relu"}));
    model.add(MaxPooling1D(4));
    model.add(LSTM(70));
  } else if (kind == "cnn") {  // keras/examples imdb_cnn.py
    model.add(Dropout(0.2f));
    model.add(Conv1D(128, 3, {.activation = "relu"}));
    model.add(GlobalMaxPooling1D());
    model.add(Dense(64, {.activation = "relu"}));
    model.add(Dropout(0.5f));
  } else {
    fail("unknown model '", kind, "': lstm, cnn_lstm, cnn or attention");
  }
  model.add(Dense(1, {.activation = "sigmoid"}));
  return model;
}

}  // namespace

int main(int argc, char** argv) try {
  if (argc < 2) {
    std::cerr << "usage: " << argv[0] << " REVIEWS.tsv [rows=12000] [epochs=3] [lstm|cnn_lstm|cnn|attention...]\n";
    return 2;
  }
  const std::size_t rows = argc > 2 ? std::stoul(argv[2]) : 12000;
  const int epochs = argc > 3 ? std::stoi(argv[3]) : 3;
  std::vector<std::string> kinds;
  for (int i = 4; i < argc; ++i) kinds.emplace_back(argv[i]);
  if (kinds.empty()) kinds = {"lstm", "cnn_lstm", "cnn", "attention"};

  const Reviews reviews = read_reviews(argv[1], rows);
  const std::size_t test_rows = reviews.texts.size() / 6;
  const std::size_t train_rows = reviews.texts.size() - test_rows;
  // Hangul syllables as tokens: Korean words carry particles (영화가, 영화는), which a word vocabulary splits.
  constexpr int kVocabulary = 2000;
  constexpr std::int64_t kLength = 80;
  rnnkit::Tokenizer tokenizer({.num_words = kVocabulary, .char_level = true, .oov_token = "<unk>"});
  const std::vector<std::string> train_texts(reviews.texts.begin(), reviews.texts.begin() + train_rows);
  tokenizer.fit_on_texts(train_texts);
  const rnnkit::Tensor x = rnnkit::pad_sequences(tokenizer.texts_to_sequences(reviews.texts), {.maxlen = kLength});
  const rnnkit::Tensor y({static_cast<std::int64_t>(reviews.labels.size()), 1}, reviews.labels);
  const auto rows_of = [](const rnnkit::Tensor& t, std::size_t begin, std::size_t end) {
    rnnkit::Shape shape = t.shape();
    shape[0] = static_cast<std::int64_t>(end - begin);
    const std::int64_t width = t.size() / t.dim(0);
    return rnnkit::Tensor(shape, std::vector<float>(t.data() + begin * width, t.data() + end * width));
  };
  const rnnkit::Tensor x_train = rows_of(x, 0, train_rows), y_train = rows_of(y, 0, train_rows);
  const rnnkit::Tensor x_test = rows_of(x, train_rows, x.dim(0)), y_test = rows_of(y, train_rows, x.dim(0));
  std::cout << train_rows << " reviews to train on, " << test_rows << " to test; " << kVocabulary
            << " syllables, " << kLength << " per review\n";

  for (const std::string& kind : kinds) {
    rnnkit::clear_session();
    rnnkit::Model model = build(kind, kVocabulary, kLength);
    model.summary();
    model.compile({.loss = "binary_crossentropy", .optimizer = rnnkit::Adam(), .metrics = {"accuracy"}});
    const auto start = std::chrono::steady_clock::now();
    model.fit(x_train, y_train, {.epochs = epochs, .batch_size = 64, .verbose = 2});
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const rnnkit::Logs test = model.evaluate(x_test, y_test, {.verbose = 0});
    std::cout << kind << ": test accuracy " << test.at("accuracy") << ", loss " << test.at("loss") << " after "
              << epochs << " epochs (" << seconds << " s)\n";
  }
  return 0;
} catch (const std::exception& error) {
  std::cerr << "error: " << error.what() << "\n";
  return 1;
}
