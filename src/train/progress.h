// Keras's Progbar: the progress line fit and evaluate print, in its verbose=1 and verbose=2 forms.
#pragma once

#include <chrono>
#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace rnnkit {

// Keras's Progbar._estimate_step_duration: the time a step takes, leaving out the first step (which is slow:
// it builds and warms up) once later steps have been timed.
class StepTimer {
 public:
  // After step `current` (1-based) finished at `now_seconds` since the start; 0 before any step.
  double seconds_per_step(std::int64_t current, double now_seconds);

 private:
  std::optional<double> after_first_step_;  // when step 1 finished
};

class ProgressBar {
 public:
  // verbose 1: a bar redrawn in place after every batch; 2: one line when the epoch ends.
  ProgressBar(std::int64_t target_steps, int verbose, std::ostream& out, bool interactive);
  // After step `current` (1-based) with the epoch's running values, in order ("loss", "accuracy").
  void update(std::int64_t current, const std::vector<std::pair<std::string, double>>& values,
              bool finalize = false);

  // The text itself, for tests: seconds since the start and per step. The verbose=1 line shows the ETA until
  // it is finalized, then the time per step.
  static std::string bar_line(std::int64_t current, std::int64_t target, double elapsed_seconds,
                              double seconds_per_step,
                              const std::vector<std::pair<std::string, double>>& values, bool finalized);
  static std::string epoch_line(std::int64_t target, double elapsed_seconds,
                                const std::vector<std::pair<std::string, double>>& values);

 private:
  std::int64_t target_;
  int verbose_;
  std::ostream& out_;
  bool interactive_;
  std::chrono::steady_clock::time_point start_;
  StepTimer step_timer_;
  std::size_t previous_width_ = 0;
};

// Keras's number format in logs: %.4f, or %.4e for magnitudes at or below 1e-3.
std::string format_log_value(double value);

}  // namespace rnnkit
