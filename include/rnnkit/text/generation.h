// Generation: next-token distributions from a trained language model, one recurrent step per token.
//
//   rnnkit::Generator generator(model);   // Embedding (or one-hot input) + RNNs + Dense(V, softmax|linear)
//   rnnkit::Rng rng(1);
//   auto ids = rnnkit::generate(generator, seed_ids, 200, {.temperature = 0.8}, rng,
//                               [](std::int64_t id) { /* stream it */ });
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <vector>

#include "rnnkit/sequential.h"
#include "rnnkit/text/sampling.h"

namespace rnnkit {

// How a Generator turns a context into the next distribution; chosen from the model and the options.
enum class GenerationMode {
  // Unidirectional RNNs and no window to keep: a batch-1 stateful twin of the model (the same config with
  // stateful=true and the same weights) is fed the context once, then one step per token, carrying the
  // recurrent states: O(1) per token, never re-running the prefix.
  stateful,
  // A window of T tokens, padded and cut as Keras's pad_sequences([last T tokens], maxlen=T): models with a
  // fixed input length T whose output has no time axis (Keras's tutorials: trained on prefixes padded 'pre',
  // generating from predict(pad_sequences(...))), or any model given GeneratorOptions::seq_length. The
  // padding is part of the input and shrinks as the text grows, so no carried state can reproduce it: each
  // token re-runs the padded window of T steps (T is fixed, so still O(1) in the generated length).
  padded_window,
  // A Bidirectional layer reads the future, so it cannot step causally: each token re-runs the last
  // `window` tokens (GeneratorOptions::window), unpadded, through the whole model.
  window,
};

// Where pad_sequences puts the padding: before the tokens ('pre', Keras's default) or after them.
enum class Padding { pre, post };

struct GeneratorOptions {
  // Context re-run per token in window mode (a Bidirectional model without a fixed input length); 0: all.
  std::int64_t window = 100;
  // Cut every context to its last `seq_length` tokens and pad it to that length (pad_sequences with
  // maxlen=seq_length, truncating 'pre'). Unset: the model's fixed input length where its output has no time
  // axis. A model with a fixed input length takes only that length.
  std::optional<std::int64_t> seq_length = std::nullopt;
  Padding padding = Padding::pre;
  // Id 0 is padding, not a token (Keras's Tokenizer): it is never drawn, and one-hot padding rows are
  // to_categorical(0). False where every id is a token (the Keras char-RNN's sorted(set(text))): any id may
  // be drawn, and one-hot padding rows are all zero. An Embedding is padded with id 0 either way.
  bool zero_is_padding = true;
  // Ids at or above this are never drawn (0: no limit): those the vocabulary has no token for, such as a
  // Keras Tokenizer's ids from num_words on.
  std::int64_t drawable_ids = 0;
};

// What a language model's output holds: probabilities (softmax) or logits (a linear Dense) over the
// vocabulary, from its last Dense or TimeDistributed(Dense), or a linear Dense and Activation('softmax').
// Throws Error, naming the layer, when its output is no distribution over tokens (sigmoid, relu, ...; an
// output of rank other than 2 or 3).
ScoreKind language_model_scores(const Model& model);

class Generator {
 public:
  // The model must be built with weights, end in a distribution over the vocabulary (Dense or
  // TimeDistributed(Dense) with softmax or linear activation, or such a Dense and Activation('softmax')), and
  // take token ids (an Embedding first) or one-hot rows (B,T,V); its weights are copied, so the model may
  // change afterwards.
  explicit Generator(const Model& model, const GeneratorOptions& options = {});

  GenerationMode mode() const { return mode_; }
  std::int64_t vocabulary_size() const { return vocabulary_size_; }  // V, the model's output size
  ScoreKind score_kind() const { return score_kind_; }
  bool one_hot_input() const { return one_hot_; }
  std::int64_t window() const { return window_; }  // T of the window modes (0 in window mode: all)
  // Whether generate() may draw `id`: not padding, and below drawable_ids.
  bool drawable(std::int64_t id) const;

  // Forgets everything and reads `context` (ids the input takes, at least one); next_scores() then holds
  // the distribution of the token after it.
  void start(std::span<const std::int64_t> context);
  // Appends one token to the context: one recurrent step in stateful mode.
  void push(std::int64_t id);
  // Probabilities or logits (score_kind()) of the next token, (V).
  std::span<const float> next_scores() const { return scores_; }

 private:
  // `ids` may hold kPaddingRow; the scores are the output at `step` (-1: the last), or the whole output of a
  // model whose output has no time axis.
  void run(const std::vector<std::int64_t>& ids, std::int64_t step = -1);
  void run_window();
  void check_id(std::int64_t id) const;

  std::optional<Sequential> twin_;  // optional: a default Sequential would take a name from Keras's counter
  GeneratorOptions options_;
  GenerationMode mode_ = GenerationMode::stateful;
  std::int64_t window_ = 0;  // T in padded_window mode, GeneratorOptions::window in window mode
  std::int64_t vocabulary_size_ = 0;
  std::int64_t input_ids_ = 0;  // ids the input takes: the Embedding's input_dim, or the one-hot width
  bool one_hot_ = false;        // the model takes (B,T,V) one-hot rows, not (B,T) ids
  bool output_has_time_ = false;
  ScoreKind score_kind_ = ScoreKind::probabilities;
  std::vector<std::int64_t> context_;  // window modes only: the tokens so far
  std::vector<float> scores_;          // (V)
  bool started_ = false;
};

// Feeds `seed` (at least one id) and then draws `count` tokens, calling `on_token` with each as it comes.
// Only drawable ids are drawn: padding id 0 (unless GeneratorOptions says it is a token) and ids from
// drawable_ids on get probability 0 before sampling (Keras's sentence_generation would print an arbitrary
// word for them). Returns the drawn ids.
std::vector<std::int64_t> generate(Generator& generator, std::span<const std::int64_t> seed,
                                   std::int64_t count, const SamplingOptions& sampling, Rng& rng,
                                   const std::function<void(std::int64_t id)>& on_token = {});

}  // namespace rnnkit
