"""Type-strict checks of user-supplied parameters, shared by the API, the TOML config and ``--set``.

Every public entry point funnels its values through these functions, so a value means the same
thing whichever way it arrives:

* an integer parameter takes an ``int`` (or a numpy integer), never a bool, a float (``4.5`` or
  ``4.0``) or a string;
* a real parameter takes an ``int`` or a ``float`` (or their numpy scalars) that is finite, never a
  bool or a string (``"2.0"`` would otherwise be iterated character by character);
* a list parameter takes one such value or a list/tuple/1-D array of them, never a string.

Each failure is a ``ValueError`` whose message names the parameter and shows the offending value.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence

import numpy as np

__all__ = [
    "integer", "real", "boolean", "choice", "integer_list", "real_list", "validate_fields", "validate_steps",
    "validate_scalar", "validate_chain",
]


def _describe(value: object) -> str:
    kind = type(value).__name__
    return f"{value!r} (a {kind})" if isinstance(value, (str, bool, np.bool_)) else repr(value)


def _is_integer(value: object) -> bool:
    return isinstance(value, (numbers.Integral, np.integer)) and not isinstance(value, (bool, np.bool_))


def _is_real(value: object) -> bool:
    return isinstance(value, (numbers.Real, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))


def integer(name: str, value: object, *, minimum: int | None = None, maximum: int | None = None) -> int:
    """``value`` as a Python int, after checking it is an integer within [minimum, maximum].

    Raises
    ------
    ValueError
        If ``value`` is not an integer (bools, floats and strings are refused) or out of range.
    """
    if not _is_integer(value):
        raise ValueError(f"{name} must be an integer; got {_describe(value)}")
    out = int(value)
    if minimum is not None and out < minimum:
        raise ValueError(f"{name} must be >= {minimum}; got {out}")
    if maximum is not None and out > maximum:
        raise ValueError(f"{name} must be <= {maximum}; got {out}")
    return out


def real(
    name: str,
    value: object,
    *,
    minimum: float | None = None,
    positive: bool = False,
    maximum: float | None = None,
) -> float:
    """``value`` as a finite Python float, checked against ``minimum`` / ``positive`` / ``maximum``.

    Raises
    ------
    ValueError
        If ``value`` is not a real number (bools and strings are refused), not finite, or out of
        range.
    """
    if not _is_real(value):
        raise ValueError(f"{name} must be a real number; got {_describe(value)}")
    out = float(value)
    if not math.isfinite(out):
        raise ValueError(f"{name} must be finite; got {out}")
    if positive and out <= 0:
        raise ValueError(f"{name} must be > 0; got {out}")
    if minimum is not None and out < minimum:
        raise ValueError(f"{name} must be >= {minimum:g}; got {out:g}")
    if maximum is not None and out > maximum:
        raise ValueError(f"{name} must be <= {maximum:g}; got {out:g}")
    return out


def boolean(name: str, value: object) -> bool:
    """``value`` if it is a bool (``"no"``, ``0`` or ``1`` are refused, not coerced)."""
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name} must be true or false; got {_describe(value)}")
    return bool(value)


def choice(name: str, value: object, options: Sequence[str]) -> str:
    """``value`` if it is one of the strings ``options``."""
    if not isinstance(value, str) or value not in options:
        raise ValueError(f"{name} must be one of {tuple(options)}; got {_describe(value)}")
    return value


def _items(name: str, value: object, what: str) -> list:
    if isinstance(value, (str, bytes)):
        raise ValueError(f"{name} must be {what} or a list of them; got {_describe(value)}")
    if isinstance(value, np.ndarray):
        if value.ndim > 1:
            raise ValueError(f"{name} must be {what} or a 1-D list of them; got an array of shape {value.shape}")
        items = list(value.ravel()) if value.ndim == 1 else [value[()]]
    elif isinstance(value, (list, tuple)):
        items = list(value)
    else:
        items = [value]
    if not items:
        raise ValueError(f"{name} must not be empty")
    return items


def _sorted_unique(name: str, values: list) -> list:
    out = sorted(set(values))
    if len(out) != len(values):
        raise ValueError(f"{name} has duplicate values: {values}")
    return out


def integer_list(
    name: str, value: object, *, minimum: int | None = None, maximum: int | None = None
) -> list[int]:
    """One integer or a list of distinct integers, returned sorted (see :func:`integer`)."""
    items = _items(name, value, "an integer")
    return _sorted_unique(name, [integer(name, v, minimum=minimum, maximum=maximum) for v in items])


def real_list(
    name: str, value: object, *, minimum: float | None = None, maximum: float | None = None
) -> list[float]:
    """One real number or a list of distinct finite reals, returned sorted (see :func:`real`)."""
    items = _items(name, value, "a real number")
    return _sorted_unique(name, [real(name, v, minimum=minimum, maximum=maximum) for v in items])


# Array inputs of the engines and references (the engines validate once, at their entry point).


def validate_fields(fields) -> np.ndarray:
    """Return ``fields`` as a float array after checking it describes an even, finite chain."""
    arr = np.asarray(fields, dtype=np.float64)
    if arr.ndim != 1:
        raise ValueError(f"fields must be a 1-D array of on-site fields; got shape {arr.shape}")
    L = arr.size
    if L < 2 or L % 2:
        raise ValueError(f"L = len(fields) must be even and >= 2 (Néel start, Sz_tot = 0); got L={L}")
    if not np.all(np.isfinite(arr)):
        raise ValueError("fields must be finite (found NaN or inf)")
    return arr


def validate_steps(sample_steps) -> np.ndarray:
    """Return ``sample_steps`` as int64 after checking they are integers, >= 0 and increasing."""
    raw = np.asarray(sample_steps)
    if raw.ndim != 1 or raw.size == 0:
        raise ValueError("sample_steps must be a non-empty 1-D sequence of step counts")
    if raw.dtype.kind not in "iu":
        if raw.dtype.kind != "f" or not np.all(np.isfinite(raw)) or np.any(raw != np.round(raw)):
            raise ValueError("sample_steps must be integers (numbers of tau steps)")
    steps = raw.astype(np.int64)
    if np.any(steps < 0):
        raise ValueError("sample_steps must be non-negative")
    if np.any(np.diff(steps) <= 0):
        raise ValueError("sample_steps must be strictly increasing")
    return steps


def validate_scalar(name: str, value: float, *, positive: bool = False) -> float:
    """Return ``value`` as a float after checking it is finite (and > 0 if ``positive``)."""
    value = float(value)
    if not math.isfinite(value) or (positive and value <= 0):
        raise ValueError(f"{name} must be finite{' and > 0' if positive else ''}; got {name}={value}")
    return value


def validate_chain(fields, delta: float, gamma: float, J: float) -> tuple[np.ndarray, float, float, float]:
    """Validated ``(fields, delta, gamma, J)``: an even, finite chain and finite couplings."""
    return (validate_fields(fields), validate_scalar("delta", delta), validate_scalar("gamma", gamma),
            validate_scalar("J", J))
