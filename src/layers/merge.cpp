#include "rnnkit/layers/merge.h"

#include <algorithm>
#include <cmath>

#include "rnnkit/error.h"

namespace rnnkit {
namespace {

// Keras's _Merge mask: a step is kept where every given mask keeps it; no mask where none is given.
std::optional<Tensor> all_masks(const std::vector<const Tensor*>& masks) {
  std::optional<Tensor> result;
  for (const Tensor* mask : masks) {
    if (!mask) continue;
    if (!result) {
      result = *mask;
      continue;
    }
    for (std::int64_t i = 0; i < result->size(); ++i) (*result)[i] = (*result)[i] != 0.0f && (*mask)[i] != 0.0f;
  }
  return result;
}

std::string shapes_text(const std::vector<Shape>& shapes) {
  std::string text;
  for (const Shape& shape : shapes) text += (text.empty() ? "" : ", ") + shape_string(shape);
  return text;
}

}  // namespace

ElementwiseMerge::ElementwiseMerge(Operation operation, std::string_view class_name, std::string_view snake_name,
                                   const MergeOptions& options)
    : ListInputLayer(class_name, snake_name, options.name, {}), operation_(operation) {}

std::pair<std::size_t, std::size_t> ElementwiseMerge::list_size_range() const {
  if (operation_ == Operation::subtract) return {2, 2};
  return {1, SIZE_MAX};
}

std::vector<Shape> ElementwiseMerge::compute_list_output_shapes(const std::vector<Shape>& input_shapes) const {
  // Keras would also broadcast dimensions of size 1; text models merge equal shapes.
  Shape output = input_shapes.front();
  for (const Shape& shape : input_shapes) {
    check(shape.size() == output.size(), where(), " merges tensors of one shape, received ", shapes_text(input_shapes));
    for (std::size_t axis = 0; axis < shape.size(); ++axis) {
      check(shape[axis] == output[axis] || shape[axis] == kNone || output[axis] == kNone, where(),
            " merges tensors of one shape (rnnkit does not broadcast), received ", shapes_text(input_shapes));
      if (output[axis] == kNone) output[axis] = shape[axis];
    }
  }
  return {output};
}

std::vector<Tensor> ElementwiseMerge::forward_list(const std::vector<const Tensor*>& inputs,
                                                   const std::vector<const Tensor*>& /*masks*/,
                                                   const CallArgs& args) {
  for (const Tensor* input : inputs)
    check(input->shape() == inputs.front()->shape(), where(), " merges tensors of one shape, received ",
          shape_string(inputs.front()->shape()), " and ", shape_string(input->shape()));
  Tensor output = *inputs.front();
  const std::int64_t size = output.size();
  for (std::size_t k = 1; k < inputs.size(); ++k) {
    const Tensor& x = *inputs[k];
    for (std::int64_t i = 0; i < size; ++i) {
      switch (operation_) {
        case Operation::add:
        case Operation::average: output[i] += x[i]; break;
        case Operation::subtract: output[i] -= x[i]; break;
        case Operation::multiply: output[i] *= x[i]; break;
        // An earlier input wins a tie, as Keras's chain of tf.maximum(output, x) routes its gradient.
        case Operation::maximum: output[i] = x[i] > output[i] ? x[i] : output[i]; break;
        case Operation::minimum: output[i] = x[i] < output[i] ? x[i] : output[i]; break;
      }
    }
  }
  if (operation_ == Operation::average)
    for (float& value : output.values()) value /= static_cast<float>(inputs.size());
  trained_count_ = inputs.size();
  trained_inputs_.clear();
  const bool needs_inputs = operation_ == Operation::multiply || operation_ == Operation::maximum ||
                            operation_ == Operation::minimum;
  if (args.training && needs_inputs)
    for (const Tensor* input : inputs) trained_inputs_.push_back(*input);
  return {std::move(output)};
}

std::vector<Tensor> ElementwiseMerge::backward_list(const std::vector<Tensor>& output_grads) {
  const Tensor& grad = output_grads[0];
  const std::size_t count = trained_count_;
  std::vector<Tensor> grads(count, grad);
  switch (operation_) {
    case Operation::add: break;
    case Operation::subtract:
      for (float& value : grads[1].values()) value = -value;
      break;
    case Operation::average:
      for (Tensor& g : grads)
        for (float& value : g.values()) value /= static_cast<float>(count);
      break;
    case Operation::multiply:
      // d/dx_k of x_0 x_1 ... x_n: the product of the others, from prefix and suffix products (no division).
      for (std::int64_t i = 0; i < grad.size(); ++i) {
        float prefix = 1.0f;
        for (std::size_t k = 0; k < count; ++k) {
          grads[k][i] = prefix;
          prefix *= trained_inputs_[k][i];
        }
        float suffix = 1.0f;
        for (std::size_t k = count; k-- > 0;) {
          grads[k][i] *= suffix * grad[i];
          suffix *= trained_inputs_[k][i];
        }
      }
      break;
    case Operation::maximum:
    case Operation::minimum:
      for (std::int64_t i = 0; i < grad.size(); ++i) {
        std::size_t winner = 0;
        for (std::size_t k = 1; k < count; ++k) {
          const float candidate = trained_inputs_[k][i], best = trained_inputs_[winner][i];
          if (operation_ == Operation::maximum ? candidate > best : candidate < best) winner = k;
        }
        for (std::size_t k = 0; k < count; ++k) grads[k][i] = k == winner ? grad[i] : 0.0f;
      }
      break;
  }
  return grads;
}

std::optional<Tensor> ElementwiseMerge::compute_list_mask(const std::vector<const Tensor*>& /*inputs*/,
                                                          const std::vector<const Tensor*>& masks) const {
  return all_masks(masks);
}

Concatenate::Concatenate(const ConcatenateOptions& options)
    : ListInputLayer("Concatenate", "concatenate", options.name, {}), axis_(options.axis) {}

std::size_t Concatenate::positive_axis(std::size_t rank) const {
  const int axis = axis_ < 0 ? axis_ + static_cast<int>(rank) : axis_;
  check(axis >= 1 && axis < static_cast<int>(rank), where(), ": axis ", axis_, " is out of range for inputs of rank ",
        rank, " (the batch axis 0 cannot be joined)");
  return static_cast<std::size_t>(axis);
}

std::vector<Shape> Concatenate::compute_list_output_shapes(const std::vector<Shape>& input_shapes) const {
  const std::size_t rank = input_shapes.front().size();
  const std::size_t axis = positive_axis(rank);
  Shape output = input_shapes.front();
  output[axis] = 0;
  for (const Shape& shape : input_shapes) {
    check(shape.size() == rank, where(), " joins inputs of one rank, received ", shapes_text(input_shapes));
    for (std::size_t d = 0; d < rank; ++d) {
      if (d == axis) continue;
      check(shape[d] == output[d] || shape[d] == kNone || output[d] == kNone, where(),
            ": the inputs must agree on every axis but axis ", axis_, ", received ", shapes_text(input_shapes));
      if (output[d] == kNone) output[d] = shape[d];
    }
    output[axis] = output[axis] == kNone || shape[axis] == kNone ? kNone : output[axis] + shape[axis];
  }
  return {output};
}

std::vector<Tensor> Concatenate::forward_list(const std::vector<const Tensor*>& inputs,
                                              const std::vector<const Tensor*>& /*masks*/,
                                              const CallArgs& /*args*/) {
  std::vector<Shape> shapes;
  for (const Tensor* input : inputs) shapes.push_back(input->shape());
  const Shape output_shape = compute_list_output_shapes(shapes)[0];
  const std::size_t axis = positive_axis(output_shape.size());
  // Rows of the axis and everything after it are copied block by block, for every index before the axis.
  std::int64_t outer = 1, inner = 1;
  for (std::size_t d = 0; d < axis; ++d) outer *= output_shape[d];
  for (std::size_t d = axis + 1; d < output_shape.size(); ++d) inner *= output_shape[d];
  Tensor output(output_shape);
  const std::int64_t output_block = output_shape[axis] * inner;
  std::int64_t offset = 0;
  for (const Tensor* input : inputs) {
    const std::int64_t block = input->dim(static_cast<int>(axis)) * inner;
    for (std::int64_t o = 0; o < outer; ++o)
      std::copy_n(input->data() + o * block, block, output.data() + o * output_block + offset);
    offset += block;
  }
  trained_shapes_ = std::move(shapes);
  return {std::move(output)};
}

std::vector<Tensor> Concatenate::backward_list(const std::vector<Tensor>& output_grads) {
  const Tensor& grad = output_grads[0];
  const std::size_t axis = positive_axis(grad.rank());
  std::int64_t outer = 1, inner = 1;
  for (std::size_t d = 0; d < axis; ++d) outer *= grad.dim(static_cast<int>(d));
  for (std::size_t d = axis + 1; d < static_cast<std::size_t>(grad.rank()); ++d) inner *= grad.dim(static_cast<int>(d));
  const std::int64_t output_block = grad.dim(static_cast<int>(axis)) * inner;
  std::vector<Tensor> grads;
  std::int64_t offset = 0;
  for (const Shape& shape : trained_shapes_) {
    Tensor input_grad(shape);
    const std::int64_t block = shape[axis] * inner;
    for (std::int64_t o = 0; o < outer; ++o)
      std::copy_n(grad.data() + o * output_block + offset, block, input_grad.data() + o * block);
    offset += block;
    grads.push_back(std::move(input_grad));
  }
  return grads;
}

std::optional<Tensor> Concatenate::compute_list_mask(const std::vector<const Tensor*>& inputs,
                                                     const std::vector<const Tensor*>& masks) const {
  if (std::ranges::none_of(masks, [](const Tensor* mask) { return mask != nullptr; })) return std::nullopt;
  const std::size_t axis = positive_axis(inputs.front()->rank());
  if (axis != 1) return all_masks(masks);  // Keras: all() over the joined feature axis of the masks
  // Joined along the time axis: the masks are joined too, an input without one counting as all kept.
  std::int64_t steps = 0;
  for (const Tensor* input : inputs) steps += input->dim(1);
  const std::int64_t batch = inputs.front()->dim(0);
  Tensor mask({batch, steps});
  std::int64_t offset = 0;
  for (std::size_t k = 0; k < inputs.size(); ++k) {
    const std::int64_t t_k = inputs[k]->dim(1);
    for (std::int64_t b = 0; b < batch; ++b)
      for (std::int64_t t = 0; t < t_k; ++t)
        mask[b * steps + offset + t] = masks[k] ? (*masks[k])[b * t_k + t] : 1.0f;
    offset += t_k;
  }
  return mask;
}

nlohmann::json Concatenate::config() const {
  nlohmann::json config = Layer::config();
  config["axis"] = axis_;
  return config;
}

Dot::Dot(const DotOptions& options) : ListInputLayer("Dot", "dot", options.name, {}), options_(options) {}

std::array<std::size_t, 2> Dot::axes_for(const Shape& a, const Shape& b) const {
  std::array<int, 2> axes{};
  if (const int* both = std::get_if<int>(&options_.axes)) {
    axes = {*both, *both};
  } else {
    axes = std::get<std::array<int, 2>>(options_.axes);
  }
  std::array<std::size_t, 2> result{};
  const std::array<const Shape*, 2> shapes{&a, &b};
  for (std::size_t k = 0; k < 2; ++k) {
    const int rank = static_cast<int>(shapes[k]->size());
    check(rank == 2 || rank == 3, where(), " takes inputs of rank 2 or 3, received ", shape_string(*shapes[k]));
    const int axis = axes[k] < 0 ? axes[k] + rank : axes[k];
    check(axis >= 1 && axis < rank, where(), ": axis ", axes[k], " is out of range for input ", k, " of shape ",
          shape_string(*shapes[k]));
    result[k] = static_cast<std::size_t>(axis);
  }
  return result;
}

std::vector<Shape> Dot::compute_list_output_shapes(const std::vector<Shape>& input_shapes) const {
  const Shape &a = input_shapes[0], &b = input_shapes[1];
  const auto axes = axes_for(a, b);
  check(a[axes[0]] == b[axes[1]] || a[axes[0]] == kNone || b[axes[1]] == kNone, where(), ": dimension ",
        axes[0], " of ", shape_string(a), " and dimension ", axes[1], " of ", shape_string(b),
        " must be equal to take their dot product");
  Shape output{a[0] == kNone ? b[0] : a[0]};
  for (std::size_t d = 1; d < a.size(); ++d)
    if (d != axes[0]) output.push_back(a[d]);
  for (std::size_t d = 1; d < b.size(); ++d)
    if (d != axes[1]) output.push_back(b[d]);
  if (output.size() == 1) output.push_back(1);  // (B,F)·(B,F): Keras keeps a feature axis
  return {output};
}

namespace {

// An input of Dot seen as (B, M, K): K runs along the contracted axis, M along the other one (1 for rank 2).
struct DotView {
  std::int64_t batch = 0, m = 1, k = 0;
  std::int64_t m_stride = 0, k_stride = 1;

  DotView(const Tensor& x, std::size_t axis) : batch(x.dim(0)), k(x.dim(static_cast<int>(axis))) {
    if (x.rank() == 2) return;
    m = x.dim(axis == 1 ? 2 : 1);
    m_stride = axis == 1 ? 1 : x.dim(2);
    k_stride = axis == 1 ? x.dim(2) : 1;
  }
  std::int64_t at(std::int64_t b, std::int64_t i, std::int64_t j) const {
    return b * m * k + i * m_stride + j * k_stride;
  }
};

// x / sqrt(max(Σ x², 1e-12)) along the axis, as Keras's l2_normalize; `norms` gets the divisor per (b, m).
Tensor l2_normalized(const Tensor& x, const DotView& view, Tensor& norms) {
  Tensor result(x.shape());
  norms = Tensor({view.batch, view.m});
  for (std::int64_t b = 0; b < view.batch; ++b)
    for (std::int64_t i = 0; i < view.m; ++i) {
      double squares = 0.0;
      for (std::int64_t j = 0; j < view.k; ++j) squares += static_cast<double>(x[view.at(b, i, j)]) * x[view.at(b, i, j)];
      const float norm = static_cast<float>(std::sqrt(std::max(squares, 1e-12)));
      norms[b * view.m + i] = norm;
      for (std::int64_t j = 0; j < view.k; ++j) result[view.at(b, i, j)] = x[view.at(b, i, j)] / norm;
    }
  return result;
}

// The gradient through l2_normalized: (g - x̂ (x̂·g)) / norm, or g / norm where the norm was clamped.
Tensor l2_normalize_backward(const Tensor& grad, const Tensor& normalized, const Tensor& norms,
                             const DotView& view) {
  Tensor result(grad.shape());
  for (std::int64_t b = 0; b < view.batch; ++b)
    for (std::int64_t i = 0; i < view.m; ++i) {
      const float norm = norms[b * view.m + i];
      double projection = 0.0;
      if (norm > 1e-6f)
        for (std::int64_t j = 0; j < view.k; ++j)
          projection += static_cast<double>(normalized[view.at(b, i, j)]) * grad[view.at(b, i, j)];
      for (std::int64_t j = 0; j < view.k; ++j) {
        const std::int64_t at = view.at(b, i, j);
        result[at] = static_cast<float>((grad[at] - normalized[at] * projection) / norm);
      }
    }
  return result;
}

}  // namespace

std::vector<Tensor> Dot::forward_list(const std::vector<const Tensor*>& inputs,
                                      const std::vector<const Tensor*>& /*masks*/, const CallArgs& args) {
  const Tensor &a = *inputs[0], &b = *inputs[1];
  const auto axes = axes_for(a.shape(), b.shape());
  const Shape output_shape = compute_list_output_shapes({a.shape(), b.shape()})[0];
  check(a.dim(static_cast<int>(axes[0])) == b.dim(static_cast<int>(axes[1])), where(), ": dimension ", axes[0],
        " of ", shape_string(a.shape()), " and dimension ", axes[1], " of ", shape_string(b.shape()),
        " must be equal");
  const DotView va(a, axes[0]), vb(b, axes[1]);
  std::array<Tensor, 2> norms;
  const Tensor x = options_.normalize ? l2_normalized(a, va, norms[0]) : a;
  const Tensor y = options_.normalize ? l2_normalized(b, vb, norms[1]) : b;
  Tensor output(output_shape);
  for (std::int64_t n = 0; n < va.batch; ++n)
    for (std::int64_t i = 0; i < va.m; ++i)
      for (std::int64_t j = 0; j < vb.m; ++j) {
        double sum = 0.0;
        for (std::int64_t k = 0; k < va.k; ++k)
          sum += static_cast<double>(x[va.at(n, i, k)]) * y[vb.at(n, j, k)];
        output[(n * va.m + i) * vb.m + j] = static_cast<float>(sum);
      }
  if (args.training) {
    trained_inputs_ = {a, b};
    trained_normalized_ = {x, y};
    trained_norms_ = norms;
  }
  return {std::move(output)};
}

std::vector<Tensor> Dot::backward_list(const std::vector<Tensor>& output_grads) {
  const Tensor& grad = output_grads[0];
  const auto& [a, b] = trained_inputs_;
  const auto axes = axes_for(a.shape(), b.shape());
  const DotView va(a, axes[0]), vb(b, axes[1]);
  const Tensor &x = trained_normalized_[0], &y = trained_normalized_[1];
  Tensor gx(a.shape()), gy(b.shape());
  for (std::int64_t n = 0; n < va.batch; ++n)
    for (std::int64_t i = 0; i < va.m; ++i)
      for (std::int64_t j = 0; j < vb.m; ++j) {
        const float g = grad[(n * va.m + i) * vb.m + j];
        for (std::int64_t k = 0; k < va.k; ++k) {
          gx[va.at(n, i, k)] += g * y[vb.at(n, j, k)];
          gy[vb.at(n, j, k)] += g * x[va.at(n, i, k)];
        }
      }
  if (!options_.normalize) return {std::move(gx), std::move(gy)};
  return {l2_normalize_backward(gx, x, trained_norms_[0], va), l2_normalize_backward(gy, y, trained_norms_[1], vb)};
}

std::optional<Tensor> Dot::compute_list_mask(const std::vector<const Tensor*>& /*inputs*/,
                                             const std::vector<const Tensor*>& /*masks*/) const {
  return std::nullopt;
}

nlohmann::json Dot::config() const {
  nlohmann::json config = Layer::config();
  if (const int* both = std::get_if<int>(&options_.axes)) {
    config["axes"] = *both;
  } else {
    const auto& axes = std::get<std::array<int, 2>>(options_.axes);
    config["axes"] = {axes[0], axes[1]};
  }
  config["normalize"] = options_.normalize;
  return config;
}

}  // namespace rnnkit
