#include "rnnkit/sequential.h"

#include <algorithm>
#include <iostream>

#include "rnnkit/error.h"
#include "rnnkit/layers/dropout.h"
#include "rnnkit/layers/embedding.h"
#include "rnnkit/layers/recurrent.h"

namespace rnnkit {
namespace {

std::string output_shape_text(const std::vector<Shape>& shapes) {
  if (shapes.size() == 1) return shape_string(shapes[0]);
  std::string text = "[";
  for (std::size_t i = 0; i < shapes.size(); ++i) text += (i ? ", " : "") + shape_string(shapes[i]);
  return text + "]";
}

// Rows [begin, end) of a batch-first tensor.
Tensor slice_rows(const Tensor& x, std::int64_t begin, std::int64_t end) {
  Shape shape = x.shape();
  const std::int64_t row_size = x.size() / shape[0];
  shape[0] = end - begin;
  return Tensor(shape, std::vector<float>(x.data() + begin * row_size, x.data() + end * row_size));
}

}  // namespace

Sequential::Sequential(const SequentialOptions& options)
    : name_(options.name.empty() ? unique_object_name("sequential") : options.name), rng_(options.seed) {}

std::string Sequential::where() const {
  return "model '" + name_ + "'";
}

void Sequential::add(std::unique_ptr<Layer> layer) {
  check(layer != nullptr, where(), ": cannot add a null layer");
  for (const auto& existing : layers_)
    check(existing->name() != layer->name(), where(), ": all layers must have unique names; '", layer->name(),
          "' is there already");
  if (dynamic_cast<InputLayer*>(layer.get())) {
    check(layers_.empty() && !declared_input_shape_, where(), ": an InputLayer can only be the first layer");
    declared_input_shape_ = layer->declared_batch_input_shape();
    input_layer_name_ = layer->name();
    build(*declared_input_shape_);
    return;
  }
  // Keras leaves the model as it was when a layer cannot be added.
  const std::optional<Shape> previous_declared = declared_input_shape_, previous_input = input_shape_;
  if (layers_.empty() && !declared_input_shape_ && layer->declared_batch_input_shape())
    declared_input_shape_ = layer->declared_batch_input_shape();
  layers_.push_back(std::move(layer));
  try {
    if (previous_input) {
      input_shape_.reset();
      build(*previous_input);
    } else if (declared_input_shape_) {
      build(*declared_input_shape_);
    }
  } catch (...) {
    layers_.pop_back();
    declared_input_shape_ = previous_declared;
    input_shape_ = previous_input;
    throw;
  }
}

Layer& Sequential::layer(std::size_t index) {
  check(index < layers_.size(), where(), " has ", layers_.size(), " layers, no layer ", index);
  return *layers_[index];
}

const Layer& Sequential::layer(std::size_t index) const {
  return const_cast<Sequential*>(this)->layer(index);
}

Layer& Sequential::layer(std::string_view name) {
  std::string names;
  for (const auto& candidate : layers_) {
    if (candidate->name() == name) return *candidate;
    names += (names.empty() ? "" : ", ") + candidate->name();
  }
  fail(where(), " has no layer named '", name, "' (its layers: ", names, ")");
}

void Sequential::build(const Shape& batch_input_shape) {
  Shape shape = batch_input_shape;
  for (const auto& layer : layers_) {
    layer->build(shape, rng_);
    const std::vector<Shape> outputs = layer->output_shapes();
    check(outputs.size() == 1, where(),
          ": all layers in a Sequential model should have a single output tensor; ", "layer '", layer->name(),
          "' has ", outputs.size(), " (return_state, or Bidirectional with merge_mode=None)");
    shape = outputs[0];
  }
  input_shape_ = batch_input_shape;
}

const Shape& Sequential::input_shape() const {
  check(input_shape_.has_value(), where(),
        " has not yet been built: give the first layer an input shape, "
        "add an Input, call build(), or call it on data");
  return *input_shape_;
}

Shape Sequential::output_shape() const {
  Shape shape = input_shape();
  if (!layers_.empty()) shape = layers_.back()->output_shapes()[0];
  return shape;
}

Tensor Sequential::operator()(const Tensor& x, bool training) {
  return run(x, training);
}

std::pair<Tensor, std::optional<Tensor>> Sequential::call_with_mask(const Tensor& x, bool training) {
  std::optional<Tensor> mask;
  Tensor output = run(x, training, &mask);
  return {std::move(output), std::move(mask)};
}

Tensor Sequential::run(const Tensor& x, bool training, std::optional<Tensor>* output_mask,
                       std::size_t layer_count) {
  if (!input_shape_) {
    Shape shape = x.shape();
    check(!shape.empty(), where(), ": the input must have a batch dimension, received shape ()");
    if (!declared_input_shape_) shape[0] = kNone;
    build(declared_input_shape_ ? *declared_input_shape_ : shape);
  }
  Shape accepted = *input_shape_;
  if (!fixed_batch_size() && !accepted.empty()) accepted[0] = kNone;
  check_compatible_shape(accepted, x.shape(), where());
  Tensor value = x;
  std::optional<Tensor> mask;
  Tensor ids;  // an Embedding's input, while the layer after it runs
  for (std::size_t index = 0; index < std::min(layer_count, layers_.size()); ++index) {
    Layer& layer = *layers_[index];
    // A recurrent layer after an Embedding may train on the embeddings table instead of its rows: it
    // returns dL/d(table) for the Embedding, which therefore must not need dL/d(its output) itself.
    std::optional<TableLookup> lookup;
    const auto* previous = index > 0 ? dynamic_cast<const Embedding*>(layers_[index - 1].get()) : nullptr;
    if (training && previous && !previous->activity_regularizer() && dynamic_cast<const Recurrent*>(&layer))
      lookup.emplace(TableLookup{ids, previous->embeddings()});
    if (training && dynamic_cast<const Embedding*>(&layer)) ids = value;
    std::vector<Tensor> outputs = layer.call(value, {.mask = mask ? &*mask : nullptr,
                                                     .initial_state = {},
                                                     .training = training,
                                                     .rng = &rng_,
                                                     .lookup = lookup ? &*lookup : nullptr});
    mask = layer.compute_mask(value, mask ? &*mask : nullptr);
    value = std::move(outputs[0]);
  }
  if (output_mask != nullptr) *output_mask = std::move(mask);
  return value;
}

Tensor Sequential::backward(const Tensor& output_grad) {
  return backpropagate(output_grad, layers_.size());
}

Tensor Sequential::backpropagate(Tensor grad, std::size_t count) {
  for (std::size_t index = count; index-- > 0;) {
    std::vector<Tensor> output_grads;  // one, moved in: a layer's backward takes its output gradients whole
    output_grads.push_back(std::move(grad));
    InputGrads grads = layers_[index]->backward(std::move(output_grads));
    if (grads.table.empty()) {
      grad = std::move(grads.input);
      continue;
    }
    // The layer took the Embedding before it as a TableLookup (see run()); token ids have no gradient, so
    // the layers before that Embedding get none.
    auto* embedding = index > 0 ? dynamic_cast<Embedding*>(layers_[index - 1].get()) : nullptr;
    check(embedding != nullptr, where(), ": layer '", layers_[index]->name(),
          "' returned a table gradient, but the layer before it is not an Embedding");
    embedding->backward_from_table_grad(grads.table);
    return {};
  }
  return grad;
}

void Sequential::zero_grads() {
  for (const auto& layer : layers_) layer->zero_grads();
}

Tensor Sequential::predict(const Tensor& x, std::int64_t batch_size) {
  check(batch_size > 0, where(), ": batch_size must be positive, received ", batch_size);
  check(x.rank() >= 1 && x.dim(0) > 0, where(), ": predict needs at least one sample, received shape ",
        shape_string(x.shape()));
  const std::int64_t samples = x.dim(0);
  check_fixed_batch(x, samples, batch_size, "");
  if (samples <= batch_size) return (*this)(x);
  std::vector<Tensor> parts;
  for (std::int64_t begin = 0; begin < samples; begin += batch_size)
    parts.push_back((*this)(slice_rows(x, begin, std::min(samples, begin + batch_size))));
  Shape shape = parts[0].shape();
  shape[0] = samples;
  std::vector<float> values;
  values.reserve(static_cast<std::size_t>(element_count(shape)));
  for (const Tensor& part : parts) values.insert(values.end(), part.values().begin(), part.values().end());
  return Tensor(shape, std::move(values));
}

std::int64_t Sequential::count_params() const {
  std::int64_t total = 0;
  for (const auto& layer : layers_) total += layer->count_params();
  return total;
}

std::vector<Tensor> Sequential::get_weights() const {
  std::vector<Tensor> weights;
  for (const auto& layer : layers_)
    for (Tensor& weight : layer->get_weights()) weights.push_back(std::move(weight));
  return weights;
}

void Sequential::set_weights(const std::vector<Tensor>& weights) {
  std::size_t needed = 0;
  for (const auto& layer : layers_) needed += layer->params().size();
  check(weights.size() == needed, where(), " has ", needed, " weight tensors, received ", weights.size());
  auto next = weights.begin();
  for (const auto& layer : layers_) {
    const auto count = static_cast<std::ptrdiff_t>(layer->params().size());
    layer->set_weights(std::vector<Tensor>(next, next + count));
    next += count;
  }
}

void Sequential::reset_states() {
  for (const auto& layer : layers_) layer->reset_states();
}

SummaryTable Sequential::summary_table() const {
  check(input_shape_.has_value(),
        "This model has not yet been built. Build the model first by calling `build()` ",
        "or by calling the model on a batch of data (", where(), ")");
  SummaryTable table{name_, {}, 0, 0};
  for (const auto& layer : layers_) {
    const std::int64_t params = layer->count_params();
    table.rows.push_back(
        {layer->name(), layer->class_name(), output_shape_text(layer->output_shapes()), params});
    (layer->trainable() ? table.trainable_params : table.non_trainable_params) += params;
  }
  return table;
}

std::string Sequential::summary_text(SummaryStyle style) const {
  // Keras 3 summarises a model that was never built (Keras 2 refuses, as summary_table does).
  if (!input_shape_ && style == SummaryStyle::keras3) {
    SummaryTable table{name_, {}, 0, 0};
    for (const auto& layer : layers_)
      table.rows.push_back({layer->name(), layer->class_name(), "?", 0, false});
    return format_summary(table, style);
  }
  return format_summary(summary_table(), style);
}

void Sequential::summary(SummaryStyle style) const {
  summary(std::cout, style);
}

void Sequential::summary(std::ostream& out, SummaryStyle style) const {
  out << summary_text(style);
}

nlohmann::json Sequential::config() const {
  const auto shape_json = [](const Shape& shape) {
    nlohmann::json extents = nlohmann::json::array();
    for (std::int64_t extent : shape)
      extents.push_back(extent == kNone ? nlohmann::json(nullptr) : nlohmann::json(extent));
    return extents;
  };
  nlohmann::json layers = nlohmann::json::array();
  // tf.keras's Sequential lists first the InputLayer it keeps for a known input shape: an explicit one, or
  // the one add() makes for the first layer's input shape, named after that layer. A shape with no known
  // extent (an Embedding without input_length) leaves the model unbuilt there, with no InputLayer.
  const bool any_extent_known =
      declared_input_shape_ &&
      std::ranges::any_of(*declared_input_shape_, [](std::int64_t e) { return e != kNone; });
  if (input_layer_name_ || (any_extent_known && !layers_.empty())) {
    layers.push_back(
        {{"class_name", "InputLayer"},
         {"config",
          {{"batch_input_shape", shape_json(*declared_input_shape_)},
           {"dtype", "float32"},
           {"sparse", false},
           {"ragged", false},
           {"name", input_layer_name_ ? *input_layer_name_ : layers_.front()->name() + "_input"}}}});
  }
  for (std::size_t i = 0; i < layers_.size(); ++i) {
    nlohmann::json layer_config = layers_[i]->config();
    // Keras also records the input shape on the first layer when that layer was given one.
    const std::optional<Shape> own_shape = layers_[i]->declared_batch_input_shape();
    if (i == 0 && own_shape && !layer_config.contains("batch_input_shape"))
      layer_config["batch_input_shape"] = shape_json(*own_shape);
    layers.push_back({{"class_name", layers_[i]->class_name()}, {"config", layer_config}});
  }
  return {{"class_name", "Sequential"},
          {"config", {{"name", name_}, {"layers", layers}}},
          {"keras_version", "2.11.0"},
          {"backend", "tensorflow"}};
}

}  // namespace rnnkit
