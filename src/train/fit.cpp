// Sequential's training loop: compile, fit, evaluate, train_on_batch, as Keras's Model. fit and evaluate
// run over a Dataset; x and y given as tensors become an in-memory one (TensorDataset), so both forms share
// one loop.
#include <unistd.h>
#include <algorithm>
#include <atomic>
#include <cmath>
#include <csignal>
#include <iostream>
#include <numeric>

#include "rnnkit/error.h"
#include "rnnkit/layers/dense.h"
#include "rnnkit/sequential.h"
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

// x and y in memory, cut into batches of batch_size in an order that each shuffled epoch permutes further
// (Fisher-Yates with the model's Rng, as fit always did: the same seed gives the same batches).
class TensorDataset final : public Dataset {
 public:
  TensorDataset(Tensor x, Tensor y, std::int64_t batch_size)
      : x_(std::move(x)),
        y_(std::move(y)),
        batch_size_(static_cast<std::size_t>(batch_size)),
        order_(iota(x_.dim(0))) {}

  std::int64_t batch_count() const override {
    return static_cast<std::int64_t>((order_.size() + batch_size_ - 1) / batch_size_);
  }

  void start_epoch(Rng& rng, bool shuffle) override {
    if (shuffle)
      for (std::size_t i = order_.size(); i > 1; --i) std::swap(order_[i - 1], order_[rng.next() % i]);
  }

  std::pair<Tensor, Tensor> batch(std::int64_t index) override {
    const std::size_t begin = static_cast<std::size_t>(index) * batch_size_;
    const std::size_t end = std::min(order_.size(), begin + batch_size_);
    return {gather_rows(x_, order_, begin, end), gather_rows(y_, order_, begin, end)};
  }

 private:
  Tensor x_, y_;  // (N, ...) each
  std::size_t batch_size_;
  std::vector<std::int64_t> order_;
};

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

void check_samples(const Tensor& x, const Tensor& y, const std::string& where) {
  check(x.rank() >= 1 && y.rank() >= 1 && x.dim(0) == y.dim(0) && x.dim(0) > 0, where,
        ": x and y need the same ", "positive number of samples, received x ", shape_string(x.shape()),
        " and y ", shape_string(y.shape()));
}

// A model whose batch size is fixed (a stateful RNN's batch_input_shape) takes only batches of that size,
// as in Keras.
std::string fixed_batch_text(const Shape& batch_input_shape) {
  return "the model takes batches of exactly " + std::to_string(batch_input_shape[0]) +
         " (its input shape is " + shape_string(batch_input_shape) + ", as a stateful RNN needs)";
}

bool has_batch_size(const std::optional<Shape>& batch_input_shape) {
  return batch_input_shape && !batch_input_shape->empty() && (*batch_input_shape)[0] != kNone;
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

// The logs as Keras's progress bar shows them: "loss" before "accuracy", then the same for validation.
std::vector<std::pair<std::string, double>> shown_values(const Logs& logs) {
  std::vector<std::pair<std::string, double>> shown(logs.begin(), logs.end());
  const auto place = [](const std::string& name) {
    const bool validation = name.starts_with("val_");
    return std::pair{validation, validation ? name.substr(4) : name};
  };
  std::sort(shown.begin(), shown.end(), [&](const auto& a, const auto& b) {
    const auto [a_validation, a_name] = place(a.first);
    const auto [b_validation, b_name] = place(b.first);
    return a_validation != b_validation ? b_validation : a_name > b_name;
  });
  return shown;
}

}  // namespace

void Sequential::compile(CompileOptions options) {
  loss_ = Loss(options.loss, options.from_logits);
  optimizer_ = options.optimizer ? std::move(options.optimizer) : make_optimizer("rmsprop");
  accuracy_metric_ = false;
  for (const std::string& metric : options.metrics) {
    check(metric == "accuracy" || metric == "acc", where(), ": unknown metric '", metric,
          "' (known: accuracy)");
    accuracy_metric_ = true;
  }
}

Optimizer& Sequential::optimizer() {
  check(optimizer_ != nullptr, where(), " is not compiled: call compile() first");
  return *optimizer_;
}

const Optimizer& Sequential::optimizer() const {
  check(optimizer_ != nullptr, where(), " is not compiled: call compile() first");
  return *optimizer_;
}

const Loss& Sequential::loss() const {
  check(loss_.has_value(), where(), " is not compiled: call compile() first");
  return *loss_;
}

std::vector<std::string> Sequential::metrics() const {
  return accuracy_metric_ ? std::vector<std::string>{"accuracy"} : std::vector<std::string>{};
}

LogitsHead* Sequential::logits_head() {
  auto* head = layers_.empty() ? nullptr : dynamic_cast<LogitsHead*>(layers_.back().get());
  // Keras (_get_logits) does this for any cross-entropy after either activation, whichever layer applied it.
  const bool fused = head && loss_ && !loss_->from_logits() &&
                     loss_->kind() != Loss::Kind::mean_squared_error &&
                     (head->head_activation() == ActivationFunction::softmax ||
                      head->head_activation() == ActivationFunction::sigmoid);
  return fused ? head : nullptr;
}

std::vector<Param*> Sequential::trainable_params() {
  std::vector<Param*> params;
  for (const auto& layer : layers_)
    if (layer->trainable())
      for (Param* param : layer->params()) params.push_back(param);
  return params;
}

double Sequential::regularization_loss() const {
  double total = 0.0;
  for (const auto& layer : layers_) total += layer->regularization_loss();
  return total;
}

Logs Sequential::train_on_batch(const Tensor& x, const Tensor& y, const Tensor* sample_weight) {
  double accuracy_weight = 0.0;
  return train_step(x, y, sample_weight, accuracy_weight);
}

Logs Sequential::train_step(const Tensor& x, const Tensor& y, const Tensor* sample_weight,
                            double& accuracy_weight) {
  check(loss_.has_value(), where(), " is not compiled: call compile() before training");
  check(x.rank() >= 1 && y.rank() >= 1 && x.dim(0) == y.dim(0), where(), ": x has ", x.rank() ? x.dim(0) : 0,
        " samples but y has ", y.rank() ? y.dim(0) : 0);
  // Keras computes cross-entropy from the logits of a final Dense(softmax|sigmoid) or Activation(softmax|
  // sigmoid): exact where the probabilities would be clipped, and the gradient reaches the logits directly.
  LogitsHead* head = logits_head();
  const bool fused = head != nullptr;
  // Such a head runs to its logits alone (a pass over the batch's outputs less), unless an activity
  // penalty reads its outputs; they are computed after all where accuracy needs them.
  const bool to_logits = fused && !layers_.back()->activity_regularizer();
  std::optional<Tensor> output_mask;  // a Dense or Activation head passes its input's mask on
  // The model's outputs, or the head's input where the head runs to its logits alone.
  Tensor y_pred = run(x, true, &output_mask, layers_.size() - (to_logits ? 1 : 0));
  const Tensor* mask = output_mask ? &*output_mask : nullptr;
  if (to_logits) head->train_to_logits(y_pred);
  LossResult result = fused ? loss_->with_logits().compute(head->trained_logits(), y, sample_weight, mask)
                            : loss_->compute(y_pred, y, sample_weight, mask);
  // As Keras's compiled loss, which adds model.losses to the data loss.
  Logs logs{{"loss", result.value + regularization_loss()}};
  if (accuracy_metric_) {
    if (to_logits) y_pred = head->activation_of(head->trained_logits());
    logs["accuracy"] = loss_->accuracy(y_pred, y, mask);
    accuracy_weight = accuracy_count(y_pred, mask);
  }
  if (!std::isfinite(logs.at("loss"))) return logs;  // the caller stops; the weights stay the last good ones
  zero_grads();
  if (fused) {
    backpropagate(head->backward_from_logits(result.gradient), layers_.size() - 1);
  } else {
    backward(result.gradient);
  }
  for (const auto& layer : layers_) layer->add_regularization_grads();
  const std::vector<Param*> params = trainable_params();
  optimizer_->apply(params);
  // Keras's optimizer projects each constrained variable right after updating it.
  for (Param* param : params)
    if (param->constraint) param->constraint->apply(param->value);
  return logs;
}

bool Sequential::fixed_batch_size() const {
  if (!has_batch_size(declared_input_shape_)) return false;
  return std::any_of(layers_.begin(), layers_.end(), [](const auto& layer) { return layer->stateful(); });
}

// Keras finds a batch of another size than a fixed one only when it reaches it, after training on those
// before it; check_fixed_batch refuses the data before training.
void Sequential::check_fixed_batch(const Tensor& x, std::int64_t samples, std::int64_t batch_size,
                                   std::string_view what) const {
  if (!fixed_batch_size()) return;
  const std::int64_t fixed = (*declared_input_shape_)[0];
  // Batches of batch_size rows, the last one shorter; fewer samples than batch_size make one batch.
  const std::int64_t first = std::min(batch_size, samples);
  if (first == fixed && samples % fixed == 0) return;
  Shape batch_shape = x.shape();
  batch_shape[0] = first != fixed ? first : samples % fixed;
  fail(where(), ": ", fixed_batch_text(*declared_input_shape_), ", but ", samples, " ", what,
       samples == 1 ? "sample" : "samples", " in batches of ", batch_size, " give a batch of shape ",
       shape_string(batch_shape), ". Use batch_size ", fixed, " and a multiple of ", fixed, " samples");
}

void Sequential::check_batch_fits(const Tensor& batch_x, const std::string& batch_where) const {
  if (!fixed_batch_size() || batch_x.rank() == 0) return;
  check(batch_x.dim(0) == (*declared_input_shape_)[0], batch_where, ": ",
        fixed_batch_text(*declared_input_shape_), ", but this batch has shape ",
        shape_string(batch_x.shape()));
}

Logs Sequential::train_epoch(Dataset& data, const FitOptions& options, int epoch,
                             std::chrono::steady_clock::time_point fit_start, StopReason& stop,
                             ProgressBar& progress) {
  const std::int64_t steps = data.batch_count();
  check(steps >= 1, where(), ": the dataset has ", steps, " batches; fit needs at least one");
  RunningMean loss, accuracy;
  Logs logs;
  for (std::int64_t step = 0; step < steps; ++step) {
    const auto [batch_x, batch_y] = data.batch(step);
    const std::string batch_where =
        where() + ", batch " + std::to_string(step) + " of epoch " + std::to_string(epoch + 1);
    check_samples(batch_x, batch_y, batch_where);
    check_batch_fits(batch_x, batch_where);
    std::optional<Tensor> batch_weights;
    if (!options.class_weight.empty())
      batch_weights = class_sample_weights(batch_y, options.class_weight, where());
    double accuracy_weight = 0.0;
    const Logs batch_logs =
        train_step(batch_x, batch_y, batch_weights ? &*batch_weights : nullptr, accuracy_weight);
    const auto count = static_cast<double>(batch_x.dim(0));
    loss.add(batch_logs.at("loss"), count);
    if (accuracy_metric_) accuracy.add(batch_logs.at("accuracy"), accuracy_weight);
    logs = {{"loss", loss.value()}};
    if (accuracy_metric_) logs["accuracy"] = accuracy.value();
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
    progress.update(last ? steps : step + 1, shown_values(logs));
    if (last) break;
  }
  return logs;
}

History Sequential::fit(const Tensor& x, const Tensor& y, FitOptions options) {
  check(loss_.has_value(), where(), " is not compiled: call compile() before fit()");
  check(options.batch_size > 0, where(), ": batch_size must be positive, received ", options.batch_size);
  check(options.validation_split >= 0.0 && options.validation_split < 1.0, where(),
        ": validation_split must be in [0, 1), received ", options.validation_split);
  check_samples(x, y, where());
  if (!options.class_weight.empty())  // before training starts, not at the first batch
    check(y.rank() <= 2, where(),
          ": class_weight is not supported for targets of rank 3 or more (as in Keras)");
  if (options.validation_split == 0.0) {
    check_fixed_batch(x, x.dim(0), options.batch_size, "training ");
    TensorDataset train(x, y, options.batch_size);
    return fit(train, std::move(options));
  }
  check(!options.validation_data && options.validation_dataset == nullptr, where(),
        ": give one of validation_split, validation_data and validation_dataset");
  // tf.keras 2.11 (train_validation_split): the last samples, split before any shuffling.
  const auto split_at =
      static_cast<std::int64_t>(std::floor(static_cast<double>(x.dim(0)) * (1.0 - options.validation_split)));
  check(split_at > 0 && split_at < x.dim(0), where(), ": validation_split ", options.validation_split, " of ",
        x.dim(0), " samples leaves no training or no validation samples");
  check_fixed_batch(x, split_at, options.batch_size, "training ");
  check_fixed_batch(x, x.dim(0) - split_at, options.batch_size, "validation ");
  const std::vector<std::int64_t> all = iota(x.dim(0));
  const auto split = static_cast<std::size_t>(split_at);
  TensorDataset train(gather_rows(x, all, 0, split), gather_rows(y, all, 0, split), options.batch_size);
  TensorDataset validation(gather_rows(x, all, split, all.size()), gather_rows(y, all, split, all.size()),
                           options.batch_size);
  options.validation_split = 0.0;
  options.validation_dataset = &validation;
  return fit(train, std::move(options));
}

History Sequential::fit(Dataset& data, FitOptions options) {
  const auto fit_start = std::chrono::steady_clock::now();
  check(loss_.has_value(), where(), " is not compiled: call compile() before fit()");
  check(options.batch_size > 0, where(), ": batch_size must be positive, received ", options.batch_size);
  check(options.epochs >= 0 && options.initial_epoch >= 0, where(),
        ": epochs and initial_epoch must not be negative");
  check(options.validation_split == 0.0, where(),
        ": validation_split needs x and y as tensors; give a Dataset as validation_dataset");
  check(!options.max_duration || options.max_duration->count() >= 0, where(),
        ": max_duration must not be negative");
  std::optional<TensorDataset> validation_tensors;
  if (options.validation_data) {
    check(options.validation_dataset == nullptr, where(),
          ": give validation_data or validation_dataset, not both");
    const auto& [validation_x, validation_y] = *options.validation_data;
    check_samples(validation_x, validation_y, where() + ", validation_data");
    check_fixed_batch(validation_x, validation_x.dim(0), options.batch_size, "validation ");
    validation_tensors.emplace(validation_x, validation_y, options.batch_size);
  }
  Dataset* validation = validation_tensors ? &*validation_tensors : options.validation_dataset;
  std::ostream& out = options.out ? *options.out : std::cout;

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
    progress.update(data.batch_count(), shown_values(logs), true);
    history.epoch.push_back(epoch);
    for (const auto& [name, value] : logs) history.history[name].push_back(value);
    for (const auto& callback : options.callbacks) callback->on_epoch_end(epoch, logs);
    // EarlyStopping sets stop_training in on_epoch_end.
    if (stop_training && history.stop_reason == StopReason::none) history.stop_reason = StopReason::callback;
  }
  for (const auto& callback : options.callbacks) callback->on_train_end();
  return history;
}

Logs Sequential::evaluate(const Tensor& x, const Tensor& y, const EvaluateOptions& options) {
  check(options.batch_size > 0, where(), ": batch_size must be positive, received ", options.batch_size);
  check_samples(x, y, where());
  check_fixed_batch(x, x.dim(0), options.batch_size, "");
  TensorDataset data(x, y, options.batch_size);
  return evaluate(data, options);
}

Logs Sequential::evaluate(Dataset& data, const EvaluateOptions& options) {
  check(loss_.has_value(), where(), " is not compiled: call compile() before evaluate()");
  const std::int64_t steps = data.batch_count();
  check(steps >= 1, where(), ": the dataset has ", steps, " batches; evaluate needs at least one");
  data.start_epoch(rng_, false);
  std::ostream& out = options.out ? *options.out : std::cout;
  ProgressBar progress(steps, options.verbose, out, is_terminal(out));
  RunningMean loss, accuracy;
  Logs logs;
  LogitsHead* head = logits_head();
  for (std::int64_t step = 0; step < steps; ++step) {
    const auto [batch_x, batch_y] = data.batch(step);
    const std::string batch_where = where() + ", batch " + std::to_string(step);
    check_samples(batch_x, batch_y, batch_where);
    check_batch_fits(batch_x, batch_where);
    // As in training, cross-entropy after a final softmax or sigmoid head is computed from its logits
    // (tf.keras reads them from the output's _keras_logits in evaluate too). Its outputs are computed only
    // for accuracy, or by a call where an activity penalty reads them.
    std::optional<Tensor> output_mask;  // a Dense or Activation head passes its input's mask on
    // The model's outputs, or the head's input (its outputs are made below where they are needed).
    Tensor y_pred = run(batch_x, false, &output_mask, layers_.size() - (head ? 1 : 0));
    const Tensor* mask = output_mask ? &*output_mask : nullptr;
    Tensor logits;
    if (head) {
      logits = head->logits(y_pred);
      if (layers_.back()->activity_regularizer()) {
        y_pred = layers_.back()->call(y_pred)[0];
      } else if (accuracy_metric_) {
        y_pred = head->activation_of(logits);
      }
    }
    const double batch_loss = (head ? loss_->with_logits().compute(logits, batch_y, nullptr, mask).value
                                    : loss_->compute(y_pred, batch_y, nullptr, mask).value) +
                              regularization_loss();
    const auto count = static_cast<double>(batch_x.dim(0));
    loss.add(batch_loss, count);
    if (accuracy_metric_) accuracy.add(loss_->accuracy(y_pred, batch_y, mask), accuracy_count(y_pred, mask));
    logs = {{"loss", loss.value()}};
    if (accuracy_metric_) logs["accuracy"] = accuracy.value();
    progress.update(step + 1, shown_values(logs), step + 1 == steps);
  }
  return logs;
}

}  // namespace rnnkit
