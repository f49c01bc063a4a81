#!/usr/bin/python3
"""Writes the Functional-model fixtures in tests/model_files/functional/ with h5py and zipfile, independently of
rnnkit.

Run with Debian's Python (python3-h5py, python3-numpy):   /usr/bin/python3 tests/model_files/make_functional_fixtures.py

What it writes:
  seq2seq.tf2.11.h5, seq2seq.keras3.keras
      the Keras lstm_seq2seq pattern on floats: encoder LSTM(4, return_state) on (None, 5, 3); decoder
      LSTM(4, return_sequences, return_state) on (None, 4, 2) started from the encoder's h and c; Dense(2,
      softmax) on the decoder's sequence.
  shared_two_in_two_out.tf2.11.h5, shared_two_in_two_out.keras3.keras
      two Inputs (None, 3, 2); one LSTM(4) called on both (one layer, two nodes); Dense(1, sigmoid) on the first
      call, Dense(2, softmax) on the second; outputs in that order.
  functional.json
      per model: the inputs (float32, from a fixed numpy seed) and the outputs of a float64 numpy forward pass
      (the LSTM with initial state checked against PyTorch's where Debian's python3-torch is installed).
  wild_*.json
      the model_config of four Functional files by other people in ../shared/keras-wild (when that folder is
      there: the committed JSON is what the tests read), with provenance from its MANIFEST.md.

The writers follow the Keras source named in each function, and reuse make_fixtures.py's layer configs and
HDF5/zip writers. The output is deterministic (zip members carry a fixed timestamp).
"""

import json
import os
import sys
import zipfile

import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from make_fixtures import (L, keras3_layer, snake_case, tf211_layer, tf211_weight_names,  # noqa: E402
                           write_keras3_layer, write_keras_archive, write_model_h5)
from make_name_fixtures import dense, sigmoid  # noqa: E402

OUT = os.path.join(HERE, "functional")
WILD = os.path.normpath(os.path.join(HERE, "..", "..", "..", "shared", "keras-wild"))
RNG = np.random.default_rng(20261206)


# ---------------------------------------------------------------------------------------------- forward pass

def lstm(weights, x, units, h=None, c=None):
    """Keras's LSTM (gates i, f, c, o; sigmoid and tanh) from initial states h, c (zeros when None): the output
    sequence and the final h and c (what return_sequences and return_state give)."""
    kernel, recurrent, bias = [w.astype(np.float64) for w in weights]
    batch, steps, _ = x.shape
    h = np.zeros((batch, units)) if h is None else h
    c = np.zeros((batch, units)) if c is None else c
    outputs = []
    for t in range(steps):
        z = x[:, t, :].astype(np.float64) @ kernel + h @ recurrent + bias
        i, f, g, o = (z[:, k * units:(k + 1) * units] for k in range(4))
        c = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
        h = sigmoid(o) * np.tanh(c)
        outputs.append(h)
    return np.stack(outputs, axis=1), h, c


def check_lstm_against_torch():
    """The LSTM above, started from given states, against PyTorch's (gates i, f, g, o), where installed."""
    try:
        import torch
    except ImportError:
        return
    rng = np.random.default_rng(11)
    x = rng.normal(0.0, 1.0, (2, 5, 3))
    weights = [rng.normal(0.0, 0.5, s) for s in ((3, 16), (4, 16), (16,))]
    h0, c0 = rng.normal(0.0, 1.0, (2, 4)), rng.normal(0.0, 1.0, (2, 4))
    reference = torch.nn.LSTM(3, 4, batch_first=True).double()
    with torch.no_grad():
        reference.weight_ih_l0.copy_(torch.tensor(weights[0].T))
        reference.weight_hh_l0.copy_(torch.tensor(weights[1].T))
        reference.bias_ih_l0.copy_(torch.tensor(weights[2]))
        reference.bias_hh_l0.zero_()
        seq, (h, c) = reference(torch.tensor(x), (torch.tensor(h0)[None], torch.tensor(c0)[None]))
    mine = lstm(weights, x, 4, h0, c0)
    assert np.allclose(mine[0], seq.numpy(), atol=1e-12)
    assert np.allclose(mine[1], h[0].numpy(), atol=1e-12) and np.allclose(mine[2], c[0].numpy(), atol=1e-12)


def lstm_weights(features, units):
    return [RNG.normal(0.0, 0.5, s).astype(np.float32) for s in ((features, 4 * units), (units, 4 * units),
                                                                   (4 * units,))]


def dense_weights(features, units):
    return [RNG.normal(0.0, 0.5, s).astype(np.float32) for s in ((features, units), (units,))]


# ---------------------------------------------------------------------------------------------- models

# Each model: its inputs (name, batch shape), its layers in model.layers order (each a make_fixtures spec, its
# extra config keys, and its calls: (input, initial_state list) with tensors as (layer, node, tensor)), its
# outputs.
def seq2seq():
    enc = L("LSTM", "encoder_lstm", units=4)
    dec = L("LSTM", "decoder_lstm", units=4, return_sequences=True)
    head = L("Dense", "decoder_dense", units=2, activation="softmax")
    return {
        "name": "seq2seq",
        "inputs": [("encoder_inputs", [None, 5, 3]), ("decoder_inputs", [None, 4, 2])],
        "layers": [
            (enc, {"return_state": True}, [(("encoder_inputs", 0, 0), [])]),
            (dec, {"return_state": True},
             [(("decoder_inputs", 0, 0), [("encoder_lstm", 0, 1), ("encoder_lstm", 0, 2)])]),
            (head, {}, [(("decoder_lstm", 0, 0), [])]),
        ],
        "outputs": [("decoder_dense", 0, 0)],
        "weights": {"encoder_lstm": lstm_weights(3, 4), "decoder_lstm": lstm_weights(2, 4),
                    "decoder_dense": dense_weights(4, 2)},
    }


def shared_two_in_two_out():
    shared = L("LSTM", "shared_lstm", units=4)
    return {
        "name": "two_in_two_out",
        "inputs": [("input_a", [None, 3, 2]), ("input_b", [None, 3, 2])],
        "layers": [
            (shared, {}, [(("input_a", 0, 0), []), (("input_b", 0, 0), [])]),
            (L("Dense", "head_a", units=1, activation="sigmoid"), {}, [(("shared_lstm", 0, 0), [])]),
            (L("Dense", "head_b", units=2, activation="softmax"), {}, [(("shared_lstm", 1, 0), [])]),
        ],
        "outputs": [("head_a", 0, 0), ("head_b", 0, 0)],
        "weights": {"shared_lstm": lstm_weights(2, 4), "head_a": dense_weights(4, 1),
                    "head_b": dense_weights(4, 2)},
    }


def forward(model, xs):
    """Runs the graph in numpy: every call's outputs, keyed (layer, node)."""
    values = {(name, 0): [x.astype(np.float64)] for (name, _), x in zip(model["inputs"], xs)}
    for spec, _, calls in model["layers"]:
        w = model["weights"][spec["name"]]
        for node, (source, states) in enumerate(calls):
            x = values[source[:2]][source[2]]
            if spec["class_name"] == "LSTM":
                initial = [values[s[:2]][s[2]] for s in states] or [None, None]
                seq, h, c = lstm(w, x, spec["options"]["units"], *initial)
                values[(spec["name"], node)] = [seq if spec["options"].get("return_sequences") else h, h, c]
            else:
                values[(spec["name"], node)] = [dense(w, x, spec["options"]["activation"])]
    return [values[o[:2]][o[2]] for o in model["outputs"]]


def shape_of(model, tensor):
    """The batch shape of a tensor of the model (what Keras 3 writes in each __keras_tensor__)."""
    for name, shape in model["inputs"]:
        if tensor[0] == name:
            return shape
    for spec, extra, calls in model["layers"]:
        if spec["name"] == tensor[0]:
            source = shape_of(model, calls[tensor[1]][0])
            units = spec["options"]["units"]
            if spec["class_name"] == "LSTM" and tensor[2] == 0 and spec["options"].get("return_sequences"):
                return [source[0], source[1], units]
            return source[:-1] + [units] if spec["class_name"] == "Dense" else [source[0], units]
    raise KeyError(tensor)


# ---------------------------------------------------------------------------------------------- tf.keras 2.11

def tf211_functional(model):
    """Functional.get_config of tf.keras 2.11 (keras/engine/functional.py get_network_config, node.py
    Node.serialize): every layer with name and inbound_nodes; each call a list of [layer, node, tensor, kwargs]
    for the tensors of its first argument, which for an RNN given initial_state is [inputs] + initial_state
    (keras/layers/rnn/base_rnn.py RNN.__call__), kwargs {} then; input_layers/output_layers lists of triples."""
    layers = []
    for name, shape in model["inputs"]:
        layers.append({"class_name": "InputLayer",
                       "config": {"batch_input_shape": shape, "dtype": "float32", "sparse": False, "ragged": False,
                                  "name": name},
                       "name": name, "inbound_nodes": []})
    for spec, extra, calls in model["layers"]:
        entry = tf211_layer(spec)
        entry["config"].update(extra)
        nodes = [[[*source, {}]] + [[*s, {}] for s in states] for source, states in calls]
        entry.update({"name": spec["name"], "inbound_nodes": nodes})
        layers.append(entry)
    return {"class_name": "Functional",
            "config": {"name": model["name"], "layers": layers,
                       "input_layers": [[name, 0, 0] for name, _ in model["inputs"]],
                       "output_layers": [list(o) for o in model["outputs"]]}}


def write_tf211(model, path):
    """hdf5_format.save_model_to_hdf5: layer_names in model.layers order, the InputLayers with no weights."""
    names = tf211_weight_names({"layers": [spec for spec, _, _ in model["layers"]]})
    layers = [(name, []) for name, _ in model["inputs"]]
    for spec, _, _ in model["layers"]:
        layers.append((spec["name"], list(zip(names[spec["name"]], model["weights"][spec["name"]]))))
    write_model_h5(path, tf211_functional(model), layers, "2.11.0")


# ---------------------------------------------------------------------------------------------- Keras 3

def keras_tensor(model, tensor):
    """serialization_lib.serialize_keras_object of a KerasTensor: shape, dtype, keras_history."""
    return {"class_name": "__keras_tensor__",
            "config": {"shape": shape_of(model, tensor), "dtype": "float32", "keras_history": list(tensor)}}


def keras3_functional(model):
    """Keras 3.6's Functional serialization (keras/src/models/functional.py get_config, serialize_node): each
    call {"args": [input], "kwargs": ...} with the kwargs Layer.__call__ recorded: an RNN's training=False (its
    call's default) and, with one tensor argument, the mask it filled in; initial_state as a list of tensors.
    An RNN built with initial_state records build_config {"shapes_dict": {sequences_shape,
    initial_state_shape}} (Layer.get_build_config). One input or output is written flat, several as a list."""
    layers = []
    for name, shape in model["inputs"]:
        layers.append({"module": "keras.layers", "class_name": "InputLayer",
                       "config": {"batch_shape": shape, "dtype": "float32", "sparse": False, "name": name},
                       "registered_name": None, "name": name, "inbound_nodes": []})
    for spec, extra, calls in model["layers"]:
        source, states = calls[0]
        entry = keras3_layer(spec, shape_of(model, source))
        entry["config"].update(extra)
        if states:
            entry["build_config"] = {"shapes_dict": {"sequences_shape": shape_of(model, source),
                                                     "initial_state_shape": [shape_of(model, s) for s in states]}}
        nodes = []
        for source, states in calls:
            if spec["class_name"] == "LSTM":
                kwargs = ({"initial_state": [keras_tensor(model, s) for s in states], "training": False} if states
                          else {"training": False, "mask": None})
            else:
                kwargs = {}
            nodes.append({"args": [keras_tensor(model, source)], "kwargs": kwargs})
        entry.update({"name": spec["name"], "inbound_nodes": nodes})
        layers.append(entry)

    def tensors(items):
        items = [list(t) for t in items]
        return items[0] if len(items) == 1 else items
    return {"module": "keras.src.models.functional", "class_name": "Functional",
            "config": {"name": model["name"], "trainable": True, "layers": layers,
                       "input_layers": tensors([(name, 0, 0) for name, _ in model["inputs"]]),
                       "output_layers": tensors(model["outputs"])},
            "registered_name": "Functional", "build_config": {"input_shape": None}}


def write_keras3(model, path):
    """saving_lib._save_state: layers/<snake_case(class)>[_n] in model.layers order, the InputLayers included
    (an empty vars group each)."""
    def weights_writer(f):
        f.create_group("vars")
        used = {}
        classes = [("InputLayer", None)] * len(model["inputs"]) + [(spec["class_name"], spec)
                                                                   for spec, _, _ in model["layers"]]
        for class_name, spec in classes:
            name = snake_case(class_name)
            used[name] = used.get(name, -1) + 1
            path_name = "layers/" + (name if used[name] == 0 else f"{name}_{used[name]}")
            if spec is None:
                f.create_group(path_name).create_group("vars")
            else:
                write_keras3_layer(f, path_name, spec, model["weights"][spec["name"]])
    write_keras_archive(path, keras3_functional(model), weights_writer)


# ---------------------------------------------------------------------------------------------- wild configs

WILD_FILES = ["k2.1.5_kashdog_s2s_lstm.h5", "k2.2.4_15louafi_katakana_seq2seq_mask.h5",
              "k2.15.0_mina_conv1d_bn_pool_3xlstm_3out.h5", "k3.12.1_wassima_lstm_attention_flatten.keras"]


def provenance(file):
    """The file's lines of the MANIFEST: repo, path, commit and Keras version."""
    with open(os.path.join(WILD, "MANIFEST.md")) as f:
        text = f.read()
    section = text.split("### " + file + "\n", 1)[1].split("\n### ", 1)[0]
    return [line[2:] for line in section.strip().split("\n") if line.startswith("* repo:") or
            line.startswith("* Keras") or line.startswith("* architecture:")]


def extract_wild():
    if not os.path.isdir(WILD):
        print(f"no {WILD}: the committed wild_*.json stay as they are")
        return
    for file in WILD_FILES:
        path = os.path.join(WILD, file)
        if file.endswith(".keras"):
            with zipfile.ZipFile(path) as z:
                config = json.loads(z.read("config.json"))
        else:
            with h5py.File(path, "r") as f:
                raw = f.attrs["model_config"]
                config = json.loads(raw.decode() if isinstance(raw, bytes) else raw)
        out = {"source": file, "provenance": provenance(file), "model_config": config}
        with open(os.path.join(OUT, "wild_" + os.path.splitext(file)[0] + ".json"), "w") as f:
            json.dump(out, f, indent=1)
            f.write("\n")


def main():
    check_lstm_against_torch()
    os.makedirs(OUT, exist_ok=True)
    entries = {}
    for make in (seq2seq, shared_two_in_two_out):
        model = make()
        stem = make.__name__
        xs = [RNG.normal(0.0, 1.0, [2] + shape[1:]).astype(np.float32) for _, shape in model["inputs"]]
        ys = forward(model, xs)
        write_tf211(model, os.path.join(OUT, stem + ".tf2.11.h5"))
        write_keras3(model, os.path.join(OUT, stem + ".keras3.keras"))
        entries[stem] = {"files": [stem + ".tf2.11.h5", stem + ".keras3.keras"],
                         "inputs": {name: {"shape": list(x.shape), "data": x.ravel().tolist()}
                                    for (name, _), x in zip(model["inputs"], xs)},
                         "outputs": {o[0]: {"shape": list(y.shape), "data": y.ravel().tolist()}
                                     for o, y in zip(model["outputs"], ys)}}
    with open(os.path.join(OUT, "functional.json"), "w") as f:
        json.dump({"generator": "make_functional_fixtures.py", "models": entries}, f, indent=1)
        f.write("\n")
    extract_wild()
    print(f"wrote {2 * len(entries)} model files and functional.json to {OUT}")


if __name__ == "__main__":
    sys.exit(main())
