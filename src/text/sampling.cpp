#include "rnnkit/text/sampling.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <vector>

#include "rnnkit/error.h"

namespace rnnkit {
namespace {

constexpr double kMinusInfinity = -std::numeric_limits<double>::infinity();

// Log-probabilities up to a constant: log(p) for probabilities (log 0 = -inf: never drawn), z for logits.
std::vector<double> log_scores(std::span<const float> scores, ScoreKind kind) {
  check(!scores.empty(), "sampling: the score vector is empty");
  std::vector<double> logs(scores.size());
  bool any_possible = false;
  for (std::size_t i = 0; i < scores.size(); ++i) {
    const double score = scores[i];
    if (kind == ScoreKind::probabilities) {
      check(std::isfinite(score) && score >= 0.0, "sampling: probability ", score, " at index ", i,
            " is not a finite number >= 0");
      logs[i] = score > 0.0 ? std::log(score) : kMinusInfinity;
    } else {
      check(!std::isnan(score) && score != std::numeric_limits<double>::infinity(), "sampling: logit ", score,
            " at index ", i, " is not finite (only -inf, a banned token, may be)");
      logs[i] = score;
    }
    any_possible = any_possible || logs[i] != kMinusInfinity;
  }
  check(any_possible, "sampling: every token has probability 0");
  return logs;
}

}  // namespace

void check_sampling_options(const SamplingOptions& options) {
  if (options.greedy) return;
  check(std::isfinite(options.temperature) && options.temperature > 0.0,
        "sampling: temperature must be > 0, received ", options.temperature,
        " (use greedy decoding for the limit at 0)");
  check(options.top_k >= 0, "sampling: top_k must be >= 0 (0 keeps every token), received ", options.top_k);
  check(options.top_p > 0.0 && options.top_p <= 1.0, "sampling: top_p must be in (0, 1], received ",
        options.top_p);
}

std::int64_t sample_token(std::span<const float> scores, ScoreKind kind, const SamplingOptions& options,
                          Rng& rng) {
  check_sampling_options(options);
  const std::vector<double> logs = log_scores(scores, kind);
  if (options.greedy)  // log is increasing, so the argmax of the scores is that of the log-scores
    return std::max_element(logs.begin(), logs.end()) - logs.begin();

  // softmax(log(p) / T), computed from the maximum down so exp never overflows.
  const double top = *std::max_element(logs.begin(), logs.end());
  std::vector<double> weights(logs.size());
  for (std::size_t i = 0; i < logs.size(); ++i) weights[i] = std::exp((logs[i] - top) / options.temperature);

  // Tokens from most to least likely; equal weights keep index order, so the kept sets are exact.
  std::vector<std::int64_t> order(weights.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](std::int64_t a, std::int64_t b) { return weights[a] > weights[b]; });
  std::size_t kept = order.size();
  while (kept > 1 && weights[order[kept - 1]] == 0.0) --kept;  // impossible tokens never count
  if (options.top_k > 0) kept = std::min(kept, static_cast<std::size_t>(options.top_k));
  if (options.top_p < 1.0) {
    const double total =
        std::accumulate(order.begin(), order.begin() + kept, 0.0,
                        [&](double sum, std::int64_t index) { return sum + weights[index]; });
    double cumulative = 0.0;
    std::size_t nucleus = 0;
    while (nucleus < kept) {
      cumulative += weights[order[nucleus++]] / total;
      if (cumulative >= options.top_p - 1e-9) break;  // "reaches p" up to the rounding of the sum
    }
    kept = nucleus;
  }

  // One multinomial draw over the kept tokens: the first whose cumulative weight passes u · total.
  double total = 0.0;
  for (std::size_t i = 0; i < kept; ++i) total += weights[order[i]];
  const double threshold = rng.uniform() * total;
  double cumulative = 0.0;
  for (std::size_t i = 0; i < kept; ++i) {
    cumulative += weights[order[i]];
    if (threshold < cumulative) return order[i];
  }
  return order[kept - 1];  // rounding left u · total at the very top
}

}  // namespace rnnkit
