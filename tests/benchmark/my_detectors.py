"""A user's own detector, kept outside curvebench, loaded by the tests as ``my_detectors:NaNOnly``."""

from __future__ import annotations

import math

from curvebench.detectors import Detector, Diagnosis


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
