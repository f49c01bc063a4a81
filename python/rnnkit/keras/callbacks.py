"""keras.callbacks: Callback (subclass it; its methods are called from the C++ training loop), LambdaCallback,
History, and EarlyStopping, ModelCheckpoint and CSVLogger (run in C++). Others raise NotImplementedError."""
from rnnkit import _rnnkit


class Callback:
    """keras.callbacks.Callback: override on_epoch_end(epoch, logs) and the others; self.model is the model being
    trained (set self.model.stop_training = True to stop after the current batch)."""

    def __init__(self):
        self.model = None
        self.params = {}
        self.validation_data = None

    def set_params(self, params):
        self.params = params

    def set_model(self, model):
        self.model = model

    def on_train_begin(self, logs=None):
        pass

    def on_train_end(self, logs=None):
        pass

    def on_epoch_begin(self, epoch, logs=None):
        pass

    def on_epoch_end(self, epoch, logs=None):
        pass

    def on_batch_begin(self, batch, logs=None):
        pass

    def on_batch_end(self, batch, logs=None):
        pass

    def on_train_batch_begin(self, batch, logs=None):
        self.on_batch_begin(batch, logs=logs)

    def on_train_batch_end(self, batch, logs=None):
        self.on_batch_end(batch, logs=logs)

    def on_test_begin(self, logs=None):
        pass

    def on_test_end(self, logs=None):
        pass

    def on_predict_begin(self, logs=None):
        pass

    def on_predict_end(self, logs=None):
        pass

    # Called by the C++ loop (rnnkit._rnnkit.python_callback). The C++ loop has no hook before a batch, so
    # on_train_batch_begin runs right before the batch's on_train_batch_end.
    def _rnnkit_train_begin(self):
        self.on_train_begin(logs={})

    def _rnnkit_train_end(self):
        self.on_train_end(logs={})

    def _rnnkit_epoch_begin(self, epoch):
        self.on_epoch_begin(epoch, logs={})

    def _rnnkit_epoch_end(self, epoch, logs):
        self.on_epoch_end(epoch, logs)

    def _rnnkit_batch_end(self, batch, logs):
        self.on_train_batch_begin(batch, logs={})
        self.on_train_batch_end(batch, logs)

    def _cpp_callback(self):
        return _rnnkit.python_callback(self)


class LambdaCallback(Callback):
    """keras.callbacks.LambdaCallback: functions called at the same points as a Callback's methods."""

    def __init__(self, on_epoch_begin=None, on_epoch_end=None, on_batch_begin=None, on_batch_end=None,
                 on_train_begin=None, on_train_end=None, **kwargs):
        super().__init__()
        for name, function in (("on_epoch_begin", on_epoch_begin), ("on_epoch_end", on_epoch_end),
                               ("on_batch_begin", on_batch_begin), ("on_batch_end", on_batch_end),
                               ("on_train_begin", on_train_begin), ("on_train_end", on_train_end)):
            if function is not None:
                setattr(self, name, function)
        for name, function in kwargs.items():
            if not name.startswith("on_"):
                raise TypeError(f"LambdaCallback: unexpected argument {name!r}")
            setattr(self, name, function)


class History(Callback):
    """What fit() returns: history (a dict of lists, one entry per epoch), epoch, params and model."""

    def __init__(self):
        super().__init__()
        self.history = {}
        self.epoch = []


class _CppCallback:
    """A callback the C++ library implements; made afresh for each fit."""

    def set_model(self, model):
        pass


class EarlyStopping(_CppCallback):
    """Stops training when `monitor` has stopped improving for `patience` epochs."""

    def __init__(self, monitor="val_loss", min_delta=0, patience=0, verbose=0, mode="auto", baseline=None,
                 restore_best_weights=False, start_from_epoch=0):
        if start_from_epoch:
            raise NotImplementedError("EarlyStopping: start_from_epoch is not supported")
        self.monitor, self.min_delta, self.patience, self.verbose = monitor, min_delta, patience, verbose
        self.mode, self.baseline, self.restore_best_weights = mode, baseline, restore_best_weights

    def _cpp_callback(self):
        return _rnnkit.EarlyStopping(self.monitor, float(self.min_delta), int(self.patience), self.mode,
                                     self.baseline, bool(self.restore_best_weights))


class ModelCheckpoint(_CppCallback):
    """Saves the model (or its weights) after each epoch, or after each improvement with save_best_only."""

    def __init__(self, filepath, monitor="val_loss", verbose=0, save_best_only=False, save_weights_only=False,
                 mode="auto", save_freq="epoch", options=None, initial_value_threshold=None, **kwargs):
        filepath = str(filepath)
        if save_freq != "epoch":
            raise NotImplementedError("ModelCheckpoint: save_freq other than 'epoch' is not supported")
        if initial_value_threshold is not None:
            raise NotImplementedError("ModelCheckpoint: initial_value_threshold is not supported")
        weights_file = filepath.endswith(".weights.h5") or filepath.endswith(".npz")
        if save_weights_only and not weights_file:
            raise NotImplementedError("ModelCheckpoint: save_weights_only=True needs a path ending in .weights.h5 or "
                                      f".npz (rnnkit picks what it saves by the extension), received {filepath!r}")
        self.filepath, self.monitor, self.save_best_only, self.mode = filepath, monitor, save_best_only, mode

    def _cpp_callback(self):
        return _rnnkit.ModelCheckpoint(self.filepath, self.monitor, bool(self.save_best_only), self.mode)


class CSVLogger(_CppCallback):
    """Writes one CSV row per epoch: the epoch and the sorted log keys."""

    def __init__(self, filename, separator=",", append=False):
        self.filename, self.separator, self.append = str(filename), separator, append

    def _cpp_callback(self):
        return _rnnkit.CSVLogger(self.filename, self.separator, bool(self.append))


for _missing_name in ("ReduceLROnPlateau", "LearningRateScheduler", "TensorBoard", "TerminateOnNaN", "ProgbarLogger",
                      "RemoteMonitor", "BackupAndRestore", "BaseLogger"):
    def _missing(*args, _name=_missing_name, **kwargs):
        raise NotImplementedError(f"keras.callbacks.{_name} is not supported by rnnkit")
    _missing.__name__ = _missing_name
    globals()[_missing_name] = _missing
