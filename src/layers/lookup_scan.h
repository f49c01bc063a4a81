// LookupScan: the training scan of an LSTM or GRU over inputs that are rows of a table (an Embedding's
// output).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "layers/onednn_scan.h"

namespace rnnkit {

struct LookupScanShape {
  ScanCell cell;                                         // lstm or gru_reset_after
  std::int64_t batch, timesteps, rows, features, units;  // B, T, the table's V rows, F, U
  bool operator==(const LookupScanShape&) const = default;
};

// Where x[b,t] = table[id[b,t]], x·kernel + bias is row id of table·kernel + bias, computed once for the V
// rows instead of the B·T steps; and with D the input-side gate gradients of the steps summed by id,
// dL/d(kernel) = tableᵀ·D and dL/d(table) = D·kernelᵀ. The input's three products (forward, dW, dx) then
// take V rows instead of B·T: this pays where V < B·T (characters, Korean syllables).
//
// The recurrence is Keras's LSTM, or GRU with reset_after, with tanh and sigmoid gates: one product h·U
// per step (oneDNN's matmul on U packed once per call) and a fused, vectorised cell, the arithmetic of
// LSTM::step and GRU::step. Arrays are in Keras's layouts: table (V,F), kernel (F,G·U), recurrent kernel
// (U,G·U), the bias as the layer holds it ((4U) for LSTM, (2,3U) for GRU) or null, states (B,U) each (h,
// then c for LSTM), the sequence (B,T,U). Every buffer is the scan's own and reused while the shape stays.
class LookupScan {
 public:
  explicit LookupScan(const LookupScanShape& shape);
  ~LookupScan();
  LookupScan(const LookupScan&) = delete;
  LookupScan& operator=(const LookupScan&) = delete;

  const LookupScanShape& shape() const;
  // A training forward over ids (B,T), each in [0, V): writes h after each step to `sequence` (B,T,U)
  // unless it is null, and the last states. Keeps the ids, the table and what backward needs.
  void forward(const std::int32_t* ids, const float* table, const float* kernel,
               const float* recurrent_kernel, const float* bias,
               const std::vector<const float*>& initial_states, float* sequence,
               const std::vector<float*>& final_states);
  // Backpropagation through the last forward from dL/d(sequence) (B,T,U; null: zeros) and dL/d(last
  // states): writes dL/d(table) (V,F) and dL/d(initial states), and adds the weight gradients to the three
  // given arrays (bias_grad null without a bias). kernel and recurrent_kernel are the forward's.
  void backward(const float* sequence_grad, const std::vector<const float*>& final_state_grads,
                const float* kernel, const float* recurrent_kernel, float* table_grad,
                const std::vector<float*>& initial_state_grads, float* kernel_grad,
                float* recurrent_kernel_grad, float* bias_grad);

 private:
  struct Buffers;
  std::unique_ptr<Buffers> buffers_;
};

}  // namespace rnnkit
