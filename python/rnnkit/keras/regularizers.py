"""keras.regularizers: L1, L2 and L1L2 penalties for the *_regularizer arguments of layers."""
from rnnkit.keras._factory import make_class

L1 = make_class(__name__, "L1", [("l1", 0.01)], "regularizer")
L2 = make_class(__name__, "L2", [("l2", 0.01)], "regularizer")
L1L2 = make_class(__name__, "L1L2", [("l1", 0.0), ("l2", 0.0)], "regularizer")
l1, l2 = L1, L2


def l1_l2(l1=0.01, l2=0.01):  # noqa: F811 (Keras's function of this name)
    return L1L2(l1=l1, l2=l2)
