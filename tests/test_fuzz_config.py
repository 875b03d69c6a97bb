"""Random malformed configs through ``run --dry-run`` and ``run``: a valid Dataset or one line, never a hang.

Each case starts from a tiny valid config (L <= 4, a few steps, Dask's synchronous scheduler) and applies
random mutations: keys set to values of the wrong type, out of range, non-finite, empty, colliding
or unknown, sometimes through ``--set``, sometimes in the file, sometimes by corrupting the file's
bytes. Both commands run in-process through :func:`ensemble.cli.main` under a per-case alarm.
"""

import random
import signal

import dask
import pytest
import xarray as xr

import ensemble
from ensemble.cli import main

BASE = {
    "model": {"delta": "1.0", "gamma": "1.0", "tau": "0.05", "J": "1.0"},
    "grid": {"L": "[4]", "W": "[1.0, 3.0]", "n_realizations": "2", "t_final": "0.5", "n_times": "4"},
    "run": {"seed": "5", "batch_size": "0"},
}
KEYS = [
    ("model", "delta"), ("model", "gamma"), ("model", "tau"), ("model", "J"),
    ("grid", "L"), ("grid", "W"), ("grid", "n_realizations"), ("grid", "t_final"), ("grid", "n_times"),
    ("grid", "times"), ("run", "seed"), ("run", "engine"), ("run", "unraveling"), ("run", "noise"),
    ("run", "entanglement"), ("run", "omp_threads"), ("run", "batch_size"), ("run", "max_memory"),
    ("run", "workers"), ("model", "bogus"), ("bogus", "key"),
]
VALUES = [
    "0", "1", "2", "3", "-1", "-3", "4.5", "0.5", "-0.05", "0.0", "-0.0", "1e300", "-1e300", "1e15", "1e-300",
    "nan", "inf", "-inf", "true", "false", '""', '"x"', '"2.0"', '"manybody"', '"gaussian"', '"auto"', '"jump"',
    '"averaged"', "[]", "[[]]", "[2]", "[4]", "[2, 4]", "[4, 4]", "[4.0]", "[1.0]", "[0.0, 1.0]",
    "[2.0, 2.0000001]", "[true]", '["a"]', "[0.05, 0.1, 0.25]", "[0.1, 0.05]", "[1e300]", "{}", "{ 4 = 2 }",
    "{ 2 = 1, 4 = 1 }", '{ x = 1 }', "{ 4 = 0 }", "{ 4 = 1.5 }", "10000000000000", "[30]", "[40]",
]
#: Values that keep the run tiny and valid (so both outcomes are exercised often).
VALID = {
    ("model", "delta"): ["0.0", "0.5"], ("model", "gamma"): ["2", "0.5"], ("model", "tau"): ["0.1", "0.25"],
    ("model", "J"): ["0.5", "-1.0"], ("grid", "L"): ["[2]", "[2, 4]"], ("grid", "W"): ["[0.0]", "2", "[0.5, 0.500001]"],
    ("grid", "n_realizations"): ["1", "{ 4 = 1 }"], ("grid", "t_final"): ["0.25", "1"], ("grid", "n_times"): ["2", "9"],
    ("grid", "times"): ["[0.05, 0.5]", "[0, 0.25, 0.5]"], ("run", "seed"): ["0", "12345678901234567890"],
    ("run", "engine"): ['"manybody"', '"auto"'], ("run", "unraveling"): ['"kick"'], ("run", "noise"): ['"trajectory"'],
    ("run", "entanglement"): ["false"], ("run", "omp_threads"): ["1"], ("run", "batch_size"): ["1", "3"],
    ("run", "workers"): ["0", "2"],
}
#: max_memory overrides the memory guard, so it only gets values that keep the guard in force.
MAX_MEMORY = ["-1", "true", '"x"', "[]", "1e-300", "nan", "0"]
N_CASES = 150  # each runs twice (dry run, run): 300 invocations
TIMEOUT = 20  # seconds per invocation


def _toml(config: dict) -> str:
    return "\n".join(f"[{t}]\n" + "\n".join(f"{k} = {v}" for k, v in keys.items()) + "\n" for t, keys in config.items())


def _case(rng: random.Random, tmp_path, i: int) -> tuple[bytes, list[str]]:
    config = {t: dict(keys) for t, keys in BASE.items()}
    sets = []
    for _ in range(rng.randint(1, 3)):
        table, key = rng.choice(KEYS)
        if key == "max_memory":
            value = rng.choice(MAX_MEMORY)
        elif (table, key) in VALID and rng.random() < 0.4:
            value = rng.choice(VALID[table, key])
        else:
            value = rng.choice(VALUES)
        if rng.random() < 0.4:
            sets += ["--set", f"{table}.{key}={value}"]
        elif rng.random() < 0.1:
            config.get(table, {}).pop(key, None)  # a missing key, required or not
        else:
            config.setdefault(table, {})[key] = value
    text = _toml(config).encode()
    if rng.random() < 0.08:
        cut = rng.randrange(len(text))
        text = text[:cut] + bytes(rng.randrange(256) for _ in range(rng.randint(0, 8)))
    return text, sets


class Hang(BaseException):
    """Raised by the alarm; a BaseException, so no error handler of the CLI can swallow it."""


def _invoke(argv: list[str]) -> int:
    def hang(signum, frame):
        raise Hang(f"no answer within {TIMEOUT} s: {argv}")

    previous = signal.signal(signal.SIGALRM, hang)
    signal.alarm(TIMEOUT)
    try:
        return main(argv)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@pytest.mark.timeout(120)
def test_random_malformed_configs(tmp_path, capsys):
    rng = random.Random(20261201)
    outcomes = {0: 0, 2: 0}
    for i in range(N_CASES):
        text, sets = _case(rng, tmp_path, i)
        path = tmp_path / f"case{i}.toml"
        path.write_bytes(text)
        out = tmp_path / f"case{i}.nc"
        argv = ["run", str(path), "-o", str(out), "--quiet", *sets]
        codes = []
        for extra in (["--dry-run"], []):
            with dask.config.set(scheduler="synchronous"):  # in-process: client=None follows it
                code = _invoke(argv + extra)
            captured = capsys.readouterr()
            context = f"case {i}: {text!r} {sets} {extra}: {captured.err!r}"
            assert code in (0, 2), context
            if code == 2:
                assert captured.err.startswith("mbl-avalanche: error: "), context
                assert captured.err.count("\n") == 1 and "Traceback" not in captured.err, context
                assert not out.exists() and not (tmp_path / f"case{i}.nc.checkpoint").exists(), context
            codes.append(code)
        dry, real = codes
        assert dry == real or (dry == 0 and "during the run" in captured.err), f"dry run and run disagree: {context}"
        if real == 0:
            ds = xr.load_dataset(out)
            ensemble.validate_dataset(ds)
            assert not (tmp_path / f"case{i}.nc.checkpoint").exists()
        outcomes[real] += 1
    assert outcomes[0] >= 10 and outcomes[2] >= 50, outcomes  # both branches were exercised
