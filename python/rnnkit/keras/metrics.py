"""keras.metrics: the metrics compile() takes. rnnkit computes Keras's 'accuracy' (binary, categorical or sparse
categorical, picked from the shapes as Keras does); other Keras metrics raise NotImplementedError."""
KERAS_ONLY = {"mae", "mse", "mape", "msle", "mean_absolute_error", "mean_squared_error", "auc", "AUC", "precision",
              "Precision", "recall", "Recall", "top_k_categorical_accuracy", "crossentropy", "cosine_similarity",
              "binary_crossentropy", "categorical_crossentropy", "sparse_categorical_crossentropy", "hinge",
              "kld", "poisson", "logcosh", "RootMeanSquaredError", "binary_accuracy", "categorical_accuracy",
              "sparse_categorical_accuracy"}


class Metric:
    _keras_name = None

    def __init__(self, name=None, dtype=None):
        self.name = name or self._keras_name


class BinaryAccuracy(Metric):
    _keras_name = "binary_accuracy"

    def __init__(self, name="binary_accuracy", dtype=None, threshold=0.5):
        if threshold != 0.5:
            raise NotImplementedError("BinaryAccuracy: threshold other than 0.5 is not supported")
        super().__init__(name, dtype)


class CategoricalAccuracy(Metric):
    _keras_name = "categorical_accuracy"


class SparseCategoricalAccuracy(Metric):
    _keras_name = "sparse_categorical_accuracy"


def resolve(metric, what="metrics"):
    """The name compile() passes to rnnkit for a metric given as a string or a Metric object."""
    name = metric._keras_name if isinstance(metric, Metric) else metric
    if not isinstance(name, str):
        raise NotImplementedError(f"{what}: the metric {metric!r} cannot run inside rnnkit")
    if name in KERAS_ONLY:
        raise NotImplementedError(f"{what}: the Keras metric {name!r} is not supported by rnnkit (accuracy is)")
    return name
