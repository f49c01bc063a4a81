// A model's weights by Keras weight name, to and from numpy .npz archives.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "rnnkit/sequential.h"

namespace rnnkit {

// The weights of every layer in model.weights order, under tf.keras 2.x names ("lstm/lstm_cell/kernel:0").
std::vector<std::pair<std::string, Tensor>> named_weights(const Model& model);

// Sets every weight of the model from arrays named as Keras names them. Keras's names carry per-process
// counters ("lstm_cell_1", "forward_lstm_2"), so a name matches on its layer (first part), its weight
// (last part, ":0" optional) and, inside Bidirectional, its direction. Every weight must be found
// exactly once and every array used: the error names what is missing, extra or of the wrong shape.
void set_named_weights(Model& model, const std::vector<std::pair<std::string, Tensor>>& arrays,
                       const std::string& source);

void load_weights_npz(Model& model, const std::filesystem::path& path);
void save_weights_npz(const Model& model, const std::filesystem::path& path);

}  // namespace rnnkit
