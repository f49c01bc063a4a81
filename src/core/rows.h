// Row-wise broadcasts and column sums over row-major (rows, width) arrays: a bias added to every row, and
// its gradient.
#pragma once

#include <algorithm>
#include <cstdint>

#include "core/parallel.h"

namespace rnnkit {

// Each of `rows` rows of `width` values set to `row`, or to zeros where `row` is null (no bias).
inline void fill_rows(float* values, std::int64_t rows, std::int64_t width, const float* row) {
  parallel_for(rows, width, [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t index = begin; index < end; ++index) {
      if (row)
        std::copy_n(row, width, values + index * width);
      else
        std::fill_n(values + index * width, width, 0.0f);
    }
  });
}

// dst[j] += Σ_rows values[row·width + j]. Threads take columns, and each sum adds its rows in order: the same
// result on any thread count.
inline void add_column_sums(const float* values, std::int64_t rows, std::int64_t width, float* dst) {
  parallel_for(width, rows, [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t row = 0; row < rows; ++row)
      for (std::int64_t j = begin; j < end; ++j) dst[j] += values[row * width + j];
  });
}

}  // namespace rnnkit
