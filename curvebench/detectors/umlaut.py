"""``umlaut``: the training-curve heuristics of UMLAUT (Schoop, Huang and Hartmann, CHI 2021).

UMLAUT ("UMLAUT: Debugging Deep Learning Programs using Program Structure and Model Behavior",
CHI 2021, doi:10.1145/3411764.3445538) is a Keras callback that runs expert heuristics at the end of
every epoch and lists each error it finds; training goes on. Its heuristics come from its code,
github.com/BerkeleyHCI/umlaut, ``umlaut/heuristics.py`` (re-written here, not copied). The three
that read the training curves, and the labels they map to:

==================  ==========================================================  ========
UMLAUT error        check at the end of an epoch                                label
==================  ==========================================================  ========
NaNInLossError      the epoch's training loss is NaN (``np.isnan``: inf is      lr_high
                    not flagged)
LRHighError         learning rate > ``lr_max`` = 0.01                           lr_high
LRLowError          learning rate < ``lr_min`` = 1e-7                           lr_low
OverfittingError    since the previous epoch, validation loss rose (> 0) while  overfit
                    training loss did not (<= 0): one epoch is enough
==================  ==========================================================  ========

Its other heuristics need what a curve log does not hold (the input array, the model's last layer,
accuracy), so they have no part here.

What an epoch is: each ``val_loss`` point ends one, and its training loss is the mean ``train_loss``
since the previous epoch end, NaN if one of them was NaN (see :mod:`curvebench.detectors.epoch_logs`).
A run without ``val_loss`` is read one train point per epoch, and OverfittingError abstains. The
learning rate is the latest ``lr`` logged; without an ``lr`` channel the range check abstains. Each
abstention is in the evidence.

``onset_step`` is the end of the epoch at which the first error was raised; that error names the
run (at one epoch: NaN, then learning rate, then overfitting) and every kind raised is in the
evidence. Known blind spots: a loss that plateaus or climbs without NaN raises nothing; the
learning-rate range is absolute, so the standard SGD rate 0.1 reads as lr_high. Fewer than 2 epochs
with no error is ``insufficient_data`` (the overfitting check compares two).

Examples
--------
>>> from curvebench.run import Run
>>> steps = [100, 200, 300, 400]
>>> run = Run.from_columns(steps, train_loss=[1.0, 0.8, 0.7, 0.6], val_loss=[1.1, 0.9, 0.95, 0.9],
...                        lr=[1e-3] * 4)
>>> verdict = UmlautDetector().diagnose(run)
>>> verdict.label, verdict.onset_step
('overfit', 300)
>>> verdict.evidence[0]
'OverfittingError at step 300: training loss changed by -0.1 while validation loss changed by +0.05'
"""

from __future__ import annotations

import math

from curvebench.detectors.base import Diagnosis
from curvebench.detectors.epoch_logs import CallbackDetector, EpochLog

_ORDER = ("NaNInLossError", "LRHighError", "LRLowError", "OverfittingError")
_LABELS = {"NaNInLossError": "lr_high", "LRHighError": "lr_high", "LRLowError": "lr_low", "OverfittingError": "overfit"}


class UmlautDetector(CallbackDetector):
    """UMLAUT's NaN, learning-rate-range and overfitting heuristics, once per epoch.

    Parameters
    ----------
    lr_max : a learning rate above this is LRHighError (UMLAUT: 0.01).
    lr_min : a learning rate below this is LRLowError (UMLAUT: 1e-7).
    """

    name = "umlaut"

    def __init__(self, *, lr_max: float = 0.01, lr_min: float = 1e-7) -> None:
        self.lr_max = lr_max
        self.lr_min = lr_min
        for name in ("lr_max", "lr_min"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0 <= value < math.inf:
                raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
        if not lr_min < lr_max:
            raise ValueError(f"lr_min must be < lr_max, got lr_min={lr_min!r}, lr_max={lr_max!r}")
        super().__init__()

    def _start(self) -> None:
        self._per_epoch = _Heuristics(self)
        self._per_point = _Heuristics(self)
        self._saw_lr = False

    def _observe(self, step, metrics, point, epoch) -> bool:
        changed = not self._saw_lr and "lr" in metrics
        self._saw_lr |= changed
        if point is not None:
            changed |= self._per_point.observe(point)
        if epoch is not None:
            changed |= self._per_epoch.observe(epoch)
        return changed

    def _verdict(self) -> Diagnosis:
        view = self._per_epoch if self._logs.val_seen else self._per_point
        notes = []
        if not self._logs.val_seen:
            notes.append("no val_loss logged: one epoch per train_loss point; OverfittingError abstains")
        if not self._saw_lr:
            notes.append("no lr logged: the learning-rate range check abstains")
        if view.errors:
            kind = min(view.errors, key=lambda k: (view.errors[k][0], _ORDER.index(k)))
            step = view.errors[kind][0]
            evidence = [view.errors[kind][1]] + [text for k, (_, text) in view.errors.items() if k != kind]
            return Diagnosis.certain(_LABELS[kind], onset_step=step, evidence=evidence + notes)
        if view.epochs < 2:
            diagnosis = Diagnosis.insufficient(view.epochs, 2)
            diagnosis.evidence = [f"only {view.epochs} epoch(s); the overfitting check compares 2", *notes]
            return diagnosis
        return Diagnosis.certain("healthy", evidence=["UMLAUT raised no error", *notes])


class _Heuristics:
    """The checks over one reading of the run (per epoch, or per train point); first error of each kind."""

    def __init__(self, detector: UmlautDetector) -> None:
        self.d = detector
        self.epochs = 0
        self.errors: dict[str, tuple[int, str]] = {}
        self._previous: EpochLog | None = None

    def observe(self, log: EpochLog) -> bool:
        """Run the heuristics at the end of one epoch; ``True`` if the verdict may have changed."""
        self.epochs += 1
        before = len(self.errors)
        step, train, lr = log.step, log.train, log.lr
        if train is not None and math.isnan(train):
            self._raise("NaNInLossError", step, f"NaNInLossError at step {step}: the epoch's training loss is NaN")
        if lr is not None and lr > self.d.lr_max:
            self._raise("LRHighError", step, f"LRHighError at step {step}: learning rate {lr:g} > {self.d.lr_max:g}")
        elif lr is not None and lr < self.d.lr_min:
            self._raise("LRLowError", step, f"LRLowError at step {step}: learning rate {lr:g} < {self.d.lr_min:g}")
        previous = self._previous
        if log.val is not None and previous is not None and train is not None and previous.train is not None:
            d_train, d_val = train - previous.train, log.val - previous.val
            if d_val > 0 and d_train <= 0:
                self._raise(
                    "OverfittingError",
                    step,
                    f"OverfittingError at step {step}: training loss changed by {d_train:+.2g} "
                    f"while validation loss changed by {d_val:+.2g}",
                )
        self._previous = log
        return len(self.errors) > before or self.epochs <= 2

    def _raise(self, kind: str, step: int, text: str) -> None:
        self.errors.setdefault(kind, (step, text))
