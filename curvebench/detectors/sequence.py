"""Streaming for detectors that classify a resampled run: buffer each step, re-predict now and then.

:class:`SequenceDetector` feeds every step into a :class:`~curvebench.detectors.resample.RunSketch`
(O(1) amortized) and re-predicts when the train-loss points have grown by ``recheck`` (a share)
since the last prediction, at least every ``every`` points, and at once at the first NaN/inf.
A prediction costs O(``length``), so updates stay O(1) amortized. Fewer than ``min_points``
train-loss points give ``insufficient_data``. ``onset_step`` is the step of the prediction
that first raised the current label (and kept it since). Subclasses write
``_probabilities(array) -> np.ndarray`` over :data:`~curvebench.run.LABELS`.

>>> import numpy as np
>>> from curvebench.run import Run
>>> class Rising(SequenceDetector):
...     name = "rising"
...     def _probabilities(self, array):  # lr_high once the last bin sits above e times the start
...         return np.array([0, 1.0, 0, 0, 0]) if array[0, -1] > 1 else np.array([1.0, 0, 0, 0, 0])
>>> verdict = Rising().diagnose(Run.from_columns(list(range(30)), train_loss=[1.0] * 20 + [5.0] * 10))
>>> verdict.label, verdict.onset_step  # re-predicted at 20 and 22 points: seen at the second
('lr_high', 21)
"""

from __future__ import annotations

import numpy as np

from curvebench.detectors.base import Detector, Diagnosis
from curvebench.detectors.resample import RunSketch
from curvebench.run import LABELS, Run


class SequenceDetector(Detector):
    """Streaming shell around ``_probabilities``; see the module."""

    def __init__(self, length: int = 64, min_points: int = 10, recheck: float = 0.1, every: int = 1000) -> None:
        if not isinstance(min_points, int) or min_points < 5:
            raise ValueError(f"min_points must be an integer >= 5, got {min_points!r}")
        if not 0 < recheck <= 1:
            raise ValueError(f"recheck must be in (0, 1], got {recheck!r}")
        if not isinstance(every, int) or every < 1:
            raise ValueError(f"every must be a positive integer, got {every!r}")
        self.length = length
        self.min_points = min_points
        self.recheck = recheck
        self.every = every
        super().__init__()

    def _reset(self) -> None:
        self._sketch = RunSketch(self.length)
        self._next_check = self.min_points
        self._saw_nonfinite = False
        self._verdict: Diagnosis | None = None

    def update(self, step: int, **metrics: float) -> Diagnosis | None:
        """Take one logged step; the verdict so far, ``None`` before ``min_points`` train points."""
        self._sketch.add(step, metrics)
        n = self._sketch.n_train
        first_blowup = not self._saw_nonfinite and self._sketch.n_nonfinite > 0
        self._saw_nonfinite = self._sketch.n_nonfinite > 0
        if n >= self.min_points and (n >= self._next_check or first_blowup):
            self._next_check = n + max(1, min(self.every, int(n * self.recheck)))
            self._verdict = self._predict(step)
        return self._verdict

    def finish(self, diagnosis: Diagnosis | None, run: Run) -> Diagnosis:
        """The last verdict; ``insufficient_data`` below ``min_points`` train-loss points."""
        if diagnosis is None:
            return Diagnosis.insufficient(self._sketch.n_train, self.min_points)
        return diagnosis

    def _predict(self, step: int) -> Diagnosis:
        probs = np.asarray(self._probabilities(self._sketch.array()), dtype=np.float64)
        if probs.shape != (len(LABELS),) or not np.all(np.isfinite(probs)) or probs.sum() <= 0:
            probs = np.full(len(LABELS), 1.0 / len(LABELS))
        probs = np.clip(probs, 0.0, None)
        probs = probs / probs.sum()
        label = LABELS[int(np.argmax(probs))]
        previous = self._verdict
        if label == "healthy":
            onset = None
        elif previous is not None and previous.label == label:
            onset = previous.onset_step
        else:
            onset = step
        evidence = [f"{self.name} on {self._sketch.n_train} train-loss points resampled to {self.length}: "
                    f"p({label}) = {probs.max():.2f}"]
        if self._sketch.n_nonfinite:
            evidence.append(f"{self._sketch.n_nonfinite} NaN/inf values so far")
        return Diagnosis(label, {name: float(p) for name, p in zip(LABELS, probs)}, onset_step=onset,
                         evidence=evidence)

    def _probabilities(self, array: np.ndarray) -> np.ndarray:
        raise NotImplementedError


def softmax(scores: np.ndarray) -> np.ndarray:
    """Row-wise softmax, finite for any finite input.

    >>> softmax(np.array([[0.0, 0.0], [1000.0, 0.0]])).round(3).tolist()
    [[0.5, 0.5], [1.0, 0.0]]
    """
    shifted = scores - scores.max(axis=-1, keepdims=True)
    weights = np.exp(shifted)
    return weights / weights.sum(axis=-1, keepdims=True)
