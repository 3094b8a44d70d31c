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
"""

from __future__ import annotations

from typing import Mapping, NamedTuple


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
