// Activation: the element-wise (and softmax) activations Keras layers accept by name.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace rnnkit {

enum class Activation {
  linear,
  tanh,
  sigmoid,
  hard_sigmoid,         // Keras 1/2 and TF.js: clip(0.2x + 0.5, 0, 1)
  hard_sigmoid_keras3,  // Keras 3: clip(x/6 + 0.5, 0, 1)
  relu,
  softmax,  // over the last axis
};

// Keras's name for it ("tanh", ...); `where` names the layer and field in the error for an unknown name.
Activation parse_activation(std::string_view name, std::string_view where);
std::string activation_name(Activation activation);

// Applies the activation in place; softmax normalizes each consecutive run of `row_length` values.
void apply_activation(Activation activation, std::span<float> values, std::int64_t row_length);
// outputs = activation(inputs), as above; outputs may be inputs.
void apply_activation(Activation activation, std::span<const float> inputs, std::span<float> outputs,
                      std::int64_t row_length);

// Backward through the activation, from its outputs y: turns grad = dL/dy into dL/dx in place.
// Every activation here has a derivative expressible in its output, so the input need not be kept.
void activation_backward(Activation activation, std::span<const float> outputs, std::span<float> grad,
                         std::int64_t row_length);

}  // namespace rnnkit
