// Keras's training callbacks: History, EarlyStopping, ModelCheckpoint, CSVLogger, LambdaCallback,
// ReduceLROnPlateau, LearningRateScheduler.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "rnnkit/tensor.h"

namespace rnnkit {

class Model;

// The numbers of one epoch or batch: "loss", "accuracy", "val_loss", ... as Keras's logs dict.
using Logs = std::map<std::string, double>;

// Hooks called by Sequential::fit, as keras.callbacks.Callback; set_model is called before training.
class Callback {
 public:
  virtual ~Callback() = default;
  virtual void on_train_begin() {}
  virtual void on_train_end() {}
  virtual void on_epoch_begin(int /*epoch*/) {}
  virtual void on_epoch_end(int /*epoch*/, const Logs& /*logs*/) {}
  // Adds entries to an epoch's logs before History records them and any on_epoch_end sees them (Keras's
  // callbacks write into the logs dict that History reads last: "lr").
  virtual void add_epoch_logs(int /*epoch*/, Logs& /*logs*/) {}
  virtual void on_batch_end(std::int64_t /*batch*/, const Logs& /*logs*/) {}
  void set_model(Model* model) { model_ = model; }

 protected:
  Model& model() const;

 private:
  Model* model_ = nullptr;
};

// Why fit ended before its last epoch, if it did.
enum class StopReason : std::uint8_t {
  none,          // every epoch ran
  callback,      // a callback set model.stop_training (EarlyStopping, ...)
  interrupt,     // Ctrl-C (SIGINT)
  max_duration,  // FitOptions::max_duration passed
};

// What fit returns: the epoch logs, one entry per epoch, as Keras's History.history. An epoch cut short by a
// stop has its entry too, from the batches it ran.
struct History {
  std::vector<int> epoch;
  std::map<std::string, std::vector<double>> history;
  StopReason stop_reason = StopReason::none;
};

struct EarlyStoppingOptions {
  std::string monitor = "val_loss";
  double min_delta = 0.0;
  int patience = 0;
  std::string mode = "auto";  // "min", "max", or "auto": max for a monitor ending in acc, accuracy or auc
  std::optional<double> baseline{};
  bool restore_best_weights = false;
};
std::shared_ptr<Callback> EarlyStopping(const EarlyStoppingOptions& options = {});

struct ModelCheckpointOptions {
  std::string monitor = "val_loss";
  bool save_best_only = false;
  std::string mode = "auto";
  // Files saved beside a whole model (save_model's ModelAssets: name -> bytes), e.g. the tokenizer.
  std::map<std::string, std::string> assets{};
};
// Saves after each epoch (or each improvement), atomically; "{epoch:02d}" in the path is filled in as Keras
// does. The file name says what: .keras, .h5 or .hdf5 the whole model with its training state (optimizer,
// TrainingState: load it and fit with initial_epoch = its epoch to go on exactly) and `assets` (save_model);
// .weights.h5 or .npz the weights only (save_weights). Another extension is an Error.
std::shared_ptr<Callback> ModelCheckpoint(std::filesystem::path path,
                                          const ModelCheckpointOptions& options = {});

// Writes one CSV row per epoch: "epoch" and the sorted log keys, as Keras's CSVLogger.
std::shared_ptr<Callback> CSVLogger(std::filesystem::path path, char separator = ',', bool append = false);

struct ReduceLROnPlateauOptions {
  std::string monitor = "val_loss";
  double factor = 0.1;  // new lr = max(lr * factor, min_lr); must be < 1
  int patience = 10;
  std::string mode = "auto";  // "min", "max", or "auto": min unless the monitor contains "acc"
  double min_delta = 1e-4;    // Keras's deprecated `epsilon` argument is this
  int cooldown = 0;
  double min_lr = 0.0;
  int verbose = 0;  // 1: a line on std::cout when the rate is reduced
};
// tf.keras 2.x's ReduceLROnPlateau: after `patience` epochs without an improvement of more than min_delta
// (outside a cooldown), the learning rate is multiplied by factor (not below min_lr, and only while above
// it), then `cooldown` epochs pass without counting. Each epoch logs the rate it trained with as "lr".
// An optimizer with a learning-rate schedule is an Error (Keras cannot set it either).
std::shared_ptr<Callback> ReduceLROnPlateau(const ReduceLROnPlateauOptions& options = {});

// tf.keras 2.x's LearningRateScheduler: before each epoch, the learning rate becomes schedule(epoch, lr)
// (epoch counted from 0, lr the current rate); each epoch logs its rate as "lr".
std::shared_ptr<Callback> LearningRateScheduler(std::function<double(int epoch, double lr)> schedule,
                                                int verbose = 0);

// A user function called at the end of each epoch.
std::shared_ptr<Callback> LambdaCallback(std::function<void(int epoch, const Logs& logs)> on_epoch_end);

}  // namespace rnnkit
