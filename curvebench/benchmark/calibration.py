"""How far to trust a detector's probabilities: the Brier score and the expected calibration error.

Both read the final verdict's ``probabilities`` (one number per label of
:data:`~curvebench.run.LABELS`). The **Brier score** is the multi-class one of Brier (1950): the
mean over runs of ``sum_k (p_k - [k is the true label])^2``, 0 for certain and right, 2 for certain
and wrong. The **expected calibration error** bins each run by its confidence (the largest
probability, ties to the first label) into ``bins`` equal-width bins over [0, 1] (1.0 in the last)
and averages ``|accuracy - mean confidence|`` over bins, weighted by how many runs each holds
(that is ``sum over bins |hits - sum of confidences| / runs``); a run is accurate when its most
probable label is the true one. Sums first, then one division. Both are ``None`` for no runs.

>>> certain_right = {"healthy": 1.0, "lr_high": 0.0, "lr_low": 0.0, "overfit": 0.0, "plateau": 0.0}
>>> unsure = {"healthy": 0.6, "lr_high": 0.4, "lr_low": 0.0, "overfit": 0.0, "plateau": 0.0}
>>> brier_score(["healthy", "lr_high"], [certain_right, unsure])
0.36
>>> round(expected_calibration_error(["healthy", "lr_high"], [certain_right, unsure]), 6)
0.3
"""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np

from curvebench.benchmark.metrics import ratio
from curvebench.run import LABELS


def probability_matrix(probabilities: Sequence[Mapping[str, float]]) -> np.ndarray:
    """Runs x :data:`LABELS` array of probabilities (a label a verdict leaves out counts as 0)."""
    return np.array([[p.get(label, 0.0) for label in LABELS] for p in probabilities], dtype=np.float64).reshape(
        -1, len(LABELS)
    )


def brier_score(true: Sequence[str], probabilities: Sequence[Mapping[str, float]]) -> float | None:
    """Mean over runs of the squared distance between the probabilities and the one-hot truth."""
    if not len(true):
        return None
    p = probability_matrix(probabilities)
    onehot = np.array([[float(label == t) for label in LABELS] for t in true])
    return ratio(float(np.sum((p - onehot) ** 2)), len(true))


def expected_calibration_error(
    true: Sequence[str], probabilities: Sequence[Mapping[str, float]], bins: int = 10
) -> float | None:
    """Run-weighted mean over confidence bins of ``|accuracy - mean confidence|``."""
    if not len(true):
        return None
    p = probability_matrix(probabilities)
    confidence = p.max(axis=1)
    hit = np.array([LABELS[k] == t for k, t in zip(p.argmax(axis=1), true)], dtype=np.float64)
    index = np.minimum((confidence * bins).astype(int), bins - 1)
    hits = np.bincount(index, weights=hit, minlength=bins)
    confidences = np.bincount(index, weights=confidence, minlength=bins)
    gaps = np.abs(hits - confidences)  # = count * |accuracy - mean confidence| in each bin
    return ratio(float(gaps.sum()), len(true))
