"""What every learned detector shares: streaming on a geometric schedule, and the training set.

**Streaming.** :class:`LearnedDetector` appends each step's core channels to plain lists (O(1))
and re-predicts only when the number of train-loss points ``n`` reaches the next check point:
from ``min_points`` on, the next check comes at ``max(n + 1, ceil(n * (1 + growth)))``, so every
point while the run is short and every ``growth`` (10%) of growth after that. A check costs one
feature pass over the run so far plus one prediction; a run of ``n`` points pays O(log n) checks
whose costs add up to O(n): amortized O(1) per ``update``. Between checks ``update`` returns the
last verdict; the first non-finite loss or gradient norm gets a check at once. ``onset_step`` is
the step of the first check of the final streak of checks that all gave the final label. ``diagnose`` computes the same checks without the replay, from the last
one backwards until the label changes (the same verdict, tested; much faster offline).

**Training set.** :func:`training_runs` simulates runs (every mode, severity, length, missing
channels of the simulator) from a seed and may add the recorded runs of given task families;
:func:`training_rows` featurizes each run on prefixes (:data:`PREFIXES` of its train points, and
the points just before a first non-finite loss) labeled with what the run shows by then: a prefix
that ends before ``onset_step`` is ``healthy`` (unless a blow-up already shows before a NaN, see
:func:`prefix_label`). So early verdicts in a stream are trained for, and
a blow-up that precedes a NaN is labeled ``lr_high`` before the NaN arrives.

>>> from curvebench.run import Run
>>> run = Run.from_columns(range(100), train_loss=[1.0] * 100, label="plateau", onset_step=60)
>>> [(cut, prefix_label(run, cut)) for cut in prefix_cutoffs(run)]
[(14, 'healthy'), (29, 'healthy'), (49, 'healthy'), (74, 'plateau'), (99, 'plateau')]
"""

from __future__ import annotations

import math
import os
from typing import Callable

import numpy as np

from curvebench.detectors.base import Detector, Diagnosis
from curvebench.detectors.curve_features import Series
from curvebench.detectors.tree_ensemble import TreeEnsemble
from curvebench.run import CORE_CHANNELS, LABELS, Run, RunSet

PREFIXES = (0.15, 0.3, 0.5, 0.75, 1.0)
"""Shares of a run's train points at which training prefixes end."""
BEFORE_NAN = (1, 4, 16)
"""Training prefixes end this many finite points before a run's first non-finite loss."""

_WATCHED = ("train_loss", "grad_norm")
BLOWN_UP = 3.0
"""A loss this many times its lowest so far, just before a NaN, already shows the blow-up."""
Featurizer = Callable[[dict[str, Series]], np.ndarray]


class LearnedDetector(Detector):
    """A detector that featurizes the run so far and asks a :class:`TreeEnsemble`; see the module.

    Subclasses set ``name`` and ``featurize`` and write ``_train(X, y, groups)`` (returning a
    :class:`TreeEnsemble`); ``params`` is the path of saved parameters (``None``: the shipped
    ones; a detector without any is untrained until ``fit``).
    """

    featurize: Featurizer

    def __init__(self, params: str | None = None, growth: float = 0.1, min_points: int = 5, seed: int = 0) -> None:
        if not 0 < growth <= 10:
            raise ValueError(f"growth must be in (0, 10], got {growth!r}")
        if not isinstance(min_points, int) or min_points < 2:
            raise ValueError(f"min_points must be an integer >= 2, got {min_points!r}")
        self.params = params
        self.growth = growth
        self.min_points = min_points
        self.seed = seed
        path = params or shipped_params(self.name)
        self.model_ = TreeEnsemble.load(path) if params or os.path.exists(path) else None
        super().__init__()

    def _reset(self) -> None:
        self._series = {name: ([], []) for name in CORE_CHANNELS}
        self._count = 0
        self._due = self.min_points
        self._seen_bad = False
        self._verdict: Diagnosis | None = None

    def update(self, step: int, **metrics: float) -> Diagnosis | None:
        for name, (steps, values) in self._series.items():
            if name in metrics:
                steps.append(step)
                values.append(metrics[name])
        first_bad = not self._seen_bad and any(
            not math.isfinite(metrics[name]) for name in _WATCHED if name in metrics)
        has_train = "train_loss" in metrics
        self._count += has_train
        if first_bad:  # check at this (or the next) train point, off schedule
            self._seen_bad = True
            self._due = min(self._due, max(self._count + (not has_train), self.min_points))
        if not has_train or self._count < self._due:
            return self._verdict
        if self.model_ is None:
            raise RuntimeError(f"{self.name} has no parameters: fit it, or run "
                               f"`curvebench train --detector {self.name}`")
        self._due = next_check(self._count, self.growth)
        channels = {name: (np.array(s, dtype=np.float64), np.array(v, dtype=np.float64))
                    for name, (s, v) in self._series.items()}
        x = self.featurize(channels)
        probs = self.predict(x)
        label = LABELS[int(np.argmax(probs))]
        previous = self._verdict
        onset = previous.onset_step if previous is not None and previous.label == label else step
        self._verdict = self._diagnosis(probs, x, onset)
        return self._verdict

    def finish(self, diagnosis: Diagnosis | None, run: Run) -> Diagnosis:
        if diagnosis is None:
            return Diagnosis.insufficient(len(run.channels["train_loss"]), self.min_points)
        return diagnosis

    def diagnose(self, run: Run) -> Diagnosis:
        """The verdict of the replay, computed from the last check backwards (same answer, faster)."""
        train_steps = run.channels["train_loss"].steps
        bad = [int(run.channels[name].steps[~np.isfinite(run.channels[name].values)][0])
               for name in _WATCHED if name in run.channels and not np.isfinite(run.channels[name].values).all()]
        trigger = int(np.searchsorted(train_steps, min(bad))) + 1 if bad else None
        checks = check_points(train_steps.size, self.min_points, self.growth, trigger)
        if not checks:
            return self.finish(None, run)
        cutoffs = [int(train_steps[c - 1]) for c in checks]
        channels = core_series(run)
        last_x = self.featurize(prefix(channels, cutoffs[-1]))
        probs = self.predict(last_x)
        label = LABELS[int(np.argmax(probs))]
        onset = cutoffs[-1]
        for index in range(len(cutoffs) - 2, -1, -1):
            x = self.featurize(prefix(channels, cutoffs[index]))
            if LABELS[int(np.argmax(self.predict(x)))] != label:
                break
            onset = cutoffs[index]
        return self._diagnosis(probs, last_x, onset)

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Class probabilities (in :data:`LABELS` order) for one feature vector."""
        return self.model_.predict_proba(x[None, :])[0]

    def _diagnosis(self, probs: np.ndarray, x: np.ndarray, onset: int) -> Diagnosis:
        label = LABELS[int(np.argmax(probs))]
        evidence = [f"p({label})={probs[LABELS.index(label)]:.2f} from {x.size} features "
                    f"({self.name} model, {self.model_.kind})", *self.explain(x)]
        return Diagnosis(label, {k: float(p) for k, p in zip(LABELS, probs)},
                         onset_step=None if label == "healthy" else onset, evidence=evidence)

    def explain(self, x: np.ndarray) -> list[str]:
        """Short evidence strings with the numbers behind a verdict (subclasses say more)."""
        return []

    def fit(self, runs: RunSet) -> "LearnedDetector":
        """Train on ``runs`` (featurized on prefixes); the parameters end up in ``model_``."""
        X, y, groups = training_rows(runs, self.featurize)
        self.model_ = self._train(X, y, groups)
        return self

    def _train(self, X: np.ndarray, y: np.ndarray, groups: np.ndarray) -> TreeEnsemble:
        raise NotImplementedError


def next_check(count: int, growth: float) -> int:
    """The train-point count of the check after the one at ``count``.

    >>> [next_check(n, 0.1) for n in (5, 10, 11, 100)]
    [6, 11, 13, 111]
    """
    return max(count + 1, math.ceil(count * (1.0 + growth)))


def check_points(n: int, min_points: int, growth: float, trigger: int | None = None) -> list[int]:
    """Every train-point count at which a run of ``n`` train points is checked.

    ``trigger`` is the count at which the first non-finite loss or gradient norm arrives: it
    gets a check of its own, and the schedule goes on from there.

    >>> check_points(20, 5, 0.25), check_points(20, 5, 0.25, trigger=8)
    ([5, 7, 9, 12, 15, 19], [5, 7, 8, 10, 13, 17])
    """
    points, due = [], min_points
    while True:
        if trigger is not None and trigger < due and (not points or trigger > points[-1]):
            due = max(trigger, min_points)
        if due > n:
            return points
        points.append(due)
        due = next_check(due, growth)


def shipped_params(name: str) -> str:
    """Path of the parameters shipped for detector ``name``."""
    from importlib import resources

    return str(resources.files("curvebench.detectors") / "params" / f"{name}.npz")


def core_series(run: Run) -> dict[str, Series]:
    """The run's core channels as ``{name: (steps, values)}`` float arrays."""
    return {name: (run.channels[name].steps.astype(np.float64), run.channels[name].values)
            for name in CORE_CHANNELS if name in run.channels}


def prefix(channels: dict[str, Series], cutoff: int) -> dict[str, Series]:
    """Every channel up to and including step ``cutoff``."""
    out = {}
    for name, (steps, values) in channels.items():
        end = int(np.searchsorted(steps, cutoff, side="right"))
        out[name] = (steps[:end], values[:end])
    return out


def prefix_cutoffs(run: Run) -> list[int]:
    """The last steps of the training prefixes of ``run`` (sorted, distinct)."""
    train = run.channels["train_loss"]
    n = len(train)
    if n == 0:
        return []
    counts = {max(2, math.ceil(share * n)) for share in PREFIXES}
    bad = np.flatnonzero(~np.isfinite(train.values))
    if bad.size:
        counts |= {int(bad[0]) - back for back in BEFORE_NAN if int(bad[0]) - back >= 5}
    return sorted(int(train.steps[min(c, n) - 1]) for c in counts)


def prefix_label(run: Run, cutoff: int) -> str:
    """What a prefix ending at ``cutoff`` shows: ``healthy`` before the run's onset, else its label.

    Before a NaN (a run whose onset is its first non-finite loss) a prefix whose last loss is
    already ``BLOWN_UP`` times its lowest is ``lr_high``: the blow-up is there to see.
    """
    if run.onset_step is None or cutoff >= run.onset_step:
        return run.label
    train = run.channels["train_loss"]
    shown = train.values[(train.steps <= cutoff) & np.isfinite(train.values)]
    if run.label == "lr_high" and shown.size and not np.isfinite(train.values).all():
        lowest = float(np.min(shown))
        if lowest > 0 and shown[-1] > BLOWN_UP * lowest:
            return "lr_high"
    return "healthy"


def training_rows(runs: RunSet, featurize: Featurizer) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Features ``X``, label indices ``y`` and run indices ``groups`` of every training prefix."""
    rows, labels, groups = [], [], []
    for index, run in enumerate(runs):
        channels = core_series(run)
        for cutoff in prefix_cutoffs(run):
            rows.append(featurize(prefix(channels, cutoff)))
            labels.append(LABELS.index(prefix_label(run, cutoff)))
            groups.append(index)
    return np.array(rows), np.array(labels, dtype=np.int64), np.array(groups, dtype=np.int64)


def training_runs(seed: int, n_simulated: int, families: tuple[str, ...] = ()) -> RunSet:
    """``n_simulated`` runs simulated from ``seed``, plus the recorded runs of task ``families``."""
    from curvebench.simulator import simulate_many

    runs = simulate_many(n_simulated, seed=seed)
    if families:
        from curvebench.datasets import load

        runs = runs + load("recorded-cpu").filter(lambda run: run.meta.get("task") in families)
    return runs


def train_params(detector: LearnedDetector, seed: int, n_simulated: int,
                 families: tuple[str, ...] = ()) -> TreeEnsemble:
    """Fit ``detector`` on :func:`training_runs` and return its parameters, the recipe in their ``meta``."""
    import sklearn

    detector.seed = seed
    X, y, groups = training_rows(training_runs(seed, n_simulated, families), detector.featurize)
    model = detector.model_ = detector._train(X, y, groups)
    command = f"curvebench train --detector {detector.name} --seed {seed} --n-simulated {n_simulated}"
    model.meta = {
        "detector": detector.name, "seed": seed, "command": command + "".join(f" --family {f}" for f in families),
        "training_data": f"simulate_many({n_simulated}, seed={seed}) (all labels and modes)"
        + (f" + recorded-cpu runs of {', '.join(families)}" if families else ""),
        "prefixes": list(PREFIXES), "before_nan": list(BEFORE_NAN), "labels": list(LABELS),
        "features": getattr(detector, "feature_names", []), "training_rows_sha256": _digest(X, y),
        "numpy": np.__version__, "sklearn": sklearn.__version__,
    }
    return model


def _digest(X: np.ndarray, y: np.ndarray) -> str:
    """sha256 of the training rows: tells whether a retraining saw the same data (e.g. the same simulator)."""
    import hashlib

    return hashlib.sha256(np.ascontiguousarray(X).tobytes() + np.ascontiguousarray(y).tobytes()).hexdigest()
