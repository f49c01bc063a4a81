// Keras weight initializers, described by Keras's config ({"class_name": "GlorotUniform", "config": {...}}).
#pragma once

#include <nlohmann/json.hpp>
#include <string_view>

#include "rnnkit/rng.h"
#include "rnnkit/tensor.h"

namespace rnnkit {

// The Keras config for a name ("glorot_uniform", "orthogonal", "zeros", ...) or a config object, checked;
// `where` names the layer and field for errors. A known name becomes its class's config with Keras's
// defaults; a config object is kept as it was written (its class name too), so that it is written back in
// the form of the Keras that wrote it. A name rnnkit does not know (a custom initializer) is kept as well:
// only creating a weight with it is an error.
nlohmann::json initializer_config(const nlohmann::json& name_or_config, std::string_view where);

// Fills `weight` as the initializer would; fans come from the weight's shape as in Keras
// (2-D: (fan_in, fan_out); 1-D: both the length).
void initialize(const nlohmann::json& config, Tensor& weight, Rng& rng, std::string_view where);

// While one lives on this thread, an initializer that rnnkit cannot compute (a custom one, or one Keras
// itself could not apply to the weight's shape) leaves its weight zero instead of failing: the model is being
// read from a file that holds every weight.
class WeightsFollowFromFile {
 public:
  WeightsFollowFromFile();
  ~WeightsFollowFromFile();
  WeightsFollowFromFile(const WeightsFollowFromFile&) = delete;
  WeightsFollowFromFile& operator=(const WeightsFollowFromFile&) = delete;
};

// The Keras eras rnnkit writes.
enum class KerasEra { tf_keras2, keras3 };

// An initializer config as the Keras of `era` reads it: a name that era does not know for a class it has is
// replaced by the one it knows (Keras 3.0-3.6's "OrthogonalInitializer" is tf.keras 2's "Orthogonal",
// tf.keras 2's "GlorotUniformV2" Keras 3's "GlorotUniform"), and arguments it would reject are dropped
// (TF1's "dtype" for Keras 3). Anything else comes back unchanged.
nlohmann::json initializer_for_era(const nlohmann::json& config, KerasEra era);

// Applies initializer_for_era to every "..._initializer" field in a layer or model config, recursively.
nlohmann::json initializers_for_era(const nlohmann::json& config, KerasEra era);

}  // namespace rnnkit
