"""The cost of rnnkit.keras over the C++ calls it wraps, on the README's tutorial model (Embedding(100, 3,
input_length=32) + Bidirectional(LSTM(32)) + Dense(1, sigmoid)): a predict and a fit epoch, each timed through
the Python API and as the bare C++ call (rnnkit._rnnkit.time_cpp_*, timed in C++ on the same model). Prints the
overhead in percent; exits 1 when either is 5% or more.
Run: PYTHONPATH=build/python /usr/bin/python3 bench/python_overhead.py [--samples 2048] [--repeats 5]"""
import argparse
import sys
import time

import numpy as np

from rnnkit import _rnnkit
from rnnkit.keras.layers import Bidirectional, Dense, Embedding, LSTM
from rnnkit.keras.models import Sequential


def best_of_interleaved(repeats, first, second):
    """The fastest of `repeats` runs of each, alternating, so that a busy moment of the machine hits both."""
    times = [(first(), second()) for _ in range(repeats)]
    return min(t[0] for t in times), min(t[1] for t in times)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--samples", type=int, default=2048)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    model = Sequential([Embedding(100, 3, input_length=32), Bidirectional(LSTM(32)), Dense(1, activation="sigmoid")])
    model.compile(loss="binary_crossentropy", optimizer="adam", metrics=["accuracy"])
    rng = np.random.default_rng(0)
    x = rng.integers(1, 100, size=(args.samples, 32)).astype(np.int32)
    y = (x == 7).any(axis=1).astype(np.float32)

    def python_predict():
        start = time.perf_counter()
        model.predict(x, batch_size=32, verbose=0)
        return time.perf_counter() - start

    def python_fit():
        start = time.perf_counter()
        model.fit(x, y, epochs=1, batch_size=32, verbose=0)
        return time.perf_counter() - start

    results = []
    for name, through_python, bare in (
            ("predict", python_predict, lambda: _rnnkit.time_cpp_predict(model._cpp, x, 32, 1)),
            ("fit epoch", python_fit, lambda: _rnnkit.time_cpp_fit(model._cpp, x, y, 32, 1))):
        through_python(), bare()  # warm-up: first-touch allocations, thread pools
        python_seconds, cpp_seconds = best_of_interleaved(args.repeats, through_python, bare)
        overhead = 100.0 * (python_seconds - cpp_seconds) / cpp_seconds
        results.append(overhead)
        print(f"{name:10s} python {python_seconds * 1e3:8.2f} ms   c++ {cpp_seconds * 1e3:8.2f} ms   "
              f"overhead {overhead:+.2f}%")
    return 0 if all(o < 5.0 for o in results) else 1


if __name__ == "__main__":
    sys.exit(main())
