#include "rnnkit/model_file.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <functional>
#include <iomanip>
#include <limits>
#include <map>
#include <sstream>

#include "core/atomic_file.h"
#include "io/keras_h5.h"
#include "io/keras_zip.h"
#include "layers/initializers.h"
#include "rnnkit/error.h"
#include "rnnkit/keras_config.h"
#include "rnnkit/weights.h"

namespace rnnkit {
namespace {

using nlohmann::json;

std::string quoted(const std::filesystem::path& path) {
  std::ostringstream text;
  text << path;
  return text.str();
}

// Enough of the file to find any signature we look for (HDF5 may sit after a user block of up to 2 KiB here).
std::string read_start(const std::filesystem::path& path, std::size_t count) {
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    const int error = errno;
    fail("cannot read ", quoted(path), ": ", std::strerror(error));
  }
  std::string bytes(count, '\0');
  file.read(bytes.data(), static_cast<std::streamsize>(count));
  bytes.resize(static_cast<std::size_t>(file.gcount()));
  return bytes;
}

std::string printable_start(std::string_view bytes) {
  std::ostringstream text;
  for (std::size_t i = 0; i < std::min<std::size_t>(bytes.size(), 8); ++i) {
    const auto c = static_cast<unsigned char>(bytes[i]);
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      text << static_cast<char>(c);
    } else {
      static constexpr char kHex[] = "0123456789abcdef";
      text << "\\x" << kHex[c >> 4] << kHex[c & 15];
    }
  }
  return text.str();
}

[[noreturn]] void fail_unknown(const std::string& what, std::string_view start) {
  if (start.empty()) fail(what, ": the file is empty: not a Keras model file");
  fail(what, ": not a Keras model file: it starts with '", printable_start(start),
       "', expected HDF5 (\\x89HDF\\r\\n\\x1a\\n: .h5), zip (PK\\x03\\x04: .keras) or JSON ('{')");
}

std::string lower_extension(const std::filesystem::path& path) {
  std::string extension = path.extension().string();
  std::transform(extension.begin(), extension.end(), extension.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return extension;
}

bool ends_with_lower(const std::filesystem::path& path, std::string_view suffix) {
  std::string name = path.filename().string();
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return name.ends_with(suffix);
}

// Where a .h5 model file keeps its ModelAssets: a root group Keras never reads.
constexpr const char* kH5AssetsGroup = "/rnnkit_assets";
constexpr std::uint64_t kMaxAssetBytes = std::uint64_t{1} << 30;

ModelAssets read_h5_assets(const h5::Reader& file) {
  ModelAssets assets;
  const h5::ObjectKind kind = file.kind(kH5AssetsGroup);
  if (kind == h5::ObjectKind::kMissing) return assets;
  check(kind == h5::ObjectKind::kGroup, file.where(kH5AssetsGroup), ": expected a group of assets");
  for (const std::string& name : file.children(kH5AssetsGroup))
    assets.emplace(name, file.bytes_dataset(std::string(kH5AssetsGroup) + "/" + name, kMaxAssetBytes));
  return assets;
}

// A compiled model's TrainingState rides as one more asset, JSON: {"version": 1, "epoch": k, "generator":
// [4 words as 16 hex digits]}. Keras ignores it as it ignores every asset no layer asks for.
constexpr const char* kTrainingStateAsset = "rnnkit_training_state.json";

std::string training_state_json(const TrainingState& state) {
  json words = json::array();
  for (const std::uint64_t word : state.generator.state()) {
    std::ostringstream hex;
    hex << std::hex << std::setw(16) << std::setfill('0') << word;
    words.push_back(hex.str());
  }
  return json{{"version", 1}, {"epoch", state.epoch}, {"generator", words}}.dump();
}

TrainingState parse_training_state(const std::string& text) {
  json state;
  try {
    state = json::parse(text);
  } catch (const json::exception& error) {
    fail("not valid JSON: ", error.what());
  }
  check(state.is_object() && state.value("version", json()) == 1, "expected an object with \"version\": 1");
  const json& epoch = state.value("epoch", json());
  check(epoch.is_number_integer() && epoch.get<std::int64_t>() >= 0 &&
            epoch.get<std::int64_t>() <= std::numeric_limits<int>::max(),
        "field 'epoch': expected an epoch count, found ", epoch.dump());
  const json& words = state.value("generator", json());
  check(words.is_array() && words.size() == 4, "field 'generator': expected 4 words, found ", words.dump());
  std::array<std::uint64_t, 4> generator{};
  for (std::size_t i = 0; i < 4; ++i) {
    const std::string word = words[i].is_string() ? words[i].get<std::string>() : std::string();
    const auto [end, error] = std::from_chars(word.data(), word.data() + word.size(), generator[i], 16);
    check(word.size() == 16 && error == std::errc() && end == word.data() + word.size(),
          "field 'generator': word ", i, " is not 16 hex digits: ", words[i].dump());
  }
  return {.generator = Rng::from_state(generator), .epoch = epoch.get<int>()};
}

// Gives the model the training state its file holds and takes it out of the user's assets. One that cannot be
// read is dropped with the reason, as optimizer state is: the model loads all the same.
void restore_training_state(LoadedModel& loaded, const std::string& what) {
  const auto found = loaded.assets.find(kTrainingStateAsset);
  if (found == loaded.assets.end()) return;
  try {
    const TrainingState state = parse_training_state(found->second);
    loaded.model.set_training_state(state);
    loaded.training_state = state;
  } catch (const Error& error) {
    loaded.dropped_training_state.push_back(std::string("the training state: ") + what + " asset " +
                                            kTrainingStateAsset + ": " + error.what() +
                                            "; training goes on from the model's own random generator");
  }
  loaded.assets.erase(found);
}

// Asset names become file names (a zip member under assets/, an HDF5 link): one plain name each.
void check_asset_names(const ModelAssets& assets, const std::string& model_name,
                       const std::filesystem::path& path) {
  check(!assets.contains(kTrainingStateAsset), "cannot save model '", model_name, "' to ", quoted(path),
        ": asset name '", kTrainingStateAsset, "' is rnnkit's own, for the training state");
  for (const auto& [name, bytes] : assets) {
    const bool plain = !name.empty() && name != "." && name != ".." &&
                       name.find_first_of(std::string_view("/\\\0", 3)) == std::string::npos;
    check(plain, "cannot save model '", model_name, "' to ", quoted(path), ": asset name '", name,
          "' is not a plain file name (it must be non-empty, without '/', '\\' or NUL, and not '.' or '..')");
  }
}

// An HDF5 model file: Keras 1/2's save_model_to_hdf5 layout (and Keras 3's legacy .h5, which is the same).
LoadedModel load_h5_model(const h5::Reader& file, const SequentialOptions& options) {
  if (!file.has_attribute("/", "model_config")) {
    check(!keras2::is_weights_group(file, "/") && !keras3::is_weights_file(file), file.what(),
          ": holds weights only (model.save_weights), no model_config: build the model and use load_weights");
    fail(file.where("/"), ": attribute 'model_config' is missing: not a Keras model file");
  }
  const json config = keras2::read_model_config(file);
  const std::string keras_version =
      config.at("keras_version").is_string() ? config.at("keras_version").get<std::string>() : "";
  Model model = [&] {
    const WeightsFollowFromFile weights_follow;  // an initializer rnnkit lacks must not stop it loading
    return model_from_keras_config(config, file.where("/") + ", attribute 'model_config'", options);
  }();
  const std::string group = file.kind("/model_weights") == h5::ObjectKind::kGroup ? "/model_weights" : "/";
  check(group != "/" || keras2::is_weights_group(file, "/"), file.what(),
        ": has a model_config but no model_weights group: the file is truncated or not a Keras model file");
  keras2::load_weights(file, group, model);
  compile_config::TrainingState training = keras2::compile_from_file(file, model);
  return {std::move(model),
          ModelFileFormat::kHdf5,
          keras_version,
          read_h5_assets(file),
          std::move(training.dropped_metrics),
          std::move(training.dropped)};
}

LoadedModel load_json_model(std::string_view text, const std::string& what,
                            const SequentialOptions& options) {
  json config;
  try {
    config = json::parse(text);
  } catch (const json::exception& error) {
    fail(what, ": not valid JSON: ", error.what());
  }
  check(config.is_object(), what, ": expected a Keras model JSON object");
  const std::string keras_version = config.contains("keras_version") && config["keras_version"].is_string()
                                        ? config["keras_version"].get<std::string>()
                                        : "";
  Model model = model_from_keras_config(config, what, options);
  return {std::move(model), ModelFileFormat::kJson, keras_version, {}};
}

void write_h5(const std::filesystem::path& path, const std::function<void(h5::Writer&)>& write) {
  write_file_atomically(path, [&](const std::filesystem::path& temporary) {
    h5::Writer writer = h5::Writer::create_file(temporary, quoted(path));
    write(writer);
    writer.close();
  });
}

// The most weights rnnkit builds for one layer of a model read from a file: 2^31 floats are 8 GiB.
constexpr double kMaxLayerWeights = 2147483648.0;

// An integer field of a layer config as a double (the arithmetic below cannot overflow), or nullopt.
std::optional<double> count_field(const json& config, const char* key) {
  if (!config.is_object() || !config.contains(key) || !config[key].is_number_integer()) return std::nullopt;
  return static_cast<double>(config[key].get<std::int64_t>());
}

// The number of weights of one layer on inputs of `features` (nullopt: unknown), and the features it outputs.
std::pair<double, std::optional<double>> layer_weights(const json& layer, std::optional<double> features) {
  if (!layer.is_object() || !layer.contains("config")) return {0.0, features};
  const json& config = layer["config"];
  const std::string class_name = layer.value("class_name", std::string());
  const auto units = count_field(config, "units");
  if (class_name == "Embedding") {
    const auto vocabulary = count_field(config, "input_dim"), width = count_field(config, "output_dim");
    return {vocabulary && width ? *vocabulary * *width : 0.0, width};
  }
  if (class_name == "Dense") return {units && features ? (*features + 1) * *units : 0.0, units};
  if (class_name == "SimpleRNN" || class_name == "LSTM" || class_name == "GRU") {
    const double gates = class_name == "LSTM" ? 4 : class_name == "GRU" ? 3 : 1;
    return {units && features ? gates * *units * (*features + *units + 2)
            : units           ? gates * *units * *units
                              : 0.0,
            units};
  }
  if (class_name == "Bidirectional" && config.is_object() && config.contains("layer")) {
    const auto [inner, output] = layer_weights(config["layer"], features);
    const bool concat = !config.contains("merge_mode") || config["merge_mode"] == "concat";
    return {2 * inner, output && concat ? std::optional<double>(2 * *output) : output};
  }
  if (class_name == "TimeDistributed" && config.is_object() && config.contains("layer"))
    return layer_weights(config["layer"], features);
  // Their output's last axis is not the input's: unknown here.
  if (class_name == "Flatten" || class_name == "Reshape" || class_name == "Permute")
    return {0.0, std::nullopt};
  if (class_name == "InputLayer" || config.contains("batch_input_shape")) {
    const json shape = config.value("batch_input_shape", json());
    if (shape.is_array() && !shape.empty() && shape.back().is_number_integer())
      features = static_cast<double>(shape.back().get<std::int64_t>());
  }
  return {0.0, features};
}

// Refuses, before anything is allocated, a config whose layers would need more memory than any real model:
// a corrupt or hostile file must not make rnnkit allocate terabytes.
void check_plausible_sizes(const json& model, const std::string& where) {
  if (!model.is_object() || !model.contains("config")) return;
  const json& config = model["config"];
  const json& layers = config.is_array()    ? config
                       : config.is_object() ? config.value("layers", json())
                                            : json();
  if (!layers.is_array()) return;
  std::optional<double> features;
  for (const json& layer : layers) {
    if (layer.is_object() && layer.contains("config") && layer["config"].is_object() &&
        layer["config"].contains("batch_input_shape")) {
      const json& shape = layer["config"]["batch_input_shape"];
      if (shape.is_array() && !shape.empty() && shape.back().is_number_integer())
        features = static_cast<double>(shape.back().get<std::int64_t>());
      if (layer.value("class_name", std::string()) == "Embedding") features = std::nullopt;
    }
    const auto [weights, output] = layer_weights(layer, features);
    const std::string name = layer.is_object() && layer.contains("config") && layer["config"].is_object()
                                 ? layer["config"].value("name", std::string("?"))
                                 : "?";
    check(weights <= kMaxLayerWeights, where, ": layer '", name, "' would have about ", weights,
          " weights (more than 2^31, 8 GiB): the config is corrupt or the model is too large to load");
    features = output;
  }
}

}  // namespace

Model model_from_keras_config(const json& config, std::string_view where, const SequentialOptions& options) {
  const std::string what(where);
  return naming_json_errors(what, [&] {
    check(config.is_object(), what, ": expected a Keras model {\"class_name\": ..., \"config\": ...}");
    std::string version;
    if (config.contains("keras_version") && config["keras_version"].is_string())
      version = config["keras_version"].get<std::string>();
    else if (config.contains("module"))  // Keras 3's serialize_keras_object; it records no version
      version = "3";
    json normalized = keras2::upgrade_legacy_config(keras3::config_to_keras2(config), version);
    if (!version.empty()) normalized["keras_version"] = version;
    check_plausible_sizes(normalized, what);
    Model model = model_from_config(normalized, what, options);
    if (model.is_sequential() && !model.built())
      if (const std::optional<Shape> shape = keras3::build_input_shape(config)) {
        Sequential sequential(std::move(model));
        sequential.build(*shape);
        return Model(std::move(sequential));
      }
    return model;
  });
}

ModelFileFormat detect_model_file_format_from_bytes(std::string_view bytes) {
  if (h5::has_signature(bytes)) return ModelFileFormat::kHdf5;
  if (bytes.starts_with(keras3::kZipSignature) || bytes.starts_with(std::string_view("PK\x05\x06", 4)))
    return ModelFileFormat::kZip;
  std::size_t i = 0;
  if (bytes.starts_with("\xef\xbb\xbf")) i = 3;  // a UTF-8 byte order mark
  while (i < bytes.size() && std::isspace(static_cast<unsigned char>(bytes[i]))) ++i;
  if (i < bytes.size() && bytes[i] == '{') return ModelFileFormat::kJson;
  return ModelFileFormat::kUnknown;
}

ModelFileFormat detect_model_file_format(const std::filesystem::path& path) {
  return detect_model_file_format_from_bytes(read_start(path, 4096));
}

namespace {

LoadedModel load_file(const std::filesystem::path& path, const SequentialOptions& options) {
  const std::string what = quoted(path);
  const std::string start = read_start(path, 4096);
  switch (detect_model_file_format_from_bytes(start)) {
    case ModelFileFormat::kHdf5:
      return load_h5_model(h5::Reader::open_file(path), options);
    case ModelFileFormat::kZip:
      return keras3::load_archive(path, options);
    case ModelFileFormat::kJson: {
      std::ifstream file(path, std::ios::binary);
      const std::string text{std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>()};
      check(!file.bad(), "cannot read ", what);
      return load_json_model(text, "model file " + what, options);
    }
    case ModelFileFormat::kUnknown:
      break;
  }
  fail_unknown(what, start);
}

LoadedModel load_memory(std::string_view bytes, const std::string& what, const SequentialOptions& options) {
  switch (detect_model_file_format_from_bytes(bytes.substr(0, 4096))) {
    case ModelFileFormat::kHdf5:
      return load_h5_model(h5::Reader::open_memory(bytes, what), options);
    case ModelFileFormat::kZip:
      return keras3::load_archive_from_memory(bytes, what, options);
    case ModelFileFormat::kJson:
      return load_json_model(bytes, what, options);
    case ModelFileFormat::kUnknown:
      break;
  }
  fail_unknown(what, bytes);
}

void load_weights_file(Model& model, const std::filesystem::path& path) {
  const std::string what = quoted(path);
  const std::string start = read_start(path, 4096);
  switch (detect_model_file_format_from_bytes(start)) {
    case ModelFileFormat::kHdf5: {
      const h5::Reader file = h5::Reader::open_file(path);
      // Keras's load_weights takes a whole model file too: its model_weights group.
      if (keras2::is_weights_group(file, "/")) return keras2::load_weights(file, "/", model);
      if (file.kind("/model_weights") == h5::ObjectKind::kGroup &&
          keras2::is_weights_group(file, "/model_weights"))
        return keras2::load_weights(file, "/model_weights", model);
      if (keras3::is_weights_file(file)) return keras3::load_weights(file, model);
      fail(what,
           ": an HDF5 file, but not Keras weights: it has no layer_names attribute (Keras 2), "
           "model_weights group (Keras 2 model) or layers group (Keras 3)");
    }
    case ModelFileFormat::kZip:
      if (keras3::is_keras_archive(path)) return keras3::load_archive_weights(model, path);
      return load_weights_npz(model, path);
    case ModelFileFormat::kJson:
      fail(what, ": a model JSON file holds no weights");
    case ModelFileFormat::kUnknown:
      break;
  }
  fail_unknown(what, start);
}

}  // namespace

LoadedModel load_model_file(const std::filesystem::path& path, const SequentialOptions& options) {
  return naming_json_errors(quoted(path), [&] {
    LoadedModel loaded = load_file(path, options);
    restore_training_state(loaded, quoted(path));
    return loaded;
  });
}

Model load_model(const std::filesystem::path& path, const SequentialOptions& options) {
  return std::move(load_model_file(path, options).model);
}

Model load_model_from_memory(std::string_view bytes, const std::string& what,
                             const SequentialOptions& options) {
  return naming_json_errors(what, [&] {
    LoadedModel loaded = load_memory(bytes, what, options);
    restore_training_state(loaded, what);
    return std::move(loaded.model);
  });
}

void save_model(const Model& model, const std::filesystem::path& path, const ModelAssets& assets) {
  const std::string extension = lower_extension(path);
  if (extension == ".keras" || extension == ".h5" || extension == ".hdf5")
    check_asset_names(assets, model.name(), path);
  ModelAssets saved = assets;
  if (model.compiled()) saved.emplace(kTrainingStateAsset, training_state_json(model.training_state()));
  if (extension == ".keras") return keras3::save_archive(model, path, saved);
  if (extension == ".h5" || extension == ".hdf5") {
    const json config = keras2::model_config(model);
    return write_h5(path, [&](h5::Writer& writer) {
      keras2::write(writer, model, &config);
      keras2::write_training_state(writer, model);
      if (saved.empty()) return;
      writer.group(kH5AssetsGroup);
      for (const auto& [name, bytes] : saved)
        writer.bytes_dataset(std::string(kH5AssetsGroup) + "/" + name, bytes);
    });
  }
  fail("cannot save model '", model.name(), "' to ", quoted(path),
       ": the file name must end in .keras (Keras 3) or .h5/.hdf5 (Keras 2); use save_weights for weights "
       "only");
}

void save_weights(const Model& model, const std::filesystem::path& path) {
  check(model.built(), "cannot save the weights of model '", model.name(), "' to ", quoted(path),
        ": it is not built, so it has no weights yet");
  const std::string extension = lower_extension(path);
  if (extension == ".npz") return save_weights_npz(model, path);
  if (ends_with_lower(path, ".weights.h5"))
    return write_h5(path, [&](h5::Writer& writer) { keras3::write_weights(writer, model); });
  if (extension == ".h5" || extension == ".hdf5")
    return write_h5(path, [&](h5::Writer& writer) { keras2::write(writer, model, nullptr); });
  fail("cannot save the weights of model '", model.name(), "' to ", quoted(path),
       ": the file name must end in .weights.h5 (Keras 3), .h5/.hdf5 (Keras 2) or .npz");
}

void load_weights(Model& model, const std::filesystem::path& path) {
  naming_json_errors(quoted(path), [&] { load_weights_file(model, path); });
}

SummaryStyle summary_style_for_keras_version(std::string_view keras_version, SummaryStyle fallback) {
  int major = -1, minor = -1;
  std::size_t i = 0;
  const auto number = [&]() {
    int value = -1;
    while (i < keras_version.size() && std::isdigit(static_cast<unsigned char>(keras_version[i])) &&
           value < 10000)
      value = std::max(value, 0) * 10 + (keras_version[i++] - '0');
    return value;
  };
  major = number();
  if (i < keras_version.size() && keras_version[i] == '.') {
    ++i;
    minor = number();
  }
  if (major >= 3) return SummaryStyle::keras3;
  if (major == 2 && minor >= 13) return SummaryStyle::keras2_15;
  if (major == 2 && minor >= 7) return SummaryStyle::keras2_12;
  if (major == 1 || (major == 2 && minor >= 0)) return SummaryStyle::keras2_6;
  return fallback;
}

}  // namespace rnnkit
