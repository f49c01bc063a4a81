"""keras.metrics: the metrics compile() takes, computed in C++ with Keras's streaming state (reset each epoch):
'accuracy' (binary, categorical or sparse categorical, picked from the shapes as Keras does), the named
accuracies, top-k accuracy, Precision, Recall and AUC, by name or as objects. Other Keras metrics raise
NotImplementedError."""
import json

SUPPORTED_NAMES = {"accuracy", "acc", "binary_accuracy", "categorical_accuracy", "sparse_categorical_accuracy",
                   "top_k_categorical_accuracy", "sparse_top_k_categorical_accuracy", "auc", "AUC", "precision",
                   "Precision", "recall", "Recall", "BinaryAccuracy", "CategoricalAccuracy",
                   "SparseCategoricalAccuracy", "TopKCategoricalAccuracy", "SparseTopKCategoricalAccuracy"}


class Metric:
    """A Keras metric class: its arguments travel to C++ as Keras's {"class_name", "config"}."""

    def __init__(self, name=None, dtype=None, **config):
        self.name = name
        self._config = config

    def get_config(self):
        config = {key: value for key, value in self._config.items() if value is not None}
        if self.name:
            config["name"] = self.name
        return config

    def _spec(self):
        return json.dumps({"class_name": type(self).__name__, "config": self.get_config()})


class BinaryAccuracy(Metric):
    def __init__(self, name="binary_accuracy", dtype=None, threshold=0.5):
        super().__init__(name, dtype, threshold=threshold)


class CategoricalAccuracy(Metric):
    def __init__(self, name="categorical_accuracy", dtype=None):
        super().__init__(name, dtype)


class SparseCategoricalAccuracy(Metric):
    def __init__(self, name="sparse_categorical_accuracy", dtype=None):
        super().__init__(name, dtype)


class TopKCategoricalAccuracy(Metric):
    def __init__(self, k=5, name="top_k_categorical_accuracy", dtype=None):
        super().__init__(name, dtype, k=k)


class SparseTopKCategoricalAccuracy(Metric):
    def __init__(self, k=5, name="sparse_top_k_categorical_accuracy", dtype=None):
        super().__init__(name, dtype, k=k)


class Precision(Metric):
    def __init__(self, thresholds=None, top_k=None, class_id=None, name=None, dtype=None):
        super().__init__(name, dtype, thresholds=thresholds, top_k=top_k, class_id=class_id)


class Recall(Metric):
    def __init__(self, thresholds=None, top_k=None, class_id=None, name=None, dtype=None):
        super().__init__(name, dtype, thresholds=thresholds, top_k=top_k, class_id=class_id)


class AUC(Metric):
    def __init__(self, num_thresholds=200, curve="ROC", summation_method="interpolation", name=None, dtype=None,
                 thresholds=None, multi_label=False, num_labels=None, label_weights=None, from_logits=False):
        if multi_label or label_weights is not None:
            raise NotImplementedError("AUC: multi_label and label_weights are not supported")
        super().__init__(name, dtype, num_thresholds=num_thresholds, curve=curve,
                         summation_method=summation_method, thresholds=thresholds, from_logits=from_logits)


def resolve(metric, what="metrics"):
    """What compile() passes to rnnkit for a metric given as a string or a Metric object."""
    if isinstance(metric, Metric):
        return metric._spec()
    if not isinstance(metric, str):
        raise NotImplementedError(f"{what}: the metric {metric!r} cannot run inside rnnkit")
    if metric not in SUPPORTED_NAMES:
        raise NotImplementedError(f"{what}: the Keras metric {metric!r} is not supported by rnnkit "
                                  f"(these are: {', '.join(sorted(SUPPORTED_NAMES))})")
    return metric
