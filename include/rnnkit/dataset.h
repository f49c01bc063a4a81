// Dataset: batches made on demand for fit and evaluate, so data larger than memory (or than its one-hot
// form) trains by streaming, as a Keras generator or tf.data.Dataset does.
#pragma once

#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include "rnnkit/rng.h"
#include "rnnkit/tensor.h"

namespace rnnkit {

class Dataset {
 public:
  virtual ~Dataset() = default;

  // Batches in one pass over the data (Keras's steps_per_epoch); at least 1.
  virtual std::int64_t batch_count() const = 0;
  // Called by fit before each epoch; a dataset that shuffles draws its new order from `rng` when `shuffle`.
  virtual void start_epoch(Rng& rng, bool shuffle) = 0;
  // Batch `index` of the current pass (0 <= index < batch_count()): inputs (B,...) and targets (B,...), the
  // same B for both; the last batch may be smaller.
  virtual std::pair<Tensor, Tensor> batch(std::int64_t index) = 0;
  // The same batch for a model with several inputs or outputs: arrays in the model's inputs() and outputs()
  // order. A dataset of one input and one output need not override it.
  virtual std::pair<std::vector<Tensor>, std::vector<Tensor>> batch_arrays(std::int64_t index) {
    auto [x, y] = batch(index);
    return {{std::move(x)}, {std::move(y)}};
  }
  // The same batch with Keras's sample_weight: one weight per sample (B), or per row of the outputs
  // ((B, T) for (B, T, C)); fit and evaluate read batches through this. A dataset without weights need
  // not override it.
  struct WeightedBatch {
    std::vector<Tensor> x, y;
    std::optional<Tensor> sample_weight;
  };
  virtual WeightedBatch weighted_batch(std::int64_t index) {
    auto [x, y] = batch_arrays(index);
    return {std::move(x), std::move(y), std::nullopt};
  }
};

}  // namespace rnnkit
