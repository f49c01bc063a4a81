#!/usr/bin/python3
"""Writes masked_losses.json: tf.keras 2.11's losses and accuracy on a (B, T, C) output that carries a mask.

Run by hand with Debian's python (numpy): /usr/bin/python3 tests/train_fixtures/make_masked_loss_fixtures.py
It writes the fixture next to itself; the numbers are deterministic (a fixed numpy seed).

What Keras does with the mask an output carries (`y_pred._keras_mask`, e.g. after Embedding(mask_zero=True)
and an RNN with return_sequences=True), transcribed from the tf.keras 2.11 sources, not from rnnkit:
  keras/engine/compile_utils.py  LossesContainer.__call__: sw = losses_utils.apply_mask(y_p, sw, mask), i.e.
                     sw = mask, or a (B) sw expanded to (B, 1) times the (B, T) mask; then loss_obj(y_t, y_p, sw).
  keras/losses.py    Loss.__call__: losses = call(y_true, y_pred) (one per row, (B, T)); mask = y_pred's mask;
                     sample_weight = losses_utils.apply_valid_mask(losses, sample_weight, mask, reduction);
                     compute_weighted_loss(losses, sample_weight, SUM_OVER_BATCH_SIZE).
  keras/utils/losses_utils.py  apply_valid_mask: for SUM_OVER_BATCH_SIZE, mask *= size(mask) / sum(mask), then
                     apply_mask: sample_weight *= mask. compute_weighted_loss: sum(losses * sample_weight) /
                     size(losses). The mask therefore enters twice (harmless: it is 0 or 1), and the value is
                     sum(weight * loss over unmasked rows) / (number of unmasked rows).
  keras/engine/compile_utils.py  MetricsContainer.update_state: metric_obj.update_state(y_t, y_p,
                     sample_weight=mask) for the (unweighted) "accuracy": its Mean is sum(match * mask) /
                     sum(mask).
The per-row loss formulas and the central-difference steps come from keras_losses_numpy.py (the oracle of
losses.json). The gradient is a float64 central difference of the whole masked value.
"""
import json
import os

import numpy as np

from keras_losses_numpy import row_losses, steps

HERE = os.path.dirname(os.path.abspath(__file__))


def keras_masked_loss(loss, from_logits, p, t, w, mask):
    losses = row_losses(loss, from_logits, p, t)  # (B, T)
    # compile_utils.LossesContainer: apply_mask(y_p, sw, mask).
    sw = mask.copy() if w is None else (w[:, None] if w.ndim == 1 else w) * mask
    # Loss.__call__: apply_valid_mask(losses, sw, mask, SUM_OVER_BATCH_SIZE).
    valid_mask = mask * (mask.size / mask.sum())
    sw = sw * valid_mask
    return (losses * sw).sum() / losses.size


def numeric_gradient(loss, from_logits, p, t, w, mask):
    h = steps(loss, from_logits, p).reshape(-1)
    flat = p.reshape(-1)
    grad = np.zeros_like(flat)
    for i in range(flat.size):
        up, down = flat.copy(), flat.copy()
        up[i] += h[i]
        down[i] -= h[i]
        f_up = keras_masked_loss(loss, from_logits, up.reshape(p.shape), t, w, mask)
        f_down = keras_masked_loss(loss, from_logits, down.reshape(p.shape), t, w, mask)
        grad[i] = (f_up - f_down) / (up[i] - down[i])
    return grad


def masked_accuracy(p, t, sparse, mask):
    if p.shape[-1] == 1:
        matches = ((p[..., 0] > 0.5).astype(np.float64) == t[..., 0]).astype(np.float64)
    elif sparse:
        matches = (p.argmax(axis=-1) == t).astype(np.float64)
    else:
        matches = (p.argmax(axis=-1) == t.argmax(axis=-1)).astype(np.float64)
    return float((matches * mask).sum() / mask.sum())


def f32(a):
    return np.asarray(a, dtype=np.float32).astype(np.float64)


def tensor(a):
    return {"shape": list(a.shape), "data": [float(v) for v in np.asarray(a).reshape(-1)]}


def make_case(rng, loss, from_logits, weighting, mask):
    batch, timesteps = mask.shape
    classes = 1 if loss in ("binary_crossentropy", "mean_squared_error") and weighting != "wide" else 3
    logits = rng.normal(0.0, 1.5, size=(batch, timesteps, classes))
    sparse = loss == "sparse_categorical_crossentropy"
    if from_logits or loss == "mean_squared_error":
        p = f32(logits)
    elif classes == 1 or loss == "binary_crossentropy":
        p = f32(1.0 / (1.0 + np.exp(-logits)))
    else:
        e = np.exp(logits - logits.max(axis=-1, keepdims=True))
        p = f32(e / e.sum(axis=-1, keepdims=True))
    if sparse:
        t = f32(rng.integers(0, classes, size=(batch, timesteps)))
    elif loss == "categorical_crossentropy":
        t = f32(np.eye(classes)[rng.integers(0, classes, size=(batch, timesteps))])
    elif loss == "binary_crossentropy" or classes == 1:  # 0/1 targets give binary accuracy something to count
        t = f32(rng.integers(0, 2, size=(batch, timesteps, classes)))
    else:
        t = f32(rng.normal(0.0, 1.0, size=(batch, timesteps, classes)))
    w = None
    if weighting == "per_sample":
        w = f32(rng.uniform(0.2, 2.0, size=(batch,)))
    elif weighting == "temporal":
        w = f32(rng.uniform(0.2, 2.0, size=(batch, timesteps)))
    name = "/".join([loss, "logits" if from_logits else "probabilities", weighting])
    return {
        "name": name,
        "loss": loss,
        "from_logits": from_logits,
        "y_pred": tensor(p),
        "y_true": tensor(t),
        "sample_weight": None if w is None else tensor(w),
        "mask": tensor(mask),
        "value": float(keras_masked_loss(loss, from_logits, p, t, w, mask)),
        "gradient": tensor(numeric_gradient(loss, from_logits, p, t, w, mask).reshape(p.shape)),
        "accuracy": masked_accuracy(p, t, sparse, mask),
    }


def main():
    rng = np.random.default_rng(20261123)
    # Row 0 padded at the end ('post'), row 1 at the start ('pre'), row 2 whole but one step.
    mask = np.array([[1, 1, 1, 0, 0], [0, 0, 1, 1, 1], [1, 1, 1, 1, 0]], dtype=np.float64)
    cases = []
    for loss in ("categorical_crossentropy", "sparse_categorical_crossentropy", "binary_crossentropy",
                 "mean_squared_error"):
        for from_logits in ((False,) if loss == "mean_squared_error" else (False, True)):
            for weighting in ("unweighted", "per_sample", "temporal", "wide"):
                if weighting == "wide" and loss not in ("binary_crossentropy", "mean_squared_error"):
                    continue  # "wide": C = 3 for the losses that would otherwise get C = 1
                cases.append(make_case(rng, loss, from_logits, weighting, mask))
    fixture = {
        "description": "tf.keras 2.11 losses on a masked (B, T, C) output: value, gradient w.r.t. y_pred, "
                       "masked accuracy. Generated by make_masked_loss_fixtures.py (numpy float64); see its "
                       "header for the Keras rules.",
        "generator": "make_masked_loss_fixtures.py",
        "cases": cases,
    }
    with open(os.path.join(HERE, "masked_losses.json"), "w") as out:
        json.dump(fixture, out, indent=1)
        out.write("\n")


if __name__ == "__main__":
    main()
