#!/usr/bin/python3
"""Writes the .npy/.npz fixtures of tests/unit/npy_test.cpp with numpy itself, plus expected.json.

The C++ tests compare against the values recorded here by numpy, never against values rnnkit computes, so a
bug shared by our reader and writer cannot hide. Run with Debian's interpreter, which has numpy:

    /usr/bin/python3 tests/io/make_npy_fixtures.py

The output is deterministic: rerunning it changes no file unless numpy's format changes.
"""

import io
import json
import pathlib
import zipfile

import numpy as np

FIXTURES = pathlib.Path(__file__).resolve().parent / "fixtures"


def as_float32_list(array):
    # float32 values are exact as Python floats, so JSON carries them bit for bit.
    return [float(v) for v in np.asarray(array, dtype=np.float32).ravel(order="C")]


def expectation(array):
    return {"shape": list(array.shape), "values": as_float32_list(array)}


def member(name):
    # np.savez dates its members 1980-01-01 00:00 too, which keeps the archives reproducible.
    return zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))


def save(name, array, **kwargs):
    np.save(FIXTURES / name, array, **kwargs)


def main():
    FIXTURES.mkdir(exist_ok=True)
    for old in FIXTURES.iterdir():
        old.unlink()

    npy = {}
    numpy_save_identical = []  # float32 C-order files that serialize_npy must reproduce byte for byte

    def readable(name, array, identical=False):
        save(name, array)
        npy[name] = expectation(array)
        if identical:
            numpy_save_identical.append(name)

    # Every dtype the reader accepts, with the extreme values each can carry exactly into float32.
    readable("float32.npy", np.array([[0.5, -0.0, 1e-45], [3.4028235e38, -1.1754944e-38, 0.1]], np.float32),
             identical=True)
    readable("float64.npy", np.array([0.1, -2.5, 1e-300, 123456789.125], np.float64))
    readable("int8.npy", np.array([-128, 0, 127], np.int8))
    readable("int16.npy", np.array([[-32768, 1], [2, 32767]], np.int16))
    readable("int32.npy", np.array([-16777216, 0, 16777216], np.int32))
    readable("int64.npy", np.array([[-16777216], [7], [16777216]], np.int64))
    readable("uint8.npy", np.array([0, 1, 255], np.uint8))
    readable("uint16.npy", np.array([0, 65535], np.uint16))
    readable("uint32.npy", np.array([3, 16777216], np.uint32))
    readable("uint64.npy", np.array([16777215, 16777216], np.uint64))
    readable("bool.npy", np.array([[True, False, True]], np.bool_))

    # Layouts: Fortran order (rank 3, so the reorder is not a mere transpose), 0-d, (3,), empty.
    fortran = np.asfortranarray(np.arange(24, dtype=np.int16).reshape(2, 3, 4) * 3 - 30)
    assert fortran.flags.f_contiguous and not fortran.flags.c_contiguous
    readable("fortran_order.npy", fortran)
    readable("fortran_order_float32.npy", np.asfortranarray(np.arange(6, dtype=np.float32).reshape(2, 3) / 4))
    readable("scalar.npy", np.array(2.75, np.float32), identical=True)
    readable("one_d.npy", np.array([1.0, 2.0, 3.0], np.float32), identical=True)
    readable("empty.npy", np.zeros((0, 3), np.float32), identical=True)
    readable("rank4.npy", np.arange(24, dtype=np.float32).reshape(2, 3, 2, 2) - 12, identical=True)

    # Header format versions 2.0 and 3.0 (np.save picks 1.0 whenever the header fits).
    for version in [(2, 0), (3, 0)]:
        name = f"version{version[0]}.npy"
        array = np.array([[1.5, -1.5]], np.float32)
        with open(FIXTURES / name, "wb") as f:
            np.lib.format.write_array(f, array, version=version)
        npy[name] = expectation(array)

    # Archives: np.savez keeps the keyword order, which is not alphabetical here on purpose.
    weights = {
        "lstm/lstm_cell/kernel:0": np.arange(8, dtype=np.float32).reshape(2, 4) / 8,
        "lstm/lstm_cell/recurrent_kernel:0": np.eye(1, 4, dtype=np.float32) - 0.5,
        "lstm/lstm_cell/bias:0": np.array([0, 1, 0, 0], np.float32),
        "dense/kernel:0": np.array([[0.25], [-0.75]], np.float64),
        "step": np.array(12, np.int64),
    }
    np.savez(FIXTURES / "weights.npz", **weights)
    np.savez_compressed(FIXTURES / "compressed.npz", **weights)
    npz = {name: [dict(name=key, **expectation(value)) for key, value in weights.items()]
           for name in ["weights.npz", "compressed.npz"]}
    np.savez(FIXTURES / "empty.npz")
    npz["empty.npz"] = []

    # Files the reader must refuse, each with a message naming the file and what is wrong.
    save("int_beyond_2_24.npy", np.array([1, 16777217], np.int32))
    save("uint64_huge.npy", np.array([2**64 - 1], np.uint64))
    save("float64_overflow.npy", np.array([1.0, 1e300]))
    save("big_endian.npy", np.array([1.0, 2.0], ">f4"))
    save("object.npy", np.array([1, "a", None], dtype=object), allow_pickle=True)
    save("complex.npy", np.array([1 + 2j], np.complex64))
    save("unicode.npy", np.array(["abc"]))
    save("structured.npy", np.zeros(2, dtype=[("a", "<f4"), ("b", "<i4")]))

    good = (FIXTURES / "float32.npy").read_bytes()
    (FIXTURES / "truncated.npy").write_bytes(good[:-5])  # data shorter than the shape needs
    (FIXTURES / "truncated_header.npy").write_bytes(good[:40])  # header length runs past the end
    (FIXTURES / "bad_magic.npy").write_bytes(b"\x93NUMPZ" + good[6:])
    (FIXTURES / "not_a_zip.npz").write_bytes(b"this is not a zip archive\n")

    with zipfile.ZipFile(FIXTURES / "text_member.npz", "w") as archive:
        archive.writestr(member("kernel.npy"), (FIXTURES / "one_d.npy").read_bytes())
        archive.writestr(member("notes.txt"), "not an array\n")
    with zipfile.ZipFile(FIXTURES / "garbage_member.npz", "w") as archive:
        archive.writestr(member("dense/kernel:0.npy"), b"garbage, not an npy file")

    # A stored member whose data no longer matches its CRC-32, as after a bit flip on disk.
    buffer = io.BytesIO()
    np.save(buffer, np.array([1.0, 2.0, 3.0], np.float32))
    kernel_npy = buffer.getvalue()
    np.savez(FIXTURES / "bad_crc.npz", kernel=np.array([1.0, 2.0, 3.0], np.float32))
    archive = bytearray((FIXTURES / "bad_crc.npz").read_bytes())
    at = archive.find(kernel_npy)
    assert at > 0
    archive[at + len(kernel_npy) - 1] ^= 0x40
    (FIXTURES / "bad_crc.npz").write_bytes(bytes(archive))

    expected = {"npy": npy, "npz": npz, "numpy_save_identical": numpy_save_identical}
    with open(FIXTURES / "expected.json", "w") as f:
        # One line per file keeps the JSON small and its diffs readable.
        lines = []
        for section, entries in expected.items():
            if isinstance(entries, dict):
                body = ",\n".join(f"  {json.dumps(key)}: {json.dumps(value, allow_nan=False)}"
                                  for key, value in entries.items())
                lines.append(f" {json.dumps(section)}: {{\n{body}\n }}")
            else:
                lines.append(f" {json.dumps(section)}: {json.dumps(entries)}")
        f.write("{\n" + ",\n".join(lines) + "\n}\n")
    assert json.loads((FIXTURES / "expected.json").read_text()) == expected


if __name__ == "__main__":
    main()
