"""``ensemble.lindblad`` is the public name of :mod:`ensemble.references.lindblad` (the same module)."""

import sys

from ensemble.references import lindblad as _lindblad

sys.modules[__name__] = _lindblad
