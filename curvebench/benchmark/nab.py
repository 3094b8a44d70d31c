"""An early-detection score in the manner of the Numenta Anomaly Benchmark (NAB), one window per run.

NAB rewards a detection by where it falls in a window after the anomaly: the scaled sigmoid
``sigma(y) = 2 / (1 + exp(5 y)) - 1`` of the alarm's position ``y`` relative to the window's end,
in window lengths (``y = -1`` at the window's start scores 0.987, ``y = 0`` at its end scores 0;
after the window ``sigma`` turns negative, and is -1 beyond three window lengths). Here each run is
one NAB data file with (at most) one anomaly, and only the run's **first alarm** counts: the first
step whose streamed verdict is a pathology label, right or wrong (the class is F1's business; this
is about *when* a user is woken up). The window starts at ``onset_step`` and lasts ``window``
(default 10%, NAB's share) of the run's length, at least one step. With the weights ``A_TP``,
``A_FP``, ``A_FN`` of a profile, a run scores

* pathological run, first alarm in the window: ``A_TP * sigma(y)``;
* first alarm after the window: ``-A_FN`` (window missed) ``+ A_FP * sigma(y)`` (a late alarm is
  a false positive, penalised less the closer it is);
* first alarm before the onset: ``-A_FP - A_FN`` (a false positive, and the window it pre-empted
  is missed: the alarm that was already up tells nothing about the onset);
* never alarming: ``-A_FN``; a healthy run: ``-A_FP`` if it ever alarmed, else 0.

Pathological runs without a known ``onset_step`` are left out. The suite's score is normalised
like NAB's: ``100 * (raw - null) / (perfect - null)``, where *null* never alarms (``-A_FN`` per
pathological run) and *perfect* alarms at every onset and never on a healthy run, so never
alarming scores 0, perfect scores 100, and worse than silence is negative. ``None`` for a suite
without a scorable pathological run.

>>> nab_score(["lr_high", "healthy"], [100, None], [1000, 1000], [100, None])
100.0
>>> nab_score(["lr_high", "healthy"], [100, None], [1000, 1000], [None, None])
0.0
>>> round(nab_score(["lr_high", "healthy"], [100, None], [1000, 1000], [150, 30]), 2)
87.5
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence


@dataclass(frozen=True)
class Profile:
    """NAB's weights for a true positive, a false positive and a false negative."""

    tp: float
    fp: float
    fn: float


PROFILES: dict[str, Profile] = {
    "standard": Profile(tp=1.0, fp=0.11, fn=1.0),
    "reward_low_FP": Profile(tp=1.0, fp=0.22, fn=1.0),
    "reward_low_FN": Profile(tp=1.0, fp=0.11, fn=2.0),
}
"""NAB's three application profiles, by their NAB names."""


def scaled_sigmoid(y: float) -> float:
    """NAB's ``2 / (1 + exp(5 y)) - 1``, and -1 beyond ``y > 3``.

    >>> round(scaled_sigmoid(-1.0), 4), scaled_sigmoid(0.0), scaled_sigmoid(4.0)
    (0.9866, 0.0, -1.0)
    """
    if y > 3.0:
        return -1.0
    return 2.0 / (1.0 + math.exp(5.0 * y)) - 1.0


def run_score(label: str, onset: int | None, length: int, first_alarm: int | None,
              profile: Profile, window: float = 0.1) -> float:
    """One run's raw score (see the module docstring); ``onset`` must be known for a pathological run."""
    if label == "healthy":
        return 0.0 if first_alarm is None else -profile.fp
    if first_alarm is None:
        return -profile.fn
    if first_alarm < onset:
        return -profile.fp - profile.fn
    width = max(1.0, window * length)
    y = (first_alarm - (onset + width)) / width
    if y < 0:
        return profile.tp * scaled_sigmoid(y)
    return -profile.fn + profile.fp * scaled_sigmoid(y)


def nab_score(labels: Sequence[str], onsets: Sequence[int | None], lengths: Sequence[int],
              first_alarms: Sequence[int | None], profile: str | Profile = "standard",
              window: float = 0.1) -> float | None:
    """The normalised score (0: never alarms, 100: perfect) of one detector's first alarms on a suite."""
    weights = PROFILES[profile] if isinstance(profile, str) else profile
    if not len(labels) == len(onsets) == len(lengths) == len(first_alarms):
        raise ValueError("need one label, onset, length and first alarm per run")
    raw = null = perfect = 0.0
    for label, onset, length, alarm in zip(labels, onsets, lengths, first_alarms):
        if label != "healthy" and onset is None:
            continue
        raw += run_score(label, onset, length, alarm, weights, window)
        if label != "healthy":
            null -= weights.fn
            perfect += weights.tp * scaled_sigmoid(-1.0)
    if perfect == null:
        return None
    return 100.0 * (raw - null) / (perfect - null)
