"""The contract every detector keeps: ``diagnose`` a whole run, or ``reset``/``update`` step by step.

A detector is streaming at heart: ``update(step, **metrics)`` takes one logged step (only the
channels logged at that step) and returns the current :class:`Diagnosis`, or ``None`` while it
has nothing to say yet. ``diagnose(run)`` replays a whole run through ``update``, so offline and
live verdicts agree; a detector may override it with a faster vectorised version that must
give the same answer. Learned detectors also implement ``fit(runs)``.

>>> from curvebench.run import Run
>>> class NaNAlarm(Detector):
...     name = "nan-alarm"
...     def _reset(self):
...         self._first = None
...     def update(self, step, **metrics):
...         loss = metrics.get("train_loss")
...         if loss is not None and loss != loss and self._first is None:
...             self._first = step
...         if self._first is None:
...             return None
...         return Diagnosis.certain("lr_high", onset_step=self._first, evidence=[f"NaN loss at step {self._first}"])
>>> run = Run.from_columns([0, 1, 2], train_loss=[1.0, float("nan"), float("nan")])
>>> NaNAlarm().diagnose(run).onset_step
1
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar, Iterator

import numpy as np

from curvebench.run import INSUFFICIENT_DATA, LABELS, Run, RunSet

RECOMMENDATIONS: dict[str, str] = {
    "healthy": "Nothing to fix; keep training and keep watching validation loss.",
    "lr_high": "Lower the learning rate (3-10x), add warmup and gradient clipping (max_norm=1.0); "
    "restart from the last finite checkpoint.",
    "lr_low": "Raise the learning rate (3-10x) or run an LR range test to pick one.",
    "overfit": "Stop at the validation minimum (early stopping) and add regularization: "
    "weight decay, dropout, augmentation or more data.",
    "plateau": "Decay the learning rate (step or cosine schedule); if stuck at chance level, check "
    "initialization, dead or saturated activations and the data pipeline.",
    INSUFFICIENT_DATA: "Log more steps (and validation loss) before asking for a verdict.",
}
"""What to change, per verdict; detectors may say something more specific."""


@dataclass
class Diagnosis:
    """A detector's verdict on a run (or on the run so far).

    ``onset_step`` is the first step at which the detector would have raised ``label``;
    ``None`` for a healthy verdict. ``probabilities`` maps each of :data:`LABELS` to a number.
    """

    label: str
    probabilities: dict[str, float]
    onset_step: int | None = None
    evidence: list[str] = field(default_factory=list)
    recommendation: str = ""

    def __post_init__(self) -> None:
        if self.label not in LABELS and self.label != INSUFFICIENT_DATA:
            raise ValueError(f"a diagnosis label must be one of {LABELS} or {INSUFFICIENT_DATA!r}, got {self.label!r}")
        if not self.recommendation:
            self.recommendation = RECOMMENDATIONS[self.label]

    @classmethod
    def certain(cls, label: str, **kwargs: Any) -> "Diagnosis":
        """A verdict with all probability on ``label`` (for rule-based detectors)."""
        return cls(label, {name: float(name == label) for name in LABELS}, **kwargs)

    @classmethod
    def insufficient(cls, n_points: int, needed: int) -> "Diagnosis":
        """The verdict for too little data: uniform probabilities, no guess."""
        return cls(
            INSUFFICIENT_DATA,
            {name: 1.0 / len(LABELS) for name in LABELS},
            evidence=[f"only {n_points} train-loss points; at least {needed} needed"],
        )

    @property
    def alarm(self) -> bool:
        """Whether this verdict flags a problem (anything but healthy or insufficient data)."""
        return self.label in LABELS and self.label != "healthy"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (non-finite probabilities become ``None``)."""
        out = asdict(self)
        out["probabilities"] = {k: (v if math.isfinite(v) else None) for k, v in self.probabilities.items()}
        return out


class Detector:
    """Base class. Subclasses set ``name`` and write ``_reset`` and ``update``.

    Parameters go in ``__init__`` unchanged under their own names; running state is
    underscore-prefixed and rebuilt by ``_reset``.
    """

    name: ClassVar[str] = ""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> "Detector":
        """Forget everything seen so far; returns ``self``."""
        self._reset()
        return self

    def _reset(self) -> None:
        raise NotImplementedError

    def update(self, step: int, **metrics: float) -> Diagnosis | None:
        """Take one logged step; return the verdict so far, or ``None`` if there is none yet."""
        raise NotImplementedError

    def fit(self, runs: RunSet) -> "Detector":
        """Learn from labeled runs; rule-based detectors have nothing to learn."""
        return self

    def diagnose(self, run: Run) -> Diagnosis:
        """The verdict on a whole run: every step replayed through ``update``."""
        self.reset()
        diagnosis = None
        for step, metrics in iter_steps(run):
            diagnosis = self.update(step, **metrics) or diagnosis
        return self.finish(diagnosis, run)

    def finish(self, diagnosis: Diagnosis | None, run: Run) -> Diagnosis:
        """The final verdict once the run has ended (default: the last one, or healthy)."""
        if diagnosis is None:
            return Diagnosis.certain("healthy", evidence=["no rule fired"])
        return diagnosis


def iter_steps(run: Run) -> Iterator[tuple[int, dict[str, float]]]:
    """Each logged step of ``run`` in order, with the channels logged at that step.

    >>> run = Run.from_columns([0, 5], train_loss=[1.0, 0.8], val_loss=[None, 0.9])
    >>> list(iter_steps(run))
    [(0, {'train_loss': 1.0}), (5, {'train_loss': 0.8, 'val_loss': 0.9})]
    """
    steps = run.steps
    names = list(run.channels)
    aligned = []
    for name in names:
        ch = run.channels[name]
        column = np.full(steps.size, np.nan)
        present = np.zeros(steps.size, dtype=bool)
        index = np.searchsorted(steps, ch.steps)
        column[index] = ch.values
        present[index] = True
        aligned.append((name, column.tolist(), present.tolist()))
    for k, step in enumerate(steps.tolist()):
        yield step, {name: col[k] for name, col, here in aligned if here[k]}
