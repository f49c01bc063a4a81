#!/usr/bin/python3
"""Checks that numpy reads the files rnnkit wrote in FOLDER (run by the test Npz.SavedFilesLoadInNumpy).

    /usr/bin/python3 tests/io/check_numpy_reads.py FOLDER

The test writes, with rnnkit's save_npy and save_npz, the arrays that expected_arrays() builds here.
"""

import sys
import pathlib
import zipfile

import numpy as np


def expected_arrays():
    return {
        "lstm/lstm_cell/kernel:0": (np.arange(24, dtype=np.float32).reshape(2, 3, 4) * 0.25 - 3),
        "dense/bias:0": np.zeros((0, 3), np.float32),
        "step": np.array(12, np.float32),
    }


def same(actual, expected, what):
    assert actual.dtype == np.float32, f"{what}: dtype {actual.dtype}, expected float32"
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape}, expected {expected.shape}"
    assert np.array_equal(actual, expected), f"{what}: values {actual}, expected {expected}"


def main(folder):
    arrays = expected_arrays()
    kernel = arrays["lstm/lstm_cell/kernel:0"]
    same(np.load(folder / "kernel.npy"), kernel, "kernel.npy")
    # rnnkit's save_npy promises np.save's exact bytes.
    np.save(folder / "numpy_kernel.npy", kernel)
    assert (folder / "kernel.npy").read_bytes() == (folder / "numpy_kernel.npy").read_bytes(), "bytes differ"

    for name, method in [("stored.npz", zipfile.ZIP_STORED), ("deflated.npz", zipfile.ZIP_DEFLATED)]:
        with np.load(folder / name) as archive:
            assert list(archive.keys()) == list(arrays), f"{name}: keys {list(archive.keys())}"
            for key, expected in arrays.items():
                same(archive[key], expected, f"{name}[{key!r}]")
        with zipfile.ZipFile(folder / name) as archive:
            assert archive.testzip() is None, f"{name}: bad CRC"
            for info in archive.infolist():
                assert info.compress_type == method, f"{name}: {info.filename} has method {info.compress_type}"
                assert info.date_time == (1980, 1, 1, 0, 0, 0), f"{name}: {info.filename} dated {info.date_time}"

    with np.load(folder / "empty.npz") as archive:
        assert list(archive.keys()) == [], "empty.npz is not empty"
    print("numpy reads rnnkit's .npy and .npz files")


if __name__ == "__main__":
    main(pathlib.Path(sys.argv[1]))
