#!/usr/bin/python3
"""Generates tests/parity/fixtures/conv_torch.json from PyTorch 1.13 (Debian's python3-torch: run with
/usr/bin/python3): what TF.js 4.22 cannot give for the convolution and pooling layers.

    /usr/bin/python3 tests/parity/gen_conv_torch.py        (or: bash tests/parity/generate.sh)

* Conv1D with padding="causal" (TF.js throws NotImplementedError) and with dilation_rate > 1 (TF.js has no
  gradient for it), from torch.nn.functional.conv1d: Keras's kernel (K, C, F) is torch's weight (F, C, K)
  transposed, both cross-correlate; "causal" pads (K-1)·d zeros on the left, "same" pads TensorFlow's
  max((T_out-1)·s + (K-1)·d + 1 - T, 0) zeros with the odd one on the right (written out with F.pad:
  torch's own padding="same" takes no strides and knows no "causal").
* GlobalAveragePooling1D under a mask (TF.js ignores masks there): tf.keras's sum(x·m) / sum(m) over the
  steps; keepdims for both global poolings (TF.js has no keepdims).
* A Sequential model in the tf.keras 2.11 dialect: Conv1D(causal) + Conv1D(dilated) + GlobalAveragePooling1D
  + Dense.

Computed in float64 and cast to float32 at the end; gradients of L = sum(output * output_grads) from
torch.autograd, mapped back to Keras's layout. Same number scheme and format as gen_torch.py (README.md).
"""
import json
import math
import os

import numpy as np
import torch
import torch.nn.functional as F

from gen_torch import GLOROT, ZEROS, Rand, tj

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "fixtures", "conv_torch.json")
GROUP = "conv_torch"
GENERATOR = "gen_conv_torch.py"
ORACLE = f"torch {torch.__version__} (float64, outputs cast to float32)"
torch.set_default_dtype(torch.float64)
torch.set_num_threads(1)

ACT = {"linear": lambda z: z, "relu": torch.relu, "tanh": torch.tanh, "sigmoid": torch.sigmoid,
       "elu": F.elu, "softmax": lambda z: torch.softmax(z, dim=-1)}


def conv1d_config(name, filters, kernel_size, *, strides=1, padding="valid", dilation_rate=1, activation="linear",
                  use_bias=True, batch_input_shape=None):
    c = {"name": name, "trainable": True, "dtype": "float32", "filters": filters, "kernel_size": [kernel_size],
         "strides": [strides], "padding": padding, "data_format": "channels_last", "dilation_rate": [dilation_rate],
         "groups": 1, "activation": activation, "use_bias": use_bias, "kernel_initializer": GLOROT,
         "bias_initializer": ZEROS, "kernel_regularizer": None, "bias_regularizer": None,
         "activity_regularizer": None, "kernel_constraint": None, "bias_constraint": None}
    if batch_input_shape:
        c = {"batch_input_shape": batch_input_shape, **c}
    return {"class_name": "Conv1D", "config": c}


def global_config(cls, name, keepdims=False):
    return {"class_name": cls, "config": {"name": name, "trainable": True, "dtype": "float32",
                                          "data_format": "channels_last", "keepdims": keepdims}}


def conv1d(x, kernel, bias, cfg):
    """Keras Conv1D on (B, T, C) torch tensors, kernel (K, C, F)."""
    k, s, d = cfg["kernel_size"][0], cfg["strides"][0], cfg["dilation_rate"][0]
    t = x.shape[1]
    span = (k - 1) * d + 1
    if cfg["padding"] == "valid":
        left = right = 0
    else:
        t_out = -(-t // s)
        total = span - 1 if cfg["padding"] == "causal" else max((t_out - 1) * s + span - t, 0)
        left = total if cfg["padding"] == "causal" else total // 2
        right = total - left
    xp = F.pad(x.transpose(1, 2), (left, right))  # (B, C, T + padding)
    y = F.conv1d(xp, kernel.permute(2, 1, 0), bias, stride=s, dilation=d).transpose(1, 2)
    return ACT[cfg["activation"]](y)


def global_pool(x, mask, cls, keepdims):
    if cls == "GlobalMaxPooling1D":
        y = x.max(dim=1).values
    elif mask is None:
        y = x.mean(dim=1)
    else:
        m = mask[:, :, None]
        y = (x * m).sum(dim=1) / m.sum(dim=1)
    return y[:, None, :] if keepdims else y


cases = []


def grads_of(name, out, variables):
    og = torch.tensor(Rand(f"{GROUP}/{name}/output_grads").array(list(out.shape), -0.995, 0.995), dtype=torch.float64)
    return og, torch.autograd.grad((out * og).sum(), variables)


def conv_layer_case(name, cfg, B, T, C):
    r = Rand(f"{GROUP}/{name}")
    x = r.array([B, T, C])
    c = cfg["config"]
    kernel = r.array([c["kernel_size"][0], C, c["filters"]])
    bias = r.array([c["filters"]]) if c["use_bias"] else None
    xt = torch.tensor(x, requires_grad=True)
    kt = torch.tensor(kernel, requires_grad=True)
    bt = torch.tensor(bias, requires_grad=True) if bias is not None else None
    y = conv1d(xt, kt, bt, c)
    variables = [xt, kt] + ([bt] if bt is not None else [])
    og, g = grads_of(name, y, variables)
    weights = [kernel] + ([bias] if bias is not None else [])
    cases.append({"kind": "layer", "name": name, "note": None, "layer": cfg, "input_shape": [None, T, C],
                  "weights": [tj(w) for w in weights], "inputs": [tj(x)], "mask": None,
                  "outputs": [tj(y.detach().numpy())], "output_grads": [tj(og.numpy())],
                  "grads": {"input": tj(g[0].numpy()), "weights": [tj(t.numpy()) for t in g[1:]]}})


def global_layer_case(name, cls, B, T, C, mask=None, keepdims=False):
    r = Rand(f"{GROUP}/{name}")
    if cls == "GlobalMaxPooling1D":  # distinct values: no tied maxima
        pool = np.arange(-100, 101, dtype=np.float32) / np.float32(100)
        order = sorted(range(201), key=lambda i: r.next())
        x = pool[order[:B * T * C]].reshape(B, T, C)
    else:
        x = r.array([B, T, C])
    xt = torch.tensor(x, requires_grad=True)
    mt = torch.tensor(np.array(mask, dtype=np.float64)) if mask is not None else None
    y = global_pool(xt, mt, cls, keepdims)
    og, g = grads_of(name, y, [xt])
    cases.append({"kind": "layer", "name": name, "note": None, "layer": global_config(cls, "pool", keepdims),
                  "input_shape": [None, T, C], "weights": [], "inputs": [tj(x)],
                  "mask": tj(np.array(mask, dtype=np.float32)) if mask is not None else None,
                  "outputs": [tj(y.detach().numpy())], "output_grads": [tj(og.numpy())],
                  "grads": {"input": tj(g[0].numpy()), "weights": []}})


# padding, K, strides, dilation, activation, use_bias, F, T, C, B
CONV_SWEEP = [
    ("causal", 3, 1, 1, "linear", True, 2, 5, 2, 2),
    ("causal", 2, 1, 1, "relu", False, 3, 4, 1, 2),
    ("causal", 3, 1, 2, "tanh", True, 2, 6, 2, 2),
    ("causal", 2, 1, 4, "sigmoid", True, 1, 7, 3, 1),
    ("causal", 3, 2, 1, "relu", True, 2, 7, 2, 2),
    ("causal", 4, 3, 1, "elu", False, 2, 8, 2, 2),
    ("causal", 1, 1, 1, "linear", True, 2, 3, 2, 2),
    ("causal", 5, 1, 1, "tanh", True, 2, 3, 2, 2),
    ("valid", 3, 1, 2, "sigmoid", True, 2, 7, 2, 2),
    ("valid", 2, 1, 3, "relu", True, 2, 6, 2, 2),
    ("valid", 3, 1, 3, "linear", False, 3, 7, 1, 2),
    ("same", 3, 1, 2, "relu", False, 2, 6, 2, 2),
    ("same", 2, 1, 2, "tanh", True, 3, 5, 2, 1),
    ("same", 4, 1, 3, "softmax", True, 3, 6, 2, 2),
    ("same", 3, 1, 4, "linear", True, 2, 4, 2, 2),
]


def main():
    for padding, k, s, d, act, bias, f, t, c, b in CONV_SWEEP:
        name = f"conv1d_{padding}_k{k}_s{s}_d{d}_{act}_{'bias' if bias else 'nobias'}_f{f}_t{t}_c{c}_b{b}"
        conv_layer_case(name, conv1d_config("conv1d", f, k, strides=s, padding=padding, dilation_rate=d,
                                            activation=act, use_bias=bias), b, t, c)
    global_layer_case("global_average_pooling1d_mask", "GlobalAveragePooling1D", 3, 5, 2,
                      mask=[[1, 1, 0, 1, 0], [0, 0, 0, 1, 1], [1, 1, 1, 1, 1]])
    global_layer_case("global_average_pooling1d_mask_keepdims", "GlobalAveragePooling1D", 2, 4, 3,
                      mask=[[0, 1, 1, 0], [1, 0, 0, 0]], keepdims=True)
    global_layer_case("global_average_pooling1d_keepdims", "GlobalAveragePooling1D", 2, 3, 2, keepdims=True)
    global_layer_case("global_max_pooling1d_keepdims", "GlobalMaxPooling1D", 2, 4, 3, keepdims=True)
    global_layer_case("global_max_pooling1d_mask_ignored", "GlobalMaxPooling1D", 2, 4, 2,
                      mask=[[1, 1, 0, 0], [0, 1, 1, 1]])
    cases[-1]["note"] = ("tf.keras 2.x and Keras 3 GlobalMaxPooling1D take no mask: the maximum runs over every "
                         "step, masked ones included.")

    # A causal, dilated stack (WaveNet-like) in the tf.keras 2.11 dialect.
    name = "causal_dilated_stack_global_average_dense"
    r = Rand(f"{GROUP}/{name}/weights")
    B, T, C = 2, 8, 3
    convs = [conv1d_config("conv1d", 4, 2, padding="causal", activation="relu", batch_input_shape=[None, T, C]),
             conv1d_config("conv1d_1", 3, 2, padding="causal", dilation_rate=2, activation="tanh")]
    w = {"conv1d": [r.array([2, C, 4]), r.array([4])], "conv1d_1": [r.array([2, 4, 3]), r.array([3])],
         "dense": [r.array([3, 2]), r.array([2])]}
    x = Rand(f"{GROUP}/{name}/input").array([B, T, C])
    wt = {k: [torch.tensor(a, requires_grad=True) for a in v] for k, v in w.items()}
    xt = torch.tensor(x, requires_grad=True)
    h = conv1d(xt, *wt["conv1d"], convs[0]["config"])
    h = conv1d(h, *wt["conv1d_1"], convs[1]["config"])
    y = global_pool(h, None, "GlobalAveragePooling1D", False) @ wt["dense"][0] + wt["dense"][1]
    variables = [xt] + [t for k in ("conv1d", "conv1d_1", "dense") for t in wt[k]]
    og, g = grads_of(name, y, variables)
    dense = {"class_name": "Dense", "config": {
        "name": "dense", "trainable": True, "dtype": "float32", "units": 2, "activation": "linear", "use_bias": True,
        "kernel_initializer": GLOROT, "bias_initializer": ZEROS, "kernel_regularizer": None, "bias_regularizer": None,
        "activity_regularizer": None, "kernel_constraint": None, "bias_constraint": None}}
    layers = [{"class_name": "InputLayer", "config": {"batch_input_shape": [None, T, C], "dtype": "float32",
                                                      "sparse": False, "ragged": False, "name": "conv1d_input"}},
              *convs, global_config("GlobalAveragePooling1D", "global_average_pooling1d"), dense]
    model = {"class_name": "Sequential", "config": {"name": "sequential", "layers": layers},
             "keras_version": "2.11.0", "backend": "tensorflow"}
    gi = iter(g[1:])
    cases.append({"kind": "model", "name": name, "note": None, "model": model,
                  "weights": {k: [tj(a) for a in v] for k, v in w.items()}, "input": tj(x),
                  "output": tj(y.detach().numpy()), "output_grads": [tj(og.numpy())],
                  "grads": {"input": tj(g[0].numpy()),
                            "weights": {k: [tj(next(gi).numpy()) for _ in v] for k, v in w.items()}}})

    head = f'{{"generator": {json.dumps(GENERATOR)}, "oracle": {json.dumps(ORACLE)}, "cases": [\n'
    text = head + ",\n".join(json.dumps(c, separators=(",", ":"), allow_nan=False) for c in cases) + "\n]}\n"
    with open(OUT, "w") as f:
        f.write(text)
    print(f"{os.path.relpath(OUT, HERE)}: {len(cases)} cases")


if __name__ == "__main__":
    main()
