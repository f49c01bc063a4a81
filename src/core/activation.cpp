#include "rnnkit/activation.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <utility>

#include "core/fast_math.h"
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

// Sums and maxima in 16 interleaved lanes, combined in a fixed order: vectorisable (a single running sum is
// a dependency chain) and the same result on every CPU.
constexpr std::size_t kLanes = 16;

RNNKIT_VECTOR_CLONES float row_max(const float* row, std::size_t length) {
  float lanes[kLanes];
  std::fill_n(lanes, kLanes, row[0]);
  std::size_t i = 0;
  for (; i + kLanes <= length; i += kLanes)
    for (std::size_t lane = 0; lane < kLanes; ++lane) lanes[lane] = std::max(lanes[lane], row[i + lane]);
  float result = row[0];
  for (std::size_t lane = 0; lane < kLanes; ++lane) result = std::max(result, lanes[lane]);
  for (; i < length; ++i) result = std::max(result, row[i]);
  return result;
}

// Replaces each value v by exp(v - shift) and returns their sum.
RNNKIT_VECTOR_CLONES float exp_shifted_sum(float* row, std::size_t length, float shift) {
  float lanes[kLanes] = {};
  std::size_t i = 0;
  for (; i + kLanes <= length; i += kLanes)
    for (std::size_t lane = 0; lane < kLanes; ++lane) {
      row[i + lane] = fast::exp(row[i + lane] - shift);
      lanes[lane] += row[i + lane];
    }
  float total = 0.0f;
  for (std::size_t lane = 0; lane < kLanes; ++lane) total += lanes[lane];
  for (; i < length; ++i) total += (row[i] = fast::exp(row[i] - shift));
  return total;
}

RNNKIT_VECTOR_CLONES void softmax_rows(std::span<float> values, std::int64_t row_length) {
  check(row_length > 0 && static_cast<std::int64_t>(values.size()) % row_length == 0,
        "softmax over rows of ", row_length, " values cannot split ", values.size(), " values");
  const auto length = static_cast<std::size_t>(row_length);
  for (std::size_t start = 0; start < values.size(); start += length) {
    float* row = values.data() + start;
    const float total = exp_shifted_sum(row, length, row_max(row, length));
    for (std::size_t i = 0; i < length; ++i) row[i] /= total;
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

RNNKIT_VECTOR_CLONES void apply_activation(Activation activation, std::span<float> values,
                                           std::int64_t row_length) {
  switch (activation) {
    case Activation::linear:
      return;
    case Activation::tanh:
      for (float& v : values) v = fast::tanh(v);
      return;
    case Activation::sigmoid:
      for (float& v : values) v = fast::sigmoid(v);
      return;
    case Activation::hard_sigmoid:
      for (float& v : values) v = std::clamp(0.2f * v + 0.5f, 0.0f, 1.0f);
      return;
    case Activation::hard_sigmoid_keras3:
      for (float& v : values) v = std::clamp(v / 6.0f + 0.5f, 0.0f, 1.0f);
      return;
    case Activation::relu:
      // std::max would turn NaN into 0; Keras propagates it.
      for (float& v : values) v = v < 0.0f ? 0.0f : v;
      return;
    case Activation::softmax:
      softmax_rows(values, row_length);
      return;
  }
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
