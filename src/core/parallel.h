// Splitting a loop over independent items across rnnkit's threads: OpenMP's, which OpenBLAS and oneDNN use.
#pragma once

#include <omp.h>

#include <cstdint>

namespace rnnkit {

// Below this many floats touched, waking a second thread costs more than it saves.
inline constexpr std::int64_t kParallelWork = std::int64_t{1} << 18;

// Calls body(begin, end) on contiguous blocks that cover [0, count) once, one block per thread, when
// count * work_per_item reaches kParallelWork; otherwise body(0, count) on this thread. Each item must be
// computed on its own, so the results are the same whatever the thread count. body must not throw.
template <typename Body>
void parallel_for(std::int64_t count, std::int64_t work_per_item, const Body& body) {
  if (count < 2 || count * work_per_item < kParallelWork || omp_get_max_threads() < 2) {
    body(std::int64_t{0}, count);
    return;
  }
#pragma omp parallel
  {
    const std::int64_t threads = omp_get_num_threads(), thread = omp_get_thread_num();
    body(count * thread / threads, count * (thread + 1) / threads);
  }
}

}  // namespace rnnkit
