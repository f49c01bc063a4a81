#!/usr/bin/python3
"""Checks tests/text/fixtures.json against Keras's own code: keras_preprocessing 1.1.0 (Debian's
python3-keras-preprocessing; the Tokenizer and pad_sequences that tf.keras 2.0-2.5 re-exported).

Run by tests/text/generate.sh when the package is installed (scripts/setup --oracles). word_docs and
index_docs are compared as dictionaries: Keras fills them from a set(), in an order that changes with
PYTHONHASHSEED; every other dictionary, and the to_json text apart from those two, must match exactly.
"""
import json
import sys
from pathlib import Path

import numpy as np
from keras_preprocessing.sequence import pad_sequences
from keras_preprocessing.text import Tokenizer, tokenizer_from_json

fixtures = json.loads((Path(__file__).parent / "fixtures.json").read_text(encoding="utf-8"))
failures = []


def expect(what, actual, expected):
    if actual != expected:
        failures.append(f"{what}: Keras gives {actual!r}, the fixture has {expected!r}")


def without_set_ordered(config_json):
    config = json.loads(config_json)["config"]
    for key in ("word_docs", "index_docs"):
        config[key] = json.loads(config[key])
    return config


for case in fixtures["tokenizer"]:
    name = case["name"]
    tokenizer = Tokenizer(**case["options"])
    tokenizer.fit_on_texts(case["fit_texts"])
    expect(f"{name} document_count", tokenizer.document_count, case["document_count"])
    expect(f"{name} word_counts", list(tokenizer.word_counts.items()), [tuple(p) for p in case["word_counts"]])
    expect(f"{name} word_docs", dict(tokenizer.word_docs), dict(case["word_docs"]))
    expect(f"{name} index_docs", dict(tokenizer.index_docs), {i: c for i, c in case["index_docs"]})
    expect(f"{name} word_index", list(tokenizer.word_index.items()), [tuple(p) for p in case["word_index"]])
    expect(f"{name} index_word", list(tokenizer.index_word.items()), [tuple(p) for p in case["index_word"]])
    expect(f"{name} sequences", tokenizer.texts_to_sequences(case["queries"]), case["sequences"])
    expect(f"{name} sequences_to_texts", tokenizer.sequences_to_texts(case["decode_sequences"]),
           case["decoded_texts"])
    for mode, sparse in case["matrices"].items():
        try:
            matrix = tokenizer.texts_to_matrix(case["queries"], mode=mode)
        except ValueError:
            expect(f"{name} {mode} raises", None, sparse)
            continue
        if sparse is None:
            failures.append(f"{name} {mode}: Keras does not raise")
            continue
        expected = np.zeros(sparse["shape"])
        for row, column, value in sparse["entries"]:
            expected[row, column] = value
        if matrix.shape != expected.shape or not np.allclose(matrix, expected, rtol=1e-12, atol=0):
            failures.append(f"{name} {mode} matrix differs")
    expect(f"{name} to_json", without_set_ordered(tokenizer.to_json()), without_set_ordered(case["to_json"]))
    reread = tokenizer_from_json(case["to_json"])
    expect(f"{name} tokenizer_from_json sequences", reread.texts_to_sequences(case["queries"]), case["sequences"])

for case in fixtures["pad_sequences"]:
    padded = pad_sequences(case["sequences"], maxlen=case["maxlen"], padding=case["padding"],
                           truncating=case["truncating"], value=case["value"], dtype="float64")
    expect(f"pad_sequences {case['maxlen']} {case['padding']} {case['truncating']} {case['value']}",
           padded.tolist(), case["expected"])

if failures:
    print("\n".join(failures))
    sys.exit(1)
print(f"fixtures agree with keras_preprocessing: {len(fixtures['tokenizer'])} tokenizer cases, "
      f"{len(fixtures['pad_sequences'])} pad_sequences cases")
