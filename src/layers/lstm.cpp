#include "rnnkit/layers/lstm.h"

#include <cmath>

#include "core/blas.h"

namespace rnnkit {

LSTM::LSTM(std::int64_t units, const RecurrentOptions& options) : Recurrent("LSTM", "lstm", units, options) {}

void LSTM::initialize_bias(Tensor& bias, Rng& rng) const {
  Recurrent::initialize_bias(bias, rng);
  if (!options().unit_forget_bias) return;
  // Keras: the forget gate's bias starts at one, whatever the bias initializer gives it.
  const std::int64_t units = this->units();
  std::fill_n(bias.data() + units, units, 1.0f);
}

std::int64_t LSTM::step_values_width() const { return 5 * units(); }  // i, f, c~, o, c

void LSTM::step(const StepInput& input, std::vector<Tensor>& next_states, StepWorkspace& workspace,
                float* step_values) const {
  const std::int64_t batch = input.states[0].dim(0), units = this->units();
  float* gates = workspace.gates.data();  // (B,4U): i, f, c~, o
  for (std::int64_t b = 0; b < batch; ++b)
    std::copy_n(input.projected + b * input.projected_stride, 4 * units, gates + b * 4 * units);
  gemm(false, false, batch, 4 * units, units, 1.0f, input.recurrent_input, units, recurrent_kernel().data(),
       4 * units, 1.0f, gates, 4 * units);
  for (std::int64_t b = 0; b < batch; ++b) {
    float* i = gates + b * 4 * units;
    float *f = i + units, *g = f + units, *o = g + units;
    activate(recurrent_activation(), i, 2 * units, units);  // i and f
    activate(activation(), g, units, units);
    activate(recurrent_activation(), o, units, units);
    const float* c = input.states[1].data() + b * units;
    float* next_c = next_states[1].data() + b * units;
    float* next_h = next_states[0].data() + b * units;
    for (std::int64_t u = 0; u < units; ++u) next_c[u] = f[u] * c[u] + i[u] * g[u];
    std::copy_n(next_c, units, next_h);
    activate(activation(), next_h, units, units);
    for (std::int64_t u = 0; u < units; ++u) next_h[u] *= o[u];
    if (step_values) {
      std::copy_n(i, 4 * units, step_values + b * 5 * units);
      std::copy_n(next_c, units, step_values + b * 5 * units + 4 * units);
    }
  }
}

// With tc = act(c'):  do = dh ⊙ tc;  dc = dc' + act'(dh ⊙ o);  di = dc ⊙ c~;  df = dc ⊙ c;  dc~ = dc ⊙ i;
// dc_prev = dc ⊙ f; then each gate through its activation; dh_prev = d(gates) Uᵀ.
void LSTM::step_backward(const StepGrads& grads, StepWorkspace& workspace) const {
  const std::int64_t batch = grads.state_grads[0].dim(0), units = this->units();
  float* tanh_c = workspace.extra.data();  // (B,U)
  for (std::int64_t b = 0; b < batch; ++b) {
    const float* values = grads.step_values + b * 5 * units;
    const float *i = values, *f = i + units, *g = f + units, *o = g + units, *c_next = o + units;
    const float* c_prev = grads.previous_states[1] + b * units;
    float* dh = grads.state_grads[0].data() + b * units;
    float* dc = grads.state_grads[1].data() + b * units;  // in: dc'; out: dc_prev
    float* d_gates = grads.projected_grad + b * 4 * units;
    float *di = d_gates, *df = di + units, *dg = df + units, *d_o = dg + units;
    float* tc = tanh_c + b * units;
    std::copy_n(c_next, units, tc);
    activate(activation(), tc, units, units);
    for (std::int64_t u = 0; u < units; ++u) {
      d_o[u] = dh[u] * tc[u];
      dg[u] = dh[u] * o[u];  // dL/d(tc), for a moment
    }
    activation_backward(activation(), {}, {tc, std::size_t(units)}, {dg, std::size_t(units)}, units);
    for (std::int64_t u = 0; u < units; ++u) {
      const float dc_total = dc[u] + dg[u];
      di[u] = dc_total * g[u];
      df[u] = dc_total * c_prev[u];
      dg[u] = dc_total * i[u];
      dc[u] = dc_total * f[u];
    }
    activation_backward(recurrent_activation(), {}, {i, std::size_t(2 * units)}, {di, std::size_t(2 * units)},
                        units);
    activation_backward(activation(), {}, {g, std::size_t(units)}, {dg, std::size_t(units)}, units);
    activation_backward(recurrent_activation(), {}, {o, std::size_t(units)}, {d_o, std::size_t(units)},
                        units);
    std::fill_n(dh, units, 0.0f);  // h_prev reaches the gates only through U
  }
  gemm(false, true, batch, units, 4 * units, 1.0f, grads.projected_grad, 4 * units, recurrent_kernel().data(),
       4 * units, 0.0f, grads.recurrent_input_grad, units);
}

OutputAndStates LSTM::operator()(const Tensor& x, const CallArgs& args) {
  std::vector<Tensor> outputs = call(x, args);
  OutputAndStates result{std::move(outputs[0]), {}, {}};
  if (outputs.size() > 2) {
    result.state_h = std::move(outputs[1]);
    result.state_c = std::move(outputs[2]);
  }
  return result;
}

nlohmann::json LSTM::config() const {
  nlohmann::json config = Recurrent::config();
  config["recurrent_activation"] = activation_name(recurrent_activation());
  config["unit_forget_bias"] = options().unit_forget_bias;
  config["implementation"] = 2;
  return config;
}

}  // namespace rnnkit
