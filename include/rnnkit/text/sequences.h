// pad_sequences and to_categorical: Keras's helpers that turn token ids into model inputs and targets.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "rnnkit/tensor.h"

namespace rnnkit {

struct PadSequencesOptions {
  std::optional<std::int64_t> maxlen = std::nullopt;  // default: the longest sequence
  std::string padding = "pre";                        // "pre" or "post": where the padding goes
  std::string truncating = "pre";                     // "pre" or "post": which end of a long sequence is cut
  float value = 0;
};

// (N, maxlen) with the ids as floats, as Embedding takes them. Throws Error for an id that float32 cannot
// hold exactly (|id| > 2^24) and for a padding/truncating other than "pre"/"post".
Tensor pad_sequences(const std::vector<std::vector<int>>& sequences, const PadSequencesOptions& options = {});

// One-hot along a new last axis, as keras.utils.to_categorical: a trailing axis of 1 is squeezed, so (N,1)
// gives (N,C). num_classes defaults to max(label)+1 (also when 0, as in Keras). Negative, fractional, NaN or
// too large labels throw Error naming the index.
Tensor to_categorical(const Tensor& labels, std::optional<std::int64_t> num_classes = std::nullopt);

}  // namespace rnnkit
