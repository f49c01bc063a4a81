// Row maxima, shifted exponentials and sums: the vectorised core of softmax and of cross-entropy from logits.
#pragma once

#include <cstddef>

namespace rnnkit {

// The largest of row[0], ..., row[length - 1]; length >= 1.
float row_max(const float* row, std::size_t length);

// out[i] = exp(in[i] - shift); out may be in.
void exp_shifted(const float* in, float* out, std::size_t length, float shift);

// row[i] *= factor.
void scale(float* row, std::size_t length, float factor);

// The sum of row[0], ..., row[length - 1] in double, added in the same order on every CPU.
double row_sum(const float* row, std::size_t length);

}  // namespace rnnkit
