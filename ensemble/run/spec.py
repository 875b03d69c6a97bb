"""The run specification: the parameter objects of one run, and what is generated from them.

:class:`RunSpec` composes the chain (:class:`ensemble.models.xxz.XXZChain`), the disorder law, the
initial state and the bath (:mod:`ensemble.models`) with the sample steps, the seed entropy, the
engine flags and the observables. The TOML tables of a run configuration (:func:`physics_schema`),
the run fingerprint (:meth:`RunSpec.fingerprint_params`) and the Dataset attributes
(:meth:`RunSpec.attrs`) are generated from the parameter objects' field declarations
(:mod:`ensemble.models.parameters`), never listed by hand.

Flat keys: a parameter's fingerprint and attribute key is its TOML key when it lives in ``[model]``
(``delta``, ``J``, ``gamma``, ``tau``: the keys of every run ever made), otherwise
``<table>_<key>`` (``bath_site``, ``disorder_beta``); the kind of a part is ``disorder_law``,
``initial_state`` or ``bath_kind``. A part or field at its default (the uniform law, the Néel
start, the dephasing bath on site 1, only ``sz`` and ``entanglement`` stored) is left out of the
fingerprint, so runs made before these parts existed keep their fingerprints.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

from ensemble import engines
from ensemble.models.baths import BATHS, Bath
from ensemble.models.baths import SELECTOR as BATH_SELECTOR
from ensemble.models.disorder import LAWS, Disorder
from ensemble.models.disorder import SELECTOR as LAW_SELECTOR
from ensemble.models.initial_states import SELECTOR as STATE_SELECTOR
from ensemble.models.initial_states import STATES, ProductState
from ensemble.models.parameters import attrs_items, fingerprint_items, from_table, toml_schema
from ensemble.models.xxz import XXZChain
from ensemble.observables import resolve as resolve_observables

__all__ = ["RunSpec", "PARTS", "physics_schema", "build_parts", "fill_kind_defaults", "DEFAULTS"]

#: The parts that come in kinds: (RunSpec field, TOML table, selector key, registry, default kind).
PARTS = (
    ("disorder", "disorder", LAW_SELECTOR, LAWS, "uniform"),
    ("initial", "initial", STATE_SELECTOR, STATES, "neel"),
    ("bath", "bath", BATH_SELECTOR, BATHS, "dephasing"),
)
DEFAULTS = {name: default for name, _, _, _, default in PARTS}
#: Observable sets that older fingerprints describe through the ``entanglement`` flag alone.
_FLAG_SETS = (("sz",), ("sz", "entanglement"))


def _flat(table: str, key: str) -> str:
    return key if table == "model" else f"{table}_{key}"


def physics_schema() -> dict[str, dict[str, tuple[tuple[type, ...], Any, str]]]:
    """``table -> key -> (TOML types, default or REQUIRED, doc)`` of the physics tables.

    ``[model]`` holds the chain's couplings and the bath's gamma and tau; ``[disorder]``,
    ``[initial]`` and ``[bath]`` hold the selector of the kind (``law``, ``state``, ``kind``) and the
    parameters of every registered kind (a kind refuses the parameters that are not its own). The
    defaults are those of the default kinds; another kind's parameters default to None (unset).
    """
    out: dict[str, dict[str, tuple[tuple[type, ...], Any, str]]] = {}
    for table, keys in toml_schema(XXZChain).items():
        out.setdefault(table, {}).update(keys)
    for _, table, selector, registry, default in PARTS:
        out.setdefault(table, {})[selector] = ((str,), default, f"the {registry.what} ({', '.join(registry.names())})")
    for _, _, _, registry, default in PARTS:
        for name, cls in registry.items():
            for tbl, keys in toml_schema(cls).items():
                for key, (types, value, doc) in keys.items():
                    # only the default kind's defaults are filled in; another kind's parameter is None
                    # (unset: that kind's own default applies) unless given
                    if key not in out.setdefault(tbl, {}) or name == default:
                        out[tbl][key] = (types, value if name == default else None, doc)
    return out


def fill_kind_defaults(values: dict[str, dict[str, Any]]) -> None:
    """Fill the unset (None) parameters of the chosen kinds with their defaults, in place.

    Unknown kinds are left for :func:`build_parts` to refuse.
    """
    for _, table, selector, registry, default in PARTS:
        given = values.get(table, {})
        name = given.get(selector, default)
        if name not in registry.names():
            continue
        for tbl, keys in toml_schema(registry.get(name)).items():
            for key, (_, value, _) in keys.items():
                if values.get(tbl, {}).get(key) is None:
                    values.setdefault(tbl, {})[key] = value


def build_parts(values: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Parameter objects from resolved physics tables: ``{"chain", "disorder", "initial", "bath"}``.

    Raises
    ------
    ValueError
        For an unknown kind, or a parameter the chosen kind does not have (naming the key).
    """
    parts: dict[str, Any] = {"chain": from_table(XXZChain, values)}
    for name, table, selector, registry, default in PARTS:
        cls = registry.get(values.get(table, {}).get(selector, default))
        own = {(f.metadata["table"] or cls.TABLE, f.metadata["key"] or f.name)
               for f in fields(cls) if "check" in f.metadata}
        for key, value in values.get(table, {}).items():
            if key != selector and (table, key) not in own and value is not None:
                raise ValueError(f"{table}.{key} is not a parameter of the {registry.what} {cls.NAME!r}")
        parts[name] = from_table(cls, values)
    return parts


@dataclass(frozen=True, kw_only=True)
class RunSpec:
    """Everything but (L, W, r) that determines a realization's numbers.

    Frozen, hence hashable and cheap to ship to Dask workers.

    Attributes
    ----------
    entropy : int
        Root seed entropy (see :mod:`ensemble.run.seeds`).
    steps : tuple of int
        Sample steps, strictly increasing, starting at 0; times are ``steps * bath.tau``.
    chain : XXZChain
        delta and J.
    bath : Bath
        The bath: gamma (> 0), tau and the bath site.
    disorder : Disorder
        The disorder law (default: uniform in [-W, W]).
    initial : ProductState
        The start (default: Néel, site 1 up).
    engine, unraveling, noise : str
        The engine flags (:func:`ensemble.engines.select`).
    device : str
        Where the engine runs, ``"cpu"`` or ``"gpu"`` (the batched engine only). Not part of the
        fingerprint: it changes how, not what, is computed.
    observables : tuple of str
        Stored quantities, ``"sz"`` first (:mod:`ensemble.observables`).
    """

    entropy: int
    steps: tuple[int, ...]
    chain: XXZChain
    bath: Bath
    disorder: Disorder = field(default_factory=lambda: LAWS.get("uniform")())
    initial: ProductState = field(default_factory=lambda: STATES.get("neel")())
    engine: str = "auto"
    unraveling: str = "kick"
    noise: str = "trajectory"
    observables: tuple[str, ...] = ("sz",)
    device: str = "cpu"

    def __post_init__(self) -> None:
        if len(self.steps) == 0 or self.steps[0] != 0 or any(b <= a for a, b in zip(self.steps, self.steps[1:])):
            raise ValueError("steps must start at 0 and be strictly increasing")
        if not self.bath.gamma > 0:
            raise ValueError(f"gamma must be > 0 (the gamma = 0 reference is always run too); got gamma={self.bath.gamma}")
        object.__setattr__(self, "observables", resolve_observables(self.observables))
        self.resolved_engine()  # refuses unsupported combinations, with the engine's reason

    @classmethod
    def build(cls, *, entropy: int, steps, delta: float, gamma: float, tau: float = 0.05, J: float = 1.0,
              engine: str = "auto", unraveling: str = "kick", noise: str = "trajectory", entanglement: bool = False,
              observables=None, disorder: Disorder | None = None, initial: ProductState | None = None,
              bath_site: int = 1, device: str = "cpu", bath: str | Bath = "dephasing") -> RunSpec:
        """A spec from the flat keyword arguments of :func:`ensemble.run_grid`.

        ``bath`` is a registered bath kind, built with ``gamma``, ``tau`` and ``bath_site``, or a bath
        object whose gamma, tau and site must be those arguments.
        """
        obs = ["sz", "entanglement"] if entanglement else ["sz"]
        if observables is not None:
            obs = list(dict.fromkeys([*obs, *observables]))
        extra = {}
        if disorder is not None:
            extra["disorder"] = disorder
        if initial is not None:
            extra["initial"] = initial
        return cls(entropy=entropy, steps=tuple(int(s) for s in steps), chain=XXZChain(delta=delta, J=J),
                   bath=_bath(bath, gamma, tau, bath_site), engine=engine,
                   unraveling=unraveling, noise=noise, observables=tuple(obs), device=device, **extra)

    def resolved_engine(self) -> engines.Engine:
        """The engine instance that runs this spec (raises with its reason if none accepts)."""
        return engines.select(self.engine, self.unraveling, self.noise, self.chain, self.bath, self.observables,
                              device=self.device)

    @property
    def entanglement(self) -> bool:
        """Whether the half-chain entanglement entropy is stored."""
        return "entanglement" in self.observables

    def _parts(self) -> list[tuple[str, str, Any, str]]:
        return [(table, selector, getattr(self, name), default) for name, table, selector, _, default in PARTS]

    def fingerprint_params(self) -> dict[str, Any]:
        """The parameters that fix a realization's numbers (module docstring: flat keys, defaults left out)."""
        out = _flat_items(fingerprint_items, self.chain)
        for table, selector, part, default in self._parts():
            if part.NAME != default:
                out[_flat(table, selector)] = part.NAME
            out.update(_flat_items(fingerprint_items, part))
        chosen = self.resolved_engine()
        out.update(engine=chosen.FAMILY, unraveling=self.unraveling, noise=self.noise,
                   seed_entropy=str(self.entropy), steps=list(self.steps), entanglement=self.entanglement)
        family_default = engines.select(chosen.FAMILY, self.unraveling, self.noise, self.chain, self.bath,
                                        self.observables)
        if type(family_default) is not type(chosen):  # an engine asked for by name
            out["engine_name"] = chosen.NAME
        if self.observables not in _FLAG_SETS:
            out["observables"] = list(self.observables)
        return out

    def attrs(self) -> dict[str, Any]:
        """Every physics parameter as netCDF-safe Dataset attributes (flat keys, defaults included)."""
        out = _flat_items(attrs_items, self.chain)
        for table, selector, part, _ in self._parts():
            out[_flat(table, selector)] = part.NAME
            out.update(_flat_items(attrs_items, part))
        out["observables"] = ",".join(self.observables)
        return out


def _bath(bath: str | Bath, gamma: float, tau: float, site: int) -> Bath:
    """The bath of a run: a kind built with (gamma, tau, site), or a given object that must agree with them."""
    if not isinstance(bath, Bath):
        return BATHS.get(bath)(gamma=gamma, tau=tau, site=site)
    given = {"gamma": bath.gamma, "tau": bath.tau, "bath_site": bath.site}
    for key, value in (("gamma", gamma), ("tau", tau), ("bath_site", site)):
        if given[key] != value:
            raise ValueError(f"the {bath.NAME} bath has {key} = {given[key]!r} but the run asks for {key} = {value!r}")
    return bath


def _flat_items(items, part) -> dict[str, Any]:
    """``items(part)`` with each key made flat (:func:`_flat`)."""
    picked, out = items(part), {}
    for f in fields(part):
        if "check" not in f.metadata:
            continue
        table, key = f.metadata["table"] or type(part).TABLE, f.metadata["key"] or f.name
        if key in picked:
            out[_flat(table, key)] = picked[key]
    return out
