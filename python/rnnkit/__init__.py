"""rnnkit: recurrent neural networks for text in C++, with Keras's semantics.

`rnnkit.keras` mirrors `tf.keras` for what rnnkit supports: change a tf.keras 2.x script's imports
(`from tensorflow.keras.layers import LSTM` -> `from rnnkit.keras.layers import LSTM`, `tf.keras` ->
`rnnkit.keras`) and it runs on rnnkit, with numpy arrays where it had tensors.
"""
from rnnkit import keras

__version__ = "0.1.0"
__all__ = ["keras"]
