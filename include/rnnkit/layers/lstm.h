// LSTM, as keras.layers.LSTM: gates i, f, c, o in that order in kernel (F,4U), recurrent_kernel (U,4U), bias (4U).
//   i = σ(x W_i + h U_i + b_i)   f = σ(x W_f + h U_f + b_f)   o = σ(x W_o + h U_o + b_o)
//   c' = f ⊙ c + i ⊙ tanh(x W_c + h U_c + b_c)                h' = o ⊙ tanh(c')
// with σ = recurrent_activation and tanh = activation.
#pragma once

#include "rnnkit/layers/recurrent.h"

namespace rnnkit {

// What a direct call of an LSTM returns: the output and, with return_state, the last h and c.
struct OutputAndStates {
  Tensor output;   // (B,U), or (B,T,U) with return_sequences
  Tensor state_h;  // (B,U)
  Tensor state_c;  // (B,U)
  operator const Tensor&() const { return output; }
};

class LSTM : public Recurrent {
 public:
  explicit LSTM(std::int64_t units, const RecurrentOptions& options = {});
  std::string cell_name() const override { return "lstm_cell"; }
  int state_count() const override { return 2; }
  std::unique_ptr<Layer> clone() const override { return std::make_unique<LSTM>(*this); }
  nlohmann::json config() const override;
  OutputAndStates operator()(const Tensor& x, const CallArgs& args = {});
  using Layer::operator();  // calls on symbolic tensors (the Functional API)

 protected:
  int gate_count() const override { return 4; }
  void initialize_bias(Tensor& bias, Rng& rng) const override;
  std::int64_t step_values_width() const override;
  void step(const StepInput& input, std::vector<Tensor>& next_states, StepWorkspace& workspace,
            float* step_values) const override;
  void step_backward(const StepGrads& grads, StepWorkspace& workspace) const override;
};

}  // namespace rnnkit
