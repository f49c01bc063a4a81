#include "rnnkit/text/classification.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <numeric>

#include "rnnkit/error.h"
#include "rnnkit/text/datasets.h"

namespace rnnkit {
namespace {

std::optional<long long> as_integer(const std::string& text) {
  long long value = 0;
  const char* end = text.data() + text.size();
  const auto [stop, error] = std::from_chars(text.data(), end, value);
  if (error != std::errc() || stop != end) return std::nullopt;
  return value;
}

}  // namespace

LabelMap::LabelMap(std::vector<std::string> names) : names_(std::move(names)) {
  check(names_.size() >= 2, "a classifier needs at least 2 classes, the labels hold ", names_.size(),
        names_.size() == 1 ? " ('" + names_[0] + "')" : std::string());
  for (std::size_t i = 0; i < names_.size(); ++i) {
    const bool inserted = ids_.emplace(names_[i], static_cast<std::int64_t>(i)).second;
    check(inserted, "label '", names_[i], "' is named twice in the class list");
  }
}

LabelMap LabelMap::from_labels(const std::vector<std::string>& labels) {
  std::vector<std::string> names(labels);
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  const bool integers = std::all_of(names.begin(), names.end(),
                                    [](const std::string& name) { return as_integer(name).has_value(); });
  if (integers) {
    // "10" after "9"; and "0".."K-1" keep their values as ids.
    std::sort(names.begin(), names.end(),
              [](const std::string& a, const std::string& b) { return *as_integer(a) < *as_integer(b); });
  }
  return LabelMap(std::move(names));
}

std::optional<std::int64_t> LabelMap::find(const std::string& label) const {
  const auto found = ids_.find(label);
  return found == ids_.end() ? std::nullopt : std::optional<std::int64_t>(found->second);
}

std::vector<std::int64_t> LabelMap::ids(const LabelledTexts& data) const {
  check(data.labels.size() == data.texts.size(), "file '", data.source, "' has no labels");
  std::vector<std::int64_t> result;
  result.reserve(data.labels.size());
  for (std::size_t row = 0; row < data.labels.size(); ++row) {
    const auto id = find(data.labels[row]);
    if (!id) {
      std::string known;
      for (const std::string& name : names_) known += (known.empty() ? "'" : ", '") + name + "'";
      fail(data.label_location(row), ": unknown label '", data.labels[row], "'; the model's classes are ",
           known);
    }
    result.push_back(*id);
  }
  return result;
}

TextEncoder TextEncoder::fit(const std::vector<std::string>& texts, const TextEncoderOptions& options) {
  check(options.level == "word" || options.level == "char" || options.level == "subword", "level '",
        options.level, "' is not word, char or subword");
  if (options.level == "subword") {
    SubwordOptions subword = options.subword;
    subword.lower = options.tokenizer.lower;
    return from_subword(SubwordTokenizer::train(texts, subword));
  }
  TokenizerOptions tokenizer_options = options.tokenizer;
  tokenizer_options.char_level = options.level == "char";
  Tokenizer tokenizer(tokenizer_options);
  tokenizer.fit_on_texts(texts);
  return from_tokenizer(std::move(tokenizer));
}

TextEncoder TextEncoder::from_tokenizer(Tokenizer tokenizer) {
  TextEncoder encoder;
  encoder.level_ = tokenizer.options().char_level ? "char" : "word";
  encoder.tokenizer_ = std::move(tokenizer);
  return encoder;
}

TextEncoder TextEncoder::from_subword(SubwordTokenizer subword) {
  TextEncoder encoder;
  encoder.level_ = "subword";
  encoder.subword_ = std::move(subword);
  return encoder;
}

std::vector<int> TextEncoder::encode(std::string_view text) const {
  return subword_ ? subword_->encode(text) : tokenizer_->text_to_sequence(text);
}

std::vector<std::vector<int>> TextEncoder::encode(const std::vector<std::string>& texts) const {
  if (tokenizer_) return tokenizer_->texts_to_sequences(texts);
  std::vector<std::vector<int>> sequences;
  sequences.reserve(texts.size());
  for (const std::string& text : texts) sequences.push_back(subword_->encode(text));
  return sequences;
}

std::int64_t TextEncoder::vocabulary_size() const {
  return subword_ ? subword_->vocabulary_size() : tokenizer_->vocabulary_size();
}

ClassificationDataset::ClassificationDataset(std::vector<std::vector<int>> sequences,
                                             std::vector<std::int64_t> labels, bool binary,
                                             const ClassificationBatchOptions& options)
    : sequences_(std::move(sequences)), labels_(std::move(labels)), binary_(binary), options_(options) {
  check(sequences_.size() == labels_.size(), "ClassificationDataset: ", sequences_.size(), " texts but ",
        labels_.size(), " labels");
  check(!sequences_.empty(), "ClassificationDataset: no texts");
  check(options_.batch_size > 0, "ClassificationDataset: batch_size must be positive");
  check(options_.padding.maxlen && *options_.padding.maxlen > 0,
        "ClassificationDataset: the padded length (maxlen) must be given and positive");
  order_.resize(sequences_.size());
  std::iota(order_.begin(), order_.end(), 0);
}

ClassificationDataset::ClassificationDataset(const TextEncoder& encoder,
                                             const std::vector<std::string>& texts,
                                             const std::vector<std::string>& label_names,
                                             const LabelMap& labels,
                                             const ClassificationBatchOptions& options)
    : ClassificationDataset(
          encoder.encode(texts),
          [&] {
            std::vector<std::int64_t> ids;
            for (const std::string& name : label_names) {
              const auto id = labels.find(name);
              check(id.has_value(), "unknown label '", name, "'");
              ids.push_back(*id);
            }
            return ids;
          }(),
          labels.binary(), options) {}

std::int64_t ClassificationDataset::batch_count() const {
  return (sample_count() + options_.batch_size - 1) / options_.batch_size;
}

void ClassificationDataset::start_epoch(Rng& rng, bool shuffle) {
  if (shuffle) shuffle_in_place(order_, rng);
}

std::pair<Tensor, Tensor> ClassificationDataset::batch(std::int64_t index) {
  check(index >= 0 && index < batch_count(), "ClassificationDataset: batch ", index, " of ", batch_count());
  const std::int64_t begin = index * options_.batch_size;
  const std::int64_t end = std::min(sample_count(), begin + options_.batch_size);
  std::vector<std::vector<int>> rows;
  const std::int64_t size = end - begin;
  Tensor y = binary_ ? Tensor({size, 1}, 0.0f) : Tensor({size}, 0.0f);
  for (std::int64_t i = begin; i < end; ++i) {
    const auto sample = static_cast<std::size_t>(order_[static_cast<std::size_t>(i)]);
    rows.push_back(sequences_[sample]);
    y[i - begin] = static_cast<float>(labels_[sample]);
  }
  return {pad_sequences(rows, options_.padding), std::move(y)};
}

Tensor ClassificationDataset::inputs() const {
  return pad_sequences(sequences_, options_.padding);
}

std::map<int, double> balanced_class_weights(const std::vector<std::int64_t>& labels, std::int64_t classes) {
  std::vector<std::int64_t> counts(static_cast<std::size_t>(classes), 0);
  for (const std::int64_t label : labels) {
    check(label >= 0 && label < classes, "class id ", label, " is outside [0, ", classes, ")");
    ++counts[static_cast<std::size_t>(label)];
  }
  std::int64_t present = 0;
  for (const std::int64_t count : counts) present += count > 0 ? 1 : 0;
  std::map<int, double> weights;
  for (std::int64_t c = 0; c < classes; ++c)
    if (counts[static_cast<std::size_t>(c)] > 0)
      weights[static_cast<int>(c)] =
          static_cast<double>(labels.size()) /
          (static_cast<double>(present) * static_cast<double>(counts[static_cast<std::size_t>(c)]));
  return weights;
}

std::vector<std::vector<double>> class_probabilities(const Tensor& outputs) {
  check(outputs.rank() == 2, "a classifier's output must be (N, classes) or (N, 1), not rank ",
        outputs.rank());
  const std::int64_t n = outputs.dim(0), width = outputs.dim(1);
  std::vector<std::vector<double>> probabilities(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) {
    auto& row = probabilities[static_cast<std::size_t>(i)];
    if (width == 1) {
      const double p = outputs[i];
      row = {1.0 - p, p};
    } else {
      for (std::int64_t c = 0; c < width; ++c) row.push_back(outputs[i * width + c]);
    }
  }
  return probabilities;
}

std::optional<double> roc_auc(const std::vector<std::int64_t>& truth, const std::vector<double>& scores) {
  check(truth.size() == scores.size(), "roc_auc: ", truth.size(), " labels but ", scores.size(), " scores");
  std::vector<std::size_t> order(scores.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return scores[a] < scores[b]; });
  // Average ranks (from 1) over runs of equal scores; the positives' rank sum gives the Mann-Whitney U.
  double positive_rank_sum = 0;
  std::int64_t positives = 0, negatives = 0;
  for (std::size_t start = 0; start < order.size();) {
    std::size_t stop = start;
    while (stop < order.size() && scores[order[stop]] == scores[order[start]]) ++stop;
    const double rank = (static_cast<double>(start + 1) + static_cast<double>(stop)) / 2.0;
    for (std::size_t i = start; i < stop; ++i) {
      if (truth[order[i]] == 1) {
        positive_rank_sum += rank;
        ++positives;
      } else {
        ++negatives;
      }
    }
    start = stop;
  }
  if (positives == 0 || negatives == 0) return std::nullopt;
  const double p = static_cast<double>(positives), q = static_cast<double>(negatives);
  return (positive_rank_sum - p * (p + 1) / 2) / (p * q);
}

ClassificationReport classification_report(const std::vector<std::int64_t>& truth,
                                           const std::vector<std::vector<double>>& probabilities,
                                           std::int64_t classes) {
  check(truth.size() == probabilities.size(), "classification_report: ", truth.size(), " labels but ",
        probabilities.size(), " predictions");
  check(!truth.empty(), "classification_report: no samples");
  const auto k = static_cast<std::size_t>(classes);
  ClassificationReport report;
  report.samples = static_cast<std::int64_t>(truth.size());
  report.confusion.assign(k, std::vector<std::int64_t>(k, 0));
  std::int64_t correct = 0;
  for (std::size_t i = 0; i < truth.size(); ++i) {
    const std::vector<double>& row = probabilities[i];
    check(row.size() == k, "classification_report: sample ", i, " has ", row.size(), " probabilities for ",
          classes, " classes");
    check(truth[i] >= 0 && truth[i] < classes, "classification_report: label ", truth[i], " outside [0, ",
          classes, ")");
    // The most probable class, the first on ties; a binary problem takes class 1 when p > 0.5, the
    // threshold of Keras's binary accuracy.
    std::int64_t predicted = std::max_element(row.begin(), row.end()) - row.begin();
    if (k == 2) predicted = row[1] > 0.5 ? 1 : 0;
    report.predicted.push_back(predicted);
    ++report.confusion[static_cast<std::size_t>(truth[i])][static_cast<std::size_t>(predicted)];
    correct += predicted == truth[i] ? 1 : 0;
    report.loss -= std::log(std::clamp(row[static_cast<std::size_t>(truth[i])], 1e-7, 1.0 - 1e-7));
  }
  report.loss /= static_cast<double>(truth.size());
  report.accuracy = static_cast<double>(correct) / static_cast<double>(truth.size());
  for (std::size_t c = 0; c < k; ++c) {
    std::int64_t true_positive = report.confusion[c][c], predicted_c = 0, actual_c = 0;
    for (std::size_t other = 0; other < k; ++other) {
      predicted_c += report.confusion[other][c];
      actual_c += report.confusion[c][other];
    }
    ClassScores scores;
    scores.support = actual_c;
    scores.precision =
        predicted_c ? static_cast<double>(true_positive) / static_cast<double>(predicted_c) : 0;
    scores.recall = actual_c ? static_cast<double>(true_positive) / static_cast<double>(actual_c) : 0;
    const double sum = scores.precision + scores.recall;
    scores.f1 = sum > 0 ? 2 * scores.precision * scores.recall / sum : 0;
    report.per_class.push_back(scores);
    report.macro.precision += scores.precision / static_cast<double>(k);
    report.macro.recall += scores.recall / static_cast<double>(k);
    report.macro.f1 += scores.f1 / static_cast<double>(k);
    const double share = static_cast<double>(actual_c) / static_cast<double>(truth.size());
    report.weighted.precision += scores.precision * share;
    report.weighted.recall += scores.recall * share;
    report.weighted.f1 += scores.f1 * share;
  }
  report.macro.support = report.weighted.support = report.samples;
  if (k == 2) {
    std::vector<double> positive;
    for (const auto& row : probabilities) positive.push_back(row[1]);
    report.roc_auc = roc_auc(truth, positive);
  }
  return report;
}

}  // namespace rnnkit
