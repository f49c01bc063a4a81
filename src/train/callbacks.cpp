#include "rnnkit/callbacks.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <limits>

#include "core/atomic_file.h"
#include "rnnkit/error.h"
#include "rnnkit/model_file.h"
#include "rnnkit/sequential.h"

namespace rnnkit {

Model& Callback::model() const {
  check(model_ != nullptr, "a callback was used before fit() gave it its model");
  return *model_;
}

namespace {

// Keras's "auto" mode: higher is better for accuracies, lower for everything else (ModelCheckpoint and
// ReduceLROnPlateau: a monitor containing "acc").
bool higher_is_better(const std::string& mode, const std::string& monitor) {
  check(mode == "auto" || mode == "min" || mode == "max", "unknown mode '", mode,
        "' (known: auto, min, max)");
  if (mode != "auto") return mode == "max";
  return monitor.find("acc") != std::string::npos;
}

// EarlyStopping's "auto" mode in tf.keras 2.15: higher is better for a monitor ending in acc, accuracy or
// auc.
bool early_stopping_maximizes(const std::string& mode, const std::string& monitor) {
  check(mode == "auto" || mode == "min" || mode == "max", "unknown mode '", mode,
        "' (known: auto, min, max)");
  if (mode != "auto") return mode == "max";
  return monitor.ends_with("acc") || monitor.ends_with("accuracy") || monitor.ends_with("auc");
}

double monitored(const Logs& logs, const std::string& monitor, const char* who) {
  const auto found = logs.find(monitor);
  if (found != logs.end()) return found->second;
  std::string available;
  for (const auto& entry : logs) available += (available.empty() ? "" : ", ") + entry.first;
  fail(who, " monitors '", monitor, "', which is not in the logs (available: ", available,
       "); a val_ metric needs validation data");
}

class EarlyStoppingCallback : public Callback {
 public:
  explicit EarlyStoppingCallback(const EarlyStoppingOptions& options)
      : options_(options), maximize_(early_stopping_maximizes(options.mode, options.monitor)) {
    // Keras folds the sign of min_delta into the comparison.
    min_delta_ = maximize_ ? std::abs(options.min_delta) : -std::abs(options.min_delta);
  }

  void on_train_begin() override {
    wait_ = 0;
    best_ = options_.baseline.value_or(maximize_ ? -std::numeric_limits<double>::infinity()
                                                 : std::numeric_limits<double>::infinity());
    best_weights_.clear();
  }

  // tf.keras 2.11 EarlyStopping.on_epoch_end, step by step.
  void on_epoch_end(int epoch, const Logs& logs) override {
    const double current = monitored(logs, options_.monitor, "EarlyStopping");
    if (options_.restore_best_weights && best_weights_.empty()) best_weights_ = model().get_weights();
    ++wait_;
    if (improves(current, best_)) {
      best_ = current;
      if (options_.restore_best_weights) best_weights_ = model().get_weights();
      if (!options_.baseline || improves(current, *options_.baseline)) wait_ = 0;
      return;
    }
    if (wait_ >= options_.patience && epoch > 0) {
      model().stop_training = true;
      if (options_.restore_best_weights && !best_weights_.empty()) model().set_weights(best_weights_);
    }
  }

 private:
  bool improves(double value, double reference) const {
    return maximize_ ? value - min_delta_ > reference : value - min_delta_ < reference;
  }

  EarlyStoppingOptions options_;
  bool maximize_;
  double min_delta_ = 0.0;
  int wait_ = 0;
  double best_ = 0.0;
  std::vector<Tensor> best_weights_;
};

// Keras's filepath.format(epoch=..., **logs) for the common "{epoch:02d}" / "{epoch}" forms.
std::filesystem::path checkpoint_path(const std::filesystem::path& pattern, int epoch) {
  std::string text = pattern.string();
  for (const auto& [field, width] :
       {std::pair<std::string, int>{"{epoch:02d}", 2}, {"{epoch:03d}", 3}, {"{epoch}", 0}}) {
    const std::size_t at = text.find(field);
    if (at == std::string::npos) continue;
    char number[32];
    std::snprintf(number, sizeof number, "%0*d", width, epoch + 1);
    text.replace(at, field.size(), number);
  }
  return text;
}

// Whether a checkpoint path names a whole model file (else a weights file); an error for anything else.
bool is_model_file(const std::filesystem::path& path) {
  std::string name = path.filename().string();
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (name.ends_with(".weights.h5") || name.ends_with(".npz")) return false;
  if (name.ends_with(".keras") || name.ends_with(".h5") || name.ends_with(".hdf5")) return true;
  fail("ModelCheckpoint: cannot tell what to save to '", path.string(),
       "': the file name must end in .keras, .h5 or .hdf5 (the model) or .weights.h5 or .npz (the weights)");
}

class ModelCheckpointCallback : public Callback {
 public:
  ModelCheckpointCallback(std::filesystem::path path, const ModelCheckpointOptions& options)
      : path_(std::move(path)),
        options_(options),
        maximize_(higher_is_better(options.mode, options.monitor)),
        whole_model_(is_model_file(path_)) {
    check(whole_model_ || options_.assets.empty(), "ModelCheckpoint: '", path_.string(),
          "' saves weights only, which carry no assets; save a .keras or .h5 model");
  }

  void on_train_begin() override {
    best_ = maximize_ ? -std::numeric_limits<double>::infinity() : std::numeric_limits<double>::infinity();
  }

  void on_epoch_end(int epoch, const Logs& logs) override {
    if (options_.save_best_only) {
      const double current = monitored(logs, options_.monitor, "ModelCheckpoint");
      if (!(maximize_ ? current > best_ : current < best_)) return;
      best_ = current;
    }
    const std::filesystem::path path = checkpoint_path(path_, epoch);
    if (whole_model_)
      save_model(model(), path, options_.assets);
    else
      save_weights(model(), path);
  }

 private:
  std::filesystem::path path_;
  ModelCheckpointOptions options_;
  bool maximize_;
  bool whole_model_;
  double best_ = 0.0;
};

class CSVLoggerCallback : public Callback {
 public:
  CSVLoggerCallback(std::filesystem::path path, char separator, bool append)
      : path_(std::move(path)), separator_(separator), append_(append) {}

  void on_train_begin() override {
    const bool has_header =
        append_ && std::filesystem::exists(path_) && std::filesystem::file_size(path_) > 0;
    file_.open(path_, append_ ? std::ios::app : std::ios::trunc);
    check(file_.good(), "CSVLogger cannot write to '", path_.string(), "'");
    header_written_ = has_header;
  }

  void on_epoch_end(int epoch, const Logs& logs) override {
    if (!header_written_) {
      file_ << "epoch";
      for (const auto& entry : logs) file_ << separator_ << entry.first;  // sorted, as Keras sorts its keys
      file_ << "\n";
      header_written_ = true;
    }
    file_ << epoch;
    for (const auto& entry : logs) {
      char number[64];
      std::snprintf(number, sizeof number, "%.17g", entry.second);
      file_ << separator_ << number;
    }
    file_ << "\n" << std::flush;
  }

  void on_train_end() override { file_.close(); }

 private:
  std::filesystem::path path_;
  char separator_;
  bool append_;
  std::ofstream file_;
  bool header_written_ = false;
};

// The learning rate as Keras's optimizer holds it, a float32 variable.
double float32(double value) {
  return static_cast<float>(value);
}

class ReduceLROnPlateauCallback : public Callback {
 public:
  explicit ReduceLROnPlateauCallback(const ReduceLROnPlateauOptions& options)
      : options_(options), maximize_(higher_is_better(options.mode, options.monitor)) {}

  // ReduceLROnPlateau._reset, at the start of each fit.
  void on_train_begin() override {
    best_ = maximize_ ? -std::numeric_limits<double>::infinity() : std::numeric_limits<double>::infinity();
    cooldown_counter_ = 0;
    wait_ = 0;
  }

  void add_epoch_logs(int /*epoch*/, Logs& logs) override {
    logs["lr"] = float32(model().optimizer().current_learning_rate());
  }

  // tf.keras 2.15 ReduceLROnPlateau.on_epoch_end, step by step.
  void on_epoch_end(int epoch, const Logs& logs) override {
    const double current = monitored(logs, options_.monitor, "ReduceLROnPlateau");
    if (cooldown_counter_ > 0) {
      --cooldown_counter_;
      wait_ = 0;
    }
    const bool better =
        maximize_ ? current > best_ + options_.min_delta : current < best_ - options_.min_delta;
    if (better) {
      best_ = current;
      wait_ = 0;
      return;
    }
    if (cooldown_counter_ > 0 || ++wait_ < options_.patience) return;
    Optimizer& optimizer = model().optimizer();
    const double old_lr = float32(optimizer.current_learning_rate());
    if (old_lr > float32(options_.min_lr)) {
      const double new_lr = std::max(old_lr * options_.factor, options_.min_lr);
      optimizer.set_learning_rate(new_lr);
      if (options_.verbose > 0)
        std::cout << "\nEpoch " << epoch + 1 << ": ReduceLROnPlateau reducing learning rate to " << new_lr
                  << ".\n";
      cooldown_counter_ = options_.cooldown;
      wait_ = 0;
    }
  }

 private:
  ReduceLROnPlateauOptions options_;
  bool maximize_;
  double best_ = 0.0;
  int cooldown_counter_ = 0;
  int wait_ = 0;
};

class LearningRateSchedulerCallback : public Callback {
 public:
  LearningRateSchedulerCallback(std::function<double(int, double)> schedule, int verbose)
      : schedule_(std::move(schedule)), verbose_(verbose) {}

  void on_epoch_begin(int epoch) override {
    Optimizer& optimizer = model().optimizer();
    const double lr = schedule_(epoch, float32(optimizer.current_learning_rate()));
    check(std::isfinite(lr), "LearningRateScheduler: the schedule gave ", lr, " for epoch ", epoch,
          ", not a finite learning rate");
    optimizer.set_learning_rate(lr);
    if (verbose_ > 0)
      std::cout << "\nEpoch " << epoch + 1 << ": LearningRateScheduler setting learning rate to " << lr
                << ".\n";
  }

  void add_epoch_logs(int /*epoch*/, Logs& logs) override {
    logs["lr"] = float32(model().optimizer().current_learning_rate());
  }

 private:
  std::function<double(int, double)> schedule_;
  int verbose_;
};

class LambdaCallbackImpl : public Callback {
 public:
  explicit LambdaCallbackImpl(std::function<void(int, const Logs&)> on_end) : on_end_(std::move(on_end)) {}
  void on_epoch_end(int epoch, const Logs& logs) override { on_end_(epoch, logs); }

 private:
  std::function<void(int, const Logs&)> on_end_;
};

}  // namespace

std::shared_ptr<Callback> EarlyStopping(const EarlyStoppingOptions& options) {
  check(options.patience >= 0, "EarlyStopping: patience must not be negative, received ", options.patience);
  return std::make_shared<EarlyStoppingCallback>(options);
}

std::shared_ptr<Callback> ModelCheckpoint(std::filesystem::path path, const ModelCheckpointOptions& options) {
  return std::make_shared<ModelCheckpointCallback>(std::move(path), options);
}

std::shared_ptr<Callback> CSVLogger(std::filesystem::path path, char separator, bool append) {
  return std::make_shared<CSVLoggerCallback>(std::move(path), separator, append);
}

std::shared_ptr<Callback> ReduceLROnPlateau(const ReduceLROnPlateauOptions& options) {
  check(options.factor < 1.0, "ReduceLROnPlateau does not support a factor >= 1.0, received ",
        options.factor);
  check(options.patience >= 0 && options.cooldown >= 0,
        "ReduceLROnPlateau: patience and cooldown must not be ", "negative, received ", options.patience,
        " and ", options.cooldown);
  return std::make_shared<ReduceLROnPlateauCallback>(options);
}

std::shared_ptr<Callback> LearningRateScheduler(std::function<double(int epoch, double lr)> schedule,
                                                int verbose) {
  check(static_cast<bool>(schedule), "LearningRateScheduler needs a schedule function");
  return std::make_shared<LearningRateSchedulerCallback>(std::move(schedule), verbose);
}

std::shared_ptr<Callback> LambdaCallback(std::function<void(int epoch, const Logs& logs)> on_epoch_end) {
  check(static_cast<bool>(on_epoch_end), "LambdaCallback needs a function");
  return std::make_shared<LambdaCallbackImpl>(std::move(on_epoch_end));
}

}  // namespace rnnkit
