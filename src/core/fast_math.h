// exp, tanh and sigmoid for float as plain arithmetic, so that loops over them vectorise.
// libm's expf/tanhf are calls the compiler cannot vectorise; these are within a few ulp of them (tanh is
// Eigen's rational approximation, the one TensorFlow's CPU kernels use).
#pragma once

#include <algorithm>
#include <bit>
#include <cstdint>

// Marks a function whose loops run over every gate value or logit: it is compiled for AVX-512, AVX2 and
// the baseline, and the CPU picks one at load time (GCC's function multiversioning).
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define RNNKIT_VECTOR_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define RNNKIT_VECTOR_CLONES
#endif

namespace rnnkit::fast {

// e^x, from Cephes expf: e^x = 2^n · e^r with n = round(x / ln 2) and |r| <= ln 2 / 2, e^r by a degree-7
// polynomial. Inputs are clamped to where 2^n stays a normal float: the result saturates at 2.1e38 above
// x = 88.376 and at 1.2e-38 below x = -87.336 (libm gives up to inf and down to 0); NaN stays NaN.
inline float exp(float x) {
  x = std::min(std::max(x, -87.33654f), 88.37626f);
  // Adding 1.5·2^23 rounds to an integer kept in the low mantissa bits: n without a float-to-int cast.
  constexpr float kRound = 12582912.0f;
  const float shifted = x * 1.44269504088896341f + kRound;
  const float n = shifted - kRound;
  const std::int32_t exponent = std::bit_cast<std::int32_t>(shifted) - std::bit_cast<std::int32_t>(kRound);
  const float r = x - n * 0.693359375f - n * -2.12194440e-4f;  // ln 2 in two parts, exact in float
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  // Unsigned: for a NaN x the exponent bits are meaningless, and the shift must not be undefined.
  return p * std::bit_cast<float>(static_cast<std::uint32_t>(exponent + 127) << 23);
}

// tanh(x) as Eigen's generic_fast_tanh_float: an odd degree-13 over an even degree-6 polynomial on
// [-7.905, 7.905] (±1 to float precision beyond), and x itself where |x| < 0.0004.
inline float tanh(float x) {
  const float clamped = std::min(std::max(x, -7.90531110763549805f), 7.90531110763549805f);
  const float x2 = clamped * clamped;
  float p = -2.76076847742355e-16f;
  p = p * x2 + 2.00018790482477e-13f;
  p = p * x2 + -8.60467152213735e-11f;
  p = p * x2 + 5.12229709037114e-08f;
  p = p * x2 + 1.48572235717979e-05f;
  p = p * x2 + 6.37261928875436e-04f;
  p = p * x2 + 4.89352455891786e-03f;
  p = p * clamped;
  float q = 1.19825839466702e-06f;
  q = q * x2 + 1.18534705686654e-04f;
  q = q * x2 + 2.26843463243900e-03f;
  q = q * x2 + 4.89352518554385e-03f;
  const bool tiny = x < 0.0004f && x > -0.0004f;
  return tiny ? x : p / q;
}

inline float sigmoid(float x) {
  return 1.0f / (1.0f + exp(-x));
}

}  // namespace rnnkit::fast
