"""Learned detectors that classify the run resampled to a fixed-size array (``minirocket``, ``deep``).

:class:`SequenceDetector` feeds every step into a :class:`~curvebench.detectors.resample.RunSketch`
(O(1) amortized, bounded memory) and, at each check of
:class:`~curvebench.detectors.learned.LearnedDetector`'s schedule (the one every learned
detector streams on), turns the sketch into a ``(channels, length)`` array and asks the
subclass's ``_probabilities(array)`` (over :data:`~curvebench.run.LABELS`). A check costs
O(``length``) whatever the run's length.

>>> import numpy as np
>>> from curvebench.run import Run
>>> class Rising(SequenceDetector):
...     name = "rising"
...     def _probabilities(self, array):  # lr_high once the last bin sits above e times the start
...         return np.array([0, 1.0, 0, 0, 0]) if array[0, -1] > 1 else np.array([1.0, 0, 0, 0, 0])
>>> verdict = Rising(length=64).diagnose(Run.from_columns(list(range(30)), train_loss=[1.0] * 20 + [5.0] * 10))
>>> verdict.label, verdict.onset_step  # checks at 19 train points (healthy), then at 21: the jump at step 20
('lr_high', 20)
"""

from __future__ import annotations

import numpy as np

from curvebench.detectors.learned import LearnedDetector
from curvebench.detectors.resample import RunSketch
from curvebench.run import LABELS


class SequenceDetector(LearnedDetector):
    """Classifies the :class:`RunSketch` of the run so far; see the module."""

    def __init__(self, length: int = 64, growth: float = 0.1, min_points: int = 10) -> None:
        self.length = length
        super().__init__(growth, min_points)

    def _start(self) -> None:
        self._sketch = RunSketch(self.length)

    def _observe(self, step: int, metrics: dict[str, float]) -> None:
        self._sketch.add(step, metrics)

    def _predict(self) -> tuple[np.ndarray, list[str]]:
        probs = np.asarray(self._probabilities(self._sketch.array()), dtype=np.float64)
        if probs.shape != (len(LABELS),) or not np.all(np.isfinite(probs)) or probs.sum() <= 0:
            probs = np.full(len(LABELS), 1.0 / len(LABELS))
        probs = np.clip(probs, 0.0, None)
        probs = probs / probs.sum()
        evidence = [f"{self.name} on {self._sketch.n_train} train-loss points resampled to {self.length}: "
                    f"p({LABELS[int(np.argmax(probs))]}) = {probs.max():.2f}"]
        if self._sketch.n_nonfinite:
            evidence.append(f"{self._sketch.n_nonfinite} NaN/inf values so far")
        return probs, evidence

    def _probabilities(self, array: np.ndarray) -> np.ndarray:
        raise NotImplementedError
