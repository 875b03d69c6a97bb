"""Quantum-trajectory simulations of a disordered XXZ chain with a T = infinity bath on site 1.

Conventions (docs/design.md): sites j = 1..L, site 1 is the bath site; S = sigma/2; J = 1 sets the
energy unit; times are ``step * tau``; the Néel start has site 1 up.
"""

from .threads import pin_threads

pin_threads()

from .combine import combine  # noqa: E402
from .dataset import validate_dataset  # noqa: E402
from .grid import run_grid  # noqa: E402
from .trajectory import magnetization_trajectory  # noqa: E402

__all__ = ["combine", "magnetization_trajectory", "run_grid", "validate_dataset", "pin_threads"]
__version__ = "0.1.0"
