#!/usr/bin/python3
"""Generates tests/parity/fixtures/activations.json and tests/train_fixtures/activation_fit.json from PyTorch
1.13 (Debian's python3-torch: run with /usr/bin/python3), the oracle for every activation Keras accepts by name
and for keras.layers.Activation.

    /usr/bin/python3 tests/parity/gen_activations.py        (or: bash tests/parity/generate.sh)

Each activation is torch.nn.functional's where torch has it with Keras's parameters (elu alpha 1, leaky_relu
0.2, softshrink 0.5, ...), and otherwise written from Keras 3's definitions (keras/src/backend/numpy/nn.py:
sparse_plus, sparse_sigmoid, squareplus, Keras 2's hard_sigmoid) in torch operations; values and
gradients in float64 (torch.autograd), outputs cast to float32. crosscheck.py re-computes every case with numpy
and checks the gradients with central finite differences.

activations.json (the format of tests/parity/README.md):
  * activation_<name>: layer cases, Activation(<name>) on (2, 3, 8) values (multiples of 0.01 in [-6, 6], kept
    0.02 away from every activation's kinks; exponential's below 2.75) and on a (1, 1, 8) row of large values;
  * dense_<name>: model cases, Dense(3, activation=<name>) on (2, 4);
  * models with Activation layers: Dense + Activation('softmax'); a chain of activations that need their
    inputs to differentiate; LSTM + TimeDistributed(Dense) + Activation('softmax') (a char-RNN's head); the
    mask of Embedding(mask_zero=True) passing through Activation into a SimpleRNN;
  * recurrent layers with row-wise activations: SimpleRNN(softmax), LSTM(softsign, recurrent softmax).

activation_fit.json: two train_on_batch steps of plain SGD on Dense(4) + Activation('softmax') under
categorical cross-entropy and Dense(1) + Activation('sigmoid') under binary cross-entropy, the loss from the
logits as tf.keras computes it for a softmax or sigmoid output (_keras_logits); one sample's true class gets
a probability below Keras's clipping epsilon 1e-7, where a loss from the clipped probabilities would differ.
"""
import json
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from gen_torch import Rand, tj, f32, rnn_config, dense_config, embedding_config, sequential_config  # noqa: E402

GENERATOR = "gen_activations.py"
ORACLE = f"torch {torch.__version__} (float64, outputs cast to float32)"
torch.set_default_dtype(torch.float64)
torch.set_num_threads(1)


def sparse_plus(x):
    return torch.where(x <= -1, torch.zeros_like(x), torch.where(x < 1, 0.25 * (x + 1) ** 2, x))


def sparse_sigmoid(x):
    return torch.where(x <= -1, torch.zeros_like(x), torch.where(x >= 1, torch.ones_like(x), 0.5 * (x + 1)))


ACTIVATIONS = {
    "linear": lambda x: x,
    "tanh": torch.tanh,
    "sigmoid": torch.sigmoid,
    "hard_sigmoid": lambda x: torch.clamp(0.2 * x + 0.5, 0.0, 1.0),  # Keras 1/2
    "hard_sigmoid_keras3": F.hardsigmoid,  # relu6(x + 3) / 6 = clip(x/6 + 0.5)
    "relu": F.relu,
    "softmax": lambda x: F.softmax(x, dim=-1),
    "elu": F.elu,
    "selu": F.selu,
    "celu": F.celu,
    "softplus": lambda x: F.softplus(x, threshold=1000.0),
    "softsign": F.softsign,
    "exponential": torch.exp,
    "leaky_relu": lambda x: F.leaky_relu(x, 0.2),
    "relu6": F.relu6,
    "gelu": lambda x: F.gelu(x, approximate="none"),
    "gelu_approximate": lambda x: F.gelu(x, approximate="tanh"),
    "swish": F.silu,
    "silu": F.silu,
    "hard_silu": F.hardswish,  # x · relu6(x + 3) / 6
    "hard_swish": F.hardswish,
    "mish": F.mish,
    "log_softmax": lambda x: F.log_softmax(x, dim=-1),
    "log_sigmoid": F.logsigmoid,
    "hard_tanh": F.hardtanh,
    "tanh_shrink": F.tanhshrink,
    "soft_shrink": lambda x: F.softshrink(x, 0.5),
    "hard_shrink": lambda x: F.hardshrink(x, 0.5),
    "sparse_plus": sparse_plus,
    "sparse_sigmoid": sparse_sigmoid,
    "squareplus": lambda x: 0.5 * (x + torch.sqrt(x * x + 4.0)),
}
# Where an activation's derivative jumps or its pieces meet: inputs stay 0.02 away from these.
KINKS = [0.0, 0.5, -0.5, 1.0, -1.0, 2.5, -2.5, 3.0, -3.0, 6.0]


def away_from_kinks(a):
    a = a.copy()
    for i, v in np.ndenumerate(a):
        while any(abs(float(v) - k) < 0.02 for k in KINKS):
            v = np.float32(v + 0.03)
        a[i] = v
    return a


def t(a):
    return torch.tensor(np.asarray(a, dtype=np.float32).astype(np.float64), requires_grad=True)


def activation_layer(name, activation):
    return {"class_name": "Activation",
            "config": {"name": name, "trainable": True, "dtype": "float32", "activation": activation}}


def layer_case(name, layer, x, fn, input_shape, note=None):
    xt = t(x)
    y = fn(xt)
    g = Rand(f"activations/{name}/output_grads").array(list(y.shape), -0.99, 0.99)
    (dx,) = torch.autograd.grad((y * torch.tensor(g.astype(np.float64))).sum(), [xt])
    return {"kind": "layer", "name": name, "note": note, "layer": layer, "input_shape": input_shape, "weights": [],
            "inputs": [tj(x)], "mask": None, "outputs": [tj(y.detach().numpy())], "output_grads": [tj(g)],
            "grads": {"input": tj(dx.numpy()), "weights": []}}


def model_case(name, layers, batch_input_shape, weights, x, fn, note=None, input_is_ids=False):
    """fn(input tensor, {layer: [weight tensors]}) -> output; weights: {layer: [numpy arrays]} in Keras order."""
    wt = {k: [t(a) for a in v] for k, v in weights.items()}
    xt = torch.tensor(x.astype(np.float64)) if input_is_ids else t(x)
    y = fn(xt, wt)
    g = Rand(f"activations/{name}/output_grads").array(list(y.shape), -0.99, 0.99)
    loss = (y * torch.tensor(g.astype(np.float64))).sum()
    flat = [p for k in weights for p in wt[k]]
    grads = torch.autograd.grad(loss, ([] if input_is_ids else [xt]) + flat)
    dx = None if input_is_ids else tj(grads[0].numpy())
    rest = list(grads[0 if input_is_ids else 1:])
    gw = {}
    for k in weights:
        gw[k] = [tj(rest.pop(0).numpy()) for _ in weights[k]]
    return {"kind": "model", "name": name, "note": note, "model": sequential_config(layers, batch_input_shape),
            "weights": {k: [tj(a) for a in v] for k, v in weights.items()}, "input": tj(x),
            "output": tj(y.detach().numpy()), "output_grads": [tj(g)], "grads": {"input": dx, "weights": gw}}


# Keras's cells in torch operations (gate orders i, f, c, o and the SimpleRNN step), for autograd.
def simple_rnn(x, w, act, return_sequences=False, mask=None):
    kernel, rec, bias = w
    h = torch.zeros(x.shape[0], rec.shape[0])
    outs = []
    for s in range(x.shape[1]):
        new = act(x[:, s] @ kernel + h @ rec + bias)
        if mask is not None:
            keep = mask[:, s:s + 1]
            new = keep * new + (1 - keep) * h
        h = new
        outs.append(h)
    return torch.stack(outs, 1) if return_sequences else h


def lstm(x, w, act, ract, return_sequences=False):
    kernel, rec, bias = w
    u = rec.shape[0]
    h = torch.zeros(x.shape[0], u)
    c = torch.zeros(x.shape[0], u)
    outs = []
    for s in range(x.shape[1]):
        z = x[:, s] @ kernel + h @ rec + bias
        i, f, g, o = ract(z[:, :u]), ract(z[:, u:2 * u]), act(z[:, 2 * u:3 * u]), ract(z[:, 3 * u:])
        c = f * c + i * g
        h = o * act(c)
        outs.append(h)
    return torch.stack(outs, 1) if return_sequences else h


def activation_cases():
    cases = []
    for name, fn in ACTIVATIONS.items():
        # exponential's values stay small enough for the fixtures' absolute tolerance of 1e-5.
        top = 2.5 if name == "exponential" else 6.0
        x = away_from_kinks(Rand(f"activations/{name}/x").array([2, 3, 8], -6.0, top))
        note = None
        if name == "gelu_approximate":
            note = "rnnkit's name for gelu(x, approximate=True), which no Keras config can name"
        if name == "hard_sigmoid_keras3":
            note = "rnnkit's name for Keras 3's hard_sigmoid, which a Keras 3 config calls 'hard_sigmoid'"
        cases.append(layer_case(f"activation_{name}", activation_layer("activation", name), x, fn,
                                [None, 3, 8], note))
        big = np.array([[[-25.0, -12.5, -7.75, -4.25, 4.75, 7.25, 12.5, 25.0]]], dtype=np.float32)
        if name == "exponential":
            big[0, 0, 4:] = [0.75, 1.25, 2.25, 2.75]
        cases.append(layer_case(f"activation_{name}_large", activation_layer("activation", name), big, fn,
                                [None, 1, 8], note))
    for name, fn in ACTIVATIONS.items():
        r = Rand(f"activations/dense_{name}/weights")
        kernel, bias = r.array([4, 3]), r.array([3], -0.5, 0.5)
        x = Rand(f"activations/dense_{name}/x").array([2, 4], -2.0, 2.0)
        cases.append(model_case(f"dense_{name}", [dense_config("dense", 3, name)], [None, 4],
                                {"dense": [kernel, bias]}, x,
                                lambda xt, w, fn=fn: fn(xt @ w["dense"][0] + w["dense"][1])))
    return cases


def model_cases():
    cases = []
    r = Rand("activations/models/weights")

    k, b = r.array([3, 5]), r.array([5], -0.5, 0.5)
    x = Rand("activations/dense_softmax/x").array([4, 3], -2.0, 2.0)
    cases.append(model_case(
        "dense_linear_activation_softmax",
        [dense_config("dense", 5, "linear"), activation_layer("activation", "softmax")], [None, 3],
        {"dense": [k, b]}, x, lambda xt, w: F.softmax(xt @ w["dense"][0] + w["dense"][1], dim=-1)))

    w1 = [r.array([4, 6]), r.array([6], -0.5, 0.5)]
    w2 = [r.array([6, 5]), r.array([5], -0.5, 0.5)]
    w3 = [r.array([5, 4]), r.array([4], -0.5, 0.5)]
    x = Rand("activations/chain/x").array([3, 4], -2.0, 2.0)

    def chain(xt, w):
        h = F.gelu(xt @ w["dense"][0] + w["dense"][1])
        h = F.elu(F.silu(h @ w["dense_1"][0] + w["dense_1"][1]))
        return F.log_softmax(F.mish(h @ w["dense_2"][0] + w["dense_2"][1]), dim=-1)

    cases.append(model_case(
        "activation_chain",
        [dense_config("dense", 6, "linear"), activation_layer("activation", "gelu"),
         dense_config("dense_1", 5, "swish"), activation_layer("activation_1", "elu"),
         dense_config("dense_2", 4, "mish"), activation_layer("activation_2", "log_softmax")], [None, 4],
        {"dense": w1, "dense_1": w2, "dense_2": w3}, x, chain))

    wl = [r.array([2, 16]), r.array([4, 16]), r.array([16], -0.5, 0.5)]
    wd = [r.array([4, 3]), r.array([3], -0.5, 0.5)]
    x = Rand("activations/char_rnn/x").array([2, 3, 2], -1.0, 1.0)
    td = {"class_name": "TimeDistributed", "config": {"name": "time_distributed", "trainable": True,
                                                      "dtype": "float32", "layer": dense_config("dense", 3, "linear")}}
    cases.append(model_case(
        "lstm_seq_time_distributed_dense_activation_softmax",
        [rnn_config("LSTM", "lstm", 4, return_sequences=True), td, activation_layer("activation", "softmax")],
        [None, 3, 2], {"lstm": wl, "time_distributed": wd}, x,
        lambda xt, w: F.softmax(lstm(xt, w["lstm"], torch.tanh, torch.sigmoid, True) @ w["time_distributed"][0]
                                + w["time_distributed"][1], dim=-1)))

    emb = r.array([8, 2])
    ws = [r.array([2, 3]), r.array([3, 3]), r.array([3], -0.5, 0.5)]
    ids = np.array([[3, 5, 0, 0], [0, 7, 2, 6]], dtype=np.float32)
    mask = torch.tensor((ids != 0).astype(np.float64))

    def masked(xt, w):
        e = w["embedding"][0][xt.long()]
        return simple_rnn(torch.tanh(e), w["simple_rnn"], torch.tanh, mask=mask)

    cases.append(model_case(
        "embedding_mask_zero_activation_tanh_simple_rnn",
        [embedding_config("embedding", 8, 2, 4, mask_zero=True), activation_layer("activation", "tanh"),
         rnn_config("SimpleRNN", "simple_rnn", 3)], [None, 4], {"embedding": [emb], "simple_rnn": ws}, ids, masked,
        note="the mask of Embedding(mask_zero=True) passes through the Activation layer to the SimpleRNN",
        input_is_ids=True))
    return cases


def recurrent_cases():
    cases = []
    r = Rand("activations/recurrent/weights")
    ws = [r.array([2, 3]), r.array([3, 3]), r.array([3], -0.5, 0.5)]
    x = Rand("activations/recurrent/x").array([2, 3, 2], -1.5, 1.5)
    cases.append(model_case(
        "simple_rnn_softmax", [rnn_config("SimpleRNN", "simple_rnn", 3, return_sequences=True, activation="softmax")],
        [None, 3, 2], {"simple_rnn": ws}, x,
        lambda xt, w: simple_rnn(xt, w["simple_rnn"], lambda v: F.softmax(v, dim=-1), True),
        note="softmax over each sample's units"))
    wl = [r.array([2, 12]), r.array([3, 12]), r.array([12], -0.5, 0.5)]
    cases.append(model_case(
        "lstm_softsign_recurrent_softmax",
        [rnn_config("LSTM", "lstm", 3, activation="softsign", recurrent_activation="softmax")],
        [None, 3, 2], {"lstm": wl}, x,
        lambda xt, w: lstm(xt, w["lstm"], F.softsign, lambda v: F.softmax(v, dim=-1)),
        note="softmax over each gate of each sample"))
    return cases


def fit_cases():
    """SGD steps from the logits of a softmax or sigmoid Activation head, as tf.keras's cross-entropy takes them."""
    cases = []
    for head, units, loss_name in (("softmax", 4, "categorical_crossentropy"), ("sigmoid", 1, "binary_crossentropy")):
        r = Rand(f"activations/fit_{head}")
        kernel, bias = r.array([3, units]), r.array([units], -0.5, 0.5)
        x = r.array([6, 3], -1.0, 1.0)
        # Sample 0 grows along the direction that favours class 0 over the last class until the last class,
        # its true class, gets a probability below 1e-7 (for sigmoid: class 1 over 0).
        direction = np.sign(kernel[:, 0] - kernel[:, -1]) if head == "softmax" else np.sign(kernel[:, 0])
        scale_ = 4.0
        while True:
            x[0] = np.round(scale_ * direction, 2).astype(np.float32)
            logits0 = x.astype(np.float64) @ kernel + bias
            if head == "softmax":
                p = np.exp(logits0[0] - logits0[0].max())
                p_true = (p / p.sum())[units - 1]
            else:
                p_true = 1 - 1 / (1 + np.exp(-logits0[0, 0]))
            if p_true < 1e-7:
                break
            scale_ *= 1.25
        if head == "softmax":
            y = np.eye(units, dtype=np.float32)[[units - 1] + [int(c) for c in r.ints([5], 0, units).ravel()]]
        else:
            y = r.ints([6, 1], 0, 2)
            y[0, 0] = 0.0
        assert p_true < 1e-7, p_true
        k, b = t(kernel), t(bias)
        lr = 0.5
        losses = []
        for _ in range(2):
            z = torch.tensor(x.astype(np.float64)) @ k + b
            if head == "softmax":
                loss = -(torch.tensor(y.astype(np.float64)) * F.log_softmax(z, dim=-1)).sum(-1).mean()
            else:
                loss = F.binary_cross_entropy_with_logits(z, torch.tensor(y.astype(np.float64)))
            gk, gb = torch.autograd.grad(loss, [k, b])
            losses.append(f32(loss.item()))
            with torch.no_grad():
                k = (k - lr * gk).requires_grad_(True)
                b = (b - lr * gb).requires_grad_(True)
        z = torch.tensor(x.astype(np.float64)) @ k + b
        if head == "softmax":
            final_loss = -(torch.tensor(y.astype(np.float64)) * F.log_softmax(z, dim=-1)).sum(-1).mean()
        else:
            final_loss = F.binary_cross_entropy_with_logits(z, torch.tensor(y.astype(np.float64)))
        layers = [dense_config("dense", units, "linear"), activation_layer("activation", head)]
        cases.append({"name": f"dense_linear_activation_{head}", "loss": loss_name, "learning_rate": lr,
                      "model": sequential_config(layers, [None, 3]), "weights": {"dense": [tj(kernel), tj(bias)]},
                      "x": tj(x), "y": tj(y), "losses": losses, "final_loss": f32(final_loss.item()),
                      "final_weights": {"dense": [tj(k.detach().numpy()), tj(b.detach().numpy())]}})
    return cases


def write(path, cases, head):
    names = [c["name"] for c in cases]
    assert len(set(names)) == len(names), "duplicate case names"
    text = head + ",\n".join(json.dumps(c, separators=(",", ":"), allow_nan=False) for c in cases) + "\n]}\n"
    with open(path, "w") as f:
        f.write(text)
    print(f"{os.path.relpath(path, HERE)}: {len(cases)} cases, {len(text)} bytes")


def main():
    head = f'{{"generator": {json.dumps(GENERATOR)}, "oracle": {json.dumps(ORACLE)}, "cases": [\n'
    write(os.path.join(HERE, "fixtures", "activations.json"), activation_cases() + model_cases() + recurrent_cases(),
          head)
    write(os.path.join(os.path.dirname(HERE), "train_fixtures", "activation_fit.json"), fit_cases(), head)


if __name__ == "__main__":
    sys.exit(main())
