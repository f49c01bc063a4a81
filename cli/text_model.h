// A language model for `generate` and `evaluate --text`, and how text becomes its token ids: a model written
// by `rnnkit train` (its tokenizer inside), or any Keras language model with a Keras Tokenizer's to_json() or
// the Keras char-RNN example's sorted(set(text)) characters.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "rnnkit/sequential.h"
#include "rnnkit/text/generation.h"
#include "rnnkit/text/tokenizer.h"

namespace rnnkit::cli {

// What travels inside a model file written by `rnnkit train` besides the model: the tokenizer (Keras's
// tokenizer.to_json()) and how the text was cut into tokens and windows.
inline constexpr const char* kTokenizerAsset = "tokenizer.json";
inline constexpr const char* kTextInfoAsset = "rnnkit_text.json";
// A classifier's SentencePiece model (its serialized ModelProto), in place of tokenizer.json at subword
// level.
inline constexpr const char* kSubwordAsset = "sentencepiece.model";

struct TextInfo {
  std::string task = "language-model";  // or "classify"
  std::string level = "char";           // "char" or "word"; a classifier's may be "subword"
  std::string samples = "windows";      // "windows" or "line-prefixes" (the tutorial's prefix n-grams)
  std::int64_t seq_length = 100;        // T of the training windows, or the padded prefix length
  int epochs_done = 0;                  // epochs behind the saved weights, for --resume
  // The batches the run made, which --resume takes again unless told otherwise (0 and none in older files).
  std::int64_t batch_size = 0;
  std::optional<double> validation_split{};
  std::string monitor = "val_loss";
  double best = std::numeric_limits<double>::infinity();
  // A classifier's: its class names by id, and how its inputs were padded to seq_length.
  std::vector<std::string> labels{};
  std::string padding = "pre", truncating = "pre";
  bool lower = false;  // a subword classifier's lowercasing (a Tokenizer keeps its own)

  std::string to_json() const;
  static TextInfo from_json(const std::string& text, const std::string& where);
};

// A model trained by `rnnkit train`, with its tokenizer.
struct TextModel {
  Sequential model;
  Tokenizer tokenizer;
  TextInfo info;
};
TextModel load_text_model(const std::string& path);

// How text becomes token ids and back: a Keras Tokenizer (id 0 is padding; ids from 1), or the Keras
// char-RNN example's characters (chars = sorted(set(text)), char_indices = {c: i}: every id from 0 is a
// character).
class TextVocabulary {
 public:
  // `source` names it in errors, e.g. "tokenizer 'tokenizer.json'".
  static TextVocabulary from_tokenizer(Tokenizer tokenizer, std::string source);
  // sorted(set(text)), by code point as Python sorts str; `lower` lowercases the text first, and later every
  // text encoded, as the Keras example's open(path).read().lower().
  static TextVocabulary from_characters(std::string_view text, bool lower, std::string source);

  bool char_level() const;
  bool zero_is_padding() const { return tokenizer_.has_value(); }
  // The ids the vocabulary gives are [0, id_count()): for a Tokenizer, min(num_words, len(word_index) + 1).
  std::int64_t id_count() const;
  const std::string& source() const { return source_; }
  const std::optional<Tokenizer>& tokenizer() const { return tokenizer_; }

  // The ids of the text's tokens, those outside the vocabulary dropped (or the Tokenizer's oov id).
  struct Encoded {
    std::vector<std::int64_t> ids;
    std::size_t tokens = 0;  // tokens in the text, known or not
  };
  Encoded encode(std::string_view text, std::string_view what) const;
  // The token's text as the Keras tutorials print it (index_word[id]); "" for an id without one.
  std::string token(std::int64_t id) const;
  std::optional<std::int64_t> find(const std::string& token) const;

  // Throws Error, naming both numbers, unless the model's input and output sizes fit this vocabulary.
  void check_fits(const Model& model, const std::string& model_path) const;

 private:
  std::optional<Tokenizer> tokenizer_;
  std::vector<std::string> characters_;  // sorted(set(text))
  std::unordered_map<std::string, std::int64_t> character_ids_;
  bool lower_ = false;
  std::string source_;
};

// The flags of `generate` and `evaluate --text` that say how to read a model and its text.
struct TextModelFlags {
  std::string tokenizer;        // Keras's tokenizer.to_json()
  std::string vocabulary_from;  // a text whose sorted(set(text)) is the character vocabulary
  bool lower = false;           // with vocabulary_from
  std::string level;            // "char" or "word"; empty: from the vocabulary
  std::optional<std::int64_t> seq_length;
  std::string padding;  // "pre" or "post"; empty: pre

  bool any() const {
    return !tokenizer.empty() || !vocabulary_from.empty() || lower || !level.empty() || seq_length ||
           !padding.empty();
  }
};
void add_text_model_options(CLI::App& command, TextModelFlags& flags);

// Keras's tokenizer.to_json() read from a file (also that text saved once more as a JSON string); errors
// name the file and say what it looks like instead.
Tokenizer read_tokenizer_file(const std::string& path);

struct LanguageModel {
  Generator generator;
  TextVocabulary vocabulary;
  std::string level;  // "char" (tokens joined directly) or "word" (joined by a space)
};
LanguageModel load_language_model(const std::string& path, const TextModelFlags& flags);

}  // namespace rnnkit::cli
