// Keras 3 files: the .keras zip archive (metadata.json, config.json, model.weights.h5), the Keras 3 config
// dialect, and the Keras 3 weights layout (also the layout of Keras 3's "*.weights.h5" files).
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "io/keras_h5.h"
#include "rnnkit/model_file.h"
#include "rnnkit/sequential.h"

namespace rnnkit::keras3 {

// A zip archive's first local file header.
inline constexpr std::string_view kZipSignature{"PK\x03\x04", 4};
// The keras_version rnnkit writes into metadata.json: a Keras 3 release whose config dialect (DTypePolicy
// objects, module/registered_name wrappers, batch_shape) rnnkit writes.
inline constexpr std::string_view kWrittenVersion = "3.6.0";

// A Keras 3 model config (config.json, or the model_config of a Keras 3 legacy .h5) rewritten in the tf.keras
// 2 dialect Sequential reads and writes: module/registered_name/build_config wrappers dropped, DTypePolicy
// objects as dtype names, batch_shape as batch_input_shape, a Bidirectional's mirrored backward_layer
// dropped and its "forward_" layer name restored. Configs already in the Keras 2 dialect pass unchanged.
nlohmann::json config_to_keras2(const nlohmann::json& config);

// The input shape a Keras 3 config records for building the model (build_config / build_input_shape), if any.
std::optional<Shape> build_input_shape(const nlohmann::json& config);

// config.json for the model, as Keras 3's serialize_keras_object writes it. Errors when the model uses
// something Keras 3 cannot express (Keras 1/2's hard_sigmoid, 0.2x + 0.5).
nlohmann::json model_config(const Model& model);

// The Keras 3 weights layout: /vars, /layers/<snake_case class name, counted>/vars/<i>, with recurrent
// layers' weights under cell/, Bidirectional's under forward_layer/ and backward_layer/, TimeDistributed's
// under layer/.
void write_weights(h5::Writer& file, const Model& model);
void load_weights(const h5::Reader& file, Model& model);
// Whether an HDF5 file has the Keras 3 weights layout.
bool is_weights_file(const h5::Reader& file);

// .keras archives. `what` names the source in errors.
LoadedModel load_archive(const std::filesystem::path& path, const SequentialOptions& options);
LoadedModel load_archive_from_memory(std::string_view bytes, const std::string& what,
                                     const SequentialOptions& options);
// The assets' names must have been checked (plain file names).
void save_archive(const Model& model, const std::filesystem::path& path, const ModelAssets& assets);
// Whether a zip archive holds a Keras model (config.json), rather than, say, numpy arrays (.npz).
bool is_keras_archive(const std::filesystem::path& path);
// The weights of a .keras archive, into an existing model (Keras 3's load_weights of a .keras file).
void load_archive_weights(Model& model, const std::filesystem::path& path);

// Keras's naming.to_snake_case: "SimpleRNN" -> "simple_rnn", "TimeDistributed" -> "time_distributed".
std::string snake_case(std::string_view class_name);

}  // namespace rnnkit::keras3
