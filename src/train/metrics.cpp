// Keras's metrics with streaming state; see metrics.h for the rules.
#include "rnnkit/metrics.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "rnnkit/error.h"

namespace rnnkit {
namespace {

using nlohmann::json;

Shape without_last(const Shape& shape) {
  return {shape.begin(), shape.end() - 1};
}

// The weight of each of y_pred's `rows` rows: sample_weight per row, or per sample (B) spread over its
// rows, or 1.
std::vector<double> row_weights(const Tensor* sample_weight, const Shape& row_shape, std::int64_t rows,
                                const std::string& name) {
  std::vector<double> weights(static_cast<std::size_t>(rows), 1.0);
  if (sample_weight == nullptr) return weights;
  const bool per_row = sample_weight->shape() == row_shape;
  const bool per_sample = sample_weight->rank() == 1 && sample_weight->dim(0) == row_shape[0];
  check(per_row || per_sample, name, ": sample_weight ", shape_string(sample_weight->shape()),
        " matches neither the rows ", shape_string(row_shape), " nor the samples (", row_shape[0], ")");
  const std::int64_t per = per_row ? 1 : rows / row_shape[0];
  for (std::int64_t r = 0; r < rows; ++r) weights[static_cast<std::size_t>(r)] = (*sample_weight)[r / per];
  return weights;
}

std::int64_t first_argmax(const float* row, std::int64_t length) {
  return std::max_element(row, row + length) - row;  // the first of equal maxima, as tf.math.argmax
}

// The accuracies: Keras's MeanMetricWrapper around an accuracy function.
class AccuracyMetric final : public Metric {
 public:
  enum class Kind : std::uint8_t { automatic, binary, categorical, sparse_categorical, top_k, sparse_top_k };

  // `wrapper`: made from a function name (saved as MeanMetricWrapper), not from the class.
  AccuracyMetric(Kind kind, std::string name, double threshold, int k, bool wrapper)
      : Metric(name.empty() ? function_name(kind) : std::move(name), false),
        kind_(kind),
        threshold_(threshold),
        k_(k),
        wrapper_(wrapper) {
    check(kind != Kind::top_k && kind != Kind::sparse_top_k ? true : k > 0, this->name(),
          ": k must be positive, received ", k);
  }

  static std::string function_name(Kind kind) {
    switch (kind) {
      case Kind::automatic:
        return "accuracy";
      case Kind::binary:
        return "binary_accuracy";
      case Kind::categorical:
        return "categorical_accuracy";
      case Kind::sparse_categorical:
        return "sparse_categorical_accuracy";
      case Kind::top_k:
        return "top_k_categorical_accuracy";
      case Kind::sparse_top_k:
        return "sparse_top_k_categorical_accuracy";
    }
    return "";
  }

  void update_state(const Tensor& y_true, const Tensor& y_pred, const Tensor* sample_weight) override {
    const Shape& pred_shape = y_pred.shape();
    check(y_pred.rank() >= 2 && pred_shape.back() > 0, name(),
          ": needs y_pred shaped (batch, ..., classes), received ", shape_string(pred_shape));
    const std::int64_t classes = pred_shape.back();
    const Shape row_shape = without_last(pred_shape);
    const std::int64_t rows = element_count(row_shape);
    Shape true_shape = y_true.shape();
    // compile_utils.match_dtype_and_rank: a rank-1 y_true with a rank-2 y_pred is (B, 1).
    if (true_shape.size() == 1 && pred_shape.size() == 2) true_shape.push_back(1);
    const bool sparse_shape =
        true_shape.size() < pred_shape.size() || (true_shape.back() == 1 && classes > 1);
    Kind kind = kind_;
    if (kind == Kind::automatic)
      kind = classes == 1 ? Kind::binary : sparse_shape ? Kind::sparse_categorical : Kind::categorical;
    const bool sparse_labels = kind == Kind::sparse_categorical || kind == Kind::sparse_top_k;
    if (sparse_labels) {
      check(true_shape == row_shape || (true_shape.size() == row_shape.size() + 1 && true_shape.back() == 1 &&
                                        without_last(true_shape) == row_shape),
            name(), ": y_true ", shape_string(y_true.shape()),
            " does not hold one class id per row of y_pred ", shape_string(pred_shape));
    } else if (!(kind == Kind::binary && classes == 1 && true_shape == row_shape)) {
      // (y_true without y_pred's last axis of 1 is accepted for binary accuracy.)
      check(true_shape == pred_shape, name(), ": y_true ", shape_string(y_true.shape()),
            " does not match y_pred ", shape_string(pred_shape));
    }
    const std::vector<double> weights = row_weights(sample_weight, row_shape, rows, name());
    for (std::int64_t r = 0; r < rows; ++r) {
      const float* pred = y_pred.data() + r * classes;
      double value = 0.0;
      switch (kind) {
        case Kind::automatic:
        case Kind::binary: {
          const float* truth = y_true.data() + r * classes;
          std::int64_t equal = 0;
          for (std::int64_t c = 0; c < classes; ++c)
            equal += (pred[c] > static_cast<float>(threshold_) ? 1.0f : 0.0f) == truth[c];
          value = static_cast<double>(equal) / static_cast<double>(classes);
          break;
        }
        case Kind::categorical:
          value = first_argmax(y_true.data() + r * classes, classes) == first_argmax(pred, classes);
          break;
        case Kind::sparse_categorical:
          value = static_cast<float>(first_argmax(pred, classes)) == y_true[r];
          break;
        case Kind::top_k:
          value = in_top_k(pred, classes, first_argmax(y_true.data() + r * classes, classes));
          break;
        case Kind::sparse_top_k: {
          // tf.math.in_top_k on the CPU: a label outside [0, classes) is never in.
          const float label = y_true[r];
          value = label >= 0 && label < static_cast<float>(classes) && label == std::floor(label) &&
                  in_top_k(pred, classes, static_cast<std::int64_t>(label));
          break;
        }
      }
      total_ += weights[static_cast<std::size_t>(r)] * value;
      count_ += weights[static_cast<std::size_t>(r)];
    }
  }

  double result() const override { return count_ != 0.0 ? total_ / count_ : 0.0; }
  void reset_state() override { total_ = count_ = 0.0; }

  std::string class_name() const override {
    if (wrapper_ || kind_ == Kind::automatic) return "MeanMetricWrapper";
    switch (kind_) {
      case Kind::binary:
        return "BinaryAccuracy";
      case Kind::categorical:
        return "CategoricalAccuracy";
      case Kind::sparse_categorical:
        return "SparseCategoricalAccuracy";
      case Kind::top_k:
        return "TopKCategoricalAccuracy";
      default:
        return "SparseTopKCategoricalAccuracy";
    }
  }

  json config() const override {
    json config = {{"name", name()}, {"dtype", "float32"}};
    if (kind_ == Kind::binary) config["threshold"] = threshold_;
    if (kind_ == Kind::top_k || kind_ == Kind::sparse_top_k) config["k"] = k_;
    if (wrapper_ || kind_ == Kind::automatic) config["fn"] = function_name(kind_);
    return config;
  }

  std::unique_ptr<Metric> clone() const override {
    auto copy = std::make_unique<AccuracyMetric>(*this);
    copy->reset_state();
    return copy;
  }

 private:
  // tf.math.in_top_k: the target is in when fewer than k classes score strictly higher; a non-finite
  // prediction in the row counts as out.
  bool in_top_k(const float* pred, std::int64_t classes, std::int64_t target) const {
    std::int64_t higher = 0;
    for (std::int64_t c = 0; c < classes; ++c) {
      if (!std::isfinite(pred[c])) return false;
      higher += pred[c] > pred[target];
    }
    return higher < k_;
  }

  Kind kind_;
  double threshold_;
  int k_;
  bool wrapper_;
  double total_ = 0.0, count_ = 0.0;
};

// y_true and y_pred as update_confusion_matrix_variables compares them: squeeze_or_expand_dimensions, then
// one shape.
void check_confusion_shapes(const std::string& name, const Tensor& y_true, const Tensor& y_pred) {
  const Shape& t = y_true.shape();
  const Shape& p = y_pred.shape();
  const bool same = t == p;
  const bool pred_extra = p.size() == t.size() + 1 && p.back() == 1 && without_last(p) == t;
  const bool true_extra = t.size() == p.size() + 1 && t.back() == 1 && without_last(t) == p;
  check(p.size() >= 1 && (same || pred_extra || true_extra), name, ": y_true ", shape_string(t),
        " and y_pred ", shape_string(p),
        " do not have one shape (Precision, Recall and AUC take labels shaped like the predictions)");
}

class ConfusionMetric : public Metric {
 protected:
  ConfusionMetric(std::string name, std::vector<float> thresholds)
      : Metric(std::move(name), true), thresholds_(std::move(thresholds)) {
    reset_counts();
  }

  void reset_counts() {
    for (auto* counts : {&tp_, &fp_, &tn_, &fn_}) counts->assign(thresholds_.size(), 0.0);
  }

  // Adds the elements of a batch (predictions already filtered), each with its weight.
  void add(const std::vector<float>& truth, const std::vector<float>& pred,
           const std::vector<double>& weights) {
    for (std::size_t e = 0; e < pred.size(); ++e) {
      const bool positive = truth[e] != 0.0f;
      for (std::size_t t = 0; t < thresholds_.size(); ++t) {
        const bool predicted = pred[e] > thresholds_[t];
        (positive ? (predicted ? tp_ : fn_) : (predicted ? fp_ : tn_))[t] += weights[e];
      }
    }
  }

  // The elements of a batch after top_k and class_id, with the weight of each.
  void flatten(const Tensor& y_true, const Tensor& y_pred, const Tensor* sample_weight,
               std::optional<int> top_k, std::optional<int> class_id, std::vector<float>& truth,
               std::vector<float>& pred, std::vector<double>& weights) const {
    check_confusion_shapes(name(), y_true, y_pred);
    const Shape& p = y_pred.shape();
    const std::int64_t width = p.size() >= 2 ? p.back() : 1;
    const std::int64_t rows = y_pred.size() / std::max<std::int64_t>(width, 1);
    const Shape row_shape = p.size() >= 2 ? without_last(p) : p;
    // A (B) y_pred has one prediction per row; its weights are per sample.
    const std::vector<double> per_row = p.size() >= 2 ? row_weights(sample_weight, row_shape, rows, name())
                                                      : row_weights(sample_weight, Shape{p[0]}, rows, name());
    truth.clear(), pred.clear(), weights.clear();
    if (class_id)
      check(*class_id >= 0 && *class_id < width, name(), ": class_id ", *class_id,
            " is not a column of y_pred ", shape_string(p));
    std::vector<std::int64_t> order(static_cast<std::size_t>(width));
    std::vector<float> row(static_cast<std::size_t>(width));
    for (std::int64_t r = 0; r < rows; ++r) {
      std::copy_n(y_pred.data() + r * width, width, row.begin());
      if (top_k) {  // metrics_utils._filter_top_k: the k largest stay, the others become NEG_INF
        std::iota(order.begin(), order.end(), 0);
        std::stable_sort(order.begin(), order.end(), [&](std::int64_t a, std::int64_t b) {
          return row[static_cast<std::size_t>(a)] > row[static_cast<std::size_t>(b)];
        });
        for (std::size_t i = static_cast<std::size_t>(std::min<std::int64_t>(*top_k, width));
             i < order.size(); ++i)
          row[static_cast<std::size_t>(order[i])] = -1e10f;
      }
      for (std::int64_t c = 0; c < width; ++c) {
        if (class_id && c != *class_id) continue;
        truth.push_back(y_true[r * width + c]);
        pred.push_back(row[static_cast<std::size_t>(c)]);
        weights.push_back(per_row[static_cast<std::size_t>(r)]);
      }
    }
  }

  static double divide_no_nan(double a, double b) { return b == 0.0 ? 0.0 : a / b; }

  std::vector<float> thresholds_;
  std::vector<double> tp_, fp_, tn_, fn_;
};

// Precision and Recall at one threshold.
class PrecisionRecall final : public ConfusionMetric {
 public:
  PrecisionRecall(bool precision, const ConfusionOptions& options)
      : ConfusionMetric(options.name.empty() ? (precision ? "precision" : "recall") : options.name,
                        {static_cast<float>(options.thresholds.value_or(options.top_k ? -1e10 : 0.5))}),
        precision_(precision),
        options_(options) {
    if (!options.name.empty()) set_name(options.name);
    check(!options.thresholds || (*options.thresholds >= 0.0 && *options.thresholds <= 1.0), name(),
          ": thresholds must be in [0, 1], received ", options.thresholds.value_or(0.0));
    check(!options.top_k || *options.top_k > 0, name(), ": top_k must be positive");
  }

  void update_state(const Tensor& y_true, const Tensor& y_pred, const Tensor* sample_weight) override {
    std::vector<float> truth, pred;
    std::vector<double> weights;
    flatten(y_true, y_pred, sample_weight, options_.top_k, options_.class_id, truth, pred, weights);
    add(truth, pred, weights);
  }

  double result() const override { return divide_no_nan(tp_[0], tp_[0] + (precision_ ? fp_[0] : fn_[0])); }
  void reset_state() override { reset_counts(); }
  std::string class_name() const override { return precision_ ? "Precision" : "Recall"; }

  json config() const override {
    return {{"name", name()},
            {"dtype", "float32"},
            {"thresholds", options_.thresholds ? json(*options_.thresholds) : json(nullptr)},
            {"top_k", options_.top_k ? json(*options_.top_k) : json(nullptr)},
            {"class_id", options_.class_id ? json(*options_.class_id) : json(nullptr)}};
  }

  std::unique_ptr<Metric> clone() const override {
    auto copy = std::make_unique<PrecisionRecall>(*this);
    copy->reset_state();
    return copy;
  }

 private:
  bool precision_;
  ConfusionOptions options_;
};

std::vector<float> auc_thresholds(const AUCOptions& options) {
  std::vector<double> inner = options.thresholds;
  if (inner.empty())
    for (int i = 0; i < options.num_thresholds - 2; ++i)
      inner.push_back((i + 1) * 1.0 / (options.num_thresholds - 1));
  std::vector<float> all{static_cast<float>(0.0 - 1e-7)};
  for (double t : inner) all.push_back(static_cast<float>(t));
  all.push_back(static_cast<float>(1.0 + 1e-7));
  return all;
}

class AUCMetric final : public ConfusionMetric {
 public:
  explicit AUCMetric(const AUCOptions& options)
      : ConfusionMetric(options.name.empty() ? "auc" : options.name, auc_thresholds(options)),
        options_(options) {
    if (!options.name.empty()) set_name(options.name);
    check(options.thresholds.empty() ? options.num_thresholds > 1 : true, name(),
          ": num_thresholds must be > 1, received ", options.num_thresholds);
    check(options.curve == "ROC" || options.curve == "PR", name(), ": curve must be ROC or PR, received '",
          options.curve, "'");
    check(options.summation_method == "interpolation" || options.summation_method == "minoring" ||
              options.summation_method == "majoring",
          name(), ": summation_method must be interpolation, minoring or majoring, received '",
          options.summation_method, "'");
    for (double t : options.thresholds)
      check(t >= 0.0 && t <= 1.0, name(), ": thresholds must be in [0, 1], received ", t);
  }

  void update_state(const Tensor& y_true, const Tensor& y_pred, const Tensor* sample_weight) override {
    std::vector<float> truth, pred;
    std::vector<double> weights;
    flatten(y_true, y_pred, sample_weight, std::nullopt, std::nullopt, truth, pred, weights);
    if (options_.from_logits)
      for (float& p : pred) p = 1.0f / (1.0f + std::exp(-p));
    if (!options_.thresholds.empty()) {
      add(truth, pred, weights);
      return;
    }
    for (float& p : pred) p = std::clamp(p, 0.0f, 1.0f);
    // Keras's evenly-spaced path: each prediction in bucket ceil(p * (n - 1)) - 1 (at least 0), each
    // threshold counting the buckets from its own up.
    const std::size_t n = thresholds_.size();
    std::vector<double> tp_bucket(n, 0.0), fp_bucket(n, 0.0);
    double positives = 0.0, negatives = 0.0;
    for (std::size_t e = 0; e < pred.size(); ++e) {
      const float scaled = std::ceil(pred[e] * static_cast<float>(n - 1)) - 1.0f;
      const auto bucket = static_cast<std::size_t>(std::max(scaled, 0.0f));
      const double label = truth[e] != 0.0f ? 1.0 : 0.0;
      tp_bucket[bucket] += label * weights[e];
      fp_bucket[bucket] += (1.0 - label) * weights[e];
      positives += label * weights[e];
      negatives += (1.0 - label) * weights[e];
    }
    double tp = 0.0, fp = 0.0;
    for (std::size_t t = n; t-- > 0;) {
      tp += tp_bucket[t], fp += fp_bucket[t];
      tp_[t] += tp, fp_[t] += fp;
      fn_[t] += positives - tp, tn_[t] += negatives - fp;
    }
  }

  double result() const override {
    const std::size_t n = thresholds_.size();
    double area = 0.0;
    if (options_.curve == "PR" && options_.summation_method == "interpolation") {
      for (std::size_t i = 0; i + 1 < n; ++i) {
        const double dtp = tp_[i] - tp_[i + 1];
        const double p0 = tp_[i] + fp_[i], p1 = tp_[i + 1] + fp_[i + 1];
        const double slope = divide_no_nan(dtp, std::max(p0 - p1, 0.0));
        const double intercept = tp_[i + 1] - slope * p1;
        const double ratio = p0 > 0 && p1 > 0 ? divide_no_nan(p0, std::max(p1, 0.0)) : 1.0;
        area += divide_no_nan(slope * (dtp + intercept * std::log(ratio)),
                              std::max(tp_[i + 1] + fn_[i + 1], 0.0));
      }
      return area;
    }
    std::vector<double> x(n), y(n);
    for (std::size_t i = 0; i < n; ++i) {
      const double recall = divide_no_nan(tp_[i], tp_[i] + fn_[i]);
      if (options_.curve == "ROC") {
        x[i] = divide_no_nan(fp_[i], fp_[i] + tn_[i]);
        y[i] = recall;
      } else {
        x[i] = recall;
        y[i] = divide_no_nan(tp_[i], tp_[i] + fp_[i]);
      }
    }
    for (std::size_t i = 0; i + 1 < n; ++i) {
      const double height = options_.summation_method == "interpolation" ? (y[i] + y[i + 1]) / 2.0
                            : options_.summation_method == "minoring"    ? std::min(y[i], y[i + 1])
                                                                         : std::max(y[i], y[i + 1]);
      area += (x[i] - x[i + 1]) * height;
    }
    return area;
  }

  void reset_state() override { reset_counts(); }
  std::string class_name() const override { return "AUC"; }

  json config() const override {
    json config = {{"name", name()},
                   {"dtype", "float32"},
                   {"num_thresholds", static_cast<int>(thresholds_.size())},
                   {"curve", options_.curve},
                   {"summation_method", options_.summation_method},
                   {"multi_label", false},
                   {"num_labels", nullptr},
                   {"label_weights", nullptr},
                   {"from_logits", options_.from_logits}};
    if (!options_.thresholds.empty()) config["thresholds"] = options_.thresholds;
    return config;
  }

  std::unique_ptr<Metric> clone() const override {
    auto copy = std::make_unique<AUCMetric>(*this);
    copy->reset_state();
    return copy;
  }

 private:
  AUCOptions options_;
};

std::unique_ptr<Metric> accuracy(AccuracyMetric::Kind kind, std::string name, double threshold, int k,
                                 bool wrapper) {
  return std::make_unique<AccuracyMetric>(kind, std::move(name), threshold, k, wrapper);
}

std::unique_ptr<Metric> named(std::unique_ptr<Metric> metric, const std::string& name) {
  if (!name.empty()) metric->set_name(name);
  return metric;
}

}  // namespace

std::unique_ptr<Metric> BinaryAccuracy(double threshold, std::string name) {
  return named(accuracy(AccuracyMetric::Kind::binary, "", threshold, 5, false), name);
}
std::unique_ptr<Metric> CategoricalAccuracy(std::string name) {
  return named(accuracy(AccuracyMetric::Kind::categorical, "", 0.5, 5, false), name);
}
std::unique_ptr<Metric> SparseCategoricalAccuracy(std::string name) {
  return named(accuracy(AccuracyMetric::Kind::sparse_categorical, "", 0.5, 5, false), name);
}
std::unique_ptr<Metric> TopKCategoricalAccuracy(int k, std::string name) {
  return named(accuracy(AccuracyMetric::Kind::top_k, "", 0.5, k, false), name);
}
std::unique_ptr<Metric> SparseTopKCategoricalAccuracy(int k, std::string name) {
  return named(accuracy(AccuracyMetric::Kind::sparse_top_k, "", 0.5, k, false), name);
}
std::unique_ptr<Metric> Precision(const ConfusionOptions& options) {
  return std::make_unique<PrecisionRecall>(true, options);
}
std::unique_ptr<Metric> Recall(const ConfusionOptions& options) {
  return std::make_unique<PrecisionRecall>(false, options);
}
std::unique_ptr<Metric> AUC(const AUCOptions& options) {
  return std::make_unique<AUCMetric>(options);
}

std::unique_ptr<Metric> make_metric(std::string_view name) {
  using Kind = AccuracyMetric::Kind;
  const std::string given(name);
  // Keras 2 wraps a function named by a string in a MeanMetricWrapper of that name ("acc" logs as "acc").
  if (given == "accuracy" || given == "acc") return accuracy(Kind::automatic, given, 0.5, 5, true);
  for (const Kind kind :
       {Kind::binary, Kind::categorical, Kind::sparse_categorical, Kind::top_k, Kind::sparse_top_k})
    if (given == AccuracyMetric::function_name(kind)) return accuracy(kind, given, 0.5, 5, true);
  if (given == "BinaryAccuracy") return BinaryAccuracy();
  if (given == "CategoricalAccuracy") return CategoricalAccuracy();
  if (given == "SparseCategoricalAccuracy") return SparseCategoricalAccuracy();
  if (given == "TopKCategoricalAccuracy") return TopKCategoricalAccuracy();
  if (given == "SparseTopKCategoricalAccuracy") return SparseTopKCategoricalAccuracy();
  if (given == "Precision" || given == "precision") return Precision();
  if (given == "Recall" || given == "recall") return Recall();
  if (given == "AUC" || given == "auc") return AUC();
  fail("unknown metric '", given,
       "' (known: accuracy, acc, binary_accuracy, categorical_accuracy, sparse_categorical_accuracy, "
       "top_k_categorical_accuracy, sparse_top_k_categorical_accuracy, their classes BinaryAccuracy, ..., "
       "Precision, Recall, AUC)");
}

std::unique_ptr<Metric> metric_from_config(const json& saved, const std::string& where) {
  using Kind = AccuracyMetric::Kind;
  if (saved.is_string()) {
    try {
      return make_metric(saved.get<std::string>());
    } catch (const Error& error) {
      fail(where, ": ", error.what());
    }
  }
  check(saved.is_object() && saved.contains("class_name") && saved["class_name"].is_string(), where,
        ": metric ", saved.dump(), " is neither a name nor {\"class_name\": ..., \"config\": ...}");
  const std::string class_name = saved["class_name"].get<std::string>();
  const json config = saved.value("config", json::object());
  check(config.is_object(), where, ": metric ", class_name, " has no config object");
  const std::string name = config.contains("name") && config["name"].is_string()
                               ? config["name"].get<std::string>()
                               : std::string();
  const auto number = [&](const char* key, double fallback) {
    if (!config.contains(key) || config[key].is_null()) return fallback;
    check(config[key].is_number(), where, ": metric ", class_name, "'s ", key, " ", config[key].dump(),
          " is not a number");
    return config[key].get<double>();
  };
  const auto optional_int = [&](const char* key) -> std::optional<int> {
    if (!config.contains(key) || config[key].is_null()) return std::nullopt;
    check(config[key].is_number_integer(), where, ": metric ", class_name, "'s ", key, " ",
          config[key].dump(), " is not an integer");
    return config[key].get<int>();
  };
  try {
    if (class_name == "MeanMetricWrapper") {  // tf.keras 2.x: a function by name, with its kwargs
      check(config.contains("fn") && config["fn"].is_string(), where, ": MeanMetricWrapper '", name,
            "' names no function");
      const std::string fn = config["fn"].get<std::string>();
      for (const Kind kind :
           {Kind::binary, Kind::categorical, Kind::sparse_categorical, Kind::top_k, Kind::sparse_top_k})
        if (fn == AccuracyMetric::function_name(kind))
          return accuracy(kind, name, number("threshold", 0.5), static_cast<int>(number("k", 5)), true);
      if (fn == "accuracy" || fn == "acc") return accuracy(Kind::automatic, name, 0.5, 5, true);
      fail(where, ": metric function '", fn, "' is not one rnnkit computes");
    }
    if (class_name == "BinaryAccuracy") return BinaryAccuracy(number("threshold", 0.5), name);
    if (class_name == "CategoricalAccuracy") return CategoricalAccuracy(name);
    if (class_name == "SparseCategoricalAccuracy") return SparseCategoricalAccuracy(name);
    if (class_name == "TopKCategoricalAccuracy")
      return TopKCategoricalAccuracy(static_cast<int>(number("k", 5)), name);
    if (class_name == "SparseTopKCategoricalAccuracy")
      return SparseTopKCategoricalAccuracy(static_cast<int>(number("k", 5)), name);
    if (class_name == "Precision" || class_name == "Recall") {
      ConfusionOptions options{
          .top_k = optional_int("top_k"), .class_id = optional_int("class_id"), .name = name};
      if (config.contains("thresholds") && !config["thresholds"].is_null()) {
        json thresholds = config["thresholds"];
        if (thresholds.is_array() && thresholds.size() == 1) thresholds = thresholds[0];
        check(thresholds.is_number(), where, ": ", class_name, " '", name, "' has thresholds ",
              config["thresholds"].dump(),
              "; rnnkit computes one threshold (a list gives a list of results)");
        options.thresholds = thresholds.get<double>();
      }
      return class_name == "Precision" ? Precision(options) : Recall(options);
    }
    if (class_name == "AUC") {
      check(!config.value("multi_label", false), where, ": AUC '", name,
            "' sets multi_label, which rnnkit does not compute");
      check(!config.contains("label_weights") || config["label_weights"].is_null(), where, ": AUC '", name,
            "' sets label_weights, which rnnkit does not compute");
      AUCOptions options{.num_thresholds = static_cast<int>(number("num_thresholds", 200)),
                         .curve = config.value("curve", std::string("ROC")),
                         .summation_method = config.value("summation_method", std::string("interpolation")),
                         .from_logits = config.value("from_logits", false),
                         .name = name};
      if (config.contains("thresholds") && !config["thresholds"].is_null()) {
        check(config["thresholds"].is_array(), where, ": AUC '", name, "' thresholds are not a list");
        for (const json& t : config["thresholds"]) {
          check(t.is_number(), where, ": AUC '", name, "' thresholds are not numbers");
          options.thresholds.push_back(t.get<double>());
        }
        // Older tf.keras saved the evenly spaced thresholds it made itself: the same as none given.
        bool even = static_cast<int>(options.thresholds.size()) == options.num_thresholds - 2;
        for (std::size_t i = 0; even && i < options.thresholds.size(); ++i)
          even = std::abs(options.thresholds[i] -
                          (static_cast<double>(i) + 1) / (options.num_thresholds - 1)) <= 1e-7;
        if (even) options.thresholds.clear();
      }
      return AUC(options);
    }
  } catch (const Error& error) {
    const std::string message = error.what();
    if (message.starts_with(where)) throw;
    fail(where, ": ", message);
  } catch (const json::exception& error) {  // a field of another type than Keras writes
    fail(where, ": metric ", class_name, " has a malformed config ", config.dump(), " (", error.what(), ")");
  }
  fail(where, ": metric class '", class_name, "' is not one rnnkit computes");
}

}  // namespace rnnkit
