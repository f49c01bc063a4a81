#include "rnnkit/graph.h"

#include "rnnkit/error.h"
#include "rnnkit/layer.h"
#include "rnnkit/layers/dropout.h"
#include "rnnkit/model_layer.h"

namespace rnnkit {
namespace {

// FNV-1a: a layer built by a symbolic call draws its initial weights from its own name, so that a graph
// built twice in fresh sessions gets the same weights, and two layers of one graph different ones.
std::uint64_t seed_from_name(std::string_view name) {
  std::uint64_t hash = 14695981039346656037ULL;
  for (unsigned char c : name) hash = (hash ^ c) * 1099511628211ULL;
  return hash;
}

// Keras's node index of a layer's first call: 1 for a model used as a layer, whose own graph is its node 0
// (tf.keras's summary shows "model[1][0]"), 0 for every other layer.
int first_node_index(const Layer& layer) {
  return dynamic_cast<const ModelLayer*>(&layer) != nullptr ? 1 : 0;
}

}  // namespace

SymbolicTensor::SymbolicTensor(std::shared_ptr<const GraphNode> node, std::size_t index)
    : node_(std::move(node)), index_(index) {
  check(node_ != nullptr && index_ < node_->output_shapes.size(),
        "a symbolic tensor needs a node with output ", index_);
}

const Shape& SymbolicTensor::shape() const {
  return node_->output_shapes[index_];
}

const Layer& SymbolicTensor::layer() const {
  return *node_->layer;
}

std::string SymbolicTensor::description() const {
  return node_->layer->name() + "[" + std::to_string(node_->node_index) + "][" + std::to_string(index_) + "]";
}

LayerOutputs::operator SymbolicTensor() const {
  check(tensors_.size() == 1, "this call gave ", tensors_.size(),
        " tensors (return_state or merge_mode=None); take one with [i]");
  return tensors_[0];
}

const SymbolicTensor& LayerOutputs::operator[](std::size_t index) const {
  check(index < tensors_.size(), "this call gave ", tensors_.size(), " tensors, no tensor ", index);
  return tensors_[index];
}

SymbolicTensor Input(Shape shape, const InputOptions& options) {
  check(options.dtype == "float32" || options.dtype == "int32" || options.dtype == "int64", "Input '",
        options.name, "': dtype '", options.dtype, "' is not supported (float32, int32 or int64)");
  return input_tensor(std::make_shared<InputLayer>(
      InputSpec{.input_shape = std::move(shape), .batch_size = options.batch_size}, options.name,
      options.dtype));
}

SymbolicTensor input_tensor(std::shared_ptr<InputLayer> layer) {
  check(layer != nullptr, "input_tensor needs an InputLayer");
  const Shape batch_shape = *layer->declared_batch_input_shape();
  Rng unused;
  layer->build(batch_shape, unused);
  auto node = std::make_shared<GraphNode>(GraphNode{std::move(layer), {}, {batch_shape}, 0});
  return SymbolicTensor(std::move(node), 0);
}

LayerOutputs Layer::operator()(const SymbolicTensor& x, const SymbolicCallArgs& args) & {
  std::shared_ptr<Layer> self = weak_from_this().lock();
  check(self != nullptr, where(),
        " is called on a symbolic tensor but is not held by a std::shared_ptr: call a temporary (",
        class_name(),
        "(...)(x)), or make the layer with std::make_shared to call it more than once (a shared layer)");
  Rng rng(seed_from_name(name()));
  return call_symbolic(self, x, args, rng);
}

LayerOutputs Layer::operator()(const SymbolicTensor& x, const SymbolicCallArgs& args) && {
  std::shared_ptr<Layer> self = weak_from_this().lock();
  if (self == nullptr) self = clone();
  Rng rng(seed_from_name(name()));
  return call_symbolic(self, x, args, rng);
}

LayerOutputs Layer::operator()(const std::vector<SymbolicTensor>& inputs) & {
  std::shared_ptr<Layer> self = weak_from_this().lock();
  check(self != nullptr, where(),
        " is called on symbolic tensors but is not held by a std::shared_ptr: call a temporary (",
        class_name(), "(...)({a, b})), or make the layer with std::make_shared to call it more than once");
  Rng rng(seed_from_name(name()));
  return call_symbolic(self, inputs, rng);
}

LayerOutputs Layer::operator()(const std::vector<SymbolicTensor>& inputs) && {
  std::shared_ptr<Layer> self = weak_from_this().lock();
  if (self == nullptr) self = clone();
  Rng rng(seed_from_name(name()));
  return call_symbolic(self, inputs, rng);
}

LayerOutputs Layer::operator()(std::initializer_list<SymbolicTensor> inputs) & {
  if (!takes_input_list() && inputs.size() == 1) return (*this)(*inputs.begin());
  return (*this)(std::vector<SymbolicTensor>(inputs));
}

LayerOutputs Layer::operator()(std::initializer_list<SymbolicTensor> inputs) && {
  if (!takes_input_list() && inputs.size() == 1) return std::move(*this)(*inputs.begin());
  return std::move(*this)(std::vector<SymbolicTensor>(inputs));
}

LayerOutputs Layer::operator()(const LayerOutputs& x, const SymbolicCallArgs& args) & {
  check(!takes_input_list() || args.initial_state.empty(), where(), " takes no initial_state");
  if (takes_input_list()) return (*this)(std::vector<SymbolicTensor>(x));
  return (*this)(SymbolicTensor(x), args);
}

LayerOutputs Layer::operator()(const LayerOutputs& x, const SymbolicCallArgs& args) && {
  check(!takes_input_list() || args.initial_state.empty(), where(), " takes no initial_state");
  if (takes_input_list()) return std::move(*this)(std::vector<SymbolicTensor>(x));
  return std::move(*this)(SymbolicTensor(x), args);
}

LayerOutputs Layer::call_symbolic(const std::shared_ptr<Layer>& layer, const std::vector<SymbolicTensor>& inputs,
                                  Rng& rng, std::optional<int> node_index) {
  check(layer != nullptr, "a symbolic call needs a layer");
  auto* list_layer = dynamic_cast<ListInputLayer*>(layer.get());
  check(list_layer != nullptr, layer->where(), " is called on one tensor, not on a list of ", inputs.size());
  std::vector<Shape> shapes;
  for (const SymbolicTensor& input : inputs) shapes.push_back(input.shape());
  list_layer->build_list(shapes, rng);
  auto node = std::make_shared<GraphNode>();
  node->layer = layer;
  node->inputs = inputs;
  node->output_shapes = list_layer->list_output_shapes(shapes);
  node->node_index = (node_index ? *node_index : layer->next_node_index_++) + first_node_index(*layer);
  node->input_list = true;
  std::vector<SymbolicTensor> outputs;
  for (std::size_t i = 0; i < node->output_shapes.size(); ++i) outputs.emplace_back(node, i);
  return LayerOutputs(std::move(outputs));
}

LayerOutputs Layer::call_symbolic(const std::shared_ptr<Layer>& layer, const SymbolicTensor& x,
                                  const SymbolicCallArgs& args, Rng& rng, std::optional<int> node_index) {
  check(layer != nullptr, "a symbolic call needs a layer");
  check(dynamic_cast<const InputLayer*>(layer.get()) == nullptr, layer->where(),
        ": an InputLayer is not called on tensors; use rnnkit::Input(shape)");
  check(!layer->takes_input_list(), layer->where(), " is called on a list of tensors ({a, b}), not on one");
  if (!args.initial_state.empty()) {
    const std::size_t expected = layer->initial_state_count();
    check(expected > 0, layer->where(), " takes no initial_state");
    check(args.initial_state.size() == expected, layer->where(), " takes ", expected,
          " initial state tensor(s), received ", args.initial_state.size());
  }
  layer->build(x.shape(), rng);
  std::vector<Shape> output_shapes = layer->compute_output_shapes(x.shape());
  if (!args.initial_state.empty()) {
    // Every state is (batch, units), as the layer's last output without return_sequences.
    const Shape& state_shape = output_shapes.back();
    for (const SymbolicTensor& state : args.initial_state)
      check(
          state.shape().size() == 2 && (state.shape()[1] == state_shape.back() || state.shape()[1] == kNone),
          layer->where(), ": an initial state must have shape (batch, ", state_shape.back(), "), received ",
          shape_string(state.shape()), " from ", state.description());
  }
  auto node = std::make_shared<GraphNode>();
  node->layer = layer;
  node->inputs.push_back(x);
  node->inputs.insert(node->inputs.end(), args.initial_state.begin(), args.initial_state.end());
  node->output_shapes = std::move(output_shapes);
  node->node_index = (node_index ? *node_index : layer->next_node_index_++) + first_node_index(*layer);
  std::vector<SymbolicTensor> outputs;
  for (std::size_t i = 0; i < node->output_shapes.size(); ++i) outputs.emplace_back(node, i);
  return LayerOutputs(std::move(outputs));
}

}  // namespace rnnkit
