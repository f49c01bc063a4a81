// Keras's losses (tf.keras 2.11): values, gradients and the matching accuracy. See losses.h for the rules and
// the Keras sources each one follows.
#include "rnnkit/losses.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <sstream>
#include <utility>
#include <vector>

#include "core/parallel.h"
#include "core/softmax_rows.h"
#include "rnnkit/error.h"

namespace rnnkit {
namespace {

using Kind = Loss::Kind;

// keras/backend_config.py: epsilon() = 1e-7. Keras clips float32 tensors with float32 bounds:
// `_constant_to_tensor(epsilon(), float32)` and `1.0 - epsilon_`, which rounds to 0.99999988.
constexpr float kEpsilon = 1e-7f;
constexpr double kClipLow = static_cast<double>(kEpsilon);
constexpr double kClipHigh = static_cast<double>(1.0f - kEpsilon);

constexpr std::array<std::pair<std::string_view, Kind>, 12> kNames{{
    {"categorical_crossentropy", Kind::categorical_crossentropy},
    {"CategoricalCrossentropy", Kind::categorical_crossentropy},
    {"sparse_categorical_crossentropy", Kind::sparse_categorical_crossentropy},
    {"SparseCategoricalCrossentropy", Kind::sparse_categorical_crossentropy},
    {"binary_crossentropy", Kind::binary_crossentropy},
    {"bce", Kind::binary_crossentropy},
    {"BCE", Kind::binary_crossentropy},
    {"BinaryCrossentropy", Kind::binary_crossentropy},
    {"mean_squared_error", Kind::mean_squared_error},
    {"mse", Kind::mean_squared_error},
    {"MSE", Kind::mean_squared_error},
    {"MeanSquaredError", Kind::mean_squared_error},
}};

std::string canonical_name(Kind kind) {
  switch (kind) {
    case Kind::categorical_crossentropy:
      return "categorical_crossentropy";
    case Kind::sparse_categorical_crossentropy:
      return "sparse_categorical_crossentropy";
    case Kind::binary_crossentropy:
      return "binary_crossentropy";
    case Kind::mean_squared_error:
      return "mean_squared_error";
  }
  fail("unnamed loss");
}

Shape without_last(const Shape& shape) {
  return Shape(shape.begin(), shape.end() - 1);
}

Shape with_last(Shape shape, std::int64_t last) {
  shape.push_back(last);
  return shape;
}

// "(1, 2)": the position of a flat index in a tensor of the given shape, for error messages.
std::string position_string(std::int64_t flat, const Shape& shape) {
  std::vector<std::int64_t> index(shape.size());
  for (std::size_t axis = shape.size(); axis-- > 0;) {
    index[axis] = shape[axis] > 0 ? flat % shape[axis] : 0;
    flat = shape[axis] > 0 ? flat / shape[axis] : 0;
  }
  std::ostringstream out;
  out << "(";
  for (std::size_t axis = 0; axis < index.size(); ++axis) out << (axis ? ", " : "") << index[axis];
  out << (index.size() == 1 ? ",)" : ")");
  return out.str();
}

// The class id of a sparse label: an exact integer in [0, classes). Keras casts labels to int64 (truncating a
// fraction) and TensorFlow rejects ids out of range on CPU (NaN on GPU); rnnkit rejects both, never reading
// out of bounds.
std::int64_t class_id(const std::string& loss, float label, std::int64_t flat, const Shape& label_shape,
                      std::int64_t classes) {
  const double value = label;
  check(std::isfinite(value) && value == std::floor(value) && value >= 0.0 &&
            value < static_cast<double>(classes),
        loss, ": label ", label, " at position ", position_string(flat, label_shape), " of y_true ",
        shape_string(label_shape), " is not a class id in [0, ", classes, ")");
  return static_cast<std::int64_t>(value);
}

std::int64_t argmax(const float* row, std::int64_t length) {
  std::int64_t best = 0;  // tf.math.argmax: the first of equal maxima
  for (std::int64_t j = 1; j < length; ++j)
    if (row[j] > row[best]) best = j;
  return best;
}

// A mask holds one entry per row of y_pred (its shape minus the class axis); nonzero keeps the row.
void check_mask(const std::string& loss, const Tensor& mask, const Shape& pred_shape) {
  check(mask.shape() == without_last(pred_shape), loss, ": mask ", shape_string(mask.shape()),
        " does not fit y_pred ", shape_string(pred_shape), " (expected ",
        shape_string(without_last(pred_shape)), ", one entry per row)");
}

bool masked_out(const Tensor* mask, std::int64_t row) {
  return mask != nullptr && (*mask)[row] == 0.0f;
}

double clip(double value) {
  return std::min(std::max(value, kClipLow), kClipHigh);
}
// tf.clip_by_value is minimum then maximum; their gradients pass where value <= high and value >= low.
bool clip_passes(double value) {
  return value >= kClipLow && value <= kClipHigh;
}

// One row (one sample or timestep) of each loss: returns the row's loss and writes scale * d(loss)/d(pred).
// `pred`, `truth` and `grad` hold `classes` values; `label` is the class id for the sparse loss.

double categorical_probabilities(const float* pred, const float* truth, std::int64_t classes, double scale,
                                 float* grad, std::vector<double>& scratch) {
  // backend.categorical_crossentropy: output / reduce_sum(output, -1), clip, -sum(target * log(output)).
  double total = 0.0;
  for (std::int64_t j = 0; j < classes; ++j) total += pred[j];
  scratch.assign(static_cast<std::size_t>(classes), 0.0);  // d(loss)/d(normalised prediction)
  double loss = 0.0, weighted = 0.0;
  for (std::int64_t j = 0; j < classes; ++j) {
    const double normalised = pred[j] / total, clipped = clip(normalised), target = truth[j];
    loss -= target * std::log(clipped);
    const double d = clip_passes(normalised) ? -target / clipped : 0.0;
    scratch[static_cast<std::size_t>(j)] = d;
    weighted += d * normalised;
  }
  // d(p_j / S)/d(p_k) = (delta_jk - p_j / S) / S.
  for (std::int64_t j = 0; j < classes; ++j)
    grad[j] = static_cast<float>(scale * (scratch[static_cast<std::size_t>(j)] - weighted) / total);
  return loss;
}

// Writes softmax(logits) to probabilities and returns log(sum(exp(logits))): the exponentials in float, as
// the gradient is (vectorised), their sum and its logarithm in double.
double softmax_and_log_sum_exp(const float* logits, std::int64_t classes, float* probabilities) {
  const auto length = static_cast<std::size_t>(classes);
  const float max_logit = row_max(logits, length);
  exp_shifted(logits, probabilities, length, max_logit);
  const double total = row_sum(probabilities, length);
  scale(probabilities, length, static_cast<float>(1.0 / total));
  return static_cast<double>(max_logit) + std::log(total);
}

double categorical_logits(const float* logits, const float* truth, std::int64_t classes, double scale,
                          float* grad) {
  // tf.nn.softmax_cross_entropy_with_logits: loss = sum(y * (lse - z)), gradient softmax - y (the op's own
  // backprop, which assumes rows of y sum to 1).
  const double lse = softmax_and_log_sum_exp(logits, classes, grad);
  const auto factor = static_cast<float>(scale);
  double loss = 0.0;
  for (std::int64_t j = 0; j < classes; ++j) {
    loss += static_cast<double>(truth[j]) * (lse - logits[j]);
    grad[j] = factor * (grad[j] - truth[j]);
  }
  return loss;
}

double sparse_probabilities(const float* pred, std::int64_t label, std::int64_t classes, double scale,
                            float* grad) {
  // backend.sparse_categorical_crossentropy: log(clip(output)) as logits of
  // sparse_softmax_cross_entropy_with_logits, i.e. log(sum(c)) - log(c[label]) with c = clip(output).
  double total = 0.0;
  for (std::int64_t j = 0; j < classes; ++j) total += clip(pred[j]);
  const double clipped_label = clip(pred[label]);
  for (std::int64_t j = 0; j < classes; ++j) {
    // d/dlog(c_j) = c_j / sum(c) - [j == label]; times d log(c_j)/dc_j = 1 / c_j; times the clip's pass.
    const double d = 1.0 / total - (j == label ? 1.0 / clipped_label : 0.0);
    grad[j] = static_cast<float>(clip_passes(pred[j]) ? scale * d : 0.0);
  }
  return std::log(total) - std::log(clipped_label);
}

double sparse_logits(const float* logits, std::int64_t label, std::int64_t classes, double scale,
                     float* grad) {
  // tf.nn.sparse_softmax_cross_entropy_with_logits: lse - z[label], gradient softmax - onehot(label).
  const double lse = softmax_and_log_sum_exp(logits, classes, grad);
  const auto factor = static_cast<float>(scale);
  for (std::int64_t j = 0; j < classes; ++j) grad[j] *= factor;
  grad[label] -= factor;
  return lse - logits[label];
}

double binary_probabilities(const float* pred, const float* truth, std::int64_t classes, double scale,
                            float* grad) {
  // backend.binary_crossentropy: clip, then -(y*log(c + eps) + (1-y)*log(1 - c + eps)); losses.py takes the
  // mean over the last axis.
  const double eps = kEpsilon, mean_scale = scale / static_cast<double>(classes);
  double loss = 0.0;
  for (std::int64_t j = 0; j < classes; ++j) {
    const double clipped = clip(pred[j]), target = truth[j];
    loss -= target * std::log(clipped + eps) + (1.0 - target) * std::log(1.0 - clipped + eps);
    const double d = -target / (clipped + eps) + (1.0 - target) / (1.0 - clipped + eps);
    grad[j] = static_cast<float>(clip_passes(pred[j]) ? mean_scale * d : 0.0);
  }
  return loss / static_cast<double>(classes);
}

double binary_logits(const float* logits, const float* truth, std::int64_t classes, double scale,
                     float* grad) {
  // tf.nn.sigmoid_cross_entropy_with_logits: max(z, 0) - z*y + log1p(exp(-|z|)), built from where(z >= 0) so
  // that its gradient is sigmoid(z) - y everywhere, z = 0 included; then the mean over the last axis.
  const double mean_scale = scale / static_cast<double>(classes);
  double loss = 0.0;
  for (std::int64_t j = 0; j < classes; ++j) {
    const double z = logits[j], target = truth[j];
    loss += std::max(z, 0.0) - z * target + std::log1p(std::exp(-std::abs(z)));
    const double sigmoid = z >= 0.0 ? 1.0 / (1.0 + std::exp(-z)) : std::exp(z) / (1.0 + std::exp(z));
    grad[j] = static_cast<float>(mean_scale * (sigmoid - target));
  }
  return loss / static_cast<double>(classes);
}

double squared_error(const float* pred, const float* truth, std::int64_t classes, double scale, float* grad) {
  // losses.mean_squared_error: mean(squared_difference(y_pred, y_true), axis=-1).
  const double mean_scale = scale / static_cast<double>(classes);
  double loss = 0.0;
  for (std::int64_t j = 0; j < classes; ++j) {
    const double difference = static_cast<double>(pred[j]) - static_cast<double>(truth[j]);
    loss += difference * difference;
    grad[j] = static_cast<float>(mean_scale * 2.0 * difference);
  }
  return loss / static_cast<double>(classes);
}

}  // namespace

Loss::Loss(std::string_view name, bool from_logits) : name_(name), from_logits_(from_logits) {
  const auto known =
      std::find_if(kNames.begin(), kNames.end(), [&](const auto& entry) { return entry.first == name; });
  if (known == kNames.end()) {
    std::string known_list;
    for (const auto& entry : kNames)
      known_list += (known_list.empty() ? "" : ", ") + std::string(entry.first);
    fail("unknown loss '", name, "' (known: ", known_list, ")");
  }
  kind_ = known->second;
  name_ = canonical_name(kind_);
  check(!(from_logits && kind_ == Kind::mean_squared_error),
        "mean_squared_error has no from_logits form: it is computed on the predictions as they are");
}

Loss Loss::with_logits() const {
  Loss loss = *this;
  loss.from_logits_ = kind_ != Kind::mean_squared_error;
  return loss;
}

LossResult Loss::compute(const Tensor& y_pred, const Tensor& y_true, const Tensor* sample_weight,
                         const Tensor* mask) const {
  const Shape& pred_shape = y_pred.shape();
  check(y_pred.rank() >= 2, name_, ": y_pred must be (batch, classes) or (batch, timesteps, classes), got ",
        shape_string(pred_shape));
  const std::int64_t classes = pred_shape.back();
  check(classes > 0, name_, ": y_pred ", shape_string(pred_shape), " has no classes on its last axis");
  const Shape row_shape = without_last(pred_shape);
  const std::int64_t rows = element_count(row_shape);
  const Shape& true_shape = y_true.shape();

  const bool sparse = kind_ == Kind::sparse_categorical_crossentropy;
  if (sparse) {
    check(true_shape == row_shape || true_shape == with_last(row_shape, 1), name_, ": y_true ",
          shape_string(true_shape), " does not hold one class id per row of y_pred ",
          shape_string(pred_shape), " (expected ", shape_string(row_shape), " or ",
          shape_string(with_last(row_shape, 1)), ")");
  } else {
    // Keras squeezes y_pred's trailing 1 against a y_true without it (squeeze_or_expand_dimensions), which
    // gives the same numbers for the binary and mse means; the categorical loss needs y_true like y_pred.
    const bool squeezed = kind_ != Kind::categorical_crossentropy && classes == 1 && true_shape == row_shape;
    check(true_shape == pred_shape || squeezed, name_, ": y_true ", shape_string(true_shape),
          " does not match y_pred ", shape_string(pred_shape));
  }

  std::vector<double> row_weights;
  if (sample_weight) {
    const Shape& weight_shape = sample_weight->shape();
    const Shape batch_shape{pred_shape.front()};
    check(weight_shape == batch_shape || weight_shape == row_shape, name_, ": sample_weight ",
          shape_string(weight_shape), " does not fit y_pred ", shape_string(pred_shape), " (expected ",
          shape_string(batch_shape), (row_shape == batch_shape ? "" : " or " + shape_string(row_shape)), ")");
    row_weights.resize(static_cast<std::size_t>(rows));
    const std::int64_t per_sample = pred_shape.front() > 0 ? rows / pred_shape.front() : 0;
    for (std::int64_t row = 0; row < rows; ++row)
      row_weights[static_cast<std::size_t>(row)] =
          weight_shape == row_shape ? (*sample_weight)[row] : (*sample_weight)[row / per_sample];
  }

  // SUM_OVER_BATCH_SIZE divides by the number of rows; apply_valid_mask turns that into the unmasked ones.
  std::int64_t counted_rows = rows;
  if (mask) {
    check_mask(name_, *mask, pred_shape);
    counted_rows = 0;
    for (std::int64_t row = 0; row < rows; ++row) counted_rows += !masked_out(mask, row);
  }

  // losses_utils._safe_mean: divide_no_nan gives 0 for an empty batch (and here for a wholly masked one).
  if (counted_rows == 0) return LossResult{0.0, Tensor(pred_shape)};
  LossResult result{0.0, Tensor::uninitialized(pred_shape)};  // every row is written below

  // Validate every label before computing anything, so an Error leaves nothing half done.
  std::vector<std::int64_t> labels;
  if (sparse) {
    labels.resize(static_cast<std::size_t>(rows));
    for (std::int64_t row = 0; row < rows; ++row)
      labels[static_cast<std::size_t>(row)] = class_id(name_, y_true[row], row, true_shape, classes);
  }

  // Rows in parallel, each row's loss kept apart, then summed in row order: the same total on any thread
  // count.
  std::vector<double> row_losses(static_cast<std::size_t>(rows), 0.0);
  parallel_for(rows, classes, [&](std::int64_t begin, std::int64_t end) {
    std::vector<double> scratch;
    for (std::int64_t row = begin; row < end; ++row) {
      float* grad = result.gradient.data() + row * classes;
      if (masked_out(mask, row)) {  // weight 0: no loss, a zero gradient
        std::fill_n(grad, classes, 0.0f);
        continue;
      }
      const double weight = row_weights.empty() ? 1.0 : row_weights[static_cast<std::size_t>(row)];
      // SUM_OVER_BATCH_SIZE: sum(weight * loss) / number of (unmasked) rows.
      const double scale = weight / static_cast<double>(counted_rows);
      const float* pred = y_pred.data() + row * classes;
      const float* truth = sparse ? nullptr : y_true.data() + row * classes;
      double loss = 0.0;
      switch (kind_) {
        case Kind::categorical_crossentropy:
          loss = from_logits_ ? categorical_logits(pred, truth, classes, scale, grad)
                              : categorical_probabilities(pred, truth, classes, scale, grad, scratch);
          break;
        case Kind::sparse_categorical_crossentropy: {
          const std::int64_t label = labels[static_cast<std::size_t>(row)];
          loss = from_logits_ ? sparse_logits(pred, label, classes, scale, grad)
                              : sparse_probabilities(pred, label, classes, scale, grad);
          break;
        }
        case Kind::binary_crossentropy:
          loss = from_logits_ ? binary_logits(pred, truth, classes, scale, grad)
                              : binary_probabilities(pred, truth, classes, scale, grad);
          break;
        case Kind::mean_squared_error:
          loss = squared_error(pred, truth, classes, scale, grad);
          break;
      }
      row_losses[static_cast<std::size_t>(row)] = weight * loss;
    }
  });
  double total = 0.0;
  for (double row_loss : row_losses) total += row_loss;
  result.value = total / static_cast<double>(counted_rows);
  return result;
}

double Loss::accuracy(const Tensor& y_pred, const Tensor& y_true, const Tensor* mask) const {
  const Shape& pred_shape = y_pred.shape();
  check(y_pred.rank() >= 2, name_,
        ": accuracy needs y_pred shaped (batch, classes) or (batch, timesteps, classes), got ",
        shape_string(pred_shape));
  const std::int64_t classes = pred_shape.back();
  check(classes > 0, name_, ": y_pred ", shape_string(pred_shape), " has no classes on its last axis");
  const Shape row_shape = without_last(pred_shape);
  const std::int64_t rows = element_count(row_shape);
  if (mask) check_mask(name_, *mask, pred_shape);

  // compile_utils.match_dtype_and_rank: a rank-1 y_true with a rank-2 y_pred becomes (B, 1).
  Shape true_shape = y_true.shape();
  if (true_shape.size() == 1 && pred_shape.size() == 2) true_shape.push_back(1);
  check(!true_shape.empty(), name_, ": accuracy needs y_true with a batch axis, got ",
        shape_string(true_shape));
  // compile_utils.MetricsContainer._get_metric_object: the metric is chosen from the shapes.
  const bool binary = classes == 1;
  const bool sparse = true_shape.size() < pred_shape.size() || (true_shape.back() == 1 && classes > 1);

  std::int64_t matches = 0, count = 0;
  if (binary) {
    // metrics.binary_accuracy: cast(y_pred > 0.5) == y_true, element by element.
    check(true_shape == pred_shape || true_shape == row_shape, name_, ": y_true ",
          shape_string(y_true.shape()), " does not match y_pred ", shape_string(pred_shape),
          " for binary accuracy");
    for (std::int64_t i = 0; i < y_pred.size(); ++i) {  // one class: element i is row i
      if (masked_out(mask, i)) continue;
      matches += (y_pred[i] > 0.5f ? 1.0f : 0.0f) == y_true[i];
      ++count;
    }
  } else if (sparse) {
    // metrics.sparse_categorical_accuracy: argmax(y_pred) == the class id.
    check(true_shape == row_shape || true_shape == with_last(row_shape, 1), name_, ": y_true ",
          shape_string(y_true.shape()), " does not hold one class id per row of y_pred ",
          shape_string(pred_shape), " for sparse categorical accuracy");
    for (std::int64_t row = 0; row < rows; ++row) {
      const std::int64_t label = class_id(name_, y_true[row], row, y_true.shape(), classes);
      if (masked_out(mask, row)) continue;
      matches += argmax(y_pred.data() + row * classes, classes) == label;
      ++count;
    }
  } else {
    // metrics.categorical_accuracy: argmax(y_true) == argmax(y_pred).
    check(true_shape == pred_shape, name_, ": y_true ", shape_string(y_true.shape()),
          " does not match y_pred ", shape_string(pred_shape), " for categorical accuracy");
    for (std::int64_t row = 0; row < rows; ++row) {
      if (masked_out(mask, row)) continue;
      matches +=
          argmax(y_true.data() + row * classes, classes) == argmax(y_pred.data() + row * classes, classes);
      ++count;
    }
  }
  // The Mean metric of an empty (or wholly masked) batch is 0 (divide_no_nan).
  return count > 0 ? static_cast<double>(matches) / static_cast<double>(count) : 0.0;
}

}  // namespace rnnkit
