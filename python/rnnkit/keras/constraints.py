"""keras.constraints: MaxNorm, NonNeg, UnitNorm and MinMaxNorm for the *_constraint arguments of layers."""
from rnnkit.keras._factory import make_class

MaxNorm = make_class(__name__, "MaxNorm", [("max_value", 2), ("axis", 0)], "constraint")
NonNeg = make_class(__name__, "NonNeg", [], "constraint")
UnitNorm = make_class(__name__, "UnitNorm", [("axis", 0)], "constraint")
MinMaxNorm = make_class(__name__, "MinMaxNorm", [("min_value", 0.0), ("max_value", 1.0), ("rate", 1.0), ("axis", 0)],
                        "constraint")
max_norm, non_neg, unit_norm, min_max_norm = MaxNorm, NonNeg, UnitNorm, MinMaxNorm
