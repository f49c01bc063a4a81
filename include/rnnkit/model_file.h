// Keras model files, read and written natively: Keras 1/2 .h5 (HDF5), Keras 3 .keras (zip) and model JSON.
//
//   rnnkit::Sequential model = rnnkit::load_model("model.h5");   // or .keras, .hdf5, .json, ...
//   rnnkit::save_model(model, "model.keras");                     // Keras 3 archive
//   rnnkit::save_model(model, "model.h5");                        // Keras 2 (tf.keras 2.11) HDF5
//   rnnkit::save_weights(model, "weights.h5");                    // model.save_weights, Keras 2 layout
//   rnnkit::load_weights(model, "weights.h5");
//
// Reading detects the format from the file's first bytes, never its extension (files named .h5py, .hdf5 or
// even .keras can be HDF5). Writing picks the format from the extension, as Keras does. Every file is written
// atomically (a temporary file in the same folder, renamed over the target). Every failure is an
// rnnkit::Error naming the file and the place inside it (HDF5 object path, zip member, config field).
#pragma once

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "rnnkit/sequential.h"
#include "rnnkit/summary.h"

namespace rnnkit {

enum class ModelFileFormat {
  kHdf5,  // starts with \x89HDF\r\n\x1a\n: Keras 1/2 .h5 (or Keras 3's legacy .h5, or a weights file)
  kZip,   // starts with PK\x03\x04 (or is an empty zip): Keras 3 .keras, or numpy .npz
  kJson,  // starts with '{' (after white space): model.to_json()
  kUnknown,
};

ModelFileFormat detect_model_file_format_from_bytes(std::string_view first_bytes);
// Reads the start of the file; an error when it cannot be read.
ModelFileFormat detect_model_file_format(const std::filesystem::path& path);

// Files that travel inside a model file beside the model (a tokenizer's JSON, a vocabulary): file name ->
// bytes. A name is one plain file name: not empty, no '/' or '\\', not "." or "..".
//   .keras: zip members assets/<name>, where Keras 3 keeps the assets of a saved model (saving_lib's
//           DiskIOStore("assets")); Keras loads such an archive and ignores files no layer asks for.
//   .h5:    root group "rnnkit_assets", one 1-D uint8 dataset per name holding the bytes; Keras's
//           load_model reads only model_config, training_config, model_weights and optimizer_weights.
using ModelAssets = std::map<std::string, std::string>;

// A model with what its file says about where it came from.
struct LoadedModel {
  Model model;
  ModelFileFormat format = ModelFileFormat::kUnknown;
  std::string keras_version;  // as the file records it ("2.11.0", "3.6.0", "1" when a Keras 1 file has none)
  ModelAssets assets;         // from assets/<name> (.keras; deeper paths, a layer's own assets, are left out)
                              // or the rnnkit_assets group (.h5)
  // The saved compile's metrics that rnnkit does not compute (see metrics.h for those it does), as the file
  // gives them (JSON), each followed by ": " and the reason: the model is compiled without them, as they
  // change no training.
  std::vector<std::string> dropped_metrics{};
  // The parts of the saved training state that could not be honoured, each with the reason and what the model
  // got instead: a training configuration rnnkit cannot compile (the model loads uncompiled), or optimizer
  // state it cannot map (Keras 1 per-gate weights, a missing slot list, shapes that do not fit: the optimizer
  // starts afresh, as Keras does when it cannot load one). The model and its weights load all the same.
  std::vector<std::string> dropped_training_state{};
  // rnnkit's TrainingState, when the file holds one (save_model of a compiled model keeps it as the asset
  // rnnkit_training_state.json, not listed in `assets`): already given to `model`, so that fit with
  // initial_epoch = training_state->epoch goes on exactly as the saved run would have.
  std::optional<TrainingState> training_state{};
};

// Loads a Keras model: architecture and weights (.h5 / .keras) or architecture only (.json).
LoadedModel load_model_file(const std::filesystem::path& path, const SequentialOptions& options = {});
Model load_model(const std::filesystem::path& path, const SequentialOptions& options = {});
// The same from bytes in memory (HDF5, zip or JSON); `what` names them in errors.
Model load_model_from_memory(std::string_view bytes, const std::string& what,
                                  const SequentialOptions& options = {});

// A model from Keras model JSON of any era: Keras 1.x (TimeDistributedDense read as TimeDistributed(Dense)),
// 2.0-2.2 (and tf.keras 1.x's CuDNNLSTM/CuDNNGRU, read as LSTM/GRU), tf.keras 2.x, Keras 3
// (module/registered_name wrappers, DTypePolicy, batch_shape, Bidirectional's backward_layer), TF.js; each
// era's names for initializers, regularizers and constraints. An initializer rnnkit cannot compute (a custom
// one) is kept in the config: building the model afresh is then an error naming it, while the model files
// (.h5, .keras), which hold every weight, load. "keras_version" in `config` says which Keras wrote it where the
// dialect alone does not (Keras 3's hard_sigmoid is x/6 + 0.5, Keras 2's 0.2x + 0.5). Built when the config
// records an input shape. A Functional config ("Model" or "Functional", any era) gives a Functional Model with
// the file's graph (shared layers, initial states, layers called on a list, nested models: a layer entry
// whose class_name is Sequential, Functional or Model). rnnkit::Sequential takes a Functional model whose graph is a chain.
Model model_from_keras_config(const nlohmann::json& config, std::string_view where,
                                   const SequentialOptions& options = {});

// .keras: Keras 3 archive; .h5 / .hdf5: Keras 2 HDF5 (tf.keras 2.11's layout). Other extensions are errors.
// `assets` ride along (see ModelAssets); a name that is not a plain file name is an error. A compiled model
// keeps its training state: the optimizer's (in Keras's layout) and its TrainingState (an rnnkit asset).
void save_model(const Model& model, const std::filesystem::path& path, const ModelAssets& assets = {});

// Weights only. Saving: ".weights.h5" is Keras 3's layout (model.save_weights in Keras 3), ".h5"/".hdf5"
// Keras 2's, ".npz" numpy arrays named by Keras weight names. Loading detects the format from the content and
// also takes a whole .h5 or .keras model file. The model must be built (its weight shapes known).
void save_weights(const Model& model, const std::filesystem::path& path);
void load_weights(Model& model, const std::filesystem::path& path);

// The summary style of the Keras that wrote a file ("2.4.0" -> keras2_6, "2.11.0" -> keras2_12, "2.15.0" ->
// keras2_15, "3.1.0" -> keras3), or `fallback` for a version that names none (TF.js, unknown).
SummaryStyle summary_style_for_keras_version(std::string_view keras_version, SummaryStyle fallback);

}  // namespace rnnkit
