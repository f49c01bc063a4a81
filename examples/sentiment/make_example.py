#!/usr/bin/python3
"""Writes the example model of scripts/demo: the tutorial's Embedding(100,3) + Bidirectional(LSTM(32)) +
Dense(1, sigmoid) as Keras JSON, seeded random weights under Keras's names, and two padded sentences.
The weights are untrained: the demo shows the file formats and the pipeline, not a classifier."""
import json
import pathlib

import numpy as np

here = pathlib.Path(__file__).parent
config = json.loads((here / "../../tests/acceptance/summaries/embedding_bilstm_dense.json").read_text())
config["config"]["layers"][2]["config"]["activation"] = "sigmoid"
(here / "model.json").write_text(json.dumps(config, indent=1) + "\n")

rng = np.random.default_rng(1)
units, features, vocabulary = 32, 3, 100
weights = {"embedding/embeddings:0": rng.uniform(-0.05, 0.05, (vocabulary, features))}
for direction in ("forward", "backward"):
    prefix = f"bidirectional/{direction}_lstm/lstm_cell/"
    weights[prefix + "kernel:0"] = rng.uniform(-0.3, 0.3, (features, 4 * units))
    weights[prefix + "recurrent_kernel:0"] = rng.uniform(-0.3, 0.3, (units, 4 * units))
    weights[prefix + "bias:0"] = np.concatenate([np.zeros(units), np.ones(units), np.zeros(2 * units)])
weights["dense/kernel:0"] = rng.uniform(-0.3, 0.3, (2 * units, 1))
weights["dense/bias:0"] = np.zeros(1)
np.savez(here / "weights.npz", **{name: value.astype(np.float32) for name, value in weights.items()})

sentences = np.zeros((2, 10), dtype=np.int32)  # padding="pre", as pad_sequences does
sentences[0, 4:] = [12, 7, 33, 2, 91, 5]
sentences[1, 7:] = [45, 8, 19]
np.save(here / "x.npy", sentences)
