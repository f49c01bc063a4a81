#!/usr/bin/python3
"""Second opinion on fixtures/functional/functional_*.json (made by gen_functional.mjs from TF.js): rebuilds every model in
PyTorch (float64) from the recorded weights and Keras configs' sizes, and compares outputs, loss values, loss
gradients (every weight, every float input) and fit() histories and final weights. Fails above the tolerance.
The PyTorch gradients are themselves checked against central finite differences of the same float64 model.

    /usr/bin/python3 tests/parity/gen_functional_torch.py      (Debian's python3-torch; writes nothing)

Layouts: torch.nn.LSTM's gate order i, f, g, o is Keras's i, f, c, o; its weights are Keras's transposed, and it
has two biases: Keras's bias goes in bias_ih with bias_hh zero, so Keras's bias gradient is bias_ih's. nn.RNN
likewise. torch has no GRU with reset_after=False (nn.GRU is the reset_after=True form), nor masks: those are
written here from the Keras equations with torch ops (autograd still gives the gradients). nn.LSTM/nn.RNN are
called through their kernel (torch._VF.lstm / rnn_tanh, what their forward calls) with the Keras tensors, so that
autograd reaches them; check_vf_matches_modules shows that equals the modules with the weights loaded. Crossentropy is taken
from the logits (log_softmax, log-sigmoid), as tf.keras 2.x does; TF.js takes it from clipped probabilities.
"""
import json
import math
import os
import sys

import numpy as np
import torch

torch.set_default_dtype(torch.float64)
HERE = os.path.dirname(os.path.abspath(__file__))
TOL = 1e-5  # |torch - fixture| <= TOL + TOL * |fixture|; the fixture is float32 from TF.js


def t(x):
    """A fixture tensor as float64, read as the float32 it stands for."""
    return torch.tensor(np.asarray(x["data"], dtype=np.float32).astype(np.float64).reshape(x["shape"]))


def layer_config(model, name):
    for layer in model["config"]["layers"]:
        if layer["name"] == name:
            return layer
    raise KeyError(name)


class Params:
    """Keras weights of a case as float64 leaves with requires_grad, keyed like the fixture."""

    def __init__(self, weights):
        self.w = {k: [t(x).requires_grad_() for x in ws] for k, ws in weights.items()}

    def __getitem__(self, name):
        return self.w[name]

    def leaves(self):
        return [p for ws in self.w.values() for p in ws]


# ---------------------------------------------------------------------------------------------------------
# Recurrent layers. Each returns (sequence of outputs (B,T,U), final states [h] or [h, c]).
def lstm_torch(x, w, state=None):
    kernel, rec, bias = w
    B, U = x.shape[0], rec.shape[0]
    # nn.LSTM's own kernel (what its forward calls), handed the Keras tensors themselves so that autograd reaches
    # them: functional_call cannot swap nn.LSTM's weights (it caches them in _flat_weights).
    flat = [kernel.T, rec.T, bias, torch.zeros(4 * U)]
    hx = (torch.zeros(1, B, U), torch.zeros(1, B, U)) if state is None else (state[0][None], state[1][None])
    seq, h, c = torch._VF.lstm(x, hx, flat, True, 1, 0.0, False, False, True)
    return seq, [h[0], c[0]]


def simple_rnn_torch(x, w, state=None):
    kernel, rec, bias = w
    B, U = x.shape[0], rec.shape[0]
    flat = [kernel.T, rec.T, bias, torch.zeros(U)]  # nn.RNN(nonlinearity="tanh")'s kernel, as above
    hx = torch.zeros(1, B, U) if state is None else state[0][None]
    seq, h = torch._VF.rnn_tanh(x, hx, flat, True, 1, 0.0, False, False, True)
    return seq, [h[0]]


def check_vf_matches_modules():
    """The _VF calls above are exactly nn.LSTM / nn.RNN with the Keras weights loaded the usual way."""
    torch.manual_seed(0)
    F, U, x = 3, 4, torch.randn(2, 5, 3)
    w = [torch.randn(F, 4 * U), torch.randn(U, 4 * U), torch.randn(4 * U)]
    mod = torch.nn.LSTM(F, U, batch_first=True)
    with torch.no_grad():
        mod.weight_ih_l0.copy_(w[0].T), mod.weight_hh_l0.copy_(w[1].T), mod.bias_ih_l0.copy_(w[2])
        mod.bias_hh_l0.zero_()
    assert torch.allclose(mod(x)[0], lstm_torch(x, w)[0], atol=1e-12)
    w = [torch.randn(F, U), torch.randn(U, U), torch.randn(U)]
    mod = torch.nn.RNN(F, U, nonlinearity="tanh", batch_first=True)
    with torch.no_grad():
        mod.weight_ih_l0.copy_(w[0].T), mod.weight_hh_l0.copy_(w[1].T), mod.bias_ih_l0.copy_(w[2])
        mod.bias_hh_l0.zero_()
    assert torch.allclose(mod(x)[0], simple_rnn_torch(x, w)[0], atol=1e-12)


def gru_reset_before(x, w, state=None):
    """Keras GRU reset_after=False: gates z, r, h in the kernel's columns; the reset gate scales h before U_h."""
    kernel, rec, bias = w
    B, T, _ = x.shape
    U = rec.shape[0]
    h = torch.zeros(B, U) if state is None else state[0]
    outs = []
    for s in range(T):
        xs = x[:, s] @ kernel + bias
        z = torch.sigmoid(xs[:, :U] + h @ rec[:, :U])
        r = torch.sigmoid(xs[:, U:2 * U] + h @ rec[:, U:2 * U])
        hh = torch.tanh(xs[:, 2 * U:] + (r * h) @ rec[:, 2 * U:])
        h = z * h + (1 - z) * hh
        outs.append(h)
    return torch.stack(outs, 1), [h]


def lstm_masked(x, w, mask, state=None):
    """Keras LSTM under a mask (no leading masked steps here): a masked step keeps the states and repeats the
    previous output. The cell equations are Keras's, written out."""
    kernel, rec, bias = w
    B, T, _ = x.shape
    U = rec.shape[0]
    h, c = (torch.zeros(B, U), torch.zeros(B, U)) if state is None else state
    outs = []
    for s in range(T):
        g = x[:, s] @ kernel + h @ rec + bias
        i, f = torch.sigmoid(g[:, :U]), torch.sigmoid(g[:, U:2 * U])
        c_new = f * c + i * torch.tanh(g[:, 2 * U:3 * U])
        h_new = torch.sigmoid(g[:, 3 * U:]) * torch.tanh(c_new)
        m = mask[:, s:s + 1]
        h, c = torch.where(m, h_new, h), torch.where(m, c_new, c)
        outs.append(h)
    return torch.stack(outs, 1), [h, c]


RNN = {"LSTM": lstm_torch, "SimpleRNN": simple_rnn_torch, "GRU": gru_reset_before}


# ---------------------------------------------------------------------------------------------------------
# Keras losses (mean over every sample and time step), from logits where Keras uses them.
def cce_from_logits(target, logits):
    return -(target * torch.log_softmax(logits, -1)).sum(-1).mean()


def bce_from_logits(target, logits):
    return (torch.relu(logits) - logits * target + torch.log1p(torch.exp(-logits.abs()))).mean()


def mse(target, pred):
    return ((pred - target) ** 2).mean()


# Each model: forward(params, inputs) -> (outputs, [loss term per output]) given targets.
def seq2seq(case):
    cls = layer_config(case["model"], "encoder")["class_name"]
    if cls == "GRU":
        assert layer_config(case["model"], "encoder")["config"]["reset_after"] is False

    def forward(p, inputs, targets):
        enc_x, dec_x = inputs
        _, states = RNN[cls](enc_x, p["encoder"])
        seq, _ = RNN[cls](dec_x, p["decoder"], states)
        logits = seq @ p["decoder_dense"][0] + p["decoder_dense"][1]
        return [torch.softmax(logits, -1)], [cce_from_logits(targets[0], logits)]
    return forward


def shared(case):
    def forward(p, inputs, targets):
        (_, (h1, _)), (_, (h2, _)) = lstm_torch(inputs[0], p["shared_lstm"]), lstm_torch(inputs[1], p["shared_lstm"])
        out_a = h1 @ p["dense_a"][0] + p["dense_a"][1]
        logits_b = h2 @ p["dense_b"][0] + p["dense_b"][1]
        return [out_a, torch.softmax(logits_b, -1)], [mse(targets[0], out_a), cce_from_logits(targets[1], logits_b)]
    return forward


def masked(case):
    with_states = len(layer_config(case["model"], "lstm_last")["inbound_nodes"][0]) == 3

    def forward(p, inputs, targets):
        ids = inputs[0].long()
        mask = ids != 0
        e = p["embedding"][0][ids]
        seq, states = lstm_masked(e, p["lstm_seq"], mask)
        _, (h, _) = lstm_masked(seq, p["lstm_last"], mask, states if with_states else None)
        logits = h @ p["dense"][0] + p["dense"][1]
        return [torch.sigmoid(logits)], [bce_from_logits(targets[0], logits)]
    return forward


def model_for(case):
    name = case["model"]["config"]["name"]
    if name.startswith("seq2seq"):
        return seq2seq(case)
    if name.startswith("shared"):
        return shared(case)
    if name.startswith("masked"):
        return masked(case)
    raise KeyError(name)


# ---------------------------------------------------------------------------------------------------------
worst = {}
fd_worst = {}


def compare(what, got, want, file):
    got = got.detach()
    want = t(want) if isinstance(want, dict) else torch.tensor(float(want))
    assert got.shape == want.shape, f"{what}: shape {tuple(got.shape)} vs {tuple(want.shape)}"
    diff = (got - want).abs()
    bad = diff > TOL + TOL * want.abs()
    if bad.any():
        sys.exit(f"FAIL {what}: max |torch - fixture| = {diff.max().item():.3g}")
    worst[file] = max(worst.get(file, 0.0), diff.max().item())


def check_functional(file, case):
    forward = model_for(case)
    p = Params(case["weights"])
    inputs = [t(x) for x in case["inputs"]]
    for x, g in zip(inputs, case["grads"]["inputs"]):
        if g is not None:
            x.requires_grad_()
    targets = [t(y) for y in case["loss"]["targets"]]
    outputs, terms = forward(p, inputs, targets)
    loss = sum(term["weight"] * v for term, v in zip(case["loss"]["terms"], terms))
    n = case["name"]
    for k, (o, want) in enumerate(zip(outputs, case["outputs"])):
        compare(f"{n} output {k}", o, want, file)
    for k, v in enumerate(terms):
        compare(f"{n} loss term {k}", v, case["loss"]["term_values"][k], file)
    compare(f"{n} loss", loss, case["loss"]["value"], file)
    float_inputs = [x for x in inputs if x.requires_grad]
    grads = torch.autograd.grad(loss, float_inputs + p.leaves())
    want = [g for g in case["grads"]["inputs"] if g is not None] + \
        [g for layer in case["weights"] for g in case["grads"]["weights"][layer]]
    labels = [f"input {k}" for k, g in enumerate(case["grads"]["inputs"]) if g is not None] + \
        [f"{layer}/{w}" for layer in case["weights"] for w in case["weight_names"][layer]]
    assert len(grads) == len(want) == len(labels), f"{n}: {len(grads)} gradients, {len(want)} recorded"
    for g, w, label in zip(grads, want, labels):
        compare(f"{n} grad {label}", g, w, file)

    # And this model's own gradients against central finite differences (float64, h = 1e-6), element by element.
    def loss_value():
        _, ts = forward(p, inputs, targets)
        return sum(term["weight"] * v for term, v in zip(case["loss"]["terms"], ts)).item()
    h = 1e-6
    with torch.no_grad():
        for leaf, g, label in zip(float_inputs + p.leaves(), grads, labels):
            flat = leaf.view(-1)
            for i in range(flat.numel()):
                keep = flat[i].item()
                flat[i] = keep + h
                up = loss_value()
                flat[i] = keep - h
                down = loss_value()
                flat[i] = keep
                fd = (up - down) / (2 * h)
                err = abs(g.reshape(-1)[i].item() - fd)
                if err > 1e-7 + 1e-6 * abs(fd):
                    sys.exit(f"FAIL {n} {label}[{i}]: torch gradient {g.reshape(-1)[i].item()} vs finite difference {fd}")
                fd_worst[file] = max(fd_worst.get(file, 0.0), err)


def check_fit(file, case):
    forward = model_for(case)
    p = Params(case["weights"])
    inputs = [t(x) for x in case["inputs"]]
    targets = [t(y) for y in case["targets"]]
    weights = case["compile"]["loss_weights"]
    opt = case["compile"]["optimizer"]
    B, bs = inputs[0].shape[0], case["fit"]["batch_size"]
    leaves = p.leaves()
    m = [torch.zeros_like(w) for w in leaves]
    v = [torch.zeros_like(w) for w in leaves]
    step = 0
    history = {k: [] for k in case["history"]}
    batch_losses = {k: [] for k in case["history"]}
    for _ in range(case["fit"]["epochs"]):
        sums = {k: 0.0 for k in history}
        for k in batch_losses:
            batch_losses[k].append([])
        for start in range(0, B, bs):
            sl = slice(start, min(start + bs, B))
            _, terms = forward(p, [x[sl] for x in inputs], [y[sl] for y in targets])
            loss = sum(w * term for w, term in zip(weights, terms))
            logs = {"loss": loss.item()}
            if len(terms) > 1:
                logs.update({f"{o}_loss": term.item() for o, term in zip(case["output_names"], terms)})
            for k in sums:
                sums[k] += logs[k] * (sl.stop - sl.start)
                batch_losses[k][-1].append(logs[k])
            grads = torch.autograd.grad(loss, leaves)
            step += 1
            with torch.no_grad():
                for i, (w, g) in enumerate(zip(leaves, grads)):
                    c = opt["config"]
                    if opt["class_name"] == "SGD":
                        w -= c["learning_rate"] * g
                    else:  # Keras Adam: epsilon added to sqrt(v), v not bias-corrected
                        m[i] = c["beta_1"] * m[i] + (1 - c["beta_1"]) * g
                        v[i] = c["beta_2"] * v[i] + (1 - c["beta_2"]) * g * g
                        alpha = c["learning_rate"] * math.sqrt(1 - c["beta_2"] ** step) / (1 - c["beta_1"] ** step)
                        w -= alpha * m[i] / (v[i].sqrt() + c["epsilon"])
        for k in history:
            history[k].append(sums[k] / B)
    n = case["name"]
    assert sorted(history) == sorted(case["history"]) == sorted(case["batch_losses"]), n
    for k in history:
        for e, (got, want) in enumerate(zip(history[k], case["history"][k])):
            compare(f"{n} history {k}[{e}]", torch.tensor(got), want, file)
        assert [len(b) for b in batch_losses[k]] == [len(b) for b in case["batch_losses"][k]], n
        for e, (got_e, want_e) in enumerate(zip(batch_losses[k], case["batch_losses"][k])):
            for b, (got, want) in enumerate(zip(got_e, want_e)):
                compare(f"{n} batch {e}.{b} {k}", torch.tensor(got), want, file)
    for layer, ws in case["final_weights"].items():
        for w, want, wn in zip(p[layer], ws, case["weight_names"][layer]):
            compare(f"{n} final {layer}/{wn}", w, want, file)


def main():
    check_vf_matches_modules()
    for file in ["functional_seq2seq", "functional_shared", "functional_masking", "functional_fit"]:
        with open(os.path.join(HERE, "fixtures", "functional", f"{file}.json")) as fh:
            cases = json.load(fh)["cases"]
        for case in cases:
            (check_fit if case["kind"] == "fit" else check_functional)(file, case)
        fd = f"; torch gradients vs finite differences: max error {fd_worst[file]:.2g}" if file in fd_worst else ""
        print(f"{file}.json: {len(cases)} cases agree with PyTorch, max |torch - fixture| = {worst[file]:.2g}{fd}")


if __name__ == "__main__":
    main()
