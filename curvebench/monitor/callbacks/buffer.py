"""``StepBuffer``: hold a framework's last training log until its validation loss for that step is known.

Frameworks report the training loss of a step and, later, the validation loss measured at the
same step; a :class:`~curvebench.monitor.TrainingMonitor` takes both in one ``step`` call. The
buffer keeps the latest training log back, attaches a validation loss that arrives for its step,
and hands it over when the next training log (or the end of training) comes.

>>> from curvebench.monitor import TrainingMonitor
>>> monitor = TrainingMonitor(detectors=())
>>> buffer = StepBuffer(monitor)
>>> buffer.train(10, loss=2.0, lr=0.1)
>>> buffer.validation(10, val_loss=2.2)
>>> buffer.train(20, loss=1.5, lr=0.1)
>>> buffer.close()
>>> monitor.to_run().channel("val_loss").steps
array([10])
"""

from __future__ import annotations

from typing import Any


class StepBuffer:
    """Delays each training log by one so a validation loss for the same step can join it."""

    def __init__(self, monitor: Any) -> None:
        self.monitor = monitor
        self._held: tuple[int, dict[str, Any]] | None = None
        self._early_val: float | None = None

    def train(self, step: int, *, loss: Any, **values: Any) -> None:
        """A training log at ``step``: hand the held one over, hold this one (``None`` values dropped)."""
        self._release()
        values = {k: v for k, v in values.items() if v is not None}
        if self._early_val is not None:
            values["val_loss"], self._early_val = self._early_val, None
        self._held = (int(step), {"loss": loss, **values})

    def validation(self, step: int, *, val_loss: Any) -> None:
        """A validation loss at ``step``: joins the held training log, or the next one if none is held."""
        if self._held is not None and self._held[0] == int(step):
            self._held[1]["val_loss"] = val_loss
        else:
            self._early_val = val_loss

    def close(self) -> None:
        """Hand over the held log (at the end of training)."""
        self._release()

    def _release(self) -> None:
        if self._held is None:
            return
        step, values = self._held
        self._held = None
        if self.monitor.last_step is None or step > self.monitor.last_step:
            self.monitor.step(values.pop("loss"), step=step, **values)
