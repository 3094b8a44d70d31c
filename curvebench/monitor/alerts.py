"""The dashboard's anomaly alarms: NaN loss, gradient explosion, plateau, each raised once per episode.

An *episode* ends when the condition clears (a finite loss, a gradient norm back under the limit,
an improvement of the smoothed loss), so a run that stays NaN raises one alert, not thousands.

>>> alarms = AnomalyAlarms(grad_explosion=100.0, plateau_patience=3)
>>> [a.kind for a in alarms.check(0, 1.0, 5.0)]
[]
>>> [a.message for a in alarms.check(1, float("nan"), 500.0)]
['loss is nan at step 1', 'gradient norm 500 > 100 at step 1']
>>> alarms.check(2, float("nan"), 600.0)
[]
>>> [a.kind for s in range(3, 8) for a in alarms.check(s, 1.0, 1.0)]
['plateau']
"""

from __future__ import annotations

import math
from dataclasses import dataclass

ALERT_KINDS = ("nan_loss", "grad_explosion", "plateau", "diagnosis", "activations")
"""Every kind of :class:`Alert` the monitor raises."""


@dataclass(frozen=True)
class Alert:
    """One alert: the step it was raised at, its kind (one of :data:`ALERT_KINDS`) and a readable message."""

    step: int
    kind: str
    message: str

    def __str__(self) -> str:
        return f"[{self.kind}] {self.message}"


class AnomalyAlarms:
    """NaN/inf loss, gradient norm above ``grad_explosion`` (or non-finite), and a plateau.

    A plateau is ``plateau_patience`` steps in which the smoothed loss (exponential average over
    ``smoothing`` steps) never beat its best by more than ``plateau_min_delta`` (relative).
    """

    def __init__(
        self,
        *,
        grad_explosion: float = 100.0,
        plateau_patience: int = 200,
        plateau_min_delta: float = 1e-3,
        smoothing: int = 20,
    ) -> None:
        if not grad_explosion > 0:
            raise ValueError(f"grad_explosion must be > 0, got {grad_explosion}")
        if plateau_patience < 1 or smoothing < 1:
            raise ValueError("plateau_patience and smoothing must be >= 1")
        if not plateau_min_delta >= 0:
            raise ValueError(f"plateau_min_delta must be >= 0, got {plateau_min_delta}")
        self.grad_explosion = grad_explosion
        self.plateau_patience = plateau_patience
        self.plateau_min_delta = plateau_min_delta
        self.smoothing = smoothing
        self._alpha = 2.0 / (smoothing + 1)
        self._average = 0.0
        self._weight = 0.0
        self._best = math.inf
        self._best_step: int | None = None
        self._in = {"nan_loss": False, "grad_explosion": False, "plateau": False}

    @property
    def best(self) -> float:
        """The lowest smoothed loss so far (inf before the first finite loss)."""
        return self._best

    @property
    def smoothed(self) -> float:
        """The current smoothed loss (NaN before the first finite loss)."""
        return self._average / self._weight if self._weight else math.nan

    def check(self, step: int, loss: float, grad_norm: float | None = None) -> list[Alert]:
        """Take one step's loss (and gradient norm); return the alerts it raises."""
        alerts = []
        if self._enter("nan_loss", not math.isfinite(loss)):
            alerts.append(Alert(step, "nan_loss", f"loss is {loss} at step {step}"))
        exploding = grad_norm is not None and not grad_norm <= self.grad_explosion
        if self._enter("grad_explosion", exploding):
            alerts.append(
                Alert(step, "grad_explosion", f"gradient norm {grad_norm:.3g} > {self.grad_explosion:g} at step {step}")
            )
        if math.isfinite(loss):
            alerts.extend(self._check_plateau(step, loss))
        return alerts

    def _check_plateau(self, step: int, loss: float) -> list[Alert]:
        self._average = (1 - self._alpha) * self._average + self._alpha * loss
        self._weight = (1 - self._alpha) * self._weight + self._alpha
        smoothed = self.smoothed
        if self._best_step is None or smoothed < self._best - self.plateau_min_delta * abs(self._best):
            self._best, self._best_step = smoothed, step
            self._in["plateau"] = False
            return []
        stalled = step - self._best_step >= self.plateau_patience
        if self._enter("plateau", stalled):
            return [
                Alert(
                    step, "plateau",
                    f"no improvement for {step - self._best_step} steps: smoothed loss {smoothed:.4g}, "
                    f"best {self._best:.4g} at step {self._best_step}",
                )
            ]
        return []

    def _enter(self, kind: str, condition: bool) -> bool:
        """Whether ``condition`` starts a new episode of ``kind`` (it was off and is now on)."""
        started = condition and not self._in[kind]
        self._in[kind] = condition
        return started
