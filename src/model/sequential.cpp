#include "rnnkit/sequential.h"

#include <algorithm>

#include "rnnkit/error.h"
#include "rnnkit/layers/dropout.h"

namespace rnnkit {

Sequential::Sequential(const SequentialOptions& options) : Model(options, "sequential") {}

Sequential::Sequential(Model&& model) : Model(std::move(model)) {
  check(is_sequential(), where(), " is a Functional model, not a Sequential: hold it as an rnnkit::Model");
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
