// Sampling the next token: every distribution below is worked out by hand in the comments.
#include "rnnkit/text/sampling.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "rnnkit/error.h"

namespace rnnkit {
namespace {

// Empirical frequencies of `draws` samples.
std::vector<double> frequencies(const std::vector<float>& scores, ScoreKind kind,
                                const SamplingOptions& options, int draws, std::uint64_t seed = 7) {
  Rng rng(seed);
  std::vector<double> counts(scores.size(), 0.0);
  for (int i = 0; i < draws; ++i)
    counts[static_cast<std::size_t>(sample_token(scores, kind, options, rng))] += 1.0;
  for (double& count : counts) count /= draws;
  return counts;
}

// 200,000 draws: a frequency's standard deviation is at most sqrt(0.25 / 200000) = 0.0011, so 0.006 is more
// than five deviations: a correct sampler fails this with probability below 1e-6 (and the seed is fixed).
constexpr int kDraws = 200000;
constexpr double kTolerance = 0.006;

void expect_frequencies(const std::vector<double>& observed, const std::vector<double>& expected) {
  ASSERT_EQ(observed.size(), expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i)
    EXPECT_NEAR(observed[i], expected[i], kTolerance) << "token " << i;
}

// Binary fractions, so sums and comparisons with top_p are exact.
const std::vector<float> kProbabilities = {0.125f, 0.25f, 0.625f};

TEST(Sampling, GreedyTakesTheFirstMaximumAndDrawsNothing) {
  Rng rng(1), untouched(1);
  EXPECT_EQ(sample_token(std::vector<float>{0.1f, 0.4f, 0.4f, 0.1f}, ScoreKind::probabilities,
                         {.greedy = true}, rng),
            1);
  EXPECT_EQ(sample_token(std::vector<float>{-3.0f, 2.0f, 5.0f}, ScoreKind::logits, {.greedy = true}, rng), 2);
  EXPECT_EQ(rng.next(), untouched.next());
}

TEST(Sampling, TemperatureOneDrawsTheDistribution) {
  expect_frequencies(frequencies(kProbabilities, ScoreKind::probabilities, {}, kDraws), {0.125, 0.25, 0.625});
  // Unnormalised probabilities are normalised: 1:2:5 is the same distribution.
  expect_frequencies(frequencies({1.0f, 2.0f, 5.0f}, ScoreKind::probabilities, {}, kDraws),
                     {0.125, 0.25, 0.625});
}

TEST(Sampling, TemperatureSharpensOrFlattensAsKerasSample) {
  // T = 0.5: p^2 normalised: 1/64, 4/64, 25/64 over 30/64 -> 1/30, 4/30, 25/30.
  expect_frequencies(frequencies(kProbabilities, ScoreKind::probabilities, {.temperature = 0.5}, kDraws),
                     {1.0 / 30, 4.0 / 30, 25.0 / 30});
  // T = 2: sqrt(p) normalised: sqrt(1), sqrt(2), sqrt(5) over their sum.
  const double sum = 1.0 + std::sqrt(2.0) + std::sqrt(5.0);
  expect_frequencies(frequencies({1.0f, 2.0f, 5.0f}, ScoreKind::probabilities, {.temperature = 2.0}, kDraws),
                     {1.0 / sum, std::sqrt(2.0) / sum, std::sqrt(5.0) / sum});
}

TEST(Sampling, LogitsGiveTheSoftmax) {
  // Logits log(1), log(2), log(5) + 3 (a shift changes nothing) are the distribution 1:2:5.
  const std::vector<float> logits = {3.0f, 3.0f + std::log(2.0f), 3.0f + std::log(5.0f)};
  expect_frequencies(frequencies(logits, ScoreKind::logits, {}, kDraws), {0.125, 0.25, 0.625});
  // -inf bans a token.
  const std::vector<float> banned = {-INFINITY, 0.0f, 0.0f};
  expect_frequencies(frequencies(banned, ScoreKind::logits, {}, kDraws), {0.0, 0.5, 0.5});
}

TEST(Sampling, TopKKeepsExactlyTheKMostLikely) {
  // k = 2 keeps tokens 1 and 2: 0.25 and 0.625 over 0.875 -> 2/7 and 5/7; token 0 never comes.
  const auto observed = frequencies(kProbabilities, ScoreKind::probabilities, {.top_k = 2}, kDraws);
  EXPECT_EQ(observed[0], 0.0);
  expect_frequencies(observed, {0.0, 2.0 / 7, 5.0 / 7});
  // Ties at the cut keep the lower index: {0.25, 0.25, 0.5} with k = 2 keeps tokens 2 and 0.
  const auto tied = frequencies({0.25f, 0.25f, 0.5f}, ScoreKind::probabilities, {.top_k = 2}, kDraws);
  EXPECT_EQ(tied[1], 0.0);
  expect_frequencies(tied, {1.0 / 3, 0.0, 2.0 / 3});
  // k = 1 is greedy.
  EXPECT_EQ(frequencies(kProbabilities, ScoreKind::probabilities, {.top_k = 1}, 1000)[2], 1.0);
}

TEST(Sampling, TopPKeepsTheSmallestNucleus) {
  // Sorted: 0.625, 0.25, 0.125. p = 0.625 is reached by the first token alone.
  EXPECT_EQ(frequencies(kProbabilities, ScoreKind::probabilities, {.top_p = 0.625}, 1000)[2], 1.0);
  // p = 0.7 needs the first two (0.625 < 0.7 <= 0.875): 2/7 and 5/7.
  const auto two = frequencies(kProbabilities, ScoreKind::probabilities, {.top_p = 0.7}, kDraws);
  EXPECT_EQ(two[0], 0.0);
  expect_frequencies(two, {0.0, 2.0 / 7, 5.0 / 7});
  // p = 0.9 needs all three.
  expect_frequencies(frequencies(kProbabilities, ScoreKind::probabilities, {.top_p = 0.9}, kDraws),
                     {0.125, 0.25, 0.625});
  // After temperature 0.5 (1/30, 4/30, 25/30), p = 0.8 is reached by the first token alone.
  EXPECT_EQ(
      frequencies(kProbabilities, ScoreKind::probabilities, {.temperature = 0.5, .top_p = 0.8}, 1000)[2],
      1.0);
}

TEST(Sampling, TopKThenTopP) {
  // {0.1, 0.2, 0.3, 0.4}, k = 3 keeps 0.4, 0.3, 0.2 (sum 0.9); p = 0.7 of that: 0.4/0.9 = 0.44 < 0.7,
  // 0.7/0.9 = 0.78 >= 0.7, so tokens 3 and 2 remain: 4/7 and 3/7.
  const auto observed =
      frequencies({0.1f, 0.2f, 0.3f, 0.4f}, ScoreKind::probabilities, {.top_k = 3, .top_p = 0.7}, kDraws);
  EXPECT_EQ(observed[0], 0.0);
  EXPECT_EQ(observed[1], 0.0);
  expect_frequencies(observed, {0.0, 0.0, 3.0 / 7, 4.0 / 7});
}

TEST(Sampling, TheSameSeedGivesTheSameTokens) {
  const std::vector<float> scores = {0.1f, 0.2f, 0.3f, 0.4f};
  Rng first(42), second(42), other(43);
  std::vector<std::int64_t> a, b, c;
  for (int i = 0; i < 50; ++i) {
    a.push_back(sample_token(scores, ScoreKind::probabilities, {.temperature = 0.8}, first));
    b.push_back(sample_token(scores, ScoreKind::probabilities, {.temperature = 0.8}, second));
    c.push_back(sample_token(scores, ScoreKind::probabilities, {.temperature = 0.8}, other));
  }
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
}

TEST(Sampling, BadScoresAndOptionsAreErrors) {
  Rng rng(1);
  EXPECT_THROW(sample_token(std::vector<float>{}, ScoreKind::probabilities, {}, rng), Error);
  EXPECT_THROW(sample_token(std::vector<float>{0.0f, 0.0f}, ScoreKind::probabilities, {}, rng), Error);
  EXPECT_THROW(sample_token(std::vector<float>{0.5f, -0.1f}, ScoreKind::probabilities, {}, rng), Error);
  EXPECT_THROW(sample_token(std::vector<float>{0.5f, NAN}, ScoreKind::logits, {}, rng), Error);
  EXPECT_THROW(sample_token(std::vector<float>{-INFINITY, -INFINITY}, ScoreKind::logits, {}, rng), Error);
  EXPECT_THROW(sample_token(kProbabilities, ScoreKind::probabilities, {.temperature = 0.0}, rng), Error);
  EXPECT_THROW(sample_token(kProbabilities, ScoreKind::probabilities, {.top_k = -1}, rng), Error);
  EXPECT_THROW(sample_token(kProbabilities, ScoreKind::probabilities, {.top_p = 0.0}, rng), Error);
  EXPECT_THROW(sample_token(kProbabilities, ScoreKind::probabilities, {.top_p = 1.5}, rng), Error);
  try {
    sample_token(std::vector<float>{0.5f, -0.1f}, ScoreKind::probabilities, {}, rng);
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("index 1"), std::string::npos) << error.what();
  }
}

}  // namespace
}  // namespace rnnkit
