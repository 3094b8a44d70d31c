"""What a per-epoch training callback sees of a streamed run: one log per evaluation.

Keras, Lightning and UMLAUT act at the end of each epoch (each validation check) on that epoch's
logs: the validation loss, the training loss averaged over the epoch, the learning rate. A curvebench
run logs steps, so here **a step that logs** ``val_loss`` **ends an epoch**; its log holds that
``val_loss``, the mean of the ``train_loss`` points logged since the previous epoch end (this step
included; NaN if one of them was NaN, as in Keras' running mean) and the latest ``lr``.

A run that logs no ``val_loss`` has no epochs, so a callback can only watch ``train_loss`` and each
logged train point counts as one evaluation. While streaming, nobody knows whether ``val_loss`` will
come, so :meth:`EpochLogs.push` gives both views and detectors follow the per-point view only until
the first ``val_loss`` point arrives (:attr:`EpochLogs.val_seen`).

>>> logs = EpochLogs()
>>> logs.push(0, {"train_loss": 2.0}).epoch is None
True
>>> logs.push(1, {"train_loss": 1.0, "val_loss": 1.5, "lr": 0.1}).epoch
EpochLog(step=1, index=0, val=1.5, train=1.5, lr=0.1)

:class:`CallbackDetector` is the skeleton the callback baselines (``keras``, ``torch-plateau``,
``sagemaker``, ``umlaut``) share: feed each step to the logs, let the callbacks observe, and
rebuild the verdict only when one of them says something changed.
"""

from __future__ import annotations

from typing import Mapping, NamedTuple

from curvebench.detectors.base import Detector, Diagnosis
from curvebench.run import Run


class EpochLog(NamedTuple):
    """One evaluation: its step, its 0-based index, and the values a callback reads."""

    step: int
    index: int
    val: float | None
    train: float | None
    lr: float | None


class Pushed(NamedTuple):
    """What one logged step yields: a per-point log (if it logs ``train_loss``) and an epoch log (if ``val_loss``)."""

    point: EpochLog | None
    epoch: EpochLog | None


class EpochLogs:
    """Turns logged steps into per-point and per-epoch logs; O(1) per step."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """Forget everything seen so far."""
        self.val_seen = False
        self.points = 0
        self.epochs = 0
        self._lr: float | None = None
        self._train_sum = 0.0
        self._train_count = 0

    def push(self, step: int, metrics: Mapping[str, float]) -> Pushed:
        """Take one logged step (its channels by name)."""
        lr = metrics.get("lr")
        if lr is not None:
            self._lr = lr
        train = metrics.get("train_loss")
        point = None
        if train is not None:
            self._train_sum += train
            self._train_count += 1
            point = EpochLog(step, self.points, None, train, self._lr)
            self.points += 1
        val = metrics.get("val_loss")
        if val is None:
            return Pushed(point, None)
        mean = self._train_sum / self._train_count if self._train_count else None
        epoch = EpochLog(step, self.epochs, val, mean, self._lr)
        self.val_seen = True
        self.epochs += 1
        self._train_sum = 0.0
        self._train_count = 0
        return Pushed(point, epoch)


class CallbackDetector(Detector):
    """A detector made of per-evaluation callbacks; subclasses write ``_start``, ``_observe`` and ``_verdict``.

    ``update`` pushes the step into :class:`EpochLogs`, hands the per-point and per-epoch logs to
    ``_observe`` (which returns whether the verdict may have changed) and caches ``_verdict()``
    until it does: O(1) per step, and the verdict is rebuilt only on events.

    >>> class FirstEpoch(CallbackDetector):
    ...     def _start(self):
    ...         self._step = None
    ...     def _observe(self, step, metrics, point, epoch):
    ...         if epoch is None or self._step is not None:
    ...             return False
    ...         self._step = epoch.step
    ...         return True
    ...     def _verdict(self):
    ...         return Diagnosis.certain("healthy", evidence=[f"first epoch ends at {self._step}"])
    >>> from curvebench.run import Run
    >>> FirstEpoch().diagnose(Run.from_columns([0, 5], train_loss=[1.0, 0.9], val_loss=[None, 1.0])).evidence
    ['first epoch ends at 5']
    """

    def _reset(self) -> None:
        self._logs = EpochLogs()
        self._diagnosis: Diagnosis | None = None
        self._start()

    def _start(self) -> None:
        """Build the callbacks' running state."""
        raise NotImplementedError

    def _takes(self, step: int) -> bool:
        """Whether the callbacks see this step at all (default: every logged step)."""
        return True

    def _observe(self, step: int, metrics: Mapping[str, float], point: EpochLog | None,
                 epoch: EpochLog | None) -> bool:
        """Run the callbacks on one step's logs; ``True`` if the verdict may have changed."""
        raise NotImplementedError

    def _verdict(self) -> Diagnosis:
        """The verdict from the callbacks' current state."""
        raise NotImplementedError

    def update(self, step: int, **metrics: float) -> Diagnosis:
        """Take one logged step; return the verdict so far."""
        takes = self._takes(step)
        if not takes and self._diagnosis is not None:
            return self._diagnosis
        val_seen = self._logs.val_seen
        point, epoch = self._logs.push(step, metrics) if takes else (None, None)
        changed = self._observe(step, metrics, point, epoch) | (val_seen != self._logs.val_seen)
        if changed or self._diagnosis is None:
            self._diagnosis = self._verdict()
        return self._diagnosis

    def finish(self, diagnosis: Diagnosis | None, run: Run) -> Diagnosis:
        """The verdict once the run has ended: the last one (``insufficient_data`` for an empty run)."""
        return diagnosis if diagnosis is not None else self._verdict()

