// Tokenizer: Keras's keras.preprocessing.text.Tokenizer (word or character level, UTF-8), with its JSON form.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "rnnkit/tensor.h"

namespace rnnkit {

// A map that iterates in insertion order and keeps a key's position when its value is replaced: the
// semantics of a Python dict, which Keras's word_index order and JSON output depend on.
template <class Key, class Value>
class OrderedDict {
 public:
  using Item = std::pair<Key, Value>;

  const Value* find(const Key& key) const {
    const auto found = position_.find(key);
    return found == position_.end() ? nullptr : &items_[found->second].second;
  }
  bool contains(const Key& key) const { return position_.contains(key); }
  // Inserts at the end, or replaces the value in place.
  Value& operator[](const Key& key) {
    const auto [found, inserted] = position_.try_emplace(key, items_.size());
    if (inserted) items_.emplace_back(key, Value{});
    return items_[found->second].second;
  }
  std::size_t size() const { return items_.size(); }
  bool empty() const { return items_.empty(); }
  auto begin() const { return items_.begin(); }
  auto end() const { return items_.end(); }
  const std::vector<Item>& items() const { return items_; }

 private:
  std::vector<Item> items_;
  std::unordered_map<Key, std::size_t> position_;
};

struct TokenizerOptions {
  // Keep only indices below num_words in texts_to_sequences/texts_to_matrix (word_index still holds every
  // word). 0 means no limit, as in Keras.
  std::optional<int> num_words = std::nullopt;
  // Characters (code points) replaced by `split` before splitting words; ignored at character level.
  std::string filters = "!\"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\n";
  bool lower = true;
  std::string split = " ";
  // Every code point is a token (a Hangul syllable is one); spaces and newlines are tokens too.
  bool char_level = false;
  // Takes index 1 and stands for unknown words and for words at or above num_words.
  std::optional<std::string> oov_token = std::nullopt;
};

// "binary", "count", "tfidf" or "freq", as Keras's texts_to_matrix.
enum class MatrixMode { binary, count, tfidf, freq };
MatrixMode matrix_mode_from_string(std::string_view mode);

class Tokenizer {
 public:
  explicit Tokenizer(TokenizerOptions options = {});

  // Counts the tokens of each text (one document each) and re-indexes every word seen so far: index 1 is
  // the oov_token if any, then by descending count, ties in first-seen order. Texts must be UTF-8.
  void fit_on_texts(const std::vector<std::string>& texts);
  // Counts, for tfidf, the documents each index occurs in (Keras's fit_on_sequences).
  void fit_on_sequences(const std::vector<std::vector<int>>& sequences);

  // Unknown words are dropped, or become the oov index when there is an oov_token.
  std::vector<std::vector<int>> texts_to_sequences(const std::vector<std::string>& texts) const;
  std::vector<int> text_to_sequence(std::string_view text) const;
  // Tokens joined by a space, also at character level (as Keras does); unknown ids are dropped or become
  // the oov_token. Use index_word() to join characters without spaces.
  std::vector<std::string> sequences_to_texts(const std::vector<std::vector<int>>& sequences) const;

  // (N, num_words or len(word_index)+1) float32 matrices as Keras's texts_to_matrix/sequences_to_matrix.
  Tensor texts_to_matrix(const std::vector<std::string>& texts, MatrixMode mode = MatrixMode::binary) const;
  Tensor sequences_to_matrix(const std::vector<std::vector<int>>& sequences,
                             MatrixMode mode = MatrixMode::binary) const;

  // The tokens of one text as fit_on_texts sees them: lowercased, filtered and split (or code points).
  std::vector<std::string> tokenize(std::string_view text, std::string_view what = "text") const;

  const TokenizerOptions& options() const { return options_; }
  const OrderedDict<std::string, int>& word_index() const { return word_index_; }
  const OrderedDict<int, std::string>& index_word() const { return index_word_; }
  const OrderedDict<std::string, std::int64_t>& word_counts() const { return word_counts_; }
  const OrderedDict<std::string, std::int64_t>& word_docs() const { return word_docs_; }
  const OrderedDict<int, std::int64_t>& index_docs() const { return index_docs_; }
  std::int64_t document_count() const { return document_count_; }
  // The width of texts_to_matrix and the Embedding input_dim a model needs: num_words if set, else
  // len(word_index) + 1.
  int vocabulary_size() const;

  // The same text as Keras's tokenizer.to_json() (json.dumps with its default ASCII escaping).
  std::string to_json() const;
  // Reads what Keras's to_json() writes (and what to_json() above writes); throws Error naming the field.
  static Tokenizer from_json(std::string_view json);

 private:
  void rebuild_index();

  TokenizerOptions options_;
  OrderedDict<std::string, std::int64_t> word_counts_;
  OrderedDict<std::string, std::int64_t> word_docs_;
  OrderedDict<int, std::int64_t> index_docs_;
  OrderedDict<std::string, int> word_index_;
  OrderedDict<int, std::string> index_word_;
  std::int64_t document_count_ = 0;
};

}  // namespace rnnkit
