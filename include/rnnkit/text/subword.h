// SubwordTokenizer: a SentencePiece (unigram) model trained on the training texts, whose ids are an
// Embedding's input with 0 kept for padding.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace rnnkit {

struct SubwordOptions {
  int vocab_size = 8000;  // pieces, padding and unknown included; fewer when the texts cannot fill it
  double character_coverage = 0.9995;  // SentencePiece's default for languages with large alphabets
  bool lower = false;                  // lowercase (as Python's str.lower) before training and encoding
  std::uint64_t seed = 1;
};

class SubwordTokenizer {
 public:
  // Trains on `texts` (each one sentence for SentencePiece). Id 0 is padding (never produced by encode),
  // id 1 the unknown piece; there are no begin/end-of-sentence ids.
  static SubwordTokenizer train(const std::vector<std::string>& texts, const SubwordOptions& options = {});
  // A model that `model_bytes()` gave (SentencePiece's serialized ModelProto); `lower` as trained.
  static SubwordTokenizer from_model(std::string_view model_bytes, bool lower, std::string_view source);

  SubwordTokenizer(SubwordTokenizer&&) noexcept;
  SubwordTokenizer& operator=(SubwordTokenizer&&) noexcept;
  ~SubwordTokenizer();

  std::vector<int> encode(std::string_view text) const;
  std::vector<std::string> pieces(std::string_view text) const;
  std::string decode(const std::vector<int>& ids) const;
  // The Embedding input_dim its ids need: the number of pieces (ids 0..size-1).
  int vocabulary_size() const;
  bool lower() const { return lower_; }
  const std::string& model_bytes() const { return model_; }

 private:
  SubwordTokenizer();
  struct Processor;
  std::unique_ptr<Processor> processor_;
  std::string model_;
  bool lower_ = false;
};

}  // namespace rnnkit
