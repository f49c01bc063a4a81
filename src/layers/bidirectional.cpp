#include "rnnkit/layers/bidirectional.h"

#include <algorithm>

#include "rnnkit/error.h"

namespace rnnkit {
namespace {

// (B,T,U) with its timesteps in the other order.
Tensor reverse_time(const Tensor& sequence) {
  const std::int64_t batch = sequence.dim(0), timesteps = sequence.dim(1), units = sequence.dim(2);
  Tensor reversed(sequence.shape());
  for (std::int64_t b = 0; b < batch; ++b)
    for (std::int64_t t = 0; t < timesteps; ++t)
      std::copy_n(sequence.data() + (b * timesteps + t) * units, units,
                  reversed.data() + (b * timesteps + timesteps - 1 - t) * units);
  return reversed;
}

}  // namespace

namespace {

// Bidirectional(LSTM(8, input_shape=...)) declares the input shape of the wrapper.
InputSpec bidirectional_input(const Recurrent& layer, const BidirectionalOptions& options) {
  if (options.input_shape || options.batch_input_shape || !layer.declared_batch_input_shape())
    return {.input_shape = options.input_shape, .batch_input_shape = options.batch_input_shape};
  return {.batch_input_shape = layer.declared_batch_input_shape()};
}

}  // namespace

Bidirectional::Bidirectional(const Recurrent& layer, const BidirectionalOptions& options)
    : Layer("Bidirectional", "bidirectional", options.name, bidirectional_input(layer, options)),
      layer_config_({{"class_name", layer.class_name()}, {"config", layer.config()}}) {
  const std::optional<std::string>& mode = options.merge_mode;
  if (!mode) merge_ = Merge::none;
  else if (*mode == "concat") merge_ = Merge::concat;
  else if (*mode == "sum") merge_ = Merge::sum;
  else if (*mode == "mul") merge_ = Merge::mul;
  else if (*mode == "ave") merge_ = Merge::ave;
  else fail(where(), ": unknown merge_mode '", *mode, "' (known: concat, sum, mul, ave, or None)");
  check(!layer.built(), where(), ": the wrapped layer '", layer.name(), "' must not be built yet");
  const bool go_backwards = layer.options().go_backwards;
  forward_ = layer.copy_as("forward_" + layer.name(), go_backwards);
  backward_ = layer.copy_as("backward_" + layer.name(), !go_backwards);
  forward_->set_zero_output_for_mask(layer.options().return_sequences);
  backward_->set_zero_output_for_mask(layer.options().return_sequences);
}

Bidirectional::Bidirectional(const Bidirectional& other)
    : Layer(other),
      merge_(other.merge_),
      layer_config_(other.layer_config_),
      forward_(other.forward_->copy_as(other.forward_->name(), other.forward_->options().go_backwards)),
      backward_(other.backward_->copy_as(other.backward_->name(), other.backward_->options().go_backwards)) {}

std::vector<Param*> Bidirectional::params() {
  std::vector<Param*> all = forward_->params();
  for (Param* param : backward_->params()) all.push_back(param);
  return all;
}

std::vector<std::string> Bidirectional::weight_names() const {
  std::vector<std::string> names;
  for (const Recurrent* copy : {forward_.get(), backward_.get()})
    for (const std::string& inner : copy->weight_names()) names.push_back(name() + "/" + inner);
  return names;
}

std::vector<Shape> Bidirectional::compute_output_shapes(const Shape& input_shape) const {
  std::vector<Shape> forward_shapes = forward_->output_shapes();
  std::vector<Shape> shapes;
  Shape output = forward_shapes[0];
  if (merge_ == Merge::concat) output.back() *= 2;
  shapes.push_back(output);
  if (merge_ == Merge::none) shapes.push_back(output);
  (void)input_shape;
  for (int copy = 0; copy < 2; ++copy)
    shapes.insert(shapes.end(), forward_shapes.begin() + 1, forward_shapes.end());
  return shapes;
}

void Bidirectional::build_weights(const Shape& input_shape, Rng& rng) {
  forward_->build(input_shape, rng);
  backward_->build(input_shape, rng);
}

std::optional<Tensor> Bidirectional::compute_mask(const Tensor& x, const Tensor* mask) const {
  return forward_->compute_mask(x, mask);
}

void Bidirectional::reset_states() {
  forward_->reset_states();
  backward_->reset_states();
}

std::vector<Tensor> Bidirectional::forward(const Tensor& x, const CallArgs& args) {
  const std::size_t states = static_cast<std::size_t>(forward_->state_count());
  CallArgs forward_args{.mask = args.mask, .initial_state = {}, .training = args.training, .rng = args.rng};
  CallArgs backward_args = forward_args;
  if (!args.initial_state.empty()) {
    check(args.initial_state.size() == 2 * states, where(), " takes ", 2 * states,
          " initial state tensors (forward ones, then backward ones), received ", args.initial_state.size());
    forward_args.initial_state.assign(args.initial_state.begin(), args.initial_state.begin() + long(states));
    backward_args.initial_state.assign(args.initial_state.begin() + long(states), args.initial_state.end());
  }
  std::vector<Tensor> forward_outputs = forward_->call(x, forward_args);
  std::vector<Tensor> backward_outputs = backward_->call(x, backward_args);
  Tensor& y_forward = forward_outputs[0];
  Tensor y_backward = forward_->options().return_sequences ? reverse_time(backward_outputs[0])
                                                           : std::move(backward_outputs[0]);
  if (args.training && merge_ == Merge::mul) {
    trained_forward_output_ = y_forward;
    trained_backward_output_ = y_backward;
  }
  std::vector<Tensor> results;
  if (merge_ == Merge::none) {
    results.push_back(std::move(y_forward));
    results.push_back(std::move(y_backward));
  } else if (merge_ == Merge::concat) {
    const std::int64_t units = y_forward.dim(-1), rows = y_forward.size() / units;
    Shape shape = y_forward.shape();
    shape.back() = 2 * units;
    Tensor merged(shape);
    for (std::int64_t r = 0; r < rows; ++r) {
      std::copy_n(y_forward.data() + r * units, units, merged.data() + r * 2 * units);
      std::copy_n(y_backward.data() + r * units, units, merged.data() + r * 2 * units + units);
    }
    results.push_back(std::move(merged));
  } else {
    for (std::int64_t i = 0; i < y_forward.size(); ++i) {
      const float f = y_forward[i], b = y_backward[i];
      y_forward[i] = merge_ == Merge::sum ? f + b : merge_ == Merge::mul ? f * b : (f + b) / 2.0f;
    }
    results.push_back(std::move(y_forward));
  }
  for (std::size_t k = 1; k < forward_outputs.size(); ++k) results.push_back(std::move(forward_outputs[k]));
  for (std::size_t k = 1; k < backward_outputs.size(); ++k) results.push_back(std::move(backward_outputs[k]));
  return results;
}

InputGrads Bidirectional::backward_pass(const std::vector<Tensor>& output_grads) {
  const bool two_outputs = merge_ == Merge::none;
  const Tensor& merged = output_grads[0];
  Tensor forward_grad, backward_grad;  // dL/d(y_forward), dL/d(y_backward in forward time order)
  if (two_outputs) {
    forward_grad = output_grads[0];
    backward_grad = output_grads[1];
  } else if (merge_ == Merge::concat) {
    const std::int64_t units = merged.dim(-1) / 2, rows = merged.size() / (2 * units);
    Shape shape = merged.shape();
    shape.back() = units;
    forward_grad = Tensor(shape);
    backward_grad = Tensor(shape);
    for (std::int64_t r = 0; r < rows; ++r) {
      std::copy_n(merged.data() + r * 2 * units, units, forward_grad.data() + r * units);
      std::copy_n(merged.data() + r * 2 * units + units, units, backward_grad.data() + r * units);
    }
  } else {
    forward_grad = merged;
    backward_grad = merged;
    for (std::int64_t i = 0; i < merged.size(); ++i) {
      if (merge_ == Merge::ave) forward_grad[i] = backward_grad[i] = merged[i] / 2.0f;
      if (merge_ == Merge::mul) {
        forward_grad[i] = merged[i] * trained_backward_output_[i];
        backward_grad[i] = merged[i] * trained_forward_output_[i];
      }
    }
  }
  if (forward_->options().return_sequences) backward_grad = reverse_time(backward_grad);
  const std::size_t first_state = two_outputs ? 2 : 1;
  const std::size_t states = (output_grads.size() - first_state) / 2;
  std::vector<Tensor> forward_grads{std::move(forward_grad)}, backward_grads{std::move(backward_grad)};
  for (std::size_t k = 0; k < states; ++k) {
    forward_grads.push_back(output_grads[first_state + k]);
    backward_grads.push_back(output_grads[first_state + states + k]);
  }
  InputGrads from_forward = forward_->backward(forward_grads);
  InputGrads from_backward = backward_->backward(backward_grads);
  for (std::int64_t i = 0; i < from_forward.input.size(); ++i) from_forward.input[i] += from_backward.input[i];
  for (Tensor& state : from_backward.initial_state) from_forward.initial_state.push_back(std::move(state));
  return from_forward;
}

nlohmann::json Bidirectional::config() const {
  nlohmann::json config = Layer::config();
  config["layer"] = layer_config_;
  static constexpr const char* kMergeNames[] = {"concat", "sum", "mul", "ave"};
  config["merge_mode"] =
      merge_ == Merge::none ? nlohmann::json(nullptr) : nlohmann::json(kMergeNames[static_cast<int>(merge_)]);
  return config;
}

}  // namespace rnnkit
