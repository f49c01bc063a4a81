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
  ArrayDataset(std::vector<Tensor> x, std::vector<Tensor> y, std::int64_t batch_size)
      : x_(std::move(x)),
        y_(std::move(y)),
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

 private:
  std::vector<Tensor> x_, y_;  // (N, ...) each
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

// A running mean over the epoch, each batch weighted by what it counted (Keras's Mean metric): its samples
// for the loss, its predicted rows for accuracy (see accuracy_count).
struct RunningMean {
  double total = 0.0, weight = 0.0;
  void add(double value, double count) { total += value * count, weight += count; }
  double value() const { return weight > 0 ? total / weight : 0.0; }
};

// How much a batch's accuracy weighs in the epoch's mean. Keras's Mean metric counts each row of the
// predictions (N..., classes) it was given: with a mask (its sample_weight) the unmasked rows; without one
// all of them, so a batch of longer sequences weighs more.
double accuracy_count(const Tensor& y_pred, const Tensor* mask) {
  if (mask == nullptr) return static_cast<double>(y_pred.size() / y_pred.dim(-1));
  return static_cast<double>(
      std::count_if(mask->values().begin(), mask->values().end(), [](float keep) { return keep != 0.0f; }));
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
  std::vector<std::vector<std::string>> metrics(count);
  const auto add_metrics = [&](std::size_t output, const std::vector<std::string>& wanted) {
    for (const std::string& metric : wanted) {
      check(metric == "accuracy" || metric == "acc", where(), ": unknown metric '", metric,
            "' (known: accuracy)");
      if (metrics[output].empty()) metrics[output].push_back("accuracy");
    }
  };
  for (std::size_t output = 0; output < count; ++output) add_metrics(output, options.metrics);
  for (const auto& [name, wanted] : options.metrics_by_output)
    add_metrics(output_of(name, "metrics_by_output"), wanted);
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
  check(output < metrics_.size(), where(), " has ", metrics_.size(), " compiled outputs, no output ", output);
  return metrics_[output];
}

std::vector<std::string> Model::log_names() const {
  // tf.keras 2.x: "loss", then "<output>_loss" per output and "<output>_<metric>" where there are several.
  std::vector<std::string> names{"loss"};
  const bool several = outputs_.size() > 1;
  const std::vector<std::string> outputs = output_names();
  if (several)
    for (const std::string& output : outputs) names.push_back(output + "_loss");
  for (std::size_t k = 0; k < metrics_.size(); ++k)
    for (const std::string& metric : metrics_[k])
      names.push_back(several ? outputs[k] + "_" + metric : metric);
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
  std::vector<double> metric_weights;
  return train_step(x, y, sample_weight, metric_weights);
}

Logs Model::train_on_batch(const Tensor& x, const Tensor& y, const Tensor* sample_weight) {
  return train_on_batch(std::vector<Tensor>{x}, std::vector<Tensor>{y}, sample_weight);
}

// The loss, as Keras's compiled loss: Σ weight·loss over the outputs, plus model.losses. Cross-entropy after
// a softmax or sigmoid head is computed from its logits (exact where the probabilities would be clipped, and
// the gradient reaches the logits directly). `metric_weights` receives, per metric in log_names() order, how
// many rows it counted.
Logs Model::train_step(const std::vector<Tensor>& x, const std::vector<Tensor>& y,
                       const Tensor* sample_weight, std::vector<double>& metric_weights) {
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
  metric_weights.clear();
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
    for (const std::string& metric : metrics_[k]) {
      const Tensor& y_pred = pass->value(plan, outputs_[k]);
      logs[several ? names[k] + "_" + metric : metric] = losses_[k].accuracy(y_pred, y[k], mask);
      metric_weights.push_back(accuracy_count(y_pred, mask));
    }
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
                      std::vector<double>& metric_weights) {
  check_arrays(y, outputs_, "output");
  std::unique_ptr<Pass> pass = run(x, false, true);
  const TrainingPlan& plan = *plan_;
  const bool several = outputs_.size() > 1;
  const std::vector<std::string> names = output_names();
  Logs logs;
  double total = 0.0;
  metric_weights.clear();
  for (std::size_t k = 0; k < outputs_.size(); ++k) {
    const std::size_t node = plan.at(outputs_[k]);
    const Tensor* mask = pass->mask(plan, outputs_[k]);
    // tf.keras reads the logits from the output's _keras_logits in evaluate too.
    const double value = plan.head[node]
                             ? losses_[k].with_logits().compute(pass->logits[node], y[k], nullptr, mask).value
                             : losses_[k].compute(pass->value(plan, outputs_[k]), y[k], nullptr, mask).value;
    total += loss_weights_[k] * value;
    if (several) logs[names[k] + "_loss"] = value;
    for (const std::string& metric : metrics_[k]) {
      const Tensor& y_pred = pass->value(plan, outputs_[k]);
      logs[several ? names[k] + "_" + metric : metric] = losses_[k].accuracy(y_pred, y[k], mask);
      metric_weights.push_back(accuracy_count(y_pred, mask));
    }
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

// The running means of one epoch (or evaluation): each loss weighted by its batch's samples, each metric by
// the rows it counted.
void add_batch_logs(std::map<std::string, RunningMean>& means, Logs& logs, const Logs& batch_logs,
                    const std::vector<std::string>& names, double samples,
                    const std::vector<double>& metric_weights) {
  std::size_t metric = 0;
  for (const std::string& name : names) {
    const bool is_loss = name == "loss" || name.ends_with("_loss");
    means[name].add(batch_logs.at(name), is_loss ? samples : metric_weights[metric++]);
    logs[name] = means[name].value();
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
  for (std::int64_t step = 0; step < steps; ++step) {
    const auto [batch_x, batch_y] = data.batch_arrays(step);
    const std::string batch_where =
        where() + ", batch " + std::to_string(step) + " of epoch " + std::to_string(epoch + 1);
    check_samples(batch_x, batch_y, batch_where);
    check_batch_fits(batch_x, batch_where);
    std::optional<Tensor> batch_weights;
    if (!options.class_weight.empty()) {
      check(batch_y.size() == 1, where(), ": class_weight is for models with one output (as in Keras)");
      batch_weights = class_sample_weights(batch_y[0], options.class_weight, where());
    }
    std::vector<double> metric_weights;
    const Logs batch_logs =
        train_step(batch_x, batch_y, batch_weights ? &*batch_weights : nullptr, metric_weights);
    add_batch_logs(means, logs, batch_logs, names, static_cast<double>(batch_x[0].dim(0)), metric_weights);
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
  if (!options.class_weight.empty()) {  // before training starts, not at the first batch
    check(y.size() == 1, where(), ": class_weight is for models with one output (as in Keras)");
    check(y[0].rank() <= 2, where(),
          ": class_weight is not supported for targets of rank 3 or more (as in Keras)");
  }
  const std::int64_t samples = x[0].dim(0);
  if (options.validation_split == 0.0) {
    check_fixed_batch(samples, options.batch_size, "training ");
    ArrayDataset train(x, y, options.batch_size);
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
  ArrayDataset train(rows_of(x, 0, split_at), rows_of(y, 0, split_at), options.batch_size);
  ArrayDataset validation(rows_of(x, split_at, samples), rows_of(y, split_at, samples), options.batch_size);
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
  ArrayDataset data(x, y, options.batch_size);
  return evaluate(data, options);
}

Logs Model::evaluate(Dataset& data, const EvaluateOptions& options) {
  check(compiled(), where(), " is not compiled: call compile() before evaluate()");
  const std::int64_t steps = data.batch_count();
  check(steps >= 1, where(), ": the dataset has ", steps, " batches; evaluate needs at least one");
  data.start_epoch(rng_, false);
  std::ostream& out = options.out ? *options.out : std::cout;
  ProgressBar progress(steps, options.verbose, out, is_terminal(out));
  const std::vector<std::string> names = log_names();
  std::map<std::string, RunningMean> means;
  Logs logs;
  for (std::int64_t step = 0; step < steps; ++step) {
    const auto [batch_x, batch_y] = data.batch_arrays(step);
    const std::string batch_where = where() + ", batch " + std::to_string(step);
    check_samples(batch_x, batch_y, batch_where);
    check_batch_fits(batch_x, batch_where);
    std::vector<double> metric_weights;
    const Logs batch_logs = test_step(batch_x, batch_y, metric_weights);
    add_batch_logs(means, logs, batch_logs, names, static_cast<double>(batch_x[0].dim(0)), metric_weights);
    progress.update(step + 1, shown_values(logs, names), step + 1 == steps);
  }
  return logs;
}

}  // namespace rnnkit
