#include "rnnkit/layers/recurrent.h"

#include <algorithm>
#include <cmath>

#include "core/blas.h"
#include "layers/config_number.h"
#include "layers/initializers.h"
#include "layers/lookup_scan.h"
#include "layers/onednn_scan.h"
#include "rnnkit/error.h"

namespace rnnkit {
namespace {

// Keras: input_dim and input_length together stand for input_shape (input_length, input_dim).
InputSpec recurrent_input(const RecurrentOptions& options) {
  InputSpec input{.input_shape = options.input_shape,
                  .batch_input_shape = options.batch_input_shape,
                  .batch_size = options.batch_size};
  if (!input.input_shape && !input.batch_input_shape && (options.input_dim || options.input_length))
    input.input_shape = Shape{options.input_length.value_or(kNone), options.input_dim.value_or(kNone)};
  return input;
}


}  // namespace

Recurrent::Recurrent(std::string_view class_name, std::string_view snake_name, std::int64_t units,
                     const RecurrentOptions& options)
    : Layer(class_name, snake_name, options.name, recurrent_input(options)),
      units_(units),
      options_(options),
      activation_(parse_activation(options.activation, where() + " field 'activation'")),
      recurrent_activation_(parse_activation(options.recurrent_activation, where() + " field 'recurrent_activation'")) {
  check(units > 0, where(), ": units must be positive, received ", units);
  check(options.dropout >= 0.0f && options.dropout < 1.0f, where(), ": dropout must be in [0, 1), received ",
        options.dropout);
  check(options.recurrent_dropout >= 0.0f && options.recurrent_dropout < 1.0f, where(),
        ": recurrent_dropout must be in [0, 1), received ", options.recurrent_dropout);
  options_.kernel_initializer = initializer_config(options.kernel_initializer, where() + " kernel_initializer");
  options_.recurrent_initializer =
      initializer_config(options.recurrent_initializer, where() + " recurrent_initializer");
  options_.bias_initializer = initializer_config(options.bias_initializer, where() + " bias_initializer");
  check_regularizer(options.kernel_regularizer, where() + " kernel_regularizer");
  check_regularizer(options.recurrent_regularizer, where() + " recurrent_regularizer");
  check_regularizer(options.bias_regularizer, where() + " bias_regularizer");
  check_regularizer(options.activity_regularizer, where() + " activity_regularizer");
  set_activity_regularizer(options.activity_regularizer);
  check_constraint(options.kernel_constraint, where() + " kernel_constraint");
  check_constraint(options.recurrent_constraint, where() + " recurrent_constraint");
  check_constraint(options.bias_constraint, where() + " bias_constraint");
}

std::unique_ptr<Recurrent> Recurrent::copy_as(std::string name, bool go_backwards) const {
  std::unique_ptr<Layer> copy = clone();
  auto* recurrent = static_cast<Recurrent*>(copy.get());
  recurrent->options_.go_backwards = go_backwards;
  recurrent->set_name(std::move(name));
  copy.release();
  return std::unique_ptr<Recurrent>(recurrent);
}

std::vector<std::string> Recurrent::weight_names() const {
  std::vector<std::string> names;
  for (const Param* param : params()) names.push_back(name() + "/" + cell_name() + "/" + param->name + ":0");
  return names;
}

Shape Recurrent::bias_shape() const { return {gate_count() * units_}; }

const float* Recurrent::input_bias() const { return bias() ? bias()->data() : nullptr; }

std::vector<Shape> Recurrent::compute_output_shapes(const Shape& input_shape) const {
  const std::int64_t batch = input_shape[0], timesteps = input_shape[1];
  std::vector<Shape> shapes{options_.return_sequences ? Shape{batch, timesteps, units_} : Shape{batch, units_}};
  if (options_.return_state)
    for (int i = 0; i < state_count(); ++i) shapes.push_back({batch, units_});
  return shapes;
}

void Recurrent::build_weights(const Shape& input_shape, Rng& rng) {
  check(input_shape.size() == 3, where(), ": expected an input of shape (batch, timesteps, features), received ",
        shape_string(input_shape));
  const std::int64_t features = input_shape[2];
  check(features != kNone, where(), ": the number of input features must be known, received shape ",
        shape_string(input_shape));
  check(!options_.stateful || input_shape[0] != kNone, where(),
        ": a stateful RNN needs to know its batch size: give batch_input_shape (or batch_size)");
  const std::int64_t gate_units = gate_count() * units_;
  initialize(
      options_.kernel_initializer,
      add_param("kernel", {features, gate_units}, options_.kernel_regularizer, options_.kernel_constraint),
      rng, where() + " kernel_initializer");
  initialize(options_.recurrent_initializer,
             add_param("recurrent_kernel", {units_, gate_units}, options_.recurrent_regularizer,
                       options_.recurrent_constraint),
             rng, where() + " recurrent_initializer");
  if (options_.use_bias)
    initialize_bias(add_param("bias", bias_shape(), options_.bias_regularizer, options_.bias_constraint),
                    rng);
}

void Recurrent::initialize_bias(Tensor& bias, Rng& rng) const {
  initialize(options_.bias_initializer, bias, rng, where() + " bias_initializer");
}

std::optional<Tensor> Recurrent::compute_mask(const Tensor& x, const Tensor* mask) const {
  if (!options_.return_sequences) return std::nullopt;
  return Layer::compute_mask(x, mask);
}

std::vector<Tensor> Recurrent::initial_states(const Tensor& x, const CallArgs& args) const {
  const std::int64_t batch = x.dim(0);
  if (!args.initial_state.empty()) {
    check(static_cast<int>(args.initial_state.size()) == state_count(), where(), " takes ", state_count(),
          " initial state tensor(s), received ", args.initial_state.size());
    for (const Tensor& state : args.initial_state)
      check(state.shape() == Shape{batch, units_}, where(), ": an initial state must have shape ",
            shape_string({batch, units_}), ", received ", shape_string(state.shape()));
    return args.initial_state;
  }
  if (options_.stateful && !carried_states_.empty()) {
    check(carried_states_[0].dim(0) == batch, where(), ": a stateful layer built for batch size ",
          carried_states_[0].dim(0), " received a batch of ", batch);
    return carried_states_;
  }
  return std::vector<Tensor>(static_cast<std::size_t>(state_count()), Tensor({batch, units_}));
}

void Recurrent::reset_states() { carried_states_.clear(); }

Recurrent::ScanCache::ScanCache() = default;
Recurrent::ScanCache::ScanCache(const ScanCache& /*other*/) {}
Recurrent::ScanCache& Recurrent::ScanCache::operator=(const ScanCache& /*other*/) {
  onednn.reset();
  lookup.reset();
  return *this;
}
Recurrent::ScanCache::~ScanCache() = default;

void Recurrent::check_trainable_activations() const {
  // The time loop keeps each step's activation outputs, not their inputs, so it cannot train through an
  // activation whose derivative needs the inputs; predicting needs neither. SimpleRNN has no recurrent
  // activation.
  const int used = gate_count() > 1 ? 2 : 1;
  const ActivationFunction functions[] = {activation_, recurrent_activation_};
  for (int k = 0; k < used; ++k)
    check(!activation_backward_needs_inputs(functions[k]), where(), ": training through activation '",
          activation_name(functions[k]),
          "' is not supported in a recurrent layer (its derivative needs the "
          "values before the activation, which the time loop does not keep); prediction works");
}

std::optional<ScanCell> Recurrent::onednn_cell() const {
  const bool tanh = activation_ == ActivationFunction::tanh,
             sigmoid_gates = recurrent_activation_ == ActivationFunction::sigmoid;
  switch (gate_count()) {
    case 1:  // SimpleRNN has no recurrent activation
      if (tanh) return ScanCell::simple_tanh;
      if (activation_ == ActivationFunction::relu) return ScanCell::simple_relu;
      return std::nullopt;
    case 3:
      if (!tanh || !sigmoid_gates) return std::nullopt;
      return options_.reset_after ? ScanCell::gru_reset_after : ScanCell::gru;
    case 4:
      if (!tanh || !sigmoid_gates) return std::nullopt;
      return ScanCell::lstm;
    default:
      return std::nullopt;
  }
}

namespace {

// Keras's RNN dropout: one mask per sequence and feature, reused at every timestep; kept values scaled
// by 1/(1 - rate).
Tensor dropout_scales(std::int64_t batch, std::int64_t width, float rate, Rng& rng) {
  Tensor scales({batch, width});
  const float keep_scale = 1.0f / (1.0f - rate);
  for (float& scale : scales.values()) scale = rng.uniform() >= rate ? keep_scale : 0.0f;
  return scales;
}

}  // namespace

std::vector<Tensor> Recurrent::forward(const Tensor& x, const CallArgs& args) {
  const std::int64_t batch = x.dim(0), timesteps = x.dim(1), features = x.dim(2);
  check(timesteps > 0, where(), ": the input needs at least one timestep, received shape ", shape_string(x.shape()));
  const std::int64_t units = units_, gate_units = gate_count() * units_;
  const bool training = args.training;
  const bool dropping = training && (options_.dropout > 0.0f || options_.recurrent_dropout > 0.0f);
  check(!dropping || args.rng != nullptr, where(), ": a training call with dropout needs a random generator");
  if (training) check_trainable_activations();

  Trained trained;
  const Tensor* inputs = &x;  // (B,T,F)
  Tensor dropped_inputs;
  if (training && options_.dropout > 0.0f) {
    trained.input_dropout = dropout_scales(batch, features, options_.dropout, *args.rng);
    dropped_inputs = x;
    for (std::int64_t b = 0; b < batch; ++b)
      for (std::int64_t t = 0; t < timesteps; ++t)
        for (std::int64_t f = 0; f < features; ++f)
          dropped_inputs[(b * timesteps + t) * features + f] *= trained.input_dropout[b * features + f];
    inputs = &dropped_inputs;
  }
  if (training && options_.recurrent_dropout > 0.0f)
    trained.recurrent_dropout = dropout_scales(batch, units, options_.recurrent_dropout, *args.rng);
  if (lookup_scan_applies(x, args, trained)) {
    trained.had_initial_state = !args.initial_state.empty();
    return lookup_forward(x, *args.lookup, initial_states(x, args), std::move(trained));
  }
  if (training && use_fast_scans_ && !args.mask && trained.recurrent_dropout.empty())
    if (const std::optional<ScanCell> cell = onednn_cell()) {
      trained.had_initial_state = !args.initial_state.empty();
      return onednn_forward(*inputs, initial_states(x, args), *cell, std::move(trained));
    }

  // x @ kernel for every timestep at once: (B·T, F) @ (F, G·U).
  Tensor projected = Tensor::uninitialized({batch * timesteps, gate_units});  // (B·T, G·U), row b·T + t
  const float* bias_row = input_bias();
  if (bias_row)
    for (std::int64_t row = 0; row < batch * timesteps; ++row)
      std::copy_n(bias_row, gate_units, projected.data() + row * gate_units);
  gemm(false, false, batch * timesteps, gate_units, features, 1.0f, inputs->data(), features, kernel().data(),
       gate_units, bias_row ? 1.0f : 0.0f, projected.data(), gate_units);

  std::vector<Tensor> states = initial_states(x, args);  // (B,U) each
  std::vector<Tensor> next_states = states;
  StepWorkspace workspace{Tensor({batch, gate_units}), Tensor({batch, units})};
  Tensor output({batch, units});  // (B,U): the last step's output, zeros before the first
  Tensor sequence(options_.return_sequences ? Shape{batch, timesteps, units} : Shape{0});  // (B,T,U)
  Tensor dropped_recurrent = trained.recurrent_dropout.empty() ? Tensor() : Tensor({batch, units});
  const Tensor* mask = args.mask;  // (B,T)
  const std::int64_t width = step_values_width();
  if (training) {
    trained.batch = batch;
    trained.timesteps = timesteps;
    // Every row of these is written by the step that it records.
    trained.inputs = Tensor::uninitialized({timesteps * batch, features});
    trained.recurrent_inputs = Tensor::uninitialized({timesteps * batch, units});
    for (std::size_t k = 0; k < states.size(); ++k)
      trained.previous_states.push_back(Tensor::uninitialized({timesteps * batch, units}));
    trained.step_values = Tensor::uninitialized({timesteps * batch, width});
    if (mask) trained.mask = *mask;
    trained.had_initial_state = !args.initial_state.empty();
  }

  for (std::int64_t s = 0; s < timesteps; ++s) {
    const std::int64_t t = options_.go_backwards ? timesteps - 1 - s : s;
    const float* recurrent_input = states[0].data();
    if (!dropped_recurrent.empty()) {
      for (std::int64_t i = 0; i < batch * units; ++i)
        dropped_recurrent[i] = states[0][i] * trained.recurrent_dropout[i];
      recurrent_input = dropped_recurrent.data();
    }
    float* step_values = nullptr;
    if (training) {
      for (std::int64_t b = 0; b < batch; ++b)
        std::copy_n(inputs->data() + (b * timesteps + t) * features, features,
                    trained.inputs.data() + (s * batch + b) * features);
      std::copy_n(recurrent_input, batch * units, trained.recurrent_inputs.data() + s * batch * units);
      for (std::size_t k = 0; k < states.size(); ++k)
        std::copy_n(states[k].data(), batch * units, trained.previous_states[k].data() + s * batch * units);
      step_values = trained.step_values.data() + s * batch * width;
    }
    step({projected.data() + t * gate_units, timesteps * gate_units, recurrent_input, states}, next_states, workspace,
         step_values);
    for (std::int64_t b = 0; b < batch; ++b) {
      float* output_row = output.data() + b * units;
      if (!mask || (*mask)[b * timesteps + t] != 0.0f) {
        std::copy_n(next_states[0].data() + b * units, units, output_row);
        continue;
      }
      // A masked step keeps the state and repeats the previous output.
      for (std::size_t k = 0; k < states.size(); ++k)
        std::copy_n(states[k].data() + b * units, units, next_states[k].data() + b * units);
      if (zero_output_for_mask_) std::fill_n(output_row, units, 0.0f);
    }
    std::swap(states, next_states);
    if (options_.return_sequences)
      for (std::int64_t b = 0; b < batch; ++b)
        std::copy_n(output.data() + b * units, units, sequence.data() + (b * timesteps + s) * units);
  }

  if (options_.stateful) carried_states_ = states;
  if (training) trained_ = std::move(trained);
  std::vector<Tensor> results;
  results.push_back(options_.return_sequences ? std::move(sequence) : std::move(output));
  if (options_.return_state)
    for (Tensor& state : states) results.push_back(std::move(state));
  return results;
}

// Backpropagation through time, the forward loop in reverse. A masked step passed the state and the
// previous output through unchanged, so there the gradients pass through too and no weight sees them.
InputGrads Recurrent::backward_pass(const std::vector<Tensor>& output_grads) {
  if (trained_.scan == TrainingScan::onednn) return onednn_backward(output_grads);
  if (trained_.scan == TrainingScan::lookup) return lookup_backward(output_grads);
  const Trained& trained = trained_;
  const std::int64_t batch = trained.batch, timesteps = trained.timesteps, units = units_;
  const std::int64_t features = trained.inputs.dim(1), gate_units = gate_count() * units_;
  const std::int64_t width = step_values_width();
  const std::size_t state_count = trained.previous_states.size();

  // dL/d(final states): from the returned states, and the returned output where it is the last state.
  std::vector<Tensor> state_grads(state_count, Tensor({batch, units}));
  for (std::size_t k = 0; k + 1 < output_grads.size(); ++k) state_grads[k] = output_grads[k + 1];
  Tensor output_grad({batch, units});  // dL/d(output variable) carried back to earlier steps
  if (!options_.return_sequences) output_grad = output_grads[0];

  // Written whole, step by step. The recurrent product's gradient is an array of its own only for cells
  // in which it differs from the projection's (GRU).
  Tensor projected_grads = Tensor::uninitialized({timesteps * batch, gate_units});  // (T·B, G·U)
  Tensor recurrent_grads =
      separate_recurrent_grads() ? Tensor::uninitialized({timesteps * batch, gate_units}) : Tensor();
  Tensor recurrent_input_grad({batch, units});
  std::vector<Tensor> step_state_grads = state_grads;
  std::vector<const float*> previous_states(state_count);
  StepWorkspace workspace{Tensor({batch, gate_units}), Tensor({batch, units})};

  for (std::int64_t s = timesteps - 1; s >= 0; --s) {
    const std::int64_t t = options_.go_backwards ? timesteps - 1 - s : s;
    for (std::size_t k = 0; k < state_count; ++k) {
      step_state_grads[k] = state_grads[k];
      previous_states[k] = trained.previous_states[k].data() + s * batch * units;
    }
    for (std::int64_t b = 0; b < batch; ++b) {
      float* carried = output_grad.data() + b * units;
      if (options_.return_sequences) {
        const float* from_sequence = output_grads[0].data() + (b * timesteps + s) * units;
        for (std::int64_t u = 0; u < units; ++u) carried[u] += from_sequence[u];
      }
      float* state_grad = step_state_grads[0].data() + b * units;
      for (std::int64_t u = 0; u < units; ++u) state_grad[u] += carried[u];
    }
    float* projected_grad = projected_grads.data() + s * batch * gate_units;
    float* recurrent_grad =
        recurrent_grads.empty() ? nullptr : recurrent_grads.data() + s * batch * gate_units;
    const float* recurrent_input = trained.recurrent_inputs.data() + s * batch * units;
    step_backward({trained.step_values.data() + s * batch * width, previous_states, recurrent_input, step_state_grads,
                   projected_grad, recurrent_grad, recurrent_input_grad.data()},
                  workspace);
    for (std::int64_t b = 0; b < batch; ++b) {
      float* carried = output_grad.data() + b * units;
      if (trained.mask.empty() || trained.mask[b * timesteps + t] != 0.0f) {
        for (std::size_t k = 0; k < state_count; ++k)
          std::copy_n(step_state_grads[k].data() + b * units, units, state_grads[k].data() + b * units);
        for (std::int64_t u = 0; u < units; ++u) {
          const float scale = trained.recurrent_dropout.empty() ? 1.0f : trained.recurrent_dropout[b * units + u];
          state_grads[0][b * units + u] += recurrent_input_grad[b * units + u] * scale;
        }
        std::fill_n(carried, units, 0.0f);  // this step's output did not come from an earlier one
        continue;
      }
      std::fill_n(projected_grad + b * gate_units, gate_units, 0.0f);
      if (recurrent_grad) std::fill_n(recurrent_grad + b * gate_units, gate_units, 0.0f);
      if (zero_output_for_mask_) std::fill_n(carried, units, 0.0f);
    }
  }

  // The weight gradients as three large products over all timesteps at once.
  gemm(true, false, features, gate_units, timesteps * batch, 1.0f, trained.inputs.data(), features,
       projected_grads.data(), gate_units, 1.0f, own_grad(0).data(), gate_units);
  if (Tensor* grad = bias_grad())
    for (std::int64_t row = 0; row < timesteps * batch; ++row)
      for (std::int64_t j = 0; j < gate_units; ++j) (*grad)[j] += projected_grads[row * gate_units + j];
  accumulate_recurrent_grads(trained.recurrent_inputs, trained.step_values,
                             recurrent_grads.empty() ? projected_grads : recurrent_grads);

  Tensor step_input_grads = Tensor::uninitialized({timesteps * batch, features});  // (T·B, F)
  gemm(false, true, timesteps * batch, features, gate_units, 1.0f, projected_grads.data(), gate_units,
       kernel().data(), gate_units, 0.0f, step_input_grads.data(), features);
  Tensor input_grad = Tensor::uninitialized({batch, timesteps, features});
  for (std::int64_t s = 0; s < timesteps; ++s) {
    const std::int64_t t = options_.go_backwards ? timesteps - 1 - s : s;
    for (std::int64_t b = 0; b < batch; ++b)
      for (std::int64_t f = 0; f < features; ++f) {
        const float scale = trained.input_dropout.empty() ? 1.0f : trained.input_dropout[b * features + f];
        input_grad[(b * timesteps + t) * features + f] = step_input_grads[(s * batch + b) * features + f] * scale;
      }
  }
  InputGrads grads{std::move(input_grad), {}};
  if (trained.had_initial_state) grads.initial_state = std::move(state_grads);
  return grads;
}

namespace {

std::vector<const float*> read_pointers(const std::vector<Tensor>& tensors) {
  std::vector<const float*> result;
  for (const Tensor& tensor : tensors) result.push_back(tensor.data());
  return result;
}

std::vector<float*> write_pointers(std::vector<Tensor>& tensors) {
  std::vector<float*> result;
  for (Tensor& tensor : tensors) result.push_back(tensor.data());
  return result;
}

// (B,T,U) with the time axis reversed: oneDNN keeps x's time order, Keras's go_backwards the order of
// processing.
Tensor reversed_in_time(const Tensor& sequence) {
  const std::int64_t batch = sequence.dim(0), timesteps = sequence.dim(1), width = sequence.dim(2);
  Tensor result = Tensor::uninitialized(sequence.shape());
  for (std::int64_t b = 0; b < batch; ++b)
    for (std::int64_t t = 0; t < timesteps; ++t)
      std::copy_n(sequence.data() + (b * timesteps + t) * width, width,
                  result.data() + (b * timesteps + timesteps - 1 - t) * width);
  return result;
}

}  // namespace

// Without a mask or recurrent dropout, the scan is oneDNN's: the same equations, on weights it packs once
// per call instead of once per timestep.
std::vector<Tensor> Recurrent::onednn_forward(const Tensor& inputs, const std::vector<Tensor>& states,
                                              ScanCell cell, Trained trained) {
  const std::int64_t batch = inputs.dim(0), timesteps = inputs.dim(1), features = inputs.dim(2),
                     units = units_;
  const ScanShape shape{cell, batch, timesteps, features, units, options_.go_backwards};
  if (!scans_.onednn || scans_.onednn->shape() != shape) scans_.onednn = std::make_unique<OnednnScan>(shape);
  Tensor sequence = Tensor::uninitialized({batch, timesteps, units});
  std::vector<Tensor> final_states;
  for (std::size_t k = 0; k < states.size(); ++k)
    final_states.push_back(Tensor::uninitialized({batch, units}));
  scans_.onednn->forward(inputs.data(), kernel().data(), recurrent_kernel().data(),
                         bias() ? bias()->data() : nullptr, read_pointers(states), sequence.data(),
                         write_pointers(final_states));
  trained.batch = batch;
  trained.timesteps = timesteps;
  trained.scan = TrainingScan::onednn;
  return fast_scan_results(
      std::move(trained),
      options_.return_sequences && options_.go_backwards ? reversed_in_time(sequence) : std::move(sequence),
      std::move(final_states));
}

std::vector<Tensor> Recurrent::fast_scan_results(Trained trained, Tensor sequence,
                                                 std::vector<Tensor> final_states) {
  trained_ = std::move(trained);
  if (options_.stateful) carried_states_ = final_states;
  std::vector<Tensor> results;
  results.push_back(options_.return_sequences ? std::move(sequence) : final_states[0]);
  if (options_.return_state)
    for (Tensor& state : final_states) results.push_back(std::move(state));
  return results;
}

InputGrads Recurrent::onednn_backward(const std::vector<Tensor>& output_grads) {
  const Trained& trained = trained_;
  const std::int64_t batch = trained.batch, timesteps = trained.timesteps, units = units_;
  const std::int64_t features = scans_.onednn->shape().features;  // oneDNN keeps the inputs itself
  const std::size_t state_count = static_cast<std::size_t>(this->state_count());
  const std::vector<Tensor> final_state_grads = this->final_state_grads(output_grads);
  Tensor sequence_grad_storage;  // where the scan's sequence gradient is not output_grads[0] itself
  const float* sequence_grad = output_grads[0].data();
  if (!options_.return_sequences)
    sequence_grad_storage = Tensor({batch, timesteps, units});  // zeros
  else if (options_.go_backwards)
    sequence_grad_storage = reversed_in_time(output_grads[0]);
  if (!sequence_grad_storage.empty()) sequence_grad = sequence_grad_storage.data();
  Tensor input_grad = Tensor::uninitialized({batch, timesteps, features});
  std::vector<Tensor> initial_state_grads;
  for (std::size_t k = 0; k < state_count; ++k)
    initial_state_grads.push_back(Tensor::uninitialized({batch, units}));
  scans_.onednn->backward(sequence_grad, read_pointers(final_state_grads), input_grad.data(),
                          write_pointers(initial_state_grads), own_grad(0).data(),
                          recurrent_kernel_grad().data(), bias_grad() ? bias_grad()->data() : nullptr);
  if (!trained.input_dropout.empty())
    for (std::int64_t b = 0; b < batch; ++b)
      for (std::int64_t t = 0; t < timesteps; ++t)
        for (std::int64_t f = 0; f < features; ++f)
          input_grad[(b * timesteps + t) * features + f] *= trained.input_dropout[b * features + f];
  InputGrads grads{std::move(input_grad), {}};
  if (trained.had_initial_state) grads.initial_state = std::move(initial_state_grads);
  return grads;
}

std::vector<Tensor> Recurrent::final_state_grads(const std::vector<Tensor>& output_grads) const {
  const std::int64_t batch = trained_.batch, units = units_;
  std::vector<Tensor> grads(static_cast<std::size_t>(state_count()), Tensor({batch, units}));
  for (std::size_t k = 0; k + 1 < output_grads.size(); ++k) grads[k] = output_grads[k + 1];
  if (!options_.return_sequences)
    for (std::int64_t i = 0; i < batch * units; ++i) grads[0][i] += output_grads[0][i];
  return grads;
}

// Only where it pays: the table's rows are fewer than the steps whose inputs they replace.
bool Recurrent::lookup_scan_applies(const Tensor& x, const CallArgs& args, const Trained& trained) const {
  const std::optional<ScanCell> cell = onednn_cell();
  return args.training && use_fast_scans_ && args.lookup != nullptr &&
         (cell == ScanCell::lstm || cell == ScanCell::gru_reset_after) && !args.mask &&
         trained.input_dropout.empty() && trained.recurrent_dropout.empty() && !options_.go_backwards &&
         args.lookup->table.dim(0) < x.dim(0) * x.dim(1);
}

std::vector<Tensor> Recurrent::lookup_forward(const Tensor& x, const TableLookup& lookup,
                                              const std::vector<Tensor>& states, Trained trained) {
  const Tensor& ids = lookup.ids;
  check(
      ids.shape() == Shape{x.dim(0), x.dim(1)} && lookup.table.rank() == 2 && lookup.table.dim(1) == x.dim(2),
      where(), ": ids ", shape_string(ids.shape()), " looked up in a table ",
      shape_string(lookup.table.shape()), " do not give the input ", shape_string(x.shape()));
  const std::int64_t batch = ids.dim(0), timesteps = ids.dim(1), units = units_;
  const LookupScanShape shape{*onednn_cell(),      batch, timesteps, lookup.table.dim(0),
                              lookup.table.dim(1), units};
  if (!scans_.lookup || scans_.lookup->shape() != shape) scans_.lookup = std::make_unique<LookupScan>(shape);
  std::vector<std::int32_t> rows(static_cast<std::size_t>(ids.size()));
  for (std::int64_t i = 0; i < ids.size(); ++i) {
    check(ids[i] >= 0.0f && ids[i] < static_cast<float>(shape.rows) && ids[i] == std::floor(ids[i]), where(),
          ": id ", ids[i], " at flat position ", i, " of a table lookup is not a row of the table ",
          shape_string(lookup.table.shape()));
    rows[i] = static_cast<std::int32_t>(ids[i]);
  }
  Tensor sequence = options_.return_sequences ? Tensor::uninitialized({batch, timesteps, units}) : Tensor();
  std::vector<Tensor> final_states;
  for (std::size_t k = 0; k < states.size(); ++k)
    final_states.push_back(Tensor::uninitialized({batch, units}));
  scans_.lookup->forward(rows.data(), lookup.table.data(), kernel().data(), recurrent_kernel().data(),
                         bias() ? bias()->data() : nullptr, read_pointers(states),
                         sequence.empty() ? nullptr : sequence.data(), write_pointers(final_states));
  trained.batch = batch;
  trained.timesteps = timesteps;
  trained.scan = TrainingScan::lookup;
  return fast_scan_results(std::move(trained), std::move(sequence), std::move(final_states));
}

InputGrads Recurrent::lookup_backward(const std::vector<Tensor>& output_grads) {
  const LookupScanShape& shape = scans_.lookup->shape();
  const std::vector<Tensor> final_state_grads = this->final_state_grads(output_grads);
  InputGrads grads{Tensor(), {}, Tensor::uninitialized({shape.rows, shape.features})};
  std::vector<Tensor> initial_state_grads;
  for (std::size_t k = 0; k < final_state_grads.size(); ++k)
    initial_state_grads.push_back(Tensor::uninitialized({shape.batch, units_}));
  scans_.lookup->backward(options_.return_sequences ? output_grads[0].data() : nullptr,
                          read_pointers(final_state_grads), kernel().data(), recurrent_kernel().data(),
                          grads.table.data(), write_pointers(initial_state_grads), own_grad(0).data(),
                          recurrent_kernel_grad().data(), bias_grad() ? bias_grad()->data() : nullptr);
  if (trained_.had_initial_state) grads.initial_state = std::move(initial_state_grads);
  return grads;
}

void Recurrent::accumulate_recurrent_grads(const Tensor& recurrent_inputs, const Tensor& /*step_values*/,
                                           const Tensor& recurrent_grads) {
  const std::int64_t rows = recurrent_inputs.dim(0), units = units_, gate_units = gate_count() * units_;
  gemm(true, false, units, gate_units, rows, 1.0f, recurrent_inputs.data(), units, recurrent_grads.data(),
       gate_units, 1.0f, recurrent_kernel_grad().data(), gate_units);
}

nlohmann::json Recurrent::config() const {
  nlohmann::json config = Layer::config();
  config["return_sequences"] = options_.return_sequences;
  config["return_state"] = options_.return_state;
  config["go_backwards"] = options_.go_backwards;
  config["stateful"] = options_.stateful;
  config["unroll"] = options_.unroll;
  config["time_major"] = false;
  config["units"] = units_;
  config["activation"] = activation_name(activation_);
  config["use_bias"] = options_.use_bias;
  config["kernel_initializer"] = options_.kernel_initializer;
  config["recurrent_initializer"] = options_.recurrent_initializer;
  config["bias_initializer"] = options_.bias_initializer;
  config["kernel_regularizer"] = regularizer_config(options_.kernel_regularizer);
  config["recurrent_regularizer"] = regularizer_config(options_.recurrent_regularizer);
  config["bias_regularizer"] = regularizer_config(options_.bias_regularizer);
  config["activity_regularizer"] = regularizer_config(options_.activity_regularizer);
  config["kernel_constraint"] = constraint_config(options_.kernel_constraint);
  config["recurrent_constraint"] = constraint_config(options_.recurrent_constraint);
  config["bias_constraint"] = constraint_config(options_.bias_constraint);
  config["dropout"] = config_number(options_.dropout);
  config["recurrent_dropout"] = config_number(options_.recurrent_dropout);
  return config;
}

}  // namespace rnnkit
