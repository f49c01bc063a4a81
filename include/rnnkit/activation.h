// ActivationFunction: the activations Keras layers accept by name (keras.activations), forward and backward.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace rnnkit {

// What Keras's `activation="..."` names. (The layer keras.layers.Activation is rnnkit::Activation, in
// rnnkit/layers/activation.h.) Parameters are Keras's defaults: Keras configs name activations only.
enum class ActivationFunction {
  linear,
  tanh,
  sigmoid,
  hard_sigmoid,         // Keras 1/2 and TF.js: clip(0.2x + 0.5, 0, 1)
  hard_sigmoid_keras3,  // Keras 3: clip(x/6 + 0.5, 0, 1)
  relu,
  softmax,  // over the last axis
  elu,      // alpha = 1
  selu,
  celu,  // alpha = 1
  softplus,
  softsign,
  exponential,
  leaky_relu,  // negative_slope = 0.2 (tf.nn.leaky_relu's and Keras 3's default)
  relu6,
  gelu,              // exact: x·Φ(x) with erf, the default of tf.keras 2.x and Keras 3
  gelu_approximate,  // the tanh form, gelu(x, approximate=True); no Keras config can name it
  swish,             // x·sigmoid(x), under tf.keras 2.x's name
  silu,              // the same, under Keras 3's name
  hard_silu,         // x·clip(x/6 + 0.5, 0, 1) (Keras 3 only)
  hard_swish,        // the same, under Keras 3's alias
  mish,
  log_softmax,  // over the last axis
  log_sigmoid,
  hard_tanh,
  tanh_shrink,
  soft_shrink,  // threshold = 0.5
  hard_shrink,  // threshold = 0.5
  sparse_plus,
  sparse_sigmoid,
  squareplus,  // b = 4
};

// Keras's name for it ("tanh", ...); `where` names the layer and field in the error for an unknown name,
// or for one Keras lists that rnnkit does not compute (glu, crelu, threshold, sparsemax).
ActivationFunction parse_activation(std::string_view name, std::string_view where);
std::string activation_name(ActivationFunction activation);

// Whether the activation works over each run of `row_length` values as a whole (softmax, log_softmax)
// rather than value by value.
bool activation_is_row_wise(ActivationFunction activation);
// Whether activation_backward needs the activation's inputs; otherwise it reads the outputs alone. Only
// activations whose derivative cannot be had from the output (gelu, swish, mish, ...) need them.
bool activation_backward_needs_inputs(ActivationFunction activation);

// Applies the activation in place; the row-wise ones work over each consecutive run of `row_length` values.
void apply_activation(ActivationFunction activation, std::span<float> values, std::int64_t row_length);
// outputs = activation(inputs), as above; outputs may be inputs.
void apply_activation(ActivationFunction activation, std::span<const float> inputs, std::span<float> outputs,
                      std::int64_t row_length);

// Backward through the activation: turns grad = dL/dy into dL/dx in place. `inputs` are x, read only where
// activation_backward_needs_inputs (may be empty otherwise); `outputs` are y = activation(x), read only
// where it does not (may be empty then).
void activation_backward(ActivationFunction activation, std::span<const float> inputs,
                         std::span<const float> outputs, std::span<float> grad, std::int64_t row_length);

}  // namespace rnnkit
