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

// Stands in a context for a padding position: id 0 for an Embedding, a one-hot padding row otherwise.
constexpr std::int64_t kPaddingRow = -1;

// The activation that ends the model: a last Dense (or TimeDistributed(Dense)), or a last Activation layer
// after such a linear Dense, as the Keras char-RNN example's Dense(V) + Activation('softmax').
std::string output_activation(const Model& model) {
  const Layer& last = model.layer(model.size() - 1);
  const auto dense_activation = [](const Layer& layer) -> std::optional<std::string> {
    const nlohmann::json config = layer.config();
    if (layer.class_name() == "Dense") return config.value("activation", "linear");
    if (layer.class_name() == "TimeDistributed" && config.contains("layer") &&
        config["layer"].value("class_name", "") == "Dense")
      return config["layer"]["config"].value("activation", "linear");
    return std::nullopt;
  };
  if (const auto activation = dense_activation(last)) return *activation;
  if (last.class_name() == "Activation") {
    const std::string activation = last.config().value("activation", "linear");
    const auto before =
        model.size() >= 2 ? dense_activation(model.layer(model.size() - 2)) : std::optional<std::string>();
    check(before.has_value() && *before == "linear", "generation: the model's last layer '", last.name(),
          "' is Activation('", activation, "'), but the layer before it is not a Dense without activation: ",
          "the output is not a distribution over the vocabulary");
    return activation;
  }
  fail(
      "generation: the model must end in Dense(V) (or TimeDistributed(Dense(V)), or Dense(V) and "
      "Activation('softmax')) giving the next token's distribution over the vocabulary; its last layer '",
      last.name(), "' is ", last.class_name());
}

// The model's layers again, with free sequence length and batch 1, recurrent layers stateful when asked:
// the same layer code, only the config changes (the weights are copied by the caller).
Sequential make_twin(const Model& model, bool stateful, std::optional<std::int64_t> one_hot_width) {
  Sequential twin({.name = model.name() + "_generator", .seed = 0});
  for (std::size_t i = 0; i < model.size(); ++i) {
    const Layer& layer = model.layer(i);
    nlohmann::json config = layer.config();
    for (const char* key : {"batch_input_shape", "batch_shape", "input_shape", "input_length"})
      config.erase(key);
    // A stateful layer needs its batch size.
    if (i == 0)
      config["batch_input_shape"] =
          one_hot_width ? nlohmann::json{1, nullptr, *one_hot_width} : nlohmann::json{1, nullptr};
    if (dynamic_cast<const Recurrent*>(&layer) != nullptr) config["stateful"] = stateful;
    twin.add(layer_from_config({{"class_name", layer.class_name()}, {"config", config}}, "generation twin"));
  }
  twin.set_weights(model.get_weights());
  return twin;
}

}  // namespace

ScoreKind language_model_scores(const Model& model) {
  check(model.built() && model.size() >= 1, "generation: model '", model.name(), "' must be built");
  const std::string activation = output_activation(model);
  check(activation == "softmax" || activation == "linear", "generation: the model's output activation must ",
        "be softmax (probabilities) or linear (logits) over the vocabulary, not '", activation, "'");
  const Shape output_shape = model.output_shape();
  check(output_shape.size() == 2 || output_shape.size() == 3, "generation: the model's output ",
        shape_string(output_shape), " is not (B,V) or (B,T,V) scores over the vocabulary");
  return activation == "softmax" ? ScoreKind::probabilities : ScoreKind::logits;
}

Generator::Generator(const Model& model, const GeneratorOptions& options) : options_(options) {
  check(model.built() && model.size() >= 2, "generation: model '", model.name(),
        "' must be built, with weights, and have an input layer and an output layer");
  const Shape input_shape = model.input_shape();
  if (const auto* embedding = dynamic_cast<const Embedding*>(&model.layer(0))) {
    input_ids_ = embedding->input_dim();
  } else {
    check(input_shape.size() == 3 && input_shape[2] != kNone, "generation: model '", model.name(),
          "' must take token ids (an Embedding first) or one-hot rows (B,T,V); its first layer is ",
          model.layer(0).class_name(), " taking ", shape_string(input_shape));
    one_hot_ = true;
    input_ids_ = input_shape[2];
  }
  score_kind_ = language_model_scores(model);
  const Shape output_shape = model.output_shape();
  output_has_time_ = output_shape.size() == 3;
  vocabulary_size_ = output_shape.back();
  check(options_.drawable_ids >= 0, "generation: drawable_ids must be >= 0, received ",
        options_.drawable_ids);
  // Each drawn id is fed back: the input must take every id the output can give.
  const std::int64_t drawn_below =
      options_.drawable_ids > 0 ? std::min(options_.drawable_ids, vocabulary_size_) : vocabulary_size_;
  check(drawn_below <= input_ids_, "generation: the model's output has ", drawn_below,
        " token ids, but its input takes ids below ", input_ids_,
        one_hot_ ? " (the width of its one-hot rows)" : " (its Embedding's input_dim)");

  bool bidirectional = false;
  for (std::size_t i = 0; i < model.size(); ++i)
    if (dynamic_cast<const Bidirectional*>(&model.layer(i)) != nullptr) bidirectional = true;
  const std::int64_t fixed_length = input_shape.size() >= 2 ? input_shape[1] : kNone;
  if (options_.seq_length) {
    check(*options_.seq_length > 0, "generation: seq_length must be positive, received ",
          *options_.seq_length);
    check(fixed_length == kNone || fixed_length == *options_.seq_length, "generation: seq_length ",
          *options_.seq_length, " contradicts model '", model.name(), "', whose input length is fixed at ",
          fixed_length);
  }
  const std::int64_t length = options_.seq_length.value_or(fixed_length);
  if (length != kNone && (!output_has_time_ || options_.seq_length)) {
    mode_ = GenerationMode::padded_window;
    window_ = length;
  } else if (bidirectional) {
    mode_ = GenerationMode::window;
    window_ = fixed_length != kNone ? fixed_length : options_.window;
    check(window_ >= 0, "generation: the window must be >= 0 (0: the whole context), received ", window_);
  }
  twin_.emplace(make_twin(model, mode_ == GenerationMode::stateful,
                          one_hot_ ? std::optional(input_ids_) : std::nullopt));
}

bool Generator::drawable(std::int64_t id) const {
  if (id == 0 && options_.zero_is_padding) return false;
  return id >= 0 && id < vocabulary_size_ && (options_.drawable_ids == 0 || id < options_.drawable_ids);
}

void Generator::check_id(std::int64_t id) const {
  check(id >= 0 && id < input_ids_, "generation: token id ", id, " is outside the model's input ids [0, ",
        input_ids_, ")");
}

void Generator::run(const std::vector<std::int64_t>& ids, std::int64_t step) {
  const auto steps = static_cast<std::int64_t>(ids.size());
  Tensor input = one_hot_ ? Tensor({1, steps, input_ids_}) : Tensor({1, steps});  // (1,T,V) or (1,T)
  for (std::int64_t t = 0; t < steps; ++t) {
    const std::int64_t id = ids[static_cast<std::size_t>(t)];
    if (!one_hot_)
      input[t] = static_cast<float>(id == kPaddingRow ? 0 : id);
    else if (id != kPaddingRow)
      input[t * input_ids_ + id] = 1.0f;
    else if (options_.zero_is_padding)  // to_categorical(0), as pad_sequences' zeros become
      input[t * input_ids_] = 1.0f;
  }
  const Tensor output = (*twin_)(input);
  const auto values = output.values();
  const std::int64_t row = output_has_time_ && step >= 0 ? step : (output_has_time_ ? steps - 1 : 0);
  const auto begin = values.begin() + row * vocabulary_size_;
  scores_.assign(begin, begin + vocabulary_size_);
}

void Generator::run_window() {
  const auto size = static_cast<std::int64_t>(context_.size());
  const std::int64_t length = window_ > 0 ? std::min(window_, size) : size;
  std::vector<std::int64_t> input(context_.end() - length, context_.end());
  if (mode_ == GenerationMode::window) {
    run(input);
    return;
  }
  // pad_sequences: the padding before the tokens ('pre') or after them ('post'); with 'post' an output over
  // time is read at the last token, as its prediction of the next one.
  const auto padding = static_cast<std::size_t>(window_ - length);
  if (options_.padding == Padding::pre) {
    input.insert(input.begin(), padding, kPaddingRow);
    run(input);
  } else {
    input.insert(input.end(), padding, kPaddingRow);
    run(input, length - 1);
  }
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
  if (window_ > 0 && static_cast<std::int64_t>(context_.size()) > 2 * window_)
    context_.erase(context_.begin(), context_.end() - window_);
  run_window();
}

std::vector<std::int64_t> generate(Generator& generator, std::span<const std::int64_t> seed,
                                   std::int64_t count, const SamplingOptions& sampling, Rng& rng,
                                   const std::function<void(std::int64_t id)>& on_token) {
  check(count >= 0, "generation: the number of tokens must be >= 0, received ", count);
  check_sampling_options(sampling);
  bool any = false;
  for (std::int64_t id = 0; id < generator.vocabulary_size() && !any; ++id) any = generator.drawable(id);
  check(any, "generation: the model's vocabulary has no token that may be drawn (besides padding id 0)");
  generator.start(seed);
  std::vector<std::int64_t> drawn;
  drawn.reserve(static_cast<std::size_t>(count));
  std::vector<float> scores;
  const float banned =
      generator.score_kind() == ScoreKind::probabilities ? 0.0f : -std::numeric_limits<float>::infinity();
  for (std::int64_t i = 0; i < count; ++i) {
    const auto next = generator.next_scores();
    scores.assign(next.begin(), next.end());
    for (std::size_t id = 0; id < scores.size(); ++id)
      if (!generator.drawable(static_cast<std::int64_t>(id))) scores[id] = banned;
    const std::int64_t id = sample_token(scores, generator.score_kind(), sampling, rng);
    drawn.push_back(id);
    if (on_token) on_token(id);
    if (i + 1 < count) generator.push(id);
  }
  return drawn;
}

}  // namespace rnnkit
