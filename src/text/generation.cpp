#include "rnnkit/text/generation.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "rnnkit/error.h"
#include "rnnkit/keras_config.h"
#include "rnnkit/layers/bidirectional.h"
#include "rnnkit/layers/dense.h"
#include "rnnkit/layers/embedding.h"
#include "rnnkit/layers/recurrent.h"
#include "rnnkit/layers/time_distributed.h"

namespace rnnkit {
namespace {

// The activation of the model's last layer, Dense or TimeDistributed(Dense).
std::string output_activation(const Layer& last) {
  const nlohmann::json config = last.config();
  if (last.class_name() == "Dense") return config.value("activation", "linear");
  if (last.class_name() == "TimeDistributed" && config.contains("layer") &&
      config["layer"].value("class_name", "") == "Dense")
    return config["layer"]["config"].value("activation", "linear");
  fail(
      "generation: the model must end in Dense(V) (or TimeDistributed(Dense(V))) giving the next token's "
      "distribution; its last layer '",
      last.name(), "' is ", last.class_name());
}

// The model's layers again, with free sequence length and batch 1, recurrent layers stateful when asked:
// the same layer code, only the config changes (the weights are copied by the caller).
Sequential make_twin(const Sequential& model, bool stateful) {
  Sequential twin({.name = model.name() + "_generator", .seed = 0});
  for (std::size_t i = 0; i < model.size(); ++i) {
    const Layer& layer = model.layer(i);
    nlohmann::json config = layer.config();
    for (const char* key : {"batch_input_shape", "batch_shape", "input_shape", "input_length"})
      config.erase(key);
    if (i == 0) config["batch_input_shape"] = {1, nullptr};  // a stateful layer needs its batch size
    if (stateful && dynamic_cast<const Recurrent*>(&layer) != nullptr) config["stateful"] = true;
    twin.add(layer_from_config({{"class_name", layer.class_name()}, {"config", config}}, "generation twin"));
  }
  twin.set_weights(model.get_weights());
  return twin;
}

}  // namespace

Generator::Generator(const Sequential& model, const GeneratorOptions& options) {
  check(model.built() && model.size() >= 2, "generation: model '", model.name(),
        "' must be built, with weights, and have an Embedding and an output layer");
  const auto* embedding = dynamic_cast<const Embedding*>(&model.layer(0));
  check(embedding != nullptr, "generation: the first layer of model '", model.name(),
        "' must be an Embedding taking token ids; it is ", model.layer(0).class_name());
  embedding_rows_ = embedding->input_dim();
  const std::string activation = output_activation(model.layer(model.size() - 1));
  check(activation == "softmax" || activation == "linear", "generation: the last layer's activation must be ",
        "softmax (probabilities) or linear (logits), not '", activation, "'");
  score_kind_ = activation == "softmax" ? ScoreKind::probabilities : ScoreKind::logits;
  vocabulary_size_ = model.output_shape().back();

  bool bidirectional = false;
  const Recurrent* last_recurrent = nullptr;
  for (std::size_t i = 0; i < model.size(); ++i) {
    if (dynamic_cast<const Bidirectional*>(&model.layer(i)) != nullptr) bidirectional = true;
    if (const auto* recurrent = dynamic_cast<const Recurrent*>(&model.layer(i))) last_recurrent = recurrent;
  }
  const std::int64_t fixed_length = model.input_shape().size() >= 2 ? model.input_shape()[1] : kNone;
  if (bidirectional) {
    mode_ = GenerationMode::window;
    window_ = fixed_length != kNone ? fixed_length : options.window;
    check(window_ > 0, "generation: the window must be positive, received ", window_);
  } else if (fixed_length != kNone && last_recurrent != nullptr &&
             !last_recurrent->options().return_sequences) {
    mode_ = GenerationMode::padded_window;
    window_ = fixed_length;
  }
  twin_.emplace(make_twin(model, mode_ != GenerationMode::window));
}

void Generator::check_id(std::int64_t id) const {
  check(id >= 0 && id < embedding_rows_, "generation: token id ", id, " is outside the Embedding's [0, ",
        embedding_rows_, ")");
}

// One call of the twin on (1, n) ids; the scores are the last position's output.
void Generator::run(const std::vector<std::int64_t>& ids) {
  Tensor input({1, static_cast<std::int64_t>(ids.size())});
  for (std::size_t i = 0; i < ids.size(); ++i)
    input[static_cast<std::int64_t>(i)] = static_cast<float>(ids[i]);
  const Tensor output = (*twin_)(input);
  const auto values = output.values();
  scores_.assign(values.end() - vocabulary_size_, values.end());
}

void Generator::run_window() {
  const auto length = std::min<std::int64_t>(window_, static_cast<std::int64_t>(context_.size()));
  const std::vector<std::int64_t> recent(context_.end() - length, context_.end());
  twin_->reset_states();
  // pad_sequences(padding='pre'): the zeros first, carried into the window by the stateful twin.
  if (mode_ == GenerationMode::padded_window && length < window_)
    run(std::vector<std::int64_t>(static_cast<std::size_t>(window_ - length), 0));
  run(recent);
}

void Generator::start(std::span<const std::int64_t> context) {
  check(!context.empty(), "generation: the seed is empty; give at least one known token");
  for (const std::int64_t id : context) check_id(id);
  started_ = true;
  if (mode_ == GenerationMode::stateful) {
    twin_->reset_states();
    run(std::vector<std::int64_t>(context.begin(), context.end()));
    return;
  }
  context_.assign(context.begin(), context.end());
  run_window();
}

void Generator::push(std::int64_t id) {
  check(started_, "generation: push() before start()");
  check_id(id);
  if (mode_ == GenerationMode::stateful) {
    run({id});
    return;
  }
  context_.push_back(id);
  // Only the last window matters: keep the context from growing without bound.
  if (static_cast<std::int64_t>(context_.size()) > 2 * window_)
    context_.erase(context_.begin(), context_.end() - window_);
  run_window();
}

std::vector<std::int64_t> generate(Generator& generator, std::span<const std::int64_t> seed,
                                   std::int64_t count, const SamplingOptions& sampling, Rng& rng,
                                   const std::function<void(std::int64_t id)>& on_token) {
  check(count >= 0, "generation: the number of tokens must be >= 0, received ", count);
  check_sampling_options(sampling);
  check(generator.vocabulary_size() >= 2,
        "generation: the model's vocabulary has no token besides padding id 0");
  generator.start(seed);
  std::vector<std::int64_t> drawn;
  drawn.reserve(static_cast<std::size_t>(count));
  std::vector<float> scores;
  for (std::int64_t i = 0; i < count; ++i) {
    const auto next = generator.next_scores();
    scores.assign(next.begin(), next.end());
    scores[0] =
        generator.score_kind() == ScoreKind::probabilities ? 0.0f : -std::numeric_limits<float>::infinity();
    const std::int64_t id = sample_token(scores, generator.score_kind(), sampling, rng);
    drawn.push_back(id);
    if (on_token) on_token(id);
    if (i + 1 < count) generator.push(id);
  }
  return drawn;
}

}  // namespace rnnkit
