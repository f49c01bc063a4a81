// Language-model datasets: batches of token ids made on demand for Sequential::fit, never the whole
// (N,T) array or its one-hot form.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "rnnkit/dataset.h"

namespace rnnkit {

// Token ids of a whole corpus, shared by the training and validation datasets cut from it.
using TokenIds = std::shared_ptr<const std::vector<std::int32_t>>;

struct WindowOptions {
  std::int64_t seq_length = 100;         // T: inputs per window
  std::optional<std::int64_t> stride{};  // start-to-start distance of windows; T (no overlap) when not given
  std::int64_t batch_size = 64;
};

// Sliding windows over one long id sequence, for return_sequences models and
// sparse_categorical_crossentropy: window w starts at s = w·stride; its inputs are ids[s, s+T) and its
// targets the next ids, ids[s+1, s+T+1), both (T) per sample. A batch is (B,T) inputs and (B,T) targets,
// made from the ids when asked for; the window order is shuffled per epoch when fit asks for it.
class WindowDataset : public Dataset {
 public:
  // The windows that fit in ids[begin, end); `what` names the part ("the corpus", "the validation part")
  // in the error when not even one window (T+1 ids) fits.
  WindowDataset(TokenIds ids, std::int64_t begin, std::int64_t end, const WindowOptions& options,
                const std::string& what = "the corpus");

  std::int64_t window_count() const { return window_count_; }
  std::int64_t batch_count() const override;
  void start_epoch(Rng& rng, bool shuffle) override;
  std::pair<Tensor, Tensor> batch(std::int64_t index) override;

 private:
  TokenIds ids_;
  std::int64_t begin_;
  std::int64_t seq_length_;
  std::int64_t stride_;
  std::int64_t batch_size_;
  std::int64_t window_count_;
  std::vector<std::int64_t> order_;  // window numbers in this epoch's order
};

// Training windows from the start of the corpus and validation windows from its last
// `validation_split` fraction (as Keras's validation_split takes the last samples); no validation dataset
// when the split is 0. Errors: an empty corpus, a corpus (or validation part) shorter than one window.
struct WindowDatasets {
  std::unique_ptr<WindowDataset> training;
  std::unique_ptr<WindowDataset> validation;  // null without a split
};
WindowDatasets make_window_datasets(TokenIds ids, const WindowOptions& options, double validation_split);

struct PrefixNgramOptions {
  std::int64_t batch_size = 32;
  bool one_hot = true;           // targets (B,V) for categorical_crossentropy, or (B) ids for the sparse loss
  std::int64_t num_classes = 0;  // V: required with one_hot (Keras's to_categorical num_classes)
  // T, the padded input length; 0: the longest prefix - 1. Longer inputs keep their last T ids, as
  // pad_sequences(truncating='pre') does.
  std::int64_t input_length = 0;
};

// The Korean tutorial's word-level samples: every prefix of length >= 2 of every line, padded 'pre' with
// zeros to the longest; the inputs are all but the last id, the target is the last id.
class PrefixNgramDataset : public Dataset {
 public:
  PrefixNgramDataset(std::vector<std::vector<std::int32_t>> lines, const PrefixNgramOptions& options);

  std::int64_t sample_count() const { return static_cast<std::int64_t>(samples_.size()); }
  std::int64_t input_length() const { return input_length_; }  // T
  std::int64_t batch_count() const override;
  void start_epoch(Rng& rng, bool shuffle) override;
  std::pair<Tensor, Tensor> batch(std::int64_t index) override;
  // Every sample at once, in order: the tutorial's X and y (small by nature: lines of a few words).
  std::pair<Tensor, Tensor> all() const;

 private:
  std::pair<Tensor, Tensor> make(const std::vector<std::int64_t>& sample_numbers) const;

  struct Sample {
    std::int64_t line;
    std::int64_t length;  // the prefix is lines_[line][0, length)
  };
  std::vector<std::vector<std::int32_t>> lines_;
  PrefixNgramOptions options_;
  std::vector<Sample> samples_;
  std::int64_t input_length_ = 0;
  std::vector<std::int64_t> order_;
};

// Fisher-Yates with `rng`: the same seed gives the same order on every platform.
void shuffle_in_place(std::vector<std::int64_t>& values, Rng& rng);

}  // namespace rnnkit
