#include "rnnkit/model_layer.h"

#include <algorithm>
#include <set>

#include "model/model_internal.h"
#include "rnnkit/error.h"
#include "rnnkit/keras_config.h"
#include "rnnkit/layers/dropout.h"

namespace rnnkit {
namespace {

// The layers that hold weights, each once, in model.layers order (the InputLayers hold none).
std::vector<Layer*> weight_layers(const Model& model) {
  std::vector<Layer*> layers;
  for (const auto& layer : model.layers())
    if (dynamic_cast<const InputLayer*>(layer.get()) == nullptr) layers.push_back(layer.get());
  return layers;
}

Model checked_built(Model model) {
  check(model.built(), "model '", model.name(),
        "' is not built, so it cannot be used as a layer: give it an input shape, or add an Input first");
  return model;
}

}  // namespace

ModelLayer::ModelLayer(Model model)
    : ListInputLayer(model.is_sequential() ? "Sequential" : "Functional", "", model.name(), {}),
      model_(checked_built(std::move(model))) {}

ModelLayer::~ModelLayer() = default;

std::vector<Param*> ModelLayer::params() {
  std::vector<Param*> all;
  for (Layer* layer : weight_layers(model_))
    for (Param* param : layer->params()) all.push_back(param);
  return all;
}

std::vector<Param*> ModelLayer::trainable_params() {
  std::vector<Param*> all;
  if (!trainable()) return all;
  for (Layer* layer : weight_layers(model_))
    for (Param* param : layer->trainable_params()) all.push_back(param);
  return all;
}

std::vector<std::string> ModelLayer::weight_names() const {
  std::vector<std::string> names;
  for (const Layer* layer : weight_layers(model_))
    for (std::string& name : layer->weight_names()) names.push_back(std::move(name));
  return names;
}

double ModelLayer::activity_loss() const {
  double total = 0.0;
  for (const Layer* layer : weight_layers(model_)) total += layer->activity_loss();
  return total;
}

nlohmann::json ModelLayer::config() const {
  nlohmann::json config = model_.config().at("config");
  // Keras nests the model's own config; the layer's trainable flag goes with it where it is off.
  if (!trainable()) config["trainable"] = false;
  return config;
}

std::unique_ptr<Layer> ModelLayer::clone() const {
  nlohmann::json entry{{"class_name", class_name()}, {"config", model_.config().at("config")}};
  Model copy = model_from_config(entry, where());
  copy.set_weights(model_.get_weights());
  auto layer = std::make_unique<ModelLayer>(std::move(copy));
  layer->set_trainable(trainable());
  return layer;
}

void ModelLayer::reset_states() {
  model_.reset_states();
}

bool ModelLayer::stateful() const {
  return std::ranges::any_of(model_.layers(), [](const auto& layer) { return layer->stateful(); });
}

std::pair<std::size_t, std::size_t> ModelLayer::list_size_range() const {
  return {model_.inputs().size(), model_.inputs().size()};
}

std::vector<Shape> ModelLayer::compute_list_output_shapes(const std::vector<Shape>& input_shapes) const {
  const std::vector<SymbolicTensor>& inputs = model_.inputs();
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    Shape accepted = inputs[i].shape();
    if (!accepted.empty()) accepted[0] = kNone;
    check_compatible_shape(
        accepted, input_shapes[i],
        inputs.size() == 1 ? where() : where() + " input '" + inputs[i].layer().name() + "'");
  }
  std::vector<Shape> shapes;
  for (const SymbolicTensor& output : model_.outputs()) {
    Shape shape = output.shape();
    if (!shape.empty() && !input_shapes[0].empty()) shape[0] = input_shapes[0][0];
    shapes.push_back(std::move(shape));
  }
  return shapes;
}

std::vector<Tensor> ModelLayer::forward_list(const std::vector<const Tensor*>& inputs,
                                             const std::vector<const Tensor*>& masks, const CallArgs& args) {
  std::vector<Tensor> x;
  for (const Tensor* input : inputs) x.push_back(*input);
  std::unique_ptr<Model::Pass> pass = model_.run(x, args.training, false, args.rng, masks);
  const TrainingPlan& plan = *model_.plan_;
  std::vector<Tensor> outputs;
  for (const SymbolicTensor& output : model_.outputs_) outputs.push_back(pass->value(plan, output));
  const Tensor* mask = pass->mask(plan, model_.outputs_[0]);
  output_mask_ = mask ? std::optional<Tensor>(*mask) : std::nullopt;
  if (args.training) trained_ = std::move(pass);
  return outputs;
}

std::vector<Tensor> ModelLayer::backward_list(const std::vector<Tensor>& output_grads) {
  check(trained_ != nullptr, where(), ": backward() needs a forward call with training=true first");
  return model_.backpropagate(*trained_, output_grads);
}

std::optional<Tensor> ModelLayer::compute_list_mask(const std::vector<const Tensor*>& /*inputs*/,
                                                    const std::vector<const Tensor*>& /*masks*/) const {
  return output_mask_;
}

std::vector<const Layer*> inner_layers(const Layer& layer) {
  std::vector<const Layer*> layers;
  const auto* nested = dynamic_cast<const ModelLayer*>(&layer);
  if (nested == nullptr) return layers;
  for (const auto& inner : nested->model().layers()) {
    layers.push_back(inner.get());
    for (const Layer* deeper : inner_layers(*inner)) layers.push_back(deeper);
  }
  return layers;
}

}  // namespace rnnkit
