// ModelLayer: a Model or Sequential used as a layer of another model (Keras's nested models).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "rnnkit/layer.h"
#include "rnnkit/model.h"

namespace rnnkit {

// A model called as a layer: its inputs are the call's list (one tensor for a model with one input), its
// outputs the call's outputs, its mask the mask of its first output. It holds a model that shares the layers
// of the model it was made from: no weight is copied, so training the outer model trains them, and the inner
// model's predict sees it. Its weights are those of the inner model's layers, in model.layers order (Keras's
// model.weights). Its dropout draws from the generator of the call, the outer model's.
class ModelLayer : public ListInputLayer {
 public:
  // `model` must be built; its name and class ("Sequential" or "Functional") become the layer's.
  explicit ModelLayer(Model model);
  ~ModelLayer() override;

  Model& model() { return model_; }
  const Model& model() const { return model_; }

  std::vector<Param*> params() override;
  std::vector<Param*> trainable_params() override;
  std::vector<std::string> weight_names() const override;
  double activity_loss() const override;
  // The inner model's config: {"name": ..., "layers": [...], ...}, as Keras nests it under class_name.
  nlohmann::json config() const override;
  // A model of the same config with copies of the weights.
  std::unique_ptr<Layer> clone() const override;
  void reset_states() override;
  bool stateful() const override;

 protected:
  std::pair<std::size_t, std::size_t> list_size_range() const override;
  std::vector<Shape> compute_list_output_shapes(const std::vector<Shape>& input_shapes) const override;
  std::vector<Tensor> forward_list(const std::vector<const Tensor*>& inputs,
                                   const std::vector<const Tensor*>& masks, const CallArgs& args) override;
  std::vector<Tensor> backward_list(const std::vector<Tensor>& output_grads) override;
  std::optional<Tensor> compute_list_mask(const std::vector<const Tensor*>& inputs,
                                          const std::vector<const Tensor*>& masks) const override;

 private:
  Model model_;
  std::optional<Tensor> output_mask_;  // of the last call
  std::unique_ptr<Model::Pass> trained_;
};

// The inner layers of a layer that is a ModelLayer, nested ones included (empty for any other layer).
std::vector<const Layer*> inner_layers(const Layer& layer);

}  // namespace rnnkit
