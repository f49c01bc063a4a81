#include "core/blas.h"

#include <cblas.h>
#include <omp.h>

#include <limits>

#include "oneapi/dnnl/dnnl.h"

#include "rnnkit/error.h"
#include "rnnkit/threads.h"

namespace rnnkit {

namespace {

// y(n) = alpha · op(M) x + beta · y with y contiguous: the matrix-vector form of a product with one row
// or one column. OpenBLAS's sgemm packs all of B even for one row, which at batch 1 (generation) reads
// and writes the whole weight matrix an extra time.
void gemv(bool transpose, std::int64_t rows, std::int64_t columns, float alpha, const float* matrix,
          std::int64_t ld, const float* x, std::int64_t x_stride, float beta, float* y,
          std::int64_t y_stride) {
  const std::int64_t length = transpose ? columns : rows;
  // With beta = 0, BLAS scales y by zero, which keeps a NaN that was there; a product must overwrite.
  if (beta == 0.0f)
    for (std::int64_t i = 0; i < length; ++i) y[i * y_stride] = 0.0f;
  cblas_sgemv(CblasRowMajor, transpose ? CblasTrans : CblasNoTrans, static_cast<blasint>(rows),
              static_cast<blasint>(columns), alpha, matrix, static_cast<blasint>(ld), x,
              static_cast<blasint>(x_stride), beta, y, static_cast<blasint>(y_stride));
}

// The instruction set oneDNN's kernels use on this CPU.
const char* isa_name(dnnl_cpu_isa_t isa) {
  switch (isa) {
    case dnnl_cpu_isa_avx2:
      return "avx2";
    case dnnl_cpu_isa_avx512_core:
      return "avx512_core";
    case dnnl_cpu_isa_avx512_core_vnni:
      return "avx512_core_vnni";
    case dnnl_cpu_isa_avx512_core_bf16:
      return "avx512_core_bf16";
    case dnnl_cpu_isa_avx512_core_amx:
      return "avx512_core_amx";
    default:
      return "another instruction set";
  }
}

}  // namespace

void gemm(bool transpose_a, bool transpose_b, std::int64_t m, std::int64_t n, std::int64_t k, float alpha,
          const float* a, std::int64_t lda, const float* b, std::int64_t ldb, float beta, float* c,
          std::int64_t ldc) {
  if (m == 0 || n == 0) return;
  constexpr std::int64_t kMaxBlasInt = std::numeric_limits<blasint>::max();
  check(m <= kMaxBlasInt && n <= kMaxBlasInt && k <= kMaxBlasInt && lda <= kMaxBlasInt &&
            ldb <= kMaxBlasInt && ldc <= kMaxBlasInt,
        "matrix product of (", m, ", ", k, ") by (", k, ", ", n, ") exceeds the BLAS integer range");
  if (m == 1 && k > 0) {
    // c(1,n) = op(a)(1,k) @ op(b)(k,n): op(b)ᵀ times the row of a. b is (k,n), or (n,k) when transposed.
    gemv(!transpose_b, transpose_b ? n : k, transpose_b ? k : n, alpha, b, ldb, a, transpose_a ? lda : 1,
         beta, c, 1);
    return;
  }
  if (n == 1 && k > 0) {
    // c(m,1) = op(a)(m,k) @ the column of op(b). a is (m,k), or (k,m) when transposed.
    gemv(transpose_a, transpose_a ? k : m, transpose_a ? m : k, alpha, a, lda, b, transpose_b ? 1 : ldb, beta,
         c, ldc);
    return;
  }
  cblas_sgemm(CblasRowMajor, transpose_a ? CblasTrans : CblasNoTrans, transpose_b ? CblasTrans : CblasNoTrans,
              static_cast<blasint>(m), static_cast<blasint>(n), static_cast<blasint>(k), alpha, a,
              static_cast<blasint>(lda), b, static_cast<blasint>(ldb), beta, c, static_cast<blasint>(ldc));
}

void set_num_threads(int threads) {
  check(threads >= 1, "set_num_threads: the thread count must be at least 1, received ", threads);
  openblas_set_num_threads(threads);
  omp_set_num_threads(threads);  // oneDNN's
}

int num_threads() {
  return openblas_get_num_threads();
}

std::string blas_description() {
  const dnnl_version_t* onednn = dnnl_version();
  return std::string(openblas_get_config()) + " (core: " + openblas_get_corename() + "); oneDNN " +
         std::to_string(onednn->major) + "." + std::to_string(onednn->minor) + "." +
         std::to_string(onednn->patch) + " (" + isa_name(dnnl_get_effective_cpu_isa()) + ")";
}

}  // namespace rnnkit
