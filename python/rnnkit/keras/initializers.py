"""keras.initializers: objects for the *_initializer arguments of layers (names such as 'glorot_uniform' work too)."""
from rnnkit.keras._factory import make_class

_TABLE = [
    ("Zeros", []), ("Ones", []), ("Constant", [("value", 0)]),
    ("RandomUniform", [("minval", -0.05), ("maxval", 0.05), ("seed", None)]),
    ("RandomNormal", [("mean", 0.0), ("stddev", 0.05), ("seed", None)]),
    ("TruncatedNormal", [("mean", 0.0), ("stddev", 0.05), ("seed", None)]),
    ("GlorotUniform", [("seed", None)]), ("GlorotNormal", [("seed", None)]),
    ("HeUniform", [("seed", None)]), ("HeNormal", [("seed", None)]),
    ("LecunUniform", [("seed", None)]), ("LecunNormal", [("seed", None)]),
    ("Orthogonal", [("gain", 1.0), ("seed", None)]), ("Identity", [("gain", 1.0)]),
    ("VarianceScaling", [("scale", 1.0), ("mode", "fan_in"), ("distribution", "truncated_normal"), ("seed", None)]),
]
for _name, _arguments in _TABLE:
    globals()[_name] = make_class(__name__, _name, _arguments, "initializer")
zeros, ones, constant = Zeros, Ones, Constant
glorot_uniform, glorot_normal, orthogonal = GlorotUniform, GlorotNormal, Orthogonal
