#!/usr/bin/python3
"""Writes the nested-model fixtures in tests/model_files/nested/ with h5py and zipfile, independently of rnnkit.

Run with Debian's Python (python3-h5py, python3-numpy):   /usr/bin/python3 tests/model_files/make_nested_fixtures.py

The model: Input "x" (None, 4) -> "block", a Sequential [Dense(5, tanh) "dense_a", Dense(3, relu) "dense_b"]
built for (None, 4) and called as a layer -> Dense(2) "head". Keras's model.layers: x, block, head.

  nested.tf2.11.h5      tf.keras 2.11 save_model_to_hdf5: the Functional config with the Sequential's own config
                        as a layer entry (class_name "Sequential", its InputLayer "dense_a_input" first, as
                        Sequential.add makes it for a first layer given an input shape), inbound_nodes pointing at
                        it, the head reading ["block", 1, 0] (the nested model's calls count from 1, its own
                        graph being node 0); keras/saving/legacy/hdf5_format.py save_weights_to_hdf5_group writes one group
                        "block" whose weight_names are the nested model's weights ("dense_a/kernel:0", ...), so
                        each dataset lies at block/dense_a/kernel:0 (h5py makes the groups in the name).
  nested.keras3.keras   Keras 3.6 saving_lib: config.json with the Sequential serialized in place
                        (module "keras", registered_name null, its build_config; the head reads
                        ["block", 0, 0]: a Keras 3 Sequential has no node of its own); model.weights.h5 with the nested
                        model's own (empty) vars at layers/sequential/vars and its layers under
                        layers/sequential/layers/dense/vars and layers/sequential/layers/dense_1/vars
                        (_save_container_state names by class, Sequential.layers leaves out its InputLayer).
  nested.json           the input and a float64 numpy forward pass.
"""

import json
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from make_fixtures import L, keras3_layer, tf211_layer, write_keras_archive, write_model_h5  # noqa: E402
from make_name_fixtures import dense  # noqa: E402

OUT = os.path.join(HERE, "nested")
RNG = np.random.default_rng(20261207)

DENSE_A = L("Dense", "dense_a", units=5, activation="tanh")
DENSE_B = L("Dense", "dense_b", units=3, activation="relu")
HEAD = L("Dense", "head", units=2, activation="linear")


def weights(features, units):
    return [RNG.normal(0.0, 0.5, (features, units)).astype(np.float32),
            RNG.normal(0.0, 0.5, (units,)).astype(np.float32)]


W = {"dense_a": weights(4, 5), "dense_b": weights(5, 3), "head": weights(3, 2)}


def forward(x):
    h = dense(W["dense_a"], x.astype(np.float64), "tanh")
    h = dense(W["dense_b"], h, "relu")
    return dense(W["head"], h)


def tf211_config():
    block = {"class_name": "Sequential",
             "config": {"name": "block", "layers": [
                 {"class_name": "InputLayer",
                  "config": {"batch_input_shape": [None, 4], "dtype": "float32", "sparse": False, "ragged": False,
                             "name": "dense_a_input"}},
                 tf211_layer(DENSE_A), tf211_layer(DENSE_B)]},
             "name": "block", "inbound_nodes": [[["x", 0, 0, {}]]]}
    head = tf211_layer(HEAD)
    # get_network_config numbers the calls of a model built before it was called from 1: its node 0 is its own
    # graph (functional.py _should_skip_first_node).
    head.update({"name": "head", "inbound_nodes": [[["block", 1, 0, {}]]]})
    x = {"class_name": "InputLayer",
         "config": {"batch_input_shape": [None, 4], "dtype": "float32", "sparse": False, "ragged": False,
                    "name": "x"},
         "name": "x", "inbound_nodes": []}
    return {"class_name": "Functional",
            "config": {"name": "outer", "layers": [x, block, head], "input_layers": [["x", 0, 0]],
                       "output_layers": [["head", 0, 0]]}}


def write_tf211(path):
    block = [(f"{layer}/{w}:0", value) for layer in ("dense_a", "dense_b")
             for w, value in zip(("kernel", "bias"), W[layer])]
    head = [(f"head/{w}:0", value) for w, value in zip(("kernel", "bias"), W["head"])]
    write_model_h5(path, tf211_config(), [("x", []), ("block", block), ("head", head)], "2.11.0")


def keras_tensor(shape, history):
    return {"class_name": "__keras_tensor__",
            "config": {"shape": shape, "dtype": "float32", "keras_history": history}}


def keras3_config():
    dtype = {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"}, "registered_name": None}
    block = {"module": "keras", "class_name": "Sequential",
             "config": {"name": "block", "trainable": True, "dtype": dtype, "layers": [
                 {"module": "keras.layers", "class_name": "InputLayer",
                  "config": {"batch_shape": [None, 4], "dtype": "float32", "sparse": False, "name": "input_layer"},
                  "registered_name": None},
                 keras3_layer(DENSE_A, [None, 4]), keras3_layer(DENSE_B, [None, 5])],
                 "build_input_shape": [None, 4]},
             "registered_name": None, "build_config": {"input_shape": [None, 4]},
             "name": "block", "inbound_nodes": [{"args": [keras_tensor([None, 4], ["x", 0, 0])], "kwargs": {}}]}
    head = keras3_layer(HEAD, [None, 3])
    head.update({"name": "head", "inbound_nodes": [{"args": [keras_tensor([None, 3], ["block", 0, 0])],
                                                    "kwargs": {}}]})
    x = {"module": "keras.layers", "class_name": "InputLayer",
         "config": {"batch_shape": [None, 4], "dtype": "float32", "sparse": False, "name": "x"},
         "registered_name": None, "name": "x", "inbound_nodes": []}
    return {"module": "keras.src.models.functional", "class_name": "Functional",
            "config": {"name": "outer", "trainable": True, "layers": [x, block, head],
                       "input_layers": ["x", 0, 0], "output_layers": ["head", 0, 0]},
            "registered_name": "Functional", "build_config": {"input_shape": None}}


def write_keras3(path):
    def weights_writer(f):
        f.create_group("vars")
        f.create_group("layers/input_layer/vars")
        f.create_group("layers/sequential/vars")
        for path_name, layer in (("dense", "dense_a"), ("dense_1", "dense_b")):
            group = f.create_group(f"layers/sequential/layers/{path_name}/vars")
            for i, w in enumerate(W[layer]):
                group[str(i)] = w
        group = f.create_group("layers/dense/vars")
        for i, w in enumerate(W["head"]):
            group[str(i)] = w
    write_keras_archive(path, keras3_config(), weights_writer)


def main():
    os.makedirs(OUT, exist_ok=True)
    write_tf211(os.path.join(OUT, "nested.tf2.11.h5"))
    write_keras3(os.path.join(OUT, "nested.keras3.keras"))
    x = RNG.normal(0.0, 1.0, (3, 4)).astype(np.float32)
    y = forward(x)
    with open(os.path.join(OUT, "nested.json"), "w") as f:
        json.dump({"generator": "make_nested_fixtures.py", "files": ["nested.tf2.11.h5", "nested.keras3.keras"],
                   "input": {"shape": list(x.shape), "data": x.ravel().tolist()},
                   "output": {"shape": list(y.shape), "data": y.ravel().tolist()}}, f, indent=1)
        f.write("\n")
    print(f"wrote nested.tf2.11.h5, nested.keras3.keras and nested.json to {OUT}")


if __name__ == "__main__":
    sys.exit(main())
