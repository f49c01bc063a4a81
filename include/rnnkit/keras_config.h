// Keras model JSON (model.to_json()) to layers and models: one registry from class_name to constructor.
#pragma once

#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string_view>

#include "rnnkit/layer.h"
#include "rnnkit/sequential.h"

namespace rnnkit {

// Which Keras wrote a config; names that changed meaning between versions depend on it.
struct KerasDialect {
  bool keras3 = false;  // "hard_sigmoid" is x/6 + 0.5 in Keras 3, 0.2x + 0.5 before
};

// A layer from {"class_name": "LSTM", "config": {...}}; `where` names its place in the file for errors.
std::unique_ptr<Layer> layer_from_config(const nlohmann::json& layer, std::string_view where,
                                         const KerasDialect& dialect = {});
// A Sequential model from Keras's model JSON ({"class_name": "Sequential", "config": {...}}).
Model model_from_config(const nlohmann::json& model, std::string_view where,
                             const SequentialOptions& options = {});
// Reads and parses a model JSON file; errors name the file.
Model load_model_json(const std::filesystem::path& path, const SequentialOptions& options = {});

}  // namespace rnnkit
