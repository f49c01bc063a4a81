#include "core/blas.h"

#include <cblas.h>

#include <limits>

#include "rnnkit/error.h"
#include "rnnkit/threads.h"

namespace rnnkit {

void gemm(bool transpose_a, bool transpose_b, std::int64_t m, std::int64_t n, std::int64_t k, float alpha,
          const float* a, std::int64_t lda, const float* b, std::int64_t ldb, float beta, float* c,
          std::int64_t ldc) {
  if (m == 0 || n == 0) return;
  constexpr std::int64_t kMaxBlasInt = std::numeric_limits<blasint>::max();
  check(m <= kMaxBlasInt && n <= kMaxBlasInt && k <= kMaxBlasInt && lda <= kMaxBlasInt &&
            ldb <= kMaxBlasInt && ldc <= kMaxBlasInt,
        "matrix product of (", m, ", ", k, ") by (", k, ", ", n, ") exceeds the BLAS integer range");
  cblas_sgemm(CblasRowMajor, transpose_a ? CblasTrans : CblasNoTrans, transpose_b ? CblasTrans : CblasNoTrans,
              static_cast<blasint>(m), static_cast<blasint>(n), static_cast<blasint>(k), alpha, a,
              static_cast<blasint>(lda), b, static_cast<blasint>(ldb), beta, c, static_cast<blasint>(ldc));
}

void set_num_threads(int threads) {
  check(threads >= 1, "set_num_threads: the thread count must be at least 1, received ", threads);
  openblas_set_num_threads(threads);
}

}  // namespace rnnkit
