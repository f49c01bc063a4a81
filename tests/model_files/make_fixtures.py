#!/usr/bin/python3
"""Writes the Keras model file fixtures in tests/model_files/ with h5py and zipfile, independently of rnnkit.

Run with Debian's Python (python3-h5py, python3-numpy):   /usr/bin/python3 tests/model_files/make_fixtures.py

Every file is written the way the Keras of its era writes it, following the Keras source (each writer below
names the function it follows). The weights are those of oracle cases in tests/parity/fixtures (TF.js 4.22 or
PyTorch), so the expected predictions are the oracle's outputs, copied into fixtures.json beside the files.

What it writes:
  files/*.h5, *.keras       model and weights files (small; committed)
  fixtures.json             one entry per file: writer, model, and the model.summary() text tf.keras 2.7-2.12
                            prints for it (Keras's print_summary algorithm re-implemented below, checked against
                            tests/acceptance where those exist); per model: oracle input and output
  malformed/*, malformed/manifest.json   broken files and the error each must give

Output is deterministic except zip timestamps and HDF5 object headers' times (h5py does not store any by
default), so a rerun rewrites byte-identical HDF5 files.
"""

import copy
import io
import json
import os
import re
import sys
import zipfile

import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
TESTS = os.path.dirname(HERE)
PARITY = os.path.join(TESTS, "parity", "fixtures")
FILES = os.path.join(HERE, "files")
MALFORMED = os.path.join(HERE, "malformed")

# A fixed zip timestamp keeps reruns byte-identical (Keras stamps the current time).
ZIP_TIME = (2024, 1, 1, 0, 0, 0)


# ---------------------------------------------------------------------------------------------- models

def L(class_name, name, **options):
    return {"class_name": class_name, "name": name, "options": options}


# Each model: the parity case its weights and oracle output come from, its input shape and its layers.
MODELS = {
    "simple_rnn": {
        "source": ("dense_misc", "tutorial_simple_rnn_3_input_2x10"),
        "input_shape": [None, 2, 10],
        "layers": [L("SimpleRNN", "simple_rnn", units=3)],
        "acceptance": "simple_rnn_2x10",
    },
    "embedding_lstm_dense": {
        "source": ("torch_second_opinion", "embedding_100_3_lstm_4_dense_1_sigmoid"),
        "input_shape": [None, 6],
        "layers": [L("Embedding", "embedding", input_dim=100, output_dim=3, input_length=6),
                   L("LSTM", "lstm", units=4),
                   L("Dense", "dense", units=1, activation="sigmoid")],
    },
    "embedding_bilstm_dense": {
        "source": ("dense_misc", "tutorial_embedding_100_3_bidirectional_lstm_4_dense_1_sigmoid"),
        "input_shape": [None, 6],
        "layers": [L("Embedding", "embedding", input_dim=100, output_dim=3, input_length=6),
                   L("Bidirectional", "bidirectional", layer=L("LSTM", "lstm", units=4)),
                   L("Dense", "dense", units=1, activation="sigmoid")],
    },
    "gru_reset_after": {
        "source": ("gru_reset_after", "tutorial_gru_3_input_2x10"),
        "input_shape": [None, 2, 10],
        "layers": [L("GRU", "gru", units=3)],
        "acceptance": "gru_reset_after",
    },
    "char_rnn_td": {
        "source": ("dense_misc", "tutorial_char_rnn_lstm_seq_time_distributed_softmax"),
        "input_shape": [None, 4, 3],
        "layers": [L("LSTM", "lstm", units=4, return_sequences=True),
                   L("TimeDistributed", "time_distributed", layer=L("Dense", "dense", units=3, activation="softmax"))],
    },
    "stacked_gru": {
        "source": ("gru_reset_after", "embedding_8_2_gru_3_seq_gru_2_dense_3_softmax"),
        "input_shape": [None, 4],
        "layers": [L("Embedding", "embedding", input_dim=8, output_dim=2, input_length=4),
                   L("GRU", "gru", units=3, return_sequences=True),
                   L("GRU", "gru_1", units=2),
                   L("Dense", "dense", units=3, activation="softmax")],
    },
    "char_rnn_activation": {
        "source": ("activations", "lstm_seq_time_distributed_dense_activation_softmax"),
        "input_shape": [None, 3, 2],
        "layers": [L("LSTM", "lstm", units=4, return_sequences=True),
                   L("TimeDistributed", "time_distributed", layer=L("Dense", "dense", units=3)),
                   L("Activation", "activation", activation="softmax")],
    },
    "lstm_dropout_td": {
        "source": ("dense_misc", "dropout_identity_after_lstm"),
        "input_shape": [None, 3, 2],
        "layers": [L("LSTM", "lstm", units=3, return_sequences=True),
                   L("Dropout", "dropout", rate=0.3),
                   L("TimeDistributed", "time_distributed", layer=L("Dense", "dense", units=2, activation="softmax"))],
    },
}


def load_case(group, name):
    with open(os.path.join(PARITY, group + ".json")) as f:
        for case in json.load(f)["cases"]:
            if case["name"] == name:
                return case
    raise KeyError(f"{group}/{name}")


def weights_of(case, layer_name):
    return [np.asarray(w["data"], dtype=np.float32).reshape(w["shape"]) for w in case["weights"].get(layer_name, [])]


# ---------------------------------------------------------------------------------------------- configs

GLOROT = {"class_name": "GlorotUniform", "config": {"seed": None}}
ORTHOGONAL = {"class_name": "Orthogonal", "config": {"gain": 1.0, "seed": None}}
ZEROS = {"class_name": "Zeros", "config": {}}
EMBEDDING_UNIFORM = {"class_name": "RandomUniform", "config": {"minval": -0.05, "maxval": 0.05, "seed": None}}
# Keras 2.0-2.2 wrote glorot_uniform as the VarianceScaling it was.
VARIANCE_SCALING = {"class_name": "VarianceScaling",
                    "config": {"scale": 1.0, "mode": "fan_avg", "distribution": "uniform", "seed": None}}


def tf211_layer(spec, batch_input_shape=None):
    """A layer's entry of tf.keras 2.11's Sequential.get_config() (keras/layers/rnn/*.py get_config)."""
    cls, o = spec["class_name"], spec["options"]
    c = {"name": spec["name"], "trainable": True, "dtype": "float32"}
    if batch_input_shape is not None:
        c["batch_input_shape"] = batch_input_shape
    if cls in ("SimpleRNN", "LSTM", "GRU"):
        c.update({"return_sequences": o.get("return_sequences", False), "return_state": False, "go_backwards": False,
                  "stateful": False, "unroll": False, "time_major": False, "units": o["units"],
                  "activation": o.get("activation", "tanh"), "use_bias": True,
                  "kernel_initializer": GLOROT, "recurrent_initializer": ORTHOGONAL, "bias_initializer": ZEROS,
                  "kernel_regularizer": None, "recurrent_regularizer": None, "bias_regularizer": None,
                  "activity_regularizer": None, "kernel_constraint": None, "recurrent_constraint": None,
                  "bias_constraint": None, "dropout": 0.0, "recurrent_dropout": 0.0})
        if cls == "LSTM":
            c.update({"recurrent_activation": "sigmoid", "unit_forget_bias": True, "implementation": 2})
        if cls == "GRU":
            c.update({"recurrent_activation": "sigmoid", "reset_after": True, "implementation": 2})
    elif cls == "Embedding":
        c.update({"input_dim": o["input_dim"], "output_dim": o["output_dim"],
                  "embeddings_initializer": EMBEDDING_UNIFORM, "embeddings_regularizer": None,
                  "activity_regularizer": None, "embeddings_constraint": None, "mask_zero": False,
                  "input_length": o.get("input_length")})
    elif cls == "Dense":
        c.update({"units": o["units"], "activation": o.get("activation", "linear"), "use_bias": True,
                  "kernel_initializer": GLOROT, "bias_initializer": ZEROS, "kernel_regularizer": None,
                  "bias_regularizer": None, "activity_regularizer": None, "kernel_constraint": None,
                  "bias_constraint": None})
    elif cls == "Dropout":
        c.update({"rate": o["rate"], "noise_shape": None, "seed": None})
    elif cls == "Activation":  # keras/layers/core/activation.py get_config
        c.update({"activation": o["activation"]})
    elif cls == "Bidirectional":
        # Wrapper.get_config serializes the original layer (named "lstm"), Bidirectional adds merge_mode.
        c.update({"layer": tf211_layer(o["layer"]), "merge_mode": "concat"})
    elif cls == "TimeDistributed":
        c.update({"layer": tf211_layer(o["layer"])})
    return {"class_name": cls, "config": c}


def tf211_model_config(model):
    """model_metadata()'s model_config: {"class_name": "Sequential", "config": Sequential.get_config()}.

    Sequential.get_config lists super().layers, which includes the InputLayer that add() created from the first
    layer's input shape (named <first layer>_input); the first layer keeps its batch_input_shape."""
    shape = model["input_shape"]
    first = model["layers"][0]["name"]
    layers = [{"class_name": "InputLayer", "config": {"batch_input_shape": shape, "dtype": "float32",
                                                        "sparse": False, "ragged": False, "name": first + "_input"}}]
    for i, spec in enumerate(model["layers"]):
        layers.append(tf211_layer(spec, shape if i == 0 else None))
    return {"class_name": "Sequential", "config": {"name": "sequential", "layers": layers}}


def keras224_layer(spec, batch_input_shape=None, cudnn=False):
    """Keras 2.2.4's get_config (keras/layers/recurrent.py, embeddings.py, core.py); tf.keras 1.x's CuDNN layers."""
    cls, o = spec["class_name"], spec["options"]
    c = {"name": spec["name"], "trainable": True}
    if batch_input_shape is not None:
        c["batch_input_shape"] = batch_input_shape
        c["dtype"] = "float32"
    if cudnn:
        c["dtype"] = "float32"
        c.update({"units": o["units"], "kernel_initializer": VARIANCE_SCALING, "recurrent_initializer": ORTHOGONAL,
                  "bias_initializer": ZEROS})
        if cls == "CuDNNLSTM":
            c["unit_forget_bias"] = True
        c.update({"kernel_regularizer": None, "recurrent_regularizer": None, "bias_regularizer": None,
                  "activity_regularizer": None, "kernel_constraint": None, "recurrent_constraint": None,
                  "bias_constraint": None, "return_sequences": o.get("return_sequences", False),
                  "return_state": False, "go_backwards": False, "stateful": False})
    elif cls == "LSTM":
        c.update({"return_sequences": o.get("return_sequences", False), "return_state": False, "go_backwards": False,
                  "stateful": False, "unroll": False, "units": o["units"], "activation": "tanh",
                  # Keras 2.2's default was hard_sigmoid; the oracle's LSTM uses sigmoid, and Keras writes it.
                  "recurrent_activation": "sigmoid", "use_bias": True, "kernel_initializer": VARIANCE_SCALING,
                  "recurrent_initializer": ORTHOGONAL, "bias_initializer": ZEROS, "unit_forget_bias": True,
                  "kernel_regularizer": None, "recurrent_regularizer": None, "bias_regularizer": None,
                  "activity_regularizer": None, "kernel_constraint": None, "recurrent_constraint": None,
                  "bias_constraint": None, "dropout": 0.0, "recurrent_dropout": 0.0, "implementation": 1})
    elif cls == "Embedding":
        c.update({"input_dim": o["input_dim"], "output_dim": o["output_dim"],
                  "embeddings_initializer": EMBEDDING_UNIFORM, "embeddings_regularizer": None,
                  "activity_regularizer": None, "embeddings_constraint": None, "mask_zero": False,
                  "input_length": o.get("input_length")})
    elif cls == "Dense":
        c.update({"units": o["units"], "activation": o.get("activation", "linear"), "use_bias": True,
                  "kernel_initializer": VARIANCE_SCALING, "bias_initializer": ZEROS, "kernel_regularizer": None,
                  "bias_regularizer": None, "activity_regularizer": None, "kernel_constraint": None,
                  "bias_constraint": None})
    return {"class_name": cls, "config": c}


def keras1_layer(spec, batch_input_shape=None, input_length=None):
    """Keras 1.2.2's get_config (keras/layers/recurrent.py LSTM, Recurrent; core.py Dense; wrappers.py)."""
    cls, o = spec["class_name"], spec["options"]
    c = {"name": spec["name"], "trainable": True}
    if batch_input_shape is not None:
        c["batch_input_shape"] = batch_input_shape
        c["input_dtype"] = "float32"
    if cls == "LSTM":
        c.update({"return_sequences": o.get("return_sequences", False), "go_backwards": False, "stateful": False,
                  "unroll": False, "consume_less": "cpu", "input_dim": batch_input_shape[-1],
                  "input_length": input_length, "output_dim": o["units"], "init": "glorot_uniform",
                  "inner_init": "orthogonal", "forget_bias_init": "one", "activation": "tanh",
                  "inner_activation": "sigmoid", "W_regularizer": None, "U_regularizer": None,
                  "b_regularizer": None, "dropout_W": 0.0, "dropout_U": 0.0})
    elif cls == "Dense":
        c.update({"output_dim": o["units"], "init": "glorot_uniform", "activation": o.get("activation", "linear"),
                  "W_regularizer": None, "b_regularizer": None, "activity_regularizer": None, "W_constraint": None,
                  "b_constraint": None, "bias": True, "input_dim": o.get("input_dim")})
    elif cls == "TimeDistributed":
        c.update({"layer": keras1_layer(o["layer"])})
    elif cls == "Activation":  # keras/layers/core.py Activation.get_config
        c.update({"activation": o["activation"]})
    return {"class_name": cls, "config": c}


def dtype_policy():
    # keras/src/dtype_policies: DTypePolicy serialized by serialize_keras_object.
    return {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"}, "registered_name": None}


def k3_initializer(value):
    return {"module": "keras.initializers", "class_name": value["class_name"], "config": value["config"],
            "registered_name": None}


def keras3_layer_config(spec, zero_output_for_mask=False, legacy=False):
    """Keras 3's get_config of each layer (keras/src/layers/rnn/lstm.py, rnn.py, core/dense.py, ...)."""
    cls, o = spec["class_name"], spec["options"]
    init = (lambda v: v) if legacy else k3_initializer
    c = {"name": spec["name"], "trainable": True, "dtype": dtype_policy()}
    if cls in ("SimpleRNN", "LSTM", "GRU"):
        # RNN.get_config (cell removed by the subclass), then the subclass's keys.
        c.update({"return_sequences": o.get("return_sequences", False), "return_state": False, "go_backwards": False,
                  "stateful": False, "unroll": False, "zero_output_for_mask": zero_output_for_mask,
                  "units": o["units"], "activation": "tanh"})
        if cls != "SimpleRNN":
            c["recurrent_activation"] = "sigmoid"
        c.update({"use_bias": True, "kernel_initializer": init(GLOROT), "recurrent_initializer": init(ORTHOGONAL),
                  "bias_initializer": init(ZEROS)})
        if cls == "LSTM":
            c["unit_forget_bias"] = True
        c.update({"kernel_regularizer": None, "recurrent_regularizer": None, "bias_regularizer": None,
                  "activity_regularizer": None, "kernel_constraint": None, "recurrent_constraint": None,
                  "bias_constraint": None, "dropout": 0.0, "recurrent_dropout": 0.0, "seed": None})
        if cls == "GRU":
            c["reset_after"] = True
    elif cls == "Embedding":
        c.update({"input_dim": o["input_dim"], "output_dim": o["output_dim"],
                  "embeddings_initializer": init(EMBEDDING_UNIFORM), "embeddings_regularizer": None,
                  "activity_regularizer": None, "embeddings_constraint": None, "mask_zero": False})
    elif cls == "Dense":
        c.update({"units": o["units"], "activation": o.get("activation", "linear"), "use_bias": True,
                  "kernel_initializer": init(GLOROT), "bias_initializer": init(ZEROS), "kernel_regularizer": None,
                  "bias_regularizer": None, "kernel_constraint": None, "bias_constraint": None})
    elif cls == "Dropout":
        c.update({"rate": o["rate"], "seed": None, "noise_shape": None})
    elif cls == "Activation":  # keras/src/layers/activations/activation.py get_config
        c.update({"activation": o["activation"]})
    return c


def keras3_layer(spec, build_shape, zero_output_for_mask=False):
    """serialize_keras_object(layer) of Keras 3 (keras/src/saving/serialization_lib.py): module, class_name,
    config, registered_name, and build_config once built."""
    cls, o = spec["class_name"], spec["options"]
    if cls == "Bidirectional":
        # Bidirectional.get_config: merge_mode, layer (the forward copy, named forward_<name>) and backward_layer
        # (go_backwards=True, named backward_<name>); both copies return zeros at masked steps with sequences.
        inner = o["layer"]
        seq = inner["options"].get("return_sequences", False)
        forward = keras3_layer(dict(inner, name="forward_" + inner["name"]), build_shape, seq)
        backward = keras3_layer(dict(inner, name="backward_" + inner["name"]), build_shape, seq)
        backward["config"]["go_backwards"] = True
        config = {"name": spec["name"], "trainable": True, "dtype": dtype_policy(), "merge_mode": "concat",
                  "layer": forward, "backward_layer": backward}
    elif cls == "TimeDistributed":
        inner_shape = [build_shape[0]] + build_shape[2:]
        config = {"name": spec["name"], "trainable": True, "dtype": dtype_policy(),
                  "layer": keras3_layer(o["layer"], inner_shape)}
    else:
        config = keras3_layer_config(spec, zero_output_for_mask)
    return {"module": "keras.layers", "class_name": cls, "config": config, "registered_name": None,
            "build_config": {"input_shape": build_shape}}


def keras3_model_config(model):
    """Sequential's serialization in Keras 3: the InputLayer first (batch_shape), build_input_shape, and the
    model's own build_config (no compile_config: the model is not compiled)."""
    shape = model["input_shape"]
    layers = [{"module": "keras.layers", "class_name": "InputLayer",
               "config": {"batch_shape": shape, "dtype": "float32", "sparse": False, "name": "input_layer"},
               "registered_name": None}]
    for spec, build_shape in zip(model["layers"], input_shapes(model)):
        layers.append(keras3_layer(spec, build_shape))
    return {"module": "keras", "class_name": "Sequential",
            "config": {"name": "sequential", "trainable": True, "dtype": dtype_policy(), "layers": layers,
                       "build_input_shape": shape},
            "registered_name": None, "build_config": {"input_shape": shape}}


def keras3_legacy_model_config(model, name):
    """Keras 3's legacy .h5 (legacy_h5_format.save_model_to_hdf5 under use_legacy_config): layers without
    module/registered_name, dtype still a DTypePolicy object, the InputLayer with batch_shape."""
    shape = model["input_shape"]
    layers = [{"class_name": "InputLayer",
               "config": {"batch_shape": shape, "dtype": "float32", "sparse": False, "name": "input_layer"}}]
    for spec in model["layers"]:
        layers.append({"class_name": spec["class_name"], "config": keras3_layer_config(spec, legacy=True)})
    return {"class_name": "Sequential",
            "config": {"name": name, "trainable": True, "dtype": dtype_policy(), "layers": layers}}


def tf211_functional_config(model, branch=False):
    """Functional.get_config of tf.keras 2.11 (keras/engine/functional.py): every layer (the InputLayer
    included) with its name and inbound_nodes [[[layer, node_index, tensor_index, kwargs]]], and the model's
    input_layers / output_layers. `branch` adds a second Dense on the last layer's input: not a chain."""
    layers = [{"class_name": "InputLayer", "config": {"batch_input_shape": model["input_shape"], "dtype": "float32",
                                                        "sparse": False, "ragged": False, "name": "input_1"},
               "name": "input_1", "inbound_nodes": []}]
    previous = "input_1"
    for i, spec in enumerate(model["layers"]):
        entry = tf211_layer(spec, model["input_shape"] if i == 0 else None)
        entry.update({"name": spec["name"], "inbound_nodes": [[[previous, 0, 0, {}]]]})
        layers.append(entry)
        if branch and i == len(model["layers"]) - 1:
            side = tf211_layer(dict(spec, name=spec["name"] + "_side"))
            side.update({"name": spec["name"] + "_side", "inbound_nodes": [[[previous, 0, 0, {}]]]})
            layers.append(side)
        previous = spec["name"]
    return {"class_name": "Functional", "config": {"name": "model", "layers": layers, "input_layers": [["input_1", 0, 0]],
                                                    "output_layers": [[previous, 0, 0]]}}


def keras3_functional_config(model):
    """Keras 3's Functional serialization (keras/src/models/functional.py get_config): layers with name and
    inbound_nodes [{"args": [__keras_tensor__ with keras_history], "kwargs": {}}]; one input and one output
    written as a flat [name, 0, 0]."""
    shape = model["input_shape"]
    layers = [{"module": "keras.layers", "class_name": "InputLayer",
               "config": {"batch_shape": shape, "dtype": "float32", "sparse": False, "name": "input_layer"},
               "registered_name": None, "name": "input_layer", "inbound_nodes": []}]
    previous = "input_layer"
    for spec, build_shape in zip(model["layers"], input_shapes(model)):
        entry = keras3_layer(spec, build_shape)
        tensor = {"class_name": "__keras_tensor__",
                  "config": {"shape": build_shape, "dtype": "float32", "keras_history": [previous, 0, 0]}}
        entry.update({"name": spec["name"], "inbound_nodes": [{"args": [tensor], "kwargs": {}}]})
        layers.append(entry)
        previous = spec["name"]
    return {"module": "keras.src.models.functional", "class_name": "Functional",
            "config": {"name": "functional", "trainable": True, "layers": layers,
                       "input_layers": ["input_layer", 0, 0], "output_layers": [previous, 0, 0]},
            "registered_name": "Functional", "build_config": {"input_shape": shape}}


# ---------------------------------------------------------------------------------------------- shapes, summary

def output_shape(spec, shape):
    cls, o = spec["class_name"], spec["options"]
    if cls == "Embedding":
        return shape + [o["output_dim"]]
    if cls in ("SimpleRNN", "LSTM", "GRU"):
        return [shape[0], shape[1], o["units"]] if o.get("return_sequences") else [shape[0], o["units"]]
    if cls == "Bidirectional":
        inner = output_shape(o["layer"], shape)
        return inner[:-1] + [2 * inner[-1]]
    if cls == "TimeDistributed":
        return shape[:2] + output_shape(o["layer"], [shape[0]] + shape[2:])[1:]
    if cls == "Dense":
        return shape[:-1] + [o["units"]]
    return shape


def input_shapes(model):
    shapes, shape = [], model["input_shape"]
    for spec in model["layers"]:
        shapes.append(shape)
        shape = output_shape(spec, shape)
    return shapes


def keras_shape_text(shape):
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"


SUMMARY_POSITIONS = [29, 55, 65]  # tf.keras 2.x print_summary: line_length 65, positions [.45, .85, 1]


def summary_row(fields):
    """print_row of tf.keras 2.7-2.12 (keras/utils/layer_utils.py): each field cut to its column less two spaces
    (2.13 cut one character more), breaking after "),"-like separators, continued on further lines."""
    positions = SUMMARY_POSITIONS
    lines = []
    left = [str(x) for x in fields]
    while any(left):
        line = ""
        for col in range(len(left)):
            start = positions[col - 1] if col > 0 else 0
            space = 2 if col != len(positions) - 1 else 0
            cutoff = positions[col] - start - space
            fit = left[col][:cutoff]
            breaks = [fit.find(x) + len(x) for x in ("),", "},", "],", "',") if fit.find(x) >= 0]
            if breaks:
                cutoff = min(breaks)
                fit = fit[:cutoff]
            if col == 0:
                line += " "
            line += fit + (" " * space if space else "")
            left[col] = left[col][cutoff:]
            line += " " * (positions[col] - len(line))
        lines.append(line)
    return lines


def summary_keras_2_12(model, case, model_name="sequential", names=None):
    """model.summary() of tf.keras 2.7-2.12 for a Sequential; `names` renames layers as a file of another era
    has them."""
    names = names or {}
    lines = [f'Model: "{model_name}"', "_" * 65] + summary_row(["Layer (type)", "Output Shape", "Param #"])
    lines.append("=" * 65)
    total = 0
    for spec, shape in zip(model["layers"], input_shapes(model)):
        params = sum(w.size for w in weights_of(case, spec["name"]))
        total += params
        name = names.get(spec["name"], spec["name"])
        lines += summary_row([f"{name} ({spec['class_name']})", keras_shape_text(output_shape(spec, shape)), params])
        lines.append(" " * 65)  # every layer, the last one included, is followed by a line of spaces
    lines.append("=" * 65)
    lines.append(f"Total params: {total:,}")
    lines.append(f"Trainable params: {total:,}")
    lines.append("Non-trainable params: 0")
    lines.append("_" * 65)
    return "\n".join(lines) + "\n"


def check_summary_formatter():
    """The formatter against Keras's own text in tests/acceptance, a wrapped name included."""
    with open(os.path.join(TESTS, "acceptance", "summaries", "embedding_bilstm_dense.keras2.12.txt")) as f:
        keras = f.read().split("\n")
    assert summary_row(["bidirectional (Bidirectional)", "(None, 64)", 9216]) == keras[6:8], keras[6:8]
    assert summary_row(["Layer (type)", "Output Shape", "Param #"]) == keras[2:3]


# ---------------------------------------------------------------------------------------------- HDF5 writers

def save_attributes_to_hdf5_group(group, name, data, fixed=False):
    """keras/saving/legacy/hdf5_format.py save_attributes_to_hdf5_group (HDF5_OBJECT_HEADER_LIMIT 64512).
    h5py >= 3 stores a list of bytes as variable-length ASCII strings; h5py 2 (Keras <= 2.2 era) as a
    fixed-length numpy 'S' array: fixed=True writes that."""
    limit = 64512
    data_npy = np.asarray(data)
    num_chunks = 1
    chunked = np.array_split(data_npy, num_chunks)
    while any(x.nbytes > limit for x in chunked):
        num_chunks += 1
        chunked = np.array_split(data_npy, num_chunks)
    if num_chunks > 1:
        for chunk_id, chunk in enumerate(chunked):
            group.attrs["%s%d" % (name, chunk_id)] = chunk
    elif fixed and len(data):
        group.attrs[name] = np.asarray(data, dtype="S")
    else:
        group.attrs[name] = data


def bytes_attr(value, fixed):
    # bytes in h5py >= 3: variable-length ASCII; in h5py 2: fixed-length (numpy 'S').
    return np.bytes_(value) if fixed else value


def write_weights_group(f, layers, keras_version, fixed=False, top_level=True, backend_and_version=True):
    """save_weights_to_hdf5_group: layer_names, backend, keras_version; one group per layer (in name order) with
    weight_names and a float32 dataset at each weight name (create_dataset makes the groups in the name)."""
    save_attributes_to_hdf5_group(f, "layer_names", [name.encode("utf8") for name, _ in layers], fixed)
    if backend_and_version:
        f.attrs["backend"] = bytes_attr("tensorflow".encode("utf8"), fixed)
        f.attrs["keras_version"] = bytes_attr(str(keras_version).encode("utf8"), fixed)
    for name, weights in sorted(layers, key=lambda item: item[0]):
        g = f.create_group(name)
        weight_names = [w_name.encode("utf8") for w_name, _ in weights]
        save_attributes_to_hdf5_group(g, "weight_names", weight_names, fixed)
        for w_name, value in zip(weight_names, [v for _, v in weights]):
            dset = g.create_dataset(w_name, value.shape, dtype=value.dtype)
            dset[:] = value
    if top_level:
        # tf.keras >= 2.5 (and Keras 3's legacy writer): the model's own weights, none for a Sequential.
        g = f.create_group("top_level_model_weights")
        save_attributes_to_hdf5_group(g, "weight_names", [])


def write_model_h5(path, model_config, layers, keras_version, fixed=False, top_level=True, str_metadata=True,
                   weights_version_and_backend=True):
    """save_model_to_hdf5: model_metadata (keras_version and backend are str, model_config json.dumps().encode)
    as root attributes, then the model_weights group."""
    with h5py.File(path, "w") as f:
        if str_metadata:
            f.attrs["keras_version"] = str(keras_version)
            f.attrs["backend"] = "tensorflow"
        else:  # Keras <= 2.2 encoded these too
            f.attrs["keras_version"] = bytes_attr(str(keras_version).encode("utf8"), fixed)
            f.attrs["backend"] = bytes_attr("tensorflow".encode("utf8"), fixed)
        f.attrs["model_config"] = bytes_attr(json.dumps(model_config).encode("utf8"), fixed)
        write_weights_group(f.create_group("model_weights"), layers, keras_version, fixed, top_level,
                            weights_version_and_backend)


def write_keras3_weights(f, model, case, functional=False):
    """saving_lib._save_state with H5IOStore: a vars group for every saveable visited (the model first, at the
    root), layers under layers/<snake_case(class)>[_n] (_save_container_state names by class, not layer name);
    an RNN's weights under cell/vars, Bidirectional's under forward_layer/ and backward_layer/, TimeDistributed's
    under layer/; variables 0, 1, ... in _trainable_variables + _non_trainable_variables order."""
    f.create_group("vars")
    used = {}
    if functional:  # a Functional model's layers include its InputLayer (no weights)
        used["input_layer"] = 0
        f.create_group("layers/input_layer").create_group("vars")
    for spec in model["layers"]:
        name = snake_case(spec["class_name"])
        if name in used:
            used[name] += 1
            name = f"{name}_{used[name]}"
        else:
            used[name] = 0
        write_keras3_layer(f, "layers/" + name, spec, weights_of(case, spec["name"]))


def write_keras3_layer(f, path, spec, weights):
    cls = spec["class_name"]
    group = f.create_group(path)
    own = group.create_group("vars")
    if cls in ("SimpleRNN", "LSTM", "GRU"):
        cell = group.create_group("cell").create_group("vars")
        for i, w in enumerate(weights):
            cell[str(i)] = w
    elif cls == "Bidirectional":
        half = len(weights) // 2
        write_keras3_layer(f, path + "/backward_layer", spec["options"]["layer"], weights[half:])
        write_keras3_layer(f, path + "/forward_layer", spec["options"]["layer"], weights[:half])
    elif cls == "TimeDistributed":
        write_keras3_layer(f, path + "/layer", spec["options"]["layer"], weights)
    else:
        for i, w in enumerate(weights):
            own[str(i)] = w


def snake_case(name):
    """keras/src/utils/naming.py to_snake_case."""
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def write_keras_archive(path, config, weights_writer, members=("metadata.json", "config.json", "model.weights.h5")):
    """saving_lib._save_model_to_fileobj: a ZIP_STORED archive of metadata.json, config.json, model.weights.h5
    (an h5py file written to io.BytesIO); no assets/ member when there are no assets."""
    metadata = json.dumps({"keras_version": "3.6.0", "date_saved": "2024-01-01@00:00:00"})
    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as f:
        weights_writer(f)
    contents = {"metadata.json": metadata.encode(), "config.json": json.dumps(config).encode(),
                "model.weights.h5": buffer.getvalue()}
    with zipfile.ZipFile(path, "w") as zf:
        for member in members:
            zf.writestr(zipfile.ZipInfo(member, date_time=ZIP_TIME), contents[member])


# ---------------------------------------------------------------------------------------------- weight names

def tf211_weight_names(model):
    """Weight names as tf.keras 2.11 gives them in a fresh process: cells are named with per-process counters
    (lstm_cell, lstm_cell_1, ...); Bidirectional rebuilds its forward and backward copies from the config, each
    with a new cell; TimeDistributed's Dense creates its variables under the wrapper's name."""
    counters = {}

    def cell_name(base):
        n = counters.get(base, 0)
        counters[base] = n + 1
        return base if n == 0 else f"{base}_{n}"

    cells = {"SimpleRNN": "simple_rnn_cell", "LSTM": "lstm_cell", "GRU": "gru_cell"}
    params = {"SimpleRNN": ["kernel", "recurrent_kernel", "bias"], "LSTM": ["kernel", "recurrent_kernel", "bias"],
              "GRU": ["kernel", "recurrent_kernel", "bias"], "Dense": ["kernel", "bias"], "Embedding": ["embeddings"],
              "Dropout": [], "Activation": []}
    names = {}
    for spec in model["layers"]:
        cls = spec["class_name"]
        if cls in cells:
            cell = cell_name(cells[cls])
            names[spec["name"]] = [f"{spec['name']}/{cell}/{p}:0" for p in params[cls]]
        elif cls == "Bidirectional":
            inner = spec["options"]["layer"]
            cell_name(cells[inner["class_name"]])  # the original layer's cell, never used
            out = []
            for direction in ("forward", "backward"):
                cell = cell_name(cells[inner["class_name"]])
                out += [f"{spec['name']}/{direction}_{inner['name']}/{cell}/{p}:0" for p in params[inner["class_name"]]]
            names[spec["name"]] = out
        elif cls == "TimeDistributed":
            names[spec["name"]] = [f"{spec['name']}/{p}:0" for p in params[spec["options"]["layer"]["class_name"]]]
        else:
            names[spec["name"]] = [f"{spec['name']}/{p}:0" for p in params[cls]]
    return names


def layer_weights(model, case, names):
    return [(spec["name"], list(zip(names[spec["name"]], weights_of(case, spec["name"])))) for spec in model["layers"]]


# ---------------------------------------------------------------------------------------------- conversions

def lstm_to_keras1(kernel, recurrent, bias):
    """Keras 1 LSTM weights: W, U, b per gate in the order i, c, f, o (Keras 2's arrays are i, f, c, o)."""
    units = recurrent.shape[0]
    gates = {g: slice(k * units, (k + 1) * units) for k, g in enumerate("ifco")}
    out = []
    for g in "icfo":
        out += [kernel[:, gates[g]], recurrent[:, gates[g]], bias[gates[g]]]
    return [np.ascontiguousarray(a) for a in out]


def to_cudnn(weights, gates):
    """hdf5_format._convert_rnn_weights(from_cudnn=False): each gate's input kernel k -> k.T.reshape(k.shape,
    order='C'), recurrent kernel k -> k.T, LSTM biases np.tile(0.5 * bias, 2), GRU bias reshape(-1)."""
    kernel, recurrent, bias = weights

    def transform(kernels, func):
        return np.hstack([func(k) for k in np.hsplit(kernels, gates)])

    kernel = transform(kernel, lambda k: k.T.reshape(k.shape, order="C"))
    recurrent = transform(recurrent, lambda k: k.T)
    bias = np.tile(0.5 * bias, 2) if gates == 4 else np.array(bias).reshape(-1)
    return [kernel.astype(np.float32), recurrent.astype(np.float32), bias.astype(np.float32)]


# ---------------------------------------------------------------------------------------------- fixtures

def main():
    check_summary_formatter()
    os.makedirs(FILES, exist_ok=True)
    os.makedirs(MALFORMED, exist_ok=True)
    entries = []
    models_json = {}

    for model_name, model in MODELS.items():
        case = load_case(*model["source"])
        summary = summary_keras_2_12(model, case)
        if "acceptance" in model:  # the formatter above against Keras's own text
            with open(os.path.join(TESTS, "acceptance", "summaries", model["acceptance"] + ".keras2.12.txt")) as f:
                assert f.read() == summary, f"summary of {model_name} differs from tests/acceptance"
        models_json[model_name] = {"source": "/".join(model["source"]), "input": case["input"],
                                   "output": case["output"]}

        # tf.keras 2.11 model.save("m.h5").
        names = tf211_weight_names(model)
        file = f"{model_name}.tf2.11.h5"
        write_model_h5(os.path.join(FILES, file), tf211_model_config(model), layer_weights(model, case, names), "2.11.0")
        entries.append({"file": file, "model": model_name, "writer": "tf.keras 2.11 model.save (h5py 3)",
                        "layout_reference": "h5"})

        # Keras 3 model.save("m.keras").
        file = f"{model_name}.keras3.keras"
        write_keras_archive(os.path.join(FILES, file), keras3_model_config(model),
                            lambda f, m=model, c=case: write_keras3_weights(f, m, c))
        entries.append({"file": file, "model": model_name, "writer": "Keras 3 model.save (saving_lib)",
                        "layout_reference": "keras"})

    # Weights only: tf.keras 2.11 model.save_weights("w.h5") and Keras 3 model.save_weights("w.weights.h5"),
    # with the architecture as model.to_json().
    for model_name in ("embedding_lstm_dense", "embedding_bilstm_dense"):
        model, case = MODELS[model_name], load_case(*MODELS[model_name]["source"])
        config = dict(tf211_model_config(model), keras_version="2.11.0", backend="tensorflow")
        with open(os.path.join(FILES, f"{model_name}.json"), "w") as f:
            json.dump(config, f)
        file = f"{model_name}.tf2.11.weights.h5py"  # any extension: the content tells
        with h5py.File(os.path.join(FILES, file), "w") as f:
            write_weights_group(f, layer_weights(model, case, tf211_weight_names(model)), "2.11.0")
        entries.append({"file": file, "model": model_name, "writer": "tf.keras 2.11 model.save_weights (h5py 3)",
                        "weights_only": f"{model_name}.json"})
        file = f"{model_name}.keras3.weights.h5"
        with h5py.File(os.path.join(FILES, file), "w") as f:
            write_keras3_weights(f, model, case)
        entries.append({"file": file, "model": model_name, "writer": "Keras 3 model.save_weights (saving_lib)",
                        "weights_only": f"{model_name}.json"})

    # Keras 2.2.4 (standalone Keras, h5py 2: fixed-length strings): layer names counted from 1, weights named
    # without the cell ("lstm_1/kernel:0"), no InputLayer in the config, no top_level_model_weights.
    model, case = MODELS["embedding_lstm_dense"], load_case(*MODELS["embedding_lstm_dense"]["source"])
    renamed = {"embedding": "embedding_1", "lstm": "lstm_1", "dense": "dense_1"}
    layers224 = [dict(spec, name=renamed[spec["name"]]) for spec in model["layers"]]
    config = {"class_name": "Sequential", "config": {"name": "sequential_1", "layers": [
        keras224_layer(spec, model["input_shape"] if i == 0 else None) for i, spec in enumerate(layers224)]}}
    params = {"embedding": ["embeddings"], "lstm": ["kernel", "recurrent_kernel", "bias"], "dense": ["kernel", "bias"]}
    weights = [(renamed[n], [(f"{renamed[n]}/{p}:0", w) for p, w in zip(params[n], weights_of(case, n))])
               for n in ("embedding", "lstm", "dense")]
    file = "embedding_lstm_dense.keras2.2.4.h5"
    write_model_h5(os.path.join(FILES, file), config, weights, "2.2.4", fixed=True, top_level=False, str_metadata=False)
    entries.append({"file": file, "model": "embedding_lstm_dense", "writer": "Keras 2.2.4 model.save (h5py 2)",
                    "model_name": "sequential_1", "summary_names": renamed})

    # tf.keras 1.x (keras_version "2.2.4-tf") CuDNNLSTM and CuDNNGRU: weights in cuDNN's layout.
    spec = dict(model["layers"][1], class_name="CuDNNLSTM", name="cu_dnnlstm")
    config = {"class_name": "Sequential", "config": {"name": "sequential", "layers": [
        keras224_layer(model["layers"][0], model["input_shape"]), keras224_layer(spec, cudnn=True),
        keras224_layer(model["layers"][2])]}}
    weights = [("embedding", [("embedding/embeddings:0", weights_of(case, "embedding")[0])]),
               ("cu_dnnlstm", list(zip([f"cu_dnnlstm/{p}:0" for p in params["lstm"]],
                                       to_cudnn(weights_of(case, "lstm"), 4)))),
               ("dense", list(zip(["dense/kernel:0", "dense/bias:0"], weights_of(case, "dense"))))]
    file = "embedding_cudnnlstm_dense.tf1.h5"
    write_model_h5(os.path.join(FILES, file), config, weights, "2.2.4-tf", fixed=True, top_level=False,
                   str_metadata=False)
    entries.append({"file": file, "model": "embedding_lstm_dense", "writer": "tf.keras 1.x (2.2.4-tf) CuDNNLSTM",
                    "summary_names": {"lstm": "cu_dnnlstm"}})
    gru_model, gru_case = MODELS["gru_reset_after"], load_case(*MODELS["gru_reset_after"]["source"])
    gru_spec = dict(gru_model["layers"][0], class_name="CuDNNGRU", name="cu_dnngru")
    config = {"class_name": "Sequential", "config": {"name": "sequential", "layers": [
        keras224_layer(gru_spec, gru_model["input_shape"], cudnn=True)]}}
    weights = [("cu_dnngru", list(zip([f"cu_dnngru/{p}:0" for p in params["lstm"]],
                                      to_cudnn(weights_of(gru_case, "gru"), 3))))]
    file = "gru_cudnngru.tf1.h5"
    write_model_h5(os.path.join(FILES, file), config, weights, "2.2.4-tf", fixed=True, top_level=False,
                   str_metadata=False)
    entries.append({"file": file, "model": "gru_reset_after", "writer": "tf.keras 1.x (2.2.4-tf) CuDNNGRU",
                    "summary_names": {"gru": "cu_dnngru"}})

    # Keras 1.2.2: Sequential config as a bare list, Keras 1 arguments, LSTM weights per gate (12 arrays) named
    # by the TF backend ("lstm_1_W_i:0"), TimeDistributed(Dense) holding the Dense's weights.
    td_model, td_case = MODELS["char_rnn_td"], load_case(*MODELS["char_rnn_td"]["source"])
    lstm_spec = dict(td_model["layers"][0], name="lstm_1")
    dense_spec = dict(td_model["layers"][1]["options"]["layer"], name="dense_1")
    dense_spec["options"] = dict(dense_spec["options"], input_dim=4)
    td_spec = {"class_name": "TimeDistributed", "name": "timedistributed_1", "options": {"layer": dense_spec}}
    config = {"class_name": "Sequential", "config": [keras1_layer(lstm_spec, td_model["input_shape"], 4),
                                                      keras1_layer(td_spec)]}
    per_gate = lstm_to_keras1(*weights_of(td_case, "lstm"))
    gate_names = [f"lstm_1_{kind}_{g}:0" for g in "icfo" for kind in ("W", "U", "b")]
    weights = [("lstm_1", list(zip(gate_names, per_gate))),
               ("timedistributed_1", list(zip(["dense_1_W:0", "dense_1_b:0"], weights_of(td_case, "time_distributed"))))]
    file = "char_rnn_td.keras1.2.2.h5"
    # Keras 1.2.2's save_model: keras_version and model_config at the root; the weights group only has
    # layer_names (load_weights_from_hdf5_group then takes the file for Keras "1").
    write_model_h5(os.path.join(FILES, file), config, weights, "1.2.2", fixed=True, top_level=False,
                   str_metadata=False, weights_version_and_backend=False)
    with h5py.File(os.path.join(FILES, file), "r+") as f:
        del f.attrs["backend"]
    entries.append({"file": file, "model": "char_rnn_td", "writer": "Keras 1.2.2 model.save (h5py 2)",
                    "summary_names": {"lstm": "lstm_1", "time_distributed": "timedistributed_1"},
                    "model_name": "sequential"})

    # The same era's char-RNN head: TimeDistributed(Dense) then Activation('softmax').
    act_model, act_case = MODELS["char_rnn_activation"], load_case(*MODELS["char_rnn_activation"]["source"])
    lstm_spec = dict(act_model["layers"][0], name="lstm_1")
    dense_spec = dict(act_model["layers"][1]["options"]["layer"], name="dense_1")
    dense_spec["options"] = dict(dense_spec["options"], input_dim=4)
    td_spec = {"class_name": "TimeDistributed", "name": "timedistributed_1", "options": {"layer": dense_spec}}
    activation_spec = dict(act_model["layers"][2], name="activation_1")
    config = {"class_name": "Sequential", "config": [keras1_layer(lstm_spec, act_model["input_shape"], 3),
                                                      keras1_layer(td_spec), keras1_layer(activation_spec)]}
    per_gate = lstm_to_keras1(*weights_of(act_case, "lstm"))
    weights = [("lstm_1", list(zip(gate_names, per_gate))),
               ("timedistributed_1", list(zip(["dense_1_W:0", "dense_1_b:0"],
                                              weights_of(act_case, "time_distributed")))),
               ("activation_1", [])]
    file = "char_rnn_activation.keras1.2.2.h5"
    write_model_h5(os.path.join(FILES, file), config, weights, "1.2.2", fixed=True, top_level=False,
                   str_metadata=False, weights_version_and_backend=False)
    with h5py.File(os.path.join(FILES, file), "r+") as f:
        del f.attrs["backend"]
    entries.append({"file": file, "model": "char_rnn_activation", "writer": "Keras 1.2.2 model.save (h5py 2)",
                    "summary_names": {"lstm": "lstm_1", "time_distributed": "timedistributed_1",
                                      "activation": "activation_1"},
                    "model_name": "sequential"})

    # Keras 3's legacy .h5 (model.save("m.h5") in Keras 3): weight names are variable paths without ":0" that
    # start with the model's name.
    file = "gru_reset_after.keras3.legacy.h5"
    config = keras3_legacy_model_config(gru_model, "sequential_1")
    weights = [("gru", [(f"sequential_1/gru/gru_cell/{p}", w) for p, w in zip(params["lstm"], weights_of(gru_case, "gru"))])]
    write_model_h5(os.path.join(FILES, file), config, weights, "3.6.0")
    entries.append({"file": file, "model": "gru_reset_after", "writer": "Keras 3 legacy_h5_format (h5py 3)",
                    "model_name": "sequential_1"})

    # Functional models whose graph is a chain: they load as Functional models (and convert to Sequential). Keras's
    # summary of such a model has an InputLayer row, which a Sequential's does not: these entries have no summary
    # to compare.
    model, case = MODELS["embedding_lstm_dense"], load_case(*MODELS["embedding_lstm_dense"]["source"])
    names = tf211_weight_names(model)
    file = "embedding_lstm_dense.functional.tf2.11.h5"
    write_model_h5(os.path.join(FILES, file), tf211_functional_config(model),
                   [("input_1", [])] + layer_weights(model, case, names), "2.11.0")
    entries.append({"file": file, "model": "embedding_lstm_dense", "writer": "tf.keras 2.11 Functional model.save",
                    "functional": True})
    file = "embedding_lstm_dense.functional.keras3.keras"
    write_keras_archive(os.path.join(FILES, file), keras3_functional_config(model),
                        lambda f: write_keras3_weights(f, model, case, functional=True))
    entries.append({"file": file, "model": "embedding_lstm_dense", "writer": "Keras 3 Functional model.save",
                    "functional": True})

    for entry in entries:
        if entry.get("functional"):
            continue
        # rnnkit loads CuDNNLSTM/CuDNNGRU as LSTM/GRU, so its summary names those classes.
        model = MODELS[entry["model"]]
        entry["summary_keras2.12"] = summary_keras_2_12(model, load_case(*model["source"]),
                                                        entry.get("model_name", "sequential"),
                                                        entry.get("summary_names"))
    with open(os.path.join(HERE, "fixtures.json"), "w") as f:
        json.dump({"generator": "make_fixtures.py", "models": models_json, "files": entries}, f, indent=1)
        f.write("\n")

    make_malformed()
    print(f"wrote {len(entries)} fixture files and the malformed corpus")


# ---------------------------------------------------------------------------------------------- malformed

def make_malformed():
    corpus = []
    good_h5 = os.path.join(FILES, "embedding_lstm_dense.tf2.11.h5")
    good_keras = os.path.join(FILES, "embedding_lstm_dense.keras3.keras")
    model, case = MODELS["embedding_lstm_dense"], load_case(*MODELS["embedding_lstm_dense"]["source"])
    names = tf211_weight_names(model)

    def add(file, expect, function="load_model"):
        corpus.append({"file": file, "function": function, "expect": expect})

    def path(name):
        return os.path.join(MALFORMED, name)

    def h5_variant(name, edit, config=None):
        layers = layer_weights(model, case, names)
        write_model_h5(path(name), config or tf211_model_config(model), layers, "2.11.0")
        with h5py.File(path(name), "r+") as f:
            edit(f)

    with open(good_h5, "rb") as f:
        data = f.read()
    with open(path("truncated.h5"), "wb") as f:
        f.write(data[: len(data) * 6 // 10])
    add("truncated.h5", ["truncated.h5", "cannot open it as an HDF5 file"])
    with open(path("signature_only.h5"), "wb") as f:
        f.write(data[:8])
    add("signature_only.h5", ["signature_only.h5", "cannot open it as an HDF5 file"])
    with open(path("wrong_magic.h5"), "wb") as f:
        f.write(b"GIF89a" + data[6:200])
    add("wrong_magic.h5", ["wrong_magic.h5", "not a Keras model file", "GIF89a"])
    open(path("empty.keras"), "wb").close()
    add("empty.keras", ["empty.keras", "empty"])

    kernel = "/model_weights/lstm/lstm/lstm_cell/kernel:0"

    def wrong_shape(f):
        del f[kernel]
        f.create_dataset(kernel, data=np.zeros((3, 12), np.float32))
    h5_variant("wrong_shape.h5", wrong_shape)
    add("wrong_shape.h5", ["wrong_shape.h5", kernel, "(3, 12)", "(3, 16)"])

    def wrong_dtype(f):
        del f[kernel]
        f.create_dataset(kernel, data=np.zeros((3, 16), np.int32))
    h5_variant("wrong_dtype.h5", wrong_dtype)
    add("wrong_dtype.h5", ["wrong_dtype.h5", kernel, "integer"])

    def missing_weight(f):
        del f["/model_weights/lstm/lstm/lstm_cell/bias:0"]
    h5_variant("missing_weight.h5", missing_weight)
    add("missing_weight.h5", ["missing_weight.h5", "/model_weights/lstm/lstm/lstm_cell/bias:0", "no such dataset"])

    def group_not_dataset(f):
        del f[kernel]
        f.create_group(kernel)
    h5_variant("group_not_dataset.h5", group_not_dataset)
    add("group_not_dataset.h5", ["group_not_dataset.h5", kernel, "is a group, expected a dataset"])

    def layer_not_group(f):
        del f["/model_weights/dense"]
        f.create_dataset("/model_weights/dense", data=np.zeros(3, np.float32))
    h5_variant("layer_not_group.h5", layer_not_group)
    add("layer_not_group.h5", ["layer_not_group.h5", "/model_weights/dense", "is not a group"])

    def absurd_shape(f):
        del f[kernel]
        # A chunked dataset need not allocate its storage: 2^40 x 2^20 floats is a valid, empty dataset.
        f.create_dataset(kernel, shape=(2 ** 40, 2 ** 20), dtype=np.float32, chunks=(1, 16))
    h5_variant("absurd_shape.h5", absurd_shape)
    add("absurd_shape.h5", ["absurd_shape.h5", kernel, "(1099511627776, 1048576)", "more values"])

    def missing_layer(f):
        f["/model_weights"].attrs["layer_names"] = [b"embedding", b"lstm"]
    h5_variant("layer_count.h5", missing_layer)
    add("layer_count.h5", ["layer_count.h5", "weights for 2 layers", "3 layers with weights"])

    def unknown_layer(f):
        config = tf211_model_config(model)
        config["config"]["layers"][2]["class_name"] = "MyAttentionLayer"
        f.attrs["model_config"] = json.dumps(config).encode("utf8")
    h5_variant("unknown_layer.h5", unknown_layer)
    add("unknown_layer.h5", ["unknown_layer.h5", "model_config", "MyAttentionLayer"])

    def bad_json(f):
        f.attrs["model_config"] = b'{"class_name": "Sequential", "config": {'
    h5_variant("bad_json.h5", bad_json)
    add("bad_json.h5", ["bad_json.h5", "model_config", "not valid JSON"])

    def no_config(f):
        del f.attrs["model_config"]
    h5_variant("no_model_config.h5", no_config)
    add("no_model_config.h5", ["no_model_config.h5", "model_config", "missing"])

    def config_not_string(f):
        del f.attrs["model_config"]
        f.attrs["model_config"] = np.arange(4, dtype=np.int32)
    h5_variant("config_not_string.h5", config_not_string)
    add("config_not_string.h5", ["config_not_string.h5", "model_config", "expected a list of strings"])

    def external_link(f):
        del f[kernel]
        f[kernel] = h5py.ExternalLink("/etc/passwd", "/x")
    h5_variant("external_link.h5", external_link)
    add("external_link.h5", ["external_link.h5", kernel, "external link"])

    with h5py.File(path("weights_only.h5"), "w") as f:
        write_weights_group(f, layer_weights(model, case, names), "2.11.0")
    add("weights_only.h5", ["weights_only.h5", "weights only"])

    # .keras archives
    config = keras3_model_config(model)
    write_keras_archive(path("no_config.keras"), config, lambda f: write_keras3_weights(f, model, case),
                        members=("metadata.json", "model.weights.h5"))
    add("no_config.keras", ["no_config.keras", "no config.json"])
    write_keras_archive(path("no_weights.keras"), config, lambda f: write_keras3_weights(f, model, case),
                        members=("metadata.json", "config.json"))
    add("no_weights.keras", ["no_weights.keras", "no model.weights.h5"])
    with open(good_keras, "rb") as f:
        data = f.read()
    with open(path("truncated.keras"), "wb") as f:
        f.write(data[: len(data) // 2])
    add("truncated.keras", ["truncated.keras"])

    def keras_variant(name, edit_weights=None, edit_config=None):
        cfg = copy.deepcopy(config)
        if edit_config:
            edit_config(cfg)

        def weights(f):
            write_keras3_weights(f, model, case)
            if edit_weights:
                edit_weights(f)
        write_keras_archive(path(name), cfg, weights)

    def keras_wrong_shape(f):
        del f["layers/lstm/cell/vars/0"]
        f["layers/lstm/cell/vars/0"] = np.zeros((4, 16), np.float32)
    keras_variant("keras_wrong_shape.keras", keras_wrong_shape)
    add("keras_wrong_shape.keras", ["keras_wrong_shape.keras", "model.weights.h5", "/layers/lstm/cell/vars/0",
                                    "(4, 16)", "(3, 16)"])

    def keras_missing_var(f):
        del f["layers/lstm/cell/vars/2"]
    keras_variant("keras_missing_var.keras", keras_missing_var)
    add("keras_missing_var.keras", ["keras_missing_var.keras", "/layers/lstm/cell/vars", "holds 2 variables",
                                    "expects 3"])

    def keras_unknown_layer(cfg):
        cfg["config"]["layers"][2]["class_name"] = "TransformerBlock"
    keras_variant("keras_unknown_layer.keras", edit_config=keras_unknown_layer)
    add("keras_unknown_layer.keras", ["keras_unknown_layer.keras", "config.json", "TransformerBlock"])

    with zipfile.ZipFile(path("keras_bad_json.keras"), "w") as zf:
        zf.writestr(zipfile.ZipInfo("metadata.json", date_time=ZIP_TIME), b"{}")
        zf.writestr(zipfile.ZipInfo("config.json", date_time=ZIP_TIME), b'{"module": "keras", ')
    add("keras_bad_json.keras", ["keras_bad_json.keras", "config.json", "not valid JSON"])

    with zipfile.ZipFile(path("keras_weights_not_h5.keras"), "w") as zf:
        zf.writestr(zipfile.ZipInfo("metadata.json", date_time=ZIP_TIME), b"{}")
        zf.writestr(zipfile.ZipInfo("config.json", date_time=ZIP_TIME), json.dumps(config).encode())
        zf.writestr(zipfile.ZipInfo("model.weights.h5", date_time=ZIP_TIME), b"not an hdf5 file at all")
    add("keras_weights_not_h5.keras", ["keras_weights_not_h5.keras", "model.weights.h5", "not an HDF5 file"])

    def huge_units(f):
        config = tf211_model_config(model)
        config["config"]["layers"][2]["config"]["units"] = 1_000_000_000
        f.attrs["model_config"] = json.dumps(config).encode("utf8")
    h5_variant("huge_units.h5", huge_units)
    add("huge_units.h5", ["huge_units.h5", "model_config", "layer 'lstm'", "more than 2^31"])

    def keras_huge_embedding(cfg):
        cfg["config"]["layers"][1]["config"]["input_dim"] = 2 ** 40
    keras_variant("keras_huge_embedding.keras", edit_config=keras_huge_embedding)
    add("keras_huge_embedding.keras", ["keras_huge_embedding.keras", "config.json", "layer 'embedding'",
                                       "more than 2^31"])

    branching = tf211_functional_config(model, branch=True)
    layers = layer_weights(model, case, names)
    layers.append(("dense_side", [("dense_side/kernel:0", np.zeros((4, 1), np.float32)),
                                  ("dense_side/bias:0", np.zeros(1, np.float32))]))
    write_model_h5(path("functional_branch.h5"), branching, [("input_1", [])] + layers, "2.11.0")
    add("functional_branch.h5", ["functional_branch.h5", "not supported yet", "'lstm'", "'dense'", "'dense_side'"])

    # NaN weights are not an error: the model loads (rnnkit summary warns).
    def nan_weights(f):
        f["/model_weights/dense/dense/bias:0"][0] = np.nan
    h5_variant("nan_weights.h5", nan_weights)
    add("nan_weights.h5", [], function="loads")

    with open(os.path.join(MALFORMED, "manifest.json"), "w") as f:
        json.dump({"generator": "make_fixtures.py", "cases": corpus}, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    sys.exit(main())
