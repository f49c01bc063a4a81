#include "rnnkit/layers/gru.h"

#include "core/blas.h"

namespace rnnkit {

GRU::GRU(std::int64_t units, const RecurrentOptions& options) : Recurrent("GRU", "gru", units, options) {}

Shape GRU::bias_shape() const {
  return options().reset_after ? Shape{2, 3 * units()} : Shape{3 * units()};
}

// z, r, hh, and the recurrent candidate input: h_prev U_h + b_rh (reset_after) or r ⊙ h_prev (reset before).
std::int64_t GRU::step_values_width() const { return 4 * units(); }

void GRU::step(const StepInput& input, std::vector<Tensor>& next_states, StepWorkspace& workspace,
               float* step_values) const {
  const std::int64_t batch = input.states[0].dim(0), units = this->units(), gate_units = 3 * units;
  const bool reset_after = options().reset_after;
  const float* h = input.states[0].data();           // (B,U)
  const float* h_in = input.recurrent_input;         // (B,U): h, or h ⊙ recurrent dropout
  float* recurrent = workspace.gates.data();         // (B,3U): h_in @ U (+ recurrent bias)
  const float* kernel_u = recurrent_kernel().data();  // (U,3U)
  if (reset_after) {
    const float* recurrent_bias = bias() ? bias()->data() + gate_units : nullptr;  // row 1 of (2,3U)
    for (std::int64_t b = 0; b < batch; ++b)
      if (recurrent_bias) std::copy_n(recurrent_bias, gate_units, recurrent + b * gate_units);
    gemm(false, false, batch, gate_units, units, 1.0f, h_in, units, kernel_u, gate_units,
         recurrent_bias ? 1.0f : 0.0f, recurrent, gate_units);
  } else {
    // Only z and r see h @ U here; the candidate sees (r ⊙ h) @ U_h below.
    gemm(false, false, batch, 2 * units, units, 1.0f, h_in, units, kernel_u, gate_units, 0.0f, recurrent, gate_units);
  }
  for (std::int64_t b = 0; b < batch; ++b) {
    const float* x_gates = input.projected + b * input.projected_stride;
    float* z = recurrent + b * gate_units;  // z, then r
    for (std::int64_t j = 0; j < 2 * units; ++j) z[j] += x_gates[j];
    activate(recurrent_activation(), z, 2 * units, units);
  }
  float* candidate = workspace.extra.data();  // (B,U): hh before its activation
  if (reset_after) {
    for (std::int64_t b = 0; b < batch; ++b) {
      const float* x_h = input.projected + b * input.projected_stride + 2 * units;
      const float* r = recurrent + b * gate_units + units;
      const float* h_u = r + units;
      for (std::int64_t u = 0; u < units; ++u) candidate[b * units + u] = x_h[u] + r[u] * h_u[u];
      if (step_values) std::copy_n(h_u, units, step_values + b * 4 * units + 3 * units);
    }
  } else {
    float* reset_h = candidate;
    for (std::int64_t b = 0; b < batch; ++b) {
      const float* r = recurrent + b * gate_units + units;
      for (std::int64_t u = 0; u < units; ++u) reset_h[b * units + u] = r[u] * h_in[b * units + u];
      if (step_values) std::copy_n(reset_h + b * units, units, step_values + b * 4 * units + 3 * units);
    }
    // (r ⊙ h) @ U_h into the h-slice of `recurrent`, which is free in this form.
    gemm(false, false, batch, units, units, 1.0f, reset_h, units, kernel_u + 2 * units, gate_units, 0.0f,
         recurrent + 2 * units, gate_units);
    for (std::int64_t b = 0; b < batch; ++b) {
      const float* x_h = input.projected + b * input.projected_stride + 2 * units;
      const float* h_u = recurrent + b * gate_units + 2 * units;
      for (std::int64_t u = 0; u < units; ++u) candidate[b * units + u] = x_h[u] + h_u[u];
    }
  }
  activate(activation(), candidate, batch * units, units);
  float* next_h = next_states[0].data();
  for (std::int64_t b = 0; b < batch; ++b) {
    const float* z = recurrent + b * gate_units;
    for (std::int64_t u = 0; u < units; ++u) {
      const std::int64_t i = b * units + u;
      next_h[i] = z[u] * h[i] + (1.0f - z[u]) * candidate[i];
    }
    if (step_values) {
      std::copy_n(z, 2 * units, step_values + b * 4 * units);
      std::copy_n(candidate + b * units, units, step_values + b * 4 * units + 2 * units);
    }
  }
}

// h' = z ⊙ h + (1 - z) ⊙ hh:  dz = dh' ⊙ (h - hh);  dhh = dh' ⊙ (1 - z);  dh = dh' ⊙ z + (through U).
void GRU::step_backward(const StepGrads& grads, StepWorkspace& workspace) const {
  const std::int64_t batch = grads.state_grads[0].dim(0), units = this->units(), gate_units = 3 * units;
  const bool reset_after = options().reset_after;
  const float* kernel_u = recurrent_kernel().data();  // (U,3U)
  for (std::int64_t b = 0; b < batch; ++b) {
    const float* values = grads.step_values + b * 4 * units;
    const float *z = values, *hh = z + 2 * units;
    const float* h = grads.previous_states[0] + b * units;
    float* dh = grads.state_grads[0].data() + b * units;  // in: dh'; out: the direct part of dh
    float* d_proj = grads.projected_grad + b * gate_units;
    float *dz = d_proj, *dhh = dz + 2 * units;
    for (std::int64_t u = 0; u < units; ++u) {
      dz[u] = dh[u] * (h[u] - hh[u]);
      dhh[u] = dh[u] * (1.0f - z[u]);
      dh[u] *= z[u];
    }
    activation_backward(activation(), {}, {hh, std::size_t(units)}, {dhh, std::size_t(units)}, units);
  }
  float* reset_grad = workspace.extra.data();  // (B,U): reset_before: dL/d(r ⊙ h_in)
  if (!reset_after)
    gemm(false, true, batch, units, units, 1.0f, grads.projected_grad + 2 * units, gate_units, kernel_u + 2 * units,
         gate_units, 0.0f, reset_grad, units);
  for (std::int64_t b = 0; b < batch; ++b) {
    const float* values = grads.step_values + b * 4 * units;
    const float *z = values, *r = z + units, *candidate_input = values + 3 * units;
    const float* h_in = grads.recurrent_input + b * units;
    float* d_proj = grads.projected_grad + b * gate_units;
    float* d_rec = grads.recurrent_grad + b * gate_units;
    float *dr = d_proj + units, *dhh = d_proj + 2 * units;
    for (std::int64_t u = 0; u < units; ++u)
      dr[u] = reset_after ? dhh[u] * candidate_input[u] : reset_grad[b * units + u] * h_in[u];
    activation_backward(recurrent_activation(), {}, {z, std::size_t(2 * units)},
                        {d_proj, std::size_t(2 * units)}, units);
    std::copy_n(d_proj, gate_units, d_rec);
    if (reset_after)
      for (std::int64_t u = 0; u < units; ++u) d_rec[2 * units + u] = dhh[u] * r[u];
  }
  if (reset_after) {
    gemm(false, true, batch, units, gate_units, 1.0f, grads.recurrent_grad, gate_units, kernel_u, gate_units, 0.0f,
         grads.recurrent_input_grad, units);
    return;
  }
  gemm(false, true, batch, units, 2 * units, 1.0f, grads.recurrent_grad, gate_units, kernel_u, gate_units, 0.0f,
       grads.recurrent_input_grad, units);
  for (std::int64_t b = 0; b < batch; ++b) {
    const float* r = grads.step_values + b * 4 * units + units;
    for (std::int64_t u = 0; u < units; ++u)
      grads.recurrent_input_grad[b * units + u] += reset_grad[b * units + u] * r[u];
  }
}

void GRU::accumulate_recurrent_grads(const Tensor& recurrent_inputs, const Tensor& step_values,
                                     const Tensor& recurrent_grads) {
  const std::int64_t rows = recurrent_inputs.dim(0), units = this->units(), gate_units = 3 * units;
  float* kernel_grad = recurrent_kernel_grad().data();  // (U,3U)
  if (options().reset_after) {
    Recurrent::accumulate_recurrent_grads(recurrent_inputs, step_values, recurrent_grads);
    if (Tensor* grad = bias_grad())  // row 1 of (2,3U): the recurrent bias
      for (std::int64_t row = 0; row < rows; ++row)
        for (std::int64_t j = 0; j < gate_units; ++j) (*grad)[gate_units + j] += recurrent_grads[row * gate_units + j];
    return;
  }
  // z and r read h_in; the candidate reads r ⊙ h_in, kept in the last quarter of the step values.
  gemm(true, false, units, 2 * units, rows, 1.0f, recurrent_inputs.data(), units, recurrent_grads.data(), gate_units,
       1.0f, kernel_grad, gate_units);
  gemm(true, false, units, units, rows, 1.0f, step_values.data() + 3 * units, 4 * units,
       recurrent_grads.data() + 2 * units, gate_units, 1.0f, kernel_grad + 2 * units, gate_units);
}

OutputAndState GRU::operator()(const Tensor& x, const CallArgs& args) {
  std::vector<Tensor> outputs = call(x, args);
  return {std::move(outputs[0]), outputs.size() > 1 ? std::move(outputs[1]) : Tensor()};
}

nlohmann::json GRU::config() const {
  nlohmann::json config = Recurrent::config();
  config["recurrent_activation"] = activation_name(recurrent_activation());
  config["reset_after"] = options().reset_after;
  config["implementation"] = 2;
  return config;
}

}  // namespace rnnkit
