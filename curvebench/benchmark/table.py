"""One detector's scores on one suite as flat ``metric name -> number``: the names bars and tables use.

Names: ``macro_f1``, ``macro_f1.ci_low``, ``macro_f1.ci_high``, ``false_alarm_rate``,
``median_delay``, ``p90_delay``, ``median_delay_fraction``, ``p90_delay_fraction``,
``nab.standard``, ``nab.reward_low_FP``, ``nab.reward_low_FN``, ``brier``, ``ece``,
``us_per_update``, and per label ``precision.LABEL``, ``recall.LABEL``, ``f1.LABEL``,
``support.LABEL``, ``recall.LABEL.ci_low``, ``recall.LABEL.ci_high``. A value is ``None`` where the
suite cannot give it (no delays, no timed pathology, a class without runs for an interval).
:data:`HIGHER_IS_BETTER` lists the names a ``--fail-under`` bar may use.

>>> from curvebench.benchmark.evaluate import evaluate
>>> from curvebench.detectors import RulesDetector
>>> from curvebench.run import Run, RunSet
>>> runs = RunSet([Run.from_columns(range(50), train_loss=[2.0] * 50, label="lr_low", onset_step=0)])
>>> flat = flatten(evaluate([RulesDetector()], runs, n_resamples=10)["detectors"]["rules"])
>>> flat["macro_f1"], flat["recall.lr_low"], flat["median_delay"], flat["recall.healthy.ci_low"]
(1.0, 1.0, 9.0, None)
"""

from __future__ import annotations

from curvebench.benchmark.nab import PROFILES
from curvebench.run import LABELS

_PER_CLASS = ("precision", "recall", "f1", "support")
_SCALARS = (
    "false_alarm_rate",
    "median_delay",
    "p90_delay",
    "median_delay_fraction",
    "p90_delay_fraction",
    "brier",
    "ece",
    "us_per_update",
)

HIGHER_IS_BETTER: tuple[str, ...] = (
    "macro_f1",
    "macro_f1.ci_low",
    *(f"nab.{profile}" for profile in PROFILES),
    *(f"{kind}.{label}" for kind in ("precision", "recall", "f1") for label in LABELS),
    *(f"recall.{label}.ci_low" for label in LABELS),
)
"""Metrics where more is better: the ones a minimum bar makes sense for."""


def flatten(scores: dict) -> dict[str, float | None]:
    """``{metric name: value}`` for one detector's :func:`~curvebench.benchmark.evaluate.detector_scores`."""
    flat: dict[str, float | None] = {"macro_f1": scores["macro_f1"]}
    flat.update(_interval("macro_f1", scores["ci"]["macro_f1"]))
    flat.update({name: scores[name] for name in _SCALARS})
    flat.update({f"nab.{profile}": scores["nab"][profile] for profile in PROFILES})
    for label in LABELS:
        flat.update({f"{kind}.{label}": scores["per_class"][label][kind] for kind in _PER_CLASS})
        flat.update(_interval(f"recall.{label}", scores["ci"]["recall"][label]))
    return flat


def _interval(name: str, interval: list[float] | None) -> dict[str, float | None]:
    low, high = interval if interval is not None else (None, None)
    return {f"{name}.ci_low": low, f"{name}.ci_high": high}
