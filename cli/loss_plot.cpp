#include "loss_plot.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <sstream>

namespace rnnkit::cli {
namespace {

std::string number(double value, int decimals) {
  char text[64];
  std::snprintf(text, sizeof text, "%.*f", decimals, value);
  return text;
}

std::string escape_xml(const std::string& text) {
  std::string escaped;
  for (const char c : text) {
    if (c == '&')
      escaped += "&amp;";
    else if (c == '<')
      escaped += "&lt;";
    else if (c == '>')
      escaped += "&gt;";
    else if (c == '"')
      escaped += "&quot;";
    else
      escaped += c;
  }
  return escaped;
}

}  // namespace

std::string loss_curve_svg(const std::map<std::string, std::vector<double>>& series,
                           const std::string& title) {
  constexpr double kWidth = 640, kHeight = 400, kLeft = 60, kRight = 20, kTop = 40, kBottom = 50;
  constexpr double kPlotWidth = kWidth - kLeft - kRight, kPlotHeight = kHeight - kTop - kBottom;
  const char* const colours[] = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd"};

  double low = std::numeric_limits<double>::infinity(), high = -low;
  std::size_t epochs = 1;
  for (const auto& [name, values] : series) {
    epochs = std::max(epochs, values.size());
    for (const double value : values)
      if (std::isfinite(value)) low = std::min(low, value), high = std::max(high, value);
  }
  if (!std::isfinite(low)) low = 0, high = 1;
  if (high - low < 1e-9) low -= 0.5, high += 0.5;
  const double pad = (high - low) * 0.05;
  low = std::max(0.0, low - pad), high += pad;
  const auto x_of = [&](std::size_t epoch) {  // epoch from 1
    return kLeft + (epochs == 1
                        ? kPlotWidth / 2
                        : kPlotWidth * static_cast<double>(epoch - 1) / static_cast<double>(epochs - 1));
  };
  const auto y_of = [&](double value) { return kTop + kPlotHeight * (high - value) / (high - low); };

  std::ostringstream svg;
  svg << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << kWidth << "\" height=\"" << kHeight
      << "\" font-family=\"sans-serif\" font-size=\"12\">\n"
      << "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
      << "<text x=\"" << kWidth / 2 << "\" y=\"22\" text-anchor=\"middle\" font-size=\"14\">"
      << escape_xml(title) << "</text>\n";
  // Axes, five value ticks with grid lines, epoch ticks at most ten.
  svg << "<g stroke=\"#888\" fill=\"none\"><path d=\"M" << kLeft << " " << kTop << " V" << kTop + kPlotHeight
      << " H" << kLeft + kPlotWidth << "\"/></g>\n";
  for (int tick = 0; tick <= 4; ++tick) {
    const double value = low + (high - low) * tick / 4.0;
    const double y = y_of(value);
    svg << "<line x1=\"" << kLeft << "\" x2=\"" << kLeft + kPlotWidth << "\" y1=\"" << number(y, 1)
        << "\" y2=\"" << number(y, 1) << "\" stroke=\"#eee\"/>"
        << "<text x=\"" << kLeft - 6 << "\" y=\"" << number(y + 4, 1) << "\" text-anchor=\"end\">"
        << number(value, 3) << "</text>\n";
  }
  const std::size_t step = std::max<std::size_t>(1, (epochs + 9) / 10);
  for (std::size_t epoch = 1; epoch <= epochs; epoch += step)
    svg << "<text x=\"" << number(x_of(epoch), 1) << "\" y=\"" << kTop + kPlotHeight + 16
        << "\" text-anchor=\"middle\">" << epoch << "</text>\n";
  svg << "<text x=\"" << kLeft + kPlotWidth / 2 << "\" y=\"" << kHeight - 12
      << "\" text-anchor=\"middle\">epoch</text>\n"
      << "<text x=\"16\" y=\"" << kTop + kPlotHeight / 2
      << "\" text-anchor=\"middle\" transform=\"rotate(-90 16 " << kTop + kPlotHeight / 2
      << ")\">loss (nats per token)</text>\n";
  // One polyline and a legend entry per series.
  std::size_t index = 0;
  for (const auto& [name, values] : series) {
    const char* colour = colours[index % 4];
    svg << "<polyline fill=\"none\" stroke=\"" << colour << "\" stroke-width=\"2\" points=\"";
    for (std::size_t i = 0; i < values.size(); ++i)
      if (std::isfinite(values[i])) svg << number(x_of(i + 1), 1) << "," << number(y_of(values[i]), 1) << " ";
    svg << "\"/>\n";
    const double legend_y = kTop + 14 + 16 * static_cast<double>(index);
    svg << "<line x1=\"" << kLeft + kPlotWidth - 110 << "\" x2=\"" << kLeft + kPlotWidth - 90 << "\" y1=\""
        << legend_y - 4 << "\" y2=\"" << legend_y - 4 << "\" stroke=\"" << colour << "\" stroke-width=\"2\"/>"
        << "<text x=\"" << kLeft + kPlotWidth - 84 << "\" y=\"" << legend_y << "\">" << escape_xml(name)
        << "</text>\n";
    ++index;
  }
  svg << "</svg>\n";
  return svg.str();
}

}  // namespace rnnkit::cli
