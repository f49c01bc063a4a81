// OnednnScan: the time scan of one recurrent layer, forward and backward, by oneDNN's RNN primitives.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

namespace rnnkit {

// The cells whose maths oneDNN's primitives compute exactly as Keras's do: SimpleRNN (tanh or relu), LSTM
// (tanh, sigmoid gates), GRU with reset_after=False (oneDNN's GRU) and True (oneDNN's linear-before-reset
// GRU), both with tanh and sigmoid gates. Keras's gate orders (i, f, c, o and z, r, h) are oneDNN's.
enum class ScanCell : std::uint8_t { simple_tanh, simple_relu, lstm, gru, gru_reset_after };

struct ScanShape {
  ScanCell cell;
  std::int64_t batch, timesteps, features, units;
  bool reverse;  // from the last timestep to the first (Keras's go_backwards)
  bool operator==(const ScanShape&) const = default;
};

// All arrays are in Keras's layouts: x (B,T,F), kernel (F,G·U), recurrent kernel (U,G·U), the bias as the
// layer holds it ((G·U), or (2,3U) for GRU with reset_after) or null without one, states (B,U) each (h,
// then c for LSTM). The primitives are made once per shape; the weights are reordered into oneDNN's
// layout at every forward, since training changes them between calls.
class OnednnScan {
 public:
  explicit OnednnScan(const ScanShape& shape);
  ~OnednnScan();
  OnednnScan(const OnednnScan&) = delete;
  OnednnScan& operator=(const OnednnScan&) = delete;

  const ScanShape& shape() const;
  // A training forward: writes the state after each timestep, in x's time order, to `sequence` (B,T,U),
  // and the last states to `final_states`. Keeps x and what backward needs until the next forward.
  void forward(const float* x, const float* kernel, const float* recurrent_kernel, const float* bias,
               const std::vector<const float*>& initial_states, float* sequence,
               const std::vector<float*>& final_states);
  // Backpropagation through the last forward, from dL/d(sequence) (B,T,U) and dL/d(final states): writes
  // dL/dx (B,T,F) and dL/d(initial states), and adds the weight gradients to the three given arrays
  // (bias_grad null without a bias). oneDNN reads sequence_grad in place during the call, without a copy.
  void backward(const float* sequence_grad, const std::vector<const float*>& final_state_grads, float* x_grad,
                const std::vector<float*>& initial_state_grads, float* kernel_grad,
                float* recurrent_kernel_grad, float* bias_grad);

 private:
  struct Primitives;
  std::unique_ptr<Primitives> primitives_;
};

}  // namespace rnnkit
