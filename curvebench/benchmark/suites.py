"""Named suites of labeled runs: ``register(name, loader)``, ``load_suite(name or path)``, ``available_suites()``.

A suite's content never changes under its name: a new version gets a new name (``sim-v1``,
``sim-v2``). Registering a built-in suite is one call, ``register("sim-v1", load_sim_v1)``, where
the loader takes no argument and returns a labeled :class:`~curvebench.run.RunSet`. A name that is
not registered is read as a path: a labeled-suite folder (see :mod:`curvebench.datasets.suite`) or
a ``.parquet`` RunSet; anything else is an error that suggests the closest registered name.

>>> from curvebench.run import Run, RunSet
>>> register("tiny-v1", lambda: RunSet([Run.from_columns([0, 1], train_loss=[1.0, 0.5], label="healthy")]))
>>> "tiny-v1" in available_suites(), len(load_suite("tiny-v1"))
(True, 1)
>>> load_suite("tiny-v2")
Traceback (most recent call last):
...
KeyError: "no suite named 'tiny-v2' and no such file or folder; did you mean 'tiny-v1'?"
>>> unregister("tiny-v1")
"""

from __future__ import annotations

import difflib
import os
import sys
from dataclasses import dataclass
from typing import Callable, Mapping

from curvebench.errors import InputError
from curvebench.run import RunSet


@dataclass(frozen=True)
class SuiteSpec:
    """A registered suite: its name, the loader that builds it and a one-line description."""

    name: str
    loader: Callable[[], RunSet]
    description: str = ""


_REGISTRY: dict[str, SuiteSpec] = {}


def register(name: str, loader: Callable[[], RunSet], *, description: str = "", overwrite: bool = False) -> None:
    """Make ``load_suite(name)`` return ``loader()``."""
    if name in _REGISTRY and not overwrite:
        raise ValueError(f"a suite named {name!r} is already registered (pass overwrite=True to replace it)")
    _REGISTRY[name] = SuiteSpec(name, loader, description)


def unregister(name: str) -> None:
    """Forget a registered suite (for tests and notebooks)."""
    del _REGISTRY[name]


def available_suites() -> list[str]:
    """The registered suite names, sorted."""
    return sorted(_REGISTRY)


def spec(name: str) -> SuiteSpec:
    """The :class:`SuiteSpec` registered as ``name``."""
    return _REGISTRY[name]


def load_suite(name_or_path: str | os.PathLike, *, mapping: Mapping[str, str] | None = None) -> RunSet:
    """A registered suite by name, else the labeled suite at a path; ``mapping`` renames columns of a folder's files."""
    name = os.fspath(name_or_path)
    if name in _REGISTRY:
        runs = _REGISTRY[name].loader()
        if not isinstance(runs, RunSet):
            raise TypeError(f"the loader of suite {name!r} returned {type(runs).__name__}, not a RunSet")
        return runs
    from curvebench.datasets import read_parquet, read_suite
    from curvebench.datasets.taskset import is_taskset, labeled_suite

    if os.path.exists(name) and is_taskset(name):
        runs, left_out = labeled_suite(name)
        if left_out:
            print(f"{name}: {left_out} of {len(runs) + left_out} TaskSet runs match no verification rule (unlabeled); "
                  "they are left out of the suite", file=sys.stderr)
        return runs
    if os.path.isdir(name):
        return read_suite(name, mapping=mapping)
    if os.path.isfile(name) and name.endswith(".parquet"):
        return read_parquet(name)
    if os.path.exists(name):
        raise InputError(name, "expected a labeled-suite folder (run files + labels.csv) or a .parquet RunSet")
    close = difflib.get_close_matches(name, [*_REGISTRY, *_siblings(name)], n=1)
    known = f"registered: {', '.join(available_suites())}" if _REGISTRY else "none registered"
    hint = f"did you mean {close[0]!r}?" if close else f"{known}; or give a suite folder or .parquet path"
    raise KeyError(f"no suite named {name!r} and no such file or folder; {hint}")


def _siblings(path: str) -> list[str]:
    """Suite folders and ``.parquet`` files next to where ``path`` points (for "did you mean")."""
    parent = os.path.dirname(path.rstrip("/\\")) or "."
    if not os.path.isdir(parent):
        return []
    entries = (os.path.join(parent, entry) if parent != "." else entry for entry in sorted(os.listdir(parent)))
    return [entry for entry in entries if os.path.isdir(entry) or entry.endswith(".parquet")]


def _shipped(name: str) -> Callable[[], RunSet]:
    def loader() -> RunSet:
        from curvebench.datasets import load

        return load(name)

    return loader


for _name, _description in (
    ("sim-v1", "500 simulated runs from held-out seeds: every label, mode and severity (scripts/make_suites.py)"),
    ("sim-v2", "500 simulated runs from held-out seeds of the simulator retuned against recorded runs "
     "(curvebench 0.2.0; scripts/make_suites.py)"),
    ("sim-v3", "500 simulated runs from held-out seeds of the 0.3.0 simulator (gradient norm that follows the "
     "loss, first-steps bursts; scripts/make_suites.py)"),
    ("sim-v4", "500 simulated runs from held-out seeds of the 0.4.0 simulator (confidence growth after "
     "memorization, NaN blow-ups that do not saturate; scripts/make_suites.py)"),
    ("sim-v5", "500 simulated runs from held-out seeds of the 0.5.0 simulator (a capped relative noise level: an "
     "exploding loss never falls to zero before its NaN; scripts/make_suites.py)"),
    ("sim-v6", "500 simulated runs from held-out seeds of the 0.6.0 simulator (a chaotic climb to NaN that swings "
     "by orders of magnitude; scripts/make_suites.py)"),
    ("sim-v7", "500 simulated runs from held-out seeds of the 0.7.0 simulator (overfit from a 10% validation rise, "
     "healthy runs that memorize while validation holds; scripts/make_suites.py)"),
    ("stress-v1", "300 simulated runs made hard: missing channels, per-epoch logs, short runs, heavy noise, "
     "rescaled losses (scripts/make_suites.py)"),
    ("recorded-cpu", "real PyTorch runs recorded on the CPU, each label verified from its numbers "
     "(curvebench/datasets/README.md)"),
):
    register(_name, _shipped(_name), description=_description)
