// The `fit` and `evaluate` subcommands: training a Keras model file from .npy data.
#pragma once

#include <CLI/CLI.hpp>

namespace rnnkit::cli {

void add_training_commands(CLI::App& app);

}  // namespace rnnkit::cli
