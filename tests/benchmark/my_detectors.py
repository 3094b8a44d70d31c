"""A user's own detectors, kept outside curvebench, loaded by the tests by path (``my_detectors:NaNOnly``)."""

from __future__ import annotations

import math

from curvebench.detectors import Detector, Diagnosis
from curvebench.run import LABELS


class NaNOnly(Detector):
    """Calls a run lr_high from its first non-finite train loss on, healthy before.

    >>> from curvebench.run import Run
    >>> NaNOnly().diagnose(Run.from_columns([0, 1], train_loss=[1.0, float("nan")])).label
    'lr_high'
    """

    name = "nan-only"

    def _reset(self) -> None:
        self._onset = None

    def update(self, step, **metrics):
        loss = metrics.get("train_loss")
        if loss is not None and not math.isfinite(loss) and self._onset is None:
            self._onset = step
        if self._onset is None:
            return Diagnosis.certain("healthy")
        return Diagnosis.certain("lr_high", onset_step=self._onset)


class Majority(Detector):
    """Learns the most common label of its training runs (ties: the first in LABELS) and calls every run that.

    Each ``fit`` appends the task families it saw (``meta["task"]``, ``None`` for runs without one) to
    :attr:`FITS`, so tests can check what a protocol trained it on.

    >>> from curvebench.run import Run, RunSet
    >>> runs = RunSet([Run.from_columns([0, 1], train_loss=[1.0, 2.0], label="lr_high", meta={"task": "a"})])
    >>> Majority().fit(runs).diagnose(runs[0]).label, Majority.FITS[-1]
    ('lr_high', ['a'])
    """

    name = "majority"
    FITS: list[list] = []

    def __init__(self) -> None:
        self.label_ = "healthy"
        super().__init__()

    def _reset(self) -> None:
        pass

    def fit(self, runs):
        labels = [run.label for run in runs]
        self.label_ = max(LABELS, key=lambda label: (labels.count(label), -LABELS.index(label)))
        Majority.FITS.append(sorted({run.meta.get("task") for run in runs}, key=str))
        return self

    def update(self, step, **metrics):
        return Diagnosis.certain(self.label_, onset_step=None if self.label_ == "healthy" else step)
