"""What the Keras-shaped classes share: serializable objects (initializers, regularizers, constraints, optimizers)
and the random seeds of new models and layers."""
import os
import random

_seeds = random.Random()


def next_seed():
    """A seed for a new model's or layer's weights: random, or reproducible after utils.set_random_seed."""
    return _seeds.getrandbits(63)


def set_seed(seed):
    _seeds.seed(seed)


# Random in each process as in Keras; RNNKIT_SEED fixes the start, so that a script without
# set_random_seed (a notebook's code, run as a test) repeats its run.
set_seed(int(os.environ["RNNKIT_SEED"]) if os.environ.get("RNNKIT_SEED") else int.from_bytes(os.urandom(8), "little"))


class Serializable:
    """An object Keras writes as {"class_name": ..., "config": get_config()}."""
    _class_name = None

    def get_config(self):
        return dict(self._config)

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def _serialize(self):
        return {"class_name": self._class_name or type(self).__name__, "config": self.get_config()}

    def __repr__(self):
        arguments = ", ".join(f"{k}={v!r}" for k, v in self._config.items())
        return f"{type(self).__name__}({arguments})"


def serialize(value, what):
    """A Keras argument as its config value: names stay names, objects become {"class_name", "config"}."""
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, Serializable):
        return value._serialize()
    if isinstance(value, dict):
        return value
    if isinstance(value, (list, tuple)):
        return [serialize(v, what) for v in value]
    if callable(value) and getattr(value, "__name__", None):
        # An activation function given as a function (rnnkit.keras.activations.relu): its Keras name.
        name = getattr(value, "_keras_name", None)
        if name:
            return name
        raise NotImplementedError(f"{what}: the Python function {value.__name__!r} cannot run inside rnnkit; "
                                  "give a Keras name such as 'relu'")
    raise TypeError(f"{what}: cannot use {value!r} ({type(value).__name__})")
