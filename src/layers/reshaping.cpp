#include "rnnkit/layers/reshaping.h"

#include <algorithm>
#include <numeric>

#include "rnnkit/error.h"

namespace rnnkit {
namespace {

// x with its axes reordered: output axis i is input axis axes[i].
Tensor transpose(const Tensor& x, const std::vector<int>& axes) {
  const int rank = x.rank();
  std::vector<std::int64_t> input_strides(static_cast<std::size_t>(rank), 1);
  for (int axis = rank - 2; axis >= 0; --axis)
    input_strides[axis] = input_strides[axis + 1] * x.dim(axis + 1);
  Shape shape(static_cast<std::size_t>(rank));
  std::vector<std::int64_t> strides(static_cast<std::size_t>(rank));  // input stride of each output axis
  for (int i = 0; i < rank; ++i) {
    shape[i] = x.dim(axes[i]);
    strides[i] = input_strides[axes[i]];
  }
  Tensor y = Tensor::uninitialized(shape);
  std::vector<std::int64_t> index(static_cast<std::size_t>(rank), 0);
  std::int64_t source = 0;
  for (std::int64_t k = 0; k < y.size(); ++k) {
    y[k] = x[source];
    // Advance the output index like an odometer, keeping `source` the matching input offset.
    for (int axis = rank - 1; axis >= 0; --axis) {
      source += strides[axis];
      if (++index[axis] < shape[axis]) break;
      source -= strides[axis] * shape[axis];
      index[axis] = 0;
    }
  }
  return y;
}

std::vector<int> inverse(const std::vector<int>& axes) {
  std::vector<int> result(axes.size());
  for (std::size_t i = 0; i < axes.size(); ++i)
    result[static_cast<std::size_t>(axes[i])] = static_cast<int>(i);
  return result;
}

// The values of one sample, or kNone where a dimension is unknown.
std::int64_t per_sample(const Shape& shape) {
  std::int64_t count = 1;
  for (std::size_t i = 1; i < shape.size(); ++i) {
    if (shape[i] == kNone) return kNone;
    count *= shape[i];
  }
  return count;
}

// Flatten's channels_first order: (0, 2, ..., rank-1, 1).
std::vector<int> channels_last_axes(int rank) {
  std::vector<int> axes{0};
  for (int axis = 2; axis < rank; ++axis) axes.push_back(axis);
  axes.push_back(1);
  return axes;
}

// "(5, -1)": a target shape as Keras prints the tuple (-1 is not None here).
std::string target_text(const Shape& shape) {
  std::string text = "(";
  for (std::size_t i = 0; i < shape.size(); ++i) text += (i ? ", " : "") + std::to_string(shape[i]);
  return text + (shape.size() == 1 ? ",)" : ")");
}

}  // namespace

// ---- Flatten

Flatten::Flatten(const FlattenOptions& options)
    : Layer("Flatten", "flatten", options.name,
            {.input_shape = options.input_shape, .batch_input_shape = options.batch_input_shape}),
      data_format_(options.data_format) {
  check(data_format_ == "channels_last" || data_format_ == "channels_first", where(),
        ": data_format must be 'channels_last' or 'channels_first', received '", data_format_, "'");
}

std::vector<Shape> Flatten::compute_output_shapes(const Shape& input_shape) const {
  return {{input_shape.empty() ? 1 : input_shape[0], per_sample(input_shape)}};
}

void Flatten::build_weights(const Shape& input_shape, Rng& /*rng*/) {
  check(!input_shape.empty(), where(),
        ": expected an input of rank 1 or more (batch first), received a scalar");
}

// Keras moves the channels of a channels_first input last first, so the values come out in channels_last
// order.
std::vector<Tensor> Flatten::forward(const Tensor& x, const CallArgs& args) {
  if (args.training) trained_input_shape_ = x.shape();
  const Tensor& ordered =
      data_format_ == "channels_first" && x.rank() > 2 ? transpose(x, channels_last_axes(x.rank())) : x;
  return {ordered.reshaped({x.dim(0), per_sample(x.shape())})};
}

InputGrads Flatten::backward_pass(const std::vector<Tensor>& output_grads) {
  const Shape& shape = trained_input_shape_;
  const int rank = static_cast<int>(shape.size());
  if (data_format_ != "channels_first" || rank <= 2) return {output_grads[0].reshaped(shape)};
  const std::vector<int> axes = channels_last_axes(rank);
  Shape ordered(shape.size());
  for (int i = 0; i < rank; ++i) ordered[i] = shape[axes[i]];
  return {transpose(output_grads[0].reshaped(ordered), inverse(axes))};
}

nlohmann::json Flatten::config() const {
  nlohmann::json config = Layer::config();
  config["data_format"] = data_format_;
  return config;
}

// ---- Reshape

Reshape::Reshape(Shape target_shape, const ShapeLayerOptions& options)
    : Layer("Reshape", "reshape", options.name,
            {.input_shape = options.input_shape, .batch_input_shape = options.batch_input_shape}),
      target_shape_(std::move(target_shape)) {
  for (std::int64_t extent : target_shape_)
    check(extent > 0 || extent == -1, where(), ": target_shape ", target_text(target_shape_),
          " has a dimension that is neither positive nor -1");
  check(std::ranges::count(target_shape_, -1) <= 1, where(), ": target_shape ", target_text(target_shape_),
        " may contain -1 only once");
}

Shape Reshape::resolved(std::int64_t values, const Shape& input_shape) const {
  std::int64_t known = 1;
  for (std::int64_t extent : target_shape_)
    if (extent != -1) known *= extent;
  Shape shape = target_shape_;
  const auto unknown = std::ranges::find(shape, -1);
  const bool fits = unknown == shape.end() ? known == values : values % known == 0;
  check(fits, where(), ": cannot reshape an input of shape ", shape_string(input_shape), " (", values,
        " values per sample) to target_shape ", target_text(target_shape_),
        unknown == shape.end()
            ? " (" + std::to_string(known) + " values)"
            : " (the known dimensions' product, " + std::to_string(known) + ", does not divide the input)");
  if (unknown != shape.end()) *unknown = values / known;
  return shape;
}

std::vector<Shape> Reshape::compute_output_shapes(const Shape& input_shape) const {
  Shape output{input_shape.empty() ? kNone : input_shape[0]};
  const std::int64_t values = per_sample(input_shape);
  // With an unknown input dimension, the -1 stays unknown (None) until a call, as in Keras.
  const Shape target = values == kNone ? target_shape_ : resolved(values, input_shape);
  output.insert(output.end(), target.begin(), target.end());
  return {output};
}

void Reshape::build_weights(const Shape& input_shape, Rng& /*rng*/) {
  check(!input_shape.empty(), where(),
        ": expected an input of rank 1 or more (batch first), received a scalar");
  if (const std::int64_t values = per_sample(input_shape); values != kNone) resolved(values, input_shape);
}

std::vector<Tensor> Reshape::forward(const Tensor& x, const CallArgs& args) {
  if (args.training) trained_input_shape_ = x.shape();
  Shape output{x.dim(0)};
  const Shape target = resolved(per_sample(x.shape()), x.shape());
  output.insert(output.end(), target.begin(), target.end());
  return {x.reshaped(output)};
}

InputGrads Reshape::backward_pass(const std::vector<Tensor>& output_grads) {
  return {output_grads[0].reshaped(trained_input_shape_)};
}

nlohmann::json Reshape::config() const {
  nlohmann::json config = Layer::config();
  config["target_shape"] = target_shape_;
  return config;
}

// ---- Permute

Permute::Permute(std::vector<int> dims, const ShapeLayerOptions& options)
    : Layer("Permute", "permute", options.name,
            {.input_shape = options.input_shape, .batch_input_shape = options.batch_input_shape}),
      dims_(std::move(dims)) {
  std::vector<int> sorted = dims_;
  std::ranges::sort(sorted);
  std::vector<int> expected(dims_.size());
  std::iota(expected.begin(), expected.end(), 1);
  std::string text;
  for (int dim : dims_) text += (text.empty() ? "" : ", ") + std::to_string(dim);
  check(!dims_.empty() && sorted == expected, where(), ": dims (", text,
        ") must be a permutation of 1..n (1-based, the batch axis excluded)");
}

std::vector<Shape> Permute::compute_output_shapes(const Shape& input_shape) const {
  Shape output{input_shape[0]};
  for (int dim : dims_) output.push_back(input_shape[static_cast<std::size_t>(dim)]);
  return {output};
}

void Permute::build_weights(const Shape& input_shape, Rng& /*rng*/) {
  check(input_shape.size() == dims_.size() + 1, where(), ": dims has ", dims_.size(),
        " entries, so the input must have rank ", dims_.size() + 1, " (batch first), received ",
        shape_string(input_shape));
}

std::vector<Tensor> Permute::forward(const Tensor& x, const CallArgs& /*args*/) {
  std::vector<int> axes{0};
  axes.insert(axes.end(), dims_.begin(), dims_.end());
  return {transpose(x, axes)};
}

InputGrads Permute::backward_pass(const std::vector<Tensor>& output_grads) {
  std::vector<int> axes{0};
  axes.insert(axes.end(), dims_.begin(), dims_.end());
  return {transpose(output_grads[0], inverse(axes))};
}

nlohmann::json Permute::config() const {
  nlohmann::json config = Layer::config();
  config["dims"] = dims_;
  return config;
}

// ---- RepeatVector

RepeatVector::RepeatVector(std::int64_t n, const ShapeLayerOptions& options)
    : Layer("RepeatVector", "repeat_vector", options.name,
            {.input_shape = options.input_shape, .batch_input_shape = options.batch_input_shape}),
      n_(n) {
  check(n > 0, where(), ": n must be a positive number of repetitions, received ", n);
}

std::vector<Shape> RepeatVector::compute_output_shapes(const Shape& input_shape) const {
  return {{input_shape[0], n_, input_shape[1]}};
}

void RepeatVector::build_weights(const Shape& input_shape, Rng& /*rng*/) {
  check(input_shape.size() == 2, where(), ": expected an input of rank 2 (batch, features), received ",
        shape_string(input_shape));
}

// y[b, i, :] = x[b, :] for every i < n.
std::vector<Tensor> RepeatVector::forward(const Tensor& x, const CallArgs& /*args*/) {
  const std::int64_t batch = x.dim(0), features = x.dim(1);
  Tensor y = Tensor::uninitialized({batch, n_, features});
  for (std::int64_t b = 0; b < batch; ++b)
    for (std::int64_t i = 0; i < n_; ++i)
      std::copy_n(x.data() + b * features, features, y.data() + (b * n_ + i) * features);
  return {std::move(y)};
}

// dL/dx[b, :] = Σ_i dL/dy[b, i, :].
InputGrads RepeatVector::backward_pass(const std::vector<Tensor>& output_grads) {
  const Tensor& grad = output_grads[0];
  const std::int64_t batch = grad.dim(0), features = grad.dim(2);
  Tensor input_grad({batch, features});
  for (std::int64_t b = 0; b < batch; ++b)
    for (std::int64_t i = 0; i < n_; ++i)
      for (std::int64_t f = 0; f < features; ++f)
        input_grad[b * features + f] += grad[(b * n_ + i) * features + f];
  return {std::move(input_grad)};
}

nlohmann::json RepeatVector::config() const {
  nlohmann::json config = Layer::config();
  config["n"] = n_;
  return config;
}

}  // namespace rnnkit
