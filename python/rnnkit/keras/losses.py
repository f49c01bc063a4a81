"""keras.losses: the losses rnnkit computes (categorical, sparse categorical and binary cross-entropy, mean squared
error), as functions' names and as classes. Other Keras losses raise NotImplementedError."""
from rnnkit.keras._config import Serializable

_SUPPORTED = {"categorical_crossentropy", "sparse_categorical_crossentropy", "binary_crossentropy",
              "mean_squared_error", "mse", "MSE", "bce", "BCE", "CategoricalCrossentropy",
              "SparseCategoricalCrossentropy", "BinaryCrossentropy", "MeanSquaredError"}
KERAS_ONLY = {"mean_absolute_error", "mae", "mean_absolute_percentage_error", "mape",
              "mean_squared_logarithmic_error", "msle", "hinge", "squared_hinge", "categorical_hinge", "huber",
              "log_cosh", "logcosh", "kl_divergence", "kld", "kullback_leibler_divergence", "poisson",
              "cosine_similarity", "binary_focal_crossentropy", "categorical_focal_crossentropy"}


def _marker(name):
    def loss(y_true, y_pred):
        raise NotImplementedError(f"rnnkit.keras.losses.{name} is a compile() argument here; rnnkit does not "
                                  "compute it on arrays from Python")
    loss.__name__ = name
    loss._keras_name = name
    return loss


categorical_crossentropy = _marker("categorical_crossentropy")
sparse_categorical_crossentropy = _marker("sparse_categorical_crossentropy")
binary_crossentropy = _marker("binary_crossentropy")
mean_squared_error = mse = MSE = _marker("mean_squared_error")


class Loss(Serializable):
    _function = None
    _options = ()

    def __init__(self, from_logits=False, reduction="auto", name=None, **options):
        if reduction not in ("auto", "sum_over_batch_size"):
            raise NotImplementedError(f"{type(self).__name__}: reduction={reduction!r} is not supported")
        for key, value in options.items():
            default = dict(self._options).get(key, "unknown")
            if default == "unknown":
                raise TypeError(f"{type(self).__name__}: unexpected argument {key!r}")
            if value != default:
                raise NotImplementedError(f"{type(self).__name__}: {key}={value!r} is not supported")
        self.from_logits = from_logits
        self.name = name or self._function
        self._config = {"from_logits": from_logits, "reduction": reduction, "name": self.name, **options}


class CategoricalCrossentropy(Loss):
    _function = "categorical_crossentropy"
    _options = (("label_smoothing", 0.0), ("axis", -1))


class SparseCategoricalCrossentropy(Loss):
    _function = "sparse_categorical_crossentropy"
    _options = (("ignore_class", None),)


class BinaryCrossentropy(Loss):
    _function = "binary_crossentropy"
    _options = (("label_smoothing", 0.0), ("axis", -1))


class MeanSquaredError(Loss):
    _function = "mean_squared_error"

    def __init__(self, reduction="auto", name="mean_squared_error"):
        super().__init__(False, reduction, name)


def resolve(loss, what="loss"):
    """(Keras function name, from_logits) for a compile() loss: a name, a function above or a Loss object."""
    if isinstance(loss, Loss):
        return loss._function, loss.from_logits
    name = getattr(loss, "_keras_name", loss)
    if not isinstance(name, str):
        raise NotImplementedError(f"{what}: a Python loss function ({loss!r}) cannot run inside rnnkit; give a "
                                  "Keras loss name")
    if name in KERAS_ONLY:
        raise NotImplementedError(f"{what}: the Keras loss {name!r} is not supported by rnnkit (supported: "
                                  "categorical_crossentropy, sparse_categorical_crossentropy, binary_crossentropy, "
                                  "mean_squared_error)")
    return name, False


def get(identifier):
    return identifier
