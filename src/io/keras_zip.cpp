#include "io/keras_zip.h"

#include <zip.h>

#include <cctype>
#include <chrono>
#include <ctime>
#include <limits>
#include <map>
#include <memory>
#include <sstream>

#include "core/atomic_file.h"
#include "io/compile_config.h"
#include "layers/initializers.h"
#include "model/functional_config.h"
#include "rnnkit/error.h"
#include "rnnkit/keras_config.h"
#include "rnnkit/layers/bidirectional.h"
#include "rnnkit/layers/recurrent.h"
#include "rnnkit/layers/time_distributed.h"
#include "rnnkit/model_file.h"
#include "rnnkit/model_layer.h"

namespace rnnkit::keras3 {
namespace {

using nlohmann::json;

constexpr const char* kConfigMember = "config.json";
constexpr const char* kMetadataMember = "metadata.json";
constexpr const char* kWeightsMember = "model.weights.h5";
constexpr std::string_view kAssetsFolder = "assets/";
constexpr std::uint64_t kMaxJsonMember = std::uint64_t{64} << 20;
constexpr std::uint64_t kMaxWeightsMember = std::uint64_t{16} << 30;
constexpr std::uint64_t kMaxAssetMember = std::uint64_t{1} << 30;

std::string quoted(const std::filesystem::path& path) {
  std::ostringstream text;
  text << path;
  return text.str();
}

// ---- Config dialects

bool is_wrapper(const json& value) {
  return value.is_object() && value.contains("class_name") && value.contains("config");
}

// Everything in `value` but its name and direction: what a Bidirectional's two copies share.
json without_direction(json config) {
  if (config.is_object()) {
    config.erase("name");
    config.erase("go_backwards");
  }
  return config;
}

json normalize(const json& value) {
  if (value.is_array()) {
    json result = json::array();
    for (const json& item : value) result.push_back(normalize(item));
    return result;
  }
  if (!value.is_object()) return value;
  const bool wrapper = is_wrapper(value);
  json result = json::object();
  for (const auto& [key, item] : value.items()) {
    if (wrapper && (key == "module" || key == "registered_name" || key == "build_config" ||
                    key == "compile_config" || key == "shared_object_id"))
      continue;
    if (key == "dtype" && item.is_object()) {
      // A DTypePolicy: {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"}}.
      const json& policy = item.contains("config") ? item.at("config") : item;
      result[key] = policy.is_object() && policy.contains("name") ? policy.at("name") : item;
    } else if (key == "batch_shape" && !value.contains("batch_input_shape")) {
      result["batch_input_shape"] = item;
    } else if ((key == "activation" || key == "recurrent_activation") && is_wrapper(item) &&
               item.at("config").is_string()) {
      result[key] = item.at("config");  // {"class_name": "function", "config": "tanh"}
    } else {
      result[key] = normalize(item);
    }
  }
  if (wrapper && value.contains("registered_name") && value["registered_name"].is_string() &&
      value["registered_name"].get<std::string>().find('>') != std::string::npos) {
    // A custom object registered as "package>Name": keep that name, so that a custom class named like a Keras
    // one is not read as the Keras one.
    result["class_name"] = value["registered_name"];
  }
  if (wrapper && result["class_name"] == "Bidirectional" && result["config"].is_object()) {
    json& config = result["config"];
    if (config.contains("layer") && is_wrapper(config["layer"])) {
      json& layer = config["layer"];
      // Keras 3 always writes the backward copy; it is ours when it mirrors the forward one.
      if (config.contains("backward_layer") && is_wrapper(config["backward_layer"])) {
        const json& backward = config["backward_layer"];
        if (backward["class_name"] == layer["class_name"] &&
            without_direction(backward["config"]) == without_direction(layer["config"]))
          config.erase("backward_layer");
      }
      if (layer["config"].is_object() && layer["config"].contains("name") &&
          layer["config"]["name"].is_string()) {
        const std::string name = layer["config"]["name"].get<std::string>();
        if (name.starts_with("forward_")) layer["config"]["name"] = name.substr(8);
      }
    }
  }
  if (wrapper && result["class_name"] == "Sequential" && result["config"].is_object() &&
      result["config"].contains("layers") && result["config"]["layers"].is_array()) {
    // Keras 3 dropped Embedding's input_length: the InputLayer before it holds the sequence length.
    json& layers = result["config"]["layers"];
    if (layers.size() >= 2 && is_wrapper(layers[0]) && layers[0]["class_name"] == "InputLayer" &&
        is_wrapper(layers[1]) && layers[1]["class_name"] == "Embedding" && layers[1]["config"].is_object() &&
        !layers[1]["config"].contains("input_length") && layers[0]["config"].is_object()) {
      const json& shape = layers[0]["config"].value("batch_input_shape", json());
      if (shape.is_array() && shape.size() == 2 && shape[1].is_number_integer())
        layers[1]["config"]["input_length"] = shape[1];
    }
  }
  if (wrapper && result["class_name"] == "Functional" && result["config"].is_object() &&
      result["config"].contains("layers") && result["config"]["layers"].is_array()) {
    // The same for an Embedding called on an Input of shape (batch, length) in a Keras 3 Functional model.
    json& layers = result["config"]["layers"];
    std::map<std::string, json> lengths;  // InputLayer name -> its length
    for (const json& layer : layers)
      if (is_wrapper(layer) && layer["class_name"] == "InputLayer" && layer["config"].is_object()) {
        const json& shape = layer["config"].value("batch_input_shape", json());
        if (shape.is_array() && shape.size() == 2 && shape[1].is_number_integer())
          lengths[layer["config"].value("name", std::string())] = shape[1];
      }
    for (json& layer : layers) {
      if (!is_wrapper(layer) || layer["class_name"] != "Embedding" || !layer["config"].is_object() ||
          layer["config"].contains("input_length") || !layer.contains("inbound_nodes"))
        continue;
      const json& nodes = layer["inbound_nodes"];
      if (!nodes.is_array() || nodes.size() != 1 || !nodes[0].is_object()) continue;
      const json& args = nodes[0].value("args", json());
      if (!args.is_array() || args.empty() || !args[0].is_object()) continue;
      const json& history = args[0].value("config", json::object()).value("keras_history", json());
      if (history.is_array() && !history.empty() && history[0].is_string() &&
          lengths.contains(history[0].get<std::string>()))
        layer["config"]["input_length"] = lengths[history[0].get<std::string>()];
    }
  }
  return result;
}

json dtype_policy(const std::string& name) {
  return {{"module", "keras"},
          {"class_name", "DTypePolicy"},
          {"config", {{"name", name}}},
          {"registered_name", nullptr}};
}

json shape_json(const Shape& shape) {
  json result = json::array();
  for (const std::int64_t extent : shape) result.push_back(extent == kNone ? json(nullptr) : json(extent));
  return result;
}

std::string activation3(const json& value, const std::string& where) {
  const std::string name = value.is_string() ? value.get<std::string>() : value.dump();
  if (name == "hard_sigmoid_keras3") return "hard_sigmoid";
  check(name != "gelu_approximate", where,
        ": the model uses gelu's tanh approximation, which no Keras config can name (Keras's 'gelu' is the "
        "exact form)");
  check(name != "hard_sigmoid", where,
        ": the model uses Keras 1/2's hard_sigmoid (0.2x + 0.5), which Keras 3's "
        "'hard_sigmoid' (x/6 + 0.5) is not: save it as .h5 instead");
  return name;
}

bool is_recurrent_class(const std::string& class_name) {
  return class_name == "SimpleRNN" || class_name == "LSTM" || class_name == "GRU";
}

// One layer entry of config.json, from the layer's tf.keras 2 config; `build_shape` is its input shape.
json layer3(const json& entry, const std::optional<Shape>& build_shape, bool zero_output_for_mask,
            const std::string& where) {
  const std::string class_name = entry.at("class_name").get<std::string>();
  json config = entry.at("config");
  const std::string at =
      where + " layer '" + config.value("name", std::string("?")) + "' (" + class_name + ")";
  config.erase("batch_input_shape");
  config["dtype"] = dtype_policy(config.contains("dtype") && config["dtype"].is_string()
                                     ? config["dtype"].get<std::string>()
                                     : std::string("float32"));
  for (auto& [key, item] : config.items()) {
    const char* module = key.ends_with("_initializer")   ? "keras.initializers"
                         : key.ends_with("_regularizer") ? "keras.regularizers"
                         : key.ends_with("_constraint")  ? "keras.constraints"
                                                         : nullptr;
    if (key.ends_with("_initializer")) item = initializer_for_era(item, KerasEra::keras3);
    if (module && item.is_object() && item.contains("class_name")) {
      // A custom object keeps its registration ("package>Name"), under which Keras 3 looks it up first.
      const std::string name =
          item.at("class_name").is_string() ? item.at("class_name").get<std::string>() : "";
      const std::size_t mark = name.find('>');
      item = json{
          {"module", module},
          {"class_name", mark == std::string::npos ? item.at("class_name") : json(name.substr(mark + 1))},
          {"config", item.contains("config") ? item.at("config") : json::object()},
          {"registered_name", mark == std::string::npos ? json(nullptr) : json(name)}};
    }
    if (key == "activation" || key == "recurrent_activation")
      item = activation3(item, at + " field '" + key + "'");
  }
  if (is_recurrent_class(class_name)) {
    config.erase("time_major");      // Keras 3 has none
    config.erase("implementation");  // popped from the arguments and never written by Keras 3
    config["seed"] = nullptr;
    config["zero_output_for_mask"] = zero_output_for_mask;
  }
  if (class_name == "Embedding") config.erase("input_length");  // removed in Keras 3
  // Keras 3's Dense writes no activity_regularizer (its Embedding and RNNs do).
  if (class_name == "Dense" && config.contains("activity_regularizer") &&
      config["activity_regularizer"].is_null())
    config.erase("activity_regularizer");
  if (class_name == "SpatialDropout1D") {
    // Keras 3's get_config: rate, seed, name and the dtype's name; its __init__ takes nothing else.
    config.erase("noise_shape");
    config.erase("trainable");
    config["dtype"] = "float32";
  }
  if (class_name == "BatchNormalization") {  // Keras 3's axis is one integer
    const json axis = config.value("axis", json(-1));
    check(axis.is_number_integer() || (axis.is_array() && axis.size() == 1), at,
          ": Keras 3's BatchNormalization takes one axis, the model has axis ", axis.dump());
    config["axis"] = axis.is_array() ? axis[0] : axis;
    config["synchronized"] = false;
  }
  if (class_name == "LayerNormalization") config["rms_scaling"] = false;
  if (class_name == "Bidirectional") {
    const json& inner = config.at("layer");
    json forward = inner;
    const std::string name = inner.at("config").value("name", std::string("rnn"));
    const bool sequences = inner.at("config").value("return_sequences", false);
    forward["config"]["name"] = "forward_" + name;
    json backward = inner;
    backward["config"]["name"] = "backward_" + name;
    backward["config"]["go_backwards"] = !inner.at("config").value("go_backwards", false);
    // Keras 3's Bidirectional: both copies zero masked steps when they return sequences.
    config["layer"] = layer3(forward, build_shape, sequences, where);
    config["backward_layer"] = layer3(backward, build_shape, sequences, where);
  }
  if (class_name == "TimeDistributed") {
    std::optional<Shape> inner_shape;
    if (build_shape && build_shape->size() >= 2) {
      inner_shape = Shape{(*build_shape)[0]};
      inner_shape->insert(inner_shape->end(), build_shape->begin() + 2, build_shape->end());
    }
    config["layer"] = layer3(config.at("layer"), inner_shape, false, where);
  }
  json result{{"module", "keras.layers"},
              {"class_name", class_name},
              {"config", config},
              {"registered_name", nullptr}};
  if (build_shape) result["build_config"] = {{"input_shape", shape_json(*build_shape)}};
  return result;
}

// ---- Weights layout

struct VarsGroup {
  std::string path;   // ".../vars"
  std::size_t count;  // how many of the layer's params(), in order, it holds
};

std::vector<std::string> layer_paths(const Model& model, const std::string& root);

// The vars groups Keras 3's _save_state visits for a layer at `prefix`: the layer's own, then those of its
// sublayers (an RNN's cell, a Bidirectional's forward_layer and backward_layer, a TimeDistributed's layer, a
// nested model's layers).
void layout(const Layer& layer, const std::string& prefix, std::vector<VarsGroup>& groups) {
  groups.push_back({prefix + "/vars", 0});
  if (const auto* nested = dynamic_cast<const ModelLayer*>(&layer)) {
    const std::vector<std::string> paths = layer_paths(nested->model(), prefix + "/layers");
    for (std::size_t i = 0; i < paths.size(); ++i) layout(nested->model().layer(i), paths[i], groups);
  } else if (const auto* bidirectional = dynamic_cast<const Bidirectional*>(&layer)) {
    layout(bidirectional->forward_layer(), prefix + "/forward_layer", groups);
    layout(bidirectional->backward_layer(), prefix + "/backward_layer", groups);
  } else if (const auto* distributed = dynamic_cast<const TimeDistributed*>(&layer)) {
    layout(distributed->layer(), prefix + "/layer", groups);
  } else if (dynamic_cast<const Recurrent*>(&layer) != nullptr) {
    groups.push_back({prefix + "/cell/vars", layer.params().size()});
  } else {
    groups.back().count = layer.params().size();
  }
}

// The path of each layer of the model: layers/<snake_case class>[_<n>], counted per class as Keras 3's
// _save_container_state does (by class, not by the layer's name).
std::vector<std::string> layer_paths(const Model& model, const std::string& root) {
  std::map<std::string, int> used;
  std::vector<std::string> paths;
  for (std::size_t i = 0; i < model.size(); ++i) {
    const std::string name = snake_case(model.layer(i).class_name());
    const auto [entry, first] = used.try_emplace(name, 0);
    if (!first) ++entry->second;
    paths.push_back(root + "/" + (first ? name : name + "_" + std::to_string(entry->second)));
  }
  return paths;
}

// ---- Zip archives

struct ArchiveDiscarder {
  void operator()(zip_t* archive) const { zip_discard(archive); }
};
using Archive = std::unique_ptr<zip_t, ArchiveDiscarder>;

Archive open_source(zip_source_t* source, int flags, zip_error_t& error, const std::string& failure) {
  zip_t* archive = source == nullptr ? nullptr : zip_open_from_source(source, flags, &error);
  if (archive == nullptr) {
    if (source != nullptr) zip_source_free(source);
    const std::string reason = zip_error_strerror(&error);
    zip_error_fini(&error);
    fail(failure, ": ", reason);
  }
  zip_error_fini(&error);
  return Archive(archive);
}

Archive open_archive_file(const std::filesystem::path& path, int flags, const std::string& failure) {
  zip_error_t error;
  zip_error_init(&error);
  return open_source(zip_source_file_create(path.c_str(), 0, -1, &error), flags, error, failure);
}

Archive open_archive_memory(std::string_view bytes, const std::string& failure) {
  zip_error_t error;
  zip_error_init(&error);
  return open_source(zip_source_buffer_create(bytes.data(), bytes.size(), 0, &error), ZIP_RDONLY, error,
                     failure);
}

std::string member_names(zip_t* archive) {
  std::string names;
  const zip_int64_t count = zip_get_num_entries(archive, 0);
  for (zip_int64_t i = 0; i < count && i < 10; ++i) {
    const char* name = zip_get_name(archive, static_cast<zip_uint64_t>(i), 0);
    names += (names.empty() ? "" : ", ") + std::string(name == nullptr ? "?" : name);
  }
  if (count > 10) names += ", ...";
  return names.empty() ? "none" : names;
}

// A member's bytes, or nullopt when there is no such member. The size the archive claims is checked before
// reading (a zip bomb cannot make us allocate more than the limit), and the bytes read must match it.
std::optional<std::string> read_member(zip_t* archive, const char* name, const std::string& what,
                                       std::uint64_t limit) {
  const zip_int64_t index = zip_name_locate(archive, name, 0);
  if (index < 0) return std::nullopt;
  const std::string member = what + " member " + name;
  zip_stat_t stat;
  zip_stat_init(&stat);
  check(zip_stat_index(archive, static_cast<zip_uint64_t>(index), 0, &stat) == 0, member,
        ": cannot read its entry: ", zip_strerror(archive));
  check((stat.valid & ZIP_STAT_SIZE) && (stat.valid & ZIP_STAT_COMP_SIZE), member, ": its size is unknown");
  check(stat.size <= limit, member, ": its size (", stat.size, " bytes) is more than rnnkit reads (", limit,
        ")");
  // Deflate cannot compress more than about 1032:1.
  check(stat.size <= stat.comp_size * 1100 + (1 << 20), member, ": its size (", stat.size,
        " bytes) is implausible for its compressed size (", stat.comp_size, " bytes)");
  struct Closer {
    void operator()(zip_file_t* file) const { zip_fclose(file); }
  };
  std::unique_ptr<zip_file_t, Closer> file(zip_fopen_index(archive, static_cast<zip_uint64_t>(index), 0));
  check(file != nullptr, member, ": cannot open it: ", zip_strerror(archive));
  std::string bytes;
  bytes.reserve(static_cast<std::size_t>(stat.size));
  char buffer[1 << 16];
  while (true) {
    const zip_int64_t count = zip_fread(file.get(), buffer, sizeof buffer);
    check(count >= 0, member, ": it is corrupt or truncated: ", zip_file_strerror(file.get()));
    if (count == 0) break;
    check(bytes.size() + static_cast<std::uint64_t>(count) <= stat.size, member,
          ": it holds more bytes than its entry says (", stat.size, ")");
    bytes.append(buffer, static_cast<std::size_t>(count));
  }
  check(bytes.size() == stat.size, member, ": it is truncated: ", bytes.size(), " of ", stat.size, " bytes");
  return bytes;
}

json parse_member(const std::string& text, const std::string& member) {
  try {
    return json::parse(text);
  } catch (const json::exception& error) {
    fail(member, ": not valid JSON: ", error.what());
  }
}

void add_member(zip_t* archive, const char* name, const std::string& bytes, const std::string& what) {
  zip_source_t* source = zip_source_buffer(archive, bytes.data(), bytes.size(), 0);
  const zip_int64_t index = source == nullptr ? -1 : zip_file_add(archive, name, source, ZIP_FL_ENC_UTF_8);
  if (index < 0 && source != nullptr) zip_source_free(source);
  // zipfile.ZipFile(..., "w") stores members uncompressed (ZIP_STORED), stamped with the current time.
  const bool added =
      index >= 0 && zip_set_file_compression(archive, static_cast<zip_uint64_t>(index), ZIP_CM_STORE, 0) == 0;
  check(added, "cannot write ", what, ": cannot add member ", name, ": ", zip_strerror(archive));
}

std::string date_saved() {
  const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm local{};
  localtime_r(&now, &local);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%d@%H:%M:%S", &local);
  return text;
}

constexpr const char* kOptimizerVars = "/optimizer/vars";

// How many of optimizer/vars come before the slots: "iteration", then "learning_rate" unless a schedule
// replaces it (Keras 3's BaseOptimizer.__init__ tracks no variable for a schedule).
std::size_t leading_optimizer_vars(const Optimizer& optimizer) {
  return optimizer.config()["learning_rate"].is_object() ? 1 : 2;
}

// Keras 3's optimizer.save_own_variables: optimizer.variables by index, under optimizer/vars.
void write_optimizer_variables(h5::Writer& file, const Model& model) {
  if (!model.compiled()) return;
  const Optimizer& optimizer = model.optimizer();
  file.group(kOptimizerVars);
  file.integer_scalar(std::string(kOptimizerVars) + "/0", optimizer.iterations());
  std::size_t index = 1;
  if (leading_optimizer_vars(optimizer) == 2)
    file.dataset(std::string(kOptimizerVars) + "/" + std::to_string(index++),
                 Tensor(Shape{}, std::vector<float>{static_cast<float>(optimizer.current_learning_rate())}));
  for (const auto& [slot, tensor] : optimizer.keras3_variables())
    file.dataset(std::string(kOptimizerVars) + "/" + std::to_string(index++), *tensor);
}

// Keras 3's optimizer.load_own_variables into the model's compiled optimizer. A file whose optimizer never
// stepped holds only the leading variables; any other count is an error (Keras warns and starts afresh).
void read_optimizer_variables(const h5::Reader& file, Model& model) {
  if (file.kind(kOptimizerVars) == h5::ObjectKind::kMissing) return;
  const std::string where = file.where(kOptimizerVars);
  check(file.kind(kOptimizerVars) == h5::ObjectKind::kGroup, where, ": expected a group of variables");
  Optimizer& optimizer = model.optimizer();
  const std::size_t count = file.children(kOptimizerVars).size();
  if (count == 0) return;
  const std::size_t leading = leading_optimizer_vars(optimizer);
  const std::vector<Shape> shapes = compile_config::trainable_weight_shapes(model);
  const std::size_t expected = leading + optimizer.slots().size() * shapes.size();
  check(count == leading || count == expected, where, ": holds ", count, " variables, but optimizer ",
        optimizer.name(), " of model '", model.name(), "' has ", expected, " (",
        leading == 2 ? "iteration and learning_rate" : "iteration", ", then ", optimizer.slots().size(),
        " slot(s) for each of its ", shapes.size(), " trainable weights)");
  for (std::size_t i = 0; i < count; ++i)
    check(file.kind(std::string(kOptimizerVars) + "/" + std::to_string(i)) == h5::ObjectKind::kDataset,
          file.where(std::string(kOptimizerVars) + "/" + std::to_string(i)),
          ": missing: the variables are numbered 0 to ", count - 1);
  const std::string iteration_path = std::string(kOptimizerVars) + "/0";
  const std::int64_t iterations = file.integer_scalar(iteration_path);
  check(iterations >= 0, file.where(iteration_path), ": a negative step count, ", iterations);
  if (count == expected) {
    optimizer.build(shapes);
    std::size_t index = leading;
    for (const auto& [slot, tensor] : optimizer.keras3_variables()) {
      const std::string path = std::string(kOptimizerVars) + "/" + std::to_string(index++);
      Tensor value = file.dataset(path, 2 * tensor->size() + 64);
      check(value.shape() == tensor->shape(), file.where(path), ": shape ", shape_string(value.shape()),
            ", but optimizer ", optimizer.name(), " keeps its '", slot, "' slot there with shape ",
            shape_string(tensor->shape()));
      *tensor = std::move(value);
    }
  }
  optimizer.set_iterations(iterations);
}

// The archive's top-level assets, assets/<name>. Deeper members belong to layers (Keras 3's save_assets of a
// TextVectorization, ...), which rnnkit has none of.
ModelAssets read_assets(zip_t* archive, const std::string& what) {
  ModelAssets assets;
  const zip_int64_t count = zip_get_num_entries(archive, 0);
  for (zip_int64_t i = 0; i < count; ++i) {
    const char* entry = zip_get_name(archive, static_cast<zip_uint64_t>(i), 0);
    if (entry == nullptr) continue;
    const std::string_view member(entry);
    if (!member.starts_with(kAssetsFolder)) continue;
    const std::string name(member.substr(kAssetsFolder.size()));
    if (name.empty() || name.find('/') != std::string::npos) continue;
    std::optional<std::string> bytes = read_member(archive, entry, what, kMaxAssetMember);
    check(bytes.has_value(), what, " member ", entry, ": listed but cannot be found");
    assets.emplace(name, std::move(*bytes));
  }
  return assets;
}

LoadedModel load_from_archive(zip_t* archive, const std::string& what, const SequentialOptions& options) {
  const std::optional<std::string> config_text = read_member(archive, kConfigMember, what, kMaxJsonMember);
  check(config_text.has_value(), what,
        ": a .keras archive holds config.json, metadata.json and model.weights.h5; "
        "this zip has no config.json (its members: ",
        member_names(archive), ")");
  const std::string config_where = what + " member " + kConfigMember;
  const json config = parse_member(*config_text, config_where);
  check(config.is_object(), config_where, ": expected a JSON object, found ", config.type_name());
  std::string keras_version = "3";
  if (const std::optional<std::string> metadata_text =
          read_member(archive, kMetadataMember, what, kMaxJsonMember)) {
    const json metadata = parse_member(*metadata_text, what + " member " + kMetadataMember);
    if (metadata.is_object() && metadata.contains("keras_version") && metadata["keras_version"].is_string())
      keras_version = metadata["keras_version"].get<std::string>();
  }
  json versioned = config;
  versioned["keras_version"] = keras_version;  // the dialect: Keras 3's hard_sigmoid differs from Keras 2's
  Model model = [&] {
    const WeightsFollowFromFile weights_follow;  // an initializer rnnkit lacks must not stop it loading
    return model_from_keras_config(versioned, config_where, options);
  }();

  const std::optional<std::string> weights = read_member(archive, kWeightsMember, what, kMaxWeightsMember);
  if (!weights) {
    check(zip_name_locate(archive, "model.weights.npz", 0) < 0, what,
          ": weights saved as model.weights.npz (weights_format='npz') are not supported; save with the "
          "default h5");
    fail(what, ": the archive has no model.weights.h5 (its members: ", member_names(archive), ")");
  }
  const h5::Reader reader = h5::Reader::open_memory(*weights, what + " member " + kWeightsMember);
  load_weights(reader, model);
  // Keras 3's load_model(compile=True): compile_from_config, then the optimizer's variables. What cannot be
  // honoured is dropped with the reason, never an error: the model loads whatever its training state.
  compile_config::TrainingState training;
  if (config.contains("compile_config") && !config["compile_config"].is_null()) {
    const std::string compile_where = config_where + ", compile_config";
    const json& compile = config["compile_config"];
    // compile() without an optimizer takes Keras 3's default, "rmsprop", as compile_from_config does.
    const json optimizer =
        compile.is_object() && compile.contains("optimizer") ? compile["optimizer"] : json("rmsprop");
    const auto compile_model = [&] {
      return compile_config::compile_model(model, compile.value("loss", json()),
                                           compile.value("metrics", json()),
                                           compile.value("weighted_metrics", json()), optimizer,
                                           compile_where, compile.value("loss_weights", json()));
    };
    try {
      check(compile.is_object(), compile_where, ": expected an object with the optimizer, loss and metrics");
      training.dropped_metrics = compile_model();
      try {
        read_optimizer_variables(reader, model);
      } catch (const Error& error) {
        compile_model();  // a fresh optimizer, as Keras skips variables it cannot load
        training.dropped.push_back(std::string("the optimizer state: ") + error.what() +
                                   "; training starts with a fresh optimizer");
      }
    } catch (const Error& error) {
      training.dropped.push_back(std::string(error.what()) + "; the model loads uncompiled");
    }
  }
  return {std::move(model),
          ModelFileFormat::kZip,
          keras_version,
          read_assets(archive, what),
          std::move(training.dropped_metrics),
          std::move(training.dropped)};
}

}  // namespace

std::string snake_case(std::string_view class_name) {
  std::string name;
  for (const char c : class_name)
    if (std::isalnum(static_cast<unsigned char>(c)) || c == '_') name += c;
  const auto upper = [](char c) { return c >= 'A' && c <= 'Z'; };
  const auto lower = [](char c) { return c >= 'a' && c <= 'z'; };
  // re.sub("(.)([A-Z][a-z]+)", r"\1_\2"): before a capital that starts a lower-case word.
  std::string first;
  for (std::size_t i = 0; i < name.size(); ++i) {
    if (i > 0 && upper(name[i]) && i + 1 < name.size() && lower(name[i + 1])) first += '_';
    first += name[i];
  }
  // re.sub("([a-z])([A-Z])", r"\1_\2"), then lower().
  std::string result;
  for (std::size_t i = 0; i < first.size(); ++i) {
    if (i > 0 && lower(first[i - 1]) && upper(first[i])) result += '_';
    result += static_cast<char>(std::tolower(static_cast<unsigned char>(first[i])));
  }
  return result;
}

json config_to_keras2(const json& config) {
  return normalize(config);
}

std::optional<Shape> build_input_shape(const json& config) {
  const json* shape = nullptr;
  if (config.contains("build_config") && config["build_config"].is_object() &&
      config["build_config"].contains("input_shape"))
    shape = &config["build_config"]["input_shape"];
  else if (config.contains("config") && config["config"].is_object() &&
           config["config"].contains("build_input_shape"))
    shape = &config["config"]["build_input_shape"];
  if (shape == nullptr || !shape->is_array() || shape->empty()) return std::nullopt;
  Shape result;
  for (const json& extent : *shape) {
    if (extent.is_null()) {
      result.push_back(kNone);
    } else if (extent.is_number_integer() && extent.get<std::int64_t>() > 0) {
      result.push_back(extent.get<std::int64_t>());
    } else {
      return std::nullopt;
    }
  }
  return result;
}

namespace {

// Keras 3's Trainer.get_compile_config: the compile() arguments, serialized.
json compile_config_json(const Model& model) {
  return {
      {"optimizer", compile_config::optimizer_json(model.optimizer(), compile_config::Dialect::kKeras3)},
      {"loss", compile_config::model_loss_json(model, compile_config::Dialect::kKeras3)},
      {"loss_weights", compile_config::model_loss_weights_json(model)},
      {"metrics", compile_config::model_metrics_json(model, compile_config::Dialect::kKeras3)},
      {"weighted_metrics", compile_config::model_metrics_json(model, compile_config::Dialect::kKeras3, true)},
      {"run_eagerly", false},
      {"steps_per_execution", 1},
      {"jit_compile", false}};
}

// Keras 3's Functional.get_config: every layer of model.layers in Keras 3's dialect, its calls as args and
// kwargs of __keras_tensor__s with the graph's shapes, a layer's build_config from its first call.
json functional_model_config(const Model& model, const std::string& where) {
  KerasTensorTypes types;
  FunctionalSpec spec = functional_spec(model, &types);
  const json keras2 = model.config();
  const json& layers = keras2.at("config").at("layers");
  check(layers.size() == spec.layers.size(), where, ": internal error: the config lists ", layers.size(),
        " layers for ", spec.layers.size());
  for (std::size_t i = 0; i < spec.layers.size(); ++i) {
    LayerSpec& layer = spec.layers[i];
    json entry = {{"class_name", layers[i].at("class_name")}, {"config", layers[i].at("config")}};
    if (entry["class_name"] == "InputLayer") {
      const json& config = entry["config"];
      layer.layer = {{"module", "keras.layers"},
                     {"class_name", "InputLayer"},
                     {"config",
                      {{"batch_shape", config.at("batch_input_shape")},
                       {"dtype", config.value("dtype", std::string("float32"))},
                       {"sparse", false},
                       {"name", config.at("name")}}},
                     {"registered_name", nullptr}};
      continue;
    }
    if (const auto* nested = dynamic_cast<const ModelLayer*>(&model.layer(i))) {
      layer.layer = model_config(nested->model());  // a nested model's entry is its own config
      continue;
    }
    std::optional<Shape> build_shape;
    if (!layer.nodes.empty()) build_shape = types.at(layer.nodes.front().input).shape;
    // Wrapped layers keep the build_config layer3 gives them; functional_config_json writes the outer one.
    layer.layer = layer3(entry, build_shape, false, where);
    for (const char* key : {"module", "registered_name", "build_config"}) layer.layer.erase(key);
  }
  json result = functional_config_json(spec, FunctionalDialect::keras3, types);
  if (model.compiled()) result["compile_config"] = compile_config_json(model);
  return result;
}

}  // namespace

json model_config(const Model& model) {
  const std::string where = "cannot save model '" + model.name() + "' in Keras 3 format";
  if (!model.is_sequential()) return functional_model_config(model, where);
  const json keras2 = model.config();
  const json& layers = keras2.at("config").at("layers");
  json layers3 = json::array();
  // Sequential::config() lists the InputLayer first when the model declares its input shape (older versions
  // put the shape on the first layer instead); Keras 3 writes it as an InputLayer with batch_shape.
  const bool has_input_layer =
      !layers.empty() && layers[0].value("class_name", std::string()) == "InputLayer";
  const json* input_shape = nullptr;
  std::string input_name = "input_layer";
  if (has_input_layer) {
    input_shape = &layers[0].at("config").at("batch_input_shape");
    input_name = layers[0].at("config").value("name", input_name);
  } else if (!layers.empty() && layers[0].at("config").contains("batch_input_shape")) {
    input_shape = &layers[0].at("config").at("batch_input_shape");
  }
  if (input_shape != nullptr) {
    layers3.push_back(
        {{"module", "keras.layers"},
         {"class_name", "InputLayer"},
         {"config",
          {{"batch_shape", *input_shape}, {"dtype", "float32"}, {"sparse", false}, {"name", input_name}}},
         {"registered_name", nullptr}});
  }
  const std::size_t first = has_input_layer ? 1 : 0;
  check(layers.size() == model.size() + first, where, ": internal error: the config lists ", layers.size(),
        " layers for ", model.size());
  for (std::size_t i = first; i < layers.size(); ++i) {
    std::optional<Shape> shape;
    if (model.built()) shape = model.layer(i - first).input_shape();
    const auto* nested = dynamic_cast<const ModelLayer*>(&model.layer(i - first));
    layers3.push_back(nested ? model_config(nested->model()) : layer3(layers[i], shape, false, where));
  }
  json config{
      {"name", model.name()}, {"trainable", true}, {"dtype", dtype_policy("float32")}, {"layers", layers3}};
  json result{
      {"module", "keras"}, {"class_name", "Sequential"}, {"config", config}, {"registered_name", nullptr}};
  if (model.built()) {
    result["config"]["build_input_shape"] = shape_json(model.input_shape());
    result["build_config"] = {{"input_shape", shape_json(model.input_shape())}};
  }
  if (model.compiled()) result["compile_config"] = compile_config_json(model);
  return result;
}

void write_weights(h5::Writer& file, const Model& model) {
  write_optimizer_variables(file, model);  // Keras 3 saves a compiled model's optimizer with its weights
  file.group("/vars");                     // the model's own (none)
  const std::vector<std::string> paths = layer_paths(model, "/layers");
  for (std::size_t i = 0; i < model.size(); ++i) {
    const Layer& layer = model.layer(i);
    std::vector<VarsGroup> groups;
    layout(layer, paths[i], groups);
    const std::vector<Tensor> values = layer.get_weights();
    std::size_t next = 0;
    for (const VarsGroup& group : groups) {
      file.group(group.path);
      for (std::size_t k = 0; k < group.count; ++k)
        file.dataset(group.path + "/" + std::to_string(k), values.at(next++));
    }
  }
}

bool is_weights_file(const h5::Reader& file) {
  return file.kind("/layers") == h5::ObjectKind::kGroup || file.kind("/vars") == h5::ObjectKind::kGroup ||
         file.kind("/_layer_checkpoint_dependencies") == h5::ObjectKind::kGroup;
}

void load_weights(const h5::Reader& file, Model& model) {
  check(model.built(), file.what(), ": model '", model.name(),
        "' is not built, so its weight shapes are unknown: give it an input shape first");
  // tf.keras 2.13 wrote _layer_checkpoint_dependencies where Keras 3 writes layers (Keras's own fallback).
  std::string root = "/layers";
  if (file.kind(root) == h5::ObjectKind::kMissing &&
      file.kind("/_layer_checkpoint_dependencies") == h5::ObjectKind::kGroup)
    root = "/_layer_checkpoint_dependencies";
  const std::vector<std::string> paths = layer_paths(model, root);
  for (std::size_t i = 0; i < model.size(); ++i) {
    Layer& layer = model.layer(i);
    std::vector<VarsGroup> groups;
    layout(layer, paths[i], groups);
    const std::vector<Param*> params = layer.params();
    std::vector<Tensor> values;
    for (const VarsGroup& group : groups) {
      const h5::ObjectKind kind = file.kind(group.path);
      if (kind == h5::ObjectKind::kMissing && group.count == 0) continue;
      check(kind != h5::ObjectKind::kMissing, file.where(group.path), ": missing: layer '", layer.name(),
            "' (", layer.class_name(), ") has ", group.count, " weights there");
      check(kind == h5::ObjectKind::kGroup, file.where(group.path), ": expected a group of variables");
      const std::vector<std::string> names = file.children(group.path);
      check(names.size() == group.count, file.where(group.path), ": holds ", names.size(),
            " variables, layer '", layer.name(), "' (", layer.class_name(), ") expects ", group.count);
      for (std::size_t k = 0; k < group.count; ++k) {
        const Param& param = *params.at(values.size());
        const std::string path = group.path + "/" + std::to_string(k);
        // Room for a wrong shape to be read and reported as such, none for an absurd one.
        Tensor value = file.dataset(path, 2 * param.value.size() + 64);
        check(value.shape() == param.value.shape(), file.where(path), ": shape ", shape_string(value.shape()),
              ", but weight '", param.name, "' of layer '", layer.name(), "' (", layer.class_name(),
              ") has shape ", shape_string(param.value.shape()));
        values.push_back(std::move(value));
      }
    }
    try {
      layer.set_weights(values);
    } catch (const Error& error) {
      fail(file.what(), ": ", error.what());
    }
  }
  // Layers the file has beyond the model's.
  if (file.kind(root) == h5::ObjectKind::kGroup) {
    for (const std::string& name : file.children(root)) {
      bool known = false;
      for (const std::string& path : paths) known = known || path == root + "/" + name;
      // A Functional model's InputLayer is one of its layers; it has no weights.
      known = known || name == "input_layer" || name.starts_with("input_layer_");
      check(known, file.where(root + "/" + name), ": the file has weights for a layer model '", model.name(),
            "' does not have");
    }
  }
}

LoadedModel load_archive(const std::filesystem::path& path, const SequentialOptions& options) {
  const std::string what = quoted(path);
  const Archive archive =
      open_archive_file(path, ZIP_RDONLY, "cannot read " + what + " as a .keras (zip) archive");
  return naming_json_errors(what, [&] { return load_from_archive(archive.get(), what, options); });
}

LoadedModel load_archive_from_memory(std::string_view bytes, const std::string& what,
                                     const SequentialOptions& options) {
  const Archive archive = open_archive_memory(bytes, "cannot read " + what + " as a .keras (zip) archive");
  return naming_json_errors(what, [&] { return load_from_archive(archive.get(), what, options); });
}

bool is_keras_archive(const std::filesystem::path& path) {
  const Archive archive =
      open_archive_file(path, ZIP_RDONLY, "cannot read " + quoted(path) + " as a zip archive");
  return zip_name_locate(archive.get(), kConfigMember, 0) >= 0;
}

void load_archive_weights(Model& model, const std::filesystem::path& path) {
  const std::string what = quoted(path);
  const Archive archive =
      open_archive_file(path, ZIP_RDONLY, "cannot read " + what + " as a .keras (zip) archive");
  const std::optional<std::string> weights =
      read_member(archive.get(), kWeightsMember, what, kMaxWeightsMember);
  check(weights.has_value(), what,
        ": the archive has no model.weights.h5 (its members: ", member_names(archive.get()), ")");
  load_weights(h5::Reader::open_memory(*weights, what + " member " + kWeightsMember), model);
}

void save_archive(const Model& model, const std::filesystem::path& path, const ModelAssets& assets) {
  const std::string what = quoted(path);
  const std::string config = h5::python_json(model_config(model));
  // json.dumps({"keras_version": ..., "date_saved": ...}) in Keras's key order.
  const std::string metadata = "{\"keras_version\": \"" + std::string(kWrittenVersion) +
                               "\", \"date_saved\": \"" + date_saved() + "\"}";
  h5::Writer writer = h5::Writer::create_memory("member model.weights.h5 of " + what);
  write_weights(writer, model);
  const std::string weights = writer.close_to_bytes();
  write_file_atomically(path, [&](const std::filesystem::path& temporary) {
    Archive archive = open_archive_file(temporary, ZIP_CREATE | ZIP_TRUNCATE, "cannot write " + what);
    // Keras's order: metadata.json, config.json, model.weights.h5, then the assets.
    add_member(archive.get(), kMetadataMember, metadata, what);
    add_member(archive.get(), kConfigMember, config, what);
    add_member(archive.get(), kWeightsMember, weights, what);
    for (const auto& [name, bytes] : assets)
      add_member(archive.get(), (std::string(kAssetsFolder) + name).c_str(), bytes, what);
    if (zip_close(archive.get()) != 0) fail("cannot write ", what, ": ", zip_strerror(archive.get()));
    (void)archive.release();  // zip_close has freed it
  });
}

}  // namespace rnnkit::keras3
