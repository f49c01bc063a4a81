#include "rnnkit/text/sequences.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>

#include "rnnkit/error.h"

namespace rnnkit {
namespace {

// float32 holds every integer up to 2^24 exactly; beyond that ids would silently merge.
constexpr int kLargestExactFloatInteger = 1 << 24;

bool is_pre(const std::string& side, const char* field) {
  check(side == "pre" || side == "post", "pad_sequences: ", field, " must be \"pre\" or \"post\", not \"",
        side, "\"");
  return side == "pre";
}

}  // namespace

Tensor pad_sequences(const std::vector<std::vector<int>>& sequences, const PadSequencesOptions& options) {
  const bool pad_before = is_pre(options.padding, "padding");
  const bool cut_front = is_pre(options.truncating, "truncating");
  std::int64_t maxlen = 0;
  if (options.maxlen) {
    maxlen = *options.maxlen;
    check(maxlen >= 0, "pad_sequences: maxlen must be >= 0, not ", maxlen);
  } else {
    check(!sequences.empty(), "pad_sequences: no sequences and no maxlen to take the length from");
    for (const auto& sequence : sequences)
      maxlen = std::max(maxlen, static_cast<std::int64_t>(sequence.size()));
  }

  const auto rows = static_cast<std::int64_t>(sequences.size());
  Tensor padded({rows, maxlen}, options.value);  // (N, maxlen)
  for (std::int64_t row = 0; row < rows; ++row) {
    const std::vector<int>& sequence = sequences[static_cast<std::size_t>(row)];
    for (std::size_t position = 0; position < sequence.size(); ++position)
      check(std::abs(static_cast<std::int64_t>(sequence[position])) <= kLargestExactFloatInteger,
            "pad_sequences: sequence ", row, " position ", position, " holds ", sequence[position],
            ", which float32 cannot hold exactly (|id| > 2^24)");
    const auto length = static_cast<std::int64_t>(sequence.size());
    const std::int64_t kept = std::min(length, maxlen);
    const std::int64_t first_kept = cut_front ? length - kept : 0;
    const std::int64_t first_column = pad_before ? maxlen - kept : 0;
    float* out = padded.data() + row * maxlen + first_column;
    for (std::int64_t i = 0; i < kept; ++i)
      out[i] = static_cast<float>(sequence[static_cast<std::size_t>(first_kept + i)]);
  }
  return padded;
}

Tensor to_categorical(const Tensor& labels, std::optional<std::int64_t> num_classes) {
  check(!num_classes || *num_classes >= 0, "to_categorical: num_classes must be >= 0, not ",
        num_classes.value_or(0));
  const std::int64_t count = labels.size();
  std::int64_t largest = -1;
  for (std::int64_t i = 0; i < count; ++i) {
    const float label = labels[i];
    check(std::isfinite(label) && label >= 0 && std::floor(label) == label &&
              label <= kLargestExactFloatInteger,
          "to_categorical: label ", i, " is ", label, ", not a class index (a whole number from 0 to 2^24)");
    largest = std::max(largest, static_cast<std::int64_t>(label));
  }
  std::int64_t classes = num_classes.value_or(0);
  if (classes == 0) {  // Keras infers the count when num_classes is None or 0
    check(count > 0, "to_categorical: no labels to infer num_classes from");
    classes = largest + 1;
  }
  for (std::int64_t i = 0; i < count; ++i)
    check(static_cast<std::int64_t>(labels[i]) < classes, "to_categorical: label ", i, " is ", labels[i],
          ", not below num_classes ", classes);

  Shape shape = labels.shape();
  if (shape.size() > 1 && shape.back() == 1) shape.pop_back();  // (N,1) labels give (N,C), as in Keras
  shape.push_back(classes);
  Tensor one_hot(shape);
  for (std::int64_t i = 0; i < count; ++i) one_hot[i * classes + static_cast<std::int64_t>(labels[i])] = 1.0f;
  return one_hot;
}

}  // namespace rnnkit
