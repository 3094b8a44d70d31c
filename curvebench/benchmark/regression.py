"""Regression bars for a user's diagnostics: minimum scores a detector must keep, checked in CI.

A bar is ``METRIC=MINIMUM`` (``macro_f1=0.9``, ``recall.lr_high=0.95``) over a metric of
:data:`~curvebench.benchmark.table.HIGHER_IS_BETTER`; it is missed when the score is below the
minimum or missing (``None``). ``curvebench evaluate --fail-under`` and
:func:`assert_detector_scores` (for a pytest test) use the same check::

    from curvebench.benchmark.regression import assert_detector_scores
    from curvebench.benchmark.suites import load_suite

    def test_my_detector_keeps_its_scores():
        assert_detector_scores(MyDetector(), load_suite("my-suite/"), macro_f1=0.9, **{"recall.lr_high": 0.95})

>>> parse_bar("recall.lr_high=0.95")
Bar(metric='recall.lr_high', minimum=0.95)
>>> parse_bar("recall.lr_hgh=0.95")
Traceback (most recent call last):
...
ValueError: bad bar 'recall.lr_hgh=0.95': unknown metric 'recall.lr_hgh'; did you mean 'recall.lr_high'?
"""

from __future__ import annotations

import difflib
import math
from dataclasses import dataclass
from typing import Iterable, Mapping

from curvebench.benchmark.table import HIGHER_IS_BETTER, flatten
from curvebench.run import RunSet


@dataclass(frozen=True)
class Bar:
    """A minimum ``minimum`` for ``metric``."""

    metric: str
    minimum: float

    def __post_init__(self) -> None:
        if self.metric not in HIGHER_IS_BETTER:
            close = difflib.get_close_matches(self.metric, HIGHER_IS_BETTER, n=1)
            hint = f"did you mean {close[0]!r}?" if close else f"known: {', '.join(HIGHER_IS_BETTER)}"
            raise ValueError(f"unknown metric {self.metric!r}; {hint}")
        if not (isinstance(self.minimum, (int, float)) and math.isfinite(self.minimum)):
            raise ValueError(f"the minimum for {self.metric} must be a finite number, got {self.minimum!r}")


@dataclass(frozen=True)
class Miss:
    """A bar a detector missed on a suite, with the score it got (``None``: the suite gave none)."""

    suite: str
    detector: str
    metric: str
    wanted: float
    got: float | None

    def __str__(self) -> str:
        got = "n/a" if self.got is None else f"{self.got:.4g}"
        return f"{self.metric}: wanted >= {self.wanted:g}, got {got} ({self.detector} on {self.suite})"


def parse_bar(text: str) -> Bar:
    """``"METRIC=MINIMUM"`` -> :class:`Bar`; ``ValueError`` saying what is wrong with it."""
    metric, sep, value = text.partition("=")
    metric, value = metric.strip(), value.strip()
    if not sep or not metric or not value:
        raise ValueError(f"a bar is METRIC=MINIMUM (e.g. macro_f1=0.9), got {text!r}")
    try:
        minimum = float(value)
    except ValueError:
        raise ValueError(f"bad bar {text!r}: the minimum must be a number, got {value!r}") from None
    try:
        return Bar(metric, minimum)
    except ValueError as err:
        raise ValueError(f"bad bar {text!r}: {err}") from None


def bars_from(minimums: Mapping[str, float]) -> list[Bar]:
    """:class:`Bar` per ``{metric: minimum}`` item."""
    return [Bar(metric, minimum) for metric, minimum in minimums.items()]


def missed_bars(result: dict, bars: Iterable[Bar], suite: str = "suite") -> list[Miss]:
    """Every bar missed by every detector of an ``evaluate`` (named ``suite``) or ``evaluate_suites`` result."""
    bars = list(bars)
    suites = result["suites"] if "suites" in result else {suite: result}
    misses = []
    for suite_name, suite_result in suites.items():
        for detector, scores in suite_result["detectors"].items():
            flat = flatten(scores)
            for bar in bars:
                got = flat[bar.metric]
                if got is None or got < bar.minimum:
                    misses.append(Miss(suite_name, detector, bar.metric, bar.minimum, got))
    return misses


def assert_detector_scores(detector, runs: RunSet, *, jobs: int = 1, **minimums: float) -> dict:
    """Evaluate ``detector`` on ``runs``; ``AssertionError`` naming each missed bar, else its scores.

    ``minimums`` are bars as keywords: ``macro_f1=0.9, **{"recall.lr_high": 0.95}``.
    """
    from curvebench.benchmark.evaluate import evaluate

    bars = bars_from(minimums)
    if not bars:
        raise ValueError("give at least one bar, e.g. macro_f1=0.9")
    name = getattr(detector, "name", "") or type(detector).__name__
    result = evaluate({name: detector}, runs, jobs=jobs, n_resamples=200)
    misses = missed_bars(result, bars)
    if misses:
        raise AssertionError("missed bar(s):\n" + "\n".join(f"  {miss}" for miss in misses))
    return result["detectors"][name]
