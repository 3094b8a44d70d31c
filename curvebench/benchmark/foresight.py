"""Predict, don't just notice: how often a detector says lr_high *before* a run's first NaN or inf loss.

A NaN is easy to see once it is there. For each ``lr_high`` run whose ``train_loss`` turns non-finite,
the detector's *lead* is the first non-finite step minus the first step at which its streamed verdict
was ``lr_high``; a positive lead is a warning in time to stop, roll back or lower the learning rate.

>>> from curvebench.run import Run
>>> run = Run.from_columns([0, 1, 2, 3], train_loss=[1.0, 5.0, 50.0, float("nan")], label="lr_high")
>>> first_nonfinite_step(run)
3
>>> before_nan([run], [2])
{'runs': 1, 'flagged_before': 1, 'share': 1.0, 'median_lead': 1.0}
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from curvebench.run import Run


def first_nonfinite_step(run: Run) -> int | None:
    """The first step whose ``train_loss`` is NaN or ±inf (``None`` if every value is finite or it is absent)."""
    if "train_loss" not in run.channels:
        return None
    train = run.channels["train_loss"]
    bad = np.flatnonzero(~np.isfinite(train.values))
    return int(train.steps[bad[0]]) if bad.size else None


def before_nan(runs: Sequence[Run], lr_high_steps: Sequence[int | None]) -> dict:
    """Over the lr_high runs that turn non-finite: how many were flagged lr_high strictly before, and the median lead.

    ``lr_high_steps[i]`` is the first step at which the streamed verdict on ``runs[i]`` was ``lr_high``.
    """
    leads = []
    n = 0
    for run, flagged in zip(runs, lr_high_steps):
        first_bad = first_nonfinite_step(run) if run.label == "lr_high" else None
        if first_bad is None:
            continue
        n += 1
        if flagged is not None and flagged < first_bad:
            leads.append(first_bad - flagged)
    return {
        "runs": n,
        "flagged_before": len(leads),
        "share": len(leads) / n if n else None,
        "median_lead": float(np.median(leads)) if leads else None,
    }
