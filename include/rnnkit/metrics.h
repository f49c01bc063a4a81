// Keras's metrics (tf.keras 2.15) with their streaming state: fit resets them at each epoch and evaluate at
// its start, each batch adds to them, and the logs show result() after every batch, as Keras's compiled
// metrics.
//
// The accuracies are Keras's MeanMetricWrapper: one value per row of y_pred (every axis but the last), a
// mean weighted by the rows' sample weights (sum(w * v) / sum(w); 0 when sum(w) is 0).
//   binary_accuracy            mean over the last axis of (y_pred > threshold) == y_true
//   categorical_accuracy       argmax(y_true) == argmax(y_pred), the first maximum on ties
//   sparse_categorical_accuracy  the class id == argmax(y_pred)
//   top_k_categorical_accuracy   in_top_k: fewer than k classes score strictly above the true class (ties
//                                straddling the k-th place all count as in, as tf.math.in_top_k)
//   accuracy / acc             one of the first three chosen from the shapes, as compile does (see
//                              Loss::accuracy)
// Precision, Recall and AUC are confusion-matrix metrics (metrics_utils.update_confusion_matrix_variables):
// y_true and y_pred are brought to one shape (a trailing axis of 1 squeezed), every element is one
// prediction, positive when y_true != 0, predicted positive when y_pred > threshold (strictly); each adds its
// sample weight (the weight of its row) to TP, FP, TN or FN, summed over every batch until reset.
//   Precision = TP / (TP + FP), Recall = TP / (TP + FN) (0 where the denominator is 0). top_k keeps each
//   row's k largest predictions (the lower index first on ties) and sets the others to -1e10, before the
//   threshold (which is then -1e10 when not given); class_id takes the one column.
//   AUC: num_thresholds (200) thresholds, i / (n - 1) for i in 1..n-2, with -1e-7 and 1 + 1e-7 as the ends;
//   predictions are clipped to [0, 1] and counted by bucket ceil(p * (n - 1)) - 1 (at least 0), each
//   threshold counting the buckets from its own up (Keras's evenly-spaced path; explicit thresholds compare
//   p > t). ROC: x = FP / (FP + TN), y = Recall; PR: x = Recall, y = Precision. The area is
//   sum((x[i] - x[i+1]) * h[i]) with h the midpoint (interpolation), min (minoring) or max (majoring) of
//   y[i], y[i+1]; PR with interpolation is Davis & Goadrich's: with dtp = TP[i] - TP[i+1], P = TP + FP,
//   slope = dtp / max(P[i] - P[i+1], 0), intercept = TP[i+1] - slope * P[i+1], the sum of
//   slope * (dtp + intercept * log(P[i] / P[i+1])) / (TP[i+1] + FN[i+1]) (the log term 0 unless both P > 0).
// The state is kept in double where Keras keeps float32 variables (the same for counts below 2^24).
#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "rnnkit/tensor.h"

namespace rnnkit {

class Metric {
 public:
  virtual ~Metric() = default;
  // The name Keras logs it under ("auc", "binary_accuracy"), before a multi-output model's output prefix.
  const std::string& name() const { return name_; }
  void set_name(std::string name) { name_ = std::move(name), named_ = true; }
  // Whether the name was left to Keras's default for an AUC, Precision or Recall (name=None), which
  // Keras 2 numbers within a session: auc, auc_1, ... compile numbers them so within one model.
  bool numbered_name() const { return !named_ && numbered_; }

  // Adds one batch. y_pred: the model's output (B, ..., C); y_true: as the loss takes it. sample_weight:
  // one weight per row of y_pred (its shape minus the last axis), or (B); null weighs each row 1.
  virtual void update_state(const Tensor& y_true, const Tensor& y_pred, const Tensor* sample_weight) = 0;
  virtual double result() const = 0;
  virtual void reset_state() = 0;
  // Keras's class name ("AUC"; "MeanMetricWrapper" for an accuracy made by name, as tf.keras saves it)
  // and get_config() with tf.keras 2.15's keys.
  virtual std::string class_name() const = 0;
  virtual nlohmann::json config() const = 0;
  // The same metric, with its state reset.
  virtual std::unique_ptr<Metric> clone() const = 0;

 protected:
  Metric(std::string name, bool numbered) : name_(std::move(name)), numbered_(numbered) {}

 private:
  std::string name_;
  bool named_ = false;
  bool numbered_ = false;
};

// Keras's metric classes; an empty name takes Keras's default.
std::unique_ptr<Metric> BinaryAccuracy(double threshold = 0.5, std::string name = "");
std::unique_ptr<Metric> CategoricalAccuracy(std::string name = "");
std::unique_ptr<Metric> SparseCategoricalAccuracy(std::string name = "");
std::unique_ptr<Metric> TopKCategoricalAccuracy(int k = 5, std::string name = "");
std::unique_ptr<Metric> SparseTopKCategoricalAccuracy(int k = 5, std::string name = "");

struct ConfusionOptions {
  std::optional<double> thresholds{};  // 0.5, or -1e10 with top_k, when not given; in [0, 1]
  std::optional<int> top_k{};
  std::optional<int> class_id{};
  std::string name{};
};
std::unique_ptr<Metric> Precision(const ConfusionOptions& options = {});
std::unique_ptr<Metric> Recall(const ConfusionOptions& options = {});

struct AUCOptions {
  int num_thresholds = 200;
  std::string curve = "ROC";                       // "ROC" or "PR"
  std::string summation_method = "interpolation";  // "interpolation", "minoring" or "majoring"
  std::vector<double> thresholds{};                // explicit thresholds in [0, 1] instead of num_thresholds
  bool from_logits = false;                        // sigmoid of y_pred first
  std::string name{};
};
std::unique_ptr<Metric> AUC(const AUCOptions& options = {});

// A metric named as compile(metrics=[...]) takes it: "accuracy", "acc", a function name
// ("binary_accuracy", "top_k_categorical_accuracy", ...) or a class name in Keras 2's or Keras 3's spelling
// ("AUC", "auc", "Precision", "precision", "BinaryAccuracy"). An unknown name is an Error listing the known.
std::unique_ptr<Metric> make_metric(std::string_view name);
// A metric as a model file saves it: {"class_name", "config"} (tf.keras 2.x, including MeanMetricWrapper
// around a named function) or Keras 3's {"module", "class_name", "config", "registered_name"}. What rnnkit
// does not compute (another class, multi_label, label_weights, a list of thresholds) is an Error naming
// `where` and the reason.
std::unique_ptr<Metric> metric_from_config(const nlohmann::json& saved, const std::string& where);

// A metric as compile() takes it: a name (see make_metric) or a configured metric (copied).
class MetricSpec {
 public:
  MetricSpec(const char* name) : name_(name) {}             // NOLINT(google-explicit-constructor)
  MetricSpec(std::string name) : name_(std::move(name)) {}  // NOLINT(google-explicit-constructor)
  MetricSpec(std::unique_ptr<Metric> metric)                // NOLINT(google-explicit-constructor)
      : metric_(std::move(metric)) {}
  MetricSpec(const Metric& metric) : metric_(metric.clone()) {}  // NOLINT(google-explicit-constructor)
  // The name it was given by, if any ("acc"): a model saves such a metric as the name.
  const std::optional<std::string>& name() const { return name_; }
  // A fresh metric.
  std::unique_ptr<Metric> make() const { return name_ ? make_metric(*name_) : metric_->clone(); }

 private:
  std::optional<std::string> name_;
  std::shared_ptr<const Metric> metric_;
};

}  // namespace rnnkit
