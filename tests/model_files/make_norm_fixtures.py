#!/usr/bin/python3
"""Writes tests/model_files/files/lstm_bn_ln_dense.tf2.15.h5, dense_bn_dense.keras1.2.2.h5 and norm_fixtures.json:
a tf.keras 2.15 Functional model with BatchNormalization(axis=[2]) and its moving statistics, as tf.keras 2.15's
model.save("m.h5") writes it, and a Keras 1.2.2 Sequential with BatchNormalization(mode=0) (the writers of
make_fixtures.py), with their predictions computed with PyTorch 1.13 in float64.

    /usr/bin/python3 tests/model_files/make_norm_fixtures.py

Model: Input (None, 5, 3) -> LSTM(4, return_sequences) -> BatchNormalization(axis=[2]) ->
LayerNormalization(axis=[2]) -> Dense(2). The oracle: torch.nn.LSTM (Keras's kernel transposed, the gates i,
f, c, o in the same order, the bias on the input side), torch.nn.functional.batch_norm at inference with the
moving statistics, torch.nn.functional.layer_norm, and a matrix product for Dense.

Keras 1.2.2: Dense(4) on (None, 3) -> BatchNormalization (mode 0, get_config without its initializers) ->
Dense(2, softmax); the weights named as TensorFlow named Keras 1's variables (dense_1_W:0,
batchnormalization_1_running_std:0, which holds the moving variance).
"""
import json
import os
import sys

import h5py
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


def keras1_file():
    """Keras 1.2.2's save_model (h5py 2), the config a bare list of get_config()s (keras/layers/core.py Dense,
    normalization.py BatchNormalization)."""
    r = Rand("model_files/dense_bn_dense.keras1")
    w1, b1 = r.array([3, 4]), r.array([4])
    gamma, beta = r.array([4], 0.5, 1.5), r.array([4])
    running_mean, running_std = r.array([4], -0.5, 0.5), r.array([4], 0.2, 1.5)
    w2, b2 = r.array([4, 2]), r.array([2])
    x = r.array([3, 3])
    dense = lambda name, units, activation, extra: {"class_name": "Dense", "config": {  # noqa: E731
        "name": name, "trainable": True, "output_dim": units, "init": "glorot_uniform", "activation": activation,
        "W_regularizer": None, "b_regularizer": None, "activity_regularizer": None, "W_constraint": None,
        "b_constraint": None, "bias": True, **extra}}
    config = {"class_name": "Sequential", "config": [
        dense("dense_1", 4, "linear", {"batch_input_shape": [None, 3], "input_dtype": "float32", "input_dim": 3}),
        {"class_name": "BatchNormalization", "config": {
            "name": "batchnormalization_1", "trainable": True, "epsilon": 0.001, "mode": 0, "axis": -1,
            "gamma_regularizer": None, "beta_regularizer": None, "momentum": 0.99}},
        dense("dense_2", 2, "softmax", {"input_dim": None})]}
    layers = [("dense_1", [("dense_1_W:0", w1), ("dense_1_b:0", b1)]),
              ("batchnormalization_1", [("batchnormalization_1_gamma:0", gamma), ("batchnormalization_1_beta:0", beta),
                                        ("batchnormalization_1_running_mean:0", running_mean),
                                        ("batchnormalization_1_running_std:0", running_std)]),
              ("dense_2", [("dense_2_W:0", w2), ("dense_2_b:0", b2)])]
    path = os.path.join(HERE, "files", "dense_bn_dense.keras1.2.2.h5")
    write_model_h5(path, config, layers, "1.2.2", fixed=True, top_level=False, str_metadata=False,
                   weights_version_and_backend=False)
    with h5py.File(path, "r+") as f:
        del f.attrs["backend"]
    t = lambda a: torch.tensor(np.asarray(a, dtype=np.float64))  # noqa: E731
    h = t(x) @ t(w1) + t(b1)
    h = F.batch_norm(h, t(running_mean), t(running_std), t(gamma), t(beta), False, 0.0, 1e-3)
    y = torch.softmax(h @ t(w2) + t(b2), dim=-1).numpy().astype(np.float32)
    return {"file": "files/" + os.path.basename(path), "writer": "Keras 1.2.2 model.save (h5py 2)",
            "input": {"shape": list(x.shape), "data": [float(v) for v in x.ravel()]},
            "output": {"shape": list(y.shape), "data": [float(v) for v in y.ravel()]},
            "params": {"dense_1": 16, "batchnormalization_1": 16, "dense_2": 10},
            "trainable_params": 16 + 8 + 10, "non_trainable_params": 8}


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
    entries = []
    lstm_params = 4 * U * (F_ + U + 1)
    entry = {"file": "files/" + os.path.basename(FILE), "writer": "tf.keras 2.15 model.save (h5py 3)",
             "input": {"shape": list(x.shape), "data": [float(v) for v in x.ravel()]},
             "output": {"shape": list(y.shape), "data": [float(v) for v in y.ravel()]},
             "params": {"lstm": lstm_params, "batch_normalization": 4 * U, "layer_normalization": 2 * U,
                        "dense": U * 2 + 2},
             "trainable_params": lstm_params + 2 * U + 2 * U + U * 2 + 2, "non_trainable_params": 2 * U}
    entries.append(entry)
    entries.append(keras1_file())
    with open(ENTRY, "w") as f:
        json.dump({"files": entries}, f, indent=1)
        f.write("\n")
    print("wrote", FILE, ENTRY)


if __name__ == "__main__":
    main()
