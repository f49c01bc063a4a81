// Generation: next-token distributions from a trained language model, one recurrent step per token.
//
//   rnnkit::Generator generator(model);                       // Embedding + RNNs + Dense(V, softmax|linear)
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

// How a Generator turns a context into the next distribution; chosen from the model.
enum class GenerationMode {
  // Embedding + unidirectional RNNs: a batch-1 stateful twin of the model (the same config with
  // stateful=true and the same weights) is fed the context once, then one step per token, carrying the
  // recurrent states: O(1) per token, never re-running the prefix.
  stateful,
  // Keras's tutorial models: a fixed input length T, the last RNN without return_sequences, trained on
  // prefixes padded 'pre' with zeros. Keras's sentence_generation predicts from pad_sequences(the last T
  // tokens, maxlen=T): the zeros are part of the input and their number shrinks as the text grows, so no
  // carried state can reproduce it. Each token re-runs that padded window of T steps (T is fixed and small,
  // so still O(1) in the generated length), exactly as Keras does.
  padded_window,
  // A Bidirectional layer reads the future, so it cannot step causally: each token re-runs the last
  // `window` tokens (GeneratorOptions::window) through the whole model.
  window,
};

struct GeneratorOptions {
  std::int64_t window = 100;  // context length re-run in window mode (models with no fixed input length)
};

class Generator {
 public:
  // The model must be built with weights, end in Dense (or TimeDistributed(Dense)) with softmax or linear
  // activation, and take token ids; its weights are copied, so the model may change afterwards.
  explicit Generator(const Sequential& model, const GeneratorOptions& options = {});

  GenerationMode mode() const { return mode_; }
  std::int64_t vocabulary_size() const { return vocabulary_size_; }  // V
  ScoreKind score_kind() const { return score_kind_; }

  // Forgets everything and reads `context` (ids in [0, V), at least one); next_scores() then holds the
  // distribution of the token after it.
  void start(std::span<const std::int64_t> context);
  // Appends one token to the context: one recurrent step in stateful mode.
  void push(std::int64_t id);
  // Probabilities or logits (score_kind()) of the next token, (V).
  std::span<const float> next_scores() const { return scores_; }

 private:
  void run(const std::vector<std::int64_t>& ids);
  void run_window();
  void check_id(std::int64_t id) const;

  std::optional<Sequential> twin_;  // optional: a default Sequential would take a name from Keras's counter
  GenerationMode mode_ = GenerationMode::stateful;
  std::int64_t window_ = 0;  // T in padded_window mode, GeneratorOptions::window in window mode
  std::int64_t vocabulary_size_ = 0;
  std::int64_t embedding_rows_ = 0;  // the Embedding's input_dim: ids must be below it
  ScoreKind score_kind_ = ScoreKind::probabilities;
  std::vector<std::int64_t> context_;  // window modes only: the tokens so far
  std::vector<float> scores_;          // (V)
  bool started_ = false;
};

// Feeds `seed` (at least one id) and then draws `count` tokens, calling `on_token` with each as it comes.
// Id 0 is padding, not a token: it is never drawn (its probability is set to 0 before sampling; Keras's
// sentence_generation would print an arbitrary word for it). Returns the drawn ids.
std::vector<std::int64_t> generate(Generator& generator, std::span<const std::int64_t> seed,
                                   std::int64_t count, const SamplingOptions& sampling, Rng& rng,
                                   const std::function<void(std::int64_t id)>& on_token = {});

}  // namespace rnnkit
