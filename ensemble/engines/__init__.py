"""Engines: one disorder realization's gamma = 0 reference and bath trajectory, numpy in, numpy out.

Never imports Dask or xarray. An engine is a subclass of :class:`Engine` registered by name in
:data:`REGISTRY`; each engine is one module of this package (found when the registry is first
read). It states what it supports (:meth:`Engine.refuse` returns the reason it cannot run a
request, or None), estimates its cost (:meth:`Engine.seconds`), prepares the operators of one
realization once (:meth:`Engine.prepare`: H0, its propagator and spectral bounds, or the
single-particle eigenbasis) and shares them between the two runs (:meth:`Engine.reference`, the
noiseless gamma = 0 run, and :meth:`Engine.trajectory`, the bath run). At every sample time it
hands its state to the requested observables (:mod:`ensemble.observables`).

The user-facing flags ``engine`` ("auto", a family "manybody" or "gaussian", or a registered engine's
name), ``unraveling`` ("kick", "jump") and ``noise`` ("trajectory", "averaged") select a registered
engine through :func:`select`; "auto" is a lookup: the registered engines of that unraveling and
noise mode, in order of ``PRIORITY``, the first that accepts the request.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ensemble.models.baths import DIAGONAL_ONE_SITE_PHASE, Bath
from ensemble.models.parameters import Registry
from ensemble.models.xxz import XXZChain
from ensemble.observables import OBSERVABLES

__all__ = ["Engine", "Task", "REGISTRY", "select", "FLAGS", "DEVICES", "engine_choices"]

REGISTRY = Registry("engine", __name__)
#: The values of the user-facing flags (``engine`` also takes a registered engine's name).
FLAGS = {"engine": ("auto", "manybody", "gaussian"), "unraveling": ("kick", "jump"),
         "noise": ("trajectory", "averaged")}


#: The values of the ``device`` flag.
DEVICES = ("cpu", "gpu")


def engine_choices() -> tuple[str, ...]:
    """Every accepted value of the ``engine`` flag: "auto", the families, the registered names and aliases."""
    aliases = [alias for _, cls in REGISTRY.items() for alias in cls.ALIASES]
    return tuple(dict.fromkeys([*FLAGS["engine"], *aliases, *REGISTRY.names()]))


@dataclass(frozen=True, eq=False)
class Task:
    """What one realization asks of an engine.

    Attributes
    ----------
    fields : numpy.ndarray
        On-site fields h_j, shape (L,), units of J (index j - 1 = site j).
    up_sites : numpy.ndarray
        0-based indices of the up spins of the product start.
    steps : numpy.ndarray
        Sample steps (int64, strictly increasing, step 0 first); times ``steps * bath.tau``.
    chain : XXZChain
        delta and J.
    bath : Bath
        The bath (gamma, tau, site).
    observables : tuple of str
        The quantities to record at each sample time (``"sz"`` first).
    """

    fields: np.ndarray
    up_sites: np.ndarray
    steps: np.ndarray
    chain: XXZChain
    bath: Bath
    observables: tuple[str, ...] = ("sz",)

    @property
    def L(self) -> int:
        """Chain length."""
        return int(self.fields.size)


#: ``sample(k, state)``: record the state at sample index k.
Sample = Callable[[int, Any], None]


class Engine:
    """Base of the engines.

    Attributes
    ----------
    NAME : str
        Registry name.
    FAMILY : str
        The ``engine`` flag it serves: ``"manybody"`` or ``"gaussian"``.
    UNRAVELING, NOISE : str
        The ``unraveling`` and ``noise`` flags it serves.
    STATE : str
        The state representation its observables see (:mod:`ensemble.observables`).
    EXACT_FOR : str
        ``"trajectories"`` (each trajectory is the paper's) or ``"linear means"`` (only
        realization means linear in the state are the paper's: nonlinear observables are refused).
    PRIORITY : int
        Order of the ``engine="auto"`` lookup (lower first).
    STRUCTURES : tuple of str
        The structures of bath kick it applies (:attr:`ensemble.models.baths.Bath.STRUCTURE`); a bath
        of another structure is refused. The kick itself, its noise and its jump probability come
        from the bath.
    ALIASES : tuple of str
        Further values of the ``engine`` flag that select it (engines of one implementation that
        serve several unravelings share one, e.g. ``"batched"``).
    DEVICES : tuple of str
        The devices it runs on (``"cpu"``, ``"gpu"``); ``device`` is the one an instance uses.
    BITWISE_ACROSS_BATCHES : bool
        Whether a realization's numbers are bitwise the same in any batch (True for the engines that
        run one realization at a time; the batched engine agrees to ~1e-15 across block widths).
    EXPLICIT_NOISE : bool
        Whether it implements :meth:`kicked` (a trajectory for noise values given by the caller).
    """

    NAME = ""
    FAMILY = ""
    UNRAVELING = "kick"
    NOISE = "trajectory"
    STATE = ""
    EXACT_FOR = "trajectories"
    PRIORITY = 100
    STRUCTURES: tuple[str, ...] = (DIAGONAL_ONE_SITE_PHASE,)
    ALIASES: tuple[str, ...] = ()
    DEVICES: tuple[str, ...] = ("cpu",)
    device = "cpu"
    BITWISE_ACROSS_BATCHES = True
    EXPLICIT_NOISE = False

    def refuse(self, chain: XXZChain, bath: Bath, observables: Sequence[str]) -> str | None:
        """Why this engine cannot run the request, or None if it can."""
        if bath.STRUCTURE not in self.STRUCTURES:
            return (f"the {self.NAME} engine does not apply the {bath.NAME!r} bath (its kick is a "
                    f"{bath.STRUCTURE or 'undeclared'} map; the engine applies {', '.join(self.STRUCTURES)})")
        for name in observables:
            obs = OBSERVABLES.get(name)
            if obs.PER_REALIZATION:  # computed beside the engine, from the fields
                continue
            if self.STATE not in obs.STATES:
                return f"the observable {name!r} cannot be evaluated on the {self.NAME} engine's {self.STATE} state"
            if not obs.LINEAR and self.EXACT_FOR != "trajectories":
                return (f"the observable {name!r} is nonlinear in the state, and the {self.NAME} engine is exact "
                        "for realization means of linear quantities only")
        return None

    def seconds(self, L: int, n_steps: int) -> float:
        """Estimated single-core seconds of one realization (both runs) with ``n_steps`` steps."""
        raise NotImplementedError

    def working_bytes(self, L: int) -> float:
        """Bare count of the bytes one realization's arrays hold at once (the cost guard calibrates it
        against measured peaks and adds the stored result)."""
        raise NotImplementedError

    def prepare(self, task: Task) -> Any:
        """The operators of one realization, shared by :meth:`reference` and :meth:`trajectory`."""
        raise NotImplementedError

    def reference(self, prepared: Any, task: Task, sample: Sample) -> None:
        """The noiseless (gamma = 0) run from the same start, sampled at ``task.steps``."""
        raise NotImplementedError

    def trajectory(self, prepared: Any, task: Task, rng: np.random.Generator, sample: Sample) -> None:
        """The bath run, drawing its noise from ``rng`` (the realization's noise stream)."""
        raise NotImplementedError

    def kicked(self, prepared: Any, task: Task, etas: np.ndarray, sample: Sample) -> None:
        """The bath run for given noise values ``etas`` (step n uses ``etas[n - 1]``), for one
        trajectory driven by a caller's noise (:func:`ensemble.magnetization_trajectory`). Engines
        that run only whole batches or draw no Gaussian noise do not implement it
        (:attr:`EXPLICIT_NOISE` False)."""
        raise NotImplementedError

    def run(self, task: Task, rng: np.random.Generator) -> dict[str, np.ndarray]:
        """Both runs of one realization: ``name -> array (2, n_times, *sample shape)``, index 0 = gamma 0."""
        out = {name: np.empty((2, task.steps.size, *OBSERVABLES.get(name)().shape(task.L)))
               for name in task.observables}
        evaluators = [(name, OBSERVABLES.get(name)()) for name in task.observables]

        def recorder(g: int) -> Sample:
            def sample(k: int, state) -> None:
                for name, obs in evaluators:
                    out[name][g, k] = obs.evaluate(state)
            return sample

        prepared = self.prepare(task)
        self.reference(prepared, task, recorder(0))
        self.trajectory(prepared, task, rng, recorder(1))
        return out

    def run_batch(self, tasks: Sequence[Task], rngs: Sequence[np.random.Generator]) -> list[dict[str, np.ndarray]]:
        """Several realizations (a batched or GPU engine overrides this; the default is a loop)."""
        return [self.run(task, rng) for task, rng in zip(tasks, rngs)]

    def preferred_batch(self, L: int) -> int | None:
        """Realizations per Dask task this engine wants (None: size tasks by :meth:`seconds`)."""
        return None


def select(engine: str, unraveling: str, noise: str, chain: XXZChain, bath: Bath,
           observables: Sequence[str] = ("sz",), device: str = "cpu") -> Engine:
    """The registered engine the flags select for this chain, bath, observables and device.

    Raises
    ------
    ValueError
        If no engine serves the flags, or the one asked for refuses (its reason is the message).
    """
    choices = {"engine": engine_choices(), "unraveling": FLAGS["unraveling"], "noise": FLAGS["noise"],
               "device": DEVICES}
    for flag, value in (("engine", engine), ("unraveling", unraveling), ("noise", noise), ("device", device)):
        if value not in choices[flag]:
            raise ValueError(f"{flag} must be one of {choices[flag]}; got {flag}={value!r}")
    candidates = sorted((cls for _, cls in REGISTRY.items() if cls.UNRAVELING == unraveling and cls.NOISE == noise),
                        key=lambda cls: cls.PRIORITY)
    if engine in FLAGS["engine"][1:]:
        candidates = [cls for cls in candidates if cls.FAMILY == engine]
    elif engine != "auto":  # a registered engine by name or alias
        candidates = [cls for cls in candidates if engine == cls.NAME or engine in cls.ALIASES]
    reasons = []
    for cls in candidates:
        if device not in cls.DEVICES:
            reasons.append(f'the {cls.NAME} engine runs on {" or ".join(cls.DEVICES)} only '
                           f'(device="{device}" needs engine="batched")')
            continue
        instance = cls.for_family(engine) if hasattr(cls, "for_family") else cls()
        instance.device = device
        reason = instance.refuse(chain, bath, observables)
        if reason is None:
            return instance
        reasons.append(reason)
    if not candidates:
        raise ValueError(f"no engine runs engine={engine!r} with unraveling={unraveling!r} and noise={noise!r}")
    raise ValueError(reasons[0] if len(reasons) == 1 else "; ".join(dict.fromkeys(reasons)))
