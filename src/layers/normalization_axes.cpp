#include "layers/normalization_axes.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "rnnkit/error.h"

namespace rnnkit::normalization {

std::vector<int> resolve_axes(const std::vector<int>& axis, const Shape& shape, const std::string& where) {
  const int rank = static_cast<int>(shape.size());
  check(!axis.empty(), where, ": axis must name at least one axis");
  std::vector<int> resolved;
  for (const int given : axis) {
    check(given >= -rank && given < rank, where, ": axis ", given, " is out of range for an input of shape ",
          shape_string(shape));
    const int positive = given < 0 ? given + rank : given;
    check(std::ranges::find(resolved, positive) == resolved.end(), where, ": axis ", given,
          " is given twice");
    check(shape[static_cast<std::size_t>(positive)] != kNone, where, ": axis ", given, " of the input shape ",
          shape_string(shape), " must be known");
    resolved.push_back(positive);
  }
  return resolved;
}

AxisSplit split_axes(const Shape& shape, const std::vector<int>& axes) {
  AxisSplit split;
  const std::size_t rank = shape.size();
  std::vector<bool> is_inner(rank, false);
  for (const int axis : axes) is_inner[static_cast<std::size_t>(axis)] = true;
  // Row-major strides of each axis within its own group.
  std::vector<std::int64_t> stride(rank, 0);
  for (std::size_t a = rank; a-- > 0;) {
    std::int64_t& count = is_inner[a] ? split.inner_count : split.outer_count;
    stride[a] = count;
    count *= shape[a];
  }
  std::vector<int> sorted = axes;
  std::ranges::sort(sorted);
  if (sorted.back() == static_cast<int>(rank) - 1 &&
      sorted.back() - sorted.front() == static_cast<int>(sorted.size()) - 1)
    return split;  // trailing: inner = i % inner_count, outer = i / inner_count
  const std::int64_t size = split.inner_count * split.outer_count;
  split.inner_.resize(static_cast<std::size_t>(size));
  split.outer_.resize(static_cast<std::size_t>(size));
  std::vector<std::int64_t> position(rank, 0);
  std::int64_t inner = 0, outer = 0;
  for (std::int64_t i = 0; i < size; ++i) {
    split.inner_[static_cast<std::size_t>(i)] = inner;
    split.outer_[static_cast<std::size_t>(i)] = outer;
    // Next element: advance the last axis, carrying into earlier ones.
    for (std::size_t a = rank; a-- > 0;) {
      std::int64_t& index = is_inner[a] ? inner : outer;
      if (++position[a] < shape[a]) {
        index += stride[a];
        break;
      }
      index -= stride[a] * (shape[a] - 1);
      position[a] = 0;
    }
  }
  return split;
}

nlohmann::json axis_config(const std::vector<int>& given, const std::vector<int>& resolved) {
  if (!resolved.empty()) return resolved;
  if (given.size() == 1) return given[0];
  return given;
}

std::vector<int> axis_from_config(const nlohmann::json& value, const std::string& where) {
  if (value.is_number_integer()) return {value.get<int>()};
  check(value.is_array() && !value.empty(), where,
        ": field 'axis' must be an integer or a list of integers, received ", value.dump());
  std::vector<int> axis;
  for (const nlohmann::json& item : value) {
    check(item.is_number_integer(), where,
          ": field 'axis' must be an integer or a list of integers, received ", value.dump());
    axis.push_back(item.get<int>());
  }
  return axis;
}

}  // namespace rnnkit::normalization
