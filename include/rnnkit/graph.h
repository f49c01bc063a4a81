// SymbolicTensor and GraphNode: the graph a Functional model is made of, as Keras's KerasTensor and Node.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "rnnkit/tensor.h"

namespace rnnkit {

class InputLayer;
class Layer;
struct GraphNode;

// A tensor of a graph being built: output `index()` of a layer call (or of an Input), with its shape but no
// values. Calling a layer on it adds a node; a Model is made from input and output SymbolicTensors.
class SymbolicTensor {
 public:
  SymbolicTensor(std::shared_ptr<const GraphNode> node, std::size_t index);

  // Batch first, kNone where free.
  const Shape& shape() const;
  const GraphNode& node() const { return *node_; }
  const std::shared_ptr<const GraphNode>& node_pointer() const { return node_; }
  std::size_t index() const { return index_; }
  // The layer that made it (an InputLayer for a model input).
  const Layer& layer() const;
  // Keras's "lstm_1/PartitionedCall:1"-free name for messages: "lstm_1[0][1]" (layer, node index, output).
  std::string description() const;

  friend bool operator==(const SymbolicTensor& a, const SymbolicTensor& b) {
    return a.node_ == b.node_ && a.index_ == b.index_;
  }

 private:
  std::shared_ptr<const GraphNode> node_;
  std::size_t index_;
};

// One call of a layer on symbolic tensors (Keras's Node). A layer called twice has two nodes and one set of
// weights.
struct GraphNode {
  std::shared_ptr<Layer> layer;        // an InputLayer for a model input
  // The main input, then the initial_state tensors; or the list a ListInputLayer is called on; none for an Input.
  std::vector<SymbolicTensor> inputs;
  std::vector<Shape> output_shapes;
  int node_index = 0;        // which call of the layer this is, counting every call made (Keras's node_index)
  bool input_list = false;  // a call on a list: every input is one of the list's tensors

  bool is_input() const { return inputs.empty(); }
  // The initial_state tensors: inputs after the first, for a call that is not on a list.
  std::vector<SymbolicTensor> initial_state() const {
    if (input_list) return {};
    return {inputs.begin() + (inputs.empty() ? 0 : 1), inputs.end()};
  }
  // The tensors of a call on a list after its first; none otherwise.
  std::vector<SymbolicTensor> more_inputs() const {
    if (!input_list) return {};
    return {inputs.begin() + 1, inputs.end()};
  }
};

// What a layer call on a SymbolicTensor returns: one tensor, or several (return_state, merge_mode=None).
// Converts to one SymbolicTensor where the call gave exactly one.
class LayerOutputs {
 public:
  explicit LayerOutputs(std::vector<SymbolicTensor> tensors) : tensors_(std::move(tensors)) {}
  operator SymbolicTensor() const;  // NOLINT(google-explicit-constructor): Keras returns the tensor itself
  operator std::vector<SymbolicTensor>() const { return tensors_; }  // NOLINT(google-explicit-constructor)
  const SymbolicTensor& operator[](std::size_t index) const;
  std::size_t size() const { return tensors_.size(); }
  auto begin() const { return tensors_.begin(); }
  auto end() const { return tensors_.end(); }
  // The tensors after the first: a recurrent layer's states with return_state.
  std::vector<SymbolicTensor> states() const { return {tensors_.begin() + 1, tensors_.end()}; }

 private:
  std::vector<SymbolicTensor> tensors_;
};

// Keras's keyword tensors of a call.
struct SymbolicCallArgs {
  std::vector<SymbolicTensor> initial_state{};  // recurrent layers: (B,U) each, in the layer's state order
};

struct InputOptions {
  std::string name{};  // "input_1", "input_2", ... when empty
  std::optional<std::int64_t> batch_size{};
  std::string dtype = "float32";  // "int32" for token ids is accepted; values are held as float32
};

// keras.Input(shape): a model input (shape without the batch dimension). It can also be the first thing
// added to a Sequential.
SymbolicTensor Input(Shape shape, const InputOptions& options = {});
// The tensor an existing InputLayer makes (its batch shape, name and dtype): a model read from a config.
SymbolicTensor input_tensor(std::shared_ptr<InputLayer> layer);

}  // namespace rnnkit
