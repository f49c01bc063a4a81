"""keras.backend: clear_session and the float type (rnnkit computes in float32)."""
from rnnkit import _rnnkit


def clear_session(free_memory=True):
    """Restarts Keras's per-process layer and model names (lstm, lstm_1, ...), as keras.backend.clear_session."""
    _rnnkit.clear_session()


def floatx():
    return "float32"


def set_floatx(value):
    if value != "float32":
        raise NotImplementedError(f"set_floatx({value!r}): rnnkit computes in float32 only")


def epsilon():
    return 1e-07
