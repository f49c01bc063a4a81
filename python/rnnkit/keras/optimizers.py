"""keras.optimizers: Adam, RMSprop, SGD and Adagrad with tf.keras 2.11's arguments and defaults (the update rules
run in C++). Optimizers Keras has and rnnkit lacks raise NotImplementedError."""
import inspect

from rnnkit.keras import schedules as _schedules_module
from rnnkit.keras._config import Serializable, serialize

schedules = _schedules_module

_COMMON = [("weight_decay", None), ("clipnorm", None), ("clipvalue", None), ("global_clipnorm", None),
           ("use_ema", False), ("ema_momentum", 0.99), ("ema_overwrite_frequency", None), ("jit_compile", True)]


class Optimizer(Serializable):
    """Base of the optimizers: its config is what Keras's get_config() gives; compile() hands it to C++."""
    _arguments = ()

    def __init__(self, *args, **kwargs):
        name = type(self).__name__
        if "lr" in kwargs:  # Keras's legacy name
            kwargs["learning_rate"] = kwargs.pop("lr")
        if kwargs.pop("decay", 0) not in (0, 0.0, None):
            raise NotImplementedError(f"{name}: the legacy 'decay' argument is not supported; use "
                                      "optimizers.schedules.ExponentialDecay")
        parameters = [inspect.Parameter(n, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=d)
                      for n, d in self._arguments + tuple(_COMMON) + (("name", name),)]
        try:
            bound = inspect.Signature(parameters).bind(*args, **kwargs)
        except TypeError as error:
            raise TypeError(f"{name}: {error}") from None
        bound.apply_defaults()
        config = dict(bound.arguments)
        if config["weight_decay"] not in (None, 0, 0.0):
            raise NotImplementedError(f"{name}: weight_decay is not supported")
        if config["use_ema"]:
            raise NotImplementedError(f"{name}: use_ema (exponential moving average of the weights) is not supported")
        config["learning_rate"] = serialize(config["learning_rate"], f"{name} learning_rate")
        self._config = config

    @property
    def learning_rate(self):
        return self._config["learning_rate"]

    lr = learning_rate


def _optimizer(name, arguments, doc):
    cls = type(name, (Optimizer,), {"_arguments": tuple(arguments), "__module__": __name__,
                                    "__doc__": doc + "\n\nArguments: " + ", ".join(
                                        f"{n}={d!r}" for n, d in tuple(arguments) + tuple(_COMMON))})
    return cls


Adam = _optimizer("Adam", [("learning_rate", 0.001), ("beta_1", 0.9), ("beta_2", 0.999), ("epsilon", 1e-07),
                           ("amsgrad", False)], "Adam (Kingma and Ba 2014).")
RMSprop = _optimizer("RMSprop", [("learning_rate", 0.001), ("rho", 0.9), ("momentum", 0.0), ("epsilon", 1e-07),
                                 ("centered", False)], "RMSprop (Hinton).")
SGD = _optimizer("SGD", [("learning_rate", 0.01), ("momentum", 0.0), ("nesterov", False)],
                 "Gradient descent, with momentum and Nesterov momentum.")
Adagrad = _optimizer("Adagrad", [("learning_rate", 0.001), ("initial_accumulator_value", 0.1), ("epsilon", 1e-07)],
                     "Adagrad (Duchi et al. 2011).")

for _missing_name in ("Adadelta", "Adamax", "Nadam", "Ftrl", "AdamW", "Lion", "Adafactor"):
    def _missing(*args, _name=_missing_name, **kwargs):
        raise NotImplementedError(f"keras.optimizers.{_name} is not supported by rnnkit (Adam, RMSprop, SGD, "
                                  "Adagrad are)")
    _missing.__name__ = _missing_name
    globals()[_missing_name] = _missing

_BY_NAME = {"adam": Adam, "rmsprop": RMSprop, "sgd": SGD, "adagrad": Adagrad}


def get(identifier):
    """An optimizer from a name ('adam') or an optimizer object, as keras.optimizers.get."""
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, str):
        if identifier.lower() in _BY_NAME:
            return _BY_NAME[identifier.lower()]()
        if identifier.lower() in ("adadelta", "adamax", "nadam", "ftrl", "adamw", "lion", "adafactor"):
            raise NotImplementedError(f"optimizer {identifier!r} is not supported by rnnkit")
    raise ValueError(f"Could not interpret optimizer identifier: {identifier!r}")
