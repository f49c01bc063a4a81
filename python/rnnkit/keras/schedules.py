"""keras.optimizers.schedules: ExponentialDecay, the learning-rate schedule rnnkit has."""
from rnnkit.keras._factory import make_class

ExponentialDecay = make_class(__name__, "ExponentialDecay", [("initial_learning_rate", 0.001), ("decay_steps", 1000),
                                                             ("decay_rate", 0.96), ("staircase", False),
                                                             ("name", None)], "learning-rate schedule")
