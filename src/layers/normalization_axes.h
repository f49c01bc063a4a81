// The axes a normalization layer works over, and where each element of its input falls in them.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "rnnkit/tensor.h"

namespace rnnkit::normalization {

// `axis` as Keras's validate_axis gives it for an input of `shape`: each made non-negative, in the order
// given; an axis out of range, given twice or of unknown size is an error naming `where`.
std::vector<int> resolve_axes(const std::vector<int>& axis, const Shape& shape, const std::string& where);

// For every element of a tensor of `shape`, its index among the positions of `axes` (row-major in
// increasing axis order: the flat index of a weight of shape [shape[a] for a in axes]) and its index
// among the positions of the other axes. Trailing axes (the usual last one) need no tables.
class AxisSplit {
 public:
  std::int64_t inner(std::int64_t i) const {
    return inner_.empty() ? i % inner_count : inner_[static_cast<std::size_t>(i)];
  }
  std::int64_t outer(std::int64_t i) const {
    return outer_.empty() ? i / inner_count : outer_[static_cast<std::size_t>(i)];
  }
  std::int64_t inner_count = 1;
  std::int64_t outer_count = 1;

 private:
  friend AxisSplit split_axes(const Shape& shape, const std::vector<int>& axes);
  std::vector<std::int64_t> inner_, outer_;  // per element, where the axes are not trailing
};
AxisSplit split_axes(const Shape& shape, const std::vector<int>& axes);

// Keras's config value for `axis`: the resolved list once built (as tf.keras's build leaves it), else as
// given (one axis as an integer).
nlohmann::json axis_config(const std::vector<int>& given, const std::vector<int>& resolved);

// `axis` from a config: an integer or a list of integers.
std::vector<int> axis_from_config(const nlohmann::json& value, const std::string& where);

}  // namespace rnnkit::normalization
