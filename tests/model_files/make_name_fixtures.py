#!/usr/bin/python3
"""Writes tests/model_files/names/: model files of every Keras era whose configs use the names that era wrote
for initializers, regularizers, constraints and layers, with h5py, zipfile and json, independently of rnnkit.

Run with Debian's Python (python3-h5py, python3-numpy):   /usr/bin/python3 tests/model_files/make_name_fixtures.py

Each file follows the writer of its era as make_fixtures.py does (root attributes, weights layout, config
dialect); the configs differ from the Keras defaults in the names they use:
  * Keras 3.0-3.6 write Orthogonal as "OrthogonalInitializer" and Identity as "IdentityInitializer" (their first
    exported names), Keras 3.7+ as "Orthogonal" / "Identity"; every object carries module and registered_name,
    a custom one "package>Name".
  * tf.keras 2 writes its class names (RandomNormal, Identity, Constant, HeNormal, L1, MinMaxNorm, ...);
    tf.keras 1.x (keras_version "2.1.6-tf") the TF1 initializers' configs, with "dtype", and CuDNNLSTM/CuDNNGRU
    with cuDNN's weight layout.
  * Keras 2.0.x writes VarianceScaling(distribution="normal") (no 0.8796 correction then) and Keras 2 classes.
  * Keras 1.x writes initializer names as strings (glorot_normal, orthogonal, identity, zero, uniform, ...),
    regularizers and constraints as {"name": class, arguments} (WeightRegularizer, L1L2Regularizer, MaxNorm's
    m, MinMaxNorm's low/high), per-gate LSTM weights and TimeDistributedDense.

The expected outputs in names.json come from the numpy forward pass below (Keras's cell equations: LSTM gates
i, f, c, o; GRU z, r, h with reset_after; Keras 2's hard_sigmoid 0.2x + 0.5), on the weights written in their
Keras layout before any conversion to the file's era.
"""

import io
import json
import os
import sys
import zipfile

import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from make_fixtures import ZIP_TIME, dtype_policy, lstm_to_keras1, snake_case, to_cudnn, write_model_h5  # noqa: E402

OUT = os.path.join(HERE, "names")
RNG = np.random.default_rng(20240611)


# ---------------------------------------------------------------------------------------------- forward pass

def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def hard_sigmoid_keras2(x):
    return np.clip(0.2 * x + 0.5, 0.0, 1.0)


ACTIVATIONS = {"tanh": np.tanh, "sigmoid": sigmoid, "hard_sigmoid": hard_sigmoid_keras2, "linear": lambda x: x,
               "relu": lambda x: np.maximum(x, 0.0),
               "softmax": lambda x: np.exp(x - x.max(-1, keepdims=True)) / np.exp(x - x.max(-1, keepdims=True)).sum(
                   -1, keepdims=True)}


def run_rnn(kind, weights, x, units, return_sequences=False, activation="tanh", recurrent_activation="sigmoid",
            reset_after=True):
    """Keras's SimpleRNN / LSTM / GRU on x (B, T, F), weights (kernel, recurrent_kernel, bias) in Keras's layout."""
    kernel, recurrent, bias = [w.astype(np.float64) for w in weights]
    act, ract = ACTIVATIONS[activation], ACTIVATIONS[recurrent_activation]
    batch, steps, _ = x.shape
    h = np.zeros((batch, units))
    c = np.zeros((batch, units))
    outputs = []
    for t in range(steps):
        xt = x[:, t, :].astype(np.float64)
        if kind == "SimpleRNN":
            h = act(xt @ kernel + h @ recurrent + bias)
        elif kind == "LSTM":
            z = xt @ kernel + h @ recurrent + bias
            i, f, g, o = (z[:, k * units:(k + 1) * units] for k in range(4))
            c = ract(f) * c + ract(i) * act(g)
            h = ract(o) * act(c)
        else:  # GRU: gates z, r, h
            input_bias, recurrent_bias = (bias[0], bias[1]) if reset_after else (bias, np.zeros_like(bias))
            xz = xt @ kernel + input_bias
            if reset_after:
                hz = h @ recurrent + recurrent_bias
                z = ract(xz[:, :units] + hz[:, :units])
                r = ract(xz[:, units:2 * units] + hz[:, units:2 * units])
                candidate = act(xz[:, 2 * units:] + r * hz[:, 2 * units:])
            else:
                z = ract(xz[:, :units] + h @ recurrent[:, :units])
                r = ract(xz[:, units:2 * units] + h @ recurrent[:, units:2 * units])
                candidate = act(xz[:, 2 * units:] + (r * h) @ recurrent[:, 2 * units:])
            h = z * h + (1.0 - z) * candidate
        outputs.append(h)
    return np.stack(outputs, axis=1) if return_sequences else h


def bidirectional(kind, forward_weights, backward_weights, x, units, return_sequences, **options):
    """Keras's Bidirectional(merge_mode="concat"): the backward copy reads the reversed sequence and its
    sequence output is reversed back to line up with the forward one."""
    forward = run_rnn(kind, forward_weights, x, units, return_sequences, **options)
    backward = run_rnn(kind, backward_weights, x[:, ::-1, :], units, return_sequences, **options)
    if return_sequences:
        backward = backward[:, ::-1, :]
    return np.concatenate([forward, backward], axis=-1)


def dense(weights, x, activation="linear"):
    kernel, bias = [w.astype(np.float64) for w in weights]
    return ACTIVATIONS[activation](x @ kernel + bias)


def weights_for(kind, features, units, reset_after=True, scale=0.5):
    gates = {"SimpleRNN": 1, "LSTM": 4, "GRU": 3}[kind]
    kernel = RNG.normal(0.0, scale, (features, gates * units)).astype(np.float32)
    recurrent = RNG.normal(0.0, scale, (units, gates * units)).astype(np.float32)
    bias_shape = (2, gates * units) if kind == "GRU" and reset_after else (gates * units,)
    bias = RNG.normal(0.0, scale, bias_shape).astype(np.float32)
    return [kernel, recurrent, bias]


def dense_weights(features, units, scale=0.5):
    return [RNG.normal(0.0, scale, (features, units)).astype(np.float32),
            RNG.normal(0.0, scale, (units,)).astype(np.float32)]


# ---------------------------------------------------------------------------------------------- config pieces

def k3(module, class_name, config, registered_name=None):
    """serialize_keras_object of a Keras 3 object."""
    return {"module": module, "class_name": class_name, "config": config, "registered_name": registered_name}


def init3(class_name, config):
    return k3("keras.initializers", class_name, config)


def keras3_rnn_config(name, units, kind, return_sequences, initializers, regularizers=None, constraints=None):
    """Keras 3's LSTM / GRU get_config (keras/src/layers/rnn/lstm.py, gru.py)."""
    regularizers = regularizers or {}
    constraints = constraints or {}
    c = {"name": name, "trainable": True, "dtype": dtype_policy(), "return_sequences": return_sequences,
         "return_state": False, "go_backwards": False, "stateful": False, "unroll": False,
         "zero_output_for_mask": False, "units": units, "activation": "tanh", "recurrent_activation": "sigmoid",
         "use_bias": True}
    for key in ("kernel_initializer", "recurrent_initializer", "bias_initializer"):
        c[key] = initializers[key]
    if kind == "LSTM":
        c["unit_forget_bias"] = True
    for key in ("kernel_regularizer", "recurrent_regularizer", "bias_regularizer", "activity_regularizer"):
        c[key] = regularizers.get(key)
    for key in ("kernel_constraint", "recurrent_constraint", "bias_constraint"):
        c[key] = constraints.get(key)
    c.update({"dropout": 0.0, "recurrent_dropout": 0.0, "seed": None})
    if kind == "GRU":
        c["reset_after"] = True
    return c


def keras3_dense_config(name, units, activation, initializers, regularizers=None, constraints=None):
    regularizers = regularizers or {}
    constraints = constraints or {}
    return {"name": name, "trainable": True, "dtype": dtype_policy(), "units": units, "activation": activation,
            "use_bias": True, "kernel_initializer": initializers["kernel_initializer"],
            "bias_initializer": initializers["bias_initializer"],
            "kernel_regularizer": regularizers.get("kernel_regularizer"),
            "bias_regularizer": regularizers.get("bias_regularizer"),
            "kernel_constraint": constraints.get("kernel_constraint"),
            "bias_constraint": constraints.get("bias_constraint")}


def write_archive(path, config, weights_writer, keras_version):
    """saving_lib._save_model_to_fileobj: a ZIP_STORED archive of metadata.json, config.json, model.weights.h5."""
    metadata = json.dumps({"keras_version": keras_version, "date_saved": "2024-01-01@00:00:00"})
    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as f:
        weights_writer(f)
    with zipfile.ZipFile(path, "w") as zf:
        for member, data in (("metadata.json", metadata.encode()), ("config.json", json.dumps(config).encode()),
                             ("model.weights.h5", buffer.getvalue())):
            zf.writestr(zipfile.ZipInfo(member, date_time=ZIP_TIME), data)


def keras3_weights_writer(layers):
    """saving_lib._save_state: layers/<snake_case class>[_n]/vars, an RNN's under cell/vars."""
    def write(f):
        f.create_group("vars")
        used = {}
        for class_name, weights in layers:
            name = snake_case(class_name)
            used[name] = used.get(name, -1) + 1
            path = "layers/" + (name if used[name] == 0 else f"{name}_{used[name]}")
            group = f.create_group(path)
            group.create_group("vars")
            target = group.create_group("cell").create_group("vars") if class_name in ("LSTM", "GRU", "SimpleRNN") \
                else group["vars"]
            for i, w in enumerate(weights):
                target[str(i)] = w
    return write


# ---------------------------------------------------------------------------------------------- fixtures

def keras3_files(entries):
    """Keras 3.4.1 (.keras and legacy .h5) and Keras 3.8.0 (.keras): LSTM(3, sequences) + GRU(2) + Dense(2)."""
    x = RNG.normal(0.0, 1.0, (2, 4, 3)).astype(np.float32)
    lstm = weights_for("LSTM", 3, 3)
    gru = weights_for("GRU", 3, 2)
    out = dense_weights(2, 2)
    expected = dense(out, run_rnn("GRU", gru, run_rnn("LSTM", lstm, x, 3, True), 2), "softmax")

    for version, orthogonal, identity in (("3.4.1", "OrthogonalInitializer", "IdentityInitializer"),
                                          ("3.8.0", "Orthogonal", "Identity")):
        custom = k3("my_package.initializers", "MyInit", {"scale": 3}, "my_package>MyInit")
        lstm_config = keras3_rnn_config(
            "lstm", 3, "LSTM", True,
            {"kernel_initializer": init3("VarianceScaling", {"scale": 2.0, "mode": "fan_out",
                                                               "distribution": "untruncated_normal", "seed": None}),
             "recurrent_initializer": init3(orthogonal, {"gain": 1.0, "seed": None}),
             "bias_initializer": init3("Zeros", {})},
            {"kernel_regularizer": k3("keras.regularizers", "L1L2", {"l1": 0.001, "l2": 0.002}),
             "recurrent_regularizer": k3("keras.regularizers", "OrthogonalRegularizer", {"factor": 0.01,
                                                                                        "mode": "rows"})},
            {"kernel_constraint": k3("keras.constraints", "MaxNorm", {"max_value": 2.0, "axis": 0}),
             "recurrent_constraint": k3("keras.constraints", "UnitNorm", {"axis": 0}),
             "bias_constraint": k3("keras.constraints", "NonNeg", {})})
        gru_config = keras3_rnn_config(
            "gru", 2, "GRU", False,
            {"kernel_initializer": init3(identity, {"gain": 0.5}),
             "recurrent_initializer": init3(orthogonal, {"gain": 1.0, "seed": None}),
             "bias_initializer": custom},
            {"bias_regularizer": k3("keras.regularizers", "L2", {"l2": 0.01})},
            {"kernel_constraint": k3("keras.constraints", "MinMaxNorm",
                                     {"min_value": 0.0, "max_value": 1.0, "rate": 1.0, "axis": 0})})
        dense_config = keras3_dense_config(
            "dense", 2, "softmax",
            {"kernel_initializer": init3("TruncatedNormal", {"mean": 0.0, "stddev": 0.05, "seed": None}),
             "bias_initializer": init3("Constant", {"value": 0.1})},
            {"kernel_regularizer": k3("keras.regularizers", "L1", {"l1": 0.01})})
        layers = [k3("keras.layers", "InputLayer", {"batch_shape": [None, 4, 3], "dtype": "float32",
                                                   "sparse": False, "name": "input_layer"})]
        for (cls, cfg), shape in zip((("LSTM", lstm_config), ("GRU", gru_config), ("Dense", dense_config)),
                                     ([None, 4, 3], [None, 4, 3], [None, 2])):
            layers.append(dict(k3("keras.layers", cls, cfg), build_config={"input_shape": shape}))
        config = dict(k3("keras", "Sequential", {"name": "sequential", "trainable": True, "dtype": dtype_policy(),
                                                 "layers": layers, "build_input_shape": [None, 4, 3]}),
                      build_config={"input_shape": [None, 4, 3]})
        file = f"lstm_gru_dense.keras{version}.keras"
        write_archive(os.path.join(OUT, file), config,
                      keras3_weights_writer([("LSTM", lstm), ("GRU", gru), ("Dense", out)]), version)
        entries.append({"file": file, "era": f"Keras {version} model.save (.keras)", "input": x.tolist(),
                        "output": expected.tolist()})

        if version == "3.4.1":
            # Keras 3's legacy .h5 keeps module and registered_name on initializers (as the files of the wild
            # do) and writes weights as <layer>/sequential/<layer>/<cell>/<name>.
            legacy = {"class_name": "Sequential",
                      "config": {"name": "sequential", "trainable": True, "dtype": dtype_policy(),
                                 "layers": [{"class_name": layer["class_name"], "config": layer["config"]}
                                            for layer in layers]}}
            weights = [("dense", [("sequential/dense/kernel", out[0]), ("sequential/dense/bias", out[1])]),
                       ("gru", [(f"sequential/gru/gru_cell/{p}", w)
                                for p, w in zip(("kernel", "recurrent_kernel", "bias"), gru)]),
                       ("lstm", [(f"sequential/lstm/lstm_cell/{p}", w)
                                 for p, w in zip(("kernel", "recurrent_kernel", "bias"), lstm)])]
            order = {"lstm": 0, "gru": 1, "dense": 2}
            weights.sort(key=lambda item: order[item[0]])
            file = f"lstm_gru_dense.keras{version}.legacy.h5"
            write_model_h5(os.path.join(OUT, file), legacy, weights, version)
            entries.append({"file": file, "era": f"Keras {version} model.save (legacy .h5)", "input": x.tolist(),
                            "output": expected.tolist()})


def tf2_file(entries):
    """tf.keras 2.11: Embedding + SimpleRNN (IRNN-style Identity) + Dense, tf.keras 2's class names."""
    ids = np.array([[1, 4, 2, 7], [3, 3, 9, 0]], dtype=np.int64)
    table = RNG.normal(0.0, 0.5, (10, 3)).astype(np.float32)
    rnn = weights_for("SimpleRNN", 3, 4)
    out = dense_weights(4, 2)
    expected = dense(out, run_rnn("SimpleRNN", rnn, table[ids], 4), "sigmoid")
    layers = [
        {"class_name": "InputLayer", "config": {"batch_input_shape": [None, 4], "dtype": "float32", "sparse": False,
                                                "ragged": False, "name": "embedding_input"}},
        {"class_name": "Embedding", "config": {
            "name": "embedding", "trainable": True, "batch_input_shape": [None, 4], "dtype": "float32",
            "input_dim": 10, "output_dim": 3,
            "embeddings_initializer": {"class_name": "RandomUniform",
                                       "config": {"minval": -0.05, "maxval": 0.05, "seed": None}},
            "embeddings_regularizer": {"class_name": "L1", "config": {"l1": 0.0005}},
            "activity_regularizer": None,
            "embeddings_constraint": {"class_name": "UnitNorm", "config": {"axis": 1}},
            "mask_zero": False, "input_length": 4}},
        {"class_name": "SimpleRNN", "config": {
            "name": "simple_rnn", "trainable": True, "dtype": "float32", "return_sequences": False,
            "return_state": False, "go_backwards": False, "stateful": False, "unroll": False, "time_major": False,
            "units": 4, "activation": "tanh", "use_bias": True,
            "kernel_initializer": {"class_name": "RandomNormal", "config": {"mean": 0.0, "stddev": 0.1,
                                                                            "seed": None}},
            "recurrent_initializer": {"class_name": "Identity", "config": {"gain": 1.0}},
            "bias_initializer": {"class_name": "Constant", "config": {"value": 0.1}},
            "kernel_regularizer": {"class_name": "L1L2", "config": {"l1": 0.0, "l2": 0.001}},
            "recurrent_regularizer": {"class_name": "OrthogonalRegularizer", "config": {"factor": 0.02,
                                                                                      "mode": "columns"}},
            "bias_regularizer": None, "activity_regularizer": None,
            "kernel_constraint": {"class_name": "MinMaxNorm", "config": {"min_value": 0.0, "max_value": 2.0,
                                                                         "rate": 0.5, "axis": 0}},
            "recurrent_constraint": None, "bias_constraint": {"class_name": "NonNeg", "config": {}},
            "dropout": 0.0, "recurrent_dropout": 0.0}},
        {"class_name": "Dense", "config": {
            "name": "dense", "trainable": True, "dtype": "float32", "units": 2, "activation": "sigmoid",
            "use_bias": True,
            "kernel_initializer": {"class_name": "HeNormal", "config": {"seed": None}},
            "bias_initializer": {"class_name": "TruncatedNormal", "config": {"mean": 0.0, "stddev": 0.05,
                                                                             "seed": None}},
            "kernel_regularizer": {"class_name": "L2", "config": {"l2": 0.01}}, "bias_regularizer": None,
            "activity_regularizer": None,
            "kernel_constraint": {"class_name": "MaxNorm", "config": {"max_value": 3, "axis": 0}},
            "bias_constraint": None}},
    ]
    config = {"class_name": "Sequential", "config": {"name": "sequential", "layers": layers}}
    weights = [("dense", [("dense/kernel:0", out[0]), ("dense/bias:0", out[1])]),
               ("embedding", [("embedding/embeddings:0", table)]),
               ("simple_rnn", [(f"simple_rnn/simple_rnn_cell/{p}:0", w)
                               for p, w in zip(("kernel", "recurrent_kernel", "bias"), rnn)])]
    order = {"embedding": 0, "simple_rnn": 1, "dense": 2}
    weights.sort(key=lambda item: order[item[0]])
    file = "embedding_simplernn_dense.tf2.11.h5"
    write_model_h5(os.path.join(OUT, file), config, weights, "2.11.0")
    entries.append({"file": file, "era": "tf.keras 2.11 model.save", "input": ids.tolist(),
                    "output": expected.tolist()})


def tf1_cudnn_file(entries):
    """tf.keras 1.x ("2.1.6-tf"): Bidirectional(CuDNNLSTM(3, sequences)) + CuDNNGRU(2) + Dense(2), TF1
    initializer configs (with "dtype"), weights in cuDNN's layout (hdf5_format._convert_rnn_weights converts them
    on load: per-gate transposed kernels, LSTM biases doubled, the GRU bias (6U,) = the reset_after (2, 3U))."""
    x = RNG.normal(0.0, 1.0, (2, 5, 3)).astype(np.float32)
    forward = weights_for("LSTM", 3, 3)
    backward = weights_for("LSTM", 3, 3)
    gru = weights_for("GRU", 6, 2)
    out = dense_weights(2, 2)
    hidden = bidirectional("LSTM", forward, backward, x, 3, True)
    expected = dense(out, run_rnn("GRU", gru, hidden, 2), "linear")

    def v1(class_name, **config):
        return {"class_name": class_name, "config": dict(config, dtype="float32")}

    def cudnn(class_name, name, units, sequences, shape=None):
        c = {"name": name, "trainable": True, "dtype": "float32"}
        if shape is not None:
            c["batch_input_shape"] = shape
        c.update({"units": units,
                  "kernel_initializer": v1("VarianceScaling", scale=1.0, mode="fan_avg", distribution="uniform",
                                           seed=None),
                  "recurrent_initializer": v1("Orthogonal", gain=1.0, seed=None),
                  "bias_initializer": v1("Zeros")})
        if class_name == "CuDNNLSTM":
            c["unit_forget_bias"] = True
        c.update({"kernel_regularizer": None, "recurrent_regularizer": None, "bias_regularizer": None,
                  "activity_regularizer": None, "kernel_constraint": None, "recurrent_constraint": None,
                  "bias_constraint": None, "return_sequences": sequences, "return_state": False,
                  "go_backwards": False, "stateful": False})
        return {"class_name": class_name, "config": c}

    layers = [
        {"class_name": "Bidirectional", "config": {"name": "bidirectional", "trainable": True,
                                                   "batch_input_shape": [None, 5, 3], "dtype": "float32",
                                                   "layer": cudnn("CuDNNLSTM", "cu_dnnlstm", 3, True),
                                                   "merge_mode": "concat"}},
        cudnn("CuDNNGRU", "cu_dnngru", 2, False),
        {"class_name": "Dense", "config": {
            "name": "dense", "trainable": True, "dtype": "float32", "units": 2, "activation": "linear",
            "use_bias": True, "kernel_initializer": v1("GlorotUniform", seed=None), "bias_initializer": v1("Zeros"),
            "kernel_regularizer": None, "bias_regularizer": None, "activity_regularizer": None,
            "kernel_constraint": None, "bias_constraint": None}},
    ]
    config = {"class_name": "Sequential", "config": {"name": "sequential", "layers": layers}}
    params = ("kernel", "recurrent_kernel", "bias")
    weights = [
        ("bidirectional",
         [(f"bidirectional/forward_cu_dnnlstm/{p}:0", w) for p, w in zip(params, to_cudnn(forward, 4))] +
         [(f"bidirectional/backward_cu_dnnlstm/{p}:0", w) for p, w in zip(params, to_cudnn(backward, 4))]),
        ("cu_dnngru", [(f"cu_dnngru/{p}:0", w) for p, w in zip(params, to_cudnn(gru, 3))]),
        ("dense", [("dense/kernel:0", out[0]), ("dense/bias:0", out[1])]),
    ]
    file = "bicudnnlstm_cudnngru_dense.tf1.h5"
    write_model_h5(os.path.join(OUT, file), config, weights, "2.1.6-tf", fixed=True, top_level=False,
                   str_metadata=False)
    entries.append({"file": file, "era": "tf.keras 1.x (2.1.6-tf) CuDNNLSTM / CuDNNGRU", "input": x.tolist(),
                    "output": expected.tolist()})


def keras20_file(entries):
    """Keras 2.0.8: GRU(3) (reset_after did not exist: Keras 2.0's GRU is reset_after=False, hard_sigmoid) with
    VarianceScaling(distribution="normal"), Orthogonal(gain=1.1), MaxNorm and L1L2 as Keras 2.0 wrote them."""
    x = RNG.normal(0.0, 1.0, (2, 3, 4)).astype(np.float32)
    gru = weights_for("GRU", 4, 3, reset_after=False)
    out = dense_weights(3, 1)
    expected = dense(out, run_rnn("GRU", gru, x, 3, recurrent_activation="hard_sigmoid", reset_after=False),
                     "sigmoid")
    layers = [
        {"class_name": "GRU", "config": {
            "name": "gru_1", "trainable": True, "batch_input_shape": [None, 3, 4], "dtype": "float32",
            "return_sequences": False, "go_backwards": False, "stateful": False, "unroll": False,
            "implementation": 0, "units": 3, "activation": "tanh", "recurrent_activation": "hard_sigmoid",
            "use_bias": True,
            "kernel_initializer": {"class_name": "VarianceScaling",
                                   "config": {"scale": 1.0, "mode": "fan_in", "distribution": "normal",
                                              "seed": None}},
            "recurrent_initializer": {"class_name": "Orthogonal", "config": {"gain": 1.1, "seed": None}},
            "bias_initializer": {"class_name": "Zeros", "config": {}},
            "kernel_regularizer": {"class_name": "L1L2", "config": {"l1": 0.0, "l2": 0.0010000000474974513}},
            "recurrent_regularizer": None, "bias_regularizer": None, "activity_regularizer": None,
            "kernel_constraint": {"class_name": "MaxNorm", "config": {"max_value": 2, "axis": 0}},
            "recurrent_constraint": None,
            "bias_constraint": {"class_name": "NonNeg", "config": {}}, "dropout": 0.0, "recurrent_dropout": 0.0}},
        {"class_name": "Dense", "config": {
            "name": "dense_1", "trainable": True, "units": 1, "activation": "sigmoid", "use_bias": True,
            "kernel_initializer": {"class_name": "TruncatedNormal", "config": {"mean": 0.0, "stddev": 0.05,
                                                                               "seed": None}},
            "bias_initializer": {"class_name": "Constant", "config": {"value": 0.5}},
            "kernel_regularizer": None, "bias_regularizer": None, "activity_regularizer": None,
            "kernel_constraint": {"class_name": "UnitNorm", "config": {"axis": 0}}, "bias_constraint": None}},
    ]
    config = {"class_name": "Sequential", "config": layers}
    weights = [("dense_1", [("dense_1/kernel:0", out[0]), ("dense_1/bias:0", out[1])]),
               ("gru_1", [(f"gru_1/{p}:0", w) for p, w in zip(("kernel", "recurrent_kernel", "bias"), gru)])]
    weights.sort(key=lambda item: 0 if item[0] == "gru_1" else 1)
    file = "gru_dense.keras2.0.8.h5"
    write_model_h5(os.path.join(OUT, file), config, weights, "2.0.8", fixed=True, top_level=False,
                   str_metadata=False)
    entries.append({"file": file, "era": "Keras 2.0.8 model.save", "input": x.tolist(),
                    "output": expected.tolist()})


def keras1_files(entries):
    """Keras 1.2.2: LSTM(3, sequences) + TimeDistributedDense(2, softmax); Keras 1.1.0: SimpleRNN(3) + Dense(1)
    with WeightRegularizer / ActivityRegularizer. Initializers as Keras 1's names."""
    x = RNG.normal(0.0, 1.0, (2, 4, 3)).astype(np.float32)
    lstm = weights_for("LSTM", 3, 3)
    out = dense_weights(3, 2)
    expected = dense(out, run_rnn("LSTM", lstm, x, 3, True), "softmax")
    lstm_config = {
        "name": "lstm_1", "trainable": True, "batch_input_shape": [None, 4, 3], "input_dtype": "float32",
        "return_sequences": True, "go_backwards": False, "stateful": False, "unroll": False, "consume_less": "cpu",
        "input_dim": 3, "input_length": 4, "output_dim": 3, "init": "glorot_normal", "inner_init": "orthogonal",
        "forget_bias_init": "one", "activation": "tanh", "inner_activation": "sigmoid",
        "W_regularizer": {"name": "L1L2Regularizer", "l1": 0.0, "l2": 0.001},
        "U_regularizer": None, "b_regularizer": None, "dropout_W": 0.0, "dropout_U": 0.0,
        "W_constraint": {"name": "MaxNorm", "m": 2, "axis": 0},
        "U_constraint": {"name": "UnitNorm", "axis": 0},
        "b_constraint": {"name": "NonNeg"}}
    tdd_config = {
        "name": "timedistributeddense_1", "trainable": True, "output_dim": 2, "init": "he_uniform",
        "activation": "softmax", "W_regularizer": None, "b_regularizer": None, "activity_regularizer": None,
        "W_constraint": {"name": "MinMaxNorm", "low": 0.0, "high": 1.0, "rate": 1.0, "axis": 0},
        "b_constraint": None, "bias": True, "input_dim": 3, "input_length": None}
    config = {"class_name": "Sequential", "config": [{"class_name": "LSTM", "config": lstm_config},
                                                     {"class_name": "TimeDistributedDense", "config": tdd_config}]}
    gate_names = [f"lstm_1_{kind}_{g}:0" for g in "icfo" for kind in ("W", "U", "b")]
    weights = [("lstm_1", list(zip(gate_names, lstm_to_keras1(*lstm)))),
               ("timedistributeddense_1", [("timedistributeddense_1_W:0", out[0]),
                                           ("timedistributeddense_1_b:0", out[1])])]
    file = "lstm_tdd.keras1.2.2.h5"
    write_model_h5(os.path.join(OUT, file), config, weights, "1.2.2", fixed=True, top_level=False,
                   str_metadata=False, weights_version_and_backend=False)
    entries.append({"file": file, "era": "Keras 1.2.2 model.save", "input": x.tolist(), "output": expected.tolist()})

    x = RNG.normal(0.0, 1.0, (2, 4, 2)).astype(np.float32)
    rnn = weights_for("SimpleRNN", 2, 3)
    out = dense_weights(3, 1)
    expected = dense(out, run_rnn("SimpleRNN", rnn, x, 3), "linear")
    rnn_config = {
        "name": "simplernn_1", "trainable": True, "batch_input_shape": [None, 4, 2], "input_dtype": "float32",
        "return_sequences": False, "go_backwards": False, "stateful": False, "unroll": False, "consume_less": "cpu",
        "input_dim": 2, "input_length": 4, "output_dim": 3, "init": "lecun_uniform", "inner_init": "identity",
        "activation": "tanh", "W_regularizer": {"name": "WeightRegularizer", "l1": 0.001, "l2": 0.0},
        "U_regularizer": None, "b_regularizer": None, "dropout_W": 0.0, "dropout_U": 0.0}
    dense_config = {
        "name": "dense_1", "trainable": True, "output_dim": 1, "init": "normal", "activation": "linear",
        "W_regularizer": None, "b_regularizer": None,
        "activity_regularizer": {"name": "ActivityRegularizer", "l1": 0.0, "l2": 0.01},
        "W_constraint": {"name": "MaxNorm", "m": 3, "axis": 0}, "b_constraint": None, "bias": True,
        "input_dim": None}
    config = {"class_name": "Sequential", "config": [{"class_name": "SimpleRNN", "config": rnn_config},
                                                     {"class_name": "Dense", "config": dense_config}]}
    weights = [("simplernn_1", [("simplernn_1_W:0", rnn[0]), ("simplernn_1_U:0", rnn[1]),
                                ("simplernn_1_b:0", rnn[2])]),
               ("dense_1", [("dense_1_W:0", out[0]), ("dense_1_b:0", out[1])])]
    file = "simplernn_dense.keras1.1.0.h5"
    write_model_h5(os.path.join(OUT, file), config, weights, "1.1.0", fixed=True, top_level=False,
                   str_metadata=False, weights_version_and_backend=False)
    entries.append({"file": file, "era": "Keras 1.1.0 model.save", "input": x.tolist(), "output": expected.tolist()})


def check_forward_against_torch():
    """The forward pass above against PyTorch's LSTM and GRU (gates i, f, g, o and r, z, n; GRU's n is Keras's
    reset_after candidate), where Debian's python3-torch is installed."""
    try:
        import torch
    except ImportError:
        return
    rng = np.random.default_rng(7)
    x = rng.normal(0.0, 1.0, (2, 5, 3)).astype(np.float32)
    lstm = [rng.normal(0.0, 0.5, s).astype(np.float32) for s in ((3, 16), (4, 16), (16,))]
    reference = torch.nn.LSTM(3, 4, batch_first=True)
    with torch.no_grad():
        reference.weight_ih_l0.copy_(torch.tensor(lstm[0].T))
        reference.weight_hh_l0.copy_(torch.tensor(lstm[1].T))
        reference.bias_ih_l0.copy_(torch.tensor(lstm[2]))
        reference.bias_hh_l0.zero_()
        expected = reference(torch.tensor(x))[0].numpy()
    assert np.allclose(run_rnn("LSTM", lstm, x, 4, True), expected, atol=1e-5)
    gru = [rng.normal(0.0, 0.5, s).astype(np.float32) for s in ((3, 9), (3, 9), (2, 9))]

    def torch_order(a):  # Keras z, r, h -> PyTorch r, z, n along the last axis
        return np.concatenate([a[..., 3:6], a[..., 0:3], a[..., 6:9]], axis=-1)
    reference = torch.nn.GRU(3, 3, batch_first=True)
    with torch.no_grad():
        reference.weight_ih_l0.copy_(torch.tensor(torch_order(gru[0]).T))
        reference.weight_hh_l0.copy_(torch.tensor(torch_order(gru[1]).T))
        reference.bias_ih_l0.copy_(torch.tensor(torch_order(gru[2][0])))
        reference.bias_hh_l0.copy_(torch.tensor(torch_order(gru[2][1])))
        expected = reference(torch.tensor(x))[0].numpy()
    assert np.allclose(run_rnn("GRU", gru, x, 3, True), expected, atol=1e-5)


def main():
    check_forward_against_torch()
    os.makedirs(OUT, exist_ok=True)
    entries = []
    keras3_files(entries)
    tf2_file(entries)
    tf1_cudnn_file(entries)
    keras20_file(entries)
    keras1_files(entries)
    with open(os.path.join(OUT, "names.json"), "w") as f:
        json.dump({"generator": "make_name_fixtures.py", "files": entries}, f, indent=1)
        f.write("\n")
    print(f"wrote {len(entries)} files to {OUT}")


if __name__ == "__main__":
    sys.exit(main())
