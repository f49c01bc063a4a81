// Text classification: labels mapped to class ids, texts turned into padded token ids (a Keras Tokenizer
// at word or character level, or SentencePiece subwords), batches for fit, and the evaluation report.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "rnnkit/dataset.h"
#include "rnnkit/text/labelled_file.h"
#include "rnnkit/text/sequences.h"
#include "rnnkit/text/subword.h"
#include "rnnkit/text/tokenizer.h"

namespace rnnkit {

// Class names and their ids. Integer labels 0..K-1 keep their values as ids; other labels take ids in
// sorted order (numerically when all are integers, else by bytes). Two classes make a binary problem (a
// sigmoid unit giving P(class 1)), more a softmax over the classes.
class LabelMap {
 public:
  static LabelMap from_labels(const std::vector<std::string>& labels);
  explicit LabelMap(std::vector<std::string> names);

  std::int64_t size() const { return static_cast<std::int64_t>(names_.size()); }
  bool binary() const { return names_.size() == 2; }
  const std::vector<std::string>& names() const { return names_; }
  const std::string& name(std::int64_t id) const { return names_.at(static_cast<std::size_t>(id)); }
  std::optional<std::int64_t> find(const std::string& label) const;
  // The ids of a file's labels; an unknown label is an Error naming its file, line and column.
  std::vector<std::int64_t> ids(const LabelledTexts& data) const;

 private:
  std::vector<std::string> names_;
  std::map<std::string, std::int64_t> ids_;
};

// How text becomes token ids: "word" or "char" (Keras's Tokenizer) or "subword" (SentencePiece).
struct TextEncoderOptions {
  std::string level = "word";
  TokenizerOptions tokenizer{};  // word and char; char_level is set from `level`
  SubwordOptions subword{};      // subword; its `lower` is tokenizer.lower
};

class TextEncoder {
 public:
  // Fits the tokenizer (or trains SentencePiece) on the training texts.
  static TextEncoder fit(const std::vector<std::string>& texts, const TextEncoderOptions& options);
  static TextEncoder from_tokenizer(Tokenizer tokenizer);
  static TextEncoder from_subword(SubwordTokenizer subword);

  const std::string& level() const { return level_; }
  std::vector<int> encode(std::string_view text) const;
  std::vector<std::vector<int>> encode(const std::vector<std::string>& texts) const;
  // The Embedding input_dim the ids need (ids are below it; 0 is padding).
  std::int64_t vocabulary_size() const;
  const std::optional<Tokenizer>& tokenizer() const { return tokenizer_; }
  const std::optional<SubwordTokenizer>& subword() const { return subword_; }

 private:
  std::string level_;
  std::optional<Tokenizer> tokenizer_;
  std::optional<SubwordTokenizer> subword_;
};

struct ClassificationBatchOptions {
  PadSequencesOptions padding{};  // maxlen is required: the model's input length
  std::int64_t batch_size = 32;
};

// Padded ids (B, maxlen) and targets: (B,1) floats 0/1 for a binary problem, (B) class ids otherwise, as
// binary_crossentropy and sparse_categorical_crossentropy take them. The order is shuffled per epoch when
// fit asks.
class ClassificationDataset : public Dataset {
 public:
  ClassificationDataset(std::vector<std::vector<int>> sequences, std::vector<std::int64_t> labels,
                        bool binary, const ClassificationBatchOptions& options);
  // Encodes `texts` with `encoder` and their labels with `labels`.
  ClassificationDataset(const TextEncoder& encoder, const std::vector<std::string>& texts,
                        const std::vector<std::string>& label_names, const LabelMap& labels,
                        const ClassificationBatchOptions& options);

  std::int64_t sample_count() const { return static_cast<std::int64_t>(sequences_.size()); }
  const std::vector<std::int64_t>& labels() const { return labels_; }
  std::int64_t batch_count() const override;
  void start_epoch(Rng& rng, bool shuffle) override;
  std::pair<Tensor, Tensor> batch(std::int64_t index) override;
  // The inputs of every sample in order, (N, maxlen).
  Tensor inputs() const;

 private:
  std::vector<std::vector<int>> sequences_;
  std::vector<std::int64_t> labels_;
  bool binary_;
  ClassificationBatchOptions options_;
  std::vector<std::int64_t> order_;
};

// Keras's class_weight='balanced' as scikit-learn computes it: n / (k * count(class)) for each class seen.
std::map<int, double> balanced_class_weights(const std::vector<std::int64_t>& labels, std::int64_t classes);

// The probability of each class for each sample: (N,1) sigmoid outputs give {1-p, p}; (N,K) rows are taken
// as they are.
std::vector<std::vector<double>> class_probabilities(const Tensor& outputs);

struct ClassScores {
  double precision = 0, recall = 0, f1 = 0;  // 0 where undefined (no prediction or no sample of the class)
  std::int64_t support = 0;
};

// What `rnnkit evaluate --data` prints, with scikit-learn's definitions: the predicted class is the most
// probable one (p >= 0.5 for class 1 in a binary problem); precision, recall and F1 per class; their plain
// (macro) and support-weighted means; for a binary problem, those of class 1 and the exact ROC AUC (the
// Mann-Whitney statistic over P(class 1), ties counted one half, as roc_auc_score).
struct ClassificationReport {
  std::int64_t samples = 0;
  double loss = 0;  // mean -log P(true class), P clipped to [1e-7, 1 - 1e-7] as Keras's cross-entropies
  double accuracy = 0;
  std::vector<std::vector<std::int64_t>> confusion;  // [true class][predicted class]
  std::vector<ClassScores> per_class;
  ClassScores macro, weighted;
  std::optional<double> roc_auc;  // binary, with both classes present
  std::vector<std::int64_t> predicted;
};
ClassificationReport classification_report(const std::vector<std::int64_t>& truth,
                                           const std::vector<std::vector<double>>& probabilities,
                                           std::int64_t classes);

// The area under the ROC curve of `scores` for the positives (truth 1) against the negatives (truth 0),
// from average ranks; nullopt unless both are present.
std::optional<double> roc_auc(const std::vector<std::int64_t>& truth, const std::vector<double>& scores);

}  // namespace rnnkit
