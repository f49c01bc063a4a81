// Threads: how many threads rnnkit's matrix products (OpenBLAS, oneDNN) use, and which kernels run them.
#pragma once

#include <string>

namespace rnnkit {

// Sets the number of threads of every later matrix product (OpenBLAS's openblas_set_num_threads, and
// OpenMP's for oneDNN's recurrent scans in the calling thread); at least 1. Results do not depend on it
// for a fixed value, so a seed and a thread count reproduce a run.
void set_num_threads(int threads);
// The number of threads matrix products use now.
int num_threads();
// The libraries and the kernels they picked for this CPU, e.g. "OpenBLAS 0.3.21 ... (core: Haswell);
// oneDNN 2.6.3 (avx512_core)".
std::string blas_description();

}  // namespace rnnkit
