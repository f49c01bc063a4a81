"""keras.activations: the activation functions by name. They are markers for layer arguments
(Dense(4, activation=activations.relu) is Dense(4, activation='relu')); rnnkit computes them in C++."""

_NAMES = ["linear", "relu", "sigmoid", "tanh", "softmax", "softplus", "softsign", "elu", "selu", "gelu", "swish",
          "silu", "mish", "exponential", "hard_sigmoid", "leaky_relu", "log_softmax", "relu6", "hard_silu",
          "hard_swish"]


def _marker(name):
    def activation(x):
        raise NotImplementedError(f"rnnkit.keras.activations.{name} is a layer argument here; rnnkit does not "
                                  "compute it on arrays from Python")
    activation.__name__ = name
    activation._keras_name = name
    return activation


for _name in _NAMES:
    globals()[_name] = _marker(_name)


def get(identifier):
    if identifier is None:
        return globals()["linear"]
    if isinstance(identifier, str):
        if identifier not in _NAMES:
            raise ValueError(f"Unknown activation function: {identifier}")
        return globals()[identifier]
    return identifier


def serialize(activation):
    return getattr(activation, "_keras_name", activation)
