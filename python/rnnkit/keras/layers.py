"""keras.layers: every layer rnnkit has, with Keras's (tf.keras 2.x) argument names, order and defaults.

A layer is made from its arguments the way Keras writes its config, by rnnkit's C++ config reader, so a layer
here is the one a Keras model file with the same config gives. Called on numpy arrays a layer computes at once
and returns numpy arrays (a list where Keras returns several: return_state); called on `Input` tensors it adds
to a Functional model's graph. Arguments rnnkit does not support raise NotImplementedError naming them.
"""
import inspect
import json
import weakref

from rnnkit import _rnnkit
from rnnkit.keras._config import next_seed, serialize

_REQUIRED = inspect.Parameter.empty
_BY_ADDRESS = weakref.WeakValueDictionary()  # C++ layer -> its Python object, so model.layers gives them back
_CLASSES = {}  # Keras class name -> the Python class, for layers made in C++ (loaded models)

# Keyword arguments of Keras's base Layer (and of its RNN and Embedding layers) beside each class's own.
_BASE_KWARGS = ("name", "trainable", "dtype", "input_shape", "batch_input_shape", "batch_size", "input_dim",
                "weights", "activity_regularizer", "autocast", "dynamic", "implementation")
# Accepted and left out: they change how Keras runs a layer, not what it computes.
_NO_EFFECT = ("autocast", "dynamic", "implementation")


class KerasTensor:
    """A symbolic tensor of a Functional model being built (what keras.Input and layer calls on it return)."""

    def __init__(self, cpp):
        self._cpp = cpp

    @property
    def shape(self):
        return self._cpp.shape

    @property
    def name(self):
        return self._cpp.description

    def __repr__(self):
        return f"<KerasTensor: shape={self.shape} (created by layer '{self._cpp.layer_name}')>"


def _is_symbolic(value):
    if isinstance(value, KerasTensor):
        return True
    return isinstance(value, (list, tuple)) and len(value) > 0 and all(isinstance(v, KerasTensor) for v in value)


def _wrap(cpp):
    """The Python object of a C++ layer: the one that made it, or a new one of its Keras class."""
    if cpp is None:
        return None
    found = _BY_ADDRESS.get(cpp.address)
    if found is not None:
        return found
    cls = _CLASSES.get(cpp.class_name, Layer)
    layer = cls.__new__(cls)
    layer._cpp = cpp
    _BY_ADDRESS[cpp.address] = layer
    return layer


def _shape_tuple(shape):
    return tuple(None if d is None else int(d) for d in shape)


class CppWeights:
    """get_weights, set_weights and weights of the C++ layer or model in self._cpp, in Keras's order."""

    def get_weights(self):
        return self._cpp.get_weights()

    def set_weights(self, weights):
        self._cpp.set_weights(list(weights))

    @property
    def weights(self):
        return self.get_weights()


class Layer(CppWeights):
    """Base of rnnkit.keras's layers (keras.layers.Layer); subclassing it to write a layer in Python is not supported."""
    _class_name = None
    _arguments = ()  # ((name, default), ...) in Keras's positional order; _REQUIRED for a required argument
    _recurrent = False  # takes input_dim and input_length, as Keras's RNN layers do
    _own_input_dim = False  # input_dim is the layer's own argument (Embedding)
    _free_time = False  # a direct call builds it for any batch size and any number of timesteps

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls._class_name is None:
            return
        _CLASSES.setdefault(cls._class_name, cls)
        if "__init__" not in cls.__dict__:  # its own, to carry its own signature
            cls.__init__ = lambda self, *args, **kwargs: Layer.__init__(self, *args, **kwargs)
        own = [inspect.Parameter(n, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=d) for n, d in cls._arguments]
        cls.__init__.__signature__ = inspect.Signature(
            [inspect.Parameter("self", inspect.Parameter.POSITIONAL_ONLY)] + own
            + [inspect.Parameter("kwargs", inspect.Parameter.VAR_KEYWORD)])
        described = "\n".join(f"    {n}: {'required' if d is _REQUIRED else 'default ' + repr(d)}"
                              for n, d in cls._arguments)
        cls.__doc__ = ((cls.__doc__ or "").rstrip() + f"\n\nkeras.layers.{cls._class_name}'s arguments:\n{described}\n"
                       "    **kwargs: name, trainable, dtype, input_shape, batch_input_shape, batch_size"
                       + (", input_dim, input_length" if cls._recurrent else "") + "\n")

    def __init__(self, *args, **kwargs):
        if self._class_name is None:
            raise NotImplementedError("rnnkit.keras.layers.Layer: layers written in Python (subclasses of Layer) "
                                      "are not supported; rnnkit runs its own C++ layers")
        config = self._bind(args, kwargs)
        self._make(config)

    def _bind(self, args, kwargs):
        names = [n for n, _ in self._arguments]
        if len(args) > len(names):
            raise TypeError(f"{self._class_name}() takes {len(names)} positional arguments, {len(args)} given")
        values = dict(zip(names, args))
        for key in list(kwargs):
            if key in names:
                if key in values:
                    raise TypeError(f"{self._class_name}() got multiple values for argument '{key}'")
                values[key] = kwargs.pop(key)
        # Every argument, defaults included, as Keras's get_config() writes them: the C++ reader's defaults are a
        # file's (a Bidirectional config without merge_mode is merge_mode=None), not the constructor's.
        for name, default in self._arguments:
            if name not in values:
                if default is _REQUIRED:
                    raise TypeError(f"{self._class_name}() missing required argument '{name}'")
                values[name] = default
        config = {}
        for name, value in values.items():
            config[name] = self._argument(name, value)
        config.update(self._base_config(kwargs))
        return config

    def _argument(self, name, value):
        if name.endswith("activation") and value is None:
            return "linear"
        return serialize(value, f"{self._class_name} argument '{name}'")

    def _base_config(self, kwargs):
        config = {}
        unknown = [k for k in kwargs if k not in _BASE_KWARGS and not (self._recurrent and k == "input_length")]
        if unknown:
            raise TypeError(f"{self._class_name}: keyword argument not understood: {unknown[0]!r}")
        if kwargs.get("weights") is not None:
            raise NotImplementedError(f"{self._class_name}: the 'weights' argument is not supported; call "
                                      "set_weights() once the layer is built")
        for key in ("name", "trainable", "dtype", "activity_regularizer"):
            if kwargs.get(key) is not None:
                config[key] = serialize(kwargs[key], f"{self._class_name} argument '{key}'")
        input_shape = kwargs.get("input_shape")
        if input_shape is None and self._recurrent and ("input_dim" in kwargs or "input_length" in kwargs):
            input_shape = (kwargs.get("input_length"), kwargs.get("input_dim"))
        elif input_shape is None and kwargs.get("input_dim") is not None and not self._own_input_dim:
            input_shape = (kwargs["input_dim"],)
        if kwargs.get("batch_input_shape") is not None:
            config["batch_input_shape"] = _shape_tuple(kwargs["batch_input_shape"])
        elif input_shape is not None:
            if isinstance(input_shape, int):
                input_shape = (input_shape,)
            config["batch_input_shape"] = (kwargs.get("batch_size"),) + _shape_tuple(input_shape)
        return config

    def _make(self, config):
        self._cpp = _rnnkit.Layer.from_config(json.dumps({"class_name": self._class_name, "config": config}))
        _BY_ADDRESS[self._cpp.address] = self

    # -- what a Keras layer offers -------------------------------------------------------------------------------
    @property
    def name(self):
        return self._cpp.name

    @property
    def trainable(self):
        return self._cpp.trainable

    @trainable.setter
    def trainable(self, value):
        self._cpp.trainable = bool(value)

    @property
    def built(self):
        return self._cpp.built

    @property
    def stateful(self):
        return self._cpp.stateful

    @property
    def input_shape(self):
        return self._cpp.input_shape

    @property
    def output_shape(self):
        shapes = self._cpp.output_shapes
        return shapes[0] if len(shapes) == 1 else shapes

    def build(self, input_shape):
        self._cpp.build(list(input_shape), next_seed())

    def count_params(self):
        if not self.built:
            raise ValueError(f"You tried to call `count_params` on layer {self.name}, but the layer isn't built.")
        return self._cpp.count_params()

    def get_config(self):
        return json.loads(self._cpp.config())

    @classmethod
    def from_config(cls, config):
        layer = cls.__new__(cls)
        layer._make(config)
        return layer

    def reset_states(self):
        self._cpp.reset_states()

    def __call__(self, inputs, *args, **kwargs):
        initial_state = kwargs.pop("initial_state", None)
        mask = kwargs.pop("mask", None)
        training = kwargs.pop("training", None)
        if args:
            raise TypeError(f"{self.name}: unexpected positional arguments after the inputs")
        for key, value in kwargs.items():
            if value is not None and value is not False:
                raise NotImplementedError(f"{self._cpp.class_name} '{self.name}': the call argument {key!r} is not "
                                          "supported")
        if isinstance(initial_state, KerasTensor):
            initial_state = [initial_state]
        if _is_symbolic(inputs):
            if mask is not None:
                raise NotImplementedError(f"{self.name}: an explicit mask in a symbolic call is not supported; "
                                          "masks flow from Embedding(mask_zero=True) and Masking")
            tensors = [inputs] if isinstance(inputs, KerasTensor) else list(inputs)
            states = [s._cpp for s in initial_state or []]
            outputs = [KerasTensor(t) for t in
                       _rnnkit.Layer.call_symbolic(self._cpp, [t._cpp for t in tensors], states, next_seed())]
            return outputs[0] if len(outputs) == 1 else outputs
        if not self._cpp.built and self._free_time and not self._cpp.takes_input_list:
            # Built, as Keras builds a layer on its first call, for any batch size and (where the layer has one)
            # any number of timesteps, so that later calls may differ in both.
            shape = getattr(inputs, "shape", None)
            if shape is None:
                import numpy as np
                shape = np.shape(inputs[0] if isinstance(inputs, (list, tuple)) and self._recurrent
                                 and len(inputs) > 1 else inputs)
            if len(shape) >= 2:
                free = [None] + ([None] if len(shape) >= 3 or self._class_name == "Embedding" else []) \
                    + [int(d) for d in shape[1 + int(len(shape) >= 3 or self._class_name == "Embedding"):]]
                self._cpp.build(free, next_seed())
        if self._cpp.takes_input_list:
            arrays = list(inputs)
        else:
            if isinstance(inputs, (list, tuple)) and len(inputs) > 0 and hasattr(inputs[0], "shape") \
                    and len(inputs) > 1 and initial_state is None and self._recurrent:
                inputs, initial_state = inputs[0], list(inputs[1:])  # Keras's layer([x, h, c])
            arrays = [inputs]
        outputs = self._cpp.call(arrays, list(initial_state or []), mask, bool(training), next_seed())
        return outputs[0] if len(outputs) == 1 else outputs

    def __repr__(self):
        return f"<rnnkit.keras.layers.{type(self).__name__} name={self.name}>"


def _layer(class_name, arguments, doc, recurrent=False, own_input_dim=False, aliases=(), free_time=False):
    cls = type(class_name, (Layer,), {"_class_name": class_name, "_arguments": tuple(arguments),
                                      "_recurrent": recurrent, "_own_input_dim": own_input_dim,
                                      "_free_time": free_time or recurrent,
                                      "__doc__": doc, "__module__": __name__})
    for alias in aliases:
        _CLASSES.setdefault(alias, cls)
    return cls


_R = _REQUIRED
_REGULARIZED = [("kernel_regularizer", None), ("bias_regularizer", None), ("activity_regularizer", None),
                ("kernel_constraint", None), ("bias_constraint", None)]


def _recurrent(class_name, doc, gates):
    arguments = [("units", _R), ("activation", "tanh")]
    if gates:
        arguments.append(("recurrent_activation", "sigmoid"))
    arguments += [("use_bias", True), ("kernel_initializer", "glorot_uniform"),
                  ("recurrent_initializer", "orthogonal"), ("bias_initializer", "zeros")]
    if class_name == "LSTM":
        arguments.append(("unit_forget_bias", True))
    arguments += [("kernel_regularizer", None), ("recurrent_regularizer", None), ("bias_regularizer", None),
                  ("activity_regularizer", None), ("kernel_constraint", None), ("recurrent_constraint", None),
                  ("bias_constraint", None), ("dropout", 0.0), ("recurrent_dropout", 0.0),
                  ("return_sequences", False), ("return_state", False), ("go_backwards", False),
                  ("stateful", False), ("time_major", False), ("unroll", False)]
    if class_name == "GRU":
        arguments.append(("reset_after", True))
    return _layer(class_name, arguments, doc, recurrent=True)


SimpleRNN = _recurrent("SimpleRNN", "Fully-connected RNN whose output is fed back to its input.", gates=False)
LSTM = _recurrent("LSTM", "Long Short-Term Memory layer (Hochreiter 1997), Keras's gate order i, f, c, o.", gates=True)
GRU = _recurrent("GRU", "Gated Recurrent Unit (Cho et al. 2014), Keras's reset_after variant by default.", gates=True)

Dense = _layer("Dense", [("units", _R), ("activation", None), ("use_bias", True),
                         ("kernel_initializer", "glorot_uniform"), ("bias_initializer", "zeros")] + _REGULARIZED,
               "Densely-connected layer: activation(dot(input, kernel) + bias), on the last axis.", free_time=True)
Embedding = _layer("Embedding", [("input_dim", _R), ("output_dim", _R), ("embeddings_initializer", "uniform"),
                                 ("embeddings_regularizer", None), ("activity_regularizer", None),
                                 ("embeddings_constraint", None), ("mask_zero", False), ("input_length", None)],
                   "Turns token ids into dense vectors of fixed size.", own_input_dim=True, free_time=True)
Activation = _layer("Activation", [("activation", _R)], "Applies an activation function to its input.", free_time=True)
Masking = _layer("Masking", [("mask_value", 0.0)], "Masks the timesteps whose features all equal mask_value.",
                 free_time=True)
Flatten = _layer("Flatten", [("data_format", None)], "Flattens every axis but the batch axis.")
Reshape = _layer("Reshape", [("target_shape", _R)], "Reshapes to target_shape (batch axis excluded).")
Permute = _layer("Permute", [("dims", _R)], "Permutes the axes of the input (1-based, batch axis excluded).")
RepeatVector = _layer("RepeatVector", [("n", _R)], "Repeats a (batch, features) input n times: (batch, n, features).")
SpatialDropout1D = _layer("SpatialDropout1D", [("rate", _R)], "Drops whole channels of a (batch, steps, channels) "
                          "input while training.")
Conv1D = _layer("Conv1D", [("filters", _R), ("kernel_size", _R), ("strides", 1), ("padding", "valid"),
                           ("data_format", "channels_last"), ("dilation_rate", 1), ("groups", 1), ("activation", None),
                           ("use_bias", True), ("kernel_initializer", "glorot_uniform"),
                           ("bias_initializer", "zeros")] + _REGULARIZED,
                "1D convolution over time.", aliases=("Convolution1D",), free_time=True)
Convolution1D = Conv1D
_POOL = [("pool_size", 2), ("strides", None), ("padding", "valid"), ("data_format", "channels_last")]
MaxPooling1D = _layer("MaxPooling1D", _POOL, "Max pooling over time.", aliases=("MaxPool1D",))
AveragePooling1D = _layer("AveragePooling1D", _POOL, "Average pooling over time.", aliases=("AvgPool1D",))
GlobalMaxPooling1D = _layer("GlobalMaxPooling1D", [("data_format", "channels_last"), ("keepdims", False)],
                            "Max over the time axis.", aliases=("GlobalMaxPool1D",))
GlobalAveragePooling1D = _layer("GlobalAveragePooling1D", [("data_format", "channels_last"), ("keepdims", False)],
                                "Mean over the (unmasked) timesteps.", aliases=("GlobalAvgPool1D",))
MaxPool1D, AvgPool1D = MaxPooling1D, AveragePooling1D
GlobalMaxPool1D, GlobalAvgPool1D = GlobalMaxPooling1D, GlobalAveragePooling1D
LayerNormalization = _layer("LayerNormalization", [
    ("axis", -1), ("epsilon", 0.001), ("center", True), ("scale", True), ("beta_initializer", "zeros"),
    ("gamma_initializer", "ones"), ("beta_regularizer", None), ("gamma_regularizer", None),
    ("beta_constraint", None), ("gamma_constraint", None)], "Layer normalization (Ba et al. 2016).", free_time=True)
BatchNormalization = _layer("BatchNormalization", [
    ("axis", -1), ("momentum", 0.99), ("epsilon", 0.001), ("center", True), ("scale", True),
    ("beta_initializer", "zeros"), ("gamma_initializer", "ones"), ("moving_mean_initializer", "zeros"),
    ("moving_variance_initializer", "ones"), ("beta_regularizer", None), ("gamma_regularizer", None),
    ("beta_constraint", None), ("gamma_constraint", None)], "Batch normalization (Ioffe and Szegedy 2015).", free_time=True)
Concatenate = _layer("Concatenate", [("axis", -1)], "Concatenates a list of tensors along an axis.")
Add = _layer("Add", [], "Adds a list of tensors of one shape.")
Subtract = _layer("Subtract", [], "Subtracts the second of two tensors from the first.")
Multiply = _layer("Multiply", [], "Multiplies a list of tensors of one shape elementwise.")
Average = _layer("Average", [], "Averages a list of tensors of one shape.")
Maximum = _layer("Maximum", [], "Elementwise maximum of a list of tensors.")
Minimum = _layer("Minimum", [], "Elementwise minimum of a list of tensors.")
Dot = _layer("Dot", [("axes", _R), ("normalize", False)], "Dot product of two tensors along axes.")
Attention = _layer("Attention", [("use_scale", False), ("score_mode", "dot"), ("dropout", 0.0), ("causal", False)],
                   "Dot-product (Luong) attention, called on [query, value] or [query, value, key].")
AdditiveAttention = _layer("AdditiveAttention", [("use_scale", True), ("dropout", 0.0), ("causal", False)],
                           "Additive (Bahdanau) attention, called on [query, value] or [query, value, key].")


class Embedding(Embedding):  # noqa: F811
    __doc__ = Embedding.__doc__

    def __call__(self, inputs, *args, **kwargs):
        # Keras looks up ids of any shape; rnnkit's Embedding takes (batch, timesteps): a vector of ids is a batch of
        # one-step sequences, its output the vectors themselves.
        if not _is_symbolic(inputs) and getattr(inputs, "ndim", None) is None:
            import numpy as np
            inputs = np.asarray(inputs)
        if not _is_symbolic(inputs) and inputs.ndim == 1:
            output = super().__call__(inputs.reshape(-1, 1), *args, **kwargs)
            return output.reshape(inputs.shape[0], -1)
        return super().__call__(inputs, *args, **kwargs)


_CLASSES["Embedding"] = Embedding


class Dropout(Layer):
    """Sets a fraction `rate` of the input to 0 while training, scaling the rest by 1 / (1 - rate)."""
    _class_name = "Dropout"
    _arguments = (("rate", _R), ("noise_shape", None), ("seed", None))

    def __init__(self, *args, **kwargs):
        config = self._bind(args, kwargs)
        if config.pop("noise_shape", None) is not None:
            raise NotImplementedError("Dropout: noise_shape is not supported")
        config.pop("seed", None)  # rnnkit draws dropout masks from the model's generator
        self._make(config)


class _Wrapper(Layer):
    _free_time = True
    def _argument(self, name, value):
        if name == "layer":
            if not isinstance(value, Layer):
                raise TypeError(f"{self._class_name}: 'layer' must be an rnnkit.keras layer, received {value!r}")
            return {"class_name": value._cpp.class_name, "config": value.get_config()}
        return super()._argument(name, value)


class Bidirectional(_Wrapper):
    """Runs a recurrent layer forwards and a copy of it backwards, merging their outputs (merge_mode)."""
    _class_name = "Bidirectional"
    _arguments = (("layer", _R), ("merge_mode", "concat"), ("weights", None), ("backward_layer", None))

    def __init__(self, *args, **kwargs):
        config = self._bind(args, kwargs)
        if config.pop("weights", None) is not None:
            raise NotImplementedError("Bidirectional: the 'weights' argument is not supported; use set_weights()")
        if config.pop("backward_layer", None) is not None:
            raise NotImplementedError("Bidirectional: a custom backward_layer is not supported")
        self._make(config)


class TimeDistributed(_Wrapper):
    """Applies a layer to every timestep of its input."""
    _class_name = "TimeDistributed"
    _arguments = (("layer", _R),)


class InputLayer(Layer):
    """The layer behind keras.Input: a model's input of a given shape."""
    _class_name = "InputLayer"
    _arguments = (("input_shape", None), ("batch_size", None), ("dtype", None), ("input_tensor", None),
                  ("sparse", None), ("name", None), ("ragged", None), ("type_spec", None))

    def __init__(self, *args, **kwargs):
        raise NotImplementedError("InputLayer: construct a model input with rnnkit.keras.Input(shape=...) (or give "
                                  "the first layer input_shape)")


def Input(shape=None, batch_size=None, name=None, dtype=None, sparse=None, tensor=None, ragged=None, type_spec=None,
          **kwargs):
    """keras.Input: a symbolic model input of `shape` (batch axis excluded)."""
    for key, value in (("sparse", sparse), ("tensor", tensor), ("ragged", ragged), ("type_spec", type_spec)):
        if value:
            raise NotImplementedError(f"Input: {key} is not supported")
    batch_shape = kwargs.pop("batch_shape", kwargs.pop("batch_input_shape", None))
    if kwargs:
        raise TypeError(f"Input: keyword argument not understood: {next(iter(kwargs))!r}")
    if batch_shape is not None:
        batch_size, shape = batch_shape[0], batch_shape[1:]
    if shape is None:
        raise ValueError("Please provide to Input a `shape` or a `tensor` or a `type_spec` argument.")
    if isinstance(shape, int):
        shape = (shape,)
    return KerasTensor(_rnnkit.Input(list(_shape_tuple(shape)), name or "", batch_size, dtype or "float32"))


for _unsupported in ("Lambda", "MultiHeadAttention", "Conv2D", "Conv2D", "LSTMCell", "GRUCell", "SimpleRNNCell", "RNN",
                     "StackedRNNCells", "ConvLSTM1D", "ConvLSTM2D", "GaussianNoise", "GaussianDropout",
                     "AlphaDropout", "UpSampling1D", "ZeroPadding1D", "Cropping1D", "TextVectorization",
                     "StringLookup", "IntegerLookup", "Normalization", "CategoryEncoding", "Hashing", "PReLU",
                     "LeakyReLU", "ReLU", "Softmax", "ELU", "ThresholdedReLU", "LocallyConnected1D",
                     "SeparableConv1D", "DepthwiseConv1D", "Conv1DTranspose", "ActivityRegularization"):
    def _missing(*args, _name=_unsupported, **kwargs):
        raise NotImplementedError(f"keras.layers.{_name} is not supported by rnnkit")
    _missing.__name__ = _unsupported
    globals()[_unsupported] = _missing
