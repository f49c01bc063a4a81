// SimpleRNN: h_t = activation(x_t @ kernel + h_{t-1} @ recurrent_kernel + bias), as keras.layers.SimpleRNN.
#pragma once

#include "rnnkit/layers/recurrent.h"

namespace rnnkit {

class SimpleRNN : public Recurrent {
 public:
  explicit SimpleRNN(std::int64_t units, const RecurrentOptions& options = {});
  std::string cell_name() const override { return "simple_rnn_cell"; }
  std::unique_ptr<Layer> clone() const override { return std::make_unique<SimpleRNN>(*this); }
  // Keras's direct call: output, and the last state with return_state.
  OutputAndState operator()(const Tensor& x, const CallArgs& args = {});
  using Layer::operator();  // calls on symbolic tensors (the Functional API)

 protected:
  int gate_count() const override { return 1; }
  std::int64_t step_values_width() const override;
  void step(const StepInput& input, std::vector<Tensor>& next_states, StepWorkspace& workspace,
            float* step_values) const override;
  void step_backward(const StepGrads& grads, StepWorkspace& workspace) const override;
};

}  // namespace rnnkit
