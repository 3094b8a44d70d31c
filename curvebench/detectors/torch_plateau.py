"""``torch-plateau``: PyTorch's ``ReduceLROnPlateau`` plus Lightning's ``EarlyStopping``, at their defaults.

The two stock "is training stuck?" tools of a PyTorch run, with the defaults of PyTorch 2.x and
Lightning 2.x (sources below); their rules are re-written here from the documentation:

- ``torch.optim.lr_scheduler.ReduceLROnPlateau(mode="min", factor=0.1, patience=10, threshold=1e-4,
  threshold_mode="rel", cooldown=0, min_lr=0, eps=1e-8)``: an evaluation is better when
  ``value < best * (1 - threshold)`` (relative mode) or ``value < best - threshold`` (absolute mode),
  ``best`` starting at +inf; any other evaluation is a bad epoch; the learning rate is cut when more
  than ``patience`` bad epochs have accumulated since the last better one (the ``patience + 1``-th).
  Only the first cut names a run, so ``cooldown`` (a pause after a cut) has no effect here, and
  ``factor``, ``min_lr`` and ``eps`` only change the run that follows; none of them is a parameter.
- ``lightning.pytorch.callbacks.EarlyStopping(monitor, min_delta=0.0, patience=3, mode="min",
  check_finite=True, stopping_threshold=None, divergence_threshold=None)``: at each validation check,
  in this order: a non-finite value stops (``check_finite``); a value below ``stopping_threshold``
  stops (goal reached); a value above ``divergence_threshold`` stops; a value below
  ``best - min_delta`` is an improvement and resets the wait count; anything else adds one to it and
  training stops when it reaches ``patience``.

The relative threshold makes "better" scale-free (a loss 1000 times larger needs a 1000 times larger
gain), where Keras' absolute ``min_delta`` does not; that is the point of having both baselines.

What an evaluation is: Lightning's ``monitor`` has no default; it is ``val_loss`` here, each
``val_loss`` point being one validation check (see :mod:`curvebench.detectors.epoch_logs`). A run
without ``val_loss`` is monitored on ``train_loss``, one evaluation per logged point, and the
evidence says so.

How the events map to labels (``onset_step`` = the step at which the event fires):

===============================================  ===========
event                                            label
===============================================  ===========
EarlyStopping ``check_finite`` (NaN/inf value)   lr_high
EarlyStopping ``divergence_threshold``           lr_high
EarlyStopping ``stopping_threshold``             healthy
EarlyStopping patience, val_loss above its best  overfit
while the epoch's train_loss fell since the
best check by ReduceLROnPlateau's threshold
EarlyStopping patience, otherwise                plateau
ReduceLROnPlateau (first cut)                    plateau
nothing fired                                    healthy
===============================================  ===========

A stop decides, since training ends there; a learning-rate cut names the run only if nothing stops
it later. Known blind spots: nothing here detects a learning rate that is too low (never
``lr_low``); at the default ``divergence_threshold=None`` a loss that climbs without becoming NaN
reads as a plateau; a NaN in ``train_loss`` is seen only through the monitored value. Fewer than
``1 + min(max(1, es_patience), rlr_patience + 1)`` evaluations, with no stop, is ``insufficient_data``.

Sources: https://docs.pytorch.org/docs/stable/generated/torch.optim.lr_scheduler.ReduceLROnPlateau.html ,
https://lightning.ai/docs/pytorch/stable/api/lightning.pytorch.callbacks.EarlyStopping.html ,
https://lightning.ai/docs/pytorch/stable/common/early_stopping.html .

Examples
--------
>>> from curvebench.run import Run
>>> steps = list(range(100, 800, 100))
>>> val = [1.0, 0.8, 0.7, 0.75, 0.8, 0.9, 1.0]
>>> train = [1.0, 0.8, 0.6, 0.5, 0.4, 0.3, 0.2]
>>> verdict = TorchPlateauDetector().diagnose(Run.from_columns(steps, train_loss=train, val_loss=val))
>>> verdict.label, verdict.onset_step
('overfit', 600)
"""

from __future__ import annotations

import math

from curvebench.detectors.base import Diagnosis
from curvebench.detectors.epoch_logs import CallbackDetector, EpochLog
from curvebench.detectors.parameters import is_real


class TorchPlateauDetector(CallbackDetector):
    """PyTorch ``ReduceLROnPlateau`` + Lightning ``EarlyStopping`` replayed on a run.

    Parameters
    ----------
    es_min_delta : EarlyStopping's ``min_delta`` (absolute, >= 0).
    es_patience : EarlyStopping's ``patience``, in validation checks.
    check_finite : EarlyStopping stops on a non-finite monitored value.
    stopping_threshold : EarlyStopping stops once the value is below this (``None``: off).
    divergence_threshold : EarlyStopping stops once the value is above this (``None``: off).
    rlr_threshold : ReduceLROnPlateau's ``threshold`` (>= 0).
    rlr_threshold_mode : ``"rel"`` or ``"abs"``.
    rlr_patience : ReduceLROnPlateau's ``patience``, in evaluations.
    """

    name = "torch-plateau"

    def __init__(
        self,
        *,
        es_min_delta: float = 0.0,
        es_patience: int = 3,
        check_finite: bool = True,
        stopping_threshold: float | None = None,
        divergence_threshold: float | None = None,
        rlr_threshold: float = 1e-4,
        rlr_threshold_mode: str = "rel",
        rlr_patience: int = 10,
    ) -> None:
        self.es_min_delta = es_min_delta
        self.es_patience = es_patience
        self.check_finite = check_finite
        self.stopping_threshold = stopping_threshold
        self.divergence_threshold = divergence_threshold
        self.rlr_threshold = rlr_threshold
        self.rlr_threshold_mode = rlr_threshold_mode
        self.rlr_patience = rlr_patience
        for name in ("es_min_delta", "rlr_threshold"):
            value = getattr(self, name)
            if not is_real(value) or not 0 <= value < math.inf:
                raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
        for name in ("stopping_threshold", "divergence_threshold"):
            value = getattr(self, name)
            if value is not None and (not is_real(value) or math.isinf(value)):
                raise ValueError(f"{name} must be None or a finite number, got {value!r}")
        for name in ("es_patience", "rlr_patience"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ValueError(f"{name} must be an int >= 0, got {value!r}")
        if not isinstance(check_finite, bool):
            raise ValueError(f"check_finite must be a bool, got {check_finite!r}")
        if rlr_threshold_mode not in ("rel", "abs"):
            raise ValueError(f"rlr_threshold_mode must be 'rel' or 'abs', got {rlr_threshold_mode!r}")
        super().__init__()

    @property
    def min_evaluations(self) -> int:
        """Fewest evaluations at which a patience rule could fire (fewer: ``insufficient_data``)."""
        return 1 + min(max(1, self.es_patience), self.rlr_patience + 1)

    def _start(self) -> None:
        self._on_val = _Callbacks(self, "val_loss")
        self._on_train = _Callbacks(self, "train_loss")

    def _observe(self, step, metrics, point, epoch) -> bool:
        changed = point is not None and self._on_train.observe(point, point.train)
        if epoch is not None:
            changed |= self._on_val.observe(epoch, epoch.val)
        return changed

    def _verdict(self) -> Diagnosis:
        watch = self._on_val if self._logs.val_seen else self._on_train
        notes = [] if self._logs.val_seen else ["no val_loss logged: both monitor train_loss, one evaluation per point"]
        if watch.stop is not None:
            label, step, evidence = watch.stop
            onset = None if label == "healthy" else step
            return Diagnosis.certain(label, onset_step=onset, evidence=[evidence, *notes])
        if watch.cut is not None:
            step, evidence = watch.cut
            return Diagnosis.certain("plateau", onset_step=step, evidence=[evidence, *notes])
        if watch.evaluations < self.min_evaluations:
            diagnosis = Diagnosis.insufficient(watch.evaluations, self.min_evaluations)
            diagnosis.evidence = [
                f"only {watch.evaluations} evaluations of {watch.channel}; "
                f"a patience rule needs {self.min_evaluations}",
                *notes,
            ]
            return diagnosis
        return Diagnosis.certain("healthy", evidence=[f"neither tool fired on {watch.channel}", *notes])


class _Callbacks:
    """Lightning EarlyStopping and torch ReduceLROnPlateau watching one channel."""

    def __init__(self, detector: TorchPlateauDetector, channel: str) -> None:
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
        self._bad_epochs = 0

    def observe(self, log: EpochLog, value: float) -> bool:
        """Run both tools at the end of one evaluation; ``True`` if the verdict may have changed."""
        if self.stop is not None:
            return False
        self.evaluations += 1
        changed = self.evaluations <= self.d.min_evaluations
        changed |= self._early_stopping(log, value)
        if self.cut is None:
            changed |= self._reduce_lr(log, value)
        return changed

    def _early_stopping(self, log: EpochLog, value: float) -> bool:
        d = self.d
        where = f"EarlyStopping stops at step {log.step}: {self.channel} {value:.4g}"
        if d.check_finite and not math.isfinite(value):
            self.stop = ("lr_high", log.step, f"{where} is not finite (check_finite)")
        elif d.stopping_threshold is not None and value < d.stopping_threshold:
            self.stop = ("healthy", log.step, f"{where} < stopping_threshold={d.stopping_threshold:g}")
        elif d.divergence_threshold is not None and value > d.divergence_threshold:
            self.stop = ("lr_high", log.step, f"{where} > divergence_threshold={d.divergence_threshold:g}")
        elif value + d.es_min_delta < self._es_best:
            self._es_best, self._best_step, self._train_at_best = value, log.step, log.train
            self._es_wait = 0
        else:
            self._es_wait += 1
            if self._es_wait >= d.es_patience:
                self.stop = self._patience_stop(log, value, where)
        return self.stop is not None

    def _patience_stop(self, log: EpochLog, value: float, where: str) -> tuple[str, int, str]:
        said = (
            f"{where}, no improvement over min_delta={self.d.es_min_delta:g} in {self._es_wait} checks "
            f"(best {self._es_best:.4g} at step {self._best_step})"
        )
        if self.channel == "val_loss" and value > self._es_best and self._train_fell(log.train):
            fell = f"while the epoch's train_loss fell from {self._train_at_best:.4g} to {log.train:.4g}"
            return "overfit", log.step, f"{said}, {fell}"
        if not math.isfinite(value):
            return "lr_high", log.step, said
        return "plateau", log.step, said

    def _train_fell(self, train: float | None) -> bool:
        """Whether the epoch's train_loss is better than at the best check, by ReduceLROnPlateau's test."""
        at_best = self._train_at_best
        return at_best is not None and train is not None and self._better(train, at_best)

    def _better(self, value: float, reference: float) -> bool:
        """PyTorch's ``is_better`` in min mode: below ``reference`` by the relative or absolute threshold."""
        if self.d.rlr_threshold_mode == "rel":
            return value < reference * (1 - self.d.rlr_threshold)
        return value < reference - self.d.rlr_threshold

    def _reduce_lr(self, log: EpochLog, value: float) -> bool:
        d = self.d
        if self._better(value, self._rlr_best):
            self._rlr_best = value
            self._bad_epochs = 0
        else:
            self._bad_epochs += 1
        if self._bad_epochs <= d.rlr_patience:
            return False
        self.cut = (
            log.step,
            f"ReduceLROnPlateau(threshold={d.rlr_threshold:g}, threshold_mode={d.rlr_threshold_mode!r}, "
            f"patience={d.rlr_patience}) cuts the learning rate at step {log.step}: {self.channel} {value:.4g}, "
            f"best {self._rlr_best:.4g}",
        )
        return True

