"""``TrainingHistory``: the per-step record of loss, gradient norm and learning rate, and what it says.

Non-finite losses are data: they are recorded as given, show up as themselves in the smoothed
loss, and leave the smoothing state untouched so the curve picks up again after them.

>>> history = TrainingHistory()
>>> for loss in [2.0, 1.0] + [0.5] * 20:
...     _ = history.record(loss, grad_norm=1.0, lr=0.1)
>>> [round(v, 3) for v in history.smoothed_loss(window=3)][:4]
[2.0, 1.333, 0.857, 0.667]
>>> history.detect_plateau(window=5, smoothing=2), history.detect_plateau(window=21, smoothing=2)
(True, False)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field


@dataclass
class TrainingHistory:
    """Loss, gradient norm and learning rate, one entry per recorded step (NaN where not given)."""

    loss: list[float] = field(default_factory=list)
    grad_norm: list[float] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)

    def record(self, loss: float, grad_norm: float = math.nan, lr: float = math.nan) -> "TrainingHistory":
        """Record one training step; returns ``self``."""
        self.loss.append(float(loss))
        self.grad_norm.append(float(grad_norm))
        self.lr.append(float(lr))
        return self

    def __len__(self) -> int:
        return len(self.loss)

    def smoothed_loss(self, window: int = 100) -> list[float]:
        """The exponentially smoothed loss, ``alpha = 2 / (window + 1)``, bias-corrected at the start.

        A non-finite loss appears as itself and does not enter the average.

        >>> TrainingHistory(loss=[1.0, float("nan"), 3.0]).smoothed_loss(window=3)
        [1.0, nan, 2.333...]
        """
        return exponential_smoothing(self.loss, window)

    def detect_plateau(self, threshold: float = 0.001, window: int = 100, smoothing: int = 10) -> bool:
        """Whether the smoothed loss improved by less than ``threshold`` (relative) over the last ``window`` steps.

        Compares the best loss, smoothed over ``smoothing`` steps, of the last ``window`` steps with
        the best before them; ``False`` until there are more than ``window`` finite losses.
        """
        if window < 1:
            raise ValueError(f"window must be >= 1, got {window}")
        finite = [v for v in self.smoothed_loss(smoothing) if math.isfinite(v)]
        if len(finite) <= window:
            return False
        before = min(finite[:-window])
        recent = min(finite[-window:])
        return (before - recent) < threshold * abs(before)


def exponential_smoothing(values: list[float], window: int) -> list[float]:
    """Bias-corrected exponential moving average of ``values``; non-finite values pass through.

    >>> exponential_smoothing([4.0, 2.0], window=1)
    [4.0, 2.0]
    """
    if window < 1:
        raise ValueError(f"window must be >= 1, got {window}")
    alpha = 2.0 / (window + 1)
    average, weight, out = 0.0, 0.0, []
    for value in values:
        if not math.isfinite(value):
            out.append(value)
            continue
        average = (1 - alpha) * average + alpha * value
        weight = (1 - alpha) * weight + alpha
        out.append(average / weight)
    return out
