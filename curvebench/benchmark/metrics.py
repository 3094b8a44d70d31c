"""Detector scores from true and predicted labels: counts first, then every ratio in one place.

Predictions may be ``insufficient_data``: it is never right, and it has its own confusion column.
Per class (over :data:`~curvebench.run.LABELS`) precision = tp / predicted, recall = tp / support,
f1 = 2 tp / (predicted + support); a ratio with a zero denominator is 0.0 (sklearn's
``zero_division=0``). ``macro_f1`` averages f1 over the classes that occur among the true or the
predicted labels, as ``sklearn.metrics.f1_score(..., average="macro")`` does by default, so a suite
without, say, overfit runs is not marked down for it, while a false overfit alarm still is.

>>> s = scores(["healthy", "healthy", "lr_high", "plateau"],
...            ["healthy", "lr_high", "lr_high", "insufficient_data"],
...            true_onsets=[None, None, 100, 50], predicted_onsets=[None, 10, 130, None])
>>> s["per_class"]["lr_high"]
{'precision': 0.5, 'recall': 1.0, 'f1': 0.6666666666666666, 'support': 1}
>>> round(s["macro_f1"], 4), s["false_alarm_rate"], s["delays"], s["median_delay"]
(0.4444, 0.5, [30], 30.0)
>>> s["confusion"]["plateau"]["insufficient_data"]
1
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from curvebench.run import INSUFFICIENT_DATA, LABELS

COLUMNS: tuple[str, ...] = (*LABELS, INSUFFICIENT_DATA)
"""Confusion-matrix columns: the five labels, then ``insufficient_data``."""


def ratio(numerator: float, denominator: float) -> float:
    """The one division every score goes through: ``numerator / denominator``, or 0.0 when it is 0.

    >>> ratio(1, 4), ratio(0, 0)
    (0.25, 0.0)
    """
    return float(numerator) / denominator if denominator else 0.0


def ratios(numerators: np.ndarray, denominators: np.ndarray) -> np.ndarray:
    """:func:`ratio` elementwise, for arrays of counts (the bootstrap divides thousands at once).

    >>> ratios(np.array([1, 0]), np.array([4, 0]))
    array([0.25, 0.  ])
    """
    numerators = np.asarray(numerators, dtype=np.float64)
    denominators = np.asarray(denominators, dtype=np.float64)
    out = np.zeros(np.broadcast(numerators, denominators).shape)
    return np.divide(numerators, denominators, out=out, where=denominators != 0)


def confusion(true: Sequence[str], predicted: Sequence[str]) -> dict[str, dict[str, int]]:
    """Counts as ``{true label: {predicted label: count}}``: rows :data:`LABELS`, columns :data:`COLUMNS`.

    >>> confusion(["healthy"], ["insufficient_data"])["healthy"]
    {'healthy': 0, 'lr_high': 0, 'lr_low': 0, 'overfit': 0, 'plateau': 0, 'insufficient_data': 1}
    """
    _check_labels(true, predicted)
    table = {row: dict.fromkeys(COLUMNS, 0) for row in LABELS}
    for t, p in zip(true, predicted):
        table[t][p] += 1
    return table


def scores(
    true: Sequence[str],
    predicted: Sequence[str],
    true_onsets: Sequence[int | None] | None = None,
    predicted_onsets: Sequence[int | None] | None = None,
) -> dict:
    """Per-class precision/recall/f1/support, macro_f1, confusion, false_alarm_rate, delays, median_delay.

    Delays are ``predicted_onset - true_onset`` for runs with a pathology that was named correctly
    and both onsets known; ``median_delay`` is ``None`` without any.
    """
    table = confusion(true, predicted)
    support = {label: sum(table[label].values()) for label in LABELS}
    n_predicted = {label: sum(table[row][label] for row in LABELS) for label in LABELS}
    hits = {label: table[label][label] for label in LABELS}
    healthy_alarms = sum(table["healthy"][label] for label in LABELS if label != "healthy")

    per_class = {}
    for label in LABELS:
        per_class[label] = {
            "precision": ratio(hits[label], n_predicted[label]),
            "recall": ratio(hits[label], support[label]),
            "f1": ratio(2 * hits[label], n_predicted[label] + support[label]),
            "support": support[label],
        }
    present = [label for label in LABELS if support[label] or n_predicted[label]]
    delays = onset_delays(true, predicted, true_onsets, predicted_onsets)
    return {
        "per_class": per_class,
        "macro_f1": ratio(sum(per_class[label]["f1"] for label in present), len(present)),
        "confusion": table,
        "false_alarm_rate": ratio(healthy_alarms, support["healthy"]),
        "delays": delays,
        "median_delay": float(np.median(delays)) if delays else None,
    }


def onset_delays(
    true: Sequence[str],
    predicted: Sequence[str],
    true_onsets: Sequence[int | None] | None,
    predicted_onsets: Sequence[int | None] | None,
) -> list[int]:
    """``predicted_onset - true_onset`` for each correctly named pathology with both onsets known."""
    indices = delay_runs(true, predicted, true_onsets, predicted_onsets)
    return [int(predicted_onsets[i]) - int(true_onsets[i]) for i in indices]


def delay_runs(
    true: Sequence[str],
    predicted: Sequence[str],
    true_onsets: Sequence[int | None] | None,
    predicted_onsets: Sequence[int | None] | None,
) -> list[int]:
    """Indices of the runs that have a delay: a pathology named correctly, both onsets known.

    >>> delay_runs(["lr_high", "lr_high", "healthy"], ["lr_high", "plateau", "healthy"], [5, 5, None], [9, 9, None])
    [0]
    """
    if true_onsets is None or predicted_onsets is None:
        return []
    if not len(true_onsets) == len(predicted_onsets) == len(true):
        raise ValueError(
            f"need one onset per run: {len(true)} runs, {len(true_onsets)} true onsets, "
            f"{len(predicted_onsets)} predicted onsets"
        )
    return [
        i
        for i, (t, p, t_onset, p_onset) in enumerate(zip(true, predicted, true_onsets, predicted_onsets))
        if t == p and t != "healthy" and t_onset is not None and p_onset is not None
    ]


def delay_summary(delays: Sequence[int], lengths: Sequence[int]) -> dict:
    """Median and 90th percentile of detection delays, in steps and as a fraction of each run's length.

    ``lengths[i]`` is the length in steps of the run delay ``i`` came from; percentiles interpolate
    linearly (numpy's default); every figure is ``None`` without delays.

    >>> {k: round(v, 4) for k, v in delay_summary([10, 20, 30, 40], [100, 100, 200, 400]).items()}
    {'median_delay': 25.0, 'p90_delay': 37.0, 'median_delay_fraction': 0.125, 'p90_delay_fraction': 0.185}
    """
    if len(delays) != len(lengths):
        raise ValueError(f"{len(delays)} delays but {len(lengths)} run lengths")
    if not len(delays):
        return dict.fromkeys(("median_delay", "p90_delay", "median_delay_fraction", "p90_delay_fraction"))
    steps = np.asarray(delays, dtype=np.float64)
    fractions = ratios(steps, np.asarray(lengths))
    return {
        "median_delay": float(np.median(steps)),
        "p90_delay": float(np.percentile(steps, 90)),
        "median_delay_fraction": float(np.median(fractions)),
        "p90_delay_fraction": float(np.percentile(fractions, 90)),
    }


def _check_labels(true: Sequence[str], predicted: Sequence[str]) -> None:
    if len(true) != len(predicted):
        raise ValueError(f"{len(true)} true labels but {len(predicted)} predicted labels")
    bad_true = sorted({t for t in true if t not in LABELS})
    if bad_true:
        raise ValueError(f"true labels must be one of {', '.join(LABELS)}; got {', '.join(map(repr, bad_true))}")
    bad_predicted = sorted({p for p in predicted if p not in COLUMNS})
    if bad_predicted:
        raise ValueError(
            f"predicted labels must be one of {', '.join(COLUMNS)}; got {', '.join(map(repr, bad_predicted))}"
        )
