#include "text_model.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <sstream>

#include "rnnkit/error.h"
#include "rnnkit/layers/embedding.h"
#include "rnnkit/model_file.h"
#include "rnnkit/text/utf8.h"

namespace rnnkit::cli {
namespace {

std::string quoted(const std::string& path) {
  return "'" + path + "'";
}

// The model's fixed input length, or kNone.
std::int64_t fixed_input_length(const Model& model) {
  return model.built() && model.input_shape().size() >= 2 ? model.input_shape()[1] : kNone;
}

}  // namespace

// Also taken: that text saved once more as a JSON string (json.dump(tokenizer.to_json(), f), read back in
// Python with tokenizer_from_json(json.load(f))).
Tokenizer read_tokenizer_file(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  check(file.good(), "tokenizer file ", quoted(path), " cannot be read");
  std::string text((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  const std::string where = "tokenizer file " + quoted(path);
  nlohmann::json root;
  try {
    root = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& error) {
    fail(where, " is not JSON (Keras's tokenizer.to_json()): ", error.what());
  }
  if (root.is_string()) {
    text = root.get<std::string>();
    try {
      root = nlohmann::json::parse(text);
    } catch (const nlohmann::json::exception& error) {
      fail(where, " holds a JSON string that is not Keras's tokenizer.to_json(): ", error.what());
    }
  }
  check(root.is_object(), where, " must hold Keras's tokenizer.to_json() object, not a JSON ",
        root.type_name());
  if (root.contains("class_name"))
    check(root["class_name"] == "Tokenizer", where, ": field class_name is ", root["class_name"].dump(),
          ", not \"Tokenizer\": it is not Keras's tokenizer.to_json()");
  if (!root.contains("config")) {
    const bool word_index =
        !root.empty() &&
        std::all_of(root.begin(), root.end(), [](const nlohmann::json& v) { return v.is_number_integer(); });
    fail(where, " has no field \"config\": it is not Keras's tokenizer.to_json()",
         word_index ? " (it looks like a bare word_index; save tokenizer.to_json() instead)" : "");
  }
  try {
    return Tokenizer::from_json(text);
  } catch (const Error& error) {
    fail(where, ": ", error.what());
  }
}

std::string TextInfo::to_json() const {
  nlohmann::json json{
      {"level", level},           {"samples", samples},
      {"seq_length", seq_length}, {"epochs_done", epochs_done},
      {"monitor", monitor},       {"best", std::isfinite(best) ? nlohmann::json(best) : nlohmann::json()}};
  if (batch_size > 0) json["batch_size"] = batch_size;
  if (validation_split) json["validation_split"] = *validation_split;
  if (task != "language-model") {
    json["task"] = task;
    json["labels"] = labels;
    json["padding"] = padding;
    json["truncating"] = truncating;
    json["lower"] = lower;
  }
  return json.dump(1);
}

TextInfo TextInfo::from_json(const std::string& text, const std::string& where) {
  try {
    const nlohmann::json json = nlohmann::json::parse(text);
    TextInfo info;
    info.task = json.value("task", "language-model");
    check(info.task == "language-model" || info.task == "classify", where,
          ": task must be \"language-model\" or \"classify\"");
    info.level = json.at("level").get<std::string>();
    check(
        info.level == "char" || info.level == "word" || (info.task == "classify" && info.level == "subword"),
        where, ": level must be \"char\" or \"word\"", info.task == "classify" ? " or \"subword\"" : "");
    if (info.task == "classify") {
      info.labels = json.at("labels").get<std::vector<std::string>>();
      info.padding = json.value("padding", "pre");
      info.truncating = json.value("truncating", "pre");
      info.lower = json.value("lower", false);
    }
    info.samples = json.value("samples", "windows");
    info.seq_length = json.at("seq_length").get<std::int64_t>();
    info.epochs_done = json.value("epochs_done", 0);
    info.monitor = json.value("monitor", "val_loss");
    if (json.contains("best") && json["best"].is_number()) info.best = json["best"].get<double>();
    info.batch_size = json.value("batch_size", std::int64_t{0});
    if (json.contains("validation_split")) info.validation_split = json["validation_split"].get<double>();
    return info;
  } catch (const nlohmann::json::exception& error) {
    fail(where, ": malformed: ", error.what());
  }
}

TextModel load_text_model(const std::string& path) {
  LoadedModel loaded = load_model_file(path);
  const auto tokenizer = loaded.assets.find(kTokenizerAsset);
  const auto info = loaded.assets.find(kTextInfoAsset);
  check(tokenizer != loaded.assets.end() && info != loaded.assets.end(), "model file ", quoted(path),
        " has no ", kTokenizerAsset, " and ", kTextInfoAsset,
        " assets: it was not written by `rnnkit train`");
  TextInfo text_info =
      TextInfo::from_json(info->second, "model file " + quoted(path) + " asset " + kTextInfoAsset);
  check(text_info.task == "language-model", "model file ", quoted(path),
        " is a text classifier, not a language model: use `rnnkit predict` or `rnnkit evaluate --data`");
  return {std::move(loaded.model), Tokenizer::from_json(tokenizer->second), std::move(text_info)};
}

TextVocabulary TextVocabulary::from_tokenizer(Tokenizer tokenizer, std::string source) {
  TextVocabulary vocabulary;
  vocabulary.tokenizer_ = std::move(tokenizer);
  vocabulary.source_ = std::move(source);
  return vocabulary;
}

TextVocabulary TextVocabulary::from_characters(std::string_view text, bool lower, std::string source) {
  TextVocabulary vocabulary;
  vocabulary.lower_ = lower;
  vocabulary.source_ = std::move(source);
  std::vector<std::string> characters =
      split_code_points(lower ? to_lower(text, vocabulary.source_) : std::string(text), vocabulary.source_);
  // Byte order of UTF-8 is code point order, which is how Python sorts str.
  std::sort(characters.begin(), characters.end());
  characters.erase(std::unique(characters.begin(), characters.end()), characters.end());
  check(!characters.empty(), vocabulary.source_, " has no characters to make a vocabulary of");
  for (std::size_t i = 0; i < characters.size(); ++i)
    vocabulary.character_ids_[characters[i]] = static_cast<std::int64_t>(i);
  vocabulary.characters_ = std::move(characters);
  return vocabulary;
}

bool TextVocabulary::char_level() const {
  return tokenizer_ ? tokenizer_->options().char_level : true;
}

std::int64_t TextVocabulary::id_count() const {
  if (!tokenizer_) return static_cast<std::int64_t>(characters_.size());
  std::int64_t count = 1;  // id 0, padding
  for (const auto& [word, index] : tokenizer_->word_index()) count = std::max<std::int64_t>(count, index + 1);
  const int num_words = tokenizer_->options().num_words.value_or(0);
  return num_words > 0 ? std::min<std::int64_t>(count, num_words) : count;
}

TextVocabulary::Encoded TextVocabulary::encode(std::string_view text, std::string_view what) const {
  check_utf8(text, what);
  Encoded encoded;
  if (tokenizer_) {
    const std::vector<int> ids = tokenizer_->text_to_sequence(text);
    encoded.ids.assign(ids.begin(), ids.end());
    encoded.tokens = tokenizer_->tokenize(text, what).size();
    return encoded;
  }
  const std::vector<std::string> characters =
      split_code_points(lower_ ? to_lower(text, what) : std::string(text), what);
  encoded.tokens = characters.size();
  for (const std::string& character : characters)
    if (const auto found = character_ids_.find(character); found != character_ids_.end())
      encoded.ids.push_back(found->second);
  return encoded;
}

std::string TextVocabulary::token(std::int64_t id) const {
  if (!tokenizer_)
    return id >= 0 && id < std::ssize(characters_) ? characters_[static_cast<std::size_t>(id)]
                                                   : std::string();
  const std::string* word = tokenizer_->index_word().find(static_cast<int>(id));
  return word ? *word : std::string();
}

std::optional<std::int64_t> TextVocabulary::find(const std::string& token) const {
  if (!tokenizer_) {
    const auto found = character_ids_.find(token);
    return found == character_ids_.end() ? std::nullopt : std::optional<std::int64_t>(found->second);
  }
  const int* index = tokenizer_->word_index().find(token);
  if (!index || *index >= id_count()) return std::nullopt;
  return *index;
}

void TextVocabulary::check_fits(const Model& model, const std::string& model_path) const {
  const std::int64_t outputs = model.output_shape().back();
  const std::string where = "model " + quoted(model_path);
  if (tokenizer_) {
    const auto words = static_cast<std::int64_t>(tokenizer_->word_index().size()) + 1;
    const int num_words = tokenizer_->options().num_words.value_or(0);
    // Keras's tutorials size the output len(word_index) + 1 (index 0 is padding), or num_words when set.
    check(outputs == tokenizer_->vocabulary_size() || (num_words > 0 && outputs == words), where, " outputs ",
          outputs, " classes, but ", source_, " has len(word_index) + 1 = ", words, " ids",
          num_words > 0 ? " and num_words = " + std::to_string(num_words) : std::string(),
          ": a model over this tokenizer ends in Dense(", tokenizer_->vocabulary_size(), ")");
  } else {
    check(outputs == std::ssize(characters_), where, " outputs ", outputs, " classes, but ", source_, " are ",
          characters_.size(), " (sorted(set(text)), as the Keras char-RNN example builds its vocabulary)");
  }
  if (const auto* embedding = dynamic_cast<const Embedding*>(&model.layer(0))) {
    check(embedding->input_dim() >= id_count(), where, "'s Embedding takes ids below input_dim ",
          embedding->input_dim(), ", but ", source_, " gives ids up to ", id_count() - 1);
  } else if (model.input_shape().size() == 3) {
    const std::int64_t width = model.input_shape()[2];
    check(tokenizer_ ? width >= id_count() : width == std::ssize(characters_), where,
          " takes one-hot rows of ", width, " values, but ", source_,
          tokenizer_ ? " gives ids up to " : " are ", tokenizer_ ? id_count() - 1 : std::ssize(characters_),
          tokenizer_ ? "" : " (sorted(set(text)))");
  }
}

void add_text_model_options(CLI::App& command, TextModelFlags& flags) {
  command.add_option(
      "--tokenizer", flags.tokenizer,
      "For a model trained in Keras: its Tokenizer as tokenizer.to_json() wrote it (word_index, num_words, "
      "char_level, lower, filters, split, oov_token are read as Keras's tokenizer_from_json does)");
  command.add_option(
      "--vocabulary-from", flags.vocabulary_from,
      "For a Keras char-RNN without a Tokenizer: the training text, whose sorted(set(text)) characters are "
      "the "
      "vocabulary (id i = the i-th character), as the Keras lstm_text_generation example builds it");
  command.add_flag(
      "--lower", flags.lower,
      "With --vocabulary-from: lowercase that text and every text read, as the example's .lower()");
  command.add_option("--level", flags.level,
                     "char (tokens joined directly) or word (joined by a space); must agree with the "
                     "tokenizer's char_level, which is the default (--vocabulary-from is char)");
  command.add_option("--seq-length", flags.seq_length,
                     "Predict from the last N tokens, padded to N as pad_sequences(maxlen=N) (default: the "
                     "model's fixed input length where its output has no time axis, else the whole context)");
  command.add_option("--padding", flags.padding,
                     "pre or post: where pad_sequences puts the padding of a window shorter than its length "
                     "(default: pre)");
}

LanguageModel load_language_model(const std::string& path, const TextModelFlags& flags) {
  check(flags.level.empty() || flags.level == "char" || flags.level == "word", "--level '", flags.level,
        "' is not char or word");
  check(flags.padding.empty() || flags.padding == "pre" || flags.padding == "post", "--padding '",
        flags.padding, "' is not pre or post");
  check(!flags.seq_length || *flags.seq_length > 0, "--seq-length must be positive, received ",
        flags.seq_length.value_or(0));
  check(flags.tokenizer.empty() || flags.vocabulary_from.empty(),
        "give --tokenizer or --vocabulary-from, not both");
  check(!flags.lower || !flags.vocabulary_from.empty(),
        "--lower goes with --vocabulary-from (a tokenizer's own config.lower says whether it lowercases)");

  LoadedModel loaded = load_model_file(path);
  std::optional<TextVocabulary> vocabulary;
  GeneratorOptions generation{.window = 0};  // a Keras model without a fixed length: the whole context
  if (!flags.tokenizer.empty()) {
    vocabulary = TextVocabulary::from_tokenizer(read_tokenizer_file(flags.tokenizer),
                                                "tokenizer " + quoted(flags.tokenizer));
  } else if (!flags.vocabulary_from.empty()) {
    check(flags.level != "word", "--level word: --vocabulary-from makes a character vocabulary ",
          "(sorted(set(text))); a word-level model needs its --tokenizer");
    vocabulary = TextVocabulary::from_characters(read_text_file(flags.vocabulary_from), flags.lower,
                                                 "the characters of " + quoted(flags.vocabulary_from));
  } else {
    const auto tokenizer = loaded.assets.find(kTokenizerAsset);
    const auto info = loaded.assets.find(kTextInfoAsset);
    check(info == loaded.assets.end() ||
              TextInfo::from_json(info->second, "model file " + quoted(path)).task == "language-model",
          "model file ", quoted(path),
          " is a text classifier, not a language model: use `rnnkit predict` or `rnnkit evaluate --data`");
    check(
        tokenizer != loaded.assets.end() && info != loaded.assets.end(), "model file ", quoted(path),
        " has no ", kTokenizerAsset, " and ", kTextInfoAsset,
        " assets: it was not written by `rnnkit train`; for a model trained in Keras give its tokenizer ",
        "(--tokenizer tokenizer.json, from tokenizer.to_json()) or its characters (--vocabulary-from text)");
    vocabulary = TextVocabulary::from_tokenizer(Tokenizer::from_json(tokenizer->second),
                                                "the tokenizer inside " + quoted(path));
    generation.window =
        TextInfo::from_json(info->second, "model file " + quoted(path) + " asset " + kTextInfoAsset)
            .seq_length;
  }
  const std::string level = vocabulary->char_level() ? "char" : "word";
  check(flags.level.empty() || flags.level == level, "--level ", flags.level, " contradicts ",
        vocabulary->source(), ", which is ", level, " level",
        vocabulary->tokenizer()
            ? (vocabulary->char_level() ? " (config.char_level is true)" : " (config.char_level is false)")
            : "");
  check(loaded.model.built(), "model ", quoted(path),
        " is not built: its file records no input shape (give the first layer an input shape in Keras)");

  const std::int64_t fixed = fixed_input_length(loaded.model);
  if (flags.seq_length)
    check(fixed == kNone || fixed == *flags.seq_length, "--seq-length ", *flags.seq_length,
          " contradicts model ", quoted(path), ", whose input length is fixed at ", fixed);
  generation.seq_length = flags.seq_length;
  if (!flags.padding.empty()) {
    check(flags.seq_length || fixed != kNone, "--padding ", flags.padding, ": model ", quoted(path),
          " has no fixed input length to pad to; give --seq-length too");
    generation.seq_length = flags.seq_length.value_or(fixed);  // a padding asks for padded windows
    generation.padding = flags.padding == "post" ? Padding::post : Padding::pre;
  }
  generation.zero_is_padding = vocabulary->zero_is_padding();
  generation.drawable_ids = vocabulary->id_count();
  // The output's kind first (a model that gives no distribution over tokens), then its size.
  try {
    language_model_scores(loaded.model);
  } catch (const Error& error) {
    fail("model ", quoted(path), ": ", error.what());
  }
  vocabulary->check_fits(loaded.model, path);
  std::optional<Generator> generator;
  try {
    generator.emplace(loaded.model, generation);
  } catch (const Error& error) {
    fail("model ", quoted(path), ": ", error.what());
  }
  return {std::move(*generator), std::move(*vocabulary), level};
}

}  // namespace rnnkit::cli
