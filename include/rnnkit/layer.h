// Layer: what every Keras layer is here: named weights, shapes, a forward pass and a Keras config.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "rnnkit/activation.h"
#include "rnnkit/constraints.h"
#include "rnnkit/graph.h"
#include "rnnkit/regularizers.h"
#include "rnnkit/rng.h"
#include "rnnkit/tensor.h"

namespace rnnkit {

// A weight under its Keras name ("kernel", "recurrent_kernel", "bias", "embeddings"), and the gradient
// of the loss with respect to it, which backward() adds into.
struct Param {
  std::string name;
  Tensor value;
  Tensor grad;                               // same shape as value
  std::optional<Regularizer> regularizer{};  // Keras's kernel_regularizer etc. for this weight
  std::optional<Constraint> constraint{};    // Keras's kernel_constraint etc.: applied after each update
  // Keras's trainable flag of the variable: false for state the layer updates itself (BatchNormalization's
  // moving statistics), which no optimizer steps and the summary counts as non-trainable.
  bool trainable = true;
};

// An input x that is rows of a table, x[b,t] = table[ids[b,t]]: an Embedding's output, as Sequential
// tells the layer after it. Such a layer may compute from the table's rows instead of x's.
struct TableLookup {
  const Tensor& ids;    // (B,T), each a row of the table
  const Tensor& table;  // (V,F)
};

// What a call gets besides its main input, as Keras's call(inputs, mask=, training=, initial_state=).
// A training call also keeps what backward() needs.
struct CallArgs {
  const Tensor* mask = nullptr;         // (B,T): 1 keeps a timestep, 0 masks it
  std::vector<Tensor> initial_state{};  // recurrent layers only: (B,U) each, in the layer's state order
  bool training = false;
  Rng* rng = nullptr;                   // dropout masks while training
  const TableLookup* lookup = nullptr;  // where x is known to be rows of a table
  // A call on a list of tensors (merge layers, Attention): the list after its first tensor x, and their
  // masks (nullptr where none; empty where no input after the first has one).
  std::vector<const Tensor*> more_inputs{};
  std::vector<const Tensor*> more_masks{};
};

// What backward() returns: the gradients of the loss with respect to the inputs of the last training call.
struct InputGrads {
  Tensor input;                         // like x; empty for token ids (Embedding), or where `table` is given
  std::vector<Tensor> initial_state{};  // like the initial states given, if any
  Tensor table{};  // dL/d(the table of CallArgs::lookup) (V,F), where the layer computed from it instead of x
  std::vector<Tensor> more_inputs{};  // like CallArgs::more_inputs, for a call on a list
};

// How a layer learns the shape of its input, in Keras's ways (batch dimension excluded from input_shape).
struct InputSpec {
  std::optional<Shape> input_shape{};
  std::optional<Shape> batch_input_shape{};
  std::optional<std::int64_t> batch_size{};
};

class Layer : public std::enable_shared_from_this<Layer> {
 public:
  virtual ~Layer() = default;
  Layer(const Layer&) = default;
  Layer& operator=(const Layer&) = delete;

  const std::string& name() const { return name_; }
  // Keras's class name: "LSTM", "Dense", ...
  const std::string& class_name() const { return class_name_; }
  // Keras's trainable flag: counted as non-trainable params in the summary when false.
  bool trainable() const { return trainable_; }
  void set_trainable(bool trainable) { trainable_ = trainable; }
  // The batch input shape declared through input_shape / batch_input_shape, if any. It gives a model's first
  // layer its input; elsewhere Keras ignores it (a layer is built for the input it receives), as here.
  const std::optional<Shape>& declared_batch_input_shape() const { return declared_batch_input_shape_; }

  bool built() const { return built_input_shape_.has_value(); }
  // Checks the input shape (batch first, kNone where unknown) and creates the weights. Building again
  // with a compatible shape keeps the weights; an incompatible one is an error naming the layer.
  void build(const Shape& input_shape, Rng& rng);
  const Shape& input_shape() const;
  // Output shapes for the built input shape: one, or several for merge_mode=None / return_state.
  std::vector<Shape> output_shapes() const { return compute_output_shapes(input_shape()); }

  // Every weight in Keras's order; a wrapper (Bidirectional, TimeDistributed) lists its inner layers'.
  virtual std::vector<Param*> params();
  std::vector<const Param*> params() const;
  // Keras's layer.trainable_weights: the trainable params, none where the layer is not trainable.
  virtual std::vector<Param*> trainable_params();
  std::int64_t count_params() const;
  std::int64_t count_trainable_params() const;
  // Keras's names for params(), as tf.keras 2.x gives them: "dense/kernel:0", "lstm/lstm_cell/kernel:0".
  virtual std::vector<std::string> weight_names() const;
  std::vector<Tensor> get_weights() const;
  // Replaces the weights, in params() order; shapes must match (the error names layer and weight).
  void set_weights(const std::vector<Tensor>& weights);

  // The forward pass. Returns Keras's list of outputs (the output, then states where asked for).
  std::vector<Tensor> call(const Tensor& x, const CallArgs& args = {});
  // Calls on symbolic tensors, as Keras's layer(x) in the Functional API: adds a node to the graph and
  // returns its outputs. A temporary layer becomes the graph's own (LSTM(8)(x)); a layer called again must be
  // held by a std::shared_ptr (std::make_shared<LSTM>(8)), so that every call shares its weights. An unbuilt
  // layer is built for x's shape, its weights drawn from a generator seeded by its name.
  LayerOutputs operator()(const SymbolicTensor& x, const SymbolicCallArgs& args = {}) &;
  LayerOutputs operator()(const SymbolicTensor& x, const SymbolicCallArgs& args = {}) &&;
  // Calls a layer that takes a list of tensors (a merge, Attention), as Keras's Concatenate()([a, b]).
  LayerOutputs operator()(const std::vector<SymbolicTensor>& inputs) &;
  LayerOutputs operator()(const std::vector<SymbolicTensor>& inputs) &&;
  // A braced list, {x} too: a list of one for a layer that takes a list (Concatenate()({x}), as Keras's
  // Concatenate()([x])), the tensor itself for one that takes one tensor.
  LayerOutputs operator()(std::initializer_list<SymbolicTensor> inputs) &;
  LayerOutputs operator()(std::initializer_list<SymbolicTensor> inputs) &&;
  // Calls on another call's outputs: its one tensor, or for a layer called on a list, all of them.
  LayerOutputs operator()(const LayerOutputs& x, const SymbolicCallArgs& args = {}) &;
  LayerOutputs operator()(const LayerOutputs& x, const SymbolicCallArgs& args = {}) &&;
  // The symbolic call behind both: `layer` is this layer's owner; `node_index` is the call's Keras node index
  // (the next free one when not given). Builds an unbuilt layer with `rng`.
  static LayerOutputs call_symbolic(const std::shared_ptr<Layer>& layer, const SymbolicTensor& x,
                                    const SymbolicCallArgs& args, Rng& rng,
                                    std::optional<int> node_index = std::nullopt);
  static LayerOutputs call_symbolic(const std::shared_ptr<Layer>& layer,
                                    const std::vector<SymbolicTensor>& inputs, Rng& rng,
                                    std::optional<int> node_index = std::nullopt);
  // Whether the layer is called on a list of tensors (a ListInputLayer), not on one.
  virtual bool takes_input_list() const { return false; }
  // The number of initial state tensors a call takes (a recurrent layer's states), 0 where none.
  virtual std::size_t initial_state_count() const { return 0; }

  // Backward pass of the last training call. `output_grads` holds dL/d(output) for each output of that
  // call (an empty tensor for an output that does not reach the loss); dL/d(weight) is added into each
  // param's grad, and dL/d(input) returned.
  InputGrads backward(std::vector<Tensor> output_grads);
  void zero_grads();

  // Keras's sum(layer.losses): the penalties of the regularized weights in params() and the activity
  // penalty of the last call.
  double regularization_loss() const;
  // The activity penalty of the last call (training or not): Σ over outputs of penalty(output) / batch.
  // A wrapper adds that of the layers it wraps.
  virtual double activity_loss() const { return activity_loss_; }
  // Adds d(weight penalties)/d(weight) into the grads of params().
  void add_regularization_grads();
  const std::optional<Regularizer>& activity_regularizer() const { return activity_regularizer_; }

  // The mask the next layer receives, given this layer's input and input mask (nullopt: no mask).
  virtual std::optional<Tensor> compute_mask(const Tensor& x, const Tensor* mask) const;
  // The same for a call with more inputs (CallArgs::more_inputs and more_masks): a ListInputLayer's.
  virtual std::optional<Tensor> compute_call_mask(const Tensor& x, const Tensor* mask, const CallArgs& args) const {
    (void)args;
    return compute_mask(x, mask);
  }

  // Keras's get_config(): {"name": ..., "trainable": true, "dtype": "float32", ...}.
  virtual nlohmann::json config() const;
  virtual std::unique_ptr<Layer> clone() const = 0;
  // Forgets the state a stateful recurrent layer carries between calls.
  virtual void reset_states() {}
  // Whether the layer carries state between calls (a stateful RNN, or a wrapper of one): such a layer takes
  // only batches of the size it was built for; every other layer takes any batch size, as in Keras.
  virtual bool stateful() const { return false; }

 protected:
  // `snake_name` is Keras's base name for the class ("simple_rnn"); an empty `name` takes the next
  // free one ("simple_rnn", "simple_rnn_1", ...).
  Layer(std::string_view class_name, std::string_view snake_name, std::string name, const InputSpec& input);

  virtual std::vector<Shape> compute_output_shapes(const Shape& input_shape) const = 0;
  // Checks the input shape and adds the weights with add_param.
  virtual void build_weights(const Shape& input_shape, Rng& rng) = 0;
  // Builds an unbuilt layer for its first call (x's shape; a ListInputLayer's list).
  virtual void build_for_call(const Tensor& x, const CallArgs& args, Rng& rng);
  virtual std::vector<Tensor> forward(const Tensor& x, const CallArgs& args) = 0;
  // Called with one gradient per output, each with its output's shape (zeros where none was given).
  virtual InputGrads backward_pass(const std::vector<Tensor>& output_grads) = 0;
  // The output shapes of the last training call, for backward's checks.
  const std::vector<Shape>& trained_output_shapes() const { return trained_output_shapes_; }

  Tensor& add_param(std::string param_name, Shape shape,
                    std::optional<Regularizer> regularizer = std::nullopt,
                    std::optional<Constraint> constraint = std::nullopt);
  // A weight no optimizer steps (Param::trainable false), such as a moving statistic.
  Tensor& add_non_trainable_param(std::string param_name, Shape shape);
  // Keras's activity_regularizer: penalises this layer's outputs (see activity_loss()).
  void set_activity_regularizer(std::optional<Regularizer> regularizer) {
    activity_regularizer_ = regularizer;
  }
  // Adds d(activity penalty)/d(output) of the last training call into `output_grads`, one per output.
  void add_activity_grads(std::vector<Tensor>& output_grads) const;
  // This layer's own weights, in the order they were added, and their gradients.
  const Tensor& own_weight(std::size_t index) const { return params_[index].value; }
  Tensor& own_grad(std::size_t index) { return params_[index].grad; }
  // "layer 'lstm' (LSTM)" for error messages.
  std::string where() const;
  void set_name(std::string name) { name_ = std::move(name); }

 private:
  std::string class_name_;
  std::string name_;
  bool trainable_ = true;
  std::optional<Shape> declared_batch_input_shape_;
  std::optional<Shape> built_input_shape_;
  std::vector<Param> params_;
  std::vector<Shape> trained_output_shapes_;  // empty until a training call
  std::optional<Regularizer> activity_regularizer_;
  double activity_loss_ = 0.0;
  int next_node_index_ = 0;  // Keras's len(layer._inbound_nodes): calls on symbolic tensors so far
  std::vector<Tensor> trained_outputs_;  // of the last training call, with an activity regularizer only
};

// A layer whose output is an activation of its logits (Dense, Activation). Where it ends a model with
// softmax or sigmoid, Keras's cross-entropy reads the logits instead (tf.keras's _keras_logits).
class LogitsHead {
 public:
  virtual ~LogitsHead() = default;
  // The activation between the logits and the output.
  virtual ActivationFunction head_activation() const = 0;
  // The logits for an input x: the output before the activation, as forward computes it.
  virtual Tensor logits(const Tensor& x) const = 0;
  // The output for its logits: activation(logits).
  virtual Tensor activation_of(const Tensor& logits) const = 0;
  // A training call that stops at the logits, for a loss that reads them: sets trained_logits() (returned)
  // for backward_from_logits. Where the outputs are needed too, they are activation_of(the logits).
  virtual const Tensor& train_to_logits(const Tensor& x) = 0;
  // The logits of the last training call.
  virtual const Tensor& trained_logits() const = 0;
  // Backward from dL/d(logits) instead of dL/d(output); returns dL/d(input).
  virtual Tensor backward_from_logits(const Tensor& logits_grad) = 0;

 protected:
  LogitsHead() = default;
  LogitsHead(const LogitsHead&) = default;
  LogitsHead& operator=(const LogitsHead&) = default;
};

// A layer called on a list of tensors (Keras's merge layers, Attention): its shapes, weights, forward, backward
// and mask see the whole list. The list's first tensor is Layer's x, the others CallArgs::more_inputs.
class ListInputLayer : public Layer {
 public:
  bool takes_input_list() const final { return true; }
  // Builds for a list of input shapes (batch first); building again checks them against the first.
  void build_list(const std::vector<Shape>& input_shapes, Rng& rng);
  // The shapes of the list it was built for.
  const std::vector<Shape>& input_shapes() const;
  // Output shapes for a list of input shapes, as Keras's compute_output_shape.
  std::vector<Shape> list_output_shapes(const std::vector<Shape>& input_shapes) const;
  // A direct call on a list, as Keras's layer([a, b]); `masks` empty or one per input (nullptr: none).
  std::vector<Tensor> call_list(const std::vector<Tensor>& inputs, const std::vector<const Tensor*>& masks = {},
                                bool training = false, Rng* rng = nullptr);
  std::optional<Tensor> compute_mask(const Tensor& x, const Tensor* mask) const final;
  std::optional<Tensor> compute_call_mask(const Tensor& x, const Tensor* mask, const CallArgs& args) const final;

 protected:
  using Layer::Layer;
  // The fewest and most tensors the list may hold.
  virtual std::pair<std::size_t, std::size_t> list_size_range() const = 0;
  // Checks the shapes and answers Keras's compute_output_shape.
  virtual std::vector<Shape> compute_list_output_shapes(const std::vector<Shape>& input_shapes) const = 0;
  virtual void build_list_weights(const std::vector<Shape>& input_shapes, Rng& rng);
  // `masks` holds one entry per input (nullptr: none).
  virtual std::vector<Tensor> forward_list(const std::vector<const Tensor*>& inputs,
                                           const std::vector<const Tensor*>& masks, const CallArgs& args) = 0;
  // dL/d(each input) from dL/d(each output) of the last training call.
  virtual std::vector<Tensor> backward_list(const std::vector<Tensor>& output_grads) = 0;
  virtual std::optional<Tensor> compute_list_mask(const std::vector<const Tensor*>& inputs,
                                                  const std::vector<const Tensor*>& masks) const;

 private:
  std::vector<Shape> compute_output_shapes(const Shape& input_shape) const final;
  void build_weights(const Shape& input_shape, Rng& rng) final;
  void build_for_call(const Tensor& x, const CallArgs& args, Rng& rng) final;
  std::vector<Tensor> forward(const Tensor& x, const CallArgs& args) final;
  InputGrads backward_pass(const std::vector<Tensor>& output_grads) final;
  void check_list_size(std::size_t size) const;

  std::vector<Shape> input_shapes_;
};

// Keras's per-process layer and model names: "lstm", "lstm_1", ... Keras keeps these counters for the
// whole process, so rnnkit does too (behind a lock); clear_session() restarts them, as in Keras.
// Input layers count from one ("input_1"), as Keras's do.
std::string unique_object_name(std::string_view base_name, bool zero_based = true);
void clear_session();

// Shapes must agree where both are known; `where` names the layer for the error.
void check_compatible_shape(const Shape& expected, const Shape& received, std::string_view where);

}  // namespace rnnkit
