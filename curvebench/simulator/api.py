"""``simulate`` one run and ``simulate_many`` runs at once.

Every run draws the numbers of its own ``numpy.random.Generator(PCG64(seed))``, ``seed`` a
``SeedSequence`` (made in compiled code, :mod:`~curvebench.simulator.generator`): in order, the mode, the
knob uniforms, the event uniforms and then the noise, again for each redraw. So a run's numbers depend on
its own seed only, never on the batch it was simulated in::

    simulate_many(n, labels, seed=s)[i] == simulate(labels[i % len(labels)], seed=child_seeds(s, n)[i])

holds exactly (same channels bit for bit, same ground truth, ``run_id`` and ``meta``), with the
same ``steps``, ``modes``, ``severity`` and knob overrides given to both.

>>> run = simulate("overfit", steps=300, seed=1)
>>> run.label, run.mode, run.run_id
('overfit', 'overfit/memorization', 'overfit-1')
>>> runs = simulate_many(4, labels=["healthy", "lr_low"], seed=7, steps=200)
>>> runs.labels, runs[1] == simulate("lr_low", seed=child_seeds(7, 4)[1], steps=200)
(['healthy', 'lr_low', 'healthy', 'lr_low'], True)
"""

from __future__ import annotations

import gc
import threading
from contextlib import contextmanager
from typing import Any, NamedTuple, Sequence

import numpy as np

from curvebench.run import LABELS, Run, RunSet
from curvebench.simulator import generator
from curvebench.simulator.batch import attempt
from curvebench.simulator.scenarios import scenarios_for, spec

MAX_ATTEMPTS = 12
"""Draws per run before a run that misses its mode's defining property is kept anyway."""


def child_seeds(seed: int, n: int) -> list[np.random.SeedSequence]:
    """The seeds of ``simulate_many(n, seed=seed)``'s runs."""
    return np.random.SeedSequence(seed).spawn(n)


class _Child(NamedTuple):
    """What a run keeps of its ``SeedSequence`` (``child_seeds(entropy, n)[spawn_key[0]]``)."""

    entropy: int
    spawn_key: tuple


def simulate(label: str, *, steps: int | None = None, seed: int | np.random.SeedSequence = 0,
             mode: str | None = None, severity: float | None = None, **knobs: Any) -> Run:
    """One simulated run of ``label`` (its mode drawn unless given); ``knobs`` override drawn knob values."""
    sequence = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
    return _simulate([label], [sequence], generator.seeded([sequence]), steps=steps,
                     modes=None if mode is None else [mode], severity=severity, overrides=knobs)[0]


def simulate_many(n: int, labels: Sequence[str] | str = LABELS, *, seed: int = 0, steps: int | None = None,
                  modes: Sequence[str] | None = None, severity: float | None = None, **knobs: Any) -> RunSet:
    """``n`` runs; run ``i`` has label ``labels[i % len(labels)]`` (and mode ``modes[i % len(modes)]`` if given)."""
    labels = [labels] if isinstance(labels, str) else list(labels)
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    if not n:
        return RunSet()
    wanted = [labels[i % len(labels)] for i in range(n)]
    wanted_modes = None if modes is None else [modes[i % len(modes)] for i in range(n)]
    entropy = np.random.SeedSequence(seed).entropy
    seeds = [_Child(entropy, (i,)) for i in range(n)]
    return RunSet(_simulate(wanted, seeds, generator.spawned(entropy, n), steps=steps, modes=wanted_modes,
                            severity=severity, overrides=knobs))


def _simulate(labels, seeds, state, *, steps, modes, severity, overrides) -> list[Run]:
    """The runs of ``labels``; ``state``: their generators (:mod:`~curvebench.simulator.generator`), advanced."""
    if steps is not None and int(steps) < 2:
        raise ValueError(f"steps must be at least 2, got {steps}")
    if severity is not None and not 0.0 <= float(severity) <= 1.0:
        raise ValueError(f"severity must be between 0 and 1, got {severity}")
    choices = {label: scenarios_for(label) for label in set(labels)}
    cumulative = {label: np.cumsum([s.weight for s in scenarios]) for label, scenarios in choices.items()}
    thresholds = {label: weights / weights[-1] for label, weights in cumulative.items()}
    picked = []
    for i, (label, u) in enumerate(zip(labels, generator.uniforms(state, 1)[:, 0])):
        if modes is not None:
            scenario = spec(modes[i])
            if scenario.label != label:
                raise ValueError(f"mode {modes[i]!r} is not a mode of label {label!r}")
            picked.append(scenario.mode)
        else:
            picked.append(choices[label][int(np.searchsorted(thresholds[label], u, side="right"))].mode)
    runs: list[Run | None] = [None] * len(labels)
    attempts = np.zeros(len(labels), dtype=np.int64)
    pending = list(range(len(labels)))
    with _collector_paused(), _small_pages():
        while pending:
            attempts[pending] += 1
            retry, drawing = [], state[pending]
            for j, run, ok in attempt([picked[i] for i in pending], drawing, [seeds[i] for i in pending],
                                      attempts[pending], steps=steps, severity=severity, overrides=overrides):
                i = pending[j]
                if ok or attempts[i] >= MAX_ATTEMPTS:
                    runs[i] = run
                else:
                    retry.append(i)
            state[pending] = drawing
            pending = sorted(retry)
    return runs


@contextmanager
def _collector_paused():
    """Python's cyclic garbage collector off while a batch is made: the runs and their dicts hold no cycles,
    and the collector's passes over every live object cost ~5% of a large batch."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


_PAGES_LOCK = threading.Lock()
_PAGES_USERS = [0, None]  # batches being made, and NumPy's huge-page setting before the first of them


@contextmanager
def _small_pages():
    """NumPy's advice to the kernel to back arrays of 4 MB and more with huge pages off while batches are made.

    Where the kernel compacts memory to find a huge page when such an array is first touched (transparent huge
    pages with ``defrag`` set to ``madvise``, a common default), a fresh process's first large batch spent ~3 s of
    system time in those stalls here against ~0.5 s on small pages (numpy/numpy#31590 describes the stall).
    The setting is restored when the last batch of the process is done.
    """
    core = getattr(np, "_core", None) or np.core
    switch = getattr(core.multiarray, "_set_madvise_hugepage", None)
    if switch is None:  # a NumPy without the switch
        yield
        return
    with _PAGES_LOCK:
        if not _PAGES_USERS[0]:
            _PAGES_USERS[1] = switch(False)
        _PAGES_USERS[0] += 1
    try:
        yield
    finally:
        with _PAGES_LOCK:
            _PAGES_USERS[0] -= 1
            if not _PAGES_USERS[0]:
                switch(_PAGES_USERS[1])
