#!/usr/bin/python3
"""Writes tests/model_files/files/lstm_bn_ln_dense.tf2.15.h5 and norm_fixtures.json: a tf.keras 2.15 Functional
model with BatchNormalization(axis=[2]) and its moving statistics, as tf.keras 2.15's model.save("m.h5") writes
it (the writers of make_fixtures.py), and its prediction computed with PyTorch 1.13 in float64.

    /usr/bin/python3 tests/model_files/make_norm_fixtures.py

Model: Input (None, 5, 3) -> LSTM(4, return_sequences) -> BatchNormalization(axis=[2]) ->
LayerNormalization(axis=[2]) -> Dense(2). The oracle: torch.nn.LSTM (Keras's kernel transposed, the gates i,
f, c, o in the same order, the bias on the input side), torch.nn.functional.batch_norm at inference with the
moving statistics, torch.nn.functional.layer_norm, and a matrix product for Dense.
"""
import json
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "parity"))
from make_fixtures import write_model_h5  # noqa: E402
from gen_torch import Rand  # noqa: E402

torch.set_default_dtype(torch.float64)
FILE = os.path.join(HERE, "files", "lstm_bn_ln_dense.tf2.15.h5")
ENTRY = os.path.join(HERE, "norm_fixtures.json")


def init(class_name, config=None):
    return {"module": "keras.initializers", "class_name": class_name, "config": config or {}, "registered_name": None}


def layer(class_name, name, config, inbound):
    return {"class_name": class_name, "config": {"name": name, "trainable": True, "dtype": "float32", **config},
            "name": name, "inbound_nodes": [[[inbound, 0, 0, {}]]] if inbound else []}


def model_config():
    """Functional.get_config of tf.keras 2.15 (tf_keras/engine/functional.py), the layers' get_config as
    tf_keras/layers/{rnn/lstm,normalization/*,core/dense}.py write them once built (axis as a list)."""
    norm = {"beta_initializer": init("Zeros"), "gamma_initializer": init("Ones"), "beta_regularizer": None,
            "gamma_regularizer": None, "beta_constraint": None, "gamma_constraint": None}
    layers = [
        {"class_name": "InputLayer", "config": {"batch_input_shape": [None, 5, 3], "dtype": "float32",
                                                "sparse": False, "ragged": False, "name": "input_1"},
         "name": "input_1", "inbound_nodes": []},
        layer("LSTM", "lstm", {
            "return_sequences": True, "return_state": False, "go_backwards": False, "stateful": False,
            "unroll": False, "time_major": False, "units": 4, "activation": "tanh",
            "recurrent_activation": "sigmoid", "use_bias": True, "kernel_initializer": init("GlorotUniform", {"seed": None}),
            "recurrent_initializer": init("Orthogonal", {"gain": 1.0, "seed": None}),
            "bias_initializer": init("Zeros"), "unit_forget_bias": True, "kernel_regularizer": None,
            "recurrent_regularizer": None, "bias_regularizer": None, "activity_regularizer": None,
            "kernel_constraint": None, "recurrent_constraint": None, "bias_constraint": None, "dropout": 0.0,
            "recurrent_dropout": 0.0, "implementation": 2}, "input_1"),
        layer("BatchNormalization", "batch_normalization", {
            "axis": [2], "momentum": 0.99, "epsilon": 0.001, "center": True, "scale": True,
            "beta_initializer": init("Zeros"), "gamma_initializer": init("Ones"),
            "moving_mean_initializer": init("Zeros"), "moving_variance_initializer": init("Ones"),
            "beta_regularizer": None, "gamma_regularizer": None, "beta_constraint": None,
            "gamma_constraint": None}, "lstm"),
        layer("LayerNormalization", "layer_normalization", {
            "axis": [2], "epsilon": 0.001, "center": True, "scale": True, **norm}, "batch_normalization"),
        layer("Dense", "dense", {
            "units": 2, "activation": "linear", "use_bias": True,
            "kernel_initializer": init("GlorotUniform", {"seed": None}), "bias_initializer": init("Zeros"),
            "kernel_regularizer": None, "bias_regularizer": None, "activity_regularizer": None,
            "kernel_constraint": None, "bias_constraint": None}, "layer_normalization"),
    ]
    return {"class_name": "Functional", "config": {
        "name": "model", "trainable": True, "layers": layers, "input_layers": [["input_1", 0, 0]],
        "output_layers": [["dense", 0, 0]]}, "keras_version": "2.15.0", "backend": "tensorflow"}


def main():
    r = Rand("model_files/lstm_bn_ln_dense")
    F_, U = 3, 4
    kernel, recurrent, bias = r.array([F_, 4 * U]), r.array([U, 4 * U]), r.array([4 * U])
    gamma, beta = r.array([U], 0.5, 1.5), r.array([U])
    moving_mean, moving_variance = r.array([U], -0.5, 0.5), r.array([U], 0.2, 1.5)
    ln_gamma, ln_beta = r.array([U], 0.5, 1.5), r.array([U])
    dense_kernel, dense_bias = r.array([U, 2]), r.array([2])
    x = r.array([2, 5, F_])

    lstm = torch.nn.LSTM(F_, U, batch_first=True)
    with torch.no_grad():
        lstm.weight_ih_l0.copy_(torch.tensor(kernel.T.astype(np.float64)))
        lstm.weight_hh_l0.copy_(torch.tensor(recurrent.T.astype(np.float64)))
        lstm.bias_ih_l0.copy_(torch.tensor(bias.astype(np.float64)))
        lstm.bias_hh_l0.zero_()
        t = lambda a: torch.tensor(np.asarray(a, dtype=np.float64))  # noqa: E731
        h, _ = lstm(t(x))
        # BatchNormalization at inference over the features (moved to dim 1 for torch), then LayerNormalization.
        bn = F.batch_norm(h.transpose(1, 2), t(moving_mean), t(moving_variance), t(gamma), t(beta), False, 0.0,
                          1e-3).transpose(1, 2)
        ln = F.layer_norm(bn, [U], t(ln_gamma), t(ln_beta), 1e-3)
        y = (ln @ t(dense_kernel) + t(dense_bias)).numpy().astype(np.float32)

    layers = [
        ("input_1", []),
        ("lstm", [("lstm/lstm_cell/kernel:0", kernel), ("lstm/lstm_cell/recurrent_kernel:0", recurrent),
                  ("lstm/lstm_cell/bias:0", bias)]),
        ("batch_normalization", [("batch_normalization/gamma:0", gamma), ("batch_normalization/beta:0", beta),
                                 ("batch_normalization/moving_mean:0", moving_mean),
                                 ("batch_normalization/moving_variance:0", moving_variance)]),
        ("layer_normalization", [("layer_normalization/gamma:0", ln_gamma),
                                 ("layer_normalization/beta:0", ln_beta)]),
        ("dense", [("dense/kernel:0", dense_kernel), ("dense/bias:0", dense_bias)]),
    ]
    write_model_h5(FILE, model_config(), layers, "2.15.0")
    lstm_params = 4 * U * (F_ + U + 1)
    entry = {"file": "files/" + os.path.basename(FILE), "writer": "tf.keras 2.15 model.save (h5py 3)",
             "input": {"shape": list(x.shape), "data": [float(v) for v in x.ravel()]},
             "output": {"shape": list(y.shape), "data": [float(v) for v in y.ravel()]},
             "params": {"lstm": lstm_params, "batch_normalization": 4 * U, "layer_normalization": 2 * U,
                        "dense": U * 2 + 2},
             "trainable_params": lstm_params + 2 * U + 2 * U + U * 2 + 2, "non_trainable_params": 2 * U}
    with open(ENTRY, "w") as f:
        json.dump(entry, f, indent=1)
        f.write("\n")
    print("wrote", FILE, ENTRY)


if __name__ == "__main__":
    main()
