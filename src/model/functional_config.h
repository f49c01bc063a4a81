// Keras Functional model configs of every era, read into and written from a neutral description of the graph.
#pragma once

#include <compare>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "rnnkit/tensor.h"

namespace rnnkit {

class Model;

// Output `tensor_index` of call `node_index` of a layer: Keras's [layer_name, node_index, tensor_index].
struct TensorReference {
  std::string layer;
  int node_index = 0;
  int tensor_index = 0;
  auto operator<=>(const TensorReference&) const = default;
};

// One call of a layer: its positional input (the main input), the further tensors of a layer called on a list
// (Attention's value, a merge layer's other inputs; what the Model does with them is its concern), and the
// initial states of an RNN.
struct NodeSpec {
  TensorReference input;
  std::vector<TensorReference> extra_inputs;
  std::vector<TensorReference> initial_state;
  // Keyword arguments that change what the call computes: Attention's use_causal_mask and
  // return_attention_scores ({"use_causal_mask": true}); empty for every other layer.
  nlohmann::json call_options = nlohmann::json::object();
  bool operator==(const NodeSpec&) const = default;
};

struct LayerSpec {
  // {"class_name": ..., "config": {...}} as layer_from_config takes it; a Keras 3 entry keeps its module,
  // registered_name and build_config.
  nlohmann::json layer;
  std::vector<NodeSpec> nodes;  // empty for an InputLayer
  bool operator==(const LayerSpec&) const = default;
};

struct FunctionalSpec {
  std::string name;
  std::vector<LayerSpec> layers;  // in the config's order (Keras's model.layers)
  std::vector<TensorReference> inputs, outputs;
  bool operator==(const FunctionalSpec&) const = default;
};

// Who wrote a config: Keras 1.x (3-element inbound entries), Keras 2.0-2.3 ("Model", 4-element entries),
// tf.keras 2.4+ ("Functional", 4-element entries), Keras 3 (args/kwargs nodes with __keras_tensor__).
enum class FunctionalDialect { keras1, keras2, tf_keras2, keras3 };

// Shape (batch first, kNone where free) and dtype of a tensor: what Keras 3 writes for each __keras_tensor__.
struct KerasTensorType {
  Shape shape;
  std::string dtype = "float32";
  bool operator==(const KerasTensorType&) const = default;
};
using KerasTensorTypes = std::map<TensorReference, KerasTensorType>;

// The layer name of a config entry, from its "name" or its config's "name".
std::string functional_layer_name(const nlohmann::json& layer);

// The dialect of a {"class_name": "Model" | "Functional", "config": {...}} config.
FunctionalDialect functional_dialect(const nlohmann::json& model, std::string_view where);

// Reads a Functional model config of any era; `where` names the file in errors. Keras 3 configs record each
// tensor's shape and dtype: they go into `types` when given. Errors name the layer and what is unsupported
// (keyword tensors other than initial_state, explicit mask tensors, constants).
FunctionalSpec parse_functional_config(const nlohmann::json& model, std::string_view where,
                                       KerasTensorTypes* types = nullptr);

// A Functional model's graph as a spec: model.layers with each layer's config (tf.keras 2 dialect) and its
// calls in the model, numbered per layer from 0 as Keras's get_config numbers them (calls made outside the
// model are left out). `types` gets the shape and dtype of every tensor of the graph when given.
FunctionalSpec functional_spec(const Model& model, KerasTensorTypes* types = nullptr);

// The config as tf.keras 2.11 (FunctionalDialect::tf_keras2) or Keras 3.6 (FunctionalDialect::keras3) writes
// it. The layer entries are written as given, so the caller gives them in that dialect; a Keras 3 entry
// without "module" gets module and registered_name, and a build_config from `types`. Keras 3 needs the type
// of every tensor a node reads (the error names the one missing).
nlohmann::json functional_config_json(const FunctionalSpec& spec, FunctionalDialect dialect,
                                      const KerasTensorTypes& types = {});

}  // namespace rnnkit
