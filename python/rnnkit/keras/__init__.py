"""rnnkit.keras: tf.keras 2.x's API over rnnkit's C++ models, module by module."""
from rnnkit.keras import (activations, backend, callbacks, constraints, initializers, layers, losses, metrics, models,
                          optimizers, preprocessing, regularizers, utils)
from rnnkit.keras.layers import Input
from rnnkit.keras.models import Model, Sequential

__all__ = ["activations", "backend", "callbacks", "constraints", "initializers", "layers", "losses", "metrics",
           "models", "optimizers", "preprocessing", "regularizers", "utils", "Input", "Model", "Sequential"]
