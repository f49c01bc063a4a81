#include "rnnkit/layers/simple_rnn.h"

#include "core/blas.h"

namespace rnnkit {

SimpleRNN::SimpleRNN(std::int64_t units, const RecurrentOptions& options)
    : Recurrent("SimpleRNN", "simple_rnn", units, options) {}

std::int64_t SimpleRNN::step_values_width() const { return units(); }  // h

// h = act(x W + b + h_prev U)
void SimpleRNN::step(const StepInput& input, std::vector<Tensor>& next_states, StepWorkspace& /*workspace*/,
                     float* step_values) const {
  const std::int64_t batch = input.states[0].dim(0), units = this->units();
  float* h = next_states[0].data();  // (B,U)
  for (std::int64_t b = 0; b < batch; ++b)
    std::copy_n(input.projected + b * input.projected_stride, units, h + b * units);
  gemm(false, false, batch, units, units, 1.0f, input.recurrent_input, units, recurrent_kernel().data(), units, 1.0f,
       h, units);
  activate(activation(), h, batch * units, units);
  if (step_values) std::copy_n(h, batch * units, step_values);
}

// dz = act'(dh);  dL/d(projected) = dL/d(h_prev U) = dz;  dL/d(h_prev) = dz Uᵀ.
void SimpleRNN::step_backward(const StepGrads& grads, StepWorkspace& /*workspace*/) const {
  const std::int64_t batch = grads.state_grads[0].dim(0), units = this->units();
  float* dz = grads.projected_grad;  // (B,U)
  std::copy_n(grads.state_grads[0].data(), batch * units, dz);
  activation_backward(activation(), {}, {grads.step_values, static_cast<std::size_t>(batch * units)},
                      {dz, static_cast<std::size_t>(batch * units)}, units);
  gemm(false, true, batch, units, units, 1.0f, dz, units, recurrent_kernel().data(), units, 0.0f,
       grads.recurrent_input_grad, units);
  std::fill_n(grads.state_grads[0].data(), batch * units, 0.0f);  // h_prev reaches h only through U
}

OutputAndState SimpleRNN::operator()(const Tensor& x, const CallArgs& args) {
  std::vector<Tensor> outputs = call(x, args);
  return {std::move(outputs[0]), outputs.size() > 1 ? std::move(outputs[1]) : Tensor()};
}

}  // namespace rnnkit
