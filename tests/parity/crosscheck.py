#!/usr/bin/python3
"""Re-computes every fixture case from its Keras config, weights and inputs with a plain numpy (float64)
implementation of the Keras semantics in /work/shared/design.md section 3, and compares it with the
fixture's expected outputs.

This is a check of the fixtures, not an oracle of its own: it catches a generator that wrote something
other than Keras's answer (a wrong correction, a weight in the wrong order, a TF.js difference nobody
noticed), and it shows the C++ tests how to read the format. Run with Debian's numpy:

    /usr/bin/python3 tests/parity/crosscheck.py [fixtures/*.json]

It then checks every case's oracle gradients ("output_grads", "grads") against central finite differences
(float64, h = 1e-6) of the same numpy implementation: for L = sum_k sum(output_k * output_grads_k), every
element of dL/d(input), dL/d(weights) and dL/d(initial states) is compared with (L(p + h) - L(p - h)) / 2h,
to |recorded - fd| <= 1e-5 + 1e-4 |fd| (TF.js computes in float32). This includes the cases whose expected
output was corrected to Keras's semantics (their gradients are TF.js's gradients of the corrected function,
with the 0/1 correction mask inside the differentiated function); they are also reported on their own line.

Exits non-zero when any case differs by more than 1e-5, or any gradient by more than the tolerance above.
"""
import glob
import json
import math
import os
import sys

import numpy as np

TOL = 1e-5
HERE = os.path.dirname(os.path.abspath(__file__))


def tensor(t):
    """The float32 values the numbers stand for (shortest decimals of float32s), widened to float64. Reading the
    decimals straight as float64 would move every weight by up to ~3e-8 relative, which the gradient check
    (second derivatives times ~100 such shifts) would see as ~1e-6 of error."""
    return np.asarray(t["data"], dtype=np.float32).astype(np.float64).reshape(t["shape"])


def hard_sigmoid(x):
    return np.clip(0.2 * x + 0.5, 0.0, 1.0)  # Keras 2 and TF.js form


def softmax(x):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def softplus(x):
    return np.logaddexp(x, 0.0)


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def hard_sigmoid_keras3(x):
    return np.clip(x / 6.0 + 0.5, 0.0, 1.0)


def elu(x):
    return np.where(x > 0, x, np.expm1(np.minimum(x, 0.0)))


def gelu(x):
    return x * 0.5 * (1.0 + np.vectorize(math.erf)(x / math.sqrt(2.0)))


def gelu_tanh(x):
    return 0.5 * x * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3)))


SELU_ALPHA, SELU_SCALE = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946

# Keras's definitions (keras/src/backend/numpy/nn.py and tf.keras 2.x activations.py), with Keras's defaults.
ACT = {
    "tanh": np.tanh,
    "relu": lambda x: np.maximum(x, 0.0),
    "linear": lambda x: x,
    "sigmoid": sigmoid,
    "hard_sigmoid": hard_sigmoid,
    "hard_sigmoid_keras3": hard_sigmoid_keras3,
    "softmax": softmax,
    "elu": elu,
    "selu": lambda x: SELU_SCALE * np.where(x > 0, x, SELU_ALPHA * np.expm1(np.minimum(x, 0.0))),
    "celu": lambda x: np.maximum(x, 0.0) + np.expm1(np.minimum(x, 0.0)),
    "softplus": softplus,
    "softsign": lambda x: x / (1.0 + np.abs(x)),
    "exponential": np.exp,
    "leaky_relu": lambda x: np.maximum(x, 0.2 * x),
    "relu6": lambda x: np.minimum(np.maximum(x, 0.0), 6.0),
    "gelu": gelu,
    "gelu_approximate": gelu_tanh,
    "swish": lambda x: x * sigmoid(x),
    "silu": lambda x: x * sigmoid(x),
    "hard_silu": lambda x: x * hard_sigmoid_keras3(x),
    "hard_swish": lambda x: x * hard_sigmoid_keras3(x),
    "mish": lambda x: x * np.tanh(softplus(x)),
    "log_softmax": lambda x: x - x.max(-1, keepdims=True) - np.log(np.exp(x - x.max(-1, keepdims=True)).sum(-1, keepdims=True)),
    "log_sigmoid": lambda x: -softplus(-x),
    "hard_tanh": lambda x: np.clip(x, -1.0, 1.0),
    "tanh_shrink": lambda x: x - np.tanh(x),
    "soft_shrink": lambda x: np.where(x > 0.5, x - 0.5, np.where(x < -0.5, x + 0.5, 0.0)),
    "hard_shrink": lambda x: np.where(np.abs(x) > 0.5, x, 0.0),
    "sparse_plus": lambda x: np.where(x <= -1, 0.0, np.where(x < 1, 0.25 * (x + 1) ** 2, x)),
    "sparse_sigmoid": lambda x: np.where(x <= -1, 0.0, np.where(x >= 1, 1.0, 0.5 * (x + 1))),
    "squareplus": lambda x: 0.5 * (x + np.sqrt(x * x + 4.0)),
}


# --- one step of each cell: (x_t (B,F), states list) -> (output (B,U), new states list) -------------------
def cell_step(cls, cfg, w, x, states):
    act = ACT[cfg.get("activation", "tanh")]
    ract = ACT[cfg.get("recurrent_activation", "sigmoid")]
    use_bias = cfg.get("use_bias", True)
    kernel, rec = w[0], w[1]
    bias = w[2] if use_bias else None
    u = rec.shape[0]
    if cls == "SimpleRNN":
        h = act(x @ kernel + states[0] @ rec + (bias if use_bias else 0.0))
        return h, [h]
    if cls == "LSTM":
        h, c = states
        z = x @ kernel + h @ rec + (bias if use_bias else 0.0)
        i, f, g, o = (z[:, k * u:(k + 1) * u] for k in range(4))
        c = ract(f) * c + ract(i) * act(g)
        h = ract(o) * act(c)
        return h, [h, c]
    if cls == "GRU":
        h = states[0]
        reset_after = cfg.get("reset_after", True)  # Keras default
        if reset_after:
            b_in, b_rec = (bias[0], bias[1]) if use_bias else (0.0, 0.0)
            mx = x @ kernel + b_in
            mh = h @ rec + b_rec
            z = ract(mx[:, :u] + mh[:, :u])
            r = ract(mx[:, u:2 * u] + mh[:, u:2 * u])
            hh = act(mx[:, 2 * u:] + r * mh[:, 2 * u:])
        else:
            b = bias if use_bias else np.zeros(3 * u)
            mx = x @ kernel + b
            z = ract(mx[:, :u] + h @ rec[:, :u])
            r = ract(mx[:, u:2 * u] + h @ rec[:, u:2 * u])
            hh = act(mx[:, 2 * u:] + (r * h) @ rec[:, 2 * u:])
        h = z * h + (1.0 - z) * hh
        return h, [h]
    raise ValueError(cls)


def n_states(cls):
    return 2 if cls == "LSTM" else 1


def run_rnn(cls, cfg, w, x, mask, init, go_backwards, zero_output_for_mask=False):
    """Keras backend.rnn: returns (outputs (B,T,U) in processing order, last output, final states)."""
    b, t, _ = x.shape
    u = w[1].shape[0]
    states = [s.copy() for s in init] if init else [np.zeros((b, u)) for _ in range(n_states(cls))]
    steps = range(t - 1, -1, -1) if go_backwards else range(t)
    prev = np.zeros((b, u))
    outs = []
    for k in steps:
        out, new = cell_step(cls, cfg, w, x[:, k, :], states)
        if mask is not None:
            m = mask[:, k:k + 1] > 0.5
            new = [np.where(m, n, s) for n, s in zip(new, states)]
            out = np.where(m, out, 0.0 if zero_output_for_mask else prev)
        states, prev = new, out
        outs.append(out)
    return np.stack(outs, axis=1), prev, states


def rnn_layer(cls, cfg, w, x, mask, init):
    seq, last, states = run_rnn(cls, cfg, w, x, mask, init, cfg.get("go_backwards", False))
    out = seq if cfg.get("return_sequences", False) else last
    return [out] + states if cfg.get("return_state", False) else [out]


def bidirectional_layer(cfg, w, x, mask, init):
    inner = cfg["layer"]
    cls, icfg = inner["class_name"], inner["config"]
    nw = len(w) // 2
    ns = n_states(cls)
    rs = icfg.get("return_sequences", False)
    gb = icfg.get("go_backwards", False)
    fseq, flast, fst = run_rnn(cls, icfg, w[:nw], x, mask, init[:ns] if init else None, gb, rs)
    bseq, blast, bst = run_rnn(cls, icfg, w[nw:], x, mask, init[ns:] if init else None, not gb, rs)
    if rs:
        y, y_rev = fseq, bseq[:, ::-1, :]
    else:
        y, y_rev = flast, blast
    mode = cfg.get("merge_mode", "concat")
    if mode == "concat":
        outs = [np.concatenate([y, y_rev], axis=-1)]
    elif mode == "sum":
        outs = [y + y_rev]
    elif mode == "ave":
        outs = [(y + y_rev) / 2.0]
    elif mode == "mul":
        outs = [y * y_rev]
    elif mode is None:
        outs = [y, y_rev]
    else:
        raise ValueError(mode)
    return outs + fst + bst if icfg.get("return_state", False) else outs


def dense(cfg, w, x):
    y = x @ w[0]
    if cfg.get("use_bias", True):
        y = y + w[1]
    return ACT[cfg.get("activation", "linear")](y)


def size1(v):
    return int(v[0]) if isinstance(v, list) else int(v)


def conv1d(cfg, w, x):
    """Keras Conv1D (channels_last): cross-correlation over time with TensorFlow's padding rules."""
    k, s, d = size1(cfg["kernel_size"]), size1(cfg.get("strides", 1)), size1(cfg.get("dilation_rate", 1))
    b, t, c = x.shape
    span = (k - 1) * d + 1
    padding = cfg.get("padding", "valid")
    if padding == "valid":
        t_out, left = (t - span) // s + 1, 0
    else:
        t_out = -(-t // s)
        left = span - 1 if padding == "causal" else max((t_out - 1) * s + span - t, 0) // 2
    xp = np.zeros((b, left + t + (t_out - 1) * s + span, c), dtype=x.dtype)
    xp[:, left:left + t, :] = x
    y = sum(xp[:, i * d:i * d + (t_out - 1) * s + 1:s, :] @ w[0][i] for i in range(k))
    if cfg.get("use_bias", True):
        y = y + w[1]
    return ACT[cfg.get("activation", "linear")](y)


def pooling1d(cls, cfg, x):
    """Keras MaxPooling1D / AveragePooling1D: windows clipped to the input, padding never counted."""
    p = size1(cfg["pool_size"])
    s = size1(cfg["strides"]) if cfg.get("strides") is not None else p
    t = x.shape[1]
    if cfg.get("padding", "valid") == "valid":
        t_out, left = (t - p) // s + 1, 0
    else:
        t_out = -(-t // s)
        left = max((t_out - 1) * s + p - t, 0) // 2
    reduce = np.max if cls == "MaxPooling1D" else np.mean
    outs = [reduce(x[:, max(i * s - left, 0):min(i * s - left + p, t), :], axis=1) for i in range(t_out)]
    return np.stack(outs, axis=1)


def global_pooling1d(cls, cfg, x, mask):
    if cls == "GlobalMaxPooling1D":
        y = np.max(x, axis=1)
    elif mask is None:
        y = np.mean(x, axis=1)
    else:  # tf.keras: sum(x * mask) / sum(mask) over the steps
        m = mask[:, :, None].astype(x.dtype)
        y = np.sum(x * m, axis=1) / np.sum(m, axis=1)
    return y[:, None, :] if cfg.get("keepdims", False) else y


def run_layer(layer, w, inputs, mask):
    """Returns (outputs list, mask after the layer)."""
    cls, cfg = layer["class_name"], layer["config"]
    x = inputs[0]
    init = inputs[1:] or None
    if cls in ("SimpleRNN", "LSTM", "GRU"):
        outs = rnn_layer(cls, cfg, w, x, mask, init)
        return outs, (mask if cfg.get("return_sequences", False) else None)
    if cls == "Bidirectional":
        outs = bidirectional_layer(cfg, w, x, mask, init)
        return outs, (mask if cfg["layer"]["config"].get("return_sequences", False) else None)
    if cls == "Embedding":
        ids = x.astype(np.int64)
        return [w[0][ids]], ((x != 0).astype(np.float64) if cfg.get("mask_zero", False) else None)
    if cls == "Dense":
        return [dense(cfg, w, x)], mask
    if cls == "TimeDistributed":
        assert cfg["layer"]["class_name"] == "Dense"
        return [dense(cfg["layer"]["config"], w, x)], mask
    if cls == "Activation":
        return [ACT[cfg["activation"]](x)], mask
    if cls in ("Dropout", "SpatialDropout1D", "InputLayer"):
        return [x], mask
    # The weightless shape layers drop the mask (supports_masking is False in tf.keras 2.x and Keras 3).
    if cls == "Flatten":
        if cfg.get("data_format") == "channels_first" and x.ndim > 2:
            x = np.moveaxis(x, 1, -1)
        return [x.reshape(x.shape[0], -1)], None
    if cls == "Reshape":
        # TF.js writes Keras's -1 as null.
        return [x.reshape((x.shape[0],) + tuple(-1 if d is None else d for d in cfg["target_shape"]))], None
    if cls == "Permute":
        return [np.transpose(x, (0,) + tuple(cfg["dims"]))], None
    if cls == "RepeatVector":
        return [np.repeat(x[:, None, :], cfg["n"], axis=1)], None
    if cls == "Masking":
        # keep is a constant of x in Keras (a comparison has no gradient). Compared to 1e-4, not exactly, so that
        # the finite differences' 1e-6 steps never flip it: the inputs are multiples of 0.01.
        keep = np.any(np.abs(x - cfg.get("mask_value", 0.0)) > 1e-4, axis=-1)
        return [x * keep[..., None]], keep.astype(np.float64)
    if cls == "Conv1D":  # no mask support: the mask stops here
        return [conv1d(cfg, w, x)], None
    if cls in ("MaxPooling1D", "AveragePooling1D"):
        return [pooling1d(cls, cfg, x)], None
    if cls in ("GlobalMaxPooling1D", "GlobalAveragePooling1D"):
        return [global_pooling1d(cls, cfg, x, mask)], None
    raise ValueError(cls)


def check_case(case):
    if case["kind"] == "model":
        y, mask = tensor(case["input"]), None
        for layer in case["model"]["config"]["layers"]:
            w = [tensor(t) for t in case["weights"].get(layer["config"]["name"], [])]
            outs, mask = run_layer(layer, w, [y], mask)
            y = outs[0]
        got, want = [y], [tensor(case["output"])]
    else:
        w = [tensor(t) for t in case["weights"]]
        mask = tensor(case["mask"]) if case["mask"] is not None else None
        got, _ = run_layer(case["layer"], w, [tensor(t) for t in case["inputs"]], mask)
        want = [tensor(t) for t in case["outputs"]]
    if len(got) != len(want):
        return float("inf"), f"{len(got)} outputs, fixture has {len(want)}"
    worst = 0.0
    for g, e in zip(got, want):
        if g.shape != e.shape:
            return float("inf"), f"shape {g.shape} vs fixture {e.shape}"
        worst = max(worst, float(np.max(np.abs(g - e))) if g.size else 0.0)
    return worst, None


# --- gradients: central finite differences of the numpy implementation -----------------------------------
GRAD_ABS, GRAD_REL, FD_STEP = 1e-5, 1e-4, 1e-6


def forward(case, params):
    """Outputs of a case as a function of its differentiable parameters (see grad_params)."""
    if case["kind"] == "model":
        y, mask = params["input"], None
        for layer in case["model"]["config"]["layers"]:
            outs, mask = run_layer(layer, params["weights"].get(layer["config"]["name"], []), [y], mask)
            y = outs[0]
        return [y]
    mask = tensor(case["mask"]) if case["mask"] is not None else None
    outs, _ = run_layer(case["layer"], params["weights"], [params["input"]] + params["initial_state"], mask)
    return outs


def grad_params(case):
    """(params, [(label, array, recorded gradient)]): the arrays are the entries of params, perturbed in place."""
    g = case["grads"]
    pairs = []
    if case["kind"] == "model":
        params = {"input": tensor(case["input"]),
                  "weights": {k: [tensor(t) for t in v] for k, v in case["weights"].items()}}
        first = case["model"]["config"]["layers"]
        first = first[1] if first[0]["class_name"] == "InputLayer" else first[0]
        if first["class_name"] == "Embedding":
            if g["input"] is not None:
                raise ValueError("grads.input must be null for token ids")
        else:
            pairs.append(("input", params["input"], g["input"]))
        if sorted(g["weights"]) != sorted(params["weights"]):
            raise ValueError(f"grads.weights layers {sorted(g['weights'])} vs weights {sorted(params['weights'])}")
        for k, ws in params["weights"].items():
            if len(g["weights"][k]) != len(ws):
                raise ValueError(f"grads.weights[{k}]: {len(g['weights'][k])} tensors for {len(ws)} weights")
            pairs += [(f"{k}[{i}]", w, gw) for i, (w, gw) in enumerate(zip(ws, g["weights"][k]))]
    else:
        inputs = [tensor(t) for t in case["inputs"]]
        params = {"input": inputs[0], "weights": [tensor(t) for t in case["weights"]], "initial_state": inputs[1:]}
        pairs.append(("input", params["input"], g["input"]))
        if len(g["weights"]) != len(params["weights"]):
            raise ValueError("grads.weights: wrong number of tensors")
        pairs += [(f"weights[{i}]", w, gw) for i, (w, gw) in enumerate(zip(params["weights"], g["weights"]))]
        if inputs[1:]:
            if len(g.get("initial_state", [])) != len(inputs) - 1:
                raise ValueError("grads.initial_state: wrong number of tensors")
            pairs += [(f"initial_state[{i}]", s, gs) for i, (s, gs) in enumerate(zip(inputs[1:], g["initial_state"]))]
        elif "initial_state" in g:
            raise ValueError("grads.initial_state without initial states")
    return params, pairs


def check_grads(case):
    """Returns (max |recorded - fd|, max |recorded - fd| / (1e-5 + 1e-4 |fd|), problem or None)."""
    if "grads" not in case or "output_grads" not in case:
        return float("inf"), float("inf"), "no gradients"
    params, pairs = grad_params(case)
    ogs = [tensor(t) for t in case["output_grads"]]
    outs = forward(case, params)
    if len(ogs) != len(outs) or any(o.shape != g.shape for o, g in zip(outs, ogs)):
        return float("inf"), float("inf"), "output_grads do not match the outputs"

    def loss():
        return sum(float(np.sum(o * g)) for o, g in zip(forward(case, params), ogs))

    worst_abs = worst_ratio = 0.0
    for label, a, rec in pairs:
        rec = tensor(rec)
        if rec.shape != a.shape:
            return float("inf"), float("inf"), f"grad {label}: shape {rec.shape} vs {a.shape}"
        fd = np.zeros_like(a)
        flat, fdf = a.reshape(-1), fd.reshape(-1)  # views: perturbing flat perturbs params
        for i in range(flat.size):
            v = flat[i]
            flat[i] = v + FD_STEP
            lp = loss()
            flat[i] = v - FD_STEP
            lm = loss()
            flat[i] = v
            fdf[i] = (lp - lm) / (2 * FD_STEP)
        err = np.abs(rec - fd)
        if err.size:
            worst_abs = max(worst_abs, float(err.max()))
            worst_ratio = max(worst_ratio, float((err / (GRAD_ABS + GRAD_REL * np.abs(fd))).max()))
    return worst_abs, worst_ratio, None


def main(paths):
    paths = paths or sorted(glob.glob(os.path.join(HERE, "fixtures", "*.json")))
    failed = 0
    total = 0
    grad_failed = 0
    grad_total = 0
    corrected = []  # (abs, ratio, name) of cases with a Keras correction
    for p in paths:
        with open(p) as f:
            doc = json.load(f)
        worst = 0.0
        gworst_abs = gworst_ratio = 0.0
        for case in doc["cases"]:
            total += 1
            d, why = check_case(case)
            worst = max(worst, d)
            if d > TOL:
                failed += 1
                print(f"MISMATCH {os.path.basename(p)}:{case['name']}: max |diff| {d:.3g} {why or ''}")
            grad_total += 1
            ga, gr, gwhy = check_grads(case)
            gworst_abs, gworst_ratio = max(gworst_abs, ga), max(gworst_ratio, gr)
            if gr > 1.0:
                grad_failed += 1
                print(f"GRAD MISMATCH {os.path.basename(p)}:{case['name']}: max |recorded - fd| {ga:.3g} "
                      f"({gr:.3g} x tolerance) {gwhy or ''}")
            if case["note"] and "constant 0/1" in case["note"]:
                corrected.append((ga, gr, f"{os.path.basename(p)}:{case['name']}", "inside the network" in case["note"]))
        print(f"{os.path.basename(p)}: {len(doc['cases'])} cases, max |numpy - fixture| = {worst:.3g}; "
              f"gradients: max |recorded - fd| = {gworst_abs:.3g}, max error / tolerance = {gworst_ratio:.3g}")
    if corrected:
        print(f"corrected cases (gradients through the 0/1 Keras correction K): {len(corrected)}, "
              f"max |recorded - fd| = {max(c[0] for c in corrected):.3g}, "
              f"max error / tolerance = {max(c[1] for c in corrected):.3g}")
        for ga, gr, name, middle in corrected:
            if middle:  # the correction sits inside the network, e.g. Bidirectional -> TimeDistributed(Dense)
                print(f"  correction inside the network, {name}: max |recorded - fd| = {ga:.3g} ({gr:.3g} x tolerance)")
    print(f"forward: {total - failed} passed, {failed} failed; "
          f"gradients: {grad_total - grad_failed} passed, {grad_failed} failed")
    return 1 if failed or grad_failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
