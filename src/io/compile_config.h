// A compiled model's loss, metrics and optimizer as Keras serializes them into model files (tf.keras 2.11's
// training_config, Keras 3's compile_config), and back: shared by the .h5 and .keras readers and writers.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "rnnkit/sequential.h"

namespace rnnkit::compile_config {

enum class Dialect { kKeras2, kKeras3 };

// model.compile(loss=...) as Keras records it: the function name for a plain loss, the loss class with its
// config when from_logits is set.
nlohmann::json loss_json(const Loss& loss, Dialect dialect);
// A compiled model's loss, loss_weights and metrics as its compile() arguments are saved: for one output a
// loss and a list of metrics (null when none); for several the one loss and metrics list they share, or
// dicts keyed by output name; loss_weights null when all are 1.
nlohmann::json model_loss_json(const Model& model, Dialect dialect);
nlohmann::json model_loss_weights_json(const Model& model);
// The compiled metrics (or weighted metrics) as compile() got them: a name as the name, a configured
// metric as {"class_name", "config"} (Keras 3: with its module).
nlohmann::json model_metrics_json(const Model& model, Dialect dialect, bool weighted = false);
// The optimizer as serialize_keras_object writes it: {"class_name": "Custom>Adam", "config": {...}} (tf.keras
// 2.11 registered its optimizers under "Custom>"), or Keras 3's {"module", "class_name", "config",
// "registered_name"} with Keras 3's config keys.
nlohmann::json optimizer_json(const Optimizer& optimizer, Dialect dialect);

// Compiles `model` as a saved loss / metrics / weighted_metrics / optimizer ({"class_name", "config"}) say.
// A metric rnnkit does not compute is left out, as it changes no training: the return value lists those (as
// saved, JSON, then " (in weighted_metrics)" for a weighted one, then ": " and the reason). Anything else
// rnnkit cannot honour (an unknown loss, label smoothing, weight decay, ...) is an Error naming `where`. A
// model with several outputs takes a loss (and loss_weights, metrics) for all, a list in outputs() order or
// a dict by output name.
std::vector<std::string> compile_model(Model& model, const nlohmann::json& loss,
                                       const nlohmann::json& metrics, const nlohmann::json& weighted_metrics,
                                       const nlohmann::json& optimizer, const std::string& where,
                                       const nlohmann::json& loss_weights = nullptr);

// What loading a model file's training state left out: the saved metrics rnnkit does not compute (see
// compile_model), and each other part it could not honour (the whole configuration, or the optimizer's
// state), with the reason and what the model got instead.
struct TrainingState {
  std::vector<std::string> dropped_metrics;
  std::vector<std::string> dropped;
};

// The trainable weights the optimizer steps, in its order: their Keras names ("lstm/lstm_cell/kernel:0") and
// shapes.
std::vector<std::string> trainable_weight_names(const Model& model);
std::vector<Shape> trainable_weight_shapes(const Model& model);

}  // namespace rnnkit::compile_config
