// Keras's losses and the accuracy metric that goes with each, with Keras's clipping and reduction.
//
// What tf.keras 2.11 computes, rule by rule (keras/losses.py, keras/backend.py, keras/utils/losses_utils.py,
// keras/metrics, keras/engine/compile_utils.py), for predictions shaped (B, C) or (B, T, C) — any rank >= 2
// works; the last axis is the class / unit axis and every other position is one "row":
//   categorical_crossentropy   probabilities: p / sum(p) along the last axis, clipped to [1e-7, 1 - 1e-7]
//                              (float32: 0.99999988), loss = -sum(y * log(.)); logits: the unclipped
//                              -sum(y * log_softmax(z)) of tf.nn.softmax_cross_entropy_with_logits.
//   sparse_categorical_crossentropy  probabilities: log(clip(p)) fed to
//   sparse_softmax_cross_entropy_with_logits,
//                              i.e. -log(clip(p)[y] / sum(clip(p))) — renormalised after the clip, unlike the
//                              categorical loss; logits: -log_softmax(z)[y], unclipped.
//   binary_crossentropy        probabilities: c = clip(p), -(y*log(c + 1e-7) + (1-y)*log(1 - c + 1e-7)) (the
//                              epsilon is added again inside the logs); logits: max(z,0) - z*y +
//                              log1p(exp(-|z|)); then the mean over the last axis.
//   mean_squared_error (mse)   mean over the last axis of (p - y)^2.
// Reduction (SUM_OVER_BATCH_SIZE): sum over rows of weight * row loss, divided by the number of rows (B, or
// B*T) — not by the sum of the weights. An empty batch gives 0 (Keras divides with divide_no_nan).
// Gradients are what TensorFlow's registered gradients give: zero where a clip is active (the clip passes the
// gradient on its closed interval, bounds included), softmax - y for categorical logits (TF's op gradient,
// also when a row of y does not sum to 1), softmax - onehot(y) for sparse logits, sigmoid(z) - y for binary
// logits (z = 0 included), each times weight / rows (and / C for the binary and mse means).
// Masks (the _keras_mask a model's output carries, e.g. after Embedding(mask_zero=True) and an RNN with
// return_sequences): compile_utils.LossesContainer multiplies the sample weight by the mask (apply_mask) and
// Loss.__call__ rescales it by total / valid (losses_utils.apply_valid_mask), so the value is
// sum(weight * loss over unmasked rows) / (number of unmasked rows), and masked rows get no gradient. Keras
// divides by zero when every row is masked (NaN); rnnkit gives 0 there, as for an empty batch. The metrics
// get the mask as their sample_weight (MetricsContainer.update_state): accuracy counts unmasked rows only.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "rnnkit/tensor.h"

namespace rnnkit {

// A loss value for a batch and its gradient with respect to the predictions (or the logits).
struct LossResult {
  double value;     // Keras's SUM_OVER_BATCH_SIZE: the mean over every sample (and timestep)
  Tensor gradient;  // dL/d(y_pred), shaped like y_pred
};

class Loss {
 public:
  enum class Kind : std::uint8_t {
    categorical_crossentropy,
    sparse_categorical_crossentropy,
    binary_crossentropy,
    mean_squared_error
  };

  // "categorical_crossentropy", "sparse_categorical_crossentropy", "binary_crossentropy",
  // "mean_squared_error" and Keras's other names for them ("mse", "MSE", "bce", "BCE" and the class names
  // "CategoricalCrossentropy", "SparseCategoricalCrossentropy", "BinaryCrossentropy", "MeanSquaredError").
  // name() is then the canonical function name ("mse" -> "mean_squared_error"), as Keras names the loss.
  // Unknown names are an Error listing the known; from_logits with mean_squared_error is an Error (Keras's
  // mean_squared_error has no such argument).
  explicit Loss(std::string_view name, bool from_logits = false);
  const std::string& name() const { return name_; }
  bool from_logits() const { return from_logits_; }
  Kind kind() const { return kind_; }
  // The same loss on logits: used when the last layer is Dense(softmax|sigmoid), as Keras does (it takes the
  // logits that softmax and sigmoid cache on their output, whichever of the two produced them, for every
  // crossentropy). mean_squared_error has no logits form: with_logits() returns it unchanged, and
  // from_logits() stays false, telling the caller to pass probabilities.
  Loss with_logits() const;

  // y_true: one-hot / probabilities like y_pred (categorical, binary, mse) or class ids with y_pred's
  // shape minus its last axis (sparse). sample_weight: (B) or null.
  // Also accepted, as Keras accepts them: sparse labels with a trailing 1 ((B,1), (B,T,1)); for binary and
  // mse, y_true without y_pred's last axis when that axis is 1 ((B) for (B,1)); sample_weight shaped like the
  // per-row losses ((B,T) for (B,T,C), Keras's temporal weights). Sparse labels must be exact integers in
  // [0, C): anything else is an Error naming the value and its position. Shape mismatches are Errors naming
  // both shapes.
  // mask: y_pred's shape minus its last axis ((B,T) for (B,T,C)); 0 masks a row (see the reduction above).
  LossResult compute(const Tensor& y_pred, const Tensor& y_true, const Tensor* sample_weight = nullptr,
                     const Tensor* mask = nullptr) const;

  // Keras's "accuracy" for this loss: categorical, sparse categorical or binary accuracy; the mean
  // over samples (and timesteps).
  // Keras picks the metric from the shapes, not from the loss (compile_utils.MetricsContainer): binary when
  // y_pred's last axis is 1, sparse categorical when y_true has fewer axes than y_pred (a rank-1 y_true with
  // a rank-2 y_pred counts as (B,1)) or ends in 1 while y_pred does not, categorical otherwise — which is the
  // loss's own accuracy for the usual pairings (binary_crossentropy on (B,C>1) gets categorical accuracy, as
  // in Keras). binary: y_pred > 0.5 (strictly) compared for equality with y_true; categorical:
  // argmax(y_true) == argmax(y_pred), first maximum on ties; sparse: argmax(y_pred) == the class id.
  // y_pred is the model's output (probabilities), as Keras's metric sees it, even for a with_logits() loss.
  // With a mask (as for compute()), the mean over the unmasked rows only; 0 when every row is masked.
  double accuracy(const Tensor& y_pred, const Tensor& y_true, const Tensor* mask = nullptr) const;

 private:
  std::string name_;
  bool from_logits_;
  Kind kind_ = Kind::categorical_crossentropy;
};

}  // namespace rnnkit
