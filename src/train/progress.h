// Keras's Progbar: the progress line fit and evaluate print, in its verbose=1 and verbose=2 forms.
#pragma once

#include <chrono>
#include <cstdint>
#include <iosfwd>
#include <string>
#include <utility>
#include <vector>

namespace rnnkit {

class ProgressBar {
 public:
  // verbose 1: a bar redrawn in place after every batch; 2: one line when the epoch ends.
  ProgressBar(std::int64_t target_steps, int verbose, std::ostream& out, bool interactive);
  // After step `current` (1-based) with the epoch's running values, in order ("loss", "accuracy").
  void update(std::int64_t current, const std::vector<std::pair<std::string, double>>& values, bool finalize = false);

  // The text itself, for tests: `seconds` since the start and per step.
  static std::string bar_line(std::int64_t current, std::int64_t target, double elapsed_seconds,
                              const std::vector<std::pair<std::string, double>>& values);
  static std::string epoch_line(std::int64_t target, double elapsed_seconds,
                                const std::vector<std::pair<std::string, double>>& values);

 private:
  std::int64_t target_;
  int verbose_;
  std::ostream& out_;
  bool interactive_;
  std::chrono::steady_clock::time_point start_;
  std::size_t previous_width_ = 0;
};

// Keras's number format in logs: %.4f, or %.4e for magnitudes at or below 1e-3.
std::string format_log_value(double value);

}  // namespace rnnkit
