// Sequential: a stack of layers, each feeding the next, as keras.Sequential: a Model whose graph is a chain.
#pragma once

#include <concepts>
#include <memory>

#include "rnnkit/model.h"

namespace rnnkit {

using SequentialOptions = ModelOptions;

class Sequential : public Model {
 public:
  explicit Sequential(const SequentialOptions& options = {});
  // The model a file or a config gave, where it is a Sequential, or a Functional model whose graph is a chain
  // (held as the Sequential it is equivalent to, sharing its layers; uncompiled); the error names it
  // otherwise: rnnkit::Sequential model = rnnkit::load_model("model.h5").
  Sequential(Model&& model);  // NOLINT(google-explicit-constructor)

  // Appends a copy of `layer`: model.add(rnnkit::LSTM(32)).
  template <std::derived_from<Layer> L>
  void add(const L& layer) {
    add(std::shared_ptr<Layer>(layer.clone()));
  }
  template <std::derived_from<Layer> L>
  void add(std::unique_ptr<L> layer) {
    add(std::shared_ptr<Layer>(std::move(layer)));
  }
  // Appends this layer itself: another model that holds it shares its weights.
  void add(std::shared_ptr<Layer> layer);
  // Appends a built model as one layer (a nested model), sharing its layers and weights: model.add(encoder).
  void add(const Model& model);
  // model.add(rnnkit::Input(shape)): the model's input, before any layer.
  void add(const SymbolicTensor& input);

  // Builds every layer for inputs of this shape, batch first (kNone where free).
  void build(const Shape& batch_input_shape);

 private:
  void add_input_layer(const std::shared_ptr<Layer>& input);
};

// Whether Sequential(Model&&) takes the model: a Sequential, or a Functional model Input -> layer -> ... ->
// output, each layer called once on the one before.
bool holds_as_sequential(const Model& model);

}  // namespace rnnkit
