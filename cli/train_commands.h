// The `fit` and `evaluate` subcommands: training a Keras model file from .npy data; and how `fit` and `train`
// make a model ready to train from the command line.
#pragma once

#include <CLI/CLI.hpp>
#include <optional>
#include <string>
#include <vector>

#include "rnnkit/sequential.h"

namespace rnnkit::cli {

void add_training_commands(CLI::App& app);

// The optimizer flags `fit` and `train` share; each is set only when given on the command line.
struct OptimizerFlags {
  std::optional<std::string> optimizer;  // adam, rmsprop, sgd or adagrad
  std::optional<double> learning_rate;
  std::optional<double> clipnorm;  // 0: no clipping
};
// Adds --optimizer, --learning-rate and --clipnorm; their help names `defaults`, what a fresh compile takes
// for a flag not given (a learning rate not given: the optimizer's Keras default).
void add_optimizer_options(CLI::App& command, OptimizerFlags& flags, const OptimizerFlags& defaults);

struct TrainingSetup {
  std::string model_path;  // names the model in errors
  std::string loss;        // for a fresh compile; empty: none given
  bool recompile = false;  // compile afresh even a model saved with its training state (fit's --loss)
  std::vector<std::string> metrics{};
  OptimizerFlags flags{};
  OptimizerFlags defaults{};
};
// Makes `model` ready to train, as Keras's load_model, then compile or a change of the optimizer's settings:
//   - a model without a training configuration, or with `recompile`, is compiled with the loss and an
//     optimizer from the flags (the defaults for those not given);
//   - a model saved with its training state goes on from it (optimizer slots and step count, generator);
//     --optimizer naming another optimizer than the saved one compiles afresh with it; --learning-rate and
//     --clipnorm change the saved optimizer's settings and keep its state, as assigning
//     model.optimizer.learning_rate does in Keras.
// Returns what changed in the saved optimizer, for the log ("" when nothing did or the model was compiled
// afresh).
std::string prepare_training(Model& model, const TrainingSetup& setup);

}  // namespace rnnkit::cli
