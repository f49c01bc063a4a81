#include "rnnkit/model.h"

#include <algorithm>
#include <iostream>
#include <map>
#include <set>

#include "model/functional_config.h"
#include "model/model_internal.h"
#include "rnnkit/error.h"
#include "rnnkit/layers/dropout.h"
#include "rnnkit/layers/embedding.h"
#include "rnnkit/layers/recurrent.h"
#include "rnnkit/model_layer.h"

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

Tensor concatenate_rows(const std::vector<Tensor>& parts) {
  Shape shape = parts[0].shape();
  shape[0] = 0;
  for (const Tensor& part : parts) shape[0] += part.dim(0);
  std::vector<float> values;
  values.reserve(static_cast<std::size_t>(element_count(shape)));
  for (const Tensor& part : parts) values.insert(values.end(), part.values().begin(), part.values().end());
  return Tensor(shape, std::move(values));
}

void add_into(Tensor& total, const Tensor& more) {
  if (more.empty()) return;
  if (total.empty()) {
    total = more;
    return;
  }
  for (std::int64_t i = 0; i < total.size(); ++i) total[i] += more[i];
}

// Keras's graph order (tf.keras functional._map_graph_network): nodes found depth first from the outputs,
// each after the nodes it reads; a layer's depth is the largest distance of its calls from the outputs, and
// model.layers lists the deepest first, ties in the order the search met them.
struct GraphOrder {
  std::vector<std::shared_ptr<const GraphNode>> nodes;  // each after the nodes it reads
  std::vector<std::shared_ptr<Layer>> layers;
};

GraphOrder order_graph(const std::vector<SymbolicTensor>& inputs, const std::vector<SymbolicTensor>& outputs,
                       std::string_view where) {
  GraphOrder order;
  std::set<const GraphNode*> finished;
  std::map<const Layer*, int> layer_index;
  std::vector<std::shared_ptr<Layer>> layers_found;
  const auto visit = [&](const auto& self, const std::shared_ptr<const GraphNode>& node) -> void {
    if (finished.contains(node.get())) return;
    if (layer_index.try_emplace(node->layer.get(), static_cast<int>(layer_index.size())).second)
      layers_found.push_back(node->layer);
    for (const SymbolicTensor& input : node->inputs) self(self, input.node_pointer());
    finished.insert(node.get());
    order.nodes.push_back(node);
  };
  for (const SymbolicTensor& output : outputs) visit(visit, output.node_pointer());
  for (const SymbolicTensor& input : inputs) {
    check(input.node().is_input(), where, ": a model input must come from rnnkit::Input; ",
          input.description(), " is the output of ", input.layer().class_name(), " '", input.layer().name(),
          "'");
    if (!finished.contains(&input.node())) {  // an input no output depends on
      layer_index.try_emplace(input.node().layer.get(), -1);
      layers_found.push_back(input.node().layer);
      finished.insert(&input.node());
      order.nodes.insert(order.nodes.begin(), input.node_pointer());
    }
  }
  for (const auto& node : order.nodes) {
    if (!node->is_input()) continue;
    const bool given =
        std::ranges::any_of(inputs, [&](const SymbolicTensor& t) { return &t.node() == node.get(); });
    check(given, where, ": graph disconnected: the outputs depend on input '", node->layer->name(),
          "', which is not among the model's inputs");
  }
  std::map<const GraphNode*, int> node_depth;
  std::map<const Layer*, int> layer_depth;
  for (auto node = order.nodes.rbegin(); node != order.nodes.rend(); ++node) {
    int depth = node_depth.try_emplace(node->get(), 0).first->second;
    depth = std::max(depth, layer_depth[(*node)->layer.get()]);
    layer_depth[(*node)->layer.get()] = depth;
    node_depth[node->get()] = depth;
    for (const SymbolicTensor& input : (*node)->inputs) {
      int& parent = node_depth[&input.node()];
      parent = std::max(parent, depth + 1);
    }
  }
  order.layers = layers_found;
  std::stable_sort(order.layers.begin(), order.layers.end(), [&](const auto& a, const auto& b) {
    const int depth_a = layer_depth[a.get()], depth_b = layer_depth[b.get()];
    if (depth_a != depth_b) return depth_a > depth_b;
    return layer_index[a.get()] < layer_index[b.get()];
  });
  std::set<std::string> names;
  for (const auto& layer : order.layers)
    check(names.insert(layer->name()).second, where, ": the name \"", layer->name(),
          "\" is used by two layers of the model; all layer names should be unique");
  return order;
}

}  // namespace

const Tensor& Model::Pass::value(const TrainingPlan& plan, const SymbolicTensor& tensor) const {
  return values[plan.at(tensor)][tensor.index()];
}

const Tensor* Model::Pass::mask(const TrainingPlan& plan, const SymbolicTensor& tensor) const {
  if (tensor.index() != 0) return nullptr;
  const auto& found = masks[plan.at(tensor)];
  return found ? &*found : nullptr;
}

CallArgs Model::Pass::call_args(const TrainingPlan& plan, const GraphNode& node, bool training_call,
                                Rng* rng) const {
  CallArgs args{.mask = mask(plan, node.inputs[0]), .training = training_call, .rng = rng};
  for (const SymbolicTensor& state : node.initial_state()) args.initial_state.push_back(value(plan, state));
  for (const SymbolicTensor& input : node.more_inputs()) {
    args.more_inputs.push_back(&value(plan, input));
    args.more_masks.push_back(mask(plan, input));
  }
  return args;
}

Model::Model(std::vector<SymbolicTensor> inputs, std::vector<SymbolicTensor> outputs,
             const ModelOptions& options)
    : name_(options.name.empty() ? unique_object_name("model") : options.name), rng_(options.seed) {
  check(!inputs.empty() && !outputs.empty(), where(), " needs at least one input and one output");
  set_graph(std::move(inputs), std::move(outputs));
}

Model::Model(const ModelOptions& options, std::string_view default_base_name)
    : name_(options.name.empty() ? unique_object_name(default_base_name) : options.name),
      sequential_(true),
      rng_(options.seed) {}

Model::~Model() = default;
Model::Model(Model&&) noexcept = default;
Model& Model::operator=(Model&&) noexcept = default;

std::string Model::where() const {
  return "model '" + name_ + "'";
}

void Model::set_graph(std::vector<SymbolicTensor> inputs, std::vector<SymbolicTensor> outputs) {
  GraphOrder order = order_graph(inputs, outputs, where());
  inputs_ = std::move(inputs);
  outputs_ = std::move(outputs);
  nodes_ = std::move(order.nodes);
  if (!sequential_) layers_ = std::move(order.layers);
  trained_.reset();
  make_plan();
}

void Model::clear_graph() {
  inputs_.clear();
  outputs_.clear();
  nodes_.clear();
  trained_.reset();
  plan_.reset();
}

void Model::make_plan() {
  auto plan = std::make_unique<TrainingPlan>();
  const std::size_t count = nodes_.size();
  for (std::size_t i = 0; i < count; ++i) plan->position[nodes_[i].get()] = i;
  plan->input_slot.assign(count, 0);
  for (std::size_t slot = 0; slot < inputs_.size(); ++slot) plan->input_slot[plan->at(inputs_[slot])] = slot;
  plan->reader_count.assign(count, 0);
  for (const auto& node : nodes_)
    for (const SymbolicTensor& input : node->inputs) ++plan->reader_count[plan->at(input)];
  for (const SymbolicTensor& output : outputs_) ++plan->reader_count[plan->at(output)];
  plan->recompute.assign(count, false);
  // A layer of a nested model is called by each call of that model: its training cache is the last one's.
  std::map<const Layer*, std::size_t> last_call;
  for (std::size_t i = 0; i < count; ++i) {
    std::vector<const Layer*> called = inner_layers(*nodes_[i]->layer);
    called.push_back(nodes_[i]->layer.get());
    for (const Layer* layer : called) {
      const auto [entry, first] = last_call.try_emplace(layer, i);
      if (!first && entry->second != i) {
        plan->recompute[entry->second] = true;
        entry->second = i;
      }
    }
  }
  plan->table_source.assign(count, std::nullopt);
  for (std::size_t i = 0; i < count; ++i) {
    const GraphNode& node = *nodes_[i];
    if (node.is_input() || !dynamic_cast<const Recurrent*>(node.layer.get())) continue;
    const std::size_t source = plan->at(node.inputs[0]);
    const auto* embedding = dynamic_cast<const Embedding*>(nodes_[source]->layer.get());
    // The recurrent layer then returns dL/d(table) for the Embedding, which must need no dL/d(its output).
    if (embedding && !embedding->activity_regularizer() && plan->reader_count[source] == 1 &&
        !plan->recompute[i] && !plan->recompute[source])
      plan->table_source[i] = source;
  }
  plan->head.assign(count, std::nullopt);
  plan_ = std::move(plan);
  if (compiled()) plan_heads();
}

void Model::plan_heads() {
  for (auto& head : plan_->head) head.reset();
  for (std::size_t output = 0; output < outputs_.size(); ++output) {
    const SymbolicTensor& tensor = outputs_[output];
    const std::size_t node = plan_->at(tensor);
    auto* head = dynamic_cast<LogitsHead*>(nodes_[node]->layer.get());
    const Loss& loss = losses_[output];
    // Keras (_get_logits) does this for any cross-entropy after either activation, whichever layer applied
    // it.
    const bool fused = head && tensor.index() == 0 && !nodes_[node]->is_input() && !loss.from_logits() &&
                       loss.kind() != Loss::Kind::mean_squared_error && plan_->reader_count[node] == 1 &&
                       !plan_->recompute[node] &&
                       (head->head_activation() == ActivationFunction::softmax ||
                        head->head_activation() == ActivationFunction::sigmoid);
    if (!fused) continue;
    const bool activity = nodes_[node]->layer->activity_regularizer().has_value();
    plan_->head[node] = TrainingPlan::Head{head, output, !activity, activity || !metrics_[output].empty()};
  }
}

Layer& Model::layer(std::size_t index) {
  check(index < layers_.size(), where(), " has ", layers_.size(), " layers, no layer ", index);
  return *layers_[index];
}

const Layer& Model::layer(std::size_t index) const {
  return const_cast<Model*>(this)->layer(index);
}

Layer& Model::layer(std::string_view name) {
  return *shared_layer(name);
}

const Layer& Model::layer(std::string_view name) const {
  return *shared_layer(name);
}

std::shared_ptr<Layer> Model::shared_layer(std::string_view name) const {
  std::string names;
  for (const auto& candidate : layers_) {
    if (candidate->name() == name) return candidate;
    names += (names.empty() ? "" : ", ") + candidate->name();
  }
  fail(where(), " has no layer named '", name, "' (its layers: ", names, ")");
}

const std::vector<SymbolicTensor>& Model::inputs() const {
  check(built(), where(), " has not yet been built: its inputs are unknown");
  return inputs_;
}

const std::vector<SymbolicTensor>& Model::outputs() const {
  check(built(), where(), " has not yet been built: its outputs are unknown");
  return outputs_;
}

std::vector<std::string> Model::input_names() const {
  std::vector<std::string> names;
  for (const SymbolicTensor& input : inputs()) names.push_back(input.layer().name());
  return names;
}

std::vector<std::string> Model::output_names() const {
  // As tf.keras's _set_output_names: a layer that gives several outputs (an RNN's states) is named "lstm",
  // "lstm_1", ..., so that every output has a name of its own for its loss and logs.
  std::vector<std::string> names;
  std::set<std::string> taken;
  std::map<std::string, int> suffix;
  for (const SymbolicTensor& output : outputs()) {
    const std::string& base = output.layer().name();
    std::string name = base;
    while (taken.contains(name)) {
      const int count = suffix.try_emplace(base, 1).first->second++;
      name = base + "_" + std::to_string(count);
    }
    taken.insert(name);
    names.push_back(std::move(name));
  }
  return names;
}

const Shape& Model::input_shape() const {
  check(built(), where(),
        " has not yet been built: give the first layer an input shape, "
        "add an Input, call build(), or call it on data");
  check(inputs_.size() == 1, where(), " has ", inputs_.size(), " inputs; take their shapes from inputs()");
  return inputs_[0].shape();
}

Shape Model::output_shape() const {
  check(built(), where(), " has not yet been built: its output shape is unknown");
  check(outputs_.size() == 1, where(), " has ", outputs_.size(),
        " outputs; take their shapes from outputs()");
  return outputs_[0].shape();
}

// A model whose batch size is fixed (a stateful RNN's batch_input_shape) takes only batches of that size; a
// batch size declared without a stateful layer is shown in the summary and binds nothing, as in Keras.
std::optional<std::int64_t> Model::fixed_batch() const {
  std::optional<Shape> shape = declared_input_shape_;
  if (!shape && built() && !inputs_.empty()) shape = inputs_[0].shape();
  if (!shape || shape->empty() || (*shape)[0] == kNone) return std::nullopt;
  if (!std::ranges::any_of(layers_, [](const auto& layer) { return layer->stateful(); })) return std::nullopt;
  return (*shape)[0];
}

void Model::check_arrays(const std::vector<Tensor>& arrays, const std::vector<SymbolicTensor>& expected,
                         std::string_view what) const {
  check(arrays.size() == expected.size(), where(), " has ", expected.size(), " ", what, "s, received ",
        arrays.size(), " arrays");
}

void Model::prepare_inputs(const std::vector<Tensor>& x) {
  if (sequential_ && !built()) {
    check(x.size() == 1, where(), " has one input, received ", x.size(), " arrays");
    Shape shape = x[0].shape();
    check(!shape.empty(), where(), ": the input must have a batch dimension, received shape ()");
    if (!declared_input_shape_) shape[0] = kNone;
    build_chain(declared_input_shape_ ? *declared_input_shape_ : shape);
  }
  check_arrays(x, inputs(), "input");
  for (std::size_t i = 0; i < x.size(); ++i) {
    Shape accepted = inputs_[i].shape();
    if (!accepted.empty()) accepted[0] = kNone;
    check_compatible_shape(
        accepted, x[i].shape(),
        inputs_.size() == 1 ? where() : where() + ", input '" + inputs_[i].layer().name() + "'");
  }
  if (x.size() > 1)
    for (const Tensor& array : x)
      check(array.rank() >= 1 && array.dim(0) == x[0].dim(0), where(),
            ": every input needs the same number of samples, received ", shape_string(x[0].shape()), " and ",
            shape_string(array.shape()));
}

std::unique_ptr<Model::Pass> Model::run(const std::vector<Tensor>& x, bool training, bool fused, Rng* rng,
                                        const std::vector<const Tensor*>& input_masks) {
  prepare_inputs(x);
  Rng& draws = rng != nullptr ? *rng : rng_;
  if (fixed_batch())  // a stateful layer takes only batches of the size it was built for
    for (std::size_t i = 0; i < x.size(); ++i)
      check_compatible_shape(inputs_[i].shape(), x[i].shape(), where());
  const TrainingPlan& plan = *plan_;
  auto pass = std::make_unique<Pass>();
  pass->training = training;
  pass->fused = fused;
  const std::size_t count = nodes_.size();
  pass->values.resize(count);
  pass->masks.resize(count);
  pass->logits.resize(count);
  pass->rng_before.resize(count);
  // Outside training a tensor is dropped after its last reader; training keeps them for recomputed calls.
  std::vector<int> reads_left = plan.reader_count;
  for (std::size_t i = 0; i < count; ++i) {
    const GraphNode& node = *nodes_[i];
    if (node.is_input()) {
      const std::size_t slot = plan.input_slot[i];
      pass->values[i] = {x[slot]};
      if (slot < input_masks.size() && input_masks[slot] != nullptr) pass->masks[i] = *input_masks[slot];
      continue;
    }
    Layer& layer = *node.layer;
    const Tensor& input = pass->value(plan, node.inputs[0]);
    const Tensor* mask = pass->mask(plan, node.inputs[0]);
    const auto& head = fused ? plan.head[i] : std::nullopt;
    if (head && training && head->to_logits) {
      head->head->train_to_logits(input);
      if (head->need_outputs) pass->values[i] = {head->head->activation_of(head->head->trained_logits())};
    } else if (head && !training) {
      pass->logits[i] = head->head->logits(input);
      if (layer.activity_regularizer()) {
        pass->values[i] = layer.call(input, {.mask = mask});
      } else if (head->need_outputs) {
        pass->values[i] = {head->head->activation_of(pass->logits[i])};
      }
    } else {
      CallArgs args = pass->call_args(plan, node, training, &draws);
      std::optional<TableLookup> lookup;
      if (training && plan.table_source[i]) {
        const std::size_t source = *plan.table_source[i];
        lookup.emplace(TableLookup{pass->value(plan, nodes_[source]->inputs[0]),
                                   static_cast<const Embedding&>(*nodes_[source]->layer).embeddings()});
        args.lookup = &*lookup;
      }
      if (training && plan.recompute[i]) pass->rng_before[i] = draws;
      pass->values[i] = layer.call(input, args);
    }
    pass->masks[i] = node.input_list ? layer.compute_call_mask(input, mask, pass->call_args(plan, node, false, nullptr))
                                     : layer.compute_mask(input, mask);
    if (training) continue;
    for (const SymbolicTensor& read : node.inputs) {
      const std::size_t source = plan.at(read);
      if (--reads_left[source] == 0) pass->values[source].clear();
    }
  }
  return pass;
}

std::vector<Tensor> Model::backpropagate(Pass& pass, std::vector<Tensor> output_grads) {
  const TrainingPlan& plan = *plan_;
  const std::size_t count = nodes_.size();
  std::vector<std::vector<Tensor>> grads(count);
  for (std::size_t i = 0; i < count; ++i) grads[i].resize(nodes_[i]->output_shapes.size());
  for (std::size_t k = 0; k < outputs_.size(); ++k)
    add_into(grads[plan.at(outputs_[k])][outputs_[k].index()], output_grads[k]);
  std::vector<Tensor> input_grads(inputs_.size());
  std::vector<bool> table_done(count, false);
  for (std::size_t i = count; i-- > 0;) {
    const GraphNode& node = *nodes_[i];
    if (node.is_input()) {
      input_grads[plan.input_slot[i]] = std::move(grads[i][0]);
      continue;
    }
    if (table_done[i]) continue;  // an Embedding whose reader took its table's gradient
    if (std::ranges::all_of(grads[i], [](const Tensor& g) { return g.empty(); })) continue;
    Layer& layer = *node.layer;
    const auto& head = pass.fused ? plan.head[i] : std::nullopt;
    if (head) {
      add_into(grads[plan.at(node.inputs[0])][node.inputs[0].index()],
               head->head->backward_from_logits(grads[i][0]));
      continue;
    }
    if (plan.recompute[i]) {  // a shared layer: its cache holds a later call; run this one again
      Rng rng = *pass.rng_before[i];
      // The step's forward pass already updated the state the layer keeps (moving statistics): keep it.
      std::vector<std::pair<Param*, Tensor>> kept;
      for (Param* param : layer.params())
        if (!param->trainable) kept.emplace_back(param, param->value);
      layer.call(pass.value(plan, node.inputs[0]), pass.call_args(plan, node, true, &rng));
      for (auto& [param, value] : kept) param->value = std::move(value);
    }
    InputGrads input = layer.backward(std::move(grads[i]));
    if (!input.table.empty()) {
      const std::size_t source = *plan.table_source[i];
      static_cast<Embedding&>(*nodes_[source]->layer).backward_from_table_grad(input.table);
      table_done[source] = true;
    } else {
      add_into(grads[plan.at(node.inputs[0])][node.inputs[0].index()], input.input);
    }
    const std::vector<SymbolicTensor> states = node.initial_state();
    for (std::size_t s = 0; s < states.size() && s < input.initial_state.size(); ++s)
      add_into(grads[plan.at(states[s])][states[s].index()], input.initial_state[s]);
    const std::vector<SymbolicTensor> more = node.more_inputs();
    for (std::size_t m = 0; m < more.size() && m < input.more_inputs.size(); ++m)
      add_into(grads[plan.at(more[m])][more[m].index()], input.more_inputs[m]);
  }
  return input_grads;
}

std::vector<Tensor> Model::operator()(const std::vector<Tensor>& x, bool training) {
  std::unique_ptr<Pass> pass = run(x, training, false);
  std::vector<Tensor> outputs;
  for (const SymbolicTensor& output : outputs_) outputs.push_back(pass->value(*plan_, output));
  if (training) trained_ = std::move(pass);
  return outputs;
}

Tensor Model::operator()(const Tensor& x, bool training) {
  return call_with_mask(x, training).first;
}

std::pair<Tensor, std::optional<Tensor>> Model::call_with_mask(const Tensor& x, bool training) {
  prepare_inputs({x});
  check(outputs_.size() == 1, where(), " has ", outputs_.size(), " outputs; call it with a list of inputs");
  std::unique_ptr<Pass> pass = run({x}, training, false);
  Tensor output = pass->value(*plan_, outputs_[0]);
  const Tensor* mask = pass->mask(*plan_, outputs_[0]);
  std::optional<Tensor> output_mask = mask ? std::optional<Tensor>(*mask) : std::nullopt;
  if (training) trained_ = std::move(pass);
  return {std::move(output), std::move(output_mask)};
}

std::shared_ptr<Layer> Model::as_layer() const {
  check(built(), where(),
        " is not built, so it cannot be called as a layer: give it an input shape, or add an Input first");
  if (as_layer_ == nullptr) as_layer_ = std::make_shared<ModelLayer>(shared_copy());
  return as_layer_;
}

LayerOutputs Model::operator()(const std::vector<SymbolicTensor>& inputs) const {
  std::shared_ptr<Layer> layer = as_layer();
  Rng unused;  // a ModelLayer draws no weights
  return Layer::call_symbolic(layer, inputs, unused);
}

LayerOutputs Model::operator()(const SymbolicTensor& x) const {
  return (*this)(std::vector<SymbolicTensor>{x});
}

LayerOutputs Model::operator()(const LayerOutputs& inputs) const {
  return (*this)(std::vector<SymbolicTensor>(inputs));
}

Model Model::shared_copy() const {
  Model copy(ModelOptions{.name = name_}, "");
  copy.sequential_ = sequential_;
  copy.rng_ = rng_;
  copy.layers_ = layers_;
  copy.declared_input_shape_ = declared_input_shape_;
  copy.input_layer_name_ = input_layer_name_;
  copy.inputs_ = inputs_;
  copy.outputs_ = outputs_;
  copy.nodes_ = nodes_;
  copy.make_plan();
  return copy;
}

std::vector<Tensor> Model::predict(const std::vector<Tensor>& x, std::int64_t batch_size) {
  check(batch_size > 0, where(), ": batch_size must be positive, received ", batch_size);
  check(!x.empty() && x[0].rank() >= 1 && x[0].dim(0) > 0, where(), ": predict needs at least one sample",
        x.empty() ? std::string() : ", received shape " + shape_string(x[0].shape()));
  prepare_inputs(x);
  const std::int64_t samples = x[0].dim(0);
  check_fixed_batch(samples, batch_size, "");
  if (samples <= batch_size) return (*this)(x);
  std::vector<std::vector<Tensor>> parts(outputs_.size());
  for (std::int64_t begin = 0; begin < samples; begin += batch_size) {
    std::vector<Tensor> batch;
    for (const Tensor& array : x)
      batch.push_back(slice_rows(array, begin, std::min(samples, begin + batch_size)));
    std::vector<Tensor> outputs = (*this)(batch);
    for (std::size_t k = 0; k < outputs.size(); ++k) parts[k].push_back(std::move(outputs[k]));
  }
  std::vector<Tensor> outputs;
  for (const auto& output_parts : parts) outputs.push_back(concatenate_rows(output_parts));
  return outputs;
}

Tensor Model::predict(const Tensor& x, std::int64_t batch_size) {
  prepare_inputs({x});
  check(outputs_.size() == 1, where(), " has ", outputs_.size(), " outputs; predict with a list of inputs");
  return predict(std::vector<Tensor>{x}, batch_size)[0];
}

std::vector<Tensor> Model::backward(const std::vector<Tensor>& output_grads) {
  check(trained_ != nullptr, where(), ": backward() needs a call with training=true first");
  check(output_grads.size() == outputs_.size(), where(), " has ", outputs_.size(), " outputs, received ",
        output_grads.size(), " output gradients");
  return backpropagate(*trained_, output_grads);
}

Tensor Model::backward(const Tensor& output_grad) {
  std::vector<Tensor> grads = backward(std::vector<Tensor>{output_grad});
  check(grads.size() == 1, where(), " has ", grads.size(),
        " inputs; take their gradients from backward({...})");
  return std::move(grads[0]);
}

void Model::zero_grads() {
  for (const auto& layer : layers_) layer->zero_grads();
}

double Model::regularization_loss() const {
  double total = 0.0;
  for (const auto& layer : layers_) total += layer->regularization_loss();
  return total;
}

std::int64_t Model::count_params() const {
  std::int64_t total = 0;
  for (const auto& layer : layers_) total += layer->count_params();
  return total;
}

std::vector<Tensor> Model::get_weights() const {
  std::vector<Tensor> weights;
  for (const auto& layer : layers_)
    for (Tensor& weight : layer->get_weights()) weights.push_back(std::move(weight));
  return weights;
}

void Model::set_weights(const std::vector<Tensor>& weights) {
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

void Model::reset_states() {
  for (const auto& layer : layers_) layer->reset_states();
}

void Model::build_chain(const Shape& batch_input_shape) {
  // The chain's InputLayer: the one added, or one named after the first layer, as tf.keras makes it.
  const std::string input_name =
      input_layer_name_ ? *input_layer_name_ : (layers_.empty() ? name_ : layers_.front()->name()) + "_input";
  auto input_layer =
      std::make_shared<InputLayer>(InputSpec{.batch_input_shape = batch_input_shape}, input_name);
  input_layer->build(batch_input_shape, rng_);
  const SymbolicTensor input(std::make_shared<GraphNode>(GraphNode{input_layer, {}, {batch_input_shape}, 0}),
                             0);
  SymbolicTensor tensor = input;
  for (const auto& layer : layers_) {
    // A nested model is called on the list of its one input.
    const LayerOutputs outputs = layer->takes_input_list()
                                     ? Layer::call_symbolic(layer, std::vector{tensor}, rng_, 0)
                                     : Layer::call_symbolic(layer, tensor, {}, rng_, 0);
    check(outputs.size() == 1, where(),
          ": all layers in a Sequential model should have a single output tensor; layer '", layer->name(),
          "' has ", outputs.size(), " (return_state, or Bidirectional with merge_mode=None)");
    tensor = outputs[0];
  }
  set_graph({input}, {tensor});
}

// Keras's print_summary takes the Functional layout unless the graph is "sequential-like": every depth of
// the graph holds one node, each node reads at most one tensor, and no layer is called twice.
bool Model::sequential_like() const {
  if (sequential_) return true;
  std::map<const GraphNode*, int> depth;
  std::set<const Layer*> called;
  for (auto node = nodes_.rbegin(); node != nodes_.rend(); ++node) {
    const int own = depth[node->get()];
    if ((*node)->inputs.size() > 1 || !called.insert((*node)->layer.get()).second) return false;
    for (const SymbolicTensor& input : (*node)->inputs) {
      int& parent = depth[&input.node()];
      parent = std::max(parent, own + 1);
    }
  }
  std::set<int> depths;
  for (const auto& [node, node_depth] : depth)
    if (!depths.insert(node_depth).second) return false;
  return true;
}

SummaryTable Model::summary_table() const {
  check(built(), "This model has not yet been built. Build the model first by calling `build()` ",
        "or by calling the model on a batch of data (", where(), ")");
  SummaryTable table{name_, {}, 0, 0};
  table.functional = !sequential_like();
  for (const auto& layer : layers_) {
    const std::int64_t params = layer->count_params();
    SummaryRow row{layer->name(), layer->class_name(), "", params};
    // Keras's layer.output_shape: the shapes of its calls, or "multiple" where they differ.
    std::optional<std::vector<Shape>> shapes;
    bool multiple = false;
    for (const auto& node : nodes_) {
      if (node->layer != layer) continue;
      if (shapes && *shapes != node->output_shapes) multiple = true;
      shapes = node->output_shapes;
      for (const SymbolicTensor& input : node->inputs) row.connected_to.push_back(input.description());
    }
    row.output_shape = multiple ? "multiple" : output_shape_text(shapes ? *shapes : layer->output_shapes());
    table.rows.push_back(std::move(row));
    const std::int64_t trainable = layer->count_trainable_params();
    table.trainable_params += trainable;
    table.non_trainable_params += params - trainable;
  }
  return table;
}

std::string Model::summary_text(SummaryStyle style) const {
  // Keras 3 summarises a model that was never built (Keras 2 refuses, as summary_table does).
  if (!built() && style == SummaryStyle::keras3) {
    SummaryTable table{name_, {}, 0, 0};
    for (const auto& layer : layers_)
      table.rows.push_back({layer->name(), layer->class_name(), "?", 0, false});
    return format_summary(table, style);
  }
  return format_summary(summary_table(), style);
}

void Model::summary(SummaryStyle style) const {
  summary(std::cout, style);
}

void Model::summary(std::ostream& out, SummaryStyle style) const {
  out << summary_text(style);
}

nlohmann::json Model::config() const {
  if (!sequential_) {
    check(built(), where(), " has no graph to write");
    nlohmann::json result = functional_config_json(functional_spec(*this), FunctionalDialect::tf_keras2);
    result["keras_version"] = "2.11.0";
    result["backend"] = "tensorflow";
    return result;
  }
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
