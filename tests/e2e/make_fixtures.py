#!/usr/bin/python3
"""Writes the fixtures of the end-to-end tests (tests/e2e/*.sh) from the oracle fixtures of tests/parity.

For each case picked below, tests/e2e/fixtures/<name>/ gets:
  model.json    the Keras model JSON (model.to_json() format), as the oracle saw it
  weights.npz   the weights as np.savez writes them, named by Keras weight names
  x.npy         the input batch (float32, or int32 token ids where noted)
  expected.npy  the oracle's output (float32)

The outputs come from TF.js / Keras (the oracles of tests/parity), never from rnnkit, so predict.sh compares
rnnkit against an independent implementation. Run with Debian's interpreter, which has numpy:

    /usr/bin/python3 tests/e2e/make_fixtures.py

The script is deterministic: np.savez stamps the current time into the .npz members, so the archives are
written the way np.savez writes them (stored, zip64 extra field) but with a fixed timestamp.
"""

import io
import json
import pathlib
import shutil
import zipfile

import numpy as np

TESTS = pathlib.Path(__file__).resolve().parent.parent
PARITY = TESTS / "parity" / "fixtures"
FIXTURES = TESTS / "e2e" / "fixtures"

CELL = {"SimpleRNN": "simple_rnn_cell", "LSTM": "lstm_cell", "GRU": "gru_cell"}

# (folder name, parity fixture file, case name, options)
#   cell_counter: Keras numbers recurrent cells per process: the first LSTM cell built is "lstm_cell", the next
#                 "lstm_cell_1", and so on, whatever model they belong to. With cell_counter=N the cells of this
#                 model are numbered from N, as in a process that built N cells of that class before; without
#                 it every cell is plain "lstm_cell". The loader must resolve both by layer and weight name.
#   x_dtype:      dtype of x.npy.
CASES = [
    ("embedding_lstm_dense", "dense_misc.json", "tutorial_embedding_100_3_lstm_4_dense_1_sigmoid",
     {"cell_counter": 1, "x_dtype": np.int32}),
    ("embedding_bilstm_dense", "dense_misc.json", "tutorial_embedding_100_3_bidirectional_lstm_4_dense_1_sigmoid",
     {}),
    ("embedding_gru_reset_after_dense", "gru_reset_after.json", "embedding_10_3_gru_4_dense_1_sigmoid", {}),
    ("masked_bilstm_time_distributed", "embedding_masking.json",
     "bidirectional_lstm_seq_then_time_distributed_dense", {}),
    ("stacked_lstm_float_input", "lstm.json", "stacked_2_seq_into_last_t4_f2_b2", {"cell_counter": 0}),
]


def tensor(spec, dtype=np.float32):
    return np.asarray(spec["data"], dtype=np.float64).reshape(spec["shape"]).astype(dtype)


class CellNames:
    """Names cells as Keras does: plain "lstm_cell" each time, or numbered per class from `start`."""

    def __init__(self, start=None):
        self.start = start
        self.built = {}

    def __call__(self, kind):
        base = CELL[kind]
        if self.start is None:
            return base
        index = self.start + self.built.get(base, 0)
        self.built[base] = self.built.get(base, 0) + 1
        return base if index == 0 else f"{base}_{index}"


def recurrent_names(prefix, layer_config, cell_names):
    cell = cell_names(layer_config["class_name"])
    names = ["kernel", "recurrent_kernel"]
    if layer_config["config"].get("use_bias", True):
        names.append("bias")
    return [f"{prefix}/{cell}/{name}:0" for name in names]


def weight_names(layer, cell_names):
    """Keras weight names of one layer of a Sequential config, in get_weights() order."""
    kind, config = layer["class_name"], layer["config"]
    name = config["name"]
    if kind == "Embedding":
        return [f"{name}/embeddings:0"]
    if kind == "Dense":
        return [f"{name}/kernel:0"] + ([f"{name}/bias:0"] if config.get("use_bias", True) else [])
    if kind in CELL:
        return recurrent_names(name, layer, cell_names)
    if kind == "Bidirectional":
        inner = config["layer"]
        inner_name = inner["config"]["name"]
        return (recurrent_names(f"{name}/forward_{inner_name}", inner, cell_names) +
                recurrent_names(f"{name}/backward_{inner_name}", inner, cell_names))
    if kind == "TimeDistributed":
        # TF Keras 2 creates the wrapped layer's weights under the wrapper's name: "time_distributed/kernel:0".
        return [f"{name}/{weight.split('/', 1)[1]}" for weight in weight_names(config["layer"], cell_names)]
    return []


def write_npz(path, arrays):
    """What np.savez(path, **arrays) writes, with a fixed timestamp instead of the current time."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as archive:
        for name, array in arrays.items():
            info = zipfile.ZipInfo(name + ".npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_STORED
            with archive.open(info, "w", force_zip64=True) as member:
                np.lib.format.write_array(member, np.asanyarray(array), allow_pickle=False)


def write_case(folder, spec, options):
    model = spec["model"]
    cell_names = CellNames(options.get("cell_counter"))
    arrays = {}
    for layer in model["config"]["layers"]:
        names = weight_names(layer, cell_names)
        values = spec["weights"].get(layer["config"]["name"], [])
        assert len(names) == len(values), (folder.name, layer["config"]["name"], names, len(values))
        for weight_name, value in zip(names, values):
            arrays[weight_name] = tensor(value)
    folder.mkdir(parents=True)
    (folder / "model.json").write_text(json.dumps(model) + "\n")
    write_npz(folder / "weights.npz", arrays)
    x = tensor(spec["input"], options.get("x_dtype", np.float32))
    if np.issubdtype(x.dtype, np.integer):
        assert np.array_equal(x, tensor(spec["input"], np.float64)), f"{folder.name}: token ids are not integers"
    np.save(folder / "x.npy", x)
    np.save(folder / "expected.npy", tensor(spec["output"]))


def main():
    if FIXTURES.exists():
        shutil.rmtree(FIXTURES)
    for folder_name, file_name, case_name, options in CASES:
        cases = json.loads((PARITY / file_name).read_text())["cases"]
        (spec,) = [case for case in cases if case["name"] == case_name]
        assert spec["kind"] == "model", case_name
        write_case(FIXTURES / folder_name, spec, options)
        print(f"wrote {FIXTURES.relative_to(TESTS.parent) / folder_name} ({file_name}: {case_name})")


if __name__ == "__main__":
    main()
