"""``sagemaker``: SageMaker Debugger's built-in rules LossNotDecreasing, Overfit and Overtraining.

The three loss rules of Amazon SageMaker Debugger, with their documented default parameters
(source below; the rules run in AWS containers whose code is not published, so they are re-written
here from the parameter descriptions):

- **LossNotDecreasing** (``num_steps=10``, ``diff_percent=0.0``, ``mode=None``): every ``num_steps``
  steps it compares the loss with the newest saved loss at least ``num_steps`` steps earlier, and
  fires if the loss did not decrease by more than ``diff_percent`` percent of it. The next check is
  at the first saved step at least ``num_steps`` after this one. With no ``mode`` it reads the EVAL
  losses if there are any, else the TRAIN ones: ``val_loss`` if the run logs it, else ``train_loss``.
- **Overfit** (``start_step=0``, ``patience=1``, ``ratio_threshold=0.1``): at each step from
  ``start_step`` with both losses, the ratio ``(val - train) / train``; it fires once the ratio has
  exceeded ``ratio_threshold`` at ``patience`` consecutive steps. Here a step with both losses is
  a ``val_loss`` point, and ``train`` is the mean ``train_loss`` since the previous one (see
  :mod:`curvebench.detectors.epoch_logs`); a step whose ``train`` is not a positive finite number
  has no ratio and is skipped. Without ``val_loss`` the rule abstains.
- **Overtraining** (``patience_train=5``, ``patience_validation=10``, ``delta=0.1``): a loss improves
  when it falls more than ``delta`` (absolute) below its best; the rule fires when ``train_loss`` has
  not improved for ``patience_train`` saved steps in a row, or ``val_loss`` for
  ``patience_validation`` validation points in a row.

Saved steps: the rules see only the losses the Debugger hook saved. SageMaker's hook saves them
every 500 steps by default; a curvebench run is already a log at its own interval, so by default
(``save_interval=1``) every logged point counts as saved; ``save_interval=500`` replays SageMaker's
hook default (only steps that are multiples of it are seen). ``num_steps`` counts steps, the
patiences count saved points.

How the rules map to labels (``onset_step`` = the step at which a rule first fires; the earliest
firing rule names the run, the others are listed in the evidence):

=====================================================  ===========
rule firing                                            label
=====================================================  ===========
any rule, on a non-finite loss                         lr_high
LossNotDecreasing                                      plateau
Overfit                                                overfit
Overtraining on val_loss, val_loss above its best      overfit
while the epoch's train_loss fell by more than
``delta`` since the best val_loss point
Overtraining, otherwise                                plateau
nothing fired                                          healthy
=====================================================  ===========

Known blind spots: no rule here says ``lr_low`` (never); a loss that climbs without becoming NaN
reads as a plateau. Until LossNotDecreasing has made its first comparison (two saved losses
``num_steps`` steps apart), a run with nothing fired is ``insufficient_data``.

Source: https://docs.aws.amazon.com/sagemaker/latest/dg/debugger-built-in-rules.html (the
LossNotDecreasing, Overfit and Overtraining sections; in the SageMaker developer guide source,
github.com/awsdocs/amazon-sagemaker-developer-guide, doc_source/debugger-built-in-rules.md).

Examples
--------
>>> from curvebench.run import Run
>>> steps = list(range(0, 50, 5))
>>> train = [2.0, 1.5, 1.2, 1.1, 1.05, 1.0, 0.99, 0.98, 0.97, 0.96]
>>> verdict = SageMakerDetector().diagnose(Run.from_columns(steps, train_loss=train))
>>> verdict.label, verdict.onset_step
('plateau', 45)
>>> verdict.evidence[0]
'Overtraining: train_loss did not improve by more than delta=0.1 for 5 saved steps (best 1.05 at step 20), at step 45'
"""

from __future__ import annotations

import math
from collections import deque

from curvebench.detectors.base import Diagnosis
from curvebench.detectors.epoch_logs import CallbackDetector, EpochLog
from curvebench.detectors.parameters import is_int, is_real, require

_Event = tuple[str, int, str]
"""A rule firing: label, step, evidence."""


class SageMakerDetector(CallbackDetector):
    """SageMaker Debugger's LossNotDecreasing, Overfit and Overtraining rules replayed on a run.

    Parameters (each rule's own names and defaults)
    ----------
    num_steps : LossNotDecreasing's step distance between compared losses (>= 1).
    diff_percent : LossNotDecreasing's minimum decrease, in percent, in [0, 100).
    start_step : Overfit compares losses from this step on.
    patience : Overfit's consecutive steps above ``ratio_threshold`` (>= 1).
    ratio_threshold : Overfit's largest allowed ``(val - train) / train`` (>= 0).
    patience_train : Overtraining's saved steps without train improvement (>= 1).
    patience_validation : Overtraining's validation points without val improvement (>= 1).
    delta : Overtraining's minimum improvement (absolute, >= 0).
    save_interval : the hook saves steps that are multiples of this (SageMaker's default: 500).
    """

    name = "sagemaker"

    def __init__(
        self,
        *,
        num_steps: int = 10,
        diff_percent: float = 0.0,
        start_step: int = 0,
        patience: int = 1,
        ratio_threshold: float = 0.1,
        patience_train: int = 5,
        patience_validation: int = 10,
        delta: float = 0.1,
        save_interval: int = 1,
    ) -> None:
        self.num_steps = num_steps
        self.diff_percent = diff_percent
        self.start_step = start_step
        self.patience = patience
        self.ratio_threshold = ratio_threshold
        self.patience_train = patience_train
        self.patience_validation = patience_validation
        self.delta = delta
        self.save_interval = save_interval
        for name in ("num_steps", "patience", "patience_train", "patience_validation", "save_interval"):
            value = getattr(self, name)
            require(name, value, is_int(value) and value >= 1, "an int >= 1")
        require("start_step", start_step, is_int(start_step), "an int")
        require("diff_percent", diff_percent, is_real(diff_percent) and 0 <= diff_percent < 100, "in [0, 100)")
        for name in ("ratio_threshold", "delta"):
            value = getattr(self, name)
            require(name, value, is_real(value) and 0 <= value < math.inf, "a finite number >= 0")
        super().__init__()

    def _start(self) -> None:
        self._lnd_val = _LossNotDecreasing(self, "val_loss")
        self._lnd_train = _LossNotDecreasing(self, "train_loss")
        self._overfit = _Overfit(self)
        self._ot_train = _Overtraining(self.patience_train, self.delta, "train_loss", "saved steps")
        self._ot_val = _Overtraining(self.patience_validation, self.delta, "val_loss", "validation points")

    def _takes(self, step: int) -> bool:
        """Rules only see the steps the debugger saves (every ``save_interval``-th)."""
        return step % self.save_interval == 0

    def _observe(self, step, metrics, point, epoch) -> bool:
        changed = False
        if point is not None:
            changed |= self._lnd_train.observe(step, point.train)
            changed |= self._ot_train.observe(point)
        if epoch is not None:
            changed |= self._lnd_val.observe(step, epoch.val)
            changed |= self._overfit.observe(epoch)
            changed |= self._ot_val.observe(epoch)
        return changed

    def _verdict(self) -> Diagnosis:
        lnd = self._lnd_val if self._logs.val_seen else self._lnd_train
        fired = (lnd.fired, self._overfit.fired, self._ot_train.fired, self._ot_val.fired)
        events = sorted((e for e in fired if e is not None), key=lambda event: event[1])
        notes = [
            f"LossNotDecreasing reads {lnd.channel}",
            *([] if self._logs.val_seen else ["no val_loss logged: Overfit and Overtraining on val_loss abstain"]),
        ]
        if events:
            label, step, _ = events[0]
            return Diagnosis.certain(label, onset_step=step, evidence=[e[2] for e in events] + notes)
        if lnd.checks == 0:
            diagnosis = Diagnosis.insufficient(lnd.points, 2)
            diagnosis.evidence = [
                f"LossNotDecreasing has not compared yet: it needs two saved {lnd.channel} values "
                f"at least num_steps={self.num_steps} steps apart",
                *notes,
            ]
            return diagnosis
        return Diagnosis.certain("healthy", evidence=["no rule found an issue", *notes])


class _LossNotDecreasing:
    """Every ``num_steps`` steps: did the loss fall below the newest one ``num_steps`` steps back?"""

    def __init__(self, detector: SageMakerDetector, channel: str) -> None:
        self.d = detector
        self.channel = channel
        self.points = 0
        self.checks = 0
        self.fired: _Event | None = None
        self._saved: deque[tuple[int, float]] = deque()
        self._next_check: int | None = None

    def observe(self, step: int, loss: float) -> bool:
        """Take one saved loss; ``True`` if the verdict may have changed."""
        if self.fired is not None:
            return False
        self.points += 1
        saved = self._saved
        saved.append((step, loss))
        horizon = step - self.d.num_steps
        while len(saved) > 1 and saved[1][0] <= horizon:
            saved.popleft()
        if saved[0][0] > horizon or (self._next_check is not None and step < self._next_check):
            return False
        then_step, then = saved[0]
        self.checks += 1
        self._next_check = step + self.d.num_steps
        if then - loss > abs(then) * self.d.diff_percent / 100:
            return self.checks == 1
        label = "plateau" if math.isfinite(loss) else "lr_high"
        self.fired = (
            label,
            step,
            f"LossNotDecreasing: {self.channel} {loss:.4g} at step {step} did not fall "
            f"{self.d.diff_percent:g}% below {then:.4g} at step {then_step}",
        )
        return True


class _Overfit:
    """``(val - train) / train`` above ``ratio_threshold`` at ``patience`` validation points in a row."""

    def __init__(self, detector: SageMakerDetector) -> None:
        self.d = detector
        self.fired: _Event | None = None
        self._count = 0

    def observe(self, log: EpochLog) -> bool:
        """Take one validation point; ``True`` if the rule fired."""
        d = self.d
        train = log.train
        if self.fired is not None or log.step < d.start_step or train is None or not 0 < train < math.inf:
            return False
        ratio = (log.val - train) / train
        self._count = self._count + 1 if ratio > d.ratio_threshold else 0
        if self._count < d.patience:
            return False
        self.fired = (
            "overfit" if math.isfinite(log.val) else "lr_high",
            log.step,
            f"Overfit: (val_loss - train_loss) / train_loss = {ratio:.3g} > ratio_threshold={d.ratio_threshold:g} "
            f"at {self._count} validation point(s) in a row, at step {log.step}",
        )
        return True


class _Overtraining:
    """One half of Overtraining: a loss that has not improved by ``delta`` for ``patience`` points."""

    def __init__(self, patience: int, delta: float, channel: str, unit: str) -> None:
        self.patience = patience
        self.delta = delta
        self.channel = channel
        self.unit = unit
        self.fired: _Event | None = None
        self._best = math.inf
        self._best_step: int | None = None
        self._train_at_best: float | None = None
        self._wait = 0

    def observe(self, log: EpochLog) -> bool:
        """Take one point of the channel; ``True`` if the rule fired."""
        if self.fired is not None:
            return False
        value = log.val if self.channel == "val_loss" else log.train
        if value < self._best - self.delta:
            self._best, self._best_step, self._train_at_best = value, log.step, log.train
            self._wait = 0
            return False
        self._wait += 1
        if self._wait < self.patience:
            return False
        said = (
            f"Overtraining: {self.channel} did not improve by more than delta={self.delta:g} for {self._wait} "
            f"{self.unit} (best {self._best:.4g} at step {self._best_step}), at step {log.step}"
        )
        at_best = self._train_at_best
        train_fell = at_best is not None and log.train is not None and log.train < at_best - self.delta
        if not math.isfinite(value):
            label = "lr_high"
        elif self.channel == "val_loss" and value > self._best and train_fell:
            label = "overfit"
        else:
            label = "plateau"
        self.fired = (label, log.step, said)
        return True

