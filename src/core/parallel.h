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

// oneDNN splits every scan step among all of OpenMP's threads. For a small step, waking and waiting for the
// others costs more than they save (2.5x the time of the unit tests on a busy 2-core machine), so a scan
// whose step is under this many multiply-adds (batch · units · gate units) runs on the calling thread.
inline constexpr std::int64_t kParallelStepWork = std::int64_t{1} << 20;

// Holds OpenMP to one thread (in the calling thread's setting) for the life of this object, where asked.
class SingleThreadScope {
 public:
  explicit SingleThreadScope(bool single) : previous_(omp_get_max_threads()) {
    if (single) omp_set_num_threads(1);
  }
  ~SingleThreadScope() { omp_set_num_threads(previous_); }
  SingleThreadScope(const SingleThreadScope&) = delete;
  SingleThreadScope& operator=(const SingleThreadScope&) = delete;

 private:
  int previous_;
};

}  // namespace rnnkit
