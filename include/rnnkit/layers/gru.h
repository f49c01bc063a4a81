// GRU, as keras.layers.GRU: gates z, r, h in kernel (F,3U) and recurrent_kernel (U,3U).
//   z = σ(x W_z + h U_z + b_z)    r = σ(x W_r + h U_r + b_r)    h' = z ⊙ h + (1 - z) ⊙ hh
//   reset_after=true (default; bias (2,3U): input row, recurrent row):
//     hh = tanh(x W_h + b_h + r ⊙ (h U_h + b_rh))
//   reset_after=false (bias (3U)):  hh = tanh(x W_h + (r ⊙ h) U_h + b_h)
// with σ = recurrent_activation and tanh = activation.
#pragma once

#include "rnnkit/layers/recurrent.h"

namespace rnnkit {

class GRU : public Recurrent {
 public:
  explicit GRU(std::int64_t units, const RecurrentOptions& options = {});
  std::string cell_name() const override { return "gru_cell"; }
  std::unique_ptr<Layer> clone() const override { return std::make_unique<GRU>(*this); }
  nlohmann::json config() const override;
  OutputAndState operator()(const Tensor& x, const CallArgs& args = {});
  using Layer::operator();  // calls on symbolic tensors (the Functional API)

 protected:
  int gate_count() const override { return 3; }
  bool separate_recurrent_grads() const override { return true; }
  Shape bias_shape() const override;
  std::int64_t step_values_width() const override;
  void step(const StepInput& input, std::vector<Tensor>& next_states, StepWorkspace& workspace,
            float* step_values) const override;
  void step_backward(const StepGrads& grads, StepWorkspace& workspace) const override;
  void accumulate_recurrent_grads(const Tensor& recurrent_inputs, const Tensor& step_values,
                                  const Tensor& recurrent_grads) override;
};

}  // namespace rnnkit
