"""Learned detectors that featurize the run so far into one vector and ask a :class:`TreeEnsemble`.

:class:`VectorDetector` buffers each step's core channels in plain lists (O(1) per step) and, at
each check of :class:`~curvebench.detectors.learned.LearnedDetector`'s schedule, featurizes the
run so far and predicts. ``diagnose`` computes the same checks without the replay, from the last
one backwards until the label changes (no walk for a healthy verdict, which has no onset): the
same verdict, tested, much faster offline.
Training (:meth:`VectorDetector.train`) featurizes the prefixes of :func:`~curvebench.detectors.learned.training_runs`
and records the recipe in the parameters' ``meta``. Subclasses: ``features``, ``deepfd``.

>>> import numpy as np
>>> rows, labels, groups = training_rows(
...     [Run.from_columns(range(100), train_loss=[1.0] * 100, label="plateau", onset_step=60)],
...     lambda channels: np.array([channels["train_loss"][0].size]))
>>> rows.ravel().tolist(), labels.tolist(), groups.tolist()
([15, 30, 50, 75, 100], [0, 0, 0, 4, 4], [0, 0, 0, 0, 0])
"""

from __future__ import annotations

import os
from typing import Callable

import numpy as np

from curvebench.detectors.base import Diagnosis
from curvebench.detectors.learned import (WATCHED, LearnedDetector, Series, check_points, core_series, prefix,
                                          prefix_cutoffs, prefix_label, recipe, training_runs, verdict)
from curvebench.detectors.tree_ensemble import TreeEnsemble
from curvebench.run import CORE_CHANNELS, LABELS, Run, RunSet

Featurizer = Callable[[dict[str, Series]], np.ndarray]


class VectorDetector(LearnedDetector):
    """A feature vector of the run so far into a :class:`TreeEnsemble`; see the module.

    Subclasses set ``name`` and ``featurize`` and write ``_train(X, y, groups)`` (returning a
    :class:`TreeEnsemble`); ``params`` is the path of saved parameters (``None``: the shipped
    ones; a detector without any is untrained until ``fit``).
    """

    featurize: Featurizer

    def __init__(self, params: str | None = None, growth: float = 0.1, min_points: int = 5, seed: int = 0) -> None:
        self.params = params
        self.seed = seed
        path = params or shipped_params(self.name)
        self.model_ = TreeEnsemble.load(path) if params or os.path.exists(path) else None
        super().__init__(growth, min_points)

    def _start(self) -> None:
        self._series = {name: ([], []) for name in CORE_CHANNELS}

    def _observe(self, step: int, metrics: dict[str, float]) -> None:
        for name, (steps, values) in self._series.items():
            if name in metrics:
                steps.append(step)
                values.append(metrics[name])

    def _predict(self) -> tuple[np.ndarray, list[str]]:
        channels = {name: (np.array(s, dtype=np.float64), np.array(v, dtype=np.float64))
                    for name, (s, v) in self._series.items()}
        x = self.featurize(channels)
        probs = self.predict(x)
        return probs, self.evidence(probs, x)

    def diagnose(self, run: Run) -> Diagnosis:
        """The verdict of the replay, computed from the last check backwards (same answer, faster)."""
        train_steps = run.channels["train_loss"].steps
        bad = [int(run.channels[name].steps[~np.isfinite(run.channels[name].values)][0])
               for name in WATCHED if name in run.channels and not np.isfinite(run.channels[name].values).all()]
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
        walk = range(len(cutoffs) - 2, -1, -1) if label != "healthy" else ()  # a healthy verdict has no onset
        for index in walk:
            x = self.featurize(prefix(channels, cutoffs[index]))
            if LABELS[int(np.argmax(self.predict(x)))] != label:
                break
            onset = cutoffs[index]
        return verdict(probs, self.evidence(probs, last_x), onset)

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Class probabilities (in :data:`LABELS` order) for one feature vector."""
        if self.model_ is None:
            raise RuntimeError(f"{self.name} has no parameters: fit it, or run "
                               f"`curvebench train --detector {self.name}`")
        return self.model_.predict_proba(x[None, :])[0]

    def evidence(self, probs: np.ndarray, x: np.ndarray) -> list[str]:
        """Why: the winning probability, then :meth:`explain`'s numbers."""
        label = int(np.argmax(probs))
        return [f"p({LABELS[label]})={probs[label]:.2f} from {x.size} features "
                f"({self.name} model, {self.model_.kind})", *self.explain(x)]

    def explain(self, x: np.ndarray) -> list[str]:
        """Short evidence strings with the numbers behind a verdict (subclasses say more)."""
        return []

    def fit(self, runs: RunSet) -> "VectorDetector":
        """Train on ``runs`` (featurized on prefixes); the parameters end up in ``model_``."""
        X, y, groups = training_rows(runs, self.featurize)
        self.model_ = self._train(X, y, groups)
        return self

    def train(self, seed: int, n_simulated: int, families: tuple[str, ...] = ()) -> "VectorDetector":
        """Fit on :func:`training_runs` ``(seed, n_simulated, families)``; the recipe goes in ``model_.meta``."""
        self.seed = seed
        X, y, groups = training_rows(training_runs(seed, n_simulated, families), self.featurize)
        self.model_ = self._train(X, y, groups)
        self.model_.meta = {**recipe(self.name, seed, n_simulated, families, X, y),
                            "features": getattr(self, "feature_names", [])}
        return self.reset()

    @property
    def training_recipe(self) -> dict:
        """How the current parameters were trained (their ``meta``)."""
        return self.model_.meta if self.model_ is not None else {}

    def save(self, path: str | os.PathLike) -> None:
        """Write the parameters to ``path`` (``.npz``) and their recipe beside it (``.json``)."""
        self.model_.save(path)

    def _train(self, X: np.ndarray, y: np.ndarray, groups: np.ndarray) -> TreeEnsemble:
        raise NotImplementedError


def shipped_params(name: str) -> str:
    """Path of the parameters shipped for detector ``name``."""
    from importlib import resources

    return str(resources.files("curvebench.detectors") / "params" / f"{name}.npz")


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
