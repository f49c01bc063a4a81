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

void LSTM::step(const float* projected, std::int64_t projected_stride, const std::vector<Tensor>& states,
                std::vector<Tensor>& next_states, StepWorkspace& workspace) const {
  const std::int64_t batch = states[0].dim(0), units = this->units();
  float* gates = workspace.gates.data();  // (B,4U): i, f, c, o
  for (std::int64_t b = 0; b < batch; ++b)
    std::copy_n(projected + b * projected_stride, 4 * units, gates + b * 4 * units);
  gemm(false, false, batch, 4 * units, units, 1.0f, states[0].data(), units, recurrent_kernel().data(), 4 * units,
       1.0f, gates, 4 * units);
  for (std::int64_t b = 0; b < batch; ++b) {
    float* i = gates + b * 4 * units;
    float *f = i + units, *g = f + units, *o = g + units;
    activate(recurrent_activation(), i, 2 * units);  // i and f
    activate(activation(), g, units);
    activate(recurrent_activation(), o, units);
    const float* c = states[1].data() + b * units;
    float* next_c = next_states[1].data() + b * units;
    float* next_h = next_states[0].data() + b * units;
    for (std::int64_t u = 0; u < units; ++u) next_c[u] = f[u] * c[u] + i[u] * g[u];
    std::copy_n(next_c, units, next_h);
    activate(activation(), next_h, units);
    for (std::int64_t u = 0; u < units; ++u) next_h[u] *= o[u];
  }
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
