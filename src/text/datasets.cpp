#include "rnnkit/text/datasets.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "rnnkit/error.h"

namespace rnnkit {
namespace {

std::int64_t batches_for(std::int64_t samples, std::int64_t batch_size) {
  return (samples + batch_size - 1) / batch_size;
}

// Sample numbers of batch `index` in the current order.
std::vector<std::int64_t> batch_members(const std::vector<std::int64_t>& order, std::int64_t index,
                                        std::int64_t batch_size, std::int64_t batch_count) {
  check(index >= 0 && index < batch_count, "dataset: batch ", index, " does not exist (", batch_count,
        " batches)");
  const auto begin = order.begin() + index * batch_size;
  const auto end = order.begin() + std::min<std::int64_t>(std::ssize(order), (index + 1) * batch_size);
  return {begin, end};
}

std::vector<std::int64_t> identity_order(std::int64_t count) {
  std::vector<std::int64_t> order(static_cast<std::size_t>(count));
  std::iota(order.begin(), order.end(), 0);
  return order;
}

}  // namespace

void shuffle_in_place(std::vector<std::int64_t>& values, Rng& rng) {
  for (std::size_t i = values.size(); i > 1; --i) {
    const auto j = static_cast<std::size_t>(rng.next() % i);  // bias below 2^-40 for any real size
    std::swap(values[i - 1], values[j]);
  }
}

WindowDataset::WindowDataset(TokenIds ids, std::int64_t begin, std::int64_t end, const WindowOptions& options,
                             const std::string& what)
    : ids_(std::move(ids)),
      begin_(begin),
      seq_length_(options.seq_length),
      stride_(options.stride.value_or(options.seq_length)),
      batch_size_(options.batch_size) {
  check(ids_ != nullptr && !ids_->empty(), "language-model dataset: ", what, " is empty (no tokens)");
  check(seq_length_ > 0, "language-model dataset: seq_length must be positive, received ", seq_length_);
  check(stride_ > 0, "language-model dataset: stride must be positive, received ", stride_);
  check(batch_size_ > 0, "language-model dataset: batch_size must be positive, received ", batch_size_);
  check(0 <= begin && begin <= end && end <= std::ssize(*ids_), "language-model dataset: range [", begin,
        ", ", end, ") is outside the ", ids_->size(), " ids");
  const std::int64_t tokens = end - begin;
  check(tokens >= seq_length_ + 1, "language-model dataset: ", what, " has ", tokens,
        " tokens, fewer than one window of seq_length + 1 = ", seq_length_ + 1,
        " (the inputs and the next token): use a shorter sequence length or more text");
  window_count_ = (tokens - seq_length_ - 1) / stride_ + 1;
  order_ = identity_order(window_count_);
}

std::int64_t WindowDataset::batch_count() const {
  return batches_for(window_count_, batch_size_);
}

void WindowDataset::start_epoch(Rng& rng, bool shuffle) {
  order_ = identity_order(window_count_);
  if (shuffle) shuffle_in_place(order_, rng);
}

std::pair<Tensor, Tensor> WindowDataset::batch(std::int64_t index) {
  const std::vector<std::int64_t> windows = batch_members(order_, index, batch_size_, batch_count());
  const auto rows = std::ssize(windows);
  Tensor inputs({rows, seq_length_});   // (B,T) ids
  Tensor targets({rows, seq_length_});  // (B,T) the next ids
  const std::int32_t* ids = ids_->data();
  for (std::int64_t row = 0; row < rows; ++row) {
    const std::int64_t start = begin_ + windows[static_cast<std::size_t>(row)] * stride_;
    for (std::int64_t t = 0; t < seq_length_; ++t) {
      inputs[row * seq_length_ + t] = static_cast<float>(ids[start + t]);
      targets[row * seq_length_ + t] = static_cast<float>(ids[start + t + 1]);
    }
  }
  return {std::move(inputs), std::move(targets)};
}

WindowDatasets make_window_datasets(TokenIds ids, const WindowOptions& options, double validation_split) {
  check(ids != nullptr && !ids->empty(), "language-model dataset: the corpus is empty (no tokens)");
  check(validation_split >= 0.0 && validation_split < 1.0,
        "language-model dataset: validation_split must be in ", "[0, 1), received ", validation_split);
  const auto total = std::ssize(*ids);
  const auto held_out = static_cast<std::int64_t>(std::floor(static_cast<double>(total) * validation_split));
  WindowDatasets datasets;
  datasets.training = std::make_unique<WindowDataset>(
      ids, 0, total - held_out, options, held_out > 0 ? "the training part of the corpus" : "the corpus");
  if (validation_split > 0.0)
    datasets.validation = std::make_unique<WindowDataset>(
        ids, total - held_out, total, options,
        "the validation part of the corpus (its last " + std::to_string(held_out) + " tokens)");
  return datasets;
}

PrefixNgramDataset::PrefixNgramDataset(std::vector<std::vector<std::int32_t>> lines,
                                       const PrefixNgramOptions& options)
    : lines_(std::move(lines)), options_(options) {
  check(options_.batch_size > 0, "prefix n-grams: batch_size must be positive, received ",
        options_.batch_size);
  check(!options_.one_hot || options_.num_classes > 0,
        "prefix n-grams: one-hot targets need num_classes > 0");
  std::int64_t longest = 0;
  for (std::size_t line = 0; line < lines_.size(); ++line) {
    const auto length = std::ssize(lines_[line]);
    for (const std::int32_t id : lines_[line])
      check(id >= 0 && (!options_.one_hot || id < options_.num_classes), "prefix n-grams: line ", line + 1,
            " holds token id ", id, ", outside [0, ", options_.num_classes, ")");
    for (std::int64_t end = 2; end <= length; ++end)
      samples_.push_back({static_cast<std::int64_t>(line), end});
    longest = std::max(longest, length);
  }
  check(!samples_.empty(), "prefix n-grams: no line has two tokens or more, so there is nothing to predict");
  check(options_.input_length >= 0, "prefix n-grams: input_length must be >= 0, received ",
        options_.input_length);
  input_length_ = options_.input_length > 0 ? options_.input_length : longest - 1;
  order_ = identity_order(sample_count());
}

std::int64_t PrefixNgramDataset::batch_count() const {
  return batches_for(sample_count(), options_.batch_size);
}

void PrefixNgramDataset::start_epoch(Rng& rng, bool shuffle) {
  order_ = identity_order(sample_count());
  if (shuffle) shuffle_in_place(order_, rng);
}

std::pair<Tensor, Tensor> PrefixNgramDataset::batch(std::int64_t index) {
  return make(batch_members(order_, index, options_.batch_size, batch_count()));
}

std::pair<Tensor, Tensor> PrefixNgramDataset::all() const {
  return make(identity_order(sample_count()));
}

std::pair<Tensor, Tensor> PrefixNgramDataset::make(const std::vector<std::int64_t>& sample_numbers) const {
  const auto rows = std::ssize(sample_numbers);
  Tensor inputs({rows, input_length_});  // (B, T): zeros, then the prefix without its last id
  Tensor targets = options_.one_hot ? Tensor({rows, options_.num_classes}) : Tensor({rows});  // (B,V) or (B)
  for (std::int64_t row = 0; row < rows; ++row) {
    const Sample& sample = samples_[static_cast<std::size_t>(sample_numbers[static_cast<std::size_t>(row)])];
    const std::vector<std::int32_t>& line = lines_[static_cast<std::size_t>(sample.line)];
    const std::int64_t target_position = sample.length - 1;
    const std::int64_t inputs_used = std::min(target_position, input_length_);  // the last ones when longer
    float* input_row = inputs.data() + row * input_length_ + (input_length_ - inputs_used);
    for (std::int64_t t = 0; t < inputs_used; ++t)
      input_row[t] = static_cast<float>(line[static_cast<std::size_t>(target_position - inputs_used + t)]);
    const std::int32_t target = line[static_cast<std::size_t>(target_position)];
    if (options_.one_hot)
      targets[row * options_.num_classes + target] = 1.0f;
    else
      targets[row] = static_cast<float>(target);
  }
  return {std::move(inputs), std::move(targets)};
}

}  // namespace rnnkit
