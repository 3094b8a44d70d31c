"""Training protocols: which runs a detector learns from before it is scored on a suite.

* ``shipped``: no training; the detectors are scored as they come (learned ones with their shipped
  parameters). What plain :func:`~curvebench.benchmark.evaluate.evaluate` does.
* ``sim-to-real``: a fresh copy of each detector is fitted on ``simulate_many(train_sim,
  seed=train_seed)`` only, then scored on the suite: the sim-to-real gap, the simulator's report card.
* ``family-split``: leave one task family out. The family of a run is ``run.meta[family_key]``
  (``"task"`` in the recorded corpus); for each family, a fresh copy of each detector is fitted on the
  suite's runs of every *other* family (plus ``simulate_many(train_sim, seed=train_seed)`` when
  ``train_sim`` > 0) and replays that family's runs, so no family is ever in both training and test.
  The folds' predictions are pooled, in suite order, into one set of scores; ``folds`` keeps each
  fold's macro-F1.

A detector learns when it has a ``fit`` of its own (not the base class's no-op); the others (the rule
baselines) are replayed once on the whole suite, which is what pooling their folds would give. The
result is :func:`~curvebench.benchmark.evaluate.evaluate`'s, plus ``protocol`` (name, training size,
seed, family key, folds with their families and sizes) and, per detector, ``fitted``, for a fitted one
``fit_seconds`` (a measurement, like ``us_per_update``) and, for family-split, ``folds``:
``[{"family", "n_runs", "macro_f1", "fit_seconds"}]``. Fits run one after another in this process
(deterministic for a seeded detector); the replays use ``jobs``.

>>> import numpy as np
>>> from curvebench.detectors import RulesDetector
>>> from curvebench.run import Run, RunSet
>>> t = np.arange(100)
>>> runs = RunSet(Run.from_columns(t, train_loss=np.where(t < 60, 2.0 - t / 100, np.nan), label="lr_high",
...               onset_step=60, meta={"task": family}, run_id=family) for family in ("a", "b", "c"))
>>> result = evaluate_protocol([RulesDetector()], runs, Protocol("family-split"), n_resamples=10)
>>> [(fold["family"], fold["n_train"], fold["n_test"]) for fold in result["protocol"]["folds"]]
[('a', 2, 1), ('b', 2, 1), ('c', 2, 1)]
>>> rules = result["detectors"]["rules"]
>>> rules["fitted"], rules["macro_f1"], [fold["macro_f1"] for fold in rules["folds"]]
(False, 1.0, [1.0, 1.0, 1.0])
"""

from __future__ import annotations

import copy
import functools
import time
from dataclasses import asdict, dataclass
from typing import Mapping, Sequence

from curvebench.benchmark.evaluate import check_labeled, detector_scores, named_detectors
from curvebench.benchmark.metrics import scores
from curvebench.benchmark.parallel import replay_all
from curvebench.detectors.base import Detector
from curvebench.run import Run, RunSet

PROTOCOLS: tuple[str, ...] = ("shipped", "sim-to-real", "family-split")


@dataclass(frozen=True)
class Protocol:
    """A protocol by name, with its training data: simulated runs (how many, from which seed) and the family key."""

    name: str = "shipped"
    train_sim: int = 0
    train_seed: int = 0
    family_key: str = "task"

    def __post_init__(self) -> None:
        if self.name not in PROTOCOLS:
            raise ValueError(f"unknown protocol {self.name!r}; known: {', '.join(PROTOCOLS)}")
        if self.train_sim < 0:
            raise ValueError(f"the number of simulated training runs must be >= 0, got {self.train_sim}")
        if self.name == "sim-to-real" and self.train_sim < 1:
            raise ValueError("sim-to-real trains on simulated runs only: give at least one (train_sim >= 1)")

    def describe(self) -> str:
        """One sentence saying what the detectors were trained on.

        >>> Protocol("sim-to-real", train_sim=600, train_seed=7).describe()
        'sim-to-real: learned detectors fitted on simulate_many(600, seed=7) only'
        """
        simulated = f"simulate_many({self.train_sim}, seed={self.train_seed})"
        if self.name == "sim-to-real":
            return f"sim-to-real: learned detectors fitted on {simulated} only"
        if self.name == "family-split":
            extra = f" + {simulated}" if self.train_sim else ""
            return (f"family-split: leave one task family (run.meta[{self.family_key!r}]) out; learned detectors "
                    f"fitted on the other families{extra}; the folds' predictions pooled")
        return "shipped: detectors scored as shipped (learned ones with their pre-trained parameters)"


def learns(detector) -> bool:
    """Whether ``detector`` has a ``fit`` of its own (the base class's ``fit`` learns nothing).

    >>> from curvebench.detectors import RulesDetector
    >>> learns(RulesDetector())
    False
    """
    fit = getattr(type(detector), "fit", None)
    return callable(fit) and fit is not Detector.fit


def families(runs: Sequence[Run], key: str = "task") -> list[str]:
    """Each run's family, ``str(run.meta[key])``; ``ValueError`` naming the runs without one."""
    missing = [run.run_id or f"#{i}" for i, run in enumerate(runs) if run.meta.get(key) in (None, "")]
    if missing:
        shown = ", ".join(missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
        raise ValueError(f"family-split needs a task family in every run's meta[{key!r}]; missing in {shown}")
    return [str(run.meta[key]) for run in runs]


def evaluate_suites_under(
    detectors: Mapping[str, Detector] | Sequence[Detector],
    suites: Mapping[str, RunSet],
    protocols: Sequence[Protocol] = (Protocol(),),
    **options,
) -> dict:
    """:func:`evaluate_protocol` on each suite under each protocol: ``{"suites": {key: result}}``.

    The key is the suite's name under ``shipped``, else ``"SUITE [PROTOCOL]"`` (:func:`result_key`);
    each result also names its ``suite``. Options as :func:`evaluate_protocol`.
    """
    for name, runs in suites.items():  # a suite without families fails before any work is done
        for protocol in protocols:
            if protocol.name == "family-split":
                families(runs, protocol.family_key)
    out = {}
    for name, runs in suites.items():
        for protocol in protocols:
            key = result_key(name, protocol)
            out[key] = {"suite": name, **evaluate_protocol(detectors, runs, protocol, desc=key, **options)}
    return {"suites": out}


def result_key(suite: str, protocol: Protocol) -> str:
    """How results name a suite scored under a protocol.

    >>> result_key("recorded-cpu", Protocol()), result_key("recorded-cpu", Protocol("family-split"))
    ('recorded-cpu', 'recorded-cpu [family-split]')
    """
    return suite if protocol.name == "shipped" else f"{suite} [{protocol.name}]"


def evaluate_protocol(
    detectors: Mapping[str, Detector] | Sequence[Detector],
    runs: RunSet,
    protocol: Protocol = Protocol(),
    *,
    jobs: int = 1,
    progress: bool = False,
    desc: str | None = None,
    n_resamples: int = 1000,
    seed: int = 0,
    window: float = 0.1,
) -> dict:
    """Score ``detectors`` on ``runs`` under ``protocol`` (see the module docstring); options as ``evaluate``."""
    named = named_detectors(detectors)
    runs = list(runs)
    check_labeled(runs)
    labels = families(runs, protocol.family_key) if protocol.name == "family-split" else [None] * len(runs)
    learners = {name: d for name, d in named.items() if protocol.name != "shipped" and learns(d)}
    fixed = {name: d for name, d in named.items() if name not in learners}
    replays = replay_all(fixed, runs, jobs=jobs, progress=progress, desc=desc) if fixed else {}
    held_out = list(dict.fromkeys(labels))
    fit_seconds: dict[str, dict] = {name: {} for name in learners}
    if learners:
        simulated = simulated_runs(protocol.train_sim, protocol.train_seed)
        replays.update({name: [None] * len(runs) for name in learners})
        for family in held_out:
            train = RunSet([run for run, g in zip(runs, labels) if g != family]) + simulated
            fitted = {}
            for name, detector in learners.items():
                try:
                    fitted[name], fit_seconds[name][family] = _fit(detector, train)
                except ValueError as err:
                    held = "" if family is None else f" with family {family!r} held out"
                    message = f"{protocol.name}: fitting {name} on {len(train)} runs{held} failed: {err}"
                    raise ValueError(message) from err
            test = [i for i, g in enumerate(labels) if g == family]
            fold_desc = desc if family is None else f"{desc or 'suite'} [{family}]"
            fold = replay_all(fitted, [runs[i] for i in test], jobs=jobs, progress=progress, desc=fold_desc)
            for name in learners:
                for i, r in zip(test, fold[name]):
                    replays[name][i] = r
    folds = [] if protocol.name != "family-split" else [
        {"family": f, "n_train": sum(g != f for g in labels), "n_test": labels.count(f)} for f in held_out]
    result = {"n_runs": len(runs), "protocol": {**asdict(protocol), "description": protocol.describe(),
                                                 "folds": folds}, "detectors": {}}
    for name in named:
        s = detector_scores(runs, replays[name], n_resamples=n_resamples, seed=seed, window=window)
        s["fitted"] = name in learners
        if name in learners:
            s["fit_seconds"] = sum(fit_seconds[name].values())
        if protocol.name == "family-split":
            s["folds"] = _fold_scores(labels, s["predictions"], fit_seconds.get(name, {}))
        result["detectors"][name] = s
    return result


@functools.lru_cache(maxsize=2)
def simulated_runs(n: int, seed: int) -> RunSet:
    """``simulate_many(n, seed=seed)``, kept for the next protocol or suite that trains on the same runs."""
    from curvebench.simulator import simulate_many

    return simulate_many(n, seed=seed) if n else RunSet()


def _fit(detector, train: RunSet) -> tuple[object, float]:
    """A deep copy of ``detector`` fitted on ``train``, and the seconds the fit took."""
    fresh = copy.deepcopy(detector)
    start = time.perf_counter()
    fresh.fit(train)
    return fresh, time.perf_counter() - start


def _fold_scores(labels: list[str], predictions: list[dict], fit_seconds: dict) -> list[dict]:
    folds = []
    for family in dict.fromkeys(labels):
        held = [p for p, g in zip(predictions, labels) if g == family]
        folds.append({
            "family": family,
            "n_runs": len(held),
            "macro_f1": scores([p["label"] for p in held], [p["predicted"] for p in held])["macro_f1"],
            "fit_seconds": fit_seconds.get(family),
        })
    return folds
