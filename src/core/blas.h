// Matrix products on row-major float32 data; the only place rnnkit talks to BLAS.
#pragma once

#include <cstdint>

namespace rnnkit {

// C(m,n) = alpha * op(A) @ op(B) + beta * C, all row-major with leading dimensions lda, ldb, ldc;
// op(A) is (m,k), op(B) is (k,n).
void gemm(bool transpose_a, bool transpose_b, std::int64_t m, std::int64_t n, std::int64_t k, float alpha,
          const float* a, std::int64_t lda, const float* b, std::int64_t ldb, float beta, float* c,
          std::int64_t ldc);

}  // namespace rnnkit
