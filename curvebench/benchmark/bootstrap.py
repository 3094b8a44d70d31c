"""Bootstrap 95% confidence intervals for macro-F1 and per-class recall, resampling runs.

Each of ``n_resamples`` resamples draws as many runs as the suite holds, with replacement, from
one seeded ``numpy.random.Generator`` (same seed, same intervals). Scores are recomputed from each
resample's confusion counts with the rules of :func:`~curvebench.benchmark.metrics.scores`
(macro-F1 over the classes present in the resample), and the interval is the 2.5th and 97.5th
percentile of the resampled scores. A class's recall is left out of resamples that hold none of
its runs; its interval is ``None`` when the suite has none.

>>> true = ["healthy"] * 8 + ["lr_high"] * 8
>>> predicted = ["healthy"] * 8 + ["lr_high"] * 6 + ["healthy"] * 2
>>> ci = bootstrap_ci(true, predicted, n_resamples=200, seed=0)
>>> lo, hi = ci["macro_f1"]
>>> 0.6 < lo < 0.87 < hi <= 1.0, ci["recall"]["healthy"], ci["recall"]["lr_low"]
(True, [1.0, 1.0], None)
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from curvebench.benchmark.metrics import COLUMNS, ratios
from curvebench.run import LABELS


def bootstrap_ci(
    true: Sequence[str], predicted: Sequence[str], *, n_resamples: int = 1000, seed: int = 0, level: float = 0.95
) -> dict:
    """``{"macro_f1": [low, high], "recall": {label: [low, high] or None}}``; ``None`` throughout for no runs."""
    if len(true) != len(predicted):
        raise ValueError(f"{len(true)} true labels but {len(predicted)} predicted labels")
    if not len(true):
        return {"macro_f1": None, "recall": dict.fromkeys(LABELS)}
    n_rows, n_cols = len(LABELS), len(COLUMNS)
    codes = np.array([LABELS.index(t) * n_cols + COLUMNS.index(p) for t, p in zip(true, predicted)])
    rng = np.random.default_rng(seed)
    picks = codes[rng.integers(0, len(codes), size=(n_resamples, len(codes)))]
    offsets = (np.arange(n_resamples) * n_rows * n_cols)[:, None]
    counts = np.bincount((picks + offsets).ravel(), minlength=n_resamples * n_rows * n_cols)
    table = counts.reshape(n_resamples, n_rows, n_cols)
    hits = table[:, np.arange(n_rows), np.arange(n_rows)]
    support = table.sum(axis=2)
    n_predicted = table[:, :, :n_rows].sum(axis=1)
    f1 = ratios(2 * hits, n_predicted + support)
    present = (support + n_predicted) > 0
    macro = ratios((f1 * present).sum(axis=1), present.sum(axis=1))
    recall = np.where(support > 0, ratios(hits, support), np.nan)
    tail = 100 * (1 - level) / 2
    return {
        "macro_f1": _interval(macro, tail),
        "recall": {
            label: _interval(recall[:, k], tail) if label in true else None for k, label in enumerate(LABELS)
        },
    }


def _interval(values: np.ndarray, tail: float) -> list[float]:
    low, high = np.nanpercentile(values, [tail, 100 - tail])
    return [float(low), float(high)]
