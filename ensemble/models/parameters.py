"""Frozen parameter dataclasses, and everything generated from their fields.

A physics part (the chain, a disorder law, an initial state, a bath) is a frozen dataclass whose
fields are declared with :func:`parameter`. From those declarations, and nowhere else, come

* the TOML keys of a run configuration (:func:`toml_schema`; ``--set table.key=value`` overrides
  address the same keys),
* the type-strict validation of each value (:mod:`ensemble.validation`, run in ``__post_init__``),
* the entries of the run fingerprint (:func:`fingerprint_items`) and of the Dataset attributes
  (:func:`attrs_items`).

Parts that come in kinds (disorder laws, initial states, baths) are looked up by name in a
:class:`Registry`; each kind is one module of its package, found when the registry is first used.

Fingerprint stability: a field declared with ``stable_default=True`` is left out of the
fingerprint while it has its default value, so the fingerprints of runs made before the field
existed (which could only have that value) stay valid and such runs still combine and resume.
"""

from __future__ import annotations

import dataclasses
import importlib
import pkgutil
from collections.abc import Callable, Iterator
from typing import Any

from ensemble import validation

__all__ = [
    "REQUIRED", "parameter", "Parameters", "Registry", "toml_schema", "fingerprint_items", "attrs_items",
    "from_table",
]

#: Marks a parameter without a default (the TOML key is required).
REQUIRED = dataclasses.MISSING
_NUMBER = (int, float)
_CHECKS: dict[str, tuple[tuple[type, ...], Callable[[str, Any], Any]]] = {
    "real": (_NUMBER, lambda name, v: validation.real(name, v)),
    "positive": (_NUMBER, lambda name, v: validation.real(name, v, positive=True)),
    "integer": ((int,), lambda name, v: validation.integer(name, v)),
    "site": ((int,), lambda name, v: validation.integer(name, v, minimum=1)),
    "string": ((str,), lambda name, v: v),
    "boolean": ((bool,), lambda name, v: validation.boolean(name, v)),
}


def parameter(
    default: Any = REQUIRED,
    *,
    doc: str,
    check: str = "real",
    key: str | None = None,
    table: str | None = None,
    stable_default: bool = False,
) -> Any:
    """Declare one field of a parameter dataclass.

    Parameters
    ----------
    default
        The default value; :data:`REQUIRED` for none.
    doc
        One line with the meaning and units, shown in ``docs/config.md`` and error messages.
    check
        The type-strict check: ``"real"`` (finite number), ``"positive"`` (finite, > 0),
        ``"integer"``, ``"site"`` (integer >= 1), ``"string"`` or ``"boolean"``.
    key, table
        The TOML key and table (default: the field name and the class's ``TABLE``).
    stable_default
        Leave the field out of the fingerprint while it has its default (module docstring).
    """
    if check not in _CHECKS:
        raise ValueError(f"unknown parameter check {check!r}")
    metadata = {"doc": doc, "check": check, "key": key, "table": table, "stable_default": stable_default}
    return dataclasses.field(default=default, metadata=metadata)


class Parameters:
    """Base of the parameter dataclasses: validates every declared field after construction.

    Subclasses are ``@dataclass(frozen=True, kw_only=True)`` with a class attribute ``TABLE`` (the
    TOML table of their fields).
    """

    TABLE: str = ""

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            if "check" not in f.metadata:
                continue
            value = getattr(self, f.name)
            checked = _CHECKS[f.metadata["check"]][1](_label(type(self), f), value)
            object.__setattr__(self, f.name, checked)


def _label(cls: type, f: dataclasses.Field) -> str:
    table = f.metadata.get("table") or cls.TABLE
    return f"{table}.{f.metadata.get('key') or f.name}" if table else f.name


def _declared(obj_or_cls) -> Iterator[dataclasses.Field]:
    return (f for f in dataclasses.fields(obj_or_cls) if "check" in f.metadata)


def toml_schema(cls: type) -> dict[str, dict[str, tuple[tuple[type, ...], Any, str]]]:
    """``table -> key -> (accepted TOML types, default or REQUIRED, doc)`` for one dataclass."""
    out: dict[str, dict[str, tuple[tuple[type, ...], Any, str]]] = {}
    for f in _declared(cls):
        table = f.metadata["table"] or cls.TABLE
        key = f.metadata["key"] or f.name
        out.setdefault(table, {})[key] = (_CHECKS[f.metadata["check"]][0], f.default, f.metadata["doc"])
    return out


def from_table(cls: type, values: dict[str, dict[str, Any]]):
    """Build ``cls`` from resolved TOML tables (``table -> key -> value``; None means unset)."""
    kwargs = {}
    for f in _declared(cls):
        table, key = f.metadata["table"] or cls.TABLE, f.metadata["key"] or f.name
        given = values.get(table, {})
        if given.get(key) is not None:
            kwargs[f.name] = given[key]
        elif f.default is REQUIRED:
            raise ValueError(f"config key {table}.{key} is required")
    return cls(**kwargs)


def fingerprint_items(obj: Parameters, prefix: str = "") -> dict[str, Any]:
    """The fields that determine a run's numbers, keyed ``prefix + TOML key``."""
    out = {}
    for f in _declared(obj):
        value = getattr(obj, f.name)
        if f.metadata["stable_default"] and value == f.default:
            continue
        out[prefix + (f.metadata["key"] or f.name)] = value
    return out


def attrs_items(obj: Parameters, prefix: str = "") -> dict[str, Any]:
    """Every declared field, keyed ``prefix + TOML key``, as netCDF-safe values (bool -> int)."""
    return {prefix + (f.metadata["key"] or f.name): _netcdf(getattr(obj, f.name)) for f in _declared(obj)}


def _netcdf(value: Any) -> Any:
    return int(value) if isinstance(value, bool) else value


class Registry:
    """Named kinds of one part (disorder laws, initial states, baths, engines, observables).

    Every module of ``package`` is imported the first time the registry is read, so a kind is
    added by adding one module whose class is decorated with :meth:`register`.

    Parameters
    ----------
    what : str
        What the kinds are, for error messages (``"disorder law"``).
    package : str
        The package whose modules define the kinds.
    """

    def __init__(self, what: str, package: str) -> None:
        self.what, self.package = what, package
        self._kinds: dict[str, Any] = {}
        self._loaded = False

    def register(self, name: str) -> Callable[[Any], Any]:
        """Class decorator: make the class available as ``name``."""
        def add(obj):
            if name in self._kinds and self._kinds[name] is not obj:
                raise ValueError(f"{self.what} {name!r} is registered twice")
            self._kinds[name] = obj
            obj.NAME = name
            return obj
        return add

    def _load(self) -> None:
        if not self._loaded:
            self._loaded = True
            pkg = importlib.import_module(self.package)
            for info in pkgutil.iter_modules(pkg.__path__):
                importlib.import_module(f"{self.package}.{info.name}")

    def names(self) -> tuple[str, ...]:
        """The registered names, in registration order."""
        self._load()
        return tuple(self._kinds)

    def get(self, name: object) -> Any:
        """The kind called ``name``; ``ValueError`` naming the known ones otherwise."""
        self._load()
        if not isinstance(name, str) or name not in self._kinds:
            raise ValueError(f"unknown {self.what} {name!r} (known: {', '.join(self._kinds)})")
        return self._kinds[name]

    def items(self) -> list[tuple[str, Any]]:
        """``(name, kind)`` pairs, in registration order."""
        self._load()
        return list(self._kinds.items())
