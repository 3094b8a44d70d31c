"""One streaming replay of a run through a detector: its final verdict, its alarm timeline, its cost.

The benchmark feeds each run to ``detector.update`` step by step (as
:func:`~curvebench.detectors.base.iter_steps` yields them), as a live training loop would, and
keeps the first step at which each label was streamed. From that one pass come

* the **final verdict**: ``detector.finish(last verdict, run)``, exactly what the base class's
  ``diagnose`` computes (a class that overrides ``diagnose`` with a faster version must give the
  same answer: the detector contract, checked for every registered detector). Only a user's
  detector without ``finish`` (not a :class:`~curvebench.detectors.base.Detector` subclass) is
  asked ``diagnose(run)`` as well, a second pass, and that answer is its final verdict;
* the **first alarm**: the first step whose streamed verdict is a pathology label (``lr_high``,
  ``lr_low``, ``overfit`` or ``plateau``), right or wrong: what would wake a user up;
* the **detection step**: the first step whose streamed verdict is the run's true label;
* the **cost**: wall time of the update loop (the replay's own bookkeeping, one dict lookup per
  step, included) and the number of updates.

>>> import numpy as np
>>> from curvebench.detectors import RulesDetector
>>> from curvebench.run import Run
>>> loss = np.where(np.arange(100) < 60, 2.0, np.nan)
>>> r = replay(RulesDetector(), Run.from_columns(np.arange(100), train_loss=loss, label="lr_high", onset_step=55))
>>> r.diagnosis.label, r.first_alarm, r.detection_step("lr_high"), r.n_updates
('lr_high', (9, 'lr_low'), 60, 100)
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from curvebench.detectors.base import Detector, Diagnosis, iter_steps
from curvebench.run import LABELS, Run

PATHOLOGIES: tuple[str, ...] = tuple(label for label in LABELS if label != "healthy")
"""The labels that count as an alarm."""


@dataclass(frozen=True)
class Replay:
    """What one streaming pass of one run through one detector gave."""

    diagnosis: Diagnosis
    first_steps: dict[str, int]
    """The first step at which each label (or ``insufficient_data``) was the streamed verdict."""
    n_updates: int
    seconds: float

    @property
    def first_alarm(self) -> tuple[int, str] | None:
        """``(step, label)`` of the first streamed pathology verdict, or ``None`` if it never alarmed."""
        alarms = [(step, label) for label, step in self.first_steps.items() if label in PATHOLOGIES]
        return min(alarms) if alarms else None

    def detection_step(self, label: str) -> int | None:
        """The first step at which the streamed verdict was ``label``, or ``None``."""
        return self.first_steps.get(label)


def replay(detector, run: Run, stream: list[tuple[int, dict[str, float]]] | None = None) -> Replay:
    """Stream ``run`` through ``detector`` once (after ``reset``); see the module docstring.

    ``stream`` is ``list(iter_steps(run))`` when the caller already has it (one per run, shared by
    every detector: updates get the dicts as keyword arguments, so no detector can change them).
    """
    stream = list(iter_steps(run)) if stream is None else stream
    detector.reset()
    update = detector.update
    last = None
    first_steps: dict[str, int] = {}
    start = time.perf_counter()
    for step, metrics in stream:
        verdict = update(step, **metrics)
        if verdict is not None:
            last = verdict
            if verdict.label not in first_steps:
                first_steps[verdict.label] = step
    seconds = time.perf_counter() - start
    final = detector.finish(last, run) if isinstance(detector, Detector) else detector.diagnose(run)
    return Replay(final, first_steps, len(stream), seconds)
