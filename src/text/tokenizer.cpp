#include "rnnkit/text/tokenizer.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "rnnkit/error.h"
#include "rnnkit/text/utf8.h"

namespace rnnkit {
namespace {

using OrderedJson = nlohmann::ordered_json;

std::string text_name(std::size_t index) {
  return "text " + std::to_string(index);
}

// Python's str.split(separator): non-overlapping matches from the left. Byte search is safe on valid UTF-8,
// whose code points never start inside another one.
std::vector<std::string> split_dropping_empty(std::string_view text, std::string_view separator) {
  std::vector<std::string> pieces;
  std::size_t start = 0;
  while (true) {
    const std::size_t found = text.find(separator, start);
    const std::size_t end = found == std::string_view::npos ? text.size() : found;
    if (end > start) pieces.emplace_back(text.substr(start, end - start));
    if (found == std::string_view::npos) break;
    start = found + separator.size();
  }
  return pieces;
}

// --- Python's json.dumps with its defaults: ", " and ": " separators, non-ASCII escaped as \uXXXX. ---

void append_hex4(std::string& out, std::uint32_t unit) {
  static constexpr char kDigits[] = "0123456789abcdef";
  out += "\\u";
  for (int shift = 12; shift >= 0; shift -= 4) out.push_back(kDigits[(unit >> shift) & 0xF]);
}

std::string python_json_string(std::string_view text) {
  std::string out = "\"";
  for (const char32_t code_point : decode_utf8(text, "tokenizer string")) {
    switch (code_point) {
      case U'"':
        out += "\\\"";
        break;
      case U'\\':
        out += "\\\\";
        break;
      case U'\n':
        out += "\\n";
        break;
      case U'\r':
        out += "\\r";
        break;
      case U'\t':
        out += "\\t";
        break;
      case U'\b':
        out += "\\b";
        break;
      case U'\f':
        out += "\\f";
        break;
      default:
        if (code_point >= 0x20 && code_point < 0x7F) {
          out.push_back(static_cast<char>(code_point));
        } else if (code_point > 0xFFFF) {  // a UTF-16 surrogate pair, as Python writes it
          const std::uint32_t offset = static_cast<std::uint32_t>(code_point) - 0x10000;
          append_hex4(out, 0xD800 + (offset >> 10));
          append_hex4(out, 0xDC00 + (offset & 0x3FF));
        } else {
          append_hex4(out, static_cast<std::uint32_t>(code_point));
        }
    }
  }
  return out + "\"";
}

// Key and value already written as JSON text.
std::string python_json_object(const std::vector<std::pair<std::string, std::string>>& members) {
  std::string out = "{";
  for (std::size_t i = 0; i < members.size(); ++i) {
    if (i > 0) out += ", ";
    out += members[i].first + ": " + members[i].second;
  }
  return out + "}";
}

template <class Key, class Value>
std::string python_json_dict(const OrderedDict<Key, Value>& dict) {
  std::vector<std::pair<std::string, std::string>> members;
  for (const auto& [key, value] : dict) {
    // json.dumps turns int keys into strings.
    std::string key_text;
    if constexpr (std::is_same_v<Key, std::string>)
      key_text = python_json_string(key);
    else
      key_text = python_json_string(std::to_string(key));
    std::string value_text;
    if constexpr (std::is_same_v<Value, std::string>)
      value_text = python_json_string(value);
    else
      value_text = std::to_string(value);
    members.emplace_back(std::move(key_text), std::move(value_text));
  }
  return python_json_object(members);
}

// --- Reading Keras's JSON: every failure names the field. ---

const OrderedJson& member(const OrderedJson& object, const std::string& key, const std::string& where) {
  const auto found = object.find(key);
  check(found != object.end(), "tokenizer JSON: ", where, " has no \"", key, "\"");
  return *found;
}

std::int64_t json_integer(const OrderedJson& value, const std::string& where) {
  check(value.is_number_integer(), "tokenizer JSON: ", where, " must be an integer, not ", value.dump());
  if (value.is_number_unsigned())
    check(value.get<std::uint64_t>() <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()),
          "tokenizer JSON: ", where, " is too large: ", value.dump());
  return value.get<std::int64_t>();
}

int json_index(const OrderedJson& value, const std::string& where) {
  const std::int64_t index = json_integer(value, where);
  check(index >= 0 && index <= std::numeric_limits<int>::max(), "tokenizer JSON: ", where,
        " must be an index from 0 to 2^31-1, not ", index);
  return static_cast<int>(index);
}

std::string json_string(const OrderedJson& value, const std::string& where) {
  check(value.is_string(), "tokenizer JSON: ", where, " must be a string, not ", value.dump());
  return value.get<std::string>();
}

// Python's int(key) for the keys json.dumps made from ints: optional sign and surrounding spaces.
int index_key(const std::string& key, const std::string& where) {
  std::string_view digits = key;
  while (!digits.empty() && digits.front() == ' ') digits.remove_prefix(1);
  while (!digits.empty() && digits.back() == ' ') digits.remove_suffix(1);
  if (digits.starts_with('+')) digits.remove_prefix(1);
  int index = 0;
  const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), index);
  check(!digits.empty() && error == std::errc() && end == digits.data() + digits.size() && index >= 0,
        "tokenizer JSON: ", where, " has the key \"", key, "\", which is not a non-negative integer index");
  return index;
}

// The config's dictionaries are JSON strings holding a JSON object (Keras json.dumps them separately).
OrderedJson nested_object(const OrderedJson& config, const std::string& key) {
  const std::string where = "config." + key;
  const std::string text = json_string(member(config, key, "config"), where);
  OrderedJson parsed;
  try {
    parsed = OrderedJson::parse(text);
  } catch (const nlohmann::json::exception& error) {
    fail("tokenizer JSON: ", where, " is not valid JSON: ", error.what());
  }
  check(parsed.is_object(), "tokenizer JSON: ", where, " must hold a JSON object, not ", parsed.type_name());
  return parsed;
}

OrderedDict<std::string, std::int64_t> read_counts(const OrderedJson& config, const std::string& key) {
  OrderedDict<std::string, std::int64_t> counts;
  const OrderedJson object = nested_object(config, key);
  for (const auto& [word, count] : object.items()) {
    const std::string where = "config." + key + "[\"" + word + "\"]";
    const std::int64_t value = json_integer(count, where);
    check(value >= 0, "tokenizer JSON: ", where, " must not be negative, not ", value);
    counts[word] = value;
  }
  return counts;
}

}  // namespace

MatrixMode matrix_mode_from_string(std::string_view mode) {
  if (mode == "binary") return MatrixMode::binary;
  if (mode == "count") return MatrixMode::count;
  if (mode == "tfidf") return MatrixMode::tfidf;
  if (mode == "freq") return MatrixMode::freq;
  fail("unknown matrix mode \"", mode, "\" (expected binary, count, tfidf or freq)");
}

Tokenizer::Tokenizer(TokenizerOptions options) : options_(std::move(options)) {
  check(!options_.num_words || *options_.num_words >= 0,
        "Tokenizer: num_words must be >= 0 (0 or none: no limit), not ", options_.num_words.value_or(0));
  check_utf8(options_.filters, "Tokenizer filters");
  check_utf8(options_.split, "Tokenizer split");
  if (options_.oov_token) check_utf8(*options_.oov_token, "Tokenizer oov_token");
  // Python's str.split("") raises "empty separator"; at character level split is never used.
  check(options_.char_level || !options_.split.empty(),
        "Tokenizer: split must not be empty for word-level tokens");
}

std::vector<std::string> Tokenizer::tokenize(std::string_view text, std::string_view what) const {
  const std::string lowered = options_.lower ? to_lower(text, what) : std::string(text);
  if (options_.char_level) return split_code_points(lowered, what);

  const std::vector<char32_t> filters = decode_utf8(options_.filters, "Tokenizer filters");
  std::string replaced;
  replaced.reserve(lowered.size());
  for (const char32_t code_point : decode_utf8(lowered, what)) {
    if (std::find(filters.begin(), filters.end(), code_point) != filters.end())
      replaced += options_.split;
    else
      replaced += encode_utf8(code_point);
  }
  return split_dropping_empty(replaced, options_.split);
}

void Tokenizer::fit_on_texts(const std::vector<std::string>& texts) {
  // Validated first, so that a bad text leaves the counts as they were.
  for (std::size_t t = 0; t < texts.size(); ++t) check_utf8(texts[t], text_name(t));
  for (std::size_t t = 0; t < texts.size(); ++t) {
    const std::vector<std::string> tokens = tokenize(texts[t], text_name(t));
    ++document_count_;
    OrderedDict<std::string, bool> seen_in_document;
    for (const std::string& token : tokens) {
      ++word_counts_[token];
      bool& seen = seen_in_document[token];
      if (!seen) ++word_docs_[token];
      seen = true;
    }
  }
  rebuild_index();
}

void Tokenizer::rebuild_index() {
  std::vector<std::pair<std::string, std::int64_t>> by_count = word_counts_.items();
  // Stable, as Python's sort: equal counts keep their first-seen order.
  std::stable_sort(by_count.begin(), by_count.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });

  std::vector<std::string> vocabulary;
  if (options_.oov_token) vocabulary.push_back(*options_.oov_token);
  for (auto& [word, count] : by_count) vocabulary.push_back(std::move(word));
  check(vocabulary.size() < static_cast<std::size_t>(std::numeric_limits<int>::max()),
        "Tokenizer: too many distinct words for int indices: ", vocabulary.size());

  // Assigning in order into a dict, as Keras's dict(zip(...)): an oov_token that is also a word of the texts
  // keeps its first position but takes its later index.
  word_index_ = {};
  for (std::size_t i = 0; i < vocabulary.size(); ++i) word_index_[vocabulary[i]] = static_cast<int>(i + 1);
  index_word_ = {};
  for (const auto& [word, index] : word_index_) index_word_[index] = word;
  for (const auto& [word, documents] : word_docs_) {
    const int* index = word_index_.find(word);
    check(index != nullptr, "Tokenizer: word_docs has \"", word, "\", which word_counts lacks");
    index_docs_[*index] = documents;
  }
}

void Tokenizer::fit_on_sequences(const std::vector<std::vector<int>>& sequences) {
  document_count_ += static_cast<std::int64_t>(sequences.size());
  for (const std::vector<int>& sequence : sequences) {
    std::vector<int> distinct = sequence;
    std::sort(distinct.begin(), distinct.end());
    distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());
    for (const int index : distinct) ++index_docs_[index];
  }
}

std::vector<int> Tokenizer::text_to_sequence(std::string_view text) const {
  return texts_to_sequences({std::string(text)}).front();
}

std::vector<std::vector<int>> Tokenizer::texts_to_sequences(const std::vector<std::string>& texts) const {
  const int num_words = options_.num_words.value_or(0);
  const int* oov_index = options_.oov_token ? word_index_.find(*options_.oov_token) : nullptr;
  const auto oov_or_fail = [&](std::size_t t) {
    // Keras would put None in the sequence here.
    check(oov_index != nullptr, "Tokenizer: ", text_name(t),
          " has an unknown word and the oov_token has no index yet: call fit_on_texts first");
    return *oov_index;
  };
  std::vector<std::vector<int>> sequences;
  sequences.reserve(texts.size());
  for (std::size_t t = 0; t < texts.size(); ++t) {
    std::vector<int> sequence;
    for (const std::string& token : tokenize(texts[t], text_name(t))) {
      const int* index = word_index_.find(token);
      if (index && !(num_words > 0 && *index >= num_words))
        sequence.push_back(*index);
      else if (options_.oov_token)
        sequence.push_back(oov_or_fail(t));
    }
    sequences.push_back(std::move(sequence));
  }
  return sequences;
}

std::vector<std::string> Tokenizer::sequences_to_texts(const std::vector<std::vector<int>>& sequences) const {
  const int num_words = options_.num_words.value_or(0);
  const int* oov_index = options_.oov_token ? word_index_.find(*options_.oov_token) : nullptr;
  const std::string* oov_word = oov_index ? index_word_.find(*oov_index) : nullptr;
  std::vector<std::string> texts;
  texts.reserve(sequences.size());
  for (std::size_t s = 0; s < sequences.size(); ++s) {
    std::string text;
    bool first = true;
    for (const int index : sequences[s]) {
      const std::string* word = index_word_.find(index);
      if (word && num_words > 0 && index >= num_words)
        word = oov_word;
      else if (!word && options_.oov_token) {
        check(oov_word != nullptr, "Tokenizer: sequence ", s, " has the unknown index ", index,
              " and the oov_token has no index yet: call fit_on_texts first");
        word = oov_word;
      }
      if (!word) continue;
      if (!first) text += ' ';
      text += *word;
      first = false;
    }
    texts.push_back(std::move(text));
  }
  return texts;
}

int Tokenizer::vocabulary_size() const {
  if (options_.num_words.value_or(0) > 0) return *options_.num_words;
  return static_cast<int>(word_index_.size()) + 1;
}

Tensor Tokenizer::texts_to_matrix(const std::vector<std::string>& texts, MatrixMode mode) const {
  return sequences_to_matrix(texts_to_sequences(texts), mode);
}

Tensor Tokenizer::sequences_to_matrix(const std::vector<std::vector<int>>& sequences, MatrixMode mode) const {
  check(options_.num_words.value_or(0) > 0 || !word_index_.empty(),
        "Tokenizer: sequences_to_matrix needs num_words or fit_on_texts first");
  check(mode != MatrixMode::tfidf || document_count_ > 0,
        "Tokenizer: fit on some data before using tfidf mode");
  const std::int64_t width = vocabulary_size();
  Tensor matrix({static_cast<std::int64_t>(sequences.size()), width});  // (N, V)
  for (std::size_t row = 0; row < sequences.size(); ++row) {
    const std::vector<int>& sequence = sequences[row];
    std::map<int, std::int64_t> counts;
    for (std::size_t position = 0; position < sequence.size(); ++position) {
      const int index = sequence[position];
      check(index >= 0, "Tokenizer: sequence ", row, " position ", position, " has the negative index ",
            index);
      if (index < width)
        ++counts[index];  // ids beyond the width are skipped, but still count in freq's length
    }
    for (const auto& [index, count] : counts) {
      double value = 0;
      switch (mode) {
        case MatrixMode::binary:
          value = 1;
          break;
        case MatrixMode::count:
          value = static_cast<double>(count);
          break;
        case MatrixMode::freq:
          value = static_cast<double>(count) / static_cast<double>(sequence.size());
          break;
        case MatrixMode::tfidf: {
          // Keras's weighting: tf = 1 + ln(count), idf = ln(1 + documents / (1 + documents with the index)).
          const std::int64_t* documents = index_docs_.find(index);
          const double with_index = 1.0 + static_cast<double>(documents ? *documents : 0);
          value = (1.0 + std::log(static_cast<double>(count))) *
                  std::log(1.0 + static_cast<double>(document_count_) / with_index);
          break;
        }
      }
      matrix.at({static_cast<std::int64_t>(row), index}) = static_cast<float>(value);
    }
  }
  return matrix;
}

std::string Tokenizer::to_json() const {
  const auto optional_int = [](const std::optional<int>& value) {
    return value ? std::to_string(*value) : std::string("null");
  };
  const std::vector<std::pair<std::string, std::string>> config = {
      {"\"num_words\"", optional_int(options_.num_words)},
      {"\"filters\"", python_json_string(options_.filters)},
      {"\"lower\"", options_.lower ? "true" : "false"},
      {"\"split\"", python_json_string(options_.split)},
      {"\"char_level\"", options_.char_level ? "true" : "false"},
      {"\"oov_token\"", options_.oov_token ? python_json_string(*options_.oov_token) : "null"},
      {"\"document_count\"", std::to_string(document_count_)},
      {"\"word_counts\"", python_json_string(python_json_dict(word_counts_))},
      {"\"word_docs\"", python_json_string(python_json_dict(word_docs_))},
      {"\"index_docs\"", python_json_string(python_json_dict(index_docs_))},
      {"\"index_word\"", python_json_string(python_json_dict(index_word_))},
      {"\"word_index\"", python_json_string(python_json_dict(word_index_))},
  };
  return python_json_object(
      {{"\"class_name\"", "\"Tokenizer\""}, {"\"config\"", python_json_object(config)}});
}

Tokenizer Tokenizer::from_json(std::string_view json) {
  OrderedJson root;
  try {
    root = OrderedJson::parse(json);
  } catch (const nlohmann::json::exception& error) {
    fail("tokenizer JSON is not valid JSON: ", error.what());
  }
  check(root.is_object(), "tokenizer JSON must be an object, not ", root.type_name());
  const OrderedJson& config = member(root, "config", "the top level");
  check(config.is_object(), "tokenizer JSON: config must be an object, not ", config.type_name());

  static const std::vector<std::string> kKnown = {"num_words",  "filters",    "lower",          "split",
                                                  "char_level", "oov_token",  "document_count", "word_counts",
                                                  "word_docs",  "index_docs", "index_word",     "word_index"};
  for (const auto& [key, value] : config.items())
    check(std::find(kKnown.begin(), kKnown.end(), key) != kKnown.end(),
          "tokenizer JSON: config has the unknown field \"", key, "\"");

  TokenizerOptions options;
  if (config.contains("num_words") && !config["num_words"].is_null())
    options.num_words = json_index(config["num_words"], "config.num_words");
  if (config.contains("filters")) {
    const OrderedJson& filters = config["filters"];
    if (filters.is_array()) {  // Keras also takes a list of characters
      options.filters.clear();
      for (std::size_t i = 0; i < filters.size(); ++i)
        options.filters += json_string(filters[i], "config.filters[" + std::to_string(i) + "]");
    } else {
      options.filters = json_string(filters, "config.filters");
    }
  }
  if (config.contains("lower")) {
    check(config["lower"].is_boolean(), "tokenizer JSON: config.lower must be true or false");
    options.lower = config["lower"].get<bool>();
  }
  if (config.contains("split")) options.split = json_string(config["split"], "config.split");
  if (config.contains("char_level")) {
    check(config["char_level"].is_boolean(), "tokenizer JSON: config.char_level must be true or false");
    options.char_level = config["char_level"].get<bool>();
  }
  if (config.contains("oov_token") && !config["oov_token"].is_null())
    options.oov_token = json_string(config["oov_token"], "config.oov_token");

  Tokenizer tokenizer(options);
  if (config.contains("document_count")) {
    tokenizer.document_count_ = json_integer(config["document_count"], "config.document_count");
    check(tokenizer.document_count_ >= 0, "tokenizer JSON: config.document_count must not be negative");
  }
  tokenizer.word_counts_ = read_counts(config, "word_counts");
  tokenizer.word_docs_ = read_counts(config, "word_docs");
  const OrderedJson index_docs = nested_object(config, "index_docs");
  for (const auto& [key, count] : index_docs.items()) {
    const std::string where = "config.index_docs[\"" + key + "\"]";
    const std::int64_t documents = json_integer(count, where);
    check(documents >= 0, "tokenizer JSON: ", where, " must not be negative");
    tokenizer.index_docs_[index_key(key, "config.index_docs")] = documents;
  }
  const OrderedJson word_index = nested_object(config, "word_index");
  for (const auto& [word, index] : word_index.items())
    tokenizer.word_index_[word] = json_index(index, "config.word_index[\"" + word + "\"]");
  const OrderedJson index_word = nested_object(config, "index_word");
  for (const auto& [key, word] : index_word.items())
    tokenizer.index_word_[index_key(key, "config.index_word")] =
        json_string(word, "config.index_word[\"" + key + "\"]");

  // Keras writes index_word as the inverse of word_index; a file where they disagree was edited by hand.
  check(tokenizer.index_word_.size() == tokenizer.word_index_.size(),
        "tokenizer JSON: config.index_word has ", tokenizer.index_word_.size(),
        " entries but config.word_index has ", tokenizer.word_index_.size());
  for (const auto& [word, index] : tokenizer.word_index_) {
    const std::string* back = tokenizer.index_word_.find(index);
    check(back != nullptr && *back == word, "tokenizer JSON: config.index_word[\"", index,
          "\"] disagrees with config.word_index[\"", word, "\"]");
  }
  return tokenizer;
}

}  // namespace rnnkit
