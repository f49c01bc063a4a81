#include "rnnkit/layers/simple_rnn.h"

#include "core/blas.h"

namespace rnnkit {

SimpleRNN::SimpleRNN(std::int64_t units, const RecurrentOptions& options) : Recurrent("SimpleRNN", "simple_rnn", units, options) {}

void SimpleRNN::step(const float* projected, std::int64_t projected_stride, const std::vector<Tensor>& states,
                     std::vector<Tensor>& next_states, StepWorkspace& /*workspace*/) const {
  const std::int64_t batch = states[0].dim(0), units = this->units();
  float* h = next_states[0].data();  // (B,U)
  for (std::int64_t b = 0; b < batch; ++b) std::copy_n(projected + b * projected_stride, units, h + b * units);
  gemm(false, false, batch, units, units, 1.0f, states[0].data(), units, recurrent_kernel().data(), units, 1.0f, h,
       units);
  activate(activation(), h, batch * units);
}

OutputAndState SimpleRNN::operator()(const Tensor& x, const CallArgs& args) {
  std::vector<Tensor> outputs = call(x, args);
  return {std::move(outputs[0]), outputs.size() > 1 ? std::move(outputs[1]) : Tensor()};
}

}  // namespace rnnkit
