#include "rnnkit/sequential.h"

#include <algorithm>

#include "rnnkit/error.h"
#include "rnnkit/layers/dropout.h"
#include "rnnkit/model_layer.h"

namespace rnnkit {

Sequential::Sequential(const SequentialOptions& options) : Model(options, "sequential") {}

namespace {

// The chain of a Functional model that holds_as_sequential: its InputLayer, then its layers in call order.
Model as_sequential(Model&& model) {
  if (model.is_sequential()) return std::move(model);
  check(holds_as_sequential(model), "model '", model.name(),
        "' is a Functional model whose graph is not a chain, not a Sequential: hold it as an rnnkit::Model");
  Sequential chain({.name = model.name()});
  chain.add(model.inputs()[0]);
  for (const auto& node : model.nodes())
    if (!node->is_input()) chain.add(node->layer);
  return Model(std::move(chain));
}

}  // namespace

bool holds_as_sequential(const Model& model) {
  if (model.is_sequential()) return true;
  if (!model.built() || model.inputs().size() != 1 || model.outputs().size() != 1 ||
      model.outputs()[0].index() != 0 || model.nodes().size() != model.size())
    return false;
  const GraphNode* previous = nullptr;
  for (const auto& node : model.nodes()) {
    if (node->is_input() != (previous == nullptr)) return false;
    if (previous != nullptr && (node->inputs.size() != 1 || &node->inputs[0].node() != previous ||
                                node->inputs[0].index() != 0 || node->output_shapes.size() != 1))
      return false;
    previous = node.get();
  }
  return previous == &model.outputs()[0].node();
}

Sequential::Sequential(Model&& model) : Model(as_sequential(std::move(model))) {}

void Sequential::add(const Model& model) {
  add(model.as_layer());
}

void Sequential::add(const SymbolicTensor& input) {
  check(input.node().is_input(), where(), ": only an Input can be added as a tensor; ", input.description(),
        " is the output of a layer call");
  add_input_layer(input.node().layer);
}

void Sequential::add_input_layer(const std::shared_ptr<Layer>& input) {
  check(layers_.empty() && !declared_input_shape_, where(), ": an InputLayer can only be the first layer");
  declared_input_shape_ = input->declared_batch_input_shape();
  input_layer_name_ = input->name();
  build(*declared_input_shape_);
}

void Sequential::add(std::shared_ptr<Layer> layer) {
  check(layer != nullptr, where(), ": cannot add a null layer");
  if (dynamic_cast<InputLayer*>(layer.get())) return add_input_layer(layer);
  for (const auto& existing : layers_)
    check(existing->name() != layer->name(), where(), ": all layers must have unique names; '", layer->name(),
          "' is there already");
  // Keras leaves the model as it was when a layer cannot be added.
  const std::optional<Shape> previous_declared = declared_input_shape_;
  const std::optional<Shape> previous_input =
      built() ? std::optional<Shape>(inputs()[0].shape()) : std::nullopt;
  if (layers_.empty() && !declared_input_shape_ && layer->declared_batch_input_shape())
    declared_input_shape_ = layer->declared_batch_input_shape();
  // A nested model first gives its input, as tf.keras's Sequential.add takes a model's input shape.
  if (const auto* nested = dynamic_cast<const ModelLayer*>(layer.get());
      nested && layers_.empty() && !declared_input_shape_ && nested->model().inputs().size() == 1)
    declared_input_shape_ = nested->model().inputs()[0].shape();
  layers_.push_back(std::move(layer));
  try {
    if (previous_input) {
      build(*previous_input);
    } else if (declared_input_shape_) {
      build(*declared_input_shape_);
    }
  } catch (...) {
    layers_.pop_back();
    declared_input_shape_ = previous_declared;
    if (previous_input) {
      build(*previous_input);
    } else {
      clear_graph();
    }
    throw;
  }
}

void Sequential::build(const Shape& batch_input_shape) {
  build_chain(batch_input_shape);
}

}  // namespace rnnkit
