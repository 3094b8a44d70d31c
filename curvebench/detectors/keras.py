"""``keras``: what Keras' stock callbacks would have done on the run, at their default settings.

Three callbacks, with the defaults of ``tf.keras`` 2.13 / Keras 3 (sources below); their rules are
re-written here from the documentation and behaviour, not copied:

- ``TerminateOnNaN()``: stops at the first batch whose loss is NaN or inf.
- ``EarlyStopping(monitor="val_loss", min_delta=0, patience=0, mode="auto")``: an evaluation improves
  when ``value < best - min_delta`` (absolute ``min_delta``; ``best`` starts at +inf); each other
  evaluation adds one to a wait counter that an improvement resets; training stops when the counter
  reaches ``patience``, never at the first evaluation. With ``patience=0`` it stops at the first
  evaluation that does not improve.
- ``ReduceLROnPlateau(monitor="val_loss", factor=0.1, patience=10, min_delta=1e-4, cooldown=0,
  min_lr=0)``: same absolute test; after ``patience`` evaluations without improvement it cuts the
  learning rate. Only the first cut names a run, so ``cooldown`` (a pause after a cut) has no effect
  here, and ``factor`` and ``min_lr`` only change the run that follows, which a replay cannot change;
  none of the three is a parameter here.

What an evaluation is: the callbacks run once per epoch on the monitored quantity. Each ``val_loss``
point is one evaluation (see :mod:`curvebench.detectors.epoch_logs`), with the epoch's mean
``train_loss`` beside it. A run without ``val_loss`` has nothing for ``monitor="val_loss"``; the
detector then monitors ``train_loss`` with one evaluation per logged point, and says so.

How the events map to labels (``onset_step`` = the step at which the event fires):

=============================================  ===========
event                                          label
=============================================  ===========
TerminateOnNaN (first non-finite train_loss)   lr_high
EarlyStopping, monitored value non-finite      lr_high
EarlyStopping, val_loss above its best while   overfit
the epoch's train_loss fell by more than
``rlr_min_delta`` since the best evaluation
EarlyStopping, otherwise                       plateau
ReduceLROnPlateau (first cut)                  plateau
nothing fired                                  healthy
=============================================  ===========

"Fell" uses ReduceLROnPlateau's ``min_delta``, Keras' own threshold for a significant change, so a
train loss that only drifts reads as a plateau. The first stopping event (TerminateOnNaN,
EarlyStopping) decides, since training ends there; a learning-rate cut only names the run if
nothing stops it later. Known blind spots: Keras has no rule for a learning rate that is too low
(this detector never says ``lr_low``) and none for a loss that climbs without becoming NaN (it
reads as a plateau). Fewer than ``1 + max(1, min(es_patience, rlr_patience))`` evaluations, with no
NaN, is ``insufficient_data``: no callback could have fired.

Sources: https://keras.io/api/callbacks/early_stopping/ ,
https://keras.io/api/callbacks/reduce_lr_on_plateau/ , https://keras.io/api/callbacks/terminate_on_nan/ ,
https://www.tensorflow.org/versions/r2.13/api_docs/python/tf/keras/callbacks/EarlyStopping .

Examples
--------
>>> from curvebench.run import Run
>>> steps = list(range(0, 60, 10))
>>> val = [1.0, 0.8, 0.7, 0.75, 0.9, 1.0]
>>> train = [1.0, 0.8, 0.6, 0.5, 0.4, 0.3]
>>> verdict = KerasDetector().diagnose(Run.from_columns(steps, train_loss=train, val_loss=val))
>>> verdict.label, verdict.onset_step
('overfit', 30)
>>> KerasDetector().diagnose(Run.from_columns([0], train_loss=[1.0], val_loss=[1.0])).label
'insufficient_data'
"""

from __future__ import annotations

import math

from curvebench.detectors.base import Diagnosis
from curvebench.detectors.epoch_logs import CallbackDetector, EpochLog
from curvebench.detectors.parameters import is_real


class KerasDetector(CallbackDetector):
    """Keras' ``TerminateOnNaN`` + ``EarlyStopping`` + ``ReduceLROnPlateau`` replayed on a run.

    Parameters
    ----------
    es_min_delta : EarlyStopping's ``min_delta`` (absolute, >= 0).
    es_patience : EarlyStopping's ``patience``, in evaluations.
    rlr_min_delta : ReduceLROnPlateau's ``min_delta`` (absolute, >= 0).
    rlr_patience : ReduceLROnPlateau's ``patience``, in evaluations.
    terminate_on_nan : whether ``TerminateOnNaN`` is in the callback list.
    """

    name = "keras"

    def __init__(
        self,
        *,
        es_min_delta: float = 0.0,
        es_patience: int = 0,
        rlr_min_delta: float = 1e-4,
        rlr_patience: int = 10,
        terminate_on_nan: bool = True,
    ) -> None:
        self.es_min_delta = es_min_delta
        self.es_patience = es_patience
        self.rlr_min_delta = rlr_min_delta
        self.rlr_patience = rlr_patience
        self.terminate_on_nan = terminate_on_nan
        for name in ("es_min_delta", "rlr_min_delta"):
            value = getattr(self, name)
            if not is_real(value) or not 0 <= value < math.inf:
                raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
        for name in ("es_patience", "rlr_patience"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ValueError(f"{name} must be an int >= 0, got {value!r}")
        if not isinstance(terminate_on_nan, bool):
            raise ValueError(f"terminate_on_nan must be a bool, got {terminate_on_nan!r}")
        super().__init__()

    @property
    def min_evaluations(self) -> int:
        """Fewest evaluations at which a callback could fire (fewer: ``insufficient_data``)."""
        return 1 + max(1, min(self.es_patience, self.rlr_patience))

    def _start(self) -> None:
        self._on_val = _Callbacks(self, "val_loss")
        self._on_train = _Callbacks(self, "train_loss")
        self._nan: tuple[int, str] | None = None

    def _observe(self, step, metrics, point, epoch) -> bool:
        changed = False
        if point is not None:
            if self.terminate_on_nan and self._nan is None and not math.isfinite(point.train):
                self._nan = (step, f"TerminateOnNaN: train_loss is {point.train} at step {step}")
                changed = True
            changed |= self._on_train.observe(point, point.train)
        if epoch is not None:
            changed |= self._on_val.observe(epoch, epoch.val)
        return changed

    def _verdict(self) -> Diagnosis:
        watch = self._on_val if self._logs.val_seen else self._on_train
        notes = []
        if not self._logs.val_seen:
            notes.append("no val_loss logged: callbacks monitor train_loss, one evaluation per point")
        stop = watch.stop
        if self._nan is not None and (stop is None or self._nan[0] <= stop[1]):
            return Diagnosis.certain("lr_high", onset_step=self._nan[0], evidence=[self._nan[1], *notes])
        if stop is not None:
            label, step, evidence = stop
            return Diagnosis.certain(label, onset_step=step, evidence=[evidence, *notes])
        if watch.cut is not None:
            step, evidence = watch.cut
            return Diagnosis.certain("plateau", onset_step=step, evidence=[evidence, *notes])
        if watch.evaluations < self.min_evaluations:
            diagnosis = Diagnosis.insufficient(watch.evaluations, self.min_evaluations)
            diagnosis.evidence = [
                f"only {watch.evaluations} evaluations of {watch.channel}; a callback needs {self.min_evaluations}",
                *notes,
            ]
            return diagnosis
        return Diagnosis.certain("healthy", evidence=[f"no callback fired on {watch.channel}", *notes])


class _Callbacks:
    """EarlyStopping and ReduceLROnPlateau watching one channel, one evaluation at a time."""

    def __init__(self, detector: KerasDetector, channel: str) -> None:
        self.d = detector
        self.channel = channel
        self.evaluations = 0
        self.stop: tuple[str, int, str] | None = None
        self.cut: tuple[int, str] | None = None
        self._es_best = math.inf
        self._es_wait = 0
        self._train_at_best: float | None = None
        self._best_step: int | None = None
        self._rlr_best = math.inf
        self._rlr_wait = 0

    def observe(self, log: EpochLog, value: float) -> bool:
        """Run both callbacks at the end of one evaluation; ``True`` if the verdict may have changed."""
        if self.stop is not None:
            return False
        first = self.evaluations == 0
        self.evaluations += 1
        changed = self.evaluations <= self.d.min_evaluations
        changed |= self._early_stopping(log, value, first)
        if self.cut is None:
            changed |= self._reduce_lr(log, value)
        return changed

    def _early_stopping(self, log: EpochLog, value: float, first: bool) -> bool:
        self._es_wait += 1
        if value + self.d.es_min_delta < self._es_best:
            self._es_best, self._best_step, self._train_at_best = value, log.step, log.train
            self._es_wait = 0
            return False
        if first or self._es_wait < self.d.es_patience:
            return False
        said = (
            f"EarlyStopping(min_delta={self.d.es_min_delta:g}, patience={self.d.es_patience}) stops at step "
            f"{log.step}: {self.channel} {value:.4g}, best {self._es_best:.4g} at step {self._best_step}"
        )
        if not math.isfinite(value):
            label = "lr_high"
        elif self.channel == "val_loss" and value > self._es_best and self._train_fell(log.train):
            label = "overfit"
            said += f", while the epoch's train_loss fell from {self._train_at_best:.4g} to {log.train:.4g}"
        else:
            label = "plateau"
        self.stop = (label, log.step, said)
        return True

    def _train_fell(self, train: float | None) -> bool:
        """Whether the epoch's train_loss is below its value at the best evaluation by more than ``rlr_min_delta``."""
        at_best = self._train_at_best
        return at_best is not None and train is not None and train < at_best - self.d.rlr_min_delta

    def _reduce_lr(self, log: EpochLog, value: float) -> bool:
        if value < self._rlr_best - self.d.rlr_min_delta:
            self._rlr_best = value
            self._rlr_wait = 0
            return False
        self._rlr_wait += 1
        if self._rlr_wait < self.d.rlr_patience:
            return False
        self.cut = (
            log.step,
            f"ReduceLROnPlateau(min_delta={self.d.rlr_min_delta:g}, patience={self.d.rlr_patience}) cuts the "
            f"learning rate at step {log.step}: {self.channel} {value:.4g}, best {self._rlr_best:.4g}",
        )
        return True

