"""``deepfd``: DeepFD's recipe (Cao et al., ICSE 2022) as a baseline: summary statistics into a random forest.

What it looks at: for each of ``train_loss``, ``val_loss``, ``grad_norm`` and ``lr`` of the run so
far, the eight statistics DeepFD computes over a monitored metric (mean, standard deviation,
skewness, median, variance, standard error of the mean, maximum, minimum) of its finite values
(0 for a channel the run lacks or that has no finite value, as DeepFD's feature table would hold
nothing there): 32 numbers, on the raw values, as the recipe has them. The classifier is a
scikit-learn ``RandomForestClassifier`` (100 trees), exported to arrays and evaluated by
:class:`~curvebench.detectors.tree_ensemble.TreeEnsemble`; it streams on the same schedule as
every learned detector (:mod:`~curvebench.detectors.learned`).

It is the control for ``features``: the same training runs, the same prefixes, only the
features differ. When it fails: raw statistics depend on the loss scale and run length, so runs
unlike the training ones in scale fool it; statistics of a whole run barely move when a problem
starts late.

>>> import numpy as np
>>> x = summary_statistics({"train_loss": (np.arange(3.0), np.array([1.0, 2.0, 3.0]))})
>>> x[:8].round(3).tolist()
[2.0, 0.816, 0.0, 2.0, 0.667, 0.471, 3.0, 1.0]
"""

from __future__ import annotations

import math

import numpy as np

from curvebench.detectors.curve_features import Series
from curvebench.detectors.vector import VectorDetector
from curvebench.detectors.tree_ensemble import TreeEnsemble

CHANNELS = ("train_loss", "val_loss", "grad_norm", "lr")
STATISTICS = ("mean", "std", "skew", "median", "variance", "sem", "max", "min")
_BIG = 1e30  # scikit-learn trees work in float32: keep every feature inside its range
FEATURE_NAMES = tuple(f"{channel}.{stat}" for channel in CHANNELS for stat in STATISTICS)


def summary_statistics(channels: dict[str, Series]) -> np.ndarray:
    """DeepFD's eight statistics of each channel's finite values, in :data:`FEATURE_NAMES` order."""
    out = []
    for name in CHANNELS:
        values = channels[name][1] if name in channels else np.empty(0)
        values = values[np.isfinite(values)]
        out.extend(_eight(values) if values.size else [0.0] * len(STATISTICS))
    return np.clip(np.nan_to_num(np.array(out, dtype=np.float64), nan=0.0), -_BIG, _BIG)


def _eight(values: np.ndarray) -> list[float]:
    with np.errstate(over="ignore", invalid="ignore"):
        mean = float(values.mean())
        centered = values - mean
        variance = np.float64(centered @ centered) / values.size
        std = np.sqrt(variance)
        skew = np.mean(centered**3) / std**3 if std > 0 else 0.0
        return [mean, float(std), float(skew), float(np.median(values)), float(variance),
                float(std) / math.sqrt(values.size), float(values.max()), float(values.min())]


class DeepFDDetector(VectorDetector):
    """DeepFD's summary statistics in a random forest; see the module."""

    name = "deepfd"
    featurize = staticmethod(summary_statistics)
    feature_names = list(FEATURE_NAMES)

    def _train(self, X: np.ndarray, y: np.ndarray, groups: np.ndarray) -> TreeEnsemble:
        from sklearn.ensemble import RandomForestClassifier

        forest = RandomForestClassifier(n_estimators=100, min_samples_leaf=2, random_state=self.seed, n_jobs=1)
        return TreeEnsemble.from_forest(forest.fit(X, y))
