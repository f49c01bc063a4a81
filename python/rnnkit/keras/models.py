"""keras.models: Sequential, Model (the Functional API), load_model, save_model and model_from_json, over rnnkit's
C++ models. fit, evaluate and predict run in C++ with the GIL released; verbose output goes to sys.stdout."""
import json
import os

import numpy as np

from rnnkit import _rnnkit
from rnnkit.keras import callbacks as callbacks_module
from rnnkit.keras import losses as losses_module
from rnnkit.keras import metrics as metrics_module
from rnnkit.keras import optimizers as optimizers_module
from rnnkit.keras._config import next_seed
from rnnkit.keras.layers import _BY_ADDRESS, CppWeights, KerasTensor, Layer, _is_symbolic, _wrap


def _from_cpp(cpp):
    cls = Sequential if isinstance(cpp, _rnnkit.Sequential) else Model
    model = cls.__new__(cls)
    model._cpp = cpp
    return model


def _unsupported(function, **arguments):
    for name, value in arguments.items():
        if value is not None and value is not False:
            raise NotImplementedError(f"{function}: the argument {name}={value!r} is not supported")


def _sample_weight(sample_weight):
    """Keras's sample_weight as float32: one weight per sample, or per sample and timestep."""
    return None if sample_weight is None else np.ascontiguousarray(sample_weight, dtype=np.float32)


class Model(CppWeights):
    """keras.Model(inputs, outputs, name=None): a model over a graph of layer calls (the Functional API)."""

    def __init__(self, inputs=None, outputs=None, name=None, **kwargs):
        if "input" in kwargs or "output" in kwargs:  # Keras 1's names
            inputs, outputs = kwargs.pop("input", inputs), kwargs.pop("output", outputs)
        trainable = kwargs.pop("trainable", True)
        if kwargs:
            raise TypeError(f"Model: unexpected argument {next(iter(kwargs))!r}")
        if inputs is None or outputs is None:
            raise NotImplementedError("Model: subclassed models (Python call() methods) are not supported; build a "
                                      "Functional model with Model(inputs, outputs) or a Sequential")
        self._cpp = _rnnkit.Model(self._tensors(inputs, "inputs"), self._tensors(outputs, "outputs"), name or "",
                                  next_seed())
        if not trainable:
            for layer in self.layers:
                layer.trainable = False

    @staticmethod
    def _tensors(value, what):
        if isinstance(value, dict):
            raise NotImplementedError(f"Model: {what} given as a dict are not supported; give a list")
        tensors = [value] if isinstance(value, KerasTensor) else list(value)
        for tensor in tensors:
            if not isinstance(tensor, KerasTensor):
                raise TypeError(f"Model: {what} must be rnnkit.keras tensors (from Input and layer calls), "
                                f"received {tensor!r}")
        return [t._cpp for t in tensors]

    # -- structure -----------------------------------------------------------------------------------------------
    @property
    def name(self):
        return self._cpp.name

    @property
    def layers(self):
        return [_wrap(layer) for layer in self._cpp.layers]

    def get_layer(self, name=None, index=None):
        if index is not None:
            return self.layers[index]
        return _wrap(self._cpp.get_layer(name))

    @property
    def inputs(self):
        return [KerasTensor(t) for t in self._cpp.inputs]

    @property
    def outputs(self):
        return [KerasTensor(t) for t in self._cpp.outputs]

    @property
    def input_names(self):
        return list(self._cpp.input_names)

    @property
    def output_names(self):
        return list(self._cpp.output_names)

    @property
    def input_shape(self):
        shapes = [t.shape for t in self._cpp.inputs]
        return shapes[0] if len(shapes) == 1 else shapes

    @property
    def output_shape(self):
        shapes = [t.shape for t in self._cpp.outputs]
        return shapes[0] if len(shapes) == 1 else shapes

    @property
    def built(self):
        return self._cpp.built

    @property
    def trainable(self):
        return all(layer.trainable for layer in self.layers)

    @trainable.setter
    def trainable(self, value):
        for layer in self.layers:
            layer.trainable = value

    @property
    def stop_training(self):
        return self._cpp.stop_training

    @stop_training.setter
    def stop_training(self, value):
        self._cpp.stop_training = bool(value)

    @property
    def optimizer(self):
        if not self._cpp.compiled:
            return None
        config = json.loads(self._cpp.optimizer_config())
        cls = getattr(optimizers_module, config["class_name"])
        known = {k: v for k, v in config["config"].items() if k in dict(cls._arguments + tuple(optimizers_module._COMMON))
                 or k == "name"}
        return cls(**known)

    def count_params(self):
        return self._cpp.count_params()

    def reset_states(self):
        self._cpp.reset_states()

    def summary(self, line_length=None, positions=None, print_fn=None, expand_nested=False, show_trainable=False,
                layer_range=None):
        """Prints tf.keras 2.12's summary table, line by line through print_fn (print by default)."""
        _unsupported("summary", positions=positions, expand_nested=expand_nested, show_trainable=show_trainable,
                     layer_range=layer_range)
        text = self._cpp.summary_text("keras2.12", int(line_length or 0))
        print_fn = print_fn or print
        for line in text.splitlines():
            print_fn(line)

    def get_config(self):
        return json.loads(self._cpp.config())["config"]

    def to_json(self, **kwargs):
        """Keras's model.to_json() (tf.keras 2.11's dialect); kwargs go to json.dumps."""
        return json.dumps(json.loads(self._cpp.config()), **kwargs)

    # -- training ------------------------------------------------------------------------------------------------
    def compile(self, optimizer="rmsprop", loss=None, metrics=None, loss_weights=None, weighted_metrics=None,
                run_eagerly=None, steps_per_execution=None, jit_compile=None, **kwargs):
        """Keras's compile: an optimizer name or object, a loss (name, function or Loss object; a list or dict of
        them per output), metrics (['accuracy']; per output as a list of lists or a dict), loss_weights."""
        if weighted_metrics:
            raise NotImplementedError("compile: weighted_metrics are not supported")
        unknown = set(kwargs) - {"sample_weight_mode", "target_tensors", "distribute"}
        if unknown:
            raise TypeError(f"compile: unexpected argument {sorted(unknown)[0]!r}")
        _unsupported("compile", sample_weight_mode=kwargs.get("sample_weight_mode"),
                     target_tensors=kwargs.get("target_tensors"))
        if loss is None:
            raise NotImplementedError("compile: a model without a loss (add_loss) is not supported; give loss=")
        optimizer = optimizers_module.get(optimizer)
        optimizer_config = json.dumps(optimizer.get_config())
        output_names = self.output_names if self.built else []
        loss_name, losses, loss_by_output, from_logits = "mean_squared_error", [], {}, False
        if isinstance(loss, dict):
            for key, value in loss.items():
                loss_by_output[key], logits = losses_module.resolve(value, f"loss[{key!r}]")
                from_logits = from_logits or logits
        elif isinstance(loss, (list, tuple)):
            for i, value in enumerate(loss):
                name, logits = losses_module.resolve(value, f"loss[{i}]")
                losses.append(name)
                from_logits = from_logits or logits
        else:
            loss_name, from_logits = losses_module.resolve(loss)
        metric_list, metrics_by_output = [], {}
        if isinstance(metrics, dict):
            for key, value in metrics.items():
                value = [value] if isinstance(value, str) or not isinstance(value, (list, tuple)) else value
                metrics_by_output[key] = [metrics_module.resolve(m) for m in value]
        elif metrics is not None:
            if any(isinstance(m, (list, tuple)) for m in metrics):
                for name, value in zip(output_names, metrics):
                    value = [value] if not isinstance(value, (list, tuple)) else value
                    metrics_by_output[name] = [metrics_module.resolve(m) for m in value]
            else:
                metric_list = [metrics_module.resolve(m) for m in metrics]
        weights, weight_by_output = [], {}
        if isinstance(loss_weights, dict):
            weight_by_output = {k: float(v) for k, v in loss_weights.items()}
        elif loss_weights is not None:
            weights = [float(w) for w in loss_weights]
        class_name = type(optimizer).__name__
        self._cpp.compile(loss_name, losses, loss_by_output, class_name, optimizer_config, metric_list,
                          metrics_by_output, weights, weight_by_output, bool(from_logits))

    def _arrays(self, value, names, what):
        if value is None:
            raise ValueError(f"{what}: no data given")
        if isinstance(value, dict):
            missing = [n for n in names if n not in value]
            if missing:
                raise ValueError(f"{what}: no array for {missing[0]!r} (the model's are {names})")
            return [value[n] for n in names]
        if isinstance(value, (list, tuple)) and len(value) == len(names) and \
                all(isinstance(v, np.ndarray) for v in value):
            return list(value)  # one array per input (or output), as Keras takes [x] for a one-input model
        if not isinstance(value, (np.ndarray, list, tuple)) and (hasattr(value, "__next__") or
                                                                 hasattr(value, "element_spec")):
            raise NotImplementedError(f"{what}: generators and datasets are not supported; give numpy arrays")
        return [value]

    def _input_names(self, count):
        return self.input_names if self.built else [f"input_{i}" for i in range(count)]

    def _output_names(self):
        return self.output_names if self.built else ["output"]

    def _callbacks(self, callbacks):
        made = []
        for callback in callbacks or []:
            if isinstance(callback, callbacks_module.History):
                continue
            if not hasattr(callback, "_cpp_callback"):
                raise TypeError(f"callbacks: {callback!r} is not an rnnkit.keras callback")
            callback.set_model(self)
            made.append(callback._cpp_callback())
        return made

    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None, validation_split=0.0,
            validation_data=None, shuffle=True, class_weight=None, sample_weight=None, initial_epoch=0,
            steps_per_epoch=None, validation_steps=None, validation_batch_size=None, validation_freq=1,
            max_queue_size=10, workers=1, use_multiprocessing=False):
        """Trains in C++ and returns a History whose .history holds each epoch's logs as Keras's does."""
        _unsupported("fit", steps_per_epoch=steps_per_epoch,
                     validation_steps=validation_steps, validation_batch_size=validation_batch_size)
        if validation_freq != 1:
            raise NotImplementedError("fit: validation_freq other than 1 is not supported")
        if shuffle == "batch":
            raise NotImplementedError("fit: shuffle='batch' is not supported")
        xs = self._arrays(x, self._input_names(1), "fit x")
        ys = self._arrays(y, self._output_names(), "fit y")
        validation = None
        if validation_data is not None:
            if len(validation_data) == 3 and validation_data[2] is not None:
                raise NotImplementedError("fit: sample weights in validation_data are not supported")
            validation = (self._arrays(validation_data[0], self._input_names(1), "validation_data x"),
                          self._arrays(validation_data[1], self._output_names(), "validation_data y"))
        verbose = 1 if verbose == "auto" else int(verbose)
        history = callbacks_module.History()
        history.set_model(self)
        made = self._callbacks(callbacks)
        result = self._cpp.fit(xs, ys, int(epochs), int(batch_size or 32), verbose, bool(shuffle),
                               float(validation_split), validation, int(initial_epoch),
                               {int(k): float(v) for k, v in (class_weight or {}).items()},
                               _sample_weight(sample_weight), made)
        history.history = {k: list(v) for k, v in result["history"].items()}
        history.epoch = list(result["epoch"])
        history.params = {"verbose": verbose, "epochs": epochs, "steps": None}
        history.stop_reason = result["stop_reason"]
        return history

    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None, steps=None, callbacks=None,
                 max_queue_size=10, workers=1, use_multiprocessing=False, return_dict=False):
        """The loss (and metrics) over the data: a scalar, a list in metrics_names order, or a dict."""
        _unsupported("evaluate", steps=steps, callbacks=callbacks)
        verbose = 1 if verbose == "auto" else int(verbose)
        logs = self._cpp.evaluate(self._arrays(x, self._input_names(1), "evaluate x"),
                                  self._arrays(y, self._output_names(), "evaluate y"), int(batch_size or 32), verbose,
                                  _sample_weight(sample_weight))
        if return_dict:
            return logs
        names = self._metrics_names(logs)
        values = [logs[n] for n in names]
        return values[0] if len(values) == 1 else values

    @staticmethod
    def _metrics_names(logs):
        # Keras's order: the loss, each output's loss, then the metrics.
        names = ["loss"] if "loss" in logs else []
        names += [k for k in logs if k != "loss" and k.endswith("_loss")]
        names += [k for k in logs if k not in names]
        return names

    def predict(self, x, batch_size=None, verbose="auto", steps=None, callbacks=None, max_queue_size=10, workers=1,
                use_multiprocessing=False):
        """The model's outputs for x in batches of batch_size (32): a numpy array, or a list for several outputs."""
        _unsupported("predict", steps=steps, callbacks=callbacks)
        outputs = self._cpp.predict(self._arrays(x, self._input_names(1), "predict x"), int(batch_size or 32))
        return outputs[0] if len(outputs) == 1 else outputs

    def predict_on_batch(self, x):
        return self.predict(x, batch_size=max(1, len(x) if not isinstance(x, (list, dict)) else 1 << 30))

    def __call__(self, inputs, training=None, mask=None):
        if mask is not None:
            raise NotImplementedError("model call: an explicit mask is not supported")
        if _is_symbolic(inputs):  # a nested model: its layers, and so its weights, are shared with the outer model
            tensors = [inputs] if isinstance(inputs, KerasTensor) else list(inputs)
            outputs = [KerasTensor(t) for t in
                       _rnnkit.Layer.call_symbolic(self._as_layer(), [t._cpp for t in tensors], [], next_seed())]
            return outputs[0] if len(outputs) == 1 else outputs
        outputs = self._cpp.call(self._arrays(inputs, self._input_names(1), "model call"), bool(training))
        return outputs[0] if len(outputs) == 1 else outputs

    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None, reset_metrics=True, return_dict=False):
        _unsupported("train_on_batch", sample_weight=sample_weight, class_weight=class_weight)
        logs = self._cpp.train_on_batch(self._arrays(x, self._input_names(1), "train_on_batch x"),
                                        self._arrays(y, self._output_names(), "train_on_batch y"))
        if return_dict:
            return logs
        values = [logs[n] for n in self._metrics_names(logs)]
        return values[0] if len(values) == 1 else values

    # -- files ---------------------------------------------------------------------------------------------------
    def save(self, filepath, overwrite=True, include_optimizer=True, save_format=None, signatures=None, options=None,
             save_traces=True):
        """Saves the model to .keras (Keras 3's archive) or .h5 (tf.keras 2.11's HDF5), by the extension."""
        filepath = os.fspath(filepath)
        if save_format == "tf" or not filepath.endswith((".keras", ".h5", ".hdf5")):
            raise NotImplementedError(f"save: the SavedModel format is not supported; give a path ending in .keras "
                                      f"or .h5 (received {filepath!r})")
        if not include_optimizer:
            raise NotImplementedError("save: include_optimizer=False is not supported")
        if not overwrite and os.path.exists(filepath):
            raise FileExistsError(filepath)
        self._cpp.save(filepath)

    def save_weights(self, filepath, overwrite=True, save_format=None, options=None):
        self._cpp.save_weights(os.fspath(filepath))

    def load_weights(self, filepath, by_name=False, skip_mismatch=False, options=None):
        _unsupported("load_weights", by_name=by_name, skip_mismatch=skip_mismatch)
        self._cpp.load_weights(os.fspath(filepath))

    def _as_layer(self):
        # The C++ layer of every call of this model inside another; model.layers gives back this object.
        layer = self._cpp.as_layer()
        _BY_ADDRESS[layer.address] = self
        return layer

    def __repr__(self):
        return f"<rnnkit.keras.{type(self).__name__} name={self.name}>"


class Sequential(Model):
    """keras.Sequential(layers=None, name=None): a stack of layers, each feeding the next."""

    def __init__(self, layers=None, name=None):
        self._cpp = _rnnkit.Sequential(name or "", next_seed())
        for layer in layers or []:
            self.add(layer)

    def add(self, layer):
        if isinstance(layer, KerasTensor):
            self._cpp.add_input(layer._cpp)
        elif isinstance(layer, Model):
            self._cpp.add(layer._as_layer())
        elif isinstance(layer, Layer):
            self._cpp.add(layer._cpp)
        else:
            raise TypeError("The added layer must be an instance of class Layer. Received: layer="
                            f"{layer!r} of type {type(layer)}.")

    def pop(self):
        raise NotImplementedError("Sequential.pop is not supported")

    def build(self, input_shape=None):
        if input_shape is None:
            raise ValueError("You must provide an `input_shape` argument.")
        self._cpp.build(list(input_shape))


def load_model(filepath, custom_objects=None, compile=True, options=None, safe_mode=True):
    """A model from a Keras file (.h5 of Keras 1/2, .keras of Keras 3, or model JSON), compiled where the file holds
    a training configuration, as Keras's load_model."""
    if custom_objects:
        raise NotImplementedError("load_model: custom_objects are not supported (rnnkit runs only its own layers)")
    return _from_cpp(_rnnkit.load_model(os.fspath(filepath)))


def save_model(model, filepath, overwrite=True, include_optimizer=True, save_format=None, **kwargs):
    model.save(filepath, overwrite=overwrite, include_optimizer=include_optimizer, save_format=save_format)


def model_from_json(json_string, custom_objects=None):
    """A model, with fresh weights, from Keras's model.to_json() of any era."""
    if custom_objects:
        raise NotImplementedError("model_from_json: custom_objects are not supported")
    return _from_cpp(_rnnkit.model_from_json(json_string))


def clone_model(model, input_tensors=None, clone_function=None):
    if input_tensors is not None or clone_function is not None:
        raise NotImplementedError("clone_model: input_tensors and clone_function are not supported")
    return model_from_json(model.to_json())
