#!/usr/bin/python3
"""Writes fixtures/layers/attention.json (a folder of its own: parity_test and crosscheck.py read fixtures/*.json,
in their format): Keras's Attention and AdditiveAttention layers, computed in PyTorch (float64, autograd) from the
equations of tf.keras 2.x's BaseDenseAttention / Attention / AdditiveAttention and Keras 3's (which agree on
everything here):

    scores  dot:      scale * q·k                              (scale 1 without use_scale)
            concat:   concat_score_weight * Σ_d tanh(scale * (q_d + k_d))
            additive: Σ_d scale_d * tanh(q_d + k_d)            (scale_d 1 without use_scale)
    masked key steps (value mask 0, or j > i under use_causal_mask): score - 1e9, in float32
    weights = softmax(scores) over the key steps; output = weights · value; output *= query mask

The key is the value when the list has two tensors. Keras subtracts 1e9 in float32, where it swamps the score
(a fully masked row becomes uniform weights): the masked score is rounded to float32 here too, with the
gradient passed straight through as Keras's autodiff does. Gradients of the loss L = Σ_k Σ output_k ⊙ g_k
(g_k: output_grads) with respect to every input and weight come from autograd, themselves checked against
torch.autograd.gradcheck.

    /usr/bin/python3 tests/parity/gen_attention_torch.py

Case format (one per line): {"name", "note", "layer": {"class_name", "config"} (tf.keras 2.11 dialect), "call":
{"use_causal_mask", "return_attention_scores"} (Keras's call arguments), "weights": [TENSOR per weight, Keras's
order], "inputs": [query, value(, key)], "masks": [query mask or null, value mask or null], "outputs",
"output_grads", "grads": {"inputs": [...], "weights": [...]}}.
"""
import json
import os

import numpy as np
import torch

from gen_torch import Rand, tj

torch.set_default_dtype(torch.float64)
HERE = os.path.dirname(os.path.abspath(__file__))
ORACLE = f"torch {torch.__version__} (float64, outputs cast to float32)"


def masked_scores(scores, keep):
    """scores - 1e9 where keep is 0, rounded to float32 as Keras computes it; d/d(scores) = 1."""
    shifted = scores - 1.0e9 * (1.0 - keep)
    rounded = shifted.detach().float().double()
    return torch.where(keep > 0, scores, shifted + (rounded - shifted).detach())


def attention(kind, q, v, k, weights, q_mask, v_mask, causal):
    if k is None:
        k = v
    if kind == "dot":
        scale = weights["scale"] if "scale" in weights else 1.0
        scores = scale * torch.einsum("bid,bjd->bij", q, k)
    elif kind == "concat":
        scale = weights["scale"] if "scale" in weights else 1.0
        scores = weights["concat_score_weight"] * torch.tanh(scale * (q[:, :, None, :] + k[:, None, :, :])).sum(-1)
    else:  # additive
        scale = weights["scale"] if "scale" in weights else torch.ones(q.shape[-1])
        scores = (scale * torch.tanh(q[:, :, None, :] + k[:, None, :, :])).sum(-1)
    B, Tq, Tv = scores.shape
    keep = torch.ones(B, Tq, Tv)
    if v_mask is not None:
        keep = keep * v_mask[:, None, :]
    if causal:
        keep = keep * torch.tril(torch.ones(Tq, Tv))
    if v_mask is not None or causal:
        scores = masked_scores(scores, keep)
    w = torch.softmax(scores, dim=-1)
    out = torch.einsum("bij,bjd->bid", w, v)
    if q_mask is not None:
        out = out * q_mask[:, :, None]
    return out, w


def layer_config(kind, name, use_scale, dropout=0.0):
    config = {"name": name, "trainable": True, "dtype": "float32", "use_scale": use_scale, "dropout": dropout}
    if kind == "additive":
        return {"class_name": "AdditiveAttention", "config": config}
    config["score_mode"] = kind
    return {"class_name": "Attention", "config": config}


def case(name, kind, *, B=2, Tq=3, Tv=4, D=3, Dv=None, key=False, use_scale=False, q_mask=None, v_mask=None,
         causal=False, scores=False, note=None):
    rand = Rand(f"attention/{name}")
    Dv = Dv or D
    q = rand.array((B, Tq, D))
    v = rand.array((B, Tv, Dv))
    k = rand.array((B, Tv, D)) if key else None
    weights = {}
    if use_scale:
        weights["scale"] = rand.array((D,), -1.0, 1.0) if kind == "additive" else rand.array((), 0.5, 1.5)
    if kind == "concat":
        weights["concat_score_weight"] = rand.array((), 0.5, 1.5)
    qm = None if q_mask is None else np.array(q_mask, dtype=np.float32)
    vm = None if v_mask is None else np.array(v_mask, dtype=np.float32)

    inputs = [q, v] + ([k] if key else [])
    leaves = [torch.tensor(x.astype(np.float64), requires_grad=True) for x in inputs]
    wleaves = {n: torch.tensor(np.asarray(w, dtype=np.float64), requires_grad=True) for n, w in weights.items()}
    qt = None if qm is None else torch.tensor(qm.astype(np.float64))
    vt = None if vm is None else torch.tensor(vm.astype(np.float64))

    def run(*tensors):
        xs, ws = tensors[:len(leaves)], tensors[len(leaves):]
        named = dict(zip(wleaves.keys(), ws))
        out, w = attention(kind, xs[0], xs[1], xs[2] if key else None, named, qt, vt, causal)
        return (out, w) if scores else (out,)

    outputs = run(*leaves, *wleaves.values())
    output_grads = [rand.array(tuple(o.shape)) for o in outputs]
    loss = sum((o * torch.tensor(g.astype(np.float64))).sum() for o, g in zip(outputs, output_grads))
    grads = torch.autograd.grad(loss, leaves + list(wleaves.values()))
    if not (vm is not None and (vm == 0).all(axis=1).any()):  # the float32 rounding is not differentiable
        assert torch.autograd.gradcheck(run, tuple(leaves + list(wleaves.values()))), name
    return {
        "name": name,
        "note": note,
        "layer": layer_config(kind, name, use_scale),
        "call": {"use_causal_mask": causal, "return_attention_scores": scores},
        "weights": [tj(w) for w in weights.values()],
        "inputs": [tj(x) for x in inputs],
        "masks": [None if qm is None else tj(qm), None if vm is None else tj(vm)],
        "outputs": [tj(o.detach().numpy()) for o in outputs],
        "output_grads": [tj(g) for g in output_grads],
        "grads": {"inputs": [tj(g.numpy()) for g in grads[:len(leaves)]],
                  "weights": [tj(g.numpy()) for g in grads[len(leaves):]]},
    }


Q_MASK = [[1, 1, 0], [1, 0, 0]]
V_MASK = [[1, 0, 1, 1], [1, 1, 0, 0]]


def cases():
    return [
        case("dot", "dot"),
        case("dot_scale_key", "dot", key=True, use_scale=True),
        case("dot_value_features", "dot", key=True, D=4, Dv=2),
        case("dot_masks", "dot", q_mask=Q_MASK, v_mask=V_MASK),
        case("dot_causal", "dot", Tq=4, causal=True),
        case("dot_causal_masks_scores", "dot", Tq=4, causal=True, use_scale=True, q_mask=[[1, 1, 1, 0], [1, 1, 0, 0]],
             v_mask=V_MASK, scores=True),
        case("dot_fully_masked_row", "dot", v_mask=[[0, 0, 0, 0], [1, 1, 0, 1]], scores=True,
             note="batch 0's value mask removes every key: Keras's float32 scores - 1e9 round to equal numbers, so its "
                  "weights are uniform there; torch's gradcheck is skipped for this case"),
        case("concat", "concat"),
        case("concat_scale_key_masks", "concat", key=True, use_scale=True, q_mask=Q_MASK, v_mask=V_MASK),
        case("concat_causal_scores", "concat", Tq=4, causal=True, use_scale=True, scores=True),
        case("additive", "additive"),
        case("additive_scale", "additive", use_scale=True, D=4),
        case("additive_scale_key_masks_scores", "additive", key=True, use_scale=True, q_mask=Q_MASK, v_mask=V_MASK,
             scores=True),
        case("additive_causal", "additive", Tq=4, causal=True, use_scale=True, v_mask=V_MASK),
    ]


def main():
    out = os.path.join(HERE, "fixtures", "layers", "attention.json")
    lines = [json.dumps(c, separators=(",", ":")) for c in cases()]
    with open(out, "w") as f:
        f.write('{"generator": "gen_attention_torch.py", "oracle": ' + json.dumps(ORACLE) + ', "cases": [\n')
        f.write(",\n".join(lines))
        f.write("\n]}\n")
    print(f"wrote {out}: {len(lines)} cases")


if __name__ == "__main__":
    main()
