#include "core/softmax_rows.h"

#include <algorithm>

#include "core/fast_math.h"

namespace rnnkit {

// Maxima and sums run in interleaved lanes, combined in a fixed order: vectorisable (a single running sum is
// a dependency chain) and the same result on every CPU.

RNNKIT_VECTOR_CLONES float row_max(const float* row, std::size_t length) {
  constexpr std::size_t kLanes = 16;
  float lanes[kLanes];
  std::fill_n(lanes, kLanes, row[0]);
  std::size_t i = 0;
  for (; i + kLanes <= length; i += kLanes)
    for (std::size_t lane = 0; lane < kLanes; ++lane) lanes[lane] = std::max(lanes[lane], row[i + lane]);
  float result = row[0];
  for (std::size_t lane = 0; lane < kLanes; ++lane) result = std::max(result, lanes[lane]);
  for (; i < length; ++i) result = std::max(result, row[i]);
  return result;
}

RNNKIT_VECTOR_CLONES void exp_shifted(const float* in, float* out, std::size_t length, float shift) {
  for (std::size_t i = 0; i < length; ++i) out[i] = fast::exp(in[i] - shift);
}

RNNKIT_VECTOR_CLONES void scale(float* row, std::size_t length, float factor) {
  for (std::size_t i = 0; i < length; ++i) row[i] *= factor;
}

RNNKIT_VECTOR_CLONES double row_sum(const float* row, std::size_t length) {
  constexpr std::size_t kLanes = 8;
  double lanes[kLanes] = {};
  std::size_t i = 0;
  for (; i + kLanes <= length; i += kLanes)
    for (std::size_t lane = 0; lane < kLanes; ++lane) lanes[lane] += static_cast<double>(row[i + lane]);
  double total = 0.0;
  for (std::size_t lane = 0; lane < kLanes; ++lane) total += lanes[lane];
  for (; i < length; ++i) total += static_cast<double>(row[i]);
  return total;
}

}  // namespace rnnkit
