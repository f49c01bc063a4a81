#!/usr/bin/python3
"""The layout of a Keras model file, read with h5py and zipfile, and a comparison of two layouts.

    inspect_layout.py FILE                        prints the layout of a .h5 or .keras file, one item a line
    inspect_layout.py --compare OURS REFERENCE    prints the differences and exits 1 when the layouts differ

Used by tests/unit/model_file_test.cpp to check that a file rnnkit writes has the layout of the file
make_fixtures.py writes for the same model the way Keras does: the same groups, datasets (names, shapes,
dtypes, storage), attributes (names, HDF5 string types: variable or fixed length, character set, padding),
the values of layer_names / weight_names / keras_version / backend, and the key structure of model_config /
config.json (every key, the type of every value, and the values of class_name, module and registered_name).

Per-process counters in cell names ("lstm_cell_2") are compared without the counter: tf.keras numbers cells
by how many the process made before, so they differ between any two runs of Keras itself.
"""

import io
import json
import re
import sys
import zipfile

import h5py
import numpy as np


def normalize_name(name):
    return re.sub(r"(_cell)_\d+(?=/|$)", r"\1", name)


def type_description(type_id):
    cls = type_id.get_class()
    if cls == h5py.h5t.STRING:
        cset = {h5py.h5t.CSET_ASCII: "ascii", h5py.h5t.CSET_UTF8: "utf-8"}.get(type_id.get_cset(), "?")
        if type_id.is_variable_str():
            return f"string(variable, {cset})"
        pad = {h5py.h5t.STR_NULLTERM: "nullterm", h5py.h5t.STR_NULLPAD: "nullpad",
               h5py.h5t.STR_SPACEPAD: "spacepad"}.get(type_id.get_strpad(), "?")
        return f"string(fixed, {cset}, {pad})"  # the length depends on the contents
    if cls == h5py.h5t.FLOAT:
        order = "<" if type_id.get_order() == h5py.h5t.ORDER_LE else ">"
        return f"float{type_id.get_size() * 8}{order}"
    if cls == h5py.h5t.INTEGER:
        return f"int{type_id.get_size() * 8}"
    return f"class {cls}"


def json_structure(value, key=None):
    """Keys, value types and the identifying values of a JSON document (not its numbers or free strings)."""
    if isinstance(value, dict):
        return {k: json_structure(v, k) for k, v in sorted(value.items())}
    if isinstance(value, list):
        return [json_structure(v) for v in value]
    if key in ("class_name", "module", "registered_name") or value is None or isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return "number"
    return type(value).__name__


def flatten(prefix, value, out):
    if isinstance(value, dict):
        for k, v in value.items():
            flatten(f"{prefix}.{k}", v, out)
    elif isinstance(value, list):
        out[f"{prefix}#len"] = len(value)
        for i, v in enumerate(value):
            flatten(f"{prefix}[{i}]", v, out)
    else:
        out[prefix] = value


def attribute_items(path, obj, out):
    for name in sorted(obj.attrs.keys()):
        attr = obj.attrs.get_id(name)
        space = attr.get_space()
        shape = space.get_simple_extent_dims() if space.get_simple_extent_type() != h5py.h5s.NULL else None
        key = f"{path} @{name}"
        out[key] = f"{type_description(attr.get_type())} shape {shape}"
        value = obj.attrs[name]
        if name in ("layer_names", "weight_names") or re.fullmatch(r"(layer|weight)_names\d+", name):
            items = [v.decode() if isinstance(v, bytes) else str(v) for v in np.asarray(value).reshape(-1)]
            out[key + " value"] = [normalize_name(v) for v in items]
        elif name in ("keras_version", "backend"):
            out[key + " value"] = value.decode() if isinstance(value, bytes) else str(value)
        elif name == "model_config":
            text = value.decode() if isinstance(value, bytes) else str(value)
            flatten(key + " json", json_structure(json.loads(text)), out)


def h5_layout(file, prefix=""):
    out = {}
    with h5py.File(file, "r") as f:
        attribute_items(prefix + "/", f, out)

        def visit(name, obj):
            path = prefix + "/" + normalize_name(name)
            if isinstance(obj, h5py.Dataset):
                layout = obj.id.get_create_plist().get_layout()
                storage = {h5py.h5d.CONTIGUOUS: "contiguous", h5py.h5d.CHUNKED: "chunked",
                           h5py.h5d.COMPACT: "compact"}.get(layout, "?")
                out[path] = f"dataset {type_description(obj.id.get_type())} shape {obj.shape} {storage}"
            else:
                out[path] = "group"
            attribute_items(path, obj, out)

        f.visititems(visit)
    return out


def keras_layout(file):
    out = {}
    with zipfile.ZipFile(file) as zf:
        infos = zf.infolist()
        out["zip members"] = [info.filename for info in infos]
        for info in infos:
            out[f"zip {info.filename} compression"] = info.compress_type
        if "config.json" in zf.namelist():
            flatten("config.json", json_structure(json.loads(zf.read("config.json"))), out)
        if "metadata.json" in zf.namelist():
            metadata = json.loads(zf.read("metadata.json"))
            out["metadata.json keys"] = sorted(metadata)
            out["metadata.json keras_version major"] = str(metadata.get("keras_version", "")).split(".")[0]
        if "model.weights.h5" in zf.namelist():
            out.update(h5_layout(io.BytesIO(zf.read("model.weights.h5")), "model.weights.h5:"))
    return out


def layout(file):
    with open(file, "rb") as f:
        start = f.read(8)
    return keras_layout(file) if start.startswith(b"PK") else h5_layout(file)


def main(argv):
    if len(argv) == 2:
        for key, value in layout(argv[1]).items():
            print(f"{key}: {value}")
        return 0
    if len(argv) == 4 and argv[1] == "--compare":
        ours, reference = layout(argv[2]), layout(argv[3])
        differences = []
        for key in sorted(set(ours) | set(reference)):
            if key not in ours:
                differences.append(f"missing in {argv[2]}: {key}: {reference[key]}")
            elif key not in reference:
                differences.append(f"extra in {argv[2]}: {key}: {ours[key]}")
            elif ours[key] != reference[key]:
                differences.append(f"differs: {key}: {ours[key]} (reference: {reference[key]})")
        for line in differences:
            print(line)
        print(f"{len(differences)} differences in {len(reference)} layout items")
        return 1 if differences else 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
