#include "rnnkit/activation.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <numbers>
#include <utility>

#include "core/fast_math.h"
#include "core/parallel.h"
#include "core/softmax_rows.h"
#include "rnnkit/error.h"

namespace rnnkit {
namespace {

using Fn = ActivationFunction;

constexpr std::array<std::pair<std::string_view, Fn>, 31> kNames{{
    {"linear", Fn::linear},
    {"tanh", Fn::tanh},
    {"sigmoid", Fn::sigmoid},
    {"hard_sigmoid", Fn::hard_sigmoid},
    {"hard_sigmoid_keras3", Fn::hard_sigmoid_keras3},
    {"relu", Fn::relu},
    {"softmax", Fn::softmax},
    {"elu", Fn::elu},
    {"selu", Fn::selu},
    {"celu", Fn::celu},
    {"softplus", Fn::softplus},
    {"softsign", Fn::softsign},
    {"exponential", Fn::exponential},
    {"leaky_relu", Fn::leaky_relu},
    {"relu6", Fn::relu6},
    {"gelu", Fn::gelu},
    {"gelu_approximate", Fn::gelu_approximate},
    {"swish", Fn::swish},
    {"silu", Fn::silu},
    {"hard_silu", Fn::hard_silu},
    {"hard_swish", Fn::hard_swish},
    {"mish", Fn::mish},
    {"log_softmax", Fn::log_softmax},
    {"log_sigmoid", Fn::log_sigmoid},
    {"hard_tanh", Fn::hard_tanh},
    {"tanh_shrink", Fn::tanh_shrink},
    {"soft_shrink", Fn::soft_shrink},
    {"hard_shrink", Fn::hard_shrink},
    {"sparse_plus", Fn::sparse_plus},
    {"sparse_sigmoid", Fn::sparse_sigmoid},
    {"squareplus", Fn::squareplus},
}};

// Names Keras lists that rnnkit does not compute, and why.
constexpr std::array<std::pair<std::string_view, std::string_view>, 4> kRefused{{
    {"glu", "it halves the last axis, which an activation here keeps"},
    {"crelu", "it doubles the last axis, which an activation here keeps"},
    {"threshold", "it needs 'threshold' and 'default_value' arguments, which a Keras config cannot give"},
    // Keras's backends take the threshold from the sum of every cumulative sum in the support, not the last
    // one, so their result is not the sparsemax they document once two values share the support.
    {"sparsemax",
     "Keras's sparsemax differs from the sparsemax it documents wherever two or more values stay positive, "
     "so which one a model means is not clear"},
}};

// selu's constants, as Keras and TensorFlow give them.
constexpr double kSeluAlpha = 1.6732632423543772848170429916717;
constexpr double kSeluScale = 1.0507009873554804934193349852946;
constexpr float kLeakySlope = 0.2f;
constexpr float kShrinkThreshold = 0.5f;
constexpr float kSquareplusB = 4.0f;
// sqrt(2/pi) and the cubic coefficient of gelu's tanh form.
constexpr double kGeluTanhScale = 0.7978845608028654;
constexpr double kGeluCubic = 0.044715;

// log(1 + e^x) without overflow.
double softplus(double x) {
  return std::max(x, 0.0) + std::log1p(std::exp(-std::abs(x)));
}
double sigmoid(double x) {
  return 1.0 / (1.0 + std::exp(-x));
}
float hard_sigmoid_keras3(float x) {
  return std::clamp(x / 6.0f + 0.5f, 0.0f, 1.0f);
}

void softmax_rows(const float* inputs, float* outputs, std::size_t rows, std::size_t row_length) {
  for (std::size_t start = 0; start < rows * row_length; start += row_length) {
    float* out = outputs + start;
    exp_shifted(inputs + start, out, row_length, row_max(inputs + start, row_length));
    scale(out, row_length, static_cast<float>(1.0 / row_sum(out, row_length)));
  }
}

// x - max - log Σ exp(x - max), over each row.
void log_softmax_rows(const float* inputs, float* outputs, std::size_t rows, std::size_t row_length) {
  for (std::size_t start = 0; start < rows * row_length; start += row_length) {
    const float* in = inputs + start;
    const float shift = row_max(in, row_length);
    double sum = 0.0;
    for (std::size_t i = 0; i < row_length; ++i) sum += std::exp(static_cast<double>(in[i]) - shift);
    const double log_sum = std::log(sum);
    for (std::size_t i = 0; i < row_length; ++i)
      outputs[start + i] = static_cast<float>(static_cast<double>(in[i]) - shift - log_sum);
  }
}

// The row-wise activations over whole rows.
void apply_rows(Fn activation, const float* in, float* out, std::size_t rows, std::size_t row_length) {
  switch (activation) {
    case Fn::softmax:
      return softmax_rows(in, out, rows, row_length);
    case Fn::log_softmax:
      return log_softmax_rows(in, out, rows, row_length);
    default:
      fail("apply_rows: ", activation_name(activation), " is not row-wise");
  }
}

// The activations recurrent cells use in their time loops, vectorised.
RNNKIT_VECTOR_CLONES void activate_fast(Fn activation, const float* in, float* out, std::size_t count) {
  switch (activation) {
    case Fn::linear:
      if (out != in) std::copy_n(in, count, out);
      return;
    case Fn::tanh:
      for (std::size_t i = 0; i < count; ++i) out[i] = fast::tanh(in[i]);
      return;
    case Fn::sigmoid:
      for (std::size_t i = 0; i < count; ++i) out[i] = fast::sigmoid(in[i]);
      return;
    case Fn::hard_sigmoid:
      for (std::size_t i = 0; i < count; ++i) out[i] = std::clamp(0.2f * in[i] + 0.5f, 0.0f, 1.0f);
      return;
    case Fn::hard_sigmoid_keras3:
      for (std::size_t i = 0; i < count; ++i) out[i] = hard_sigmoid_keras3(in[i]);
      return;
    case Fn::relu:
      // std::max would turn NaN into 0; Keras propagates it.
      for (std::size_t i = 0; i < count; ++i) out[i] = in[i] < 0.0f ? 0.0f : in[i];
      return;
    default:
      fail("activate_fast: ", activation_name(activation), " has no fast form");
  }
}

bool has_fast_form(Fn activation) {
  switch (activation) {
    case Fn::linear:
    case Fn::tanh:
    case Fn::sigmoid:
    case Fn::hard_sigmoid:
    case Fn::hard_sigmoid_keras3:
    case Fn::relu:
      return true;
    default:
      return false;
  }
}

// One value of the other element-wise activations, computed in double and rounded once.
float activate_value(Fn activation, float value) {
  const double x = value;
  switch (activation) {
    case Fn::elu:
    case Fn::celu:  // with alpha = 1, celu is elu
      return value > 0.0f ? value : static_cast<float>(std::expm1(x));
    case Fn::selu:
      return static_cast<float>(kSeluScale * (x > 0.0 ? x : kSeluAlpha * std::expm1(x)));
    case Fn::softplus:
      return static_cast<float>(softplus(x));
    case Fn::softsign:
      return static_cast<float>(x / (1.0 + std::abs(x)));
    case Fn::exponential:
      return static_cast<float>(std::exp(x));
    case Fn::leaky_relu:
      return value < 0.0f ? kLeakySlope * value : value;
    case Fn::relu6:
      return value < 0.0f ? 0.0f : (value > 6.0f ? 6.0f : value);
    case Fn::gelu:
      return static_cast<float>(0.5 * x * (1.0 + std::erf(x / std::numbers::sqrt2)));
    case Fn::gelu_approximate:
      return static_cast<float>(0.5 * x * (1.0 + std::tanh(kGeluTanhScale * (x + kGeluCubic * x * x * x))));
    case Fn::swish:
    case Fn::silu:
      return static_cast<float>(x * sigmoid(x));
    case Fn::hard_silu:
    case Fn::hard_swish:
      return value * hard_sigmoid_keras3(value);
    case Fn::mish:
      return static_cast<float>(x * std::tanh(softplus(x)));
    case Fn::log_sigmoid:
      return static_cast<float>(-softplus(-x));
    case Fn::hard_tanh:
      return value < -1.0f ? -1.0f : (value > 1.0f ? 1.0f : value);
    case Fn::tanh_shrink:
      return static_cast<float>(x - std::tanh(x));
    case Fn::soft_shrink:
      return value > kShrinkThreshold    ? value - kShrinkThreshold
             : value < -kShrinkThreshold ? value + kShrinkThreshold
                                         : 0.0f;
    case Fn::hard_shrink:
      return std::abs(value) > kShrinkThreshold ? value : 0.0f;
    case Fn::sparse_plus:
      return value <= -1.0f ? 0.0f
                            : (value < 1.0f ? static_cast<float>(0.25 * (x + 1.0) * (x + 1.0)) : value);
    case Fn::sparse_sigmoid:
      return value <= -1.0f ? 0.0f : (value >= 1.0f ? 1.0f : static_cast<float>(0.5 * (x + 1.0)));
    case Fn::squareplus:
      return static_cast<float>(0.5 * (x + std::sqrt(x * x + kSquareplusB)));
    default:
      fail("activate_value: ", activation_name(activation), " is not element-wise");
  }
}

void activate(Fn activation, const float* in, float* out, std::size_t count) {
  if (has_fast_form(activation)) return activate_fast(activation, in, out, count);
  for (std::size_t i = 0; i < count; ++i) out[i] = activate_value(activation, in[i]);
}

// dL/dx = dL/dy · y'(x) for the element-wise activations whose derivative is a function of y.
RNNKIT_VECTOR_CLONES void backward_from_outputs(Fn activation, const float* y, float* grad,
                                                std::size_t count) {
  switch (activation) {
    case Fn::linear:
      return;
    case Fn::tanh:
      for (std::size_t i = 0; i < count; ++i) grad[i] *= 1.0f - y[i] * y[i];
      return;
    case Fn::sigmoid:
      for (std::size_t i = 0; i < count; ++i) grad[i] *= y[i] * (1.0f - y[i]);
      return;
    case Fn::hard_sigmoid:
    case Fn::hard_sigmoid_keras3: {
      // The slope inside the linear piece; zero where the output is clipped to 0 or 1.
      const float slope = activation == Fn::hard_sigmoid ? 0.2f : 1.0f / 6.0f;
      for (std::size_t i = 0; i < count; ++i) grad[i] *= y[i] > 0.0f && y[i] < 1.0f ? slope : 0.0f;
      return;
    }
    case Fn::relu:
      for (std::size_t i = 0; i < count; ++i) grad[i] *= y[i] > 0.0f ? 1.0f : 0.0f;
      return;
    default:
      break;
  }
  for (std::size_t i = 0; i < count; ++i) {
    const double out = y[i];
    double slope = 1.0;
    switch (activation) {
      case Fn::elu:
      case Fn::celu:  // x < 0: y = e^x - 1, y' = e^x = y + 1
        slope = out > 0.0 ? 1.0 : out + 1.0;
        break;
      case Fn::selu:  // x < 0: y' = scale·alpha·e^x = y + scale·alpha
        slope = out > 0.0 ? kSeluScale : out + kSeluScale * kSeluAlpha;
        break;
      case Fn::softplus:  // sigmoid(x) = 1 - e^-y
        slope = -std::expm1(-out);
        break;
      case Fn::softsign:  // 1 / (1 + |x|)^2 = (1 - |y|)^2
        slope = (1.0 - std::abs(out)) * (1.0 - std::abs(out));
        break;
      case Fn::exponential:
        slope = out;
        break;
      case Fn::leaky_relu:
        slope = out > 0.0 ? 1.0 : kLeakySlope;
        break;
      case Fn::relu6:
        slope = out > 0.0 && out < 6.0 ? 1.0 : 0.0;
        break;
      case Fn::log_sigmoid:  // sigmoid(-x) = 1 - e^y
        slope = -std::expm1(out);
        break;
      case Fn::hard_tanh:
        slope = out > -1.0 && out < 1.0 ? 1.0 : 0.0;
        break;
      case Fn::soft_shrink:
      case Fn::hard_shrink:
        slope = out != 0.0 ? 1.0 : 0.0;
        break;
      case Fn::sparse_plus:  // -1 < x < 1: y = (x + 1)^2 / 4, y' = (x + 1) / 2 = sqrt(y)
        slope = out >= 1.0 ? 1.0 : std::sqrt(out);
        break;
      case Fn::sparse_sigmoid:
        slope = out > 0.0 && out < 1.0 ? 0.5 : 0.0;
        break;
      default:
        fail("backward_from_outputs: ", activation_name(activation));
    }
    grad[i] = static_cast<float>(grad[i] * slope);
  }
}

// dL/dx = dL/dy · y'(x) for the activations whose derivative needs x.
void backward_from_inputs(Fn activation, const float* inputs, float* grad, std::size_t count) {
  for (std::size_t i = 0; i < count; ++i) {
    const double x = inputs[i];
    double slope = 0.0;
    switch (activation) {
      case Fn::gelu:  // Φ(x) + x·φ(x)
        slope = 0.5 * (1.0 + std::erf(x / std::numbers::sqrt2)) +
                x * std::exp(-0.5 * x * x) * 0.5 * std::numbers::inv_sqrtpi * std::numbers::sqrt2;
        break;
      case Fn::gelu_approximate: {
        const double t = std::tanh(kGeluTanhScale * (x + kGeluCubic * x * x * x));
        slope = 0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * kGeluTanhScale * (1.0 + 3.0 * kGeluCubic * x * x);
        break;
      }
      case Fn::swish:
      case Fn::silu: {
        const double s = sigmoid(x);
        slope = s * (1.0 + x * (1.0 - s));
        break;
      }
      case Fn::hard_silu:
      case Fn::hard_swish:
        slope = hard_sigmoid_keras3(inputs[i]) + (x > -3.0 && x < 3.0 ? x / 6.0 : 0.0);
        break;
      case Fn::mish: {
        const double t = std::tanh(softplus(x));
        slope = t + x * (1.0 - t * t) * sigmoid(x);
        break;
      }
      case Fn::tanh_shrink:
        slope = std::tanh(x) * std::tanh(x);
        break;
      case Fn::squareplus:
        slope = 0.5 * (1.0 + x / std::sqrt(x * x + kSquareplusB));
        break;
      default:
        fail("backward_from_inputs: ", activation_name(activation));
    }
    grad[i] = static_cast<float>(grad[i] * slope);
  }
}

// The row-wise activations' backward, from their outputs, row by row.
void backward_rows(Fn activation, const float* y, float* grad, std::size_t count, std::size_t row_length) {
  for (std::size_t start = 0; start < count; start += row_length) {
    const float* out = y + start;
    float* g = grad + start;
    switch (activation) {
      case Fn::softmax: {  // dx = y ⊙ (dy - Σ dy ⊙ y)
        float dot = 0.0f;
        for (std::size_t i = 0; i < row_length; ++i) dot += g[i] * out[i];
        for (std::size_t i = 0; i < row_length; ++i) g[i] = out[i] * (g[i] - dot);
        break;
      }
      case Fn::log_softmax: {  // dx = dy - softmax(x) Σ dy, softmax(x) = e^y
        double sum = 0.0;
        for (std::size_t i = 0; i < row_length; ++i) sum += g[i];
        for (std::size_t i = 0; i < row_length; ++i)
          g[i] = static_cast<float>(g[i] - std::exp(static_cast<double>(out[i])) * sum);
        break;
      }
      default:
        fail("backward_rows: ", activation_name(activation), " is not row-wise");
    }
  }
}

}  // namespace

ActivationFunction parse_activation(std::string_view name, std::string_view where) {
  // Keras accepts None for "linear" in configs.
  if (name.empty() || name == "None") return Fn::linear;
  for (const auto& [known, activation] : kNames)
    if (known == name) return activation;
  for (const auto& [refused, why] : kRefused)
    if (refused == name) fail(where, ": activation '", name, "' is not supported: ", why);
  std::string known_list;
  for (const auto& entry : kNames) known_list += (known_list.empty() ? "" : ", ") + std::string(entry.first);
  fail(where, ": unknown activation '", name, "' (known: ", known_list, ")");
}

std::string activation_name(ActivationFunction activation) {
  for (const auto& [name, known] : kNames)
    if (known == activation) return std::string(name);
  fail("unnamed activation");
}

bool activation_is_row_wise(ActivationFunction activation) {
  return activation == Fn::softmax || activation == Fn::log_softmax;
}

bool activation_backward_needs_inputs(ActivationFunction activation) {
  switch (activation) {
    case Fn::gelu:
    case Fn::gelu_approximate:
    case Fn::swish:
    case Fn::silu:
    case Fn::hard_silu:
    case Fn::hard_swish:
    case Fn::mish:
    case Fn::tanh_shrink:
    case Fn::squareplus:
      return true;
    default:
      return false;
  }
}

void apply_activation(ActivationFunction activation, std::span<float> values, std::int64_t row_length) {
  apply_activation(activation, values, values, row_length);
}

void apply_activation(ActivationFunction activation, std::span<const float> inputs, std::span<float> outputs,
                      std::int64_t row_length) {
  check(inputs.size() == outputs.size(), "apply_activation: ", inputs.size(), " inputs but ", outputs.size(),
        " outputs");
  const auto count = static_cast<std::int64_t>(inputs.size());
  const float* in = inputs.data();
  float* out = outputs.data();
  if (activation_is_row_wise(activation)) {
    check(row_length > 0 && count % row_length == 0, activation_name(activation), " over rows of ",
          row_length, " values cannot split ", count, " values");
    parallel_for(count / row_length, row_length, [&](std::int64_t begin, std::int64_t end) {
      apply_rows(activation, in + begin * row_length, out + begin * row_length,
                 static_cast<std::size_t>(end - begin), static_cast<std::size_t>(row_length));
    });
    return;
  }
  parallel_for(count, 1, [&](std::int64_t begin, std::int64_t end) {
    activate(activation, in + begin, out + begin, static_cast<std::size_t>(end - begin));
  });
}

void activation_backward(ActivationFunction activation, std::span<const float> inputs,
                         std::span<const float> outputs, std::span<float> grad, std::int64_t row_length) {
  const bool from_inputs = activation_backward_needs_inputs(activation);
  const std::span<const float> kept = from_inputs ? inputs : outputs;
  check(kept.size() == grad.size(), "activation_backward (", activation_name(activation), "): ", kept.size(),
        from_inputs ? " inputs" : " outputs", " for ", grad.size(), " gradients");
  if (from_inputs) return backward_from_inputs(activation, kept.data(), grad.data(), grad.size());
  if (activation_is_row_wise(activation)) {
    check(row_length > 0 && grad.size() % static_cast<std::size_t>(row_length) == 0,
          activation_name(activation), " over rows of ", row_length, " values cannot split ", grad.size(),
          " values");
    return backward_rows(activation, kept.data(), grad.data(), grad.size(),
                         static_cast<std::size_t>(row_length));
  }
  backward_from_outputs(activation, kept.data(), grad.data(), grad.size());
}

}  // namespace rnnkit
