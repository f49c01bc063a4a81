"""Classes whose whole state is their Keras config (initializers, regularizers, constraints), made from a table of
(class name, [(argument, default), ...])."""
import inspect

from rnnkit.keras._config import Serializable


def make_class(module, class_name, arguments, doc):
    parameters = [inspect.Parameter(name, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=default)
                  for name, default in arguments]
    signature = inspect.Signature(parameters)

    def __init__(self, *args, **kwargs):
        try:
            bound = signature.bind(*args, **kwargs)
        except TypeError as error:
            raise TypeError(f"{class_name}: {error}") from None
        bound.apply_defaults()
        self._config = dict(bound.arguments)

    cls = type(class_name, (Serializable,), {"__init__": __init__, "__module__": module,
                                             "__doc__": f"keras {doc} {class_name}{signature}"})
    cls.__init__.__signature__ = inspect.Signature([inspect.Parameter("self", inspect.Parameter.POSITIONAL_ONLY)]
                                                   + parameters)
    return cls
