#include "rnnkit/activation.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <utility>

#include "core/fast_math.h"
#include "core/parallel.h"
#include "core/softmax_rows.h"
#include "rnnkit/error.h"

namespace rnnkit {
namespace {

constexpr std::array<std::pair<std::string_view, Activation>, 7> kNames{{
    {"linear", Activation::linear},
    {"tanh", Activation::tanh},
    {"sigmoid", Activation::sigmoid},
    {"hard_sigmoid", Activation::hard_sigmoid},
    {"hard_sigmoid_keras3", Activation::hard_sigmoid_keras3},
    {"relu", Activation::relu},
    {"softmax", Activation::softmax},
}};

void softmax_rows(const float* inputs, float* outputs, std::size_t rows, std::size_t row_length) {
  for (std::size_t start = 0; start < rows * row_length; start += row_length) {
    float* out = outputs + start;
    exp_shifted(inputs + start, out, row_length, row_max(inputs + start, row_length));
    scale(out, row_length, static_cast<float>(1.0 / row_sum(out, row_length)));
  }
}

// The element-wise activations: all but softmax.
RNNKIT_VECTOR_CLONES void activate(Activation activation, const float* in, float* out, std::size_t count) {
  switch (activation) {
    case Activation::linear:
      if (out != in) std::copy_n(in, count, out);
      return;
    case Activation::tanh:
      for (std::size_t i = 0; i < count; ++i) out[i] = fast::tanh(in[i]);
      return;
    case Activation::sigmoid:
      for (std::size_t i = 0; i < count; ++i) out[i] = fast::sigmoid(in[i]);
      return;
    case Activation::hard_sigmoid:
      for (std::size_t i = 0; i < count; ++i) out[i] = std::clamp(0.2f * in[i] + 0.5f, 0.0f, 1.0f);
      return;
    case Activation::hard_sigmoid_keras3:
      for (std::size_t i = 0; i < count; ++i) out[i] = std::clamp(in[i] / 6.0f + 0.5f, 0.0f, 1.0f);
      return;
    case Activation::relu:
      // std::max would turn NaN into 0; Keras propagates it.
      for (std::size_t i = 0; i < count; ++i) out[i] = in[i] < 0.0f ? 0.0f : in[i];
      return;
    case Activation::softmax:
      return;  // by rows, in softmax_rows
  }
}

}  // namespace

Activation parse_activation(std::string_view name, std::string_view where) {
  // Keras accepts None for "linear" in configs.
  if (name.empty() || name == "None") return Activation::linear;
  for (const auto& [known, activation] : kNames)
    if (known == name) return activation;
  std::string known_list;
  for (const auto& entry : kNames) known_list += (known_list.empty() ? "" : ", ") + std::string(entry.first);
  fail(where, ": unknown activation '", name, "' (known: ", known_list, ")");
}

std::string activation_name(Activation activation) {
  for (const auto& [name, known] : kNames)
    if (known == activation) return std::string(name);
  fail("unnamed activation");
}

void apply_activation(Activation activation, std::span<float> values, std::int64_t row_length) {
  apply_activation(activation, values, values, row_length);
}

void apply_activation(Activation activation, std::span<const float> inputs, std::span<float> outputs,
                      std::int64_t row_length) {
  check(inputs.size() == outputs.size(), "apply_activation: ", inputs.size(), " inputs but ", outputs.size(),
        " outputs");
  const auto count = static_cast<std::int64_t>(inputs.size());
  const float* in = inputs.data();
  float* out = outputs.data();
  if (activation == Activation::softmax) {
    check(row_length > 0 && count % row_length == 0, "softmax over rows of ", row_length,
          " values cannot split ", count, " values");
    parallel_for(count / row_length, row_length, [&](std::int64_t begin, std::int64_t end) {
      softmax_rows(in + begin * row_length, out + begin * row_length, static_cast<std::size_t>(end - begin),
                   static_cast<std::size_t>(row_length));
    });
    return;
  }
  parallel_for(count, 1, [&](std::int64_t begin, std::int64_t end) {
    activate(activation, in + begin, out + begin, static_cast<std::size_t>(end - begin));
  });
}

}  // namespace rnnkit

namespace rnnkit {

RNNKIT_VECTOR_CLONES void activation_backward(Activation activation, std::span<const float> outputs,
                                              std::span<float> grad, std::int64_t row_length) {
  check(outputs.size() == grad.size(), "activation_backward: ", outputs.size(), " outputs but ", grad.size(),
        " gradients");
  const std::size_t count = grad.size();
  switch (activation) {
    case Activation::linear:
      return;
    case Activation::tanh:
      for (std::size_t i = 0; i < count; ++i) grad[i] *= 1.0f - outputs[i] * outputs[i];
      return;
    case Activation::sigmoid:
      for (std::size_t i = 0; i < count; ++i) grad[i] *= outputs[i] * (1.0f - outputs[i]);
      return;
    case Activation::hard_sigmoid:
    case Activation::hard_sigmoid_keras3: {
      // The slope inside the linear piece; zero where the output is clipped to 0 or 1.
      const float slope = activation == Activation::hard_sigmoid ? 0.2f : 1.0f / 6.0f;
      for (std::size_t i = 0; i < count; ++i) grad[i] *= outputs[i] > 0.0f && outputs[i] < 1.0f ? slope : 0.0f;
      return;
    }
    case Activation::relu:
      for (std::size_t i = 0; i < count; ++i) grad[i] *= outputs[i] > 0.0f ? 1.0f : 0.0f;
      return;
    case Activation::softmax:
      // dx = y ⊙ (dy - Σ dy ⊙ y) over each row.
      for (std::size_t start = 0; start < count; start += static_cast<std::size_t>(row_length)) {
        float dot = 0.0f;
        for (std::size_t i = start; i < start + static_cast<std::size_t>(row_length); ++i) dot += grad[i] * outputs[i];
        for (std::size_t i = start; i < start + static_cast<std::size_t>(row_length); ++i)
          grad[i] = outputs[i] * (grad[i] - dot);
      }
      return;
  }
}

}  // namespace rnnkit
