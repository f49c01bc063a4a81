#include "rnnkit/layers/gru.h"

#include "core/blas.h"

namespace rnnkit {

GRU::GRU(std::int64_t units, const RecurrentOptions& options) : Recurrent("GRU", "gru", units, options) {}

Shape GRU::bias_shape() const {
  return options().reset_after ? Shape{2, 3 * units()} : Shape{3 * units()};
}

void GRU::step(const float* projected, std::int64_t projected_stride, const std::vector<Tensor>& states,
               std::vector<Tensor>& next_states, StepWorkspace& workspace) const {
  const std::int64_t batch = states[0].dim(0), units = this->units(), gate_units = 3 * units;
  const bool reset_after = options().reset_after;
  const float* h = states[0].data();                // (B,U)
  float* recurrent = workspace.gates.data();        // (B,3U): h @ U (+ recurrent bias)
  const float* kernel_u = recurrent_kernel().data();  // (U,3U)
  if (reset_after) {
    const float* recurrent_bias = bias() ? bias()->data() + gate_units : nullptr;  // row 1 of (2,3U)
    for (std::int64_t b = 0; b < batch; ++b)
      if (recurrent_bias) std::copy_n(recurrent_bias, gate_units, recurrent + b * gate_units);
    gemm(false, false, batch, gate_units, units, 1.0f, h, units, kernel_u, gate_units, recurrent_bias ? 1.0f : 0.0f,
         recurrent, gate_units);
  } else {
    // Only z and r see h @ U here; the candidate sees (r ⊙ h) @ U_h below.
    gemm(false, false, batch, 2 * units, units, 1.0f, h, units, kernel_u, gate_units, 0.0f, recurrent, gate_units);
  }
  for (std::int64_t b = 0; b < batch; ++b) {
    const float* x_gates = projected + b * projected_stride;
    float* z = recurrent + b * gate_units;  // z, then r
    for (std::int64_t j = 0; j < 2 * units; ++j) z[j] += x_gates[j];
    activate(recurrent_activation(), z, 2 * units);  // z and r
  }
  float* candidate = workspace.extra.data();  // (B,U)
  if (reset_after) {
    for (std::int64_t b = 0; b < batch; ++b) {
      const float* x_h = projected + b * projected_stride + 2 * units;
      const float* r = recurrent + b * gate_units + units;
      const float* h_u = r + units;
      for (std::int64_t u = 0; u < units; ++u) candidate[b * units + u] = x_h[u] + r[u] * h_u[u];
    }
  } else {
    float* reset_h = candidate;
    for (std::int64_t b = 0; b < batch; ++b) {
      const float* r = recurrent + b * gate_units + units;
      for (std::int64_t u = 0; u < units; ++u) reset_h[b * units + u] = r[u] * h[b * units + u];
    }
    // (r ⊙ h) @ U_h into the h-slice of `recurrent`, which is free in this form.
    gemm(false, false, batch, units, units, 1.0f, reset_h, units, kernel_u + 2 * units, gate_units, 0.0f,
         recurrent + 2 * units, gate_units);
    for (std::int64_t b = 0; b < batch; ++b) {
      const float* x_h = projected + b * projected_stride + 2 * units;
      const float* h_u = recurrent + b * gate_units + 2 * units;
      for (std::int64_t u = 0; u < units; ++u) candidate[b * units + u] = x_h[u] + h_u[u];
    }
  }
  activate(activation(), candidate, batch * units);
  float* next_h = next_states[0].data();
  for (std::int64_t b = 0; b < batch; ++b) {
    const float* z = recurrent + b * gate_units;
    for (std::int64_t u = 0; u < units; ++u) {
      const std::int64_t i = b * units + u;
      next_h[i] = z[u] * h[i] + (1.0f - z[u]) * candidate[i];
    }
  }
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
