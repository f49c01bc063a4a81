#!/usr/bin/python3
"""Writes Keras 1 model files with a Convolution1D into tests/model_files/conv/, with h5py, independently of
rnnkit (the writers are make_fixtures.py's).

    /usr/bin/python3 tests/model_files/make_conv_fixtures.py      (Debian's python3-h5py and python3-numpy)

The model is IMDB's CNN-LSTM, shrunk: Embedding(20, 4, input_length=10) + Convolution1D(3, 3, border_mode="same",
relu) + MaxPooling1D(2) + LSTM(3) + Dense(1, sigmoid), with the weights of the TF.js oracle case
tests/parity/fixtures/conv_pooling.json "imdb_cnn_lstm", so its expected prediction is the oracle's output
(copied into conv.json with the input).

  imdb_cnn_lstm.keras1.1.1.h5   Keras 1.1's save_model: a bare layer list with Keras 1 arguments
                                (nb_filter, filter_length, border_mode, subsample_length, init, bias, pool_length,
                                stride), the Convolution1D kernel stored as a 2-D one, (filter_length, 1, input_dim,
                                nb_filter), named convolution1d_1_W:0 / convolution1d_1_b:0, LSTM weights per gate
                                (i, c, f, o), no keras_version on the weights group, no backend attribute.
  imdb_cnn_lstm.keras1.0.h5     the same with Keras 1.0's kernel layout (nb_filter, input_dim, filter_length, 1),
                                which Keras 2's loader (preprocess_weights_for_loading) transposes as well.
"""
import json
import os
import sys

import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from make_fixtures import PARITY, lstm_to_keras1, write_model_h5  # noqa: E402

OUT = os.path.join(HERE, "conv")


def case_weights(case, name):
    return [np.asarray(w["data"], dtype=np.float32).reshape(w["shape"]) for w in case["weights"][name]]


def keras1_config(T, V, E, filters, kernel_size, units):
    """Keras 1.1's get_config of each layer (keras/layers/embeddings.py, convolutional.py, recurrent.py, core.py)."""
    return {"class_name": "Sequential", "config": [
        {"class_name": "Embedding", "config": {
            "name": "embedding_1", "trainable": True, "batch_input_shape": [None, T], "input_dtype": "int32",
            "input_dim": V, "output_dim": E, "init": "uniform", "input_length": T, "W_regularizer": None,
            "activity_regularizer": None, "W_constraint": None, "mask_zero": False, "dropout": 0.0}},
        {"class_name": "Convolution1D", "config": {
            "name": "convolution1d_1", "trainable": True, "nb_filter": filters, "filter_length": kernel_size,
            "init": "glorot_uniform", "activation": "relu", "border_mode": "same", "subsample_length": 1,
            "W_regularizer": None, "b_regularizer": None, "activity_regularizer": None, "W_constraint": None,
            "b_constraint": None, "bias": True, "input_dim": None, "input_length": None}},
        {"class_name": "MaxPooling1D", "config": {
            "name": "maxpooling1d_1", "trainable": True, "stride": 2, "pool_length": 2, "border_mode": "valid"}},
        {"class_name": "LSTM", "config": {
            "name": "lstm_1", "trainable": True, "return_sequences": False, "go_backwards": False,
            "stateful": False, "unroll": False, "consume_less": "cpu", "input_dim": filters, "input_length": None,
            "output_dim": units, "init": "glorot_uniform", "inner_init": "orthogonal", "forget_bias_init": "one",
            "activation": "tanh", "inner_activation": "sigmoid", "W_regularizer": None, "U_regularizer": None,
            "b_regularizer": None, "dropout_W": 0.0, "dropout_U": 0.0}},
        {"class_name": "Dense", "config": {
            "name": "dense_1", "trainable": True, "output_dim": 1, "init": "glorot_uniform", "activation": "sigmoid",
            "W_regularizer": None, "b_regularizer": None, "activity_regularizer": None, "W_constraint": None,
            "b_constraint": None, "bias": True, "input_dim": None}}]}


def main():
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(PARITY, "conv_pooling.json")) as f:
        case = next(c for c in json.load(f)["cases"] if c["name"] == "imdb_cnn_lstm")
    embeddings, = case_weights(case, "embedding")
    kernel, bias = case_weights(case, "conv1d")  # (K, C, F) as Keras 2 keeps it
    K, C, F = kernel.shape
    units = case_weights(case, "lstm")[1].shape[0]
    config = keras1_config(case["input"]["shape"][1], embeddings.shape[0], embeddings.shape[1], F, K, units)
    per_gate = lstm_to_keras1(*case_weights(case, "lstm"))
    gate_names = [f"lstm_1_{kind}_{g}:0" for g in "icfo" for kind in ("W", "U", "b")]
    layouts = {
        "imdb_cnn_lstm.keras1.1.1.h5": ("1.1.1", kernel.reshape(K, 1, C, F)),
        "imdb_cnn_lstm.keras1.0.h5": ("1.0.8", np.ascontiguousarray(kernel.reshape(K, 1, C, F).transpose(3, 2, 0, 1))),
    }
    entries = []
    for file, (version, stored) in layouts.items():
        weights = [("embedding_1", [("embedding_1_W:0", embeddings)]),
                   ("convolution1d_1", [("convolution1d_1_W:0", stored), ("convolution1d_1_b:0", bias)]),
                   ("maxpooling1d_1", []),
                   ("lstm_1", list(zip(gate_names, per_gate))),
                   ("dense_1", list(zip(["dense_1_W:0", "dense_1_b:0"], case_weights(case, "dense"))))]
        path = os.path.join(OUT, file)
        write_model_h5(path, config, weights, version, fixed=True, top_level=False, str_metadata=False,
                       weights_version_and_backend=False)
        with h5py.File(path, "r+") as f:
            del f.attrs["backend"]
        entries.append({"file": file, "kernel_stored_as": list(stored.shape)})
    total = sum(int(np.prod(w["shape"])) for ws in case["weights"].values() for w in ws)
    with open(os.path.join(OUT, "conv.json"), "w") as f:
        json.dump({"generator": "make_conv_fixtures.py", "files": entries, "total_params": total,
                   "input": case["input"], "output": case["output"]}, f, indent=1)
        f.write("\n")
    print(f"wrote {len(entries)} files to {os.path.relpath(OUT, HERE)}")


if __name__ == "__main__":
    main()
