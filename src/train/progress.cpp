#include "train/progress.h"

#include <cmath>
#include <cstdio>
#include <ostream>

namespace rnnkit {
namespace {

std::string printf_string(const char* format, double value) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, format, value);
  return buffer;
}

// Keras's Progbar._format_time: "75ms/step".
std::string time_per_unit(double seconds, const char* unit) {
  if (seconds >= 1 || seconds == 0) return printf_string("%.0fs/", seconds) + unit;
  if (seconds >= 1e-3) return printf_string("%.0fms/", seconds * 1e3) + unit;
  return printf_string("%.0fus/", seconds * 1e6) + unit;
}

std::string values_text(const std::vector<std::pair<std::string, double>>& values) {
  std::string text;
  for (const auto& [name, value] : values) text += " - " + name + ": " + format_log_value(value);
  return text;
}

std::string step_count(std::int64_t current, std::int64_t target) {
  const int digits = static_cast<int>(std::log10(static_cast<double>(target))) + 1;
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%*lld/%lld", digits, static_cast<long long>(current),
                static_cast<long long>(target));
  return buffer;
}

}  // namespace

std::string format_log_value(double value) {
  return printf_string(std::abs(value) > 1e-3 ? "%.4f" : "%.4e", value);
}

ProgressBar::ProgressBar(std::int64_t target_steps, int verbose, std::ostream& out, bool interactive)
    : target_(target_steps),
      verbose_(verbose),
      out_(out),
      interactive_(interactive),
      start_(std::chrono::steady_clock::now()) {}

// "12/40 [=====>........................] - ETA: 3s - loss: 2.1000", or at the end
// "40/40 [==============================] - 3s 75ms/step - loss: 2.1000".
double StepTimer::seconds_per_step(std::int64_t current, double now_seconds) {
  if (current <= 0) return 0.0;
  // Keras falls back to the plain mean when step 1 was never reported or is reported again.
  const double per_step = after_first_step_ && current > 1
                              ? (now_seconds - *after_first_step_) / static_cast<double>(current - 1)
                              : now_seconds / static_cast<double>(current);
  if (current == 1) after_first_step_ = now_seconds;
  return per_step;
}

std::string ProgressBar::bar_line(std::int64_t current, std::int64_t target, double elapsed_seconds,
                                  double seconds_per_step,
                                  const std::vector<std::pair<std::string, double>>& values, bool finalized) {
  constexpr std::int64_t kWidth = 30;
  std::string line = step_count(current, target) + " [";
  const std::int64_t filled = kWidth * current / target;
  if (filled > 0) {
    line += std::string(static_cast<std::size_t>(filled - 1), '=');
    line += current < target ? '>' : '=';
  }
  line += std::string(static_cast<std::size_t>(kWidth - filled), '.') + "]";
  if (!finalized) {
    const double eta = seconds_per_step * static_cast<double>(target - current);
    char buffer[64];
    if (eta > 3600)
      std::snprintf(buffer, sizeof buffer, "%d:%02d:%02d", int(eta) / 3600, (int(eta) % 3600) / 60,
                    int(eta) % 60);
    else if (eta > 60)
      std::snprintf(buffer, sizeof buffer, "%d:%02d", int(eta) / 60, int(eta) % 60);
    else
      std::snprintf(buffer, sizeof buffer, "%ds", int(eta));
    line += std::string(" - ETA: ") + buffer;
  } else {
    line += printf_string(" - %.0fs ", elapsed_seconds) + time_per_unit(seconds_per_step, "step");
  }
  return line + values_text(values);
}

// "1/1 - 0s - loss: 2.4000 - accuracy: 0.0900 - 12ms/epoch - 12ms/step".
std::string ProgressBar::epoch_line(std::int64_t target, double elapsed_seconds,
                                    const std::vector<std::pair<std::string, double>>& values) {
  return step_count(target, target) + printf_string(" - %.0fs", elapsed_seconds) + values_text(values) +
         " - " + time_per_unit(elapsed_seconds, "epoch") + " - " +
         time_per_unit(elapsed_seconds / static_cast<double>(target), "step");
}

void ProgressBar::update(std::int64_t current, const std::vector<std::pair<std::string, double>>& values,
                         bool finalize) {
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const double per_step = step_timer_.seconds_per_step(current, elapsed);
  if (verbose_ == 2) {
    if (finalize) out_ << epoch_line(target_, elapsed, values) << "\n" << std::flush;
    return;
  }
  if (verbose_ != 1) return;
  const std::string line = bar_line(current, target_, elapsed, per_step, values, finalize);
  if (interactive_) {
    // Redraw in place; pad over a longer previous line.
    out_ << "\r" << line;
    if (line.size() < previous_width_) out_ << std::string(previous_width_ - line.size(), ' ');
    previous_width_ = line.size();
    if (finalize) out_ << "\n";
    out_ << std::flush;
  } else if (finalize) {
    out_ << line << "\n" << std::flush;
  }
}

}  // namespace rnnkit
