"""keras.utils: to_categorical, pad_sequences, set_random_seed."""
import random

import numpy as np

from rnnkit import _rnnkit
from rnnkit.keras import _config
from rnnkit.keras.preprocessing.sequence import pad_sequences

__all__ = ["to_categorical", "pad_sequences", "set_random_seed"]


def to_categorical(y, num_classes=None, dtype="float32"):
    """One-hot along a new last axis (a trailing axis of 1 is squeezed), as keras.utils.to_categorical."""
    return _rnnkit.to_categorical(np.asarray(y), None if num_classes is None else int(num_classes)).astype(dtype)


def set_random_seed(seed):
    """Seeds Python's random, numpy's global generator and rnnkit's (the initial weights of the models and layers
    made after it), as keras.utils.set_random_seed."""
    if not isinstance(seed, int):
        raise ValueError(f"Expected `seed` argument to be an integer. Received: seed={seed} (of type {type(seed)})")
    random.seed(seed)
    np.random.seed(seed)
    _config.set_seed(seed)


def plot_model(*args, **kwargs):
    raise NotImplementedError("keras.utils.plot_model is not supported by rnnkit")
