#!/usr/bin/python3
"""Generates tests/parity/fixtures/normalization/normalization.json: LayerNormalization and BatchNormalization
as tf.keras 2.15 computes them, from PyTorch 1.13 (Debian's python3-torch: run with /usr/bin/python3).

    /usr/bin/python3 tests/parity/gen_normalization.py

The oracle is torch.nn.functional.layer_norm and torch.nn.functional.batch_norm (channels moved to dim 1),
in float64 with torch.autograd for the gradients of L = sum(output * output_grads). Where torch has no
function of the same form (a mask, which tf.keras 2.15's BatchNormalization reads through
tf.nn.weighted_moments; LayerNormalization over several non-trailing axes; BatchNormalization over several
axes), the case is computed from the Keras equations with torch tensors and says so in its note; every such
formula is first checked against torch's function on a case both can do.

Keras's moving statistics after a training call: moving = moving - (moving - batch) * (1 - momentum), with
the biased batch variance (tf.nn.moments), except where tf.keras 2.x takes the fused kernel (rank 4 or 5
inputs, features on axis 1 or last), whose variance for the moving average is the unbiased one (and whose
epsilon is at least 1.001e-5). torch's running_var is the unbiased one: the fused case uses it, the others
the biased variance computed here.

Case: {"name", "note", "layer" (tf.keras 2.15 config), "weights" (get_weights order), "input", "mask" (or
null), "training" (call mode), "output", "output_grads", "grads": {"input", "weights": [trainable weights]},
"moving_after": [moving_mean, moving_variance] after the call (BatchNormalization), or null}.
"""
import json
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from gen_torch import Rand, tj  # noqa: E402  the same number streams and float32 serialization

OUT = os.path.join(HERE, "fixtures", "normalization", "normalization.json")
torch.set_default_dtype(torch.float64)
torch.set_num_threads(1)

ZEROS = {"class_name": "Zeros", "config": {}}
ONES = {"class_name": "Ones", "config": {}}


def ln_config(name, axis, epsilon=1e-3, center=True, scale=True):
    return {"class_name": "LayerNormalization", "config": {
        "name": name, "trainable": True, "dtype": "float32", "axis": axis, "epsilon": epsilon, "center": center,
        "scale": scale, "beta_initializer": ZEROS, "gamma_initializer": ONES, "beta_regularizer": None,
        "gamma_regularizer": None, "beta_constraint": None, "gamma_constraint": None}}


def bn_config(name, axis, momentum=0.99, epsilon=1e-3, center=True, scale=True, trainable=True):
    return {"class_name": "BatchNormalization", "config": {
        "name": name, "trainable": trainable, "dtype": "float32", "axis": axis, "momentum": momentum,
        "epsilon": epsilon, "center": center, "scale": scale, "beta_initializer": ZEROS, "gamma_initializer": ONES,
        "moving_mean_initializer": ZEROS, "moving_variance_initializer": ONES, "beta_regularizer": None,
        "gamma_regularizer": None, "beta_constraint": None, "gamma_constraint": None}}


def leaf(a):
    return torch.tensor(np.asarray(a, dtype=np.float64), requires_grad=True)


def close(a, b, what, tolerance=1e-9):
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape or not np.allclose(a, b, rtol=tolerance, atol=tolerance):
        raise SystemExit(f"formula check failed: {what}")


# ---- LayerNormalization
def ln_torch(x, axes, gamma, beta, eps):
    """F.layer_norm over the trailing dims after moving `axes` (in increasing order) to the end."""
    rank = x.dim()
    others = [a for a in range(rank) if a not in axes]
    order = others + sorted(axes)
    moved = x.permute(order)
    shape = [x.shape[a] for a in sorted(axes)]
    weight = gamma.reshape(shape) if gamma is not None else None
    bias = beta.reshape(shape) if beta is not None else None
    y = F.layer_norm(moved, shape, weight, bias, eps)
    return y.permute(list(np.argsort(order)))


def ln_formula(x, axes, gamma, beta, eps):
    """The Keras equations: tf.nn.moments over `axes`, gamma and beta reshaped onto them."""
    mean = x.mean(dim=axes, keepdim=True)
    var = ((x - mean) ** 2).mean(dim=axes, keepdim=True)
    bshape = [x.shape[a] if a in axes else 1 for a in range(x.dim())]
    y = (x - mean) / torch.sqrt(var + eps)
    if gamma is not None:
        y = y * gamma.reshape(bshape)
    if beta is not None:
        y = y + beta.reshape(bshape)
    return y


# ---- BatchNormalization
def bn_torch(x, axis, gamma, beta, running_mean, running_var, training, momentum, eps):
    """F.batch_norm with the feature axis moved to dim 1; torch's momentum is 1 - Keras's."""
    rank = x.dim()
    order = [0, axis] + [a for a in range(1, rank) if a != axis]
    y = F.batch_norm(x.permute(order), running_mean, running_var, gamma, beta, training, 1.0 - momentum, eps)
    return y.permute(list(np.argsort(order)))


def bn_formula(x, axes, gamma, beta, moving_mean, moving_var, training, eps, mask=None):
    """The Keras equations: tf.nn.weighted_moments over every axis but `axes` (weights: the mask expanded
    on the last axis), then tf.nn.batch_normalization."""
    rank = x.dim()
    reduce = [a for a in range(rank) if a not in axes]
    bshape = [x.shape[a] if a in axes else 1 for a in range(rank)]
    if training:
        w = torch.ones_like(x) if mask is None else torch.as_tensor(mask, dtype=torch.float64)[..., None].expand_as(x)
        total = w.sum(dim=reduce, keepdim=True)
        mean = (w * x).sum(dim=reduce, keepdim=True) / total
        var = (w * (x - mean) ** 2).sum(dim=reduce, keepdim=True) / total
    else:
        mean, var = moving_mean.reshape(bshape), moving_var.reshape(bshape)
    y = (x - mean) / torch.sqrt(var + eps)
    if gamma is not None:
        y = y * gamma.reshape(bshape)
    if beta is not None:
        y = y + beta.reshape(bshape)
    return y, mean.detach().reshape(-1), var.detach().reshape(-1)


def keras_moving(moving, batch, momentum):
    """_assign_moving_average in float32: moving -= (moving - batch) * (1 - momentum)."""
    moving = np.asarray(moving, dtype=np.float32)
    decay = np.float32(1.0 - momentum)
    return moving - (moving - np.asarray(batch, dtype=np.float32)) * decay


cases = []


def record(name, note, layer, weights, x, mask, training, y, leaves_x, trainable, moving_after=None):
    r = Rand(f"normalization/{name}/output_grads")
    g = r.array(list(y.shape))
    loss = (y * torch.tensor(g.astype(np.float64))).sum()
    loss.backward()
    cases.append({
        "name": name, "note": note, "layer": layer, "weights": [tj(w) for w in weights], "input": tj(x),
        "mask": None if mask is None else tj(mask), "training": training, "output": tj(y.detach().numpy()),
        "output_grads": tj(g), "grads": {"input": tj(leaves_x.grad.numpy()),
                                         "weights": [tj(t.grad.numpy()) for t in trainable]},
        "moving_after": None if moving_after is None else [tj(m) for m in moving_after]})


def ln_case(name, shape, axis, epsilon=1e-3, center=True, scale=True, mask=None):
    r = Rand(f"normalization/{name}")
    x = r.array(shape, -2.0, 2.0)
    axes = [a % len(shape) for a in (axis if isinstance(axis, list) else [axis])]
    pshape = [shape[a] for a in axes]
    gamma = r.array(pshape, 0.5, 1.5) if scale else None
    beta = r.array(pshape) if center else None
    # Keras's weight of shape [shape[a] for a in axis] is reshaped (not transposed) onto the axes in order.
    xt = leaf(x)
    gt, bt = (leaf(gamma) if scale else None), (leaf(beta) if center else None)
    trailing = sorted(axes) == list(range(len(shape) - len(axes), len(shape)))
    if trailing or len(axes) == 1:
        y = ln_torch(xt, axes, gt, bt, epsilon)
        close(y.detach(), ln_formula(xt, axes, gt, bt, epsilon).detach(), name)
        note = None
    else:
        y = ln_formula(xt, axes, gt, bt, epsilon)
        note = "axes not trailing: the Keras equations in torch (checked against F.layer_norm elsewhere)"
    weights = [w for w in (gamma, beta) if w is not None]
    trainable = [t for t in (gt, bt) if t is not None]
    layer = ln_config(name, axes, epsilon, center, scale)
    record(name, note, layer, weights, x, mask, True, y, xt, trainable)


def bn_case(name, shape, axis, training, momentum=0.99, epsilon=1e-3, center=True, scale=True, mask=None,
            trainable_layer=True):
    r = Rand(f"normalization/{name}")
    x = r.array(shape, -2.0, 2.0)
    if mask is not None:
        mask = np.asarray(mask, dtype=np.float32)
    axes = [a % len(shape) for a in (axis if isinstance(axis, list) else [axis])]
    pshape = [shape[axes[0]]] if len(axes) == 1 else [shape[a] if a in axes else 1 for a in range(len(shape))]
    gamma = r.array(pshape, 0.5, 1.5) if scale else None
    beta = r.array(pshape) if center else None
    moving_mean = r.array(pshape, -0.5, 0.5)
    moving_var = r.array(pshape, 0.5, 1.5)
    batch_statistics = training and trainable_layer
    fused = len(axes) == 1 and ((len(shape) == 4 and axes[0] in (1, 3)) or (len(shape) == 5 and axes[0] in (1, 4)))
    eps = max(epsilon, 1.001e-5) if fused else epsilon
    xt = leaf(x)
    gt, bt = (leaf(gamma) if scale else None), (leaf(beta) if center else None)
    rm = torch.tensor(moving_mean.astype(np.float64).reshape(-1))
    rv = torch.tensor(moving_var.astype(np.float64).reshape(-1))
    note = None
    if mask is None and len(axes) == 1:
        y = bn_torch(xt, axes[0], gt, bt, rm, rv, batch_statistics, momentum, eps)
        yf, mean, var = bn_formula(xt, axes, gt, bt, leaf(moving_mean), leaf(moving_var), batch_statistics, eps)
        close(y.detach(), yf.detach(), name)
    else:
        y, mean, var = bn_formula(xt, axes, gt, bt, leaf(moving_mean), leaf(moving_var), batch_statistics, eps, mask)
        note = ("a mask: tf.nn.weighted_moments" if mask is not None else "several axes") + \
            ", as the Keras equations in torch (checked against F.batch_norm on the unmasked single-axis cases)"
    moving_after = None
    if batch_statistics:
        if fused:
            # torch's running_var follows the unbiased variance, as TensorFlow's fused kernel hands Keras.
            unbiased = var.numpy() * (x.size / mean.numel()) / (x.size / mean.numel() - 1)
            close(keras_moving(moving_var, unbiased, momentum).reshape(-1), rv.numpy(), name + " running_var", 1e-6)
            moving_after = [keras_moving(moving_mean, mean.numpy().reshape(pshape), momentum),
                            keras_moving(moving_var, unbiased.reshape(pshape), momentum)]
            note = "fused kernel (rank 4 or 5): unbiased moving variance, epsilon at least 1.001e-5"
        else:
            moving_after = [keras_moving(moving_mean, mean.numpy().reshape(pshape), momentum),
                            keras_moving(moving_var, var.numpy().reshape(pshape), momentum)]
    weights = [w for w in (gamma, beta) if w is not None] + [moving_mean, moving_var]
    trainable = [t for t in (gt, bt) if t is not None]
    layer = bn_config(name, axes, momentum, epsilon, center, scale, trainable_layer)
    record(name, note, layer, weights, x, mask, training, y, xt, trainable, moving_after)


def main():
    # LayerNormalization: the default, each axis, several axes, center/scale/epsilon, 2D input.
    ln_case("ln_last_axis", [2, 3, 4], -1)
    ln_case("ln_axis_1", [2, 3, 4], 1)
    ln_case("ln_axes_1_2", [2, 3, 4], [1, 2])
    ln_case("ln_axes_2_1", [2, 3, 4], [2, 1])
    ln_case("ln_no_center", [2, 3, 5], -1, center=False)
    ln_case("ln_no_scale", [2, 3, 5], -1, scale=False)
    ln_case("ln_neither_eps_0.1", [3, 2, 4], -1, epsilon=0.1, center=False, scale=False)
    ln_case("ln_2d_eps_1e-6", [3, 6], -1, epsilon=1e-6)
    ln_case("ln_masked_ignored", [2, 4, 3], -1, mask=[[1, 1, 1, 0], [0, 1, 1, 1]])
    # BatchNormalization: training (batch statistics) and inference (moving statistics).
    bn_case("bn_train_last_axis", [3, 4, 5], -1, True)
    bn_case("bn_infer_last_axis", [3, 4, 5], -1, False)
    bn_case("bn_train_axis_1", [3, 4, 5], 1, True)
    bn_case("bn_infer_axis_1", [3, 4, 5], 1, False)
    bn_case("bn_train_2d", [6, 4], -1, True)
    bn_case("bn_train_no_center", [4, 3, 2], -1, True, center=False)
    bn_case("bn_train_no_scale", [4, 3, 2], -1, True, scale=False)
    bn_case("bn_train_momentum_0.9_eps_0.01", [4, 3, 2], -1, True, momentum=0.9, epsilon=0.01)
    bn_case("bn_infer_neither", [4, 3, 2], -1, False, center=False, scale=False)
    bn_case("bn_train_masked", [3, 4, 5], -1, True, mask=[[1, 1, 1, 0], [0, 0, 1, 1], [1, 1, 1, 1]])
    bn_case("bn_train_masked_axis_1", [3, 4, 2], 1, True, mask=[[1, 1, 0, 0], [1, 0, 1, 1], [0, 1, 1, 1]])
    bn_case("bn_infer_masked", [3, 4, 5], -1, False, mask=[[1, 1, 1, 0], [0, 0, 1, 1], [1, 1, 1, 1]])
    bn_case("bn_train_axes_1_2", [3, 2, 4], [1, 2], True)
    bn_case("bn_frozen_training_call", [3, 4, 5], -1, True, trainable_layer=False)
    bn_case("bn_train_fused_4d", [2, 3, 2, 4], -1, True, epsilon=1e-6)
    bn_case("bn_train_fused_4d_axis_1", [2, 3, 2, 2], 1, True)
    bn_case("bn_train_4d_axis_2_not_fused", [2, 3, 4, 2], 2, True)
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        f.write('{"generator": "gen_normalization.py", "oracle": "torch %s (float64, outputs cast to float32)",\n'
                % torch.__version__)
        f.write(' "cases": [\n')
        f.write(",\n".join(json.dumps(c, separators=(",", ":")) for c in cases))
        f.write("\n]}\n")
    print(f"{len(cases)} cases -> {OUT}")


if __name__ == "__main__":
    main()
