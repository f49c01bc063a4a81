// Threads: how many threads rnnkit's matrix products (OpenBLAS) use.
#pragma once

namespace rnnkit {

// Sets the number of threads of every later matrix product (OpenBLAS's openblas_set_num_threads); at
// least 1.
void set_num_threads(int threads);

}  // namespace rnnkit
