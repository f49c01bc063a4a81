// Keras weight initializers, described by Keras's config ({"class_name": "GlorotUniform", "config": {...}}).
#pragma once

#include <nlohmann/json.hpp>
#include <string_view>

#include "rnnkit/rng.h"
#include "rnnkit/tensor.h"

namespace rnnkit {

// The Keras config for a shortcut name ("glorot_uniform", "orthogonal", "zeros", ...) or a config
// object, checked; `where` names the layer and field for errors.
nlohmann::json initializer_config(const nlohmann::json& name_or_config, std::string_view where);

// Fills `weight` as the initializer would; fans come from the weight's shape as in Keras
// (2-D: (fan_in, fan_out); 1-D: both the length).
void initialize(const nlohmann::json& config, Tensor& weight, Rng& rng, std::string_view where);

}  // namespace rnnkit
