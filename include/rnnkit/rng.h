// Rng: a seedable, platform-independent random number generator for weight initialization.
#pragma once

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

 private:
  std::uint64_t state_[4];
};

}  // namespace rnnkit
