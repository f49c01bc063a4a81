"""keras.preprocessing.sequence: pad_sequences, computed by rnnkit's C++ pad_sequences."""
import numbers

import numpy as np

from rnnkit import _rnnkit


def pad_sequences(sequences, maxlen=None, dtype="int32", padding="pre", truncating="pre", value=0.0):
    """Pads (or truncates) integer sequences to one length: a (len(sequences), maxlen) numpy array of dtype.
    padding/truncating 'pre' or 'post' say at which end; maxlen defaults to the longest sequence."""
    rows = []
    for i, sequence in enumerate(sequences):
        if isinstance(sequence, np.ndarray) and sequence.ndim != 1:
            raise NotImplementedError(f"pad_sequences: sequence {i} has shape {sequence.shape}; only sequences of "
                                      "scalars are supported")
        row = []
        for item in sequence:
            if isinstance(item, (numbers.Integral, np.integer)):
                row.append(int(item))
            elif isinstance(item, (numbers.Real, np.floating)) and float(item).is_integer():
                row.append(int(item))
            else:
                raise NotImplementedError(f"pad_sequences: sequence {i} holds {item!r}; only integer ids are "
                                          "supported")
        rows.append(row)
    if not isinstance(value, numbers.Real):
        raise NotImplementedError(f"pad_sequences: a padding value of {value!r} is not supported (numbers only)")
    padded = _rnnkit.pad_sequences(rows, None if maxlen is None else int(maxlen), padding, truncating, float(value))
    return padded.astype(dtype)
