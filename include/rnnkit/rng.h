// Rng: a seedable, platform-independent random number generator for weight initialization.
#pragma once

#include <array>
#include <cstdint>

namespace rnnkit {

// xoshiro256** seeded by splitmix64: the same seed gives the same numbers on every platform and
// standard library, which std::uniform_real_distribution does not promise.
class Rng {
 public:
  explicit Rng(std::uint64_t seed = 0);
  std::uint64_t next();
  double uniform();                         // in [0, 1)
  double uniform(double low, double high);  // in [low, high)
  double normal();                          // standard normal (Box-Muller)

  // The generator's position, to save it and restore it later: a restored Rng draws what the saved one
  // would have. from_state rejects the all-zero state, from which xoshiro never leaves.
  std::array<std::uint64_t, 4> state() const;
  static Rng from_state(const std::array<std::uint64_t, 4>& state);

 private:
  std::uint64_t state_[4];
};

}  // namespace rnnkit
