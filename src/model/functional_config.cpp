#include "model/functional_config.h"

#include <algorithm>
#include <set>
#include <sstream>

#include "rnnkit/error.h"
#include "rnnkit/layers/attention.h"
#include "rnnkit/layers/dropout.h"
#include "rnnkit/model.h"

namespace rnnkit {
namespace {

using nlohmann::json;

std::string text(const TensorReference& tensor) {
  std::ostringstream out;
  out << "['" << tensor.layer << "', " << tensor.node_index << ", " << tensor.tensor_index << "]";
  return out.str();
}

std::string class_of(const json& layer) {
  return layer.contains("class_name") && layer["class_name"].is_string()
             ? layer["class_name"].get<std::string>()
             : std::string();
}

// Layers whose extra inbound tensors are initial states: Keras 2's RNN.__call__ and Bidirectional.__call__
// append them to the inputs (full_input = [inputs] + initial_state + constants).
bool takes_initial_state(const std::string& class_name) {
  static const std::set<std::string> kRecurrent{"SimpleRNN",  "LSTM",      "GRU",           "RNN",
                                                "CuDNNLSTM",  "CuDNNGRU",  "Bidirectional", "ConvLSTM1D",
                                                "ConvLSTM2D", "ConvLSTM3D"};
  return kRecurrent.contains(class_name);
}

// A null or false keyword argument is a default Keras records (use_causal_mask=False, ...), which changes
// nothing.
bool is_default_value(const json& value) {
  return value.is_null() || (value.is_boolean() && !value.get<bool>());
}

// One layer being read: the names every reference may use, and where errors point.
struct Reader {
  std::string where;
  FunctionalDialect dialect = FunctionalDialect::keras2;
  KerasTensorTypes* types = nullptr;
  std::set<std::string> layer_names;

  std::string at(const std::string& layer, const std::string& class_name) const {
    return where + " layer '" + layer + "' (" + class_name + ")";
  }

  // [name, node_index, tensor_index] (a 4th element, the call's kwargs, is the caller's).
  TensorReference triple(const json& value, const std::string& what) const {
    check(value.is_array() && value.size() >= 3 && value[0].is_string() && value[1].is_number_integer() &&
              value[2].is_number_integer(),
          what, ": expected [layer_name, node_index, tensor_index], got ", value.dump());
    TensorReference result{value[0].get<std::string>(), value[1].get<int>(), value[2].get<int>()};
    check(result.node_index >= 0 && result.tensor_index >= 0, what, ": negative index in ", value.dump());
    return result;
  }

  // A list of tensors: one [name, node, tensor] or a (nested) list of them, flattened as tf.nest.flatten
  // does.
  void triples(const json& value, const std::string& what, std::vector<TensorReference>& out) const {
    check(value.is_array(), what, ": expected a list of [layer_name, node_index, tensor_index], got ",
          value.dump());
    if (!value.empty() && value[0].is_string()) {
      out.push_back(triple(value, what));
      return;
    }
    for (const json& item : value) triples(item, what, out);
  }

  bool is_keras_tensor(const json& value) const {
    return value.is_object() && value.value("class_name", json()) == "__keras_tensor__";
  }

  // Keras 3's {"class_name": "__keras_tensor__", "config": {"shape", "dtype", "keras_history"}}.
  TensorReference keras_tensor(const json& value, const std::string& what) const {
    check(is_keras_tensor(value) && value.contains("config") && value["config"].is_object(), what,
          ": expected a __keras_tensor__, got ", value.dump());
    const json& config = value["config"];
    check(config.contains("keras_history") && !config["keras_history"].is_null(), what,
          ": a tensor without keras_history (made outside the model's layers): ", value.dump());
    TensorReference result = triple(config["keras_history"], what + " keras_history");
    if (types != nullptr && config.contains("shape") && config["shape"].is_array()) {
      KerasTensorType type;
      for (const json& extent : config["shape"]) {
        check(extent.is_null() || extent.is_number_integer(), what, ": bad shape ", config["shape"].dump());
        type.shape.push_back(extent.is_null() ? kNone : extent.get<std::int64_t>());
      }
      if (config.contains("dtype") && config["dtype"].is_string())
        type.dtype = config["dtype"].get<std::string>();
      (*types)[result] = type;
    }
    return result;
  }

  void keras_tensors(const json& value, const std::string& what, std::vector<TensorReference>& out) const {
    if (value.is_array()) {
      for (const json& item : value) keras_tensors(item, what, out);
    } else {
      out.push_back(keras_tensor(value, what));
    }
  }

  // Whether a mask argument is one Keras filled in itself (the input's own mask: no tensor of a model layer).
  bool implicit_mask(const json& mask) const {
    if (mask.is_null()) return true;
    if (mask.is_array()) {
      // tf.keras: [layer, node, tensor]; a list of masks otherwise.
      if (!mask.empty() && mask[0].is_string()) return !layer_names.contains(mask[0].get<std::string>());
      for (const json& item : mask)
        if (!implicit_mask(item)) return false;
      return true;
    }
    if (is_keras_tensor(mask)) {
      const json& history = mask["config"].value("keras_history", json());
      return !(history.is_array() && !history.empty() && history[0].is_string() &&
               layer_names.contains(history[0].get<std::string>()));
    }
    return false;
  }

  // The call's keyword arguments: training is ignored, an implicit mask accepted, initial_state read, and an
  // attention layer's use_causal_mask and return_attention_scores kept in the node's call_options.
  void keywords(const json& kwargs, const std::string& at, bool keras3, const std::string& class_name,
                NodeSpec& node) const {
    check(kwargs.is_object(), at, ": the call's kwargs are not an object: ", kwargs.dump());
    const bool attention = class_name == "Attention" || class_name == "AdditiveAttention";
    for (const auto& [key, value] : kwargs.items()) {
      if (key == "training") continue;  // the phase is the model's, not the config's
      if (attention && (key == "use_causal_mask" || key == "return_attention_scores")) {
        check(value.is_boolean(), at, ": kwarg '", key, "' must be true or false, received ", value.dump());
        node.call_options[key] = value;
      } else if (key == "mask") {
        check(implicit_mask(value), at, ": called with an explicit mask tensor (", value.dump(),
              "), which rnnkit does not support: masks come from the layers that make them");
      } else if (key == "initial_state") {
        if (keras3)
          keras_tensors(value, at + " kwarg 'initial_state'", node.initial_state);
        else
          triples(value, at + " kwarg 'initial_state'", node.initial_state);
      } else if (key == "constants") {
        fail(at, ": called with constants, which rnnkit's RNNs do not take");
      } else {
        const bool tensor = keras3 ? is_keras_tensor(value) ||
                                         (value.is_array() && !value.empty() && is_keras_tensor(value[0]))
                                   : value.is_array() && value.size() >= 3 && value[0].is_string();
        check(!tensor, at, ": called with the keyword tensor '", key, "', which rnnkit does not support");
        check(is_default_value(value), at, ": called with the keyword argument ", key, "=", value.dump(),
              ", which rnnkit does not support");
      }
    }
  }

  // Keras 1/2 and tf.keras: [[name, node, tensor(, kwargs)], ...], the first the input; tf.keras may nest.
  NodeSpec list_node(const json& node, const std::string& class_name, const std::string& at) const {
    std::vector<const json*> entries;
    const auto flatten = [&](const auto& self, const json& value) -> void {
      check(value.is_array(), at, ": an inbound node must be a list of [layer, node, tensor, kwargs], got ",
            value.dump());
      if (!value.empty() && value[0].is_string()) {
        entries.push_back(&value);
        return;
      }
      for (const json& item : value) self(self, item);
    };
    flatten(flatten, node);
    check(!entries.empty(), at, ": an inbound node with no tensors");
    std::vector<TensorReference> tensors;
    for (const json* entry : entries) {
      check(entry->size() == 3 || entry->size() == 4, at,
            ": an inbound entry must have 3 or 4 elements, got ", entry->dump());
      check((*entry)[0] != "_CONSTANT_VALUE", at, ": called on a constant (", entry->dump(),
            "), which rnnkit does not support");
      tensors.push_back(triple(*entry, at));
    }
    NodeSpec result;
    result.input = tensors.front();
    // tf.keras writes the same kwargs on every entry; Keras 2 too.
    const json& first = *entries.front();
    if (first.size() == 4) keywords(first[3], at, false, class_name, result);
    std::vector<TensorReference> rest(tensors.begin() + 1, tensors.end());
    if (takes_initial_state(class_name)) {
      check(rest.empty() || result.initial_state.empty(), at,
            ": initial states given both as inbound tensors and as the initial_state kwarg");
      if (!rest.empty()) result.initial_state = rest;
    } else {
      check(result.initial_state.empty(), at, ": an initial_state for a layer that is not an RNN");
      result.extra_inputs = rest;
    }
    return result;
  }

  // Keras 3: {"args": [tensor or [tensors]], "kwargs": {...}}.
  NodeSpec keras3_node(const json& node, const std::string& class_name, const std::string& at) const {
    const json& args = node.at("args");
    check(args.is_array() && !args.empty(), at, ": a node's args must be a non-empty list, got ",
          args.dump());
    check(args.size() == 1, at, ": called with ", args.size(),
          " positional arguments, which rnnkit does not support (one input, or one list of inputs)");
    std::vector<TensorReference> inputs;
    if (args[0].is_array()) {
      check(!args[0].empty(), at, ": called on an empty list");
      for (const json& item : args[0]) inputs.push_back(keras_tensor(item, at));
    } else {
      inputs.push_back(keras_tensor(args[0], at));
    }
    NodeSpec result;
    result.input = inputs.front();
    result.extra_inputs.assign(inputs.begin() + 1, inputs.end());
    if (node.contains("kwargs")) keywords(node["kwargs"], at, true, class_name, result);
    check(result.initial_state.empty() || takes_initial_state(class_name), at,
          ": an initial_state for a layer that is not an RNN");
    return result;
  }
};

// input_layers / output_layers: a flat [name, node, tensor] (Keras 3, one tensor) or a list of them.
std::vector<TensorReference> model_tensors(const Reader& reader, const json& config, const char* key) {
  const std::string what = reader.where + " field '" + key + "'";
  check(config.contains(key), what, ": missing");
  const json& value = config[key];
  check(!value.is_object(), what, ": a dict of model inputs or outputs, which rnnkit does not support");
  std::vector<TensorReference> result;
  reader.triples(value, what, result);
  check(!result.empty(), what, ": empty");
  return result;
}

json triple_json(const TensorReference& tensor) {
  return json::array({tensor.layer, tensor.node_index, tensor.tensor_index});
}

// Keras numbers the calls of a nested model from 1 where the model was built before it was called: its own
// graph is its node 0, which the config leaves out (tf.keras's _should_skip_first_node: a Functional model,
// or a Sequential whose first layer is an InputLayer; Keras 2's "pre-existing node" of a Network). Keras 3
// does so for a Functional model only: its Sequential has no node of its own. rnnkit numbers every layer's
// calls from 0; these are the offsets to and from a file's numbers.
std::map<std::string, int> node_offsets(const std::vector<LayerSpec>& layers, FunctionalDialect dialect) {
  std::map<std::string, int> offsets;
  for (const LayerSpec& layer : layers) {
    const std::string class_name = class_of(layer.layer);
    bool built_model = class_name == "Functional" || class_name == "Model";
    if (class_name == "Sequential" && dialect != FunctionalDialect::keras3) {
      const json& config = layer.layer.value("config", json());
      const json& inner = config.is_array()    ? config
                          : config.is_object() ? config.value("layers", json())
                                               : json();
      if (inner.is_array() && !inner.empty() && inner[0].is_object()) {
        const json& first_config = inner[0].value("config", json());
        built_model = class_of(inner[0]) == "InputLayer" ||
                      (first_config.is_object() &&
                       (first_config.contains("batch_input_shape") || first_config.contains("batch_shape")));
      }
    }
    if (built_model) offsets[functional_layer_name(layer.layer)] = 1;
  }
  return offsets;
}

// Adds `sign` times its layer's offset to the node index of every reference of `spec` (and the keys of
// `types`); `where` names the config for a reference below the first index.
void renumber(FunctionalSpec& spec, KerasTensorTypes* types, const std::map<std::string, int>& offsets,
              int sign, const std::string& where) {
  if (offsets.empty()) return;
  const auto shift = [&](TensorReference& tensor) {
    const auto found = offsets.find(tensor.layer);
    if (found == offsets.end()) return;
    check(tensor.node_index + sign * found->second >= 0, where, " reads ", text(tensor),
          ", but the calls of '", tensor.layer,
          "', a nested model built before it was called, are numbered from ", found->second);
    tensor.node_index += sign * found->second;
  };
  for (LayerSpec& layer : spec.layers)
    for (NodeSpec& node : layer.nodes) {
      shift(node.input);
      for (TensorReference& tensor : node.extra_inputs) shift(tensor);
      for (TensorReference& tensor : node.initial_state) shift(tensor);
    }
  for (TensorReference& tensor : spec.inputs) shift(tensor);
  for (TensorReference& tensor : spec.outputs) shift(tensor);
  if (types == nullptr) return;
  KerasTensorTypes renumbered;
  for (const auto& [key, type] : *types) {
    TensorReference tensor = key;
    const auto found = offsets.find(tensor.layer);
    if (found != offsets.end()) tensor.node_index += sign * found->second;
    renumbered[tensor] = type;
  }
  *types = std::move(renumbered);
}

json shape_json(const Shape& shape) {
  json result = json::array();
  for (const std::int64_t extent : shape) result.push_back(extent == kNone ? json(nullptr) : json(extent));
  return result;
}

const KerasTensorType& type_of(const KerasTensorTypes& types, const TensorReference& tensor,
                               const std::string& where) {
  const auto found = types.find(tensor);
  check(found != types.end(), where, ": no shape for the tensor ", text(tensor),
        " (Keras 3 writes the shape of every tensor a layer reads)");
  return found->second;
}

json keras_tensor_json(const KerasTensorTypes& types, const TensorReference& tensor,
                       const std::string& where) {
  const KerasTensorType& type = type_of(types, tensor, where);
  return {
      {"class_name", "__keras_tensor__"},
      {"config",
       {{"shape", shape_json(type.shape)}, {"dtype", type.dtype}, {"keras_history", triple_json(tensor)}}}};
}

// The kwargs Keras 3.6's Layer.__call__ records for rnnkit's layers: a `training` argument whose signature
// default is not None, and the `mask` it fills in when the call has one tensor argument.
json keras3_kwargs(const std::string& class_name, const json& states) {
  const bool rnn =
      class_name == "SimpleRNN" || class_name == "LSTM" || class_name == "GRU" || class_name == "RNN";
  json kwargs = json::object();
  if (!states.empty()) kwargs["initial_state"] = states;
  if (rnn || class_name == "Dropout" || class_name == "SpatialDropout1D") kwargs["training"] = false;
  if (states.empty() && (rnn || class_name == "Bidirectional" || class_name == "TimeDistributed" ||
                         class_name == "BatchNormalization"))
    kwargs["mask"] = nullptr;
  return kwargs;
}

// build_config of a Keras 3 layer from its first call: one shape, a list of shapes for a list input, or the
// shapes_dict of an RNN called with initial_state (build(sequences_shape, initial_state_shape)).
json keras3_build_config(const NodeSpec& node, const KerasTensorTypes& types, const std::string& where) {
  const json input = shape_json(type_of(types, node.input, where).shape);
  if (!node.initial_state.empty()) {
    json states = json::array();
    for (const TensorReference& state : node.initial_state)
      states.push_back(shape_json(type_of(types, state, where).shape));
    return {{"shapes_dict", {{"sequences_shape", input}, {"initial_state_shape", states}}}};
  }
  if (!node.extra_inputs.empty()) {
    json shapes = json::array({input});
    for (const TensorReference& extra : node.extra_inputs)
      shapes.push_back(shape_json(type_of(types, extra, where).shape));
    return {{"input_shape", shapes}};
  }
  return {{"input_shape", input}};
}

}  // namespace

std::string functional_layer_name(const json& layer) {
  if (layer.contains("name") && layer["name"].is_string()) return layer["name"].get<std::string>();
  if (layer.contains("config") && layer["config"].is_object() && layer["config"].contains("name") &&
      layer["config"]["name"].is_string())
    return layer["config"]["name"].get<std::string>();
  return {};
}

FunctionalDialect functional_dialect(const json& model, std::string_view where) {
  check(model.is_object() && model.contains("config") && model["config"].is_object(), where,
        ": expected a model config {\"class_name\": ..., \"config\": {...}}");
  const json& layers = model["config"].value("layers", json::array());
  if (layers.is_array()) {
    for (const json& layer : layers) {
      if (!layer.is_object() || !layer.contains("inbound_nodes") || !layer["inbound_nodes"].is_array())
        continue;
      for (const json& node : layer["inbound_nodes"]) {
        if (node.is_object()) return FunctionalDialect::keras3;
        if (node.is_array() && !node.empty() && node[0].is_array() && node[0].size() == 3)
          return FunctionalDialect::keras1;
      }
    }
  }
  if (model.contains("module") || model.contains("registered_name")) return FunctionalDialect::keras3;
  return class_of(model) == "Functional" ? FunctionalDialect::tf_keras2 : FunctionalDialect::keras2;
}

FunctionalSpec parse_functional_config(const json& model, std::string_view where, KerasTensorTypes* types) {
  Reader reader;
  reader.where = std::string(where);
  reader.types = types;
  const std::string class_name = class_of(model);
  check(class_name == "Model" || class_name == "Functional", where,
        ": expected a Functional model config (class_name \"Model\" or \"Functional\"), got class_name '",
        class_name, "'");
  reader.dialect = functional_dialect(model, where);
  const json& config = model["config"];
  check(config.contains("layers") && config["layers"].is_array(), where,
        ": the config has no list of layers");

  FunctionalSpec spec;
  spec.name =
      config.contains("name") && config["name"].is_string() ? config["name"].get<std::string>() : "model";
  for (const json& entry : config["layers"]) {
    check(entry.is_object(), where, ": a layer entry is not an object: ", entry.dump());
    const std::string name = functional_layer_name(entry);
    check(!name.empty(), where, ": a layer entry without a name: ", entry.dump().substr(0, 200));
    check(reader.layer_names.insert(name).second, where, ": two layers are named '", name, "'");
  }

  std::map<std::string, std::size_t> node_counts;
  std::map<std::string, std::string> classes;
  for (const json& entry : config["layers"]) {
    const std::string name = functional_layer_name(entry);
    const std::string layer_class = class_of(entry);
    const std::string at = reader.at(name, layer_class);
    check(!layer_class.empty() && entry.contains("config"), at, ": expected {\"class_name\", \"config\"}");
    if (takes_initial_state(layer_class) && entry["config"].is_object()) {
      const json& constants = entry["config"].value("num_constants", json());
      check(constants.is_null() || constants == 0, at,
            ": an RNN with constants, which rnnkit does not support");
    }
    LayerSpec layer;
    layer.layer = entry;
    layer.layer.erase("name");
    layer.layer.erase("inbound_nodes");
    const json& nodes = entry.value("inbound_nodes", json::array());
    check(nodes.is_array(), at, ": inbound_nodes is not a list");
    for (const json& node : nodes) {
      const std::string node_at = at + " node " + std::to_string(layer.nodes.size());
      if (node.is_object())
        layer.nodes.push_back(reader.keras3_node(node, layer_class, node_at));
      else
        layer.nodes.push_back(reader.list_node(node, layer_class, node_at));
    }
    if (layer_class == "InputLayer") {
      check(layer.nodes.empty(), at, ": an InputLayer with inbound nodes");
      node_counts[name] = 1;  // the node Input() made
    } else {
      node_counts[name] = layer.nodes.size();
    }
    classes[name] = layer_class;
    spec.layers.push_back(std::move(layer));
  }

  spec.inputs = model_tensors(reader, config, "input_layers");
  spec.outputs = model_tensors(reader, config, "output_layers");
  renumber(spec, types, node_offsets(spec.layers, reader.dialect), -1, reader.where);
  const auto resolve = [&](const TensorReference& tensor, const std::string& what) {
    const auto count = node_counts.find(tensor.layer);
    check(count != node_counts.end(), what, " reads ", text(tensor), ", but there is no layer '",
          tensor.layer, "'");
    check(static_cast<std::size_t>(tensor.node_index) < count->second, what, " reads ", text(tensor),
          ", but layer '", tensor.layer, "' has ", count->second, " node(s)");
  };
  for (std::size_t l = 0; l < spec.layers.size(); ++l) {
    const LayerSpec& layer = spec.layers[l];
    const std::string at = reader.at(functional_layer_name(config["layers"][l]), class_of(layer.layer));
    for (std::size_t i = 0; i < layer.nodes.size(); ++i) {
      const std::string node_at = at + " node " + std::to_string(i);
      const NodeSpec& node = layer.nodes[i];
      resolve(node.input, node_at);
      for (const TensorReference& tensor : node.extra_inputs) resolve(tensor, node_at);
      for (const TensorReference& tensor : node.initial_state) resolve(tensor, node_at);
    }
  }
  for (const TensorReference& input : spec.inputs) {
    resolve(input, reader.where + " input_layers");
    check(classes[input.layer] == "InputLayer", where, " input_layers: '", input.layer,
          "' is not an InputLayer (", classes[input.layer], ")");
  }
  for (const TensorReference& output : spec.outputs) resolve(output, reader.where + " output_layers");
  return spec;
}

FunctionalSpec functional_spec(const Model& model, KerasTensorTypes* types) {
  std::map<const GraphNode*, int> number;
  for (const auto& layer : model.layers()) {
    std::vector<const GraphNode*> calls;
    for (const auto& node : model.nodes())
      if (node->layer == layer) calls.push_back(node.get());
    std::ranges::sort(calls,
                      [](const GraphNode* a, const GraphNode* b) { return a->node_index < b->node_index; });
    for (std::size_t i = 0; i < calls.size(); ++i) number[calls[i]] = static_cast<int>(i);
  }
  const auto reference = [&](const SymbolicTensor& tensor) {
    return TensorReference{tensor.layer().name(), number.at(&tensor.node()),
                           static_cast<int>(tensor.index())};
  };
  FunctionalSpec spec;
  spec.name = model.name();
  for (const auto& layer : model.layers()) {
    LayerSpec entry;
    entry.layer = {{"class_name", layer->class_name()}, {"config", layer->config()}};
    std::vector<const GraphNode*> calls;
    for (const auto& node : model.nodes())
      if (node->layer == layer && !node->is_input()) calls.push_back(node.get());
    std::ranges::sort(calls, [&](const GraphNode* a, const GraphNode* b) { return number[a] < number[b]; });
    for (const GraphNode* node : calls) {
      NodeSpec call{reference(node->inputs[0]), {}, {}};
      for (const SymbolicTensor& more : node->more_inputs()) call.extra_inputs.push_back(reference(more));
      for (const SymbolicTensor& state : node->initial_state())
        call.initial_state.push_back(reference(state));
      if (const auto* attention = dynamic_cast<const DenseAttention*>(layer.get())) {
        if (attention->call_options().use_causal_mask) call.call_options["use_causal_mask"] = true;
        if (attention->call_options().return_attention_scores)
          call.call_options["return_attention_scores"] = true;
      }
      entry.nodes.push_back(std::move(call));
    }
    spec.layers.push_back(std::move(entry));
  }
  for (const SymbolicTensor& input : model.inputs()) spec.inputs.push_back(reference(input));
  for (const SymbolicTensor& output : model.outputs()) spec.outputs.push_back(reference(output));
  if (types != nullptr) {
    for (const auto& node : model.nodes()) {
      const auto* input = dynamic_cast<const InputLayer*>(node->layer.get());
      for (std::size_t i = 0; i < node->output_shapes.size(); ++i)
        (*types)[TensorReference{node->layer->name(), number.at(node.get()), static_cast<int>(i)}] =
            KerasTensorType{node->output_shapes[i], input != nullptr ? input->dtype() : "float32"};
    }
  }
  return spec;
}

json functional_config_json(const FunctionalSpec& given, FunctionalDialect dialect,
                            const KerasTensorTypes& given_types) {
  const bool keras3 = dialect == FunctionalDialect::keras3;
  check(keras3 || dialect == FunctionalDialect::tf_keras2, "model '", given.name,
        "': Functional configs are written as tf.keras 2.11 or Keras 3 writes them, not older dialects");
  FunctionalSpec spec = given;
  KerasTensorTypes types = given_types;
  renumber(spec, &types, node_offsets(spec.layers, dialect), 1, "model '" + spec.name + "'");
  json layers = json::array();
  for (const LayerSpec& layer : spec.layers) {
    const std::string class_name = class_of(layer.layer);
    const std::string name = functional_layer_name(layer.layer);
    const std::string at =
        "cannot write model '" + spec.name + "': layer '" + name + "' (" + class_name + ")";
    check(!name.empty(), "cannot write model '", spec.name, "': a layer config without a name");
    json entry = layer.layer;
    json nodes = json::array();
    for (const NodeSpec& node : layer.nodes) {
      check(node.initial_state.empty() || takes_initial_state(class_name), at,
            ": an initial_state for a layer that is not an RNN");
      if (keras3) {
        json inputs = json::array();
        inputs.push_back(keras_tensor_json(types, node.input, at));
        for (const TensorReference& extra : node.extra_inputs)
          inputs.push_back(keras_tensor_json(types, extra, at));
        json states = json::array();
        for (const TensorReference& state : node.initial_state)
          states.push_back(keras_tensor_json(types, state, at));
        json kwargs = keras3_kwargs(class_name, states);
        kwargs.update(node.call_options);
        nodes.push_back(
            {{"args", json::array({node.extra_inputs.empty() ? inputs[0] : inputs})}, {"kwargs", kwargs}});
      } else {
        // tf.keras 2.11: RNN.__call__ calls the layer on [inputs] + initial_state, and Node.serialize writes
        // each tensor of that first argument as [layer, node, tensor, kwargs].
        check(node.extra_inputs.empty() || !takes_initial_state(class_name), at,
              ": an RNN called on a list of inputs, which tf.keras 2 reads as initial states");
        json data = json::array();
        const auto add = [&](const TensorReference& tensor) {
          data.push_back({tensor.layer, tensor.node_index, tensor.tensor_index, node.call_options});
        };
        add(node.input);
        for (const TensorReference& extra : node.extra_inputs) add(extra);
        for (const TensorReference& state : node.initial_state) add(state);
        nodes.push_back(data);
      }
    }
    if (keras3 && !entry.contains("module")) {
      entry["module"] = "keras.layers";
      entry["registered_name"] = nullptr;
      if (!layer.nodes.empty()) entry["build_config"] = keras3_build_config(layer.nodes.front(), types, at);
    }
    entry["name"] = name;
    entry["inbound_nodes"] = nodes;
    layers.push_back(std::move(entry));
  }
  const auto tensors = [&](const std::vector<TensorReference>& list) {
    json result = json::array();
    for (const TensorReference& tensor : list) result.push_back(triple_json(tensor));
    // Keras 3's map_tensors writes a lone tensor flat; tf.keras wraps it in a list.
    return keras3 && result.size() == 1 ? result[0] : result;
  };
  if (!keras3) {
    return {{"class_name", "Functional"},
            {"config",
             {{"name", spec.name},
              {"layers", layers},
              {"input_layers", tensors(spec.inputs)},
              {"output_layers", tensors(spec.outputs)}}}};
  }
  return {{"module", "keras.src.models.functional"},
          {"class_name", "Functional"},
          {"config",
           {{"name", spec.name},
            {"trainable", true},
            {"layers", layers},
            {"input_layers", tensors(spec.inputs)},
            {"output_layers", tensors(spec.outputs)}}},
          {"registered_name", "Functional"},
          {"build_config", {{"input_shape", nullptr}}}};
}

}  // namespace rnnkit
