#include "rnnkit/layer.h"

#include <algorithm>
#include <map>
#include <mutex>

#include "rnnkit/error.h"

namespace rnnkit {
namespace {

struct NameCounters {
  std::mutex lock;
  std::map<std::string, int, std::less<>> used;
};

NameCounters& name_counters() {
  static NameCounters counters;
  return counters;
}

std::optional<Shape> resolve_batch_input_shape(const InputSpec& input, std::string_view snake_name) {
  check(!(input.input_shape && input.batch_input_shape), snake_name,
        ": give input_shape or batch_input_shape, not both");
  if (input.batch_input_shape) {
    check(!input.batch_size, snake_name, ": batch_size goes with input_shape, not batch_input_shape");
    return input.batch_input_shape;
  }
  if (!input.input_shape) return std::nullopt;
  Shape shape{input.batch_size.value_or(kNone)};
  shape.insert(shape.end(), input.input_shape->begin(), input.input_shape->end());
  return shape;
}

}  // namespace

std::string unique_object_name(std::string_view base_name, bool zero_based) {
  NameCounters& counters = name_counters();
  std::lock_guard guard(counters.lock);
  auto [entry, first] = counters.used.try_emplace(std::string(base_name), zero_based ? 0 : 1);
  const int index = entry->second++;
  return index == 0 ? std::string(base_name) : std::string(base_name) + "_" + std::to_string(index);
}

void clear_session() {
  NameCounters& counters = name_counters();
  std::lock_guard guard(counters.lock);
  counters.used.clear();
}

void check_compatible_shape(const Shape& expected, const Shape& received, std::string_view where) {
  bool compatible = expected.size() == received.size();
  for (std::size_t i = 0; compatible && i < expected.size(); ++i)
    compatible = expected[i] == kNone || received[i] == kNone || expected[i] == received[i];
  check(compatible, where, ": expected input shape ", shape_string(expected), ", received ",
        shape_string(received));
}

Layer::Layer(std::string_view class_name, std::string_view snake_name, std::string name,
             const InputSpec& input)
    : class_name_(class_name),
      name_(name.empty() ? unique_object_name(snake_name) : std::move(name)),
      declared_batch_input_shape_(resolve_batch_input_shape(input, snake_name)) {
  if (declared_batch_input_shape_)
    for (std::int64_t extent : *declared_batch_input_shape_)
      check(extent == kNone || extent > 0, where(), ": input shape ",
            shape_string(*declared_batch_input_shape_), " has a dimension that is not positive");
}

std::string Layer::where() const {
  return "layer '" + name_ + "' (" + class_name() + ")";
}

void Layer::build(const Shape& input_shape, Rng& rng) {
  if (built_input_shape_) {
    check_compatible_shape(*built_input_shape_, input_shape, where());
    return;
  }
  build_weights(input_shape, rng);
  built_input_shape_ = input_shape;
}

const Shape& Layer::input_shape() const {
  check(built(), where(), " has not been built yet: its input shape is unknown");
  return *built_input_shape_;
}

std::vector<Param*> Layer::params() {
  std::vector<Param*> all;
  for (Param& param : params_) all.push_back(&param);
  return all;
}

std::vector<const Param*> Layer::params() const {
  std::vector<Param*> all = const_cast<Layer*>(this)->params();
  return {all.begin(), all.end()};
}

std::vector<Param*> Layer::trainable_params() {
  std::vector<Param*> trainable;
  if (trainable_)
    for (Param* param : params())
      if (param->trainable) trainable.push_back(param);
  return trainable;
}

std::int64_t Layer::count_params() const {
  std::int64_t total = 0;
  for (const Param* param : params()) total += param->value.size();
  return total;
}

std::int64_t Layer::count_trainable_params() const {
  std::int64_t total = 0;
  for (const Param* param : const_cast<Layer*>(this)->trainable_params()) total += param->value.size();
  return total;
}

std::vector<std::string> Layer::weight_names() const {
  std::vector<std::string> names;
  for (const Param* param : params()) names.push_back(name_ + "/" + param->name + ":0");
  return names;
}

std::vector<Tensor> Layer::get_weights() const {
  std::vector<Tensor> weights;
  for (const Param* param : params()) weights.push_back(param->value);
  return weights;
}

void Layer::set_weights(const std::vector<Tensor>& weights) {
  std::vector<Param*> targets = params();
  check(weights.size() == targets.size(), where(), " has ", targets.size(), " weights, received ",
        weights.size(), built() ? "" : " (the layer is not built yet: give it an input shape first)");
  for (std::size_t i = 0; i < weights.size(); ++i)
    check(weights[i].shape() == targets[i]->value.shape(), where(), ": weight '", targets[i]->name,
          "' has shape ", shape_string(targets[i]->value.shape()), ", received ",
          shape_string(weights[i].shape()));
  for (std::size_t i = 0; i < weights.size(); ++i) targets[i]->value = weights[i];
}

void Layer::build_for_call(const Tensor& x, const CallArgs& /*args*/, Rng& rng) {
  Shape shape = x.shape();
  // A declared batch size stays (stateful layers need it); otherwise the batch is free, as in Keras.
  if (!shape.empty())
    shape[0] = declared_batch_input_shape_ && !declared_batch_input_shape_->empty()
                   ? (*declared_batch_input_shape_)[0]
                   : kNone;
  build(shape, rng);
}

std::vector<Tensor> Layer::call(const Tensor& x, const CallArgs& args) {
  if (!built()) {
    Rng rng;
    build_for_call(x, args, rng);
  }
  Shape accepted = input_shape();
  if (!stateful() && !accepted.empty()) accepted[0] = kNone;  // a fixed batch size binds stateful layers only
  check_compatible_shape(accepted, x.shape(), where());
  if (args.mask) {
    check(args.mask->rank() == 2 && x.rank() >= 2 && args.mask->dim(0) == x.dim(0) &&
              args.mask->dim(1) == x.dim(1),
          where(), ": a mask must have shape (batch, timesteps) = (", x.rank() >= 2 ? x.dim(0) : 0, ", ",
          x.rank() >= 2 ? x.dim(1) : 0, "), received ", shape_string(args.mask->shape()));
  }
  std::vector<Tensor> outputs = forward(x, args);
  activity_loss_ = 0.0;
  if (activity_regularizer_)
    for (const Tensor& output : outputs)
      activity_loss_ += activity_regularizer_->penalty(output, where()) / static_cast<double>(output.dim(0));
  if (!args.training) return outputs;
  trained_output_shapes_.clear();
  for (const Tensor& output : outputs) trained_output_shapes_.push_back(output.shape());
  if (activity_regularizer_) trained_outputs_ = outputs;
  return outputs;
}

void Layer::add_activity_grads(std::vector<Tensor>& output_grads) const {
  if (!activity_regularizer_) return;
  for (std::size_t i = 0; i < output_grads.size() && i < trained_outputs_.size(); ++i) {
    const Tensor& output = trained_outputs_[i];
    activity_regularizer_->add_gradient(output, output_grads[i], 1.0 / static_cast<double>(output.dim(0)),
                                        where());
  }
}

double Layer::regularization_loss() const {
  double total = activity_loss();
  for (const Param* param : params())
    if (param->regularizer) total += param->regularizer->penalty(param->value, where());
  return total;
}

void Layer::add_regularization_grads() {
  for (Param* param : params())
    if (param->regularizer) param->regularizer->add_gradient(param->value, param->grad, 1.0, where());
}

InputGrads Layer::backward(std::vector<Tensor> output_grads) {
  check(!trained_output_shapes_.empty(), where(),
        ": backward() needs a forward call with training=true first");
  check(output_grads.size() == trained_output_shapes_.size(), where(), ": backward() takes ",
        trained_output_shapes_.size(), " output gradient(s), one per output, received ", output_grads.size());
  for (std::size_t i = 0; i < output_grads.size(); ++i) {
    if (output_grads[i].empty()) {
      output_grads[i] = Tensor(trained_output_shapes_[i]);
      continue;
    }
    check(output_grads[i].shape() == trained_output_shapes_[i], where(), ": the gradient of output ", i,
          " must have the output's shape ", shape_string(trained_output_shapes_[i]), ", received ",
          shape_string(output_grads[i].shape()));
  }
  add_activity_grads(output_grads);
  return backward_pass(output_grads);
}

void Layer::zero_grads() {
  for (Param* param : params()) std::fill(param->grad.values().begin(), param->grad.values().end(), 0.0f);
}

std::optional<Tensor> Layer::compute_mask(const Tensor& /*x*/, const Tensor* mask) const {
  if (!mask) return std::nullopt;
  return *mask;
}

Tensor& Layer::add_param(std::string param_name, Shape shape, std::optional<Regularizer> regularizer,
                         std::optional<Constraint> constraint) {
  // 2^31 floats is 8 GiB: anything larger is a typo in a config, not a model this machine can hold.
  constexpr std::int64_t kMaxWeightElements = std::int64_t{1} << 31;
  check(element_count(shape) <= kMaxWeightElements, where(), ": weight '", param_name, "' of shape ",
        shape_string(shape), " is too large (more than 2^31 values); check the layer's sizes");
  if (constraint)
    for (int axis : constraint->axes)
      check(axis >= -static_cast<int>(shape.size()) && axis < static_cast<int>(shape.size()), where(),
            ": the constraint of weight '", param_name, "' has axis ", axis, ", out of range for its shape ",
            shape_string(shape));
  Tensor grad(shape);
  params_.push_back(
      {std::move(param_name), Tensor(std::move(shape)), std::move(grad), regularizer, constraint});
  return params_.back().value;
}

Tensor& Layer::add_non_trainable_param(std::string param_name, Shape shape) {
  Tensor& value = add_param(std::move(param_name), std::move(shape));
  params_.back().trainable = false;
  return value;
}

nlohmann::json Layer::config() const {
  nlohmann::json config{{"name", name_}, {"trainable", trainable_}, {"dtype", "float32"}};
  if (declared_batch_input_shape_) {
    nlohmann::json shape = nlohmann::json::array();
    for (std::int64_t extent : *declared_batch_input_shape_)
      shape.push_back(extent == kNone ? nlohmann::json(nullptr) : nlohmann::json(extent));
    config["batch_input_shape"] = shape;
  }
  return config;
}

namespace {

Shape with_free_batch(Shape shape) {
  if (!shape.empty()) shape[0] = kNone;
  return shape;
}

}  // namespace

void ListInputLayer::check_list_size(std::size_t size) const {
  const auto [fewest, most] = list_size_range();
  check(size >= fewest && size <= most, where(), " is called on a list of ", fewest,
        most == fewest ? "" : most == SIZE_MAX ? " or more" : " to " + std::to_string(most),
        " tensors, received ", size == 1 ? "one tensor" : std::to_string(size));
}

void ListInputLayer::build_list(const std::vector<Shape>& input_shapes, Rng& rng) {
  check_list_size(input_shapes.size());
  if (built()) {
    check(input_shapes.size() == input_shapes_.size(), where(), " was built for a list of ",
          input_shapes_.size(), " tensors, received ", input_shapes.size());
    for (std::size_t i = 0; i < input_shapes.size(); ++i)
      check_compatible_shape(input_shapes_[i], input_shapes[i], where() + " input " + std::to_string(i));
    return;
  }
  compute_list_output_shapes(input_shapes);  // checks the shapes agree
  build_list_weights(input_shapes, rng);
  input_shapes_ = input_shapes;
  build(input_shapes.front(), rng);
}

const std::vector<Shape>& ListInputLayer::input_shapes() const {
  check(built(), where(), " has not been built yet: its input shapes are unknown");
  return input_shapes_;
}

std::vector<Shape> ListInputLayer::list_output_shapes(const std::vector<Shape>& input_shapes) const {
  check_list_size(input_shapes.size());
  return compute_list_output_shapes(input_shapes);
}

std::vector<Tensor> ListInputLayer::call_list(const std::vector<Tensor>& inputs,
                                              const std::vector<const Tensor*>& masks, bool training, Rng* rng) {
  check_list_size(inputs.size());
  check(masks.empty() || masks.size() == inputs.size(), where(), ": give one mask per input (", inputs.size(),
        "), or none; received ", masks.size());
  CallArgs args{.mask = masks.empty() ? nullptr : masks[0], .training = training, .rng = rng};
  for (std::size_t i = 1; i < inputs.size(); ++i) {
    args.more_inputs.push_back(&inputs[i]);
    if (!masks.empty()) args.more_masks.push_back(masks[i]);
  }
  return call(inputs[0], args);
}

void ListInputLayer::build_list_weights(const std::vector<Shape>& /*input_shapes*/, Rng& /*rng*/) {}

std::vector<Shape> ListInputLayer::compute_output_shapes(const Shape& /*input_shape*/) const {
  return compute_list_output_shapes(input_shapes());
}

void ListInputLayer::build_weights(const Shape& /*input_shape*/, Rng& /*rng*/) {
  check(!input_shapes_.empty(), where(), " is built from the shapes of a list of tensors (build_list)");
}

void ListInputLayer::build_for_call(const Tensor& x, const CallArgs& args, Rng& rng) {
  std::vector<Shape> shapes{with_free_batch(x.shape())};
  for (const Tensor* input : args.more_inputs) shapes.push_back(with_free_batch(input->shape()));
  build_list(shapes, rng);
}

namespace {

// The list a call on a list was given: x and CallArgs::more_inputs, and their masks.
std::pair<std::vector<const Tensor*>, std::vector<const Tensor*>> list_of(const Tensor& x, const Tensor* mask,
                                                                          const CallArgs& args) {
  std::vector<const Tensor*> inputs{&x};
  inputs.insert(inputs.end(), args.more_inputs.begin(), args.more_inputs.end());
  std::vector<const Tensor*> masks{mask};
  masks.insert(masks.end(), args.more_masks.begin(), args.more_masks.end());
  masks.resize(inputs.size(), nullptr);
  return {std::move(inputs), std::move(masks)};
}

}  // namespace

std::vector<Tensor> ListInputLayer::forward(const Tensor& x, const CallArgs& args) {
  check(args.more_masks.size() <= args.more_inputs.size(), where(), ": more masks than inputs");
  const auto [inputs, masks] = list_of(x, args.mask, args);
  check(inputs.size() == input_shapes_.size(), where(), " was built for a list of ", input_shapes_.size(),
        " tensors, received ", inputs.size());
  for (std::size_t i = 1; i < inputs.size(); ++i) {
    Shape accepted = with_free_batch(input_shapes_[i]);
    check_compatible_shape(accepted, inputs[i]->shape(), where() + " input " + std::to_string(i));
    check(inputs[i]->dim(0) == x.dim(0), where(), ": every input needs the same batch size; input 0 has ",
          x.dim(0), ", input ", i, " has ", inputs[i]->dim(0));
  }
  return forward_list(inputs, masks, args);
}

InputGrads ListInputLayer::backward_pass(const std::vector<Tensor>& output_grads) {
  std::vector<Tensor> grads = backward_list(output_grads);
  InputGrads result{.input = std::move(grads.front())};
  result.more_inputs.assign(std::make_move_iterator(grads.begin() + 1), std::make_move_iterator(grads.end()));
  return result;
}

std::optional<Tensor> ListInputLayer::compute_mask(const Tensor& x, const Tensor* mask) const {
  return compute_call_mask(x, mask, {});
}

std::optional<Tensor> ListInputLayer::compute_call_mask(const Tensor& x, const Tensor* mask,
                                                        const CallArgs& args) const {
  const auto [inputs, masks] = list_of(x, mask, args);
  return compute_list_mask(inputs, masks);
}

std::optional<Tensor> ListInputLayer::compute_list_mask(const std::vector<const Tensor*>& /*inputs*/,
                                                        const std::vector<const Tensor*>& /*masks*/) const {
  return std::nullopt;
}

}  // namespace rnnkit
