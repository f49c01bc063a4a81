// The loss curve of a training run as a small hand-written SVG: one polyline per series, axes and labels.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace rnnkit::cli {

// Series by name ("loss", "val_loss"), one value per epoch (epoch 1 first). Non-finite values are skipped.
std::string loss_curve_svg(const std::map<std::string, std::vector<double>>& series,
                           const std::string& title);

}  // namespace rnnkit::cli
