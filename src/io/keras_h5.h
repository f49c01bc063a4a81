// HDF5 files as Keras writes them: the one place that includes hdf5.h.
//
// Two layers of abstraction live here:
//  * h5::Reader and h5::Writer: just the HDF5 operations Keras's files need (groups, string attributes, float
//    datasets), on disk or in memory, following hard links only, with HDF5's own error printing silenced and
//    every failure turned into an rnnkit::Error that names the file and the path inside it.
//  * The Keras 2 layout (tf.keras 2.x model.save("m.h5") and model.save_weights("w.h5")): root attributes
//    keras_version, backend, model_config; group model_weights with layer_names; one group per layer with
//    weight_names and a dataset at each of those names.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "io/compile_config.h"
#include "rnnkit/error.h"
#include "rnnkit/sequential.h"
#include "rnnkit/tensor.h"

namespace rnnkit {

// Runs `body`, turning an nlohmann::json error (a field missing or of the wrong type deep inside a config,
// where the code reading it did not check) into an rnnkit::Error naming `what`.
template <class Body>
auto naming_json_errors(const std::string& what, Body&& body) -> decltype(body()) {
  try {
    return body();
  } catch (const nlohmann::json::exception& error) {
    fail(what, ": malformed Keras config: ", error.what());
  }
}

}  // namespace rnnkit

namespace rnnkit::h5 {

// Every HDF5 file starts with this signature, at offset 0 or, after a user block, at 512, 1024, 2048, ...
inline constexpr std::string_view kSignature{"\x89HDF\r\n\x1a\n", 8};
// True when `bytes` (the start of a file) holds the signature at one of the places HDF5 looks for it.
bool has_signature(std::string_view bytes);

enum class ObjectKind { kMissing, kGroup, kDataset, kOther };

// A read-only HDF5 file. Paths are absolute ("/model_weights/lstm"); only hard links are followed (a soft or
// external link is an error: an external link would open another file).
class Reader {
 public:
  static Reader open_file(const std::filesystem::path& path);
  // `what` names the bytes in errors, e.g. "member model.weights.h5 of \"m.keras\"".
  static Reader open_memory(std::string_view bytes, std::string what);
  Reader(Reader&&) noexcept;
  Reader& operator=(Reader&&) noexcept;
  ~Reader();

  // "\"m.h5\"": the file, for error messages.
  const std::string& what() const;
  // "\"m.h5\", object /model_weights/lstm": the file and a path inside it.
  std::string where(const std::string& path) const;

  ObjectKind kind(const std::string& path) const;
  // The names in a group, in name order.
  std::vector<std::string> children(const std::string& group) const;

  bool has_attribute(const std::string& object, const std::string& name) const;
  // A scalar or 1-D string attribute (fixed- or variable-length, any padding) as a list; an attribute with no
  // elements of another type (h5py's np.asarray([]) for an empty list) is an empty list.
  std::vector<std::string> string_list_attribute(const std::string& object, const std::string& name) const;
  // A scalar string attribute (or a list of exactly one).
  std::string string_attribute(const std::string& object, const std::string& name) const;

  // The shape of a dataset (an error when `path` is not a dataset).
  Shape dataset_shape(const std::string& path) const;
  // A float16/32/64 dataset converted to float32. Its element count must not exceed `max_elements`, checked
  // before anything is allocated, so a corrupt shape cannot ask for terabytes.
  Tensor dataset(const std::string& path, std::int64_t max_elements) const;
  // A scalar integer dataset (Keras's int64 `iteration`), of any integer type, or a float one holding a whole
  // number (Keras 1 and 2.0 kept their step counts as float32).
  std::int64_t integer_scalar(const std::string& path) const;
  // A 1-D uint8 dataset as bytes, at most `max_bytes` of them (checked before anything is allocated).
  std::string bytes_dataset(const std::string& path, std::uint64_t max_bytes) const;

 private:
  struct Impl;
  explicit Reader(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// How h5py stores a Python string attribute: a str as a variable-length UTF-8 string, bytes as a
// variable-length ASCII string (h5py >= 3; Keras encodes most of its attributes to bytes).
enum class StringKind { kUtf8, kAscii };

// A new HDF5 file, written the way h5py writes one (default HDF5 file format, contiguous datasets).
class Writer {
 public:
  static Writer create_file(const std::filesystem::path& path, std::string what);
  // A file in memory; close_to_bytes() gives its bytes.
  static Writer create_memory(std::string what);
  Writer(Writer&&) noexcept;
  Writer& operator=(Writer&&) noexcept;
  ~Writer();

  // Creates the group and any missing groups above it.
  void group(const std::string& path);
  void string_attribute(const std::string& object, const std::string& name, const std::string& value,
                        StringKind kind);
  // A 1-D array of variable-length ASCII strings: h5py's attrs[name] = [b"a", b"b"].
  void string_list_attribute(const std::string& object, const std::string& name,
                             const std::vector<std::string>& values);
  // A 1-D array of fixed-length, NUL-padded ASCII strings of `item_size` bytes: a numpy 'S' array.
  void fixed_string_list_attribute(const std::string& object, const std::string& name,
                                   const std::vector<std::string>& values, std::size_t item_size);
  // A float64 array of shape (0,): h5py's attrs[name] = [].
  void empty_list_attribute(const std::string& object, const std::string& name);
  // A little-endian float32 dataset; creates the groups above it.
  void dataset(const std::string& path, const Tensor& values);
  // A scalar little-endian int64 dataset (numpy's np.int64(value)); creates the groups above it.
  void integer_scalar(const std::string& path, std::int64_t value);
  // A 1-D uint8 dataset holding `bytes` (numpy's np.frombuffer(bytes, np.uint8)); creates the groups above
  // it.
  void bytes_dataset(const std::string& path, std::string_view bytes);

  // Flushes, closes and returns the file's bytes (memory files only).
  std::string close_to_bytes();
  void close();

 private:
  struct Impl;
  explicit Writer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// json.dumps(value) as Python writes it: ", " and ": " separators, non-ASCII escaped (ensure_ascii).
std::string python_json(const nlohmann::json& value);

}  // namespace rnnkit::h5

namespace rnnkit::keras2 {

// The keras_version rnnkit writes into Keras 2 files: the tf.keras whose config dialect Sequential::config()
// speaks.
inline constexpr std::string_view kWrittenVersion = "2.11.0";

// What tf.keras 2.11's model.to_json() would give for the model, as model.save writes it into model_config:
// {"class_name": "Sequential", "config": {...}} with an InputLayer first when the model declares its input
// shape, or "build_input_shape" when it was built from data. Errors when the model uses something a Keras 2
// file cannot express (Keras 3's hard_sigmoid).
nlohmann::json model_config(const Model& model);

// Writes the model in the layout of tf.keras 2.x's save_model_to_hdf5 (with `model_config`) or of
// save_weights to .h5 (without: the weights group is the root).
void write(h5::Writer& file, const Model& model, const nlohmann::json* model_config);

// Whether the root of the file is a Keras 2 weights group (layer_names at the root: model.save_weights).
bool is_weights_group(const h5::Reader& file, const std::string& group);

// The model_config attribute of a Keras 1/2 (or Keras 3 legacy) .h5 model file, parsed, with the file's
// keras_version added as "keras_version" (Keras records it beside the config, not in it).
nlohmann::json read_model_config(const h5::Reader& file);

// Rewrites configs of Keras 1.x and 2.0-2.2 into the tf.keras 2 dialect rnnkit reads: Keras 1 layer arguments
// (output_dim, init, inner_activation, ...), the defaults that changed (hard_sigmoid, GRU reset_after=False),
// and CuDNNLSTM/CuDNNGRU as LSTM/GRU. Configs of later Keras pass through unchanged.
nlohmann::json upgrade_legacy_config(const nlohmann::json& model, std::string_view keras_version);

// Sets the model's weights from a Keras 2 weights group ("/model_weights" of a model file, "/" of a weights
// file), as Keras's load_weights_from_hdf5_group does: layers with weights matched in order, each layer's
// arrays read through its weight_names in order, Keras 1 per-gate arrays and CuDNN weights converted.
void load_weights(const h5::Reader& file, const std::string& group, Model& model);

// tf.keras 2.11's save_model of a compiled model: the root attribute training_config (loss, metrics,
// weighted_metrics, loss_weights, optimizer_config) and the group optimizer_weights, whose weight_names list
// "iteration:0" and then each slot as "<optimizer>/<slot>/<weight>:0" ("Adam/m/lstm/lstm_cell/kernel:0"), in
// optimizer.variables() order. Nothing for an uncompiled model.
void write_training_state(h5::Writer& file, const Model& model);

// Compiles the model as the file's training_config says (Keras's load_model(compile=True)) and restores the
// optimizer_weights of any Keras era (see read_optimizer_weights). Nothing when the file has no
// training_config. What cannot be honoured is dropped, never an error, as the model itself loads whatever its
// training state: a training_config rnnkit cannot compile leaves the model uncompiled, optimizer weights that
// cannot be mapped leave a fresh optimizer.
compile_config::TrainingState compile_from_file(const h5::Reader& file, Model& model);

}  // namespace rnnkit::keras2
