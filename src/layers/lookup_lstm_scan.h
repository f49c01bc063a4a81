// LookupLstmScan: an LSTM's training scan over inputs that are rows of a table (an Embedding's output).
#pragma once

#include <cstdint>
#include <memory>

namespace rnnkit {

struct LookupScanShape {
  std::int64_t batch, timesteps, rows, features, units;  // B, T, the table's V rows, F, U
  bool operator==(const LookupScanShape&) const = default;
};

// Where x[b,t] = table[id[b,t]], x·kernel + bias is row id of table·kernel + bias, computed once for the V
// rows instead of the B·T steps; and with D the gate gradients of the steps summed by id,
// dL/d(kernel) = tableᵀ·D and dL/d(table) = D·kernelᵀ. The input's three products (forward, dW, dx) then
// take V rows instead of B·T: this pays where V < B·T (characters, Korean syllables).
//
// The recurrence is Keras's LSTM with tanh and sigmoid gates: one product h·U per step (oneDNN's matmul on
// U packed once per call) and a fused, vectorised cell, the same arithmetic as LSTM::step. Arrays are in
// Keras's layouts: table (V,F), kernel (F,4U), recurrent kernel (U,4U), bias (4U) or null, states (B,U),
// the sequence (B,T,U). Every buffer is the scan's own and reused while the shape stays.
class LookupLstmScan {
 public:
  explicit LookupLstmScan(const LookupScanShape& shape);
  ~LookupLstmScan();
  LookupLstmScan(const LookupLstmScan&) = delete;
  LookupLstmScan& operator=(const LookupLstmScan&) = delete;

  const LookupScanShape& shape() const;
  // A training forward over ids (B,T), each in [0, V): writes h after each step to `sequence` (B,T,U)
  // unless it is null, and the last h and c. Keeps the ids, the table and what backward needs.
  void forward(const std::int32_t* ids, const float* table, const float* kernel,
               const float* recurrent_kernel, const float* bias, const float* initial_h,
               const float* initial_c, float* sequence, float* final_h, float* final_c);
  // Backpropagation through the last forward from dL/d(sequence) (B,T,U; null: zeros) and dL/d(last h, c):
  // writes dL/d(table) (V,F) and dL/d(initial h, c), and adds the weight gradients to the three given
  // arrays (bias_grad null without a bias). kernel and recurrent_kernel are the forward's.
  void backward(const float* sequence_grad, const float* final_h_grad, const float* final_c_grad,
                const float* kernel, const float* recurrent_kernel, float* table_grad, float* initial_h_grad,
                float* initial_c_grad, float* kernel_grad, float* recurrent_kernel_grad, float* bias_grad);

 private:
  struct Buffers;
  std::unique_ptr<Buffers> buffers_;
};

}  // namespace rnnkit
