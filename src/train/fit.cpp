// Model's training loop: compile, fit, evaluate, train_on_batch, as Keras's Model. fit and evaluate
// run over a Dataset; x and y given as arrays become an in-memory one (ArrayDataset), so both forms share
// one loop.
#include <unistd.h>
#include <algorithm>
#include <atomic>
#include <cmath>
#include <csignal>
#include <iostream>
#include <numeric>
#include <set>
#include <utility>

#include "model/model_internal.h"
#include "rnnkit/error.h"
#include "rnnkit/layers/dense.h"
#include "rnnkit/model.h"
#include "train/progress.h"

namespace rnnkit {
namespace {

// Ctrl-C during fit ends training after the current batch. A signal handler can only touch lock-free atomics
// (or volatile std::sig_atomic_t) with static storage, so this flag is the one piece of process-wide state in
// training; fit installs the handler only while it runs and restores the previous one after.
std::atomic<bool> interrupted{false};
static_assert(std::atomic<bool>::is_always_lock_free, "the SIGINT flag must be usable in a signal handler");

extern "C" void on_interrupt(int) {
  interrupted = true;
  // A second Ctrl-C acts as it would without fit (normally: ends the process), for a user who cannot wait
  // for the current batch.
  std::signal(SIGINT, SIG_DFL);
}

// Installs the Ctrl-C handler for the lifetime of one fit call and restores the previous one.
class InterruptGuard {
 public:
  InterruptGuard() : previous_(std::signal(SIGINT, on_interrupt)) { interrupted = false; }
  ~InterruptGuard() { std::signal(SIGINT, previous_ == SIG_ERR ? SIG_DFL : previous_); }
  InterruptGuard(const InterruptGuard&) = delete;
  InterruptGuard& operator=(const InterruptGuard&) = delete;

 private:
  void (*previous_)(int);
};

// Rows `order[begin, end)` of a batch-first tensor.
Tensor gather_rows(const Tensor& x, const std::vector<std::int64_t>& order, std::size_t begin,
                   std::size_t end) {
  Shape shape = x.shape();
  const std::int64_t row_size = x.size() / shape[0];
  shape[0] = static_cast<std::int64_t>(end - begin);
  Tensor rows(shape);
  for (std::size_t i = begin; i < end; ++i)
    std::copy_n(x.data() + order[i] * row_size, row_size,
                rows.data() + static_cast<std::int64_t>(i - begin) * row_size);
  return rows;
}

std::vector<std::int64_t> iota(std::int64_t count) {
  std::vector<std::int64_t> order(static_cast<std::size_t>(count));
  std::iota(order.begin(), order.end(), 0);
  return order;
}

// Arrays in memory (one per model input, one per output), cut into batches of batch_size rows, in a new
// order each shuffled epoch (Fisher-Yates with the model's Rng: the same seed gives the same batches).
class ArrayDataset final : public Dataset {
 public:
  ArrayDataset(std::vector<Tensor> x, std::vector<Tensor> y, std::int64_t batch_size,
               std::optional<Tensor> sample_weight = std::nullopt)
      : x_(std::move(x)),
        y_(std::move(y)),
        sample_weight_(std::move(sample_weight)),
        batch_size_(static_cast<std::size_t>(batch_size)),
        order_(iota(x_[0].dim(0))) {}

  std::int64_t batch_count() const override {
    return static_cast<std::int64_t>((order_.size() + batch_size_ - 1) / batch_size_);
  }

  // Each epoch's order is drawn afresh from the sample order, so that it depends on the generator alone and
  // a run resumed from a saved generator sees the batches of the run that did not stop.
  void start_epoch(Rng& rng, bool shuffle) override {
    std::iota(order_.begin(), order_.end(), 0);
    if (shuffle)
      for (std::size_t i = order_.size(); i > 1; --i) std::swap(order_[i - 1], order_[rng.next() % i]);
  }

  std::pair<Tensor, Tensor> batch(std::int64_t index) override {
    auto [x, y] = batch_arrays(index);
    return {std::move(x[0]), std::move(y[0])};
  }

  std::pair<std::vector<Tensor>, std::vector<Tensor>> batch_arrays(std::int64_t index) override {
    const std::size_t begin = static_cast<std::size_t>(index) * batch_size_;
    const std::size_t end = std::min(order_.size(), begin + batch_size_);
    std::pair<std::vector<Tensor>, std::vector<Tensor>> batch;
    for (const Tensor& array : x_) batch.first.push_back(gather_rows(array, order_, begin, end));
    for (const Tensor& array : y_) batch.second.push_back(gather_rows(array, order_, begin, end));
    return batch;
  }

  WeightedBatch weighted_batch(std::int64_t index) override {
    auto [x, y] = batch_arrays(index);
    WeightedBatch batch{std::move(x), std::move(y), std::nullopt};
    if (sample_weight_) {
      const std::size_t begin = static_cast<std::size_t>(index) * batch_size_;
      batch.sample_weight =
          gather_rows(*sample_weight_, order_, begin, std::min(order_.size(), begin + batch_size_));
    }
    return batch;
  }

 private:
  std::vector<Tensor> x_, y_;            // (N, ...) each
  std::optional<Tensor> sample_weight_;  // (N) or (N, ...)
  std::size_t batch_size_;
  std::vector<std::int64_t> order_;
};

// Rows [begin, end) of every array.
std::vector<Tensor> rows_of(const std::vector<Tensor>& arrays, std::int64_t begin, std::int64_t end) {
  std::vector<std::int64_t> order(static_cast<std::size_t>(end - begin));
  std::iota(order.begin(), order.end(), begin);
  std::vector<Tensor> rows;
  for (const Tensor& array : arrays) rows.push_back(gather_rows(array, order, 0, order.size()));
  return rows;
}

// Keras's class_weight as per-sample weights: the weight of each row's class (its id for sparse targets, the
// argmax of one-hot ones), 1 for a class the map does not name.
Tensor class_sample_weights(const Tensor& y, const std::map<int, double>& class_weight,
                            const std::string& where) {
  check(y.rank() <= 2, where, ": class_weight is not supported for targets of rank 3 or more (as in Keras)");
  Tensor weights({y.dim(0)});  // (B)
  const std::int64_t width = y.size() / y.dim(0);
  for (std::int64_t i = 0; i < y.dim(0); ++i) {
    const float* row = y.data() + i * width;
    const int label =
        width == 1 ? static_cast<int>(row[0]) : static_cast<int>(std::max_element(row, row + width) - row);
    const auto found = class_weight.find(label);
    weights[i] = found == class_weight.end() ? 1.0f : static_cast<float>(found->second);
  }
  return weights;
}

void check_samples(const std::vector<Tensor>& x, const std::vector<Tensor>& y, const std::string& where) {
  check(!x.empty() && !y.empty(), where, ": fit and evaluate need inputs and targets");
  for (const Tensor& array : x)
    for (const Tensor& target : y)
      check(array.rank() >= 1 && target.rank() >= 1 && array.dim(0) == target.dim(0) && array.dim(0) > 0,
            where, ": x and y need the same ", "positive number of samples, received x ",
            shape_string(array.shape()), " and y ", shape_string(target.shape()));
}

// A model whose batch size is fixed (a stateful RNN's batch_input_shape) takes only batches of that size,
// as in Keras.
std::string fixed_batch_text(const Shape& batch_input_shape) {
  return "the model takes batches of exactly " + std::to_string(batch_input_shape[0]) +
         " (its input shape is " + shape_string(batch_input_shape) + ", as a stateful RNN needs)";
}

// A running mean over the epoch of a loss, each batch weighted by its samples (Keras's loss tracker, a
// Mean metric given the batch size as its sample_weight, whatever the sample weights).
struct RunningMean {
  double total = 0.0, weight = 0.0;
  void add(double value, double count) { total += value * count, weight += count; }
  double value() const { return weight > 0 ? total / weight : 0.0; }
};

// Keras's sample_weight (B) or (B, T...) checked against the batch.
void check_sample_weight(const Tensor& weights, std::int64_t samples, const std::string& where) {
  check(weights.rank() >= 1 && weights.dim(0) == samples, where, ": sample_weight ",
        shape_string(weights.shape()), " does not have one entry per sample (", samples, ")");
  for (std::int64_t i = 0; i < weights.size(); ++i)
    check(std::isfinite(weights[i]), where, ": sample_weight ", i, " is ", weights[i],
          ", not a finite number");
}

// The metrics' weights for output rows: the sample weights times the mask (compile_utils.apply_mask); a
// per-sample weight spreads over the sample's rows.
std::optional<Tensor> masked_weights(const Tensor* sample_weight, const Tensor* mask) {
  if (sample_weight == nullptr) return mask ? std::optional<Tensor>(*mask) : std::nullopt;
  if (mask == nullptr) return *sample_weight;
  Tensor combined = *mask;
  const std::int64_t per = mask->size() / mask->dim(0);
  const bool per_sample = sample_weight->size() == sample_weight->dim(0) && per != 1;
  check(per_sample || sample_weight->size() == mask->size(), "sample_weight ",
        shape_string(sample_weight->shape()), " does not match the output's mask ",
        shape_string(mask->shape()));
  for (std::int64_t i = 0; i < combined.size(); ++i)
    combined[i] *= per_sample ? (*sample_weight)[i / per] : (*sample_weight)[i];
  return combined;
}

bool is_terminal(const std::ostream& out) {
  return (&out == &std::cout && isatty(STDOUT_FILENO)) || (&out == &std::cerr && isatty(STDERR_FILENO));
}

// The logs in the order Keras's progress bar shows them: `names` (loss first, then per-output losses, then
// metrics), then the same for validation.
std::vector<std::pair<std::string, double>> shown_values(const Logs& logs,
                                                         const std::vector<std::string>& names) {
  std::vector<std::pair<std::string, double>> shown;
  for (const std::string prefix : {"", "val_"})
    for (const std::string& name : names)
      if (const auto found = logs.find(prefix + name); found != logs.end()) shown.emplace_back(*found);
  return shown;
}

}  // namespace

void Model::compile(CompileOptions options) {
  check(built(), where(), " has not yet been built: give it an input shape before compile()");
  const std::vector<std::string> names = output_names();
  const std::size_t count = outputs_.size();
  const auto output_of = [&](const std::string& name, std::string_view what) {
    const auto found = std::ranges::find(names, name);
    std::string known;
    for (const std::string& candidate : names) known += (known.empty() ? "" : ", ") + candidate;
    check(found != names.end(), where(), ": ", what, " names output '", name, "', but the outputs are ",
          known);
    return static_cast<std::size_t>(found - names.begin());
  };
  std::vector<std::string> loss_names(count, options.loss);
  if (!options.losses.empty()) {
    check(options.losses.size() == count, where(), " has ", count, " outputs, but compile got ",
          options.losses.size(), " losses");
    loss_names = options.losses;
  }
  for (const auto& [name, loss] : options.loss_by_output)
    loss_names[output_of(name, "loss_by_output")] = loss;
  std::vector<double> weights(count, 1.0);
  if (!options.loss_weights.empty()) {
    check(options.loss_weights.size() == count, where(), " has ", count, " outputs, but compile got ",
          options.loss_weights.size(), " loss weights");
    weights = options.loss_weights;
  }
  for (const auto& [name, weight] : options.loss_weight_by_output)
    weights[output_of(name, "loss_weight_by_output")] = weight;
  // compile_utils.MetricsContainer: per output, the plain metrics then the weighted ones.
  std::vector<std::vector<CompiledMetric>> metrics(count);
  const auto add_metrics = [&](std::size_t output, const std::vector<MetricSpec>& wanted, bool weighted) {
    for (const MetricSpec& spec : wanted) {
      std::unique_ptr<Metric> metric;
      try {
        metric = spec.make();
      } catch (const Error& error) {
        fail(where(), ": ", error.what());
      }
      metrics[output].push_back({std::move(metric), spec, weighted, ""});
    }
  };
  for (int weighted = 0; weighted < 2; ++weighted) {
    const auto& all = weighted ? options.weighted_metrics : options.metrics;
    const auto& by_output = weighted ? options.weighted_metrics_by_output : options.metrics_by_output;
    for (std::size_t output = 0; output < count; ++output) add_metrics(output, all, weighted != 0);
    for (const auto& [name, wanted] : by_output)
      add_metrics(output_of(name, weighted ? "weighted_metrics_by_output" : "metrics_by_output"), wanted,
                  weighted != 0);
  }
  for (auto& output : metrics)  // the plain ones first, as Keras's container lists them
    std::ranges::stable_partition(output, [](const CompiledMetric& m) { return !m.weighted; });
  // Keras 2 numbers the default names of AUC, Precision and Recall as it makes them (auc, auc_1, ...): here
  // within the model, as in a fresh session.
  std::map<std::string, int> made;
  for (auto& output : metrics)
    for (CompiledMetric& compiled : output)
      if (compiled.metric->numbered_name()) {
        const std::string base = compiled.metric->name();
        const int index = made[base]++;
        if (index > 0) compiled.metric->set_name(base + "_" + std::to_string(index));
      }
  // compile_utils._set_metric_names: the output's name first where there are several outputs, and
  // "weighted_" before a weighted metric's name that a plain one has; a name twice is an error.
  std::set<std::string> taken;
  for (std::size_t output = 0; output < count; ++output)
    for (CompiledMetric& compiled : metrics[output]) {
      const std::string prefix = count > 1 ? names[output] + "_" : "";
      std::string name = prefix + compiled.metric->name();
      if (compiled.weighted && taken.contains(name)) name = prefix + "weighted_" + compiled.metric->name();
      check(!taken.contains(name), where(), ": found two metrics with the same name: ", name);
      taken.insert(name);
      compiled.log_name = name;
    }
  std::vector<Loss> losses;
  for (const std::string& name : loss_names) losses.emplace_back(name, options.from_logits);
  losses_ = std::move(losses);
  loss_weights_ = std::move(weights);
  metrics_ = std::move(metrics);
  optimizer_ = options.optimizer ? std::move(options.optimizer) : make_optimizer("rmsprop");
  plan_heads();
}

void Model::set_training_state(const TrainingState& state) {
  check(state.epoch >= 0, where(), ": a training state's epoch must not be negative, received ", state.epoch);
  rng_ = state.generator;
  next_epoch_ = state.epoch;
}

Optimizer& Model::optimizer() {
  check(optimizer_ != nullptr, where(), " is not compiled: call compile() first");
  return *optimizer_;
}

const Optimizer& Model::optimizer() const {
  check(optimizer_ != nullptr, where(), " is not compiled: call compile() first");
  return *optimizer_;
}

const Loss& Model::loss() const {
  check(compiled(), where(), " is not compiled: call compile() first");
  check(losses_.size() == 1, where(), " has ", losses_.size(), " outputs, each with its loss: see losses()");
  return losses_[0];
}

std::vector<std::string> Model::metrics() const {
  return metrics_.empty() ? std::vector<std::string>{} : metrics_of(0);
}

std::vector<std::string> Model::metrics_of(std::size_t output) const {
  std::vector<std::string> names;
  for (const Metric* metric : metric_objects_of(output)) names.push_back(metric->name());
  return names;
}

std::vector<std::string> Model::weighted_metrics_of(std::size_t output) const {
  std::vector<std::string> names;
  for (const Metric* metric : metric_objects_of(output, true)) names.push_back(metric->name());
  return names;
}

std::vector<const Metric*> Model::metric_objects_of(std::size_t output, bool weighted) const {
  check(output < metrics_.size(), where(), " has ", metrics_.size(), " compiled outputs, no output ", output);
  std::vector<const Metric*> objects;
  for (const CompiledMetric& compiled : metrics_[output])
    if (compiled.weighted == weighted) objects.push_back(compiled.metric.get());
  return objects;
}

std::vector<MetricSpec> Model::metric_specs_of(std::size_t output, bool weighted) const {
  check(output < metrics_.size(), where(), " has ", metrics_.size(), " compiled outputs, no output ", output);
  std::vector<MetricSpec> specs;
  for (const CompiledMetric& compiled : metrics_[output])
    if (compiled.weighted == weighted) specs.push_back(compiled.spec);
  return specs;
}

void Model::reset_metrics() {
  for (auto& output : metrics_)
    for (CompiledMetric& compiled : output) compiled.metric->reset_state();
}

void Model::update_metrics(std::size_t k, const Tensor& y_pred, const Tensor& y_true, const Tensor* mask,
                           const Tensor* sample_weight, Logs& logs) {
  if (metrics_[k].empty()) return;
  const std::optional<Tensor> weighted = masked_weights(sample_weight, mask);
  for (CompiledMetric& compiled : metrics_[k]) {
    // MetricsContainer.update_state: the mask alone for metrics, sample_weight * mask for weighted ones.
    const Tensor* weights = compiled.weighted ? (weighted ? &*weighted : nullptr) : mask;
    try {
      compiled.metric->update_state(y_true, y_pred, weights);
    } catch (const Error& error) {
      fail(where(), ", metric '", compiled.log_name, "': ", error.what());
    }
    logs[compiled.log_name] = compiled.metric->result();
  }
}

std::vector<std::string> Model::log_names() const {
  // tf.keras 2.x: "loss", then "<output>_loss" per output and "<output>_<metric>" where there are several.
  std::vector<std::string> names{"loss"};
  const bool several = outputs_.size() > 1;
  const std::vector<std::string> outputs = output_names();
  if (several)
    for (const std::string& output : outputs) names.push_back(output + "_loss");
  for (const auto& output : metrics_)
    for (const CompiledMetric& compiled : output) names.push_back(compiled.log_name);
  return names;
}

std::vector<Param*> Model::trainable_params() {
  std::vector<Param*> params;
  for (const auto& layer : layers_)
    for (Param* param : layer->trainable_params()) params.push_back(param);
  return params;
}

Logs Model::train_on_batch(const std::vector<Tensor>& x, const std::vector<Tensor>& y,
                           const Tensor* sample_weight) {
  // Keras's train_on_batch(reset_metrics=True): the metrics of this batch alone.
  reset_metrics();
  if (sample_weight) check_sample_weight(*sample_weight, x.empty() ? 0 : x[0].dim(0), where());
  return train_step(x, y, sample_weight);
}

Logs Model::train_on_batch(const Tensor& x, const Tensor& y, const Tensor* sample_weight) {
  return train_on_batch(std::vector<Tensor>{x}, std::vector<Tensor>{y}, sample_weight);
}

// The loss, as Keras's compiled loss: Σ weight·loss over the outputs, plus model.losses. Cross-entropy after
// a softmax or sigmoid head is computed from its logits (exact where the probabilities would be clipped, and
// the gradient reaches the logits directly). The metrics add the batch to their state.
Logs Model::train_step(const std::vector<Tensor>& x, const std::vector<Tensor>& y,
                       const Tensor* sample_weight) {
  check(compiled(), where(), " is not compiled: call compile() before training");
  check_arrays(y, outputs_, "output");
  check_samples(x, y, where());
  std::unique_ptr<Pass> pass = run(x, true, true);
  const TrainingPlan& plan = *plan_;
  const bool several = outputs_.size() > 1;
  const std::vector<std::string> names = output_names();
  Logs logs;
  double total = 0.0;
  std::vector<Tensor> grads(outputs_.size());
  for (std::size_t k = 0; k < outputs_.size(); ++k) {
    const auto& head = plan.head[plan.at(outputs_[k])];
    const Tensor* mask = pass->mask(plan, outputs_[k]);
    LossResult result =
        head ? losses_[k].with_logits().compute(head->head->trained_logits(), y[k], sample_weight, mask)
             : losses_[k].compute(pass->value(plan, outputs_[k]), y[k], sample_weight, mask);
    total += loss_weights_[k] * result.value;
    if (several) logs[names[k] + "_loss"] = result.value;
    if (loss_weights_[k] != 1.0)
      for (float& g : result.gradient.values()) g = static_cast<float>(g * loss_weights_[k]);
    grads[k] = std::move(result.gradient);
    if (!metrics_[k].empty())
      update_metrics(k, pass->value(plan, outputs_[k]), y[k], mask, sample_weight, logs);
  }
  // As Keras's compiled loss, which adds model.losses to the data loss.
  logs["loss"] = total + regularization_loss();
  if (!std::isfinite(logs.at("loss"))) return logs;  // the caller stops; the weights stay the last good ones
  zero_grads();
  backpropagate(*pass, std::move(grads));
  for (const auto& layer : layers_) layer->add_regularization_grads();
  const std::vector<Param*> params = trainable_params();
  optimizer_->apply(params);
  // Keras's optimizer projects each constrained variable right after updating it.
  for (Param* param : params)
    if (param->constraint) param->constraint->apply(param->value);
  return logs;
}

Logs Model::test_step(const std::vector<Tensor>& x, const std::vector<Tensor>& y,
                      const Tensor* sample_weight) {
  check_arrays(y, outputs_, "output");
  std::unique_ptr<Pass> pass = run(x, false, true);
  const TrainingPlan& plan = *plan_;
  const bool several = outputs_.size() > 1;
  const std::vector<std::string> names = output_names();
  Logs logs;
  double total = 0.0;
  for (std::size_t k = 0; k < outputs_.size(); ++k) {
    const std::size_t node = plan.at(outputs_[k]);
    const Tensor* mask = pass->mask(plan, outputs_[k]);
    // tf.keras reads the logits from the output's _keras_logits in evaluate too.
    const double value =
        plan.head[node]
            ? losses_[k].with_logits().compute(pass->logits[node], y[k], sample_weight, mask).value
            : losses_[k].compute(pass->value(plan, outputs_[k]), y[k], sample_weight, mask).value;
    total += loss_weights_[k] * value;
    if (several) logs[names[k] + "_loss"] = value;
    // A fused head without metrics keeps only its logits: no output value to read.
    if (!metrics_[k].empty())
      update_metrics(k, pass->value(plan, outputs_[k]), y[k], mask, sample_weight, logs);
  }
  logs["loss"] = total + regularization_loss();
  return logs;
}

// Keras finds a batch of another size than a fixed one only when it reaches it, after training on those
// before it; check_fixed_batch refuses the data before training.
void Model::check_fixed_batch(std::int64_t samples, std::int64_t batch_size, std::string_view what) const {
  const std::optional<std::int64_t> fixed = fixed_batch();
  if (!fixed) return;
  const Shape& declared = declared_input_shape_ ? *declared_input_shape_ : inputs_[0].shape();
  // Batches of batch_size rows, the last one shorter; fewer samples than batch_size make one batch.
  const std::int64_t first = std::min(batch_size, samples);
  if (first == *fixed && samples % *fixed == 0) return;
  Shape batch_shape = declared;
  batch_shape[0] = first != *fixed ? first : samples % *fixed;
  fail(where(), ": ", fixed_batch_text(declared), ", but ", samples, " ", what,
       samples == 1 ? "sample" : "samples", " in batches of ", batch_size, " give a batch of shape ",
       shape_string(batch_shape), ". Use batch_size ", *fixed, " and a multiple of ", *fixed, " samples");
}

void Model::check_batch_fits(const std::vector<Tensor>& batch_x, const std::string& batch_where) const {
  const std::optional<std::int64_t> fixed = fixed_batch();
  if (!fixed || batch_x.empty() || batch_x[0].rank() == 0) return;
  const Shape& declared = declared_input_shape_ ? *declared_input_shape_ : inputs_[0].shape();
  check(batch_x[0].dim(0) == *fixed, batch_where, ": ", fixed_batch_text(declared),
        ", but this batch has shape ", shape_string(batch_x[0].shape()));
}

namespace {

// The logs of one epoch (or evaluation) so far: each loss a running mean weighted by its batch's samples,
// each metric its streaming result.
void add_batch_logs(std::map<std::string, RunningMean>& means, Logs& logs, const Logs& batch_logs,
                    const std::vector<std::string>& names, std::size_t losses, double samples) {
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (i >= losses) {
      logs[names[i]] = batch_logs.at(names[i]);
      continue;
    }
    means[names[i]].add(batch_logs.at(names[i]), samples);
    logs[names[i]] = means[names[i]].value();
  }
}

}  // namespace

Logs Model::train_epoch(Dataset& data, const FitOptions& options, int epoch,
                        std::chrono::steady_clock::time_point fit_start, StopReason& stop,
                        ProgressBar& progress) {
  const std::int64_t steps = data.batch_count();
  check(steps >= 1, where(), ": the dataset has ", steps, " batches; fit needs at least one");
  const std::vector<std::string> names = log_names();
  std::map<std::string, RunningMean> means;
  Logs logs;
  reset_metrics();  // Keras resets the metrics at the start of each epoch
  for (std::int64_t step = 0; step < steps; ++step) {
    auto [batch_x, batch_y, batch_weights] = data.weighted_batch(step);
    const std::string batch_where =
        where() + ", batch " + std::to_string(step) + " of epoch " + std::to_string(epoch + 1);
    check_samples(batch_x, batch_y, batch_where);
    check_batch_fits(batch_x, batch_where);
    if (batch_weights) check_sample_weight(*batch_weights, batch_x[0].dim(0), batch_where);
    if (!options.class_weight.empty()) {
      check(batch_y.size() == 1, where(), ": class_weight is for models with one output (as in Keras)");
      check(!batch_weights, batch_where, ": you cannot give class_weight and sample_weight at the same time");
      batch_weights = class_sample_weights(batch_y[0], options.class_weight, where());
    }
    const Logs batch_logs = train_step(batch_x, batch_y, batch_weights ? &*batch_weights : nullptr);
    add_batch_logs(means, logs, batch_logs, names, outputs_.size() > 1 ? outputs_.size() + 1 : 1,
                   static_cast<double>(batch_x[0].dim(0)));
    check(std::isfinite(batch_logs.at("loss")), "Batch ", step, ": Invalid loss (", batch_logs.at("loss"),
          ") in epoch ", epoch + 1, ", terminating training; the weights are those of the last good step");
    // Keras 2.11 hands callbacks the epoch's running means, not the batch's own numbers.
    for (const auto& callback : options.callbacks) callback->on_batch_end(step, logs);
    // Keras checks stop_training after every batch; Ctrl-C and max_duration stop the same way.
    if (interrupted) {
      stop = StopReason::interrupt;
    } else if (options.max_duration &&
               std::chrono::steady_clock::now() - fit_start >= *options.max_duration) {
      stop = StopReason::max_duration;
    } else if (stop_training) {
      stop = StopReason::callback;
    }
    const bool last = step + 1 == steps || stop != StopReason::none;
    // fit finalizes the bar after validation; a stopped epoch's at its target, as if it had run whole.
    progress.update(last ? steps : step + 1, shown_values(logs, names));
    if (last) break;
  }
  return logs;
}

History Model::fit(const Tensor& x, const Tensor& y, FitOptions options) {
  return fit(std::vector<Tensor>{x}, std::vector<Tensor>{y}, std::move(options));
}

History Model::fit(const std::vector<Tensor>& x, const std::vector<Tensor>& y, FitOptions options) {
  check(compiled(), where(), " is not compiled: call compile() before fit()");
  check(options.batch_size > 0, where(), ": batch_size must be positive, received ", options.batch_size);
  check(options.validation_split >= 0.0 && options.validation_split < 1.0, where(),
        ": validation_split must be in [0, 1), received ", options.validation_split);
  check_samples(x, y, where());
  prepare_inputs(x);
  check_arrays(y, outputs_, "output");
  if (options.sample_weight) check_sample_weight(*options.sample_weight, x[0].dim(0), where());
  if (!options.class_weight.empty()) {  // before training starts, not at the first batch
    check(!options.sample_weight, where(),
          ": you cannot give class_weight and sample_weight at the same time (as in Keras)");
    check(y.size() == 1, where(), ": class_weight is for models with one output (as in Keras)");
    check(y[0].rank() <= 2, where(),
          ": class_weight is not supported for targets of rank 3 or more (as in Keras)");
  }
  const std::int64_t samples = x[0].dim(0);
  if (options.validation_split == 0.0) {
    check_fixed_batch(samples, options.batch_size, "training ");
    ArrayDataset train(x, y, options.batch_size, std::exchange(options.sample_weight, std::nullopt));
    return fit(train, std::move(options));
  }
  check(!options.validation_data && !options.validation_arrays && options.validation_dataset == nullptr,
        where(), ": give one of validation_split, validation_data and validation_dataset");
  // tf.keras 2.11 (train_validation_split): the last samples, split before any shuffling.
  const auto split_at =
      static_cast<std::int64_t>(std::floor(static_cast<double>(samples) * (1.0 - options.validation_split)));
  check(split_at > 0 && split_at < samples, where(), ": validation_split ", options.validation_split, " of ",
        samples, " samples leaves no training or no validation samples");
  check_fixed_batch(split_at, options.batch_size, "training ");
  check_fixed_batch(samples - split_at, options.batch_size, "validation ");
  std::optional<Tensor> train_weights, validation_weights;
  if (options.sample_weight) {
    train_weights = rows_of({*options.sample_weight}, 0, split_at)[0];
    validation_weights = rows_of({*options.sample_weight}, split_at, samples)[0];
    options.sample_weight.reset();
  }
  ArrayDataset train(rows_of(x, 0, split_at), rows_of(y, 0, split_at), options.batch_size,
                     std::move(train_weights));
  ArrayDataset validation(rows_of(x, split_at, samples), rows_of(y, split_at, samples), options.batch_size,
                          std::move(validation_weights));
  options.validation_split = 0.0;
  options.validation_dataset = &validation;
  return fit(train, std::move(options));
}

History Model::fit(Dataset& data, FitOptions options) {
  const auto fit_start = std::chrono::steady_clock::now();
  check(compiled(), where(), " is not compiled: call compile() before fit()");
  check(options.batch_size > 0, where(), ": batch_size must be positive, received ", options.batch_size);
  check(options.epochs >= 0 && options.initial_epoch >= 0, where(),
        ": epochs and initial_epoch must not be negative");
  check(options.validation_split == 0.0, where(),
        ": validation_split needs x and y as tensors; give a Dataset as validation_dataset");
  check(!options.max_duration || options.max_duration->count() >= 0, where(),
        ": max_duration must not be negative");
  check(!options.sample_weight, where(),
        ": sample_weight is for x and y given as tensors; a Dataset gives its own (weighted_batch)");
  check(!(options.validation_data && options.validation_arrays), where(),
        ": give validation_data or validation_arrays, not both");
  if (options.validation_data)
    options.validation_arrays.emplace(std::vector<Tensor>{options.validation_data->first},
                                      std::vector<Tensor>{options.validation_data->second});
  std::optional<ArrayDataset> validation_arrays;
  if (options.validation_arrays) {
    check(options.validation_dataset == nullptr, where(),
          ": give validation_data or validation_dataset, not both");
    const auto& [validation_x, validation_y] = *options.validation_arrays;
    check_samples(validation_x, validation_y, where() + ", validation_data");
    check_fixed_batch(validation_x[0].dim(0), options.batch_size, "validation ");
    validation_arrays.emplace(validation_x, validation_y, options.batch_size);
  }
  Dataset* validation = validation_arrays ? &*validation_arrays : options.validation_dataset;
  std::ostream& out = options.out ? *options.out : std::cout;
  const std::vector<std::string> names = log_names();

  History history;
  stop_training = false;
  InterruptGuard interrupt_guard;
  for (const auto& callback : options.callbacks) {
    callback->set_model(this);
    callback->on_train_begin();
  }
  for (int epoch = options.initial_epoch; epoch < options.epochs && history.stop_reason == StopReason::none;
       ++epoch) {
    for (const auto& callback : options.callbacks) callback->on_epoch_begin(epoch);
    if (options.verbose) out << "Epoch " << epoch + 1 << "/" << options.epochs << "\n" << std::flush;
    data.start_epoch(rng_, options.shuffle);
    ProgressBar progress(data.batch_count(), options.verbose, out, is_terminal(out));
    Logs logs = train_epoch(data, options, epoch, fit_start, history.stop_reason, progress);
    // As Keras, a stopped epoch is still validated and ends with on_epoch_end.
    if (validation) {
      const Logs validation_logs = evaluate(*validation, {.batch_size = options.batch_size, .verbose = 0});
      for (const auto& [name, value] : validation_logs) logs["val_" + name] = value;
    }
    // Keras's ProgbarLogger finalizes the epoch's line in on_epoch_end, so it shows the val_ values too.
    progress.update(data.batch_count(), shown_values(logs, names), true);
    for (const auto& callback : options.callbacks) callback->add_epoch_logs(epoch, logs);
    history.epoch.push_back(epoch);
    for (const auto& [name, value] : logs) history.history[name].push_back(value);
    next_epoch_ = epoch + 1;  // before on_epoch_end, where ModelCheckpoint saves it
    for (const auto& callback : options.callbacks) callback->on_epoch_end(epoch, logs);
    // EarlyStopping sets stop_training in on_epoch_end.
    if (stop_training && history.stop_reason == StopReason::none) history.stop_reason = StopReason::callback;
  }
  for (const auto& callback : options.callbacks) callback->on_train_end();
  return history;
}

Logs Model::evaluate(const Tensor& x, const Tensor& y, const EvaluateOptions& options) {
  return evaluate(std::vector<Tensor>{x}, std::vector<Tensor>{y}, options);
}

Logs Model::evaluate(const std::vector<Tensor>& x, const std::vector<Tensor>& y,
                     const EvaluateOptions& options) {
  check(options.batch_size > 0, where(), ": batch_size must be positive, received ", options.batch_size);
  check_samples(x, y, where());
  prepare_inputs(x);
  check_fixed_batch(x[0].dim(0), options.batch_size, "");
  if (options.sample_weight) check_sample_weight(*options.sample_weight, x[0].dim(0), where());
  ArrayDataset data(x, y, options.batch_size, options.sample_weight);
  EvaluateOptions rest = options;
  rest.sample_weight.reset();
  return evaluate(data, rest);
}

Logs Model::evaluate(Dataset& data, const EvaluateOptions& options) {
  check(compiled(), where(), " is not compiled: call compile() before evaluate()");
  check(!options.sample_weight, where(),
        ": sample_weight is for x and y given as tensors; a Dataset gives its own (weighted_batch)");
  const std::int64_t steps = data.batch_count();
  check(steps >= 1, where(), ": the dataset has ", steps, " batches; evaluate needs at least one");
  data.start_epoch(rng_, false);
  std::ostream& out = options.out ? *options.out : std::cout;
  ProgressBar progress(steps, options.verbose, out, is_terminal(out));
  const std::vector<std::string> names = log_names();
  std::map<std::string, RunningMean> means;
  Logs logs;
  reset_metrics();
  for (std::int64_t step = 0; step < steps; ++step) {
    const auto [batch_x, batch_y, batch_weights] = data.weighted_batch(step);
    const std::string batch_where = where() + ", batch " + std::to_string(step);
    check_samples(batch_x, batch_y, batch_where);
    check_batch_fits(batch_x, batch_where);
    if (batch_weights) check_sample_weight(*batch_weights, batch_x[0].dim(0), batch_where);
    const Logs batch_logs = test_step(batch_x, batch_y, batch_weights ? &*batch_weights : nullptr);
    add_batch_logs(means, logs, batch_logs, names, outputs_.size() > 1 ? outputs_.size() + 1 : 1,
                   static_cast<double>(batch_x[0].dim(0)));
    progress.update(step + 1, shown_values(logs, names), step + 1 == steps);
  }
  return logs;
}

}  // namespace rnnkit
