// Sampling: choosing the next token from a model's output: greedy, temperature, top-k and top-p (nucleus).
#pragma once

#include <cstdint>
#include <span>

#include "rnnkit/rng.h"

namespace rnnkit {

// What a model's last layer gives: probabilities (Dense with softmax) or logits (Dense, linear).
enum class ScoreKind { probabilities, logits };

struct SamplingOptions {
  bool greedy = false;       // argmax (the first maximum on ties); the other options are then unused
  double temperature = 1.0;  // > 0: log(p)/T then softmax, as the Keras char-RNN example's sample()
  std::int64_t top_k = 0;    // > 0: keep only the k most likely tokens (ties: the lower index first)
  double top_p = 1.0;        // in (0, 1]: keep the fewest most likely tokens whose probability reaches p
};

// Checks the options (temperature > 0, top_k >= 0, 0 < top_p <= 1); an Error names the field.
void check_sampling_options(const SamplingOptions& options);

// The index of the next token. Order of the steps, as in Hugging Face's generate(): temperature, then
// top-k, then top-p over the tempered distribution, then one multinomial draw (one rng.uniform()) from what
// is kept, renormalised. Probabilities need not sum to 1 (they are normalised) but must be finite, >= 0 and
// not all 0; logits must be finite or -infinity (a banned token), not all -infinity. Greedy draws nothing.
std::int64_t sample_token(std::span<const float> scores, ScoreKind kind, const SamplingOptions& options,
                          Rng& rng);

}  // namespace rnnkit
