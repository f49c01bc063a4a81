"""Makes the module built in the build tree importable: PYTHONPATH (set by ctest) or build/python of this tree."""
import os
import sys

_BUILD_PYTHON = os.path.join(os.environ.get("RNNKIT_BUILD_DIR",
                                            os.path.join(os.path.dirname(__file__), "..", "..", "build")), "python")
if not any(os.path.isfile(os.path.join(p, "rnnkit", "__init__.py")) for p in sys.path if p):
    sys.path.insert(0, os.path.abspath(_BUILD_PYTHON))
