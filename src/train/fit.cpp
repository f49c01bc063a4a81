// Sequential's training loop: compile, fit, evaluate, train_on_batch, as Keras's Model.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <csignal>
#include <iostream>
#include <numeric>
#include <unistd.h>

#include "rnnkit/error.h"
#include "rnnkit/layers/dense.h"
#include "rnnkit/sequential.h"
#include "train/progress.h"

namespace rnnkit {
namespace {

// Ctrl-C during fit ends training after the current batch. A signal handler can only reach static
// storage, so this flag is the one piece of process-wide state in training.
std::atomic<bool> interrupted{false};

extern "C" void on_interrupt(int) { interrupted = true; }

// Installs the Ctrl-C handler for the lifetime of one fit call and restores the previous one.
class InterruptGuard {
 public:
  InterruptGuard() : previous_(std::signal(SIGINT, on_interrupt)) { interrupted = false; }
  ~InterruptGuard() { std::signal(SIGINT, previous_); }
  InterruptGuard(const InterruptGuard&) = delete;
  InterruptGuard& operator=(const InterruptGuard&) = delete;

 private:
  void (*previous_)(int);
};

// Rows `order[begin, end)` of a batch-first tensor.
Tensor gather_rows(const Tensor& x, const std::vector<std::int64_t>& order, std::size_t begin, std::size_t end) {
  Shape shape = x.shape();
  const std::int64_t row_size = x.size() / shape[0];
  shape[0] = static_cast<std::int64_t>(end - begin);
  Tensor rows(shape);
  for (std::size_t i = begin; i < end; ++i)
    std::copy_n(x.data() + order[i] * row_size, row_size, rows.data() + static_cast<std::int64_t>(i - begin) * row_size);
  return rows;
}

std::vector<std::int64_t> iota(std::int64_t count) {
  std::vector<std::int64_t> order(static_cast<std::size_t>(count));
  std::iota(order.begin(), order.end(), 0);
  return order;
}

// A running mean over the epoch, weighted by how many samples each batch had (Keras's Mean metric).
struct RunningMean {
  double total = 0.0, weight = 0.0;
  void add(double value, double count) { total += value * count, weight += count; }
  double value() const { return weight > 0 ? total / weight : 0.0; }
};

bool is_terminal(const std::ostream& out) {
  return (&out == &std::cout && isatty(STDOUT_FILENO)) || (&out == &std::cerr && isatty(STDERR_FILENO));
}

}  // namespace

void Sequential::compile(CompileOptions options) {
  loss_ = Loss(options.loss, options.from_logits);
  optimizer_ = options.optimizer ? std::move(options.optimizer) : make_optimizer("rmsprop");
  accuracy_metric_ = false;
  for (const std::string& metric : options.metrics) {
    check(metric == "accuracy" || metric == "acc", where(), ": unknown metric '", metric, "' (known: accuracy)");
    accuracy_metric_ = true;
  }
}

Optimizer& Sequential::optimizer() {
  check(optimizer_ != nullptr, where(), " is not compiled: call compile() first");
  return *optimizer_;
}

std::vector<Param*> Sequential::trainable_params() {
  std::vector<Param*> params;
  for (const auto& layer : layers_)
    if (layer->trainable())
      for (Param* param : layer->params()) params.push_back(param);
  return params;
}

Logs Sequential::train_on_batch(const Tensor& x, const Tensor& y, const Tensor* sample_weight) {
  check(loss_.has_value(), where(), " is not compiled: call compile() before training");
  check(x.rank() >= 1 && y.rank() >= 1 && x.dim(0) == y.dim(0), where(), ": x has ", x.rank() ? x.dim(0) : 0,
        " samples but y has ", y.rank() ? y.dim(0) : 0);
  const Tensor y_pred = (*this)(x, true);
  // Keras computes cross-entropy from the logits of a final Dense(softmax|sigmoid): exact where the
  // probabilities would be clipped, and the gradient reaches the logits directly.
  auto* head = layers_.empty() ? nullptr : dynamic_cast<Dense*>(layers_.back().get());
  // Keras (_get_logits) does this for any cross-entropy after either activation.
  const bool fused = head && !loss_->from_logits() && loss_->name() != "mean_squared_error" &&
                     (head->activation() == Activation::softmax || head->activation() == Activation::sigmoid);
  LossResult result = fused ? loss_->with_logits().compute(head->trained_logits(), y, sample_weight)
                            : loss_->compute(y_pred, y, sample_weight);
  Logs logs{{"loss", result.value}};
  if (accuracy_metric_) logs["accuracy"] = loss_->accuracy(y_pred, y);
  if (!std::isfinite(result.value)) return logs;  // the caller stops; the weights stay the last good ones
  zero_grads();
  if (fused) {
    Tensor grad = head->backward_from_logits(result.gradient);
    for (auto layer = layers_.rbegin() + 1; layer != layers_.rend(); ++layer) grad = (*layer)->backward({grad}).input;
  } else {
    backward(result.gradient);
  }
  optimizer_->apply(trainable_params());
  return logs;
}

Logs Sequential::run_epoch_batches(const Tensor& x, const Tensor& y, const std::vector<std::int64_t>& order,
                                   const FitOptions& options, const Tensor* class_sample_weights, int epoch) {
  const std::size_t samples = order.size();
  const auto batch_size = static_cast<std::size_t>(options.batch_size);
  const auto steps = static_cast<std::int64_t>((samples + batch_size - 1) / batch_size);
  std::ostream& out = options.out ? *options.out : std::cout;
  ProgressBar progress(steps, options.verbose, out, is_terminal(out));
  RunningMean loss, accuracy;
  Logs logs;
  for (std::int64_t step = 0; step < steps; ++step) {
    const std::size_t begin = static_cast<std::size_t>(step) * batch_size, end = std::min(samples, begin + batch_size);
    const Tensor batch_x = gather_rows(x, order, begin, end), batch_y = gather_rows(y, order, begin, end);
    std::optional<Tensor> batch_weights;
    if (class_sample_weights) batch_weights = gather_rows(*class_sample_weights, order, begin, end);
    const Logs batch_logs = train_on_batch(batch_x, batch_y, batch_weights ? &*batch_weights : nullptr);
    const auto count = static_cast<double>(end - begin);
    loss.add(batch_logs.at("loss"), count);
    if (accuracy_metric_) accuracy.add(batch_logs.at("accuracy"), count);
    logs = {{"loss", loss.value()}};
    if (accuracy_metric_) logs["accuracy"] = accuracy.value();
    check(std::isfinite(batch_logs.at("loss")), "Batch ", step, ": Invalid loss (", batch_logs.at("loss"),
          ") in epoch ", epoch + 1, ", terminating training; the weights are those of the last good step");
    // Keras 2.11 hands callbacks the epoch's running means, not the batch's own numbers.
    for (const auto& callback : options.callbacks) callback->on_batch_end(step, logs);
    std::vector<std::pair<std::string, double>> shown(logs.begin(), logs.end());
    std::sort(shown.begin(), shown.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
    progress.update(step + 1, shown, step + 1 == steps);
    if (interrupted) break;
  }
  return logs;
}

History Sequential::fit(const Tensor& x, const Tensor& y, FitOptions options) {
  check(loss_.has_value(), where(), " is not compiled: call compile() before fit()");
  check(options.batch_size > 0, where(), ": batch_size must be positive, received ", options.batch_size);
  check(options.epochs >= 0 && options.initial_epoch >= 0, where(), ": epochs and initial_epoch must not be negative");
  check(options.validation_split >= 0.0 && options.validation_split < 1.0, where(),
        ": validation_split must be in [0, 1), received ", options.validation_split);
  check(x.rank() >= 1 && y.rank() >= 1 && x.dim(0) == y.dim(0) && x.dim(0) > 0, where(), ": x and y need the same ",
        "positive number of samples, received x ", shape_string(x.shape()), " and y ", shape_string(y.shape()));
  std::ostream& out = options.out ? *options.out : std::cout;

  Tensor train_x = x, train_y = y;
  std::optional<std::pair<Tensor, Tensor>> validation = options.validation_data;
  if (options.validation_split > 0.0) {
    check(!validation, where(), ": give validation_split or validation_data, not both");
    // tf.keras 2.11 (train_validation_split): the last samples, split before any shuffling.
    const auto split_at =
        static_cast<std::int64_t>(std::floor(static_cast<double>(x.dim(0)) * (1.0 - options.validation_split)));
    check(split_at > 0 && split_at < x.dim(0), where(), ": validation_split ", options.validation_split, " of ",
          x.dim(0), " samples leaves no training or no validation samples");
    const std::vector<std::int64_t> all = iota(x.dim(0));
    train_x = gather_rows(x, all, 0, std::size_t(split_at));
    train_y = gather_rows(y, all, 0, std::size_t(split_at));
    validation = std::make_pair(gather_rows(x, all, std::size_t(split_at), all.size()),
                                gather_rows(y, all, std::size_t(split_at), all.size()));
  }

  std::optional<Tensor> class_sample_weights;
  if (!options.class_weight.empty()) {
    check(train_y.rank() <= 2, where(), ": class_weight is not supported for targets of rank 3 or more (as in Keras)");
    class_sample_weights = Tensor({train_y.dim(0)});
    const std::int64_t width = train_y.size() / train_y.dim(0);
    for (std::int64_t i = 0; i < train_y.dim(0); ++i) {
      const float* row = train_y.data() + i * width;
      const int label = width == 1 ? static_cast<int>(row[0]) : static_cast<int>(std::max_element(row, row + width) - row);
      const auto found = options.class_weight.find(label);
      (*class_sample_weights)[i] = found == options.class_weight.end() ? 1.0f : static_cast<float>(found->second);
    }
  }

  History history;
  stop_training = false;
  InterruptGuard interrupt_guard;
  for (const auto& callback : options.callbacks) {
    callback->set_model(this);
    callback->on_train_begin();
  }
  std::vector<std::int64_t> order = iota(train_x.dim(0));
  for (int epoch = options.initial_epoch; epoch < options.epochs && !stop_training && !interrupted; ++epoch) {
    for (const auto& callback : options.callbacks) callback->on_epoch_begin(epoch);
    if (options.verbose) out << "Epoch " << epoch + 1 << "/" << options.epochs << "\n" << std::flush;
    if (options.shuffle)
      for (std::size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[rng_.next() % i]);
    Logs logs = run_epoch_batches(train_x, train_y, order, options, class_sample_weights ? &*class_sample_weights : nullptr,
                                  epoch);
    if (validation) {
      const Logs validation_logs =
          evaluate(validation->first, validation->second, {.batch_size = options.batch_size, .verbose = 0});
      for (const auto& [name, value] : validation_logs) logs["val_" + name] = value;
      if (options.verbose == 1) {
        std::string line;
        for (const auto& [name, value] : validation_logs) line += " - val_" + name + ": " + format_log_value(value);
        out << line.substr(1) << "\n";
      }
    }
    history.epoch.push_back(epoch);
    for (const auto& [name, value] : logs) history.history[name].push_back(value);
    for (const auto& callback : options.callbacks) callback->on_epoch_end(epoch, logs);
  }
  for (const auto& callback : options.callbacks) callback->on_train_end();
  return history;
}

Logs Sequential::evaluate(const Tensor& x, const Tensor& y, const EvaluateOptions& options) {
  check(loss_.has_value(), where(), " is not compiled: call compile() before evaluate()");
  check(options.batch_size > 0, where(), ": batch_size must be positive, received ", options.batch_size);
  check(x.rank() >= 1 && y.rank() >= 1 && x.dim(0) == y.dim(0) && x.dim(0) > 0, where(), ": x and y need the same ",
        "positive number of samples, received x ", shape_string(x.shape()), " and y ", shape_string(y.shape()));
  const std::vector<std::int64_t> order = iota(x.dim(0));
  const auto batch_size = static_cast<std::size_t>(options.batch_size);
  const auto steps = static_cast<std::int64_t>((order.size() + batch_size - 1) / batch_size);
  std::ostream& out = options.out ? *options.out : std::cout;
  ProgressBar progress(steps, options.verbose, out, is_terminal(out));
  RunningMean loss, accuracy;
  Logs logs;
  for (std::int64_t step = 0; step < steps; ++step) {
    const std::size_t begin = static_cast<std::size_t>(step) * batch_size, end = std::min(order.size(), begin + batch_size);
    const Tensor batch_y = gather_rows(y, order, begin, end);
    const Tensor y_pred = (*this)(gather_rows(x, order, begin, end));
    const auto count = static_cast<double>(end - begin);
    loss.add(loss_->compute(y_pred, batch_y).value, count);
    if (accuracy_metric_) accuracy.add(loss_->accuracy(y_pred, batch_y), count);
    logs = {{"loss", loss.value()}};
    if (accuracy_metric_) logs["accuracy"] = accuracy.value();
    std::vector<std::pair<std::string, double>> shown(logs.begin(), logs.end());
    std::sort(shown.begin(), shown.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
    progress.update(step + 1, shown, step + 1 == steps);
  }
  return logs;
}

}  // namespace rnnkit
