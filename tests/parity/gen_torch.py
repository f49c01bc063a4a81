#!/usr/bin/python3
"""Generates tests/parity/fixtures/{gru_reset_after,torch_second_opinion}.json from PyTorch 1.13 and numpy
(Debian's python3-torch and python3-numpy: run with /usr/bin/python3), rnnkit's second oracle.

    /usr/bin/python3 tests/parity/gen_torch.py        (or: bash tests/parity/generate.sh)

* gru_reset_after: Keras GRU(reset_after=True), the Keras default, which TF.js lacks. torch.nn.GRU is exactly
  that form (gate order r, z, n; two biases, the recurrent one inside the reset product).
* torch_second_opinion: LSTM, Bidirectional LSTM and SimpleRNN from torch.nn.LSTM / torch.nn.RNN, plus the
  Korean Keras tutorial's numpy SimpleRNN (10 timesteps, 4 inputs, 8 units).

Weights are drawn in Keras layout (the fixture stores Keras's get_weights()), then converted to torch's
layout. Everything is computed in float64 (torch modules in float64, numpy in float64) and the outputs are
cast to float32 at the end. What torch cannot express (activations other than tanh/sigmoid, a mask) is
computed with numpy from the Keras equations; each such case says so in its note. Every numpy routine is
also checked against torch on the cases torch can do.

Every case also records oracle gradients (output_grads, grads) of L = sum(output * output_grads): torch.autograd
in float64 through the same modules, mapped back to Keras layout; central finite differences (float64,
h = 1e-6) of the numpy implementation for the numpy-only cases.
"""
import json
import math
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
OUT_DIR = os.path.join(HERE, "fixtures")
GENERATOR = "gen_torch.py"
ORACLE = f"torch {torch.__version__} + numpy {np.__version__} (float64, outputs cast to float32)"
torch.set_default_dtype(torch.float64)
torch.set_num_threads(1)  # deterministic summation order

# ---------------------------------------------------------------------------------------------------------
# Deterministic numbers: the same mulberry32 / FNV-1a scheme as gen_tfjs.mjs, multiples of 0.01 as float32.
M32 = 0xFFFFFFFF


def fnv1a(s):
    h = 0x811C9DC5
    for ch in s:
        h ^= ord(ch)
        h = (h * 0x01000193) & M32
    return h


class Rand:
    def __init__(self, name):
        self.s = fnv1a(name)

    def next(self):  # mulberry32: uniform in [0, 1)
        self.s = (self.s + 0x6D2B79F5) & M32
        t = ((self.s ^ (self.s >> 15)) * (1 | self.s)) & M32
        t = ((t + (((t ^ (t >> 7)) * (61 | t)) & M32)) & M32) ^ t
        return ((t ^ (t >> 14)) & M32) / 4294967296.0

    def uniform(self, lo, hi):
        return np.float32(math.floor((lo + (hi - lo) * self.next()) * 100 + 0.5) / 100)

    def array(self, shape, lo=-1.0, hi=1.0):
        n = int(np.prod(shape)) if len(shape) else 1
        return np.array([self.uniform(lo, hi) for _ in range(n)], dtype=np.float32).reshape(shape)

    def ints(self, shape, lo, hi):  # [lo, hi), as float32 token ids
        n = int(np.prod(shape))
        return np.array([lo + math.floor(self.next() * (hi - lo)) for _ in range(n)], dtype=np.float32).reshape(shape)


# ---------------------------------------------------------------------------------------------------------
# Serialization.
def f32(v):
    """Shortest decimal that round-trips the float32 value, as a Python float (json prints it back as is)."""
    v = np.float32(v)
    if not np.isfinite(v):
        raise ValueError(f"non-finite value {v}")
    x = float(repr(v)) if v != 0 else 0.0
    assert np.float32(x) == v
    return x


def tj(a):
    a = np.asarray(a)
    return {"shape": list(a.shape), "data": [f32(v) for v in a.astype(np.float32).ravel()]}


# Keras 2.11 (tf.keras) dialect configs, every key spelled out as model.to_json() writes them.
GLOROT = {"class_name": "GlorotUniform", "config": {"seed": None}}
ORTHO = {"class_name": "Orthogonal", "config": {"gain": 1.0, "seed": None}}
ZEROS = {"class_name": "Zeros", "config": {}}


def rnn_config(cls, name, units, *, return_sequences=False, return_state=False, go_backwards=False,
               activation="tanh", recurrent_activation="sigmoid", use_bias=True):
    c = {
        "name": name, "trainable": True, "dtype": "float32", "return_sequences": return_sequences,
        "return_state": return_state, "go_backwards": go_backwards, "stateful": False, "unroll": False,
        "time_major": False, "units": units, "activation": activation, "use_bias": use_bias,
        "kernel_initializer": GLOROT, "recurrent_initializer": ORTHO, "bias_initializer": ZEROS,
        "kernel_regularizer": None, "recurrent_regularizer": None, "bias_regularizer": None,
        "activity_regularizer": None, "kernel_constraint": None, "recurrent_constraint": None,
        "bias_constraint": None, "dropout": 0.0, "recurrent_dropout": 0.0,
    }
    if cls == "LSTM":
        c.update({"recurrent_activation": recurrent_activation, "unit_forget_bias": True, "implementation": 2})
    elif cls == "GRU":
        c.update({"recurrent_activation": recurrent_activation, "reset_after": True, "implementation": 2})
    return {"class_name": cls, "config": c}


def bidi_config(inner, merge_mode, name="bidirectional"):
    return {"class_name": "Bidirectional",
            "config": {"name": name, "trainable": True, "dtype": "float32", "layer": inner, "merge_mode": merge_mode}}


def embedding_config(name, input_dim, output_dim, input_length, mask_zero=False):
    return {"class_name": "Embedding", "config": {
        "name": name, "trainable": True, "dtype": "float32", "input_dim": input_dim, "output_dim": output_dim,
        "embeddings_initializer": {"class_name": "RandomUniform", "config": {"minval": -0.05, "maxval": 0.05, "seed": None}},
        "embeddings_regularizer": None, "activity_regularizer": None, "embeddings_constraint": None,
        "mask_zero": mask_zero, "input_length": input_length}}


def dense_config(name, units, activation):
    return {"class_name": "Dense", "config": {
        "name": name, "trainable": True, "dtype": "float32", "units": units, "activation": activation,
        "use_bias": True, "kernel_initializer": GLOROT, "bias_initializer": ZEROS, "kernel_regularizer": None,
        "bias_regularizer": None, "activity_regularizer": None, "kernel_constraint": None, "bias_constraint": None}}


def sequential_config(layers, batch_input_shape):
    """A Keras 2.11 Sequential: an InputLayer entry first, batch_input_shape on the first real layer too."""
    first = layers[0]["config"]
    first["batch_input_shape"] = batch_input_shape
    inp = {"class_name": "InputLayer", "config": {"batch_input_shape": batch_input_shape, "dtype": "float32",
                                                  "sparse": False, "ragged": False, "name": first["name"] + "_input"}}
    return {"class_name": "Sequential", "config": {"name": "sequential", "layers": [inp] + layers},
            "keras_version": "2.11.0", "backend": "tensorflow"}


# ---------------------------------------------------------------------------------------------------------
# Keras-layout weights and their torch counterparts.
def keras_weights(r, cls, F, U, use_bias=True, scale=1.0):
    g = {"SimpleRNN": 1, "LSTM": 4, "GRU": 3}[cls]
    w = [r.array((F, g * U), -scale, scale), r.array((U, g * U), -scale, scale)]
    if use_bias:
        w.append(r.array((2, 3 * U) if cls == "GRU" else (g * U,), -scale, scale))
    return w


def gru_keras_to_torch(w, U):
    """Keras (z, r, h) columns -> torch (r, z, n) rows. Bias row 0 = input bias, row 1 = recurrent bias."""
    def perm(m):  # columns of a (.., 3U) Keras matrix in torch gate order
        return np.concatenate([m[..., U:2 * U], m[..., :U], m[..., 2 * U:]], axis=-1)
    p = {"weight_ih_l0": perm(w[0]).T, "weight_hh_l0": perm(w[1]).T}
    if len(w) > 2:
        p["bias_ih_l0"], p["bias_hh_l0"] = perm(w[2][0]), perm(w[2][1])
    return p


def split_bias(r, b):
    """Two torch biases whose float64 sum is Keras's single bias b: bias_hh random, bias_ih = b - bias_hh."""
    b_hh = r.array(b.shape).astype(np.float64)
    return b.astype(np.float64) - b_hh, b_hh


def lstm_or_rnn_keras_to_torch(r, w, suffix=""):
    """LSTM gate order i, f, c(g), o is the same in both; SimpleRNN has one block. Weights transposed."""
    p = {f"weight_ih_l0{suffix}": w[0].T, f"weight_hh_l0{suffix}": w[1].T}
    if len(w) > 2:
        p[f"bias_ih_l0{suffix}"], p[f"bias_hh_l0{suffix}"] = split_bias(r, w[2])
    return p


def load(module, params):
    with torch.no_grad():
        for k, v in params.items():
            getattr(module, k).copy_(torch.from_numpy(np.ascontiguousarray(v, dtype=np.float64)))
    return module


def torch_run(cls, w, x, init, go_backwards, r, bidirectional=False, nonlinearity="tanh", keep=None):
    """Runs torch.nn.{GRU,LSTM,RNN} in float64. Returns (outputs (B,T,D*U) in processing order, h_n, c_n).
    For go_backwards the input is flipped in time; the outputs are then in reversed order, as Keras returns.
    keep: a list that receives the module (for the gradient pass, which reuses its float64 parameters)."""
    F, U = w[0].shape[0], w[1].shape[0]
    ws = [w] if not bidirectional else [w[:len(w) // 2], w[len(w) // 2:]]
    use_bias = len(ws[0]) > 2
    kw = dict(batch_first=True, bias=use_bias, bidirectional=bidirectional)
    if cls == "GRU":
        mod = torch.nn.GRU(F, U, **kw)
    elif cls == "LSTM":
        mod = torch.nn.LSTM(F, U, **kw)
    else:
        mod = torch.nn.RNN(F, U, nonlinearity=nonlinearity, **kw)
    params = {}
    for i, wi in enumerate(ws):
        suffix = "_reverse" if i == 1 else ""
        if cls == "GRU":
            params.update({k + suffix: v for k, v in gru_keras_to_torch(wi, U).items()})
        else:
            params.update(lstm_or_rnn_keras_to_torch(r, wi, suffix))
    load(mod, params)
    if keep is not None:
        keep.append(mod)
    xt = torch.from_numpy(x.astype(np.float64))
    if go_backwards:
        xt = torch.flip(xt, [1])
    h0 = None
    if init is not None:
        n = len(init) // len(ws)  # states per direction
        hs = torch.from_numpy(np.stack([init[d * n] for d in range(len(ws))]).astype(np.float64))
        h0 = (hs, torch.from_numpy(np.stack([init[d * n + 1] for d in range(len(ws))]).astype(np.float64))) if cls == "LSTM" else hs
    with torch.no_grad():
        out, hn = mod(xt, h0) if h0 is not None else mod(xt)
    if cls == "LSTM":
        return out.numpy(), hn[0].numpy(), hn[1].numpy()
    return out.numpy(), hn.numpy(), None


# ---------------------------------------------------------------------------------------------------------
# numpy, straight from the Keras equations (float64). Used where torch cannot go, and checked against torch.
def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


ACT = {"tanh": np.tanh, "sigmoid": sigmoid, "relu": lambda x: np.maximum(x, 0.0), "linear": lambda x: x,
       "hard_sigmoid": lambda x: np.clip(0.2 * x + 0.5, 0.0, 1.0), "softmax": None}


def np_gru_step(w, x, h, act, ract):
    U = h.shape[1]
    k, rk = w[0].astype(np.float64), w[1].astype(np.float64)
    b = w[2].astype(np.float64) if len(w) > 2 else np.zeros((2, 3 * U))
    x_z, x_r, x_h = (x @ k[:, i * U:(i + 1) * U] + b[0, i * U:(i + 1) * U] for i in range(3))
    h_z, h_r, h_h = (h @ rk[:, i * U:(i + 1) * U] + b[1, i * U:(i + 1) * U] for i in range(3))
    z = ACT[ract](x_z + h_z)
    r = ACT[ract](x_r + h_r)
    hh = ACT[act](x_h + r * h_h)
    return z * h + (1.0 - z) * hh


def np_simple_rnn_step(w, x, h, act):
    b = w[2].astype(np.float64) if len(w) > 2 else 0.0
    return ACT[act](x @ w[0].astype(np.float64) + h @ w[1].astype(np.float64) + b)


def np_run(step, x, h0, mask, go_backwards):
    """Keras backend.rnn with one state: returns (outputs (B,T,U) in processing order, final state). A masked
    step keeps the state and repeats the previous output; the previous output starts at zeros."""
    B, T, _ = x.shape
    h = h0.astype(np.float64).copy()
    prev = np.zeros_like(h)
    outs = []
    for t in (range(T - 1, -1, -1) if go_backwards else range(T)):
        new = step(x[:, t, :].astype(np.float64), h)
        if mask is not None:
            m = mask[:, t:t + 1] > 0
            new, out = np.where(m, new, h), np.where(m, new, prev)
        else:
            out = new
        h, prev = new, out
        outs.append(out)
    return np.stack(outs, axis=1), h


# ---------------------------------------------------------------------------------------------------------
groups = {}


def add(group, case):
    groups.setdefault(group, []).append(case)


def layer_case(group, name, layer, T, F, weights, inputs, mask, outputs, note=None, grads=None):
    """grads: (output_grads, input grad, [weight grads], [initial state grads]) from autograd_case or fd_case."""
    og, gx, gw, gs = grads
    g = {"input": tj(gx), "weights": [tj(a) for a in gw]}
    if len(inputs) > 1:
        g["initial_state"] = [tj(a) for a in gs]
    add(group, {"kind": "layer", "name": name, "note": note, "layer": layer, "input_shape": [None, T, F],
                "weights": [tj(w) for w in weights], "inputs": [tj(a) for a in inputs],
                "mask": tj(mask) if mask is not None else None, "outputs": [tj(o) for o in outputs],
                "output_grads": [tj(a) for a in og], "grads": g})


def model_case(group, name, layers, batch_input_shape, weights, x, y, note=None, grads=None):
    """grads: (output_grads, input grad or None for token ids, {layer name: [weight grads]})."""
    og, gx, gw = grads
    add(group, {"kind": "model", "name": name, "note": note, "model": sequential_config(layers, batch_input_shape),
                "weights": {k: [tj(w) for w in v] for k, v in weights.items()}, "input": tj(x), "output": tj(y),
                "output_grads": [tj(a) for a in og],
                "grads": {"input": tj(gx) if gx is not None else None,
                          "weights": {k: [tj(a) for a in gw[k]] for k in weights}}})


def close(a, b, what):
    d = float(np.max(np.abs(np.asarray(a) - np.asarray(b))))
    if d > 1e-12:
        raise AssertionError(f"{what}: numpy and torch differ by {d}")


def case_name(*parts):
    return "_".join(p for p in parts if p)


# ---------------------------------------------------------------------------------------------------------
# Oracle gradients. The loss is L = sum_k sum(output_k * output_grads_k); output_grads come from a PRNG stream of
# their own ("<group>/<name>/output_grads", multiples of 0.01 in [-0.99, 0.99]), so no forward number changes.
# torch cases: torch.autograd in float64 on the same modules (float64 copies of the weights) that gave the
# outputs, the gradients mapped back to Keras layout. numpy-only cases: central finite differences in float64.
FD_STEP = 1e-6
NUMPY_GRAD_NOTE = ("Gradients: central finite differences (float64, h = 1e-6) of this numpy implementation "
                   "(torch cannot run it).")


def output_grads(group, name, outputs):
    r = Rand(f"{group}/{name}/output_grads")
    return [r.array(np.shape(o), -0.995, 0.995) for o in outputs]


def leaf(a):
    return torch.tensor(np.asarray(a, dtype=np.float64), requires_grad=True)


def gru_perm(m, U):
    """Swaps the first two U-blocks of the last axis: Keras (z, r, h) <-> torch (r, z, n); its own inverse."""
    return np.concatenate([m[..., U:2 * U], m[..., :U], m[..., 2 * U:]], axis=-1)


def torch_apply(mod, cls, xt, init, go_backwards):
    """Differentiable twin of torch_run on torch tensors: xt (B,T,F); init: Keras initial states (forward then
    backward) or None. Returns (outputs (B,T,D*U) in processing order, h_n, c_n)."""
    if go_backwards:
        xt = torch.flip(xt, [1])
    nd = 2 if mod.bidirectional else 1
    if init is None:
        out, hn = mod(xt)
    else:
        n = len(init) // nd
        hs = torch.stack([init[d * n] for d in range(nd)])
        h0 = (hs, torch.stack([init[d * n + 1] for d in range(nd)])) if cls == "LSTM" else hs
        out, hn = mod(xt, h0)
    if cls == "LSTM":
        return out, hn[0], hn[1]
    return out, hn, None


def module_keras_grads(mod, cls, g):
    """torch parameter gradients (name -> array) in Keras get_weights() layout, forward then backward.
    kernel = weight_ih^T (GRU: gate blocks permuted); Keras's one LSTM/RNN bias is bias_ih + bias_hh, so its
    gradient is that of either (checked equal); GRU bias = [input; recurrent] rows."""
    U = mod.hidden_size
    out = []
    for suffix in [""] + (["_reverse"] if mod.bidirectional else []):
        gi, gh = g["weight_ih_l0" + suffix].T, g["weight_hh_l0" + suffix].T
        if cls == "GRU":
            gi, gh = gru_perm(gi, U), gru_perm(gh, U)
        out += [gi, gh]
        if mod.bias:
            bi, bh = g["bias_ih_l0" + suffix], g["bias_hh_l0" + suffix]
            if cls == "GRU":
                out.append(np.stack([gru_perm(bi, U), gru_perm(bh, U)]))
            else:
                close(bi, bh, "bias_ih and bias_hh gradients")
                out.append(bi)
    return out


def check_forward(outs, expected, what):
    if len(outs) != len(expected):
        raise AssertionError(f"{what}: {len(outs)} outputs in the gradient pass, {len(expected)} recorded")
    for o, e in zip(outs, expected):
        d = float(np.max(np.abs(np.asarray(o) - np.asarray(e)))) if np.size(e) else 0.0
        if d > 1e-12:
            raise AssertionError(f"{what}: the gradient pass's forward differs from the recorded one by {d}")


def autograd_case(group, name, expected, fn, leaves, modules):
    """fn() -> Keras's outputs as torch tensors built from `leaves` (torch leaf tensors: inputs, states,
    embeddings, Dense weights) and `modules` ((torch module, class) pairs, run by torch_apply).
    Returns (output_grads, [gradient per leaf], [Keras-layout weight gradients per module])."""
    ogs = output_grads(group, name, expected)
    outs = fn()
    check_forward([o.detach().numpy() for o in outs], expected, f"{group}/{name}")
    loss = sum((o * torch.from_numpy(g.astype(np.float64))).sum() for o, g in zip(outs, ogs))
    params = [(m, [n for n, _ in m.named_parameters()]) for m, _ in modules]
    grads = torch.autograd.grad(loss, list(leaves) + [p for m, _ in modules for p in m.parameters()])
    gl = [g.numpy() for g in grads[:len(leaves)]]
    k = len(leaves)
    gm = []
    for (m, names), (_, cls) in zip(params, modules):
        gm.append(module_keras_grads(m, cls, {n: grads[k + i].numpy() for i, n in enumerate(names)}))
        k += len(names)
    return ogs, gl, gm


def fd_case(group, name, expected, fn, arrays):
    """fn() -> Keras's outputs (numpy float64) computed from `arrays` (float64 arrays, perturbed in place).
    Returns (output_grads, [central-difference gradient per array])."""
    ogs = output_grads(group, name, expected)
    check_forward(fn(), expected, f"{group}/{name}")

    def loss():
        return sum(float(np.sum(o * g.astype(np.float64))) for o, g in zip(fn(), ogs))

    grads = []
    for a in arrays:
        fd = np.zeros_like(a)
        flat, fdf = a.reshape(-1), fd.reshape(-1)  # views
        for i in range(flat.size):
            v = flat[i]
            flat[i] = v + FD_STEP
            lp = loss()
            flat[i] = v - FD_STEP
            lm = loss()
            flat[i] = v
            fdf[i] = (lp - lm) / (2 * FD_STEP)
        grads.append(fd)
    return ogs, grads


def f64(arrays):
    return [np.array(a, dtype=np.float64) for a in arrays]


# --- gru_reset_after -------------------------------------------------------------------------------------
GRU_SWEEP = [
    # seq, state, back, bias, init, act,      ract,           mask,                                      U, T, F, B
    (0, 0, 0, 1, 0, "tanh", "sigmoid", None, 3, 1, 2, 1),
    (1, 0, 0, 1, 0, "tanh", "sigmoid", None, 2, 4, 3, 2),
    (0, 1, 0, 1, 0, "tanh", "sigmoid", None, 2, 3, 2, 2),
    (1, 1, 1, 1, 0, "tanh", "sigmoid", None, 3, 5, 1, 2),
    (1, 0, 1, 0, 0, "tanh", "sigmoid", None, 2, 3, 2, 1),
    (0, 1, 0, 0, 1, "tanh", "sigmoid", None, 1, 2, 3, 2),
    (1, 1, 0, 1, 1, "tanh", "sigmoid", None, 4, 3, 2, 2),
    (0, 0, 1, 1, 1, "tanh", "sigmoid", None, 2, 1, 1, 2),
    (1, 1, 1, 0, 1, "tanh", "sigmoid", None, 2, 4, 2, 1),
    (1, 1, 0, 1, 0, "relu", "hard_sigmoid", None, 2, 3, 2, 2),
    (0, 0, 0, 0, 0, "linear", "tanh", None, 3, 2, 1, 1),
    (1, 0, 1, 1, 0, "sigmoid", "hard_sigmoid", None, 2, 4, 2, 2),
    (1, 1, 0, 1, 0, "tanh", "sigmoid", [[1, 1, 0, 1], [0, 0, 1, 1], [0, 0, 0, 0]], 2, 4, 2, 3),
    (0, 1, 1, 1, 1, "tanh", "sigmoid", [[1, 0, 0], [0, 0, 0]], 2, 3, 1, 2),
    (1, 0, 1, 0, 1, "tanh", "sigmoid", [[0, 1, 1, 0], [1, 1, 1, 1]], 3, 4, 2, 2),
]
NUMPY_ACT_NOTE = ("torch.nn.GRU has no other activations: computed with numpy (float64) from the Keras "
                  "reset_after=True equations, the same code that matches torch on the other cases.")
NUMPY_MASK_NOTE = ("torch.nn.GRU takes no Keras mask: the cell is numpy (float64, checked against torch) and the "
                   "mask follows Keras backend.rnn: a masked step keeps the state and repeats the previous output, "
                   "which starts at zeros (also with an initial_state).")


def gru_group():
    group = "gru_reset_after"
    for seq, state, back, bias, init, act, ract, mask, U, T, F, B in GRU_SWEEP:
        name = case_name(f"u{U}", act, f"rec_{ract}", "bias" if bias else "nobias", "seq" if seq else "last",
                         "state" if state else "", "backwards" if back else "", "initial_state" if init else "",
                         "mask" if mask else "", f"t{T}", f"f{F}", f"b{B}")
        r = Rand(f"{group}/{name}")
        w = keras_weights(r, "GRU", F, U, bool(bias))
        x = r.array((B, T, F))
        h0 = r.array((B, U)) if init else None
        m = np.array(mask, dtype=np.float32) if mask else None
        step = lambda xt, h: np_gru_step(w, xt, h, act, ract)  # noqa: E731
        seq_np, h_np = np_run(step, x, h0 if init else np.zeros((B, U)), m, bool(back))
        note = None
        keras_outputs = lambda s_, h_: ([s_ if seq else s_[:, -1, :]] + ([h_] if state else []))  # noqa: E731
        if act == "tanh" and ract == "sigmoid" and mask is None:
            mods = []
            seq_t, hn, _ = torch_run("GRU", w, x, [h0] if init else None, bool(back), r, keep=mods)
            close(seq_t, seq_np, name)
            close(hn[0], h_np, name)
            seq_out, h_out = seq_t, hn[0]
            if not bias:
                note = "use_bias=False: torch.nn.GRU(bias=False), which drops both biases as Keras does."
        else:
            seq_out, h_out = seq_np, h_np
            note = NUMPY_MASK_NOTE if mask else NUMPY_ACT_NOTE
        out = seq_out if seq else seq_out[:, -1, :]
        outputs = [out, h_out] if state else [out]
        if note in (NUMPY_MASK_NOTE, NUMPY_ACT_NOTE):
            note += " " + NUMPY_GRAD_NOTE
            xg, wg, hg = f64([x]), f64(w), f64([h0] if init else [])

            def fn():
                s_, h_ = np_run(lambda xt, h: np_gru_step(wg, xt, h, act, ract), xg[0],
                                hg[0] if init else np.zeros((B, U)), m, bool(back))
                return keras_outputs(s_, h_)
            og, gs = fd_case(group, name, outputs, fn, xg + wg + hg)
            grads = (og, gs[0], gs[1:1 + len(w)], gs[1 + len(w):])
        else:
            xl, hl = leaf(x), [leaf(h0)] if init else []

            def fn():
                s_, h_, _ = torch_apply(mods[0], "GRU", xl, hl or None, bool(back))
                return keras_outputs(s_, h_[0])
            og, gl, gm = autograd_case(group, name, outputs, fn, [xl] + hl, [(mods[0], "GRU")])
            grads = (og, gl[0], gm[0], gl[1:])
        cfg = rnn_config("GRU", "gru", U, return_sequences=bool(seq), return_state=bool(state),
                         go_backwards=bool(back), activation=act, recurrent_activation=ract, use_bias=bool(bias))
        layer_case(group, name, cfg, T, F, w, [x] + ([h0] if init else []), m, outputs, note, grads)

    # Bidirectional(GRU(reset_after=True)) from torch's bidirectional GRU.
    for merge, seq, state, init, U, T, F, B in [("concat", 1, 1, 0, 2, 3, 2, 2), ("sum", 0, 0, 1, 3, 4, 1, 1),
                                                 (None, 1, 1, 1, 2, 2, 3, 2), ("ave", 1, 0, 0, 1, 4, 2, 2),
                                                 ("mul", 0, 1, 0, 2, 3, 2, 1)]:
        name = case_name("bidirectional", merge or "none", "seq" if seq else "last", "state" if state else "",
                         "initial_state" if init else "", f"u{U}", f"t{T}", f"f{F}", f"b{B}")
        r = Rand(f"{group}/{name}")
        w = keras_weights(r, "GRU", F, U) + keras_weights(r, "GRU", F, U)
        x = r.array((B, T, F))
        init_states = [r.array((B, U)), r.array((B, U))] if init else None
        mods = []
        out_t, hn, _ = torch_run("GRU", w, x, init_states, False, r, bidirectional=True, keep=mods)
        inner = rnn_config("GRU", "gru", U, return_sequences=bool(seq), return_state=bool(state))
        outputs = merge_bidirectional(out_t, hn, None, U, merge, seq, state)
        xl, hl = leaf(x), [leaf(h) for h in init_states or []]

        def fn():
            o_, h_, _ = torch_apply(mods[0], "GRU", xl, hl or None, False)
            return merge_bidirectional(o_, h_, None, U, merge, seq, state)
        og, gl, gm = autograd_case(group, name, outputs, fn, [xl] + hl, [(mods[0], "GRU")])
        layer_case(group, name, bidi_config(inner, merge), T, F, w, [x] + (init_states or []), None, outputs,
                   "torch.nn.GRU(bidirectional=True): backward direction re-aligned to input time, as Keras's Bidirectional.",
                   (og, gl[0], gm[0], gl[1:]))

    # Sequential models in the Keras 2.11 dialect (InputLayer first).
    r = Rand(f"{group}/tutorial_gru_3_input_2x10")
    w = keras_weights(r, "GRU", 10, 3, scale=0.5)
    x = r.array((2, 2, 10))
    mods = []
    seq_t, hn, _ = torch_run("GRU", w, x, None, False, r, keep=mods)
    xl = leaf(x)
    og, gl, gm = autograd_case(group, "tutorial_gru_3_input_2x10", [hn[0]],
                               lambda: [torch_apply(mods[0], "GRU", xl, None, False)[1][0]], [xl], [(mods[0], "GRU")])
    model_case(group, "tutorial_gru_3_input_2x10", [rnn_config("GRU", "gru", 3)], [None, 2, 10], {"gru": w}, x, hn[0],
               grads=(og, gl[0], {"gru": gm[0]}))

    r = Rand(f"{group}/embedding_gru_dense_sigmoid")
    V, E, U, T = 10, 3, 4, 5
    emb = r.array((V, E))
    w = keras_weights(r, "GRU", E, U, scale=0.7)
    dk, db = r.array((U, 1)), r.array((1,))
    ids = r.ints((2, T), 0, V)
    mods = []
    seq_t, hn, _ = torch_run("GRU", w, emb[ids.astype(int)], None, False, r, keep=mods)
    y = sigmoid(hn[0] @ dk.astype(np.float64) + db)
    name = "embedding_10_3_gru_4_dense_1_sigmoid"
    el, kl, bl = leaf(emb), leaf(dk), leaf(db)
    idx = torch.from_numpy(ids.astype(np.int64))
    og, gl, gm = autograd_case(
        group, name, [y], lambda: [torch.sigmoid(torch_apply(mods[0], "GRU", el[idx], None, False)[1][0] @ kl + bl)],
        [el, kl, bl], [(mods[0], "GRU")])
    model_case(group, name,
               [embedding_config("embedding", V, E, T), rnn_config("GRU", "gru", U), dense_config("dense", 1, "sigmoid")],
               [None, T], {"embedding": [emb], "gru": w, "dense": [dk, db]}, ids, y,
               "Embedding lookup and Dense in numpy (float64); GRU from torch.nn.GRU.",
               (og, None, {"embedding": [gl[0]], "gru": gm[0], "dense": gl[1:]}))

    r = Rand(f"{group}/embedding_gru_seq_gru_dense_softmax")
    V, E, T = 8, 2, 4
    emb = r.array((V, E))
    w1 = keras_weights(r, "GRU", E, 3, scale=0.8)
    w2 = keras_weights(r, "GRU", 3, 2, scale=0.8)
    dk, db = r.array((2, 3)), r.array((3,))
    ids = r.ints((3, T), 0, V)
    mods = []
    seq1, _, _ = torch_run("GRU", w1, emb[ids.astype(int)], None, False, r, keep=mods)
    _, hn, _ = torch_run("GRU", w2, seq1, None, False, r, keep=mods)
    logits = hn[0] @ dk.astype(np.float64) + db
    y = np.exp(logits - logits.max(-1, keepdims=True))
    y /= y.sum(-1, keepdims=True)
    name = "embedding_8_2_gru_3_seq_gru_2_dense_3_softmax"
    el, kl, bl = leaf(emb), leaf(dk), leaf(db)
    idx = torch.from_numpy(ids.astype(np.int64))

    def fn():
        s1 = torch_apply(mods[0], "GRU", el[idx], None, False)[0]
        return [torch.softmax(torch_apply(mods[1], "GRU", s1, None, False)[1][0] @ kl + bl, -1)]
    og, gl, gm = autograd_case(group, name, [y], fn, [el, kl, bl], [(mods[0], "GRU"), (mods[1], "GRU")])
    model_case(group, name,
               [embedding_config("embedding", V, E, T), rnn_config("GRU", "gru", 3, return_sequences=True),
                rnn_config("GRU", "gru_1", 2), dense_config("dense", 3, "softmax")],
               [None, T], {"embedding": [emb], "gru": w1, "gru_1": w2, "dense": [dk, db]}, ids, y,
               "Embedding lookup and Dense in numpy (float64); both GRUs from torch.nn.GRU.",
               (og, None, {"embedding": [gl[0]], "gru": gm[0], "gru_1": gm[1], "dense": gl[1:]}))

    r = Rand(f"{group}/embedding_mask_zero_gru_dense_sigmoid")
    V, E, U, T = 6, 2, 3, 5
    emb = r.array((V, E))
    w = keras_weights(r, "GRU", E, U)
    dk, db = r.array((U, 1)), r.array((1,))
    ids = np.array([[0, 0, 3, 1, 5], [2, 4, 1, 0, 0], [0, 0, 0, 0, 0]], dtype=np.float32)
    _, h = np_run(lambda xt, hh: np_gru_step(w, xt, hh, "tanh", "sigmoid"), emb[ids.astype(int)],
                  np.zeros((3, U)), (ids != 0).astype(np.float32), False)
    y = sigmoid(h @ dk.astype(np.float64) + db)
    name = "embedding_mask_zero_gru_dense_sigmoid_pre_post_fully_masked"
    eg, wg, (kg, bg) = f64([emb])[0], f64(w), f64([dk, db])

    def fn():
        _, hh_ = np_run(lambda xt, hh: np_gru_step(wg, xt, hh, "tanh", "sigmoid"), eg[ids.astype(int)],
                        np.zeros((3, U)), (ids != 0).astype(np.float32), False)
        return [sigmoid(hh_ @ kg + bg)]
    og, gs = fd_case(group, name, [y], fn, [eg] + wg + [kg, bg])
    model_case(group, name,
               [embedding_config("embedding", V, E, T, mask_zero=True), rnn_config("GRU", "gru", U),
                dense_config("dense", 1, "sigmoid")],
               [None, T], {"embedding": [emb], "gru": w, "dense": [dk, db]}, ids, y,
               NUMPY_MASK_NOTE + " " + NUMPY_GRAD_NOTE, (og, None, {"embedding": [gs[0]], "gru": gs[1:-2], "dense": gs[-2:]}))


def merge_bidirectional(out_t, hn, cn, U, merge, seq, state):
    """torch bidirectional output (B,T,2U) (backward half already aligned to input time) -> Keras outputs."""
    if seq:
        y, y_rev = out_t[..., :U], out_t[..., U:]
    else:
        y, y_rev = hn[0], hn[1]
    cat = torch.cat if torch.is_tensor(y) else np.concatenate  # numpy (forward) or torch (gradient pass)
    outs = {"concat": lambda: [cat([y, y_rev], -1)], "sum": lambda: [y + y_rev],
            "ave": lambda: [(y + y_rev) / 2.0], "mul": lambda: [y * y_rev], None: lambda: [y, y_rev]}[merge]()
    if state:
        for d in range(2):
            outs += [hn[d]] + ([cn[d]] if cn is not None else [])
    return outs


# --- torch_second_opinion -------------------------------------------------------------------------------
def second_opinion_group():
    group = "torch_second_opinion"
    note_bias = ("torch has two biases (bias_ih, bias_hh); Keras's one bias is their sum: bias_hh drawn at random, "
                 "bias_ih = bias - bias_hh in float64.")
    for cls, seq, state, back, bias, init, nl, U, T, F, B in [
        ("LSTM", 0, 0, 0, 1, 0, None, 3, 1, 2, 1),
        ("LSTM", 1, 0, 0, 1, 0, None, 2, 4, 3, 2),
        ("LSTM", 1, 1, 1, 1, 0, None, 2, 3, 2, 2),
        ("LSTM", 0, 1, 0, 1, 1, None, 3, 3, 1, 2),
        ("LSTM", 1, 1, 0, 1, 1, None, 1, 5, 2, 1),
        ("LSTM", 1, 0, 1, 0, 0, None, 2, 3, 2, 2),
        ("SimpleRNN", 1, 0, 0, 1, 0, "tanh", 3, 4, 2, 2),
        ("SimpleRNN", 0, 0, 1, 1, 0, "relu", 2, 3, 3, 1),
        ("SimpleRNN", 1, 1, 0, 1, 1, "tanh", 2, 2, 1, 2),
        ("SimpleRNN", 0, 1, 1, 0, 1, "relu", 2, 1, 2, 2),
    ]:
        name = case_name(cls.lower(), f"u{U}", nl or "", "bias" if bias else "nobias", "seq" if seq else "last",
                         "state" if state else "", "backwards" if back else "", "initial_state" if init else "",
                         f"t{T}", f"f{F}", f"b{B}")
        r = Rand(f"{group}/{name}")
        w = keras_weights(r, cls, F, U, bool(bias))
        x = r.array((B, T, F))
        ns = 2 if cls == "LSTM" else 1
        init_states = [r.array((B, U)) for _ in range(ns)] if init else None
        mods = []
        seq_t, hn, cn = torch_run(cls, w, x, init_states, bool(back), r, nonlinearity=nl or "tanh", keep=mods)
        if cls == "SimpleRNN":  # check the numpy step on torch's answer
            seq_np, h_np = np_run(lambda xt, h: np_simple_rnn_step(w, xt, h, nl), x,
                                  init_states[0] if init else np.zeros((B, U)), None, bool(back))
            close(seq_np, seq_t, name)
        out = seq_t if seq else seq_t[:, -1, :]
        outputs = [out] + ([hn[0]] + ([cn[0]] if cn is not None else []) if state else [])
        cfg = rnn_config(cls, cls.lower() if cls == "LSTM" else "simple_rnn", U, return_sequences=bool(seq),
                         return_state=bool(state), go_backwards=bool(back), activation=nl or "tanh",
                         use_bias=bool(bias))
        xl, hl = leaf(x), [leaf(h) for h in init_states or []]

        def fn():
            s_, h_, c_ = torch_apply(mods[0], cls, xl, hl or None, bool(back))
            return [s_ if seq else s_[:, -1, :]] + ([h_[0]] + ([c_[0]] if c_ is not None else []) if state else [])
        og, gl, gm = autograd_case(group, name, outputs, fn, [xl] + hl, [(mods[0], cls)])
        layer_case(group, name, cfg, T, F, w, [x] + (init_states or []), None, outputs, note_bias if bias else
                   "use_bias=False: torch module built with bias=False.", (og, gl[0], gm[0], gl[1:]))

    for merge, seq, state, init, U, T, F, B in [("concat", 1, 1, 0, 2, 3, 2, 2), ("concat", 0, 0, 0, 3, 4, 1, 1),
                                                 (None, 1, 0, 0, 2, 2, 3, 2), ("sum", 1, 1, 1, 1, 4, 2, 2)]:
        name = case_name("bidirectional_lstm", merge or "none", "seq" if seq else "last", "state" if state else "",
                         "initial_state" if init else "", f"u{U}", f"t{T}", f"f{F}", f"b{B}")
        r = Rand(f"{group}/{name}")
        w = keras_weights(r, "LSTM", F, U) + keras_weights(r, "LSTM", F, U)
        x = r.array((B, T, F))
        init_states = [r.array((B, U)) for _ in range(4)] if init else None
        mods = []
        out_t, hn, cn = torch_run("LSTM", w, x, init_states, False, r, bidirectional=True, keep=mods)
        inner = rnn_config("LSTM", "lstm", U, return_sequences=bool(seq), return_state=bool(state))
        outputs = merge_bidirectional(out_t, hn, cn, U, merge, seq, state)
        xl, hl = leaf(x), [leaf(h) for h in init_states or []]

        def fn():
            o_, h_, c_ = torch_apply(mods[0], "LSTM", xl, hl or None, False)
            return merge_bidirectional(o_, h_, c_, U, merge, seq, state)
        og, gl, gm = autograd_case(group, name, outputs, fn, [xl] + hl, [(mods[0], "LSTM")])
        layer_case(group, name, bidi_config(inner, merge), T, F, w, [x] + (init_states or []), None,
                   outputs, "torch.nn.LSTM(bidirectional=True). " + note_bias, (og, gl[0], gm[0], gl[1:]))

    # The Korean Keras tutorial's numpy RNN: timesteps 10, input 4, hidden 8, all outputs stacked.
    r = Rand(f"{group}/tutorial_numpy_simple_rnn")
    T, F, U = 10, 4, 8
    x = r.array((T, F), 0.0, 1.0)  # the tutorial feeds np.random.random((10, 4)): values in [0, 1)
    wx, wh, b = r.array((F, U)), r.array((U, U)), r.array((U,))
    h = np.zeros(U)
    hs = []
    for t in range(T):
        h = np.tanh(x[t].astype(np.float64) @ wx + h @ wh.astype(np.float64) + b)
        hs.append(h)
    total = np.stack(hs)[None]
    mods = []
    seq_t, _, _ = torch_run("SimpleRNN", [wx, wh, b], x[None], None, False, r, keep=mods)
    close(seq_t, total, "tutorial numpy rnn")
    name = "tutorial_numpy_simple_rnn_t10_f4_u8_seq"
    xl = leaf(x[None])
    og, gl, gm = autograd_case(group, name, [total], lambda: [torch_apply(mods[0], "SimpleRNN", xl, None, False)[0]],
                               [xl], [(mods[0], "SimpleRNN")])
    layer_case(group, name, rnn_config("SimpleRNN", "simple_rnn", U, return_sequences=True),
               T, F, [wx, wh, b], [x[None]], None, [total],
               "The tutorial's numpy loop h_t = tanh(x_t Wx + h_{t-1} Wh + b) in float64 (checked against torch.nn.RNN); "
               "kernel = Wx, recurrent_kernel = Wh.", (og, gl[0], gm[0], []))

    # Embedding(100, 3) + LSTM(4) + Dense(1, sigmoid) in the Keras 2.11 dialect.
    r = Rand(f"{group}/embedding_lstm_dense")
    V, E, U, T = 100, 3, 4, 6
    emb = r.array((V, E), -0.5, 0.5)
    w = keras_weights(r, "LSTM", E, U, scale=0.5)
    dk, db = r.array((U, 1)), r.array((1,))
    ids = r.ints((2, T), 0, V)
    mods = []
    _, hn, _ = torch_run("LSTM", w, emb[ids.astype(int)], None, False, r, keep=mods)
    y = sigmoid(hn[0] @ dk.astype(np.float64) + db)
    name = "embedding_100_3_lstm_4_dense_1_sigmoid"
    el, kl, bl = leaf(emb), leaf(dk), leaf(db)
    idx = torch.from_numpy(ids.astype(np.int64))
    og, gl, gm = autograd_case(
        group, name, [y], lambda: [torch.sigmoid(torch_apply(mods[0], "LSTM", el[idx], None, False)[1][0] @ kl + bl)],
        [el, kl, bl], [(mods[0], "LSTM")])
    model_case(group, name,
               [embedding_config("embedding", V, E, T), rnn_config("LSTM", "lstm", U), dense_config("dense", 1, "sigmoid")],
               [None, T], {"embedding": [emb], "lstm": w, "dense": [dk, db]}, ids, y,
               "Embedding lookup and Dense in numpy (float64); LSTM from torch.nn.LSTM. " + note_bias,
               (og, None, {"embedding": [gl[0]], "lstm": gm[0], "dense": gl[1:]}))


def write_group(group, cases):
    names = [c["name"] for c in cases]
    if len(set(names)) != len(names):
        raise AssertionError(f"duplicate case names in {group}")
    head = f'{{"generator": {json.dumps(GENERATOR)}, "oracle": {json.dumps(ORACLE)}, "cases": [\n'
    text = head + ",\n".join(json.dumps(c, separators=(",", ":"), allow_nan=False) for c in cases) + "\n]}\n"
    os.makedirs(OUT_DIR, exist_ok=True)
    with open(os.path.join(OUT_DIR, f"{group}.json"), "w") as f:
        f.write(text)
    print(f"{group}.json: {len(cases)} cases, {len(text)} bytes")


def main():
    gru_group()
    second_opinion_group()
    for group, cases in groups.items():
        write_group(group, cases)


if __name__ == "__main__":
    sys.exit(main())
