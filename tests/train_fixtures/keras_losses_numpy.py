#!/usr/bin/python3
"""tf.keras 2.11's loss and accuracy formulas in numpy float64: the second oracle of losses.json.

Run by make_loss_fixtures.mjs (not by hand): reads the cases as JSON on stdin, writes for each case the loss
value, its gradient with respect to y_pred and the accuracy as JSON on stdout. Where TensorFlow.js computes
something other than Keras, these numbers are the fixture's expectation; elsewhere they cross-check TF.js.

The formulas are transcribed from the Keras sources, not from rnnkit:
  keras/backend.py   categorical_crossentropy: output / reduce_sum(output, axis, True); clip_by_value(output,
                     epsilon, 1 - epsilon); -reduce_sum(target * log(output), axis). from_logits:
                     tf.nn.softmax_cross_entropy_with_logits.
                     sparse_categorical_crossentropy: output = log(clip_by_value(output, epsilon, 1 - epsilon))
                     unless from_logits; tf.nn.sparse_softmax_cross_entropy_with_logits(labels, output).
                     binary_crossentropy: clip_by_value(output, epsilon, 1 - epsilon); bce = target *
                     log(output + epsilon()) + (1 - target) * log(1 - output + epsilon()); -bce. from_logits:
                     tf.nn.sigmoid_cross_entropy_with_logits = max(x, 0) - x * z + log1p(exp(-|x|)).
  keras/losses.py    binary_crossentropy and mean_squared_error take the mean over the last axis.
  keras/utils/losses_utils.py  compute_weighted_loss: a (B) weight against (B, T) losses is expanded to (B, 1)
                     (squeeze_or_expand_dimensions); SUM_OVER_BATCH_SIZE = sum(weight * loss) / number of losses.
  keras/engine/compile_utils.py  "accuracy" is binary when y_pred's last axis is 1, sparse categorical when
                     y_true has fewer axes (a rank-1 y_true with a rank-2 y_pred counts as (B, 1)) or ends in 1
                     while y_pred does not, categorical otherwise.
  keras/metrics      binary_accuracy: y_pred > 0.5 equals y_true; categorical_accuracy: argmax equality;
                     sparse_categorical_accuracy: argmax(y_pred) equals the id.
Keras computes in float32 with float32 bounds (epsilon 1e-7 and 1 - 1e-7 = 0.99999988); these are used here.

The gradient is a central difference of the whole weighted loss in float64, its step kept well inside the
region where no clip changes state, so it is the derivative TensorFlow's gradients give (a clip passes the
gradient only where it is not active). It is not used where TensorFlow's gradient is not the derivative (the
softmax_cross_entropy_with_logits gradient softmax - y for label rows that do not sum to 1): such a case says
"numeric_gradient": false.
"""
import json
import sys

import numpy as np

EPS = float(np.float32(1e-7))
LO = EPS
HI = float(np.float32(1.0) - np.float32(1e-7))


def clip(x):
    return np.minimum(np.maximum(x, LO), HI)


def log_sum_exp(z):
    m = z.max(axis=-1, keepdims=True)
    return (m + np.log(np.exp(z - m).sum(axis=-1, keepdims=True)))[..., 0]


def row_losses(loss, from_logits, p, t):
    """Per-row losses (y_pred's shape minus its last axis)."""
    if loss == "categorical_crossentropy":
        if from_logits:
            return (t * (log_sum_exp(p)[..., None] - p)).sum(axis=-1)
        q = p / p.sum(axis=-1, keepdims=True)
        return -(t * np.log(clip(q))).sum(axis=-1)
    if loss == "sparse_categorical_crossentropy":
        ids = t.astype(np.int64)
        logits = p if from_logits else np.log(clip(p))
        picked = np.take_along_axis(logits, ids[..., None], axis=-1)[..., 0]
        return log_sum_exp(logits) - picked
    if loss == "binary_crossentropy":
        if from_logits:
            elements = np.maximum(p, 0.0) - p * t + np.log1p(np.exp(-np.abs(p)))
        else:
            c = clip(p)
            elements = -(t * np.log(c + EPS) + (1.0 - t) * np.log(1.0 - c + EPS))
        return elements.mean(axis=-1)
    if loss == "mean_squared_error":
        return ((p - t) ** 2).mean(axis=-1)
    raise ValueError(loss)


def total_loss(loss, from_logits, p, t, w):
    losses = row_losses(loss, from_logits, p, t)
    if w is not None:
        if losses.ndim - w.ndim == 1:
            w = w[..., None]
        losses = losses * w
    return losses.sum() / losses.size


def kink_distance(x):
    return np.minimum(np.abs(x - LO), np.abs(x - HI))


def steps(loss, from_logits, p):
    """Central-difference step per element of y_pred, small enough that no clip changes state."""
    if from_logits or loss == "mean_squared_error":
        return 1e-6 * np.maximum(1.0, np.abs(p))
    if loss == "categorical_crossentropy":
        # Moving p_k by h moves every p_j / S by at most h / S: keep that inside the nearest kink of the row.
        total = p.sum(axis=-1, keepdims=True)
        row_room = (total * kink_distance(p / total).min(axis=-1, keepdims=True)) * np.ones_like(p)
        return np.minimum(1e-6, 0.25 * row_room)
    return np.minimum(1e-6, 0.25 * kink_distance(p))


def numeric_gradient(loss, from_logits, p, t, w):
    h = steps(loss, from_logits, p).reshape(-1)
    flat = p.reshape(-1)
    grad = np.zeros_like(flat)
    for i in range(flat.size):
        up, down = flat.copy(), flat.copy()
        up[i] += h[i]
        down[i] -= h[i]
        f_up = total_loss(loss, from_logits, up.reshape(p.shape), t, w)
        f_down = total_loss(loss, from_logits, down.reshape(p.shape), t, w)
        grad[i] = (f_up - f_down) / (up[i] - down[i])
    return grad


def accuracy(p, t, true_shape):
    shape = list(true_shape)
    if len(shape) == 1 and p.ndim == 2:
        shape.append(1)
    binary = p.shape[-1] == 1
    sparse = len(shape) < p.ndim or (shape[-1] == 1 and p.shape[-1] > 1)
    if binary:
        return float(((p > 0.5).astype(np.float64).reshape(-1) == t.reshape(-1)).mean())
    if sparse:
        return float((p.argmax(axis=-1) == t.reshape(p.shape[:-1])).mean())
    return float((p.argmax(axis=-1) == t.reshape(p.shape).argmax(axis=-1)).mean())


def evaluate(case):
    loss, from_logits = case["canonical"], case["from_logits"]
    p = np.array(case["y_pred"]["data"], dtype=np.float64).reshape(case["y_pred"]["shape"])
    t_raw = np.array(case["y_true"]["data"], dtype=np.float64)
    # Keras's shape handling: sparse labels (B, 1) are flattened against the rows; a y_true without y_pred's
    # trailing 1 is expanded (match_dtype_and_rank) or y_pred squeezed (squeeze_or_expand_dimensions).
    t = t_raw.reshape(p.shape[:-1] if loss == "sparse_categorical_crossentropy" else p.shape)
    w = None
    if case["sample_weight"] is not None:
        w = np.array(case["sample_weight"]["data"], dtype=np.float64).reshape(case["sample_weight"]["shape"])
    numeric = not (loss == "categorical_crossentropy" and from_logits and
                   not np.allclose(t.sum(axis=-1), 1.0, rtol=0, atol=1e-6))
    result = {
        "name": case["name"],
        "value": float(total_loss(loss, from_logits, p, t, w)),
        "accuracy": accuracy(p, t_raw, case["y_true"]["shape"]),
        "numeric_gradient": numeric,
    }
    if numeric:
        result["gradient"] = numeric_gradient(loss, from_logits, p, t, w).tolist()
    return result


def main():
    cases = json.load(sys.stdin)
    json.dump([evaluate(case) for case in cases], sys.stdout)


if __name__ == "__main__":
    main()
