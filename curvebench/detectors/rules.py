"""``rules``: the baseline detector, a handful of documented thresholds checked as the run streams in.

The rules, in the order they take precedence (the first that fires names the run):

1. **lr_high** (sticky once raised): a non-finite ``train_loss`` or ``val_loss``; a ``grad_norm`` above
   ``grad_norm_max`` or non-finite. Then, while it holds: the smoothed train loss ``rise_tol`` above the
   lowest level it reached (or its start), or wild oscillation (typical |second difference| above
   ``jitter_max`` of the level) while the loss is not clearly falling (flat, or less than ``lr_low_drop``
   below its start). A run whose loss climbed ``rise_tol`` above its *start* and then went flat stays
   lr_high: a step too large that kills ReLUs or saturates units leaves a stalled loss behind it, and
   the stall is the symptom, not the cause (rules 3 and 4 would otherwise name it). Only a loss that
   falls again clears it.
2. **overfit**: smoothed ``val_loss`` ``overfit_rise`` above its minimum while the train loss fell at
   least ``overfit_train_fall`` since that minimum. More specific than a flat train loss, so it wins.
3. **plateau**: no decrease over the last window (less than ``plateau_tol``) after the loss already fell
   ``lr_low_drop`` from its start ("fast drop, then flat"); or ``grad_norm`` below ``grad_norm_tiny``
   while the loss is not clearly falling (stuck, whatever the drop).
4. **lr_low**: the loss fell less than ``lr_low_drop`` from its start ("barely moves"), flat or slowly
   declining; without a gradient norm, flat-at-start counts here, not as a plateau.
5. **healthy** otherwise.

How it reads a stream. Finite train losses go into a bounded profile of at most 256 equal blocks of
consecutive points (block means of the loss and of its |second difference|); when it fills up,
neighbouring blocks merge, so memory is bounded and each step costs O(1) amortized. The rules run each
time a block completes. The run length is unknown while streaming, so the *window* is a fraction
(``window``) of the points seen so far, at least ``min_window`` points, and a window's *level* is the
median of its block means (robust to the loss spikes of real runs): "flat" means the level of the last
window is less than ``plateau_tol`` below the level of the window before it. The start is the first
finite train loss. Every test is relative to the loss level (a positive loss is assumed), so scaling the
loss changes no verdict. ``val_loss`` is smoothed by the median of its last ``min_val_points`` values.

``onset_step`` is the first step at which the detector raised the label it ends with.

Examples
--------
>>> import numpy as np
>>> from curvebench.run import Run
>>> rng = np.random.default_rng(0)
>>> loss = 0.3 + 2.0 * np.exp(-np.arange(300) / 80) * rng.lognormal(0, 0.03, 300)
>>> RulesDetector().diagnose(Run.from_columns(np.arange(300), train_loss=loss)).label
'healthy'
>>> loss[200:] = np.nan
>>> diagnosis = RulesDetector().diagnose(Run.from_columns(np.arange(300), train_loss=loss))
>>> diagnosis.label, diagnosis.onset_step, diagnosis.evidence[0]
('lr_high', 200, 'train_loss non-finite (nan) at step 200')
"""

from __future__ import annotations

import math
import statistics
from collections import deque
from dataclasses import dataclass

from curvebench.detectors.base import Detector, Diagnosis
from curvebench.detectors.parameters import is_int, is_real, require
from curvebench.run import Run

_HISTORY = 256
"""Most blocks the train-loss profile keeps; when full, neighbouring blocks merge."""


class RulesDetector(Detector):
    """Threshold rules from the usual debugging checklists; a simple, honest baseline.

    Parameters
    ----------
    min_points : fewer finite train-loss points than this give ``insufficient_data`` (at least
        ``2 * min_window``: the first check compares two windows).
    grad_norm_max : a gradient norm above this is an explosion (lr_high).
    grad_norm_tiny : a gradient norm below this over the last ``min_window`` logged values is vanishing.
    window : the trend window as a fraction of the points seen so far, in (0, 0.5].
    min_window : the trend window is at least this many points.
    plateau_tol : a relative decrease below this over the last window counts as flat.
    lr_low_drop : a total relative decrease from the start below this is "barely moves".
    rise_tol : the smoothed train loss this far (relative) above its lowest level is lr_high.
    jitter_max : a typical |second difference| above this fraction of the level, while the loss is not
        clearly falling, is lr_high (oscillation).
    overfit_rise : smoothed val_loss this far (relative) above its minimum is overfitting ...
    overfit_train_fall : ... if the train loss fell at least this much (relative) since that minimum.
    min_val_points : val_loss is smoothed by the median of this many latest values (the overfit rule
        waits for that many).
    """

    name = "rules"

    def __init__(
        self,
        *,
        min_points: int = 10,
        grad_norm_max: float = 100.0,
        grad_norm_tiny: float = 1e-6,
        window: float = 0.25,
        min_window: int = 5,
        plateau_tol: float = 0.01,
        lr_low_drop: float = 0.25,
        rise_tol: float = 0.2,
        jitter_max: float = 0.3,
        overfit_rise: float = 0.1,
        overfit_train_fall: float = 0.01,
        min_val_points: int = 3,
    ) -> None:
        self.min_points = min_points
        self.grad_norm_max = grad_norm_max
        self.grad_norm_tiny = grad_norm_tiny
        self.window = window
        self.min_window = min_window
        self.plateau_tol = plateau_tol
        self.lr_low_drop = lr_low_drop
        self.rise_tol = rise_tol
        self.jitter_max = jitter_max
        self.overfit_rise = overfit_rise
        self.overfit_train_fall = overfit_train_fall
        self.min_val_points = min_val_points
        self._validate()
        super().__init__()

    def _validate(self) -> None:
        for name in ("min_window", "min_val_points"):
            value = getattr(self, name)
            require(name, value, is_int(value) and value >= 1, "an int >= 1")
        require(
            "min_points",
            self.min_points,
            is_int(self.min_points) and self.min_points >= 2 * self.min_window,
            f"an int >= 2 * min_window ({2 * self.min_window})",
        )
        for name in ("grad_norm_max", "grad_norm_tiny", "plateau_tol", "rise_tol", "jitter_max", "overfit_rise"):
            value = getattr(self, name)
            require(name, value, is_real(value) and 0 < value < math.inf, "a finite number > 0")
        require("grad_norm_tiny", self.grad_norm_tiny, self.grad_norm_tiny < self.grad_norm_max, "< grad_norm_max")
        require("window", self.window, is_real(self.window) and 0 < self.window <= 0.5, "a number in (0, 0.5]")
        require("lr_low_drop", self.lr_low_drop, is_real(self.lr_low_drop) and 0 < self.lr_low_drop < 1, "in (0, 1)")
        require(
            "overfit_train_fall",
            self.overfit_train_fall,
            is_real(self.overfit_train_fall) and 0 <= self.overfit_train_fall < 1,
            "in [0, 1)",
        )

    def _reset(self) -> None:
        self._profile = _Profile()
        self._start: float | None = None
        self._best: float | None = None
        self._trend: _Trend | None = None
        self._alarm: str | None = None
        self._saw_grad = False
        self._grads: deque[float] = deque(maxlen=self.min_window)
        self._val_count = 0
        self._vals: deque[float] = deque(maxlen=self.min_val_points)
        self._val_level: float | None = None
        self._val_best: float | None = None
        self._val_best_step: int | None = None
        self._val_best_index = 0
        self._first_raised: dict[str, int] = {}
        self._blew_up: int | None = None
        self._diagnosis: Diagnosis | None = None
        self._dirty = True

    def update(self, step: int, **metrics: float) -> Diagnosis:
        """Take one logged step; return the verdict so far (``insufficient_data`` until ``min_points``)."""
        if self._alarm is None:
            self._take_grad(step, metrics.get("grad_norm"))
            self._take_val(step, metrics.get("val_loss"))
            self._take_train(step, metrics.get("train_loss"))
        if self._dirty or self._diagnosis is None:
            self._diagnosis = self._judge(step)
            self._dirty = False
        return self._diagnosis

    def finish(self, diagnosis: Diagnosis | None, run: Run) -> Diagnosis:
        """The last verdict; a run without a single logged step has too little data."""
        return diagnosis if diagnosis is not None else Diagnosis.insufficient(0, self.min_points)

    def _take_grad(self, step: int, grad: float | None) -> None:
        if grad is None:
            return
        self._saw_grad = True
        if not math.isfinite(grad):
            self._raise_alarm(f"grad_norm non-finite ({grad}) at step {step}")
        elif grad > self.grad_norm_max:
            self._raise_alarm(f"grad_norm {grad:.2g} > {self.grad_norm_max:g} at step {step}")
        else:
            self._grads.append(grad)

    def _take_val(self, step: int, val: float | None) -> None:
        if val is None or self._alarm is not None:
            return
        if not math.isfinite(val):
            self._raise_alarm(f"val_loss non-finite ({val}) at step {step}")
            return
        self._val_count += 1
        self._vals.append(val)
        if len(self._vals) < self.min_val_points:
            return
        level = self._val_level = statistics.median(self._vals)
        if self._val_best is None or level < self._val_best:
            self._val_best, self._val_best_step, self._val_best_index = level, step, self._profile.n
        self._dirty = True

    def _take_train(self, step: int, loss: float | None) -> None:
        if loss is None or self._alarm is not None:
            return
        if not math.isfinite(loss):
            self._raise_alarm(f"train_loss non-finite ({loss}) at step {step}")
            return
        if self._start is None:
            self._start = loss
        completed = self._profile.add(loss)
        n = self._profile.n
        if n <= self.min_points:
            self._dirty = True
        if n >= self.min_points and (completed or n == self.min_points):
            self._trend = self._measure_trend()
            self._best = self._trend.recent if self._best is None else min(self._best, self._trend.recent)
            self._dirty = True

    def _raise_alarm(self, evidence: str) -> None:
        self._alarm = evidence
        self._dirty = True

    def _measure_trend(self) -> "_Trend":
        profile = self._profile
        blocks = len(profile.sums)
        width = max(math.ceil(self.min_window / profile.stride), round(self.window * blocks))
        width = min(width, blocks // 2)
        recent = profile.level(blocks - width, blocks)
        previous = profile.level(blocks - 2 * width, blocks - width)
        then_end = min(self._val_best_index // profile.stride, blocks)
        train_then = profile.level(max(0, then_end - width), then_end) if then_end > 0 else None
        return _Trend(
            points=width * profile.stride,
            recent=recent,
            previous=previous,
            jitter=_ratio(profile.jitter(blocks - width, blocks), abs(recent)),
            train_then=train_then,
        )

    def _judge(self, step: int) -> Diagnosis:
        if self._alarm is not None:
            return self._raise("lr_high", [self._alarm], step)
        if self._profile.n < self.min_points:
            return Diagnosis.insufficient(self._profile.n, self.min_points)
        label, evidence = self._rule_verdict(step)
        if label in ("plateau", "lr_low") and self._blew_up is not None:
            evidence = [f"train_loss climbed above its start at step {self._blew_up} and has not fallen "
                        f"again since: a too-high learning rate stalled it", *evidence]
            label = "lr_high"
        return self._raise(label, evidence + self._abstentions(), step)

    def _rule_verdict(self, step: int) -> tuple[str, list[str]]:
        t = self._trend
        lowest = min(self._start, self._best)
        change = _relative_drop(t.previous, t.recent)
        drop = _relative_drop(self._start, t.recent)
        rise = -_relative_drop(lowest, t.recent)
        flat = change < self.plateau_tol
        stalled = flat or drop < self.lr_low_drop
        over = f"over the last {t.points} points"
        trend = f"train_loss changed {-change:+.1%} {over} (flat: a decrease below {self.plateau_tol:.1%})"
        total = f"train_loss fell {drop:.1%} from its start {self._start:.4g} to {t.recent:.4g} by step {step}"
        if rise > self.rise_tol:
            if self._blew_up is None and -_relative_drop(self._start, t.recent) > self.rise_tol:
                self._blew_up = step
            return "lr_high", [
                f"train_loss rose {rise:.0%} above its lowest level {lowest:.4g} "
                f"(level {t.recent:.4g} {over}) at step {step}"
            ]
        if stalled and t.jitter > self.jitter_max:
            return "lr_high", [
                f"train_loss oscillates: typical |second difference| is {t.jitter:.0%} of its level {over} "
                f"(> {self.jitter_max:.0%}) at step {step}",
                total,
                trend,
            ]
        overfit = self._overfit_evidence(step)
        if overfit:
            return "overfit", [overfit]
        if stalled and len(self._grads) == self._grads.maxlen and max(self._grads) < self.grad_norm_tiny:
            return "plateau", [
                f"grad_norm below {self.grad_norm_tiny:g} over the last {len(self._grads)} values "
                f"(max {max(self._grads):.2g}) at step {step}: stuck",
                total,
            ]
        if flat and drop >= self.lr_low_drop:
            return "plateau", [total + ", then flattened", trend]
        if drop < self.lr_low_drop:
            return "lr_low", [f"{total} (< {self.lr_low_drop:.0%}: barely moves)", trend]
        return "healthy", [f"{total}; still falling {change:.1%} {over}"]

    def _overfit_evidence(self, step: int) -> str | None:
        t = self._trend
        if self._val_best is None or t.train_then is None:
            return None
        val_rise = -_relative_drop(self._val_best, self._val_level)
        train_fall = _relative_drop(t.train_then, t.recent)
        if val_rise < self.overfit_rise or train_fall < self.overfit_train_fall:
            return None
        return (
            f"val_loss rose {val_rise:.0%} above its minimum {self._val_best:.4g} (step {self._val_best_step}) "
            f"by step {step} while train_loss fell {train_fall:.0%}"
        )

    def _abstentions(self) -> list[str]:
        notes = []
        if self._val_count == 0:
            notes.append("no val_loss logged: the overfit rule abstains")
        if not self._saw_grad:
            notes.append("no grad_norm logged: the explosion and vanishing-gradient rules abstain")
        return notes

    def _raise(self, label: str, evidence: list[str], step: int) -> Diagnosis:
        onset = None if label == "healthy" else self._first_raised.setdefault(label, step)
        return Diagnosis.certain(label, onset_step=onset, evidence=evidence)


@dataclass(frozen=True)
class _Trend:
    """What the last check measured: levels of the last two windows, oscillation, train level at the val minimum."""

    points: int
    recent: float
    previous: float
    jitter: float
    train_then: float | None


class _Profile:
    """Finite train losses as at most ``_HISTORY`` equal blocks (sums of loss and of |second difference|)."""

    def __init__(self) -> None:
        self.stride = 1
        self.n = 0
        self.sums: list[float] = []
        self.jitters: list[float] = []
        self._open_sum = 0.0
        self._open_jitter = 0.0
        self._open_count = 0
        self._last: tuple[float, float] | None = None

    def add(self, value: float) -> bool:
        """Add one point; ``True`` when it completed a block."""
        if self._last is not None and self.n >= 2:
            self._open_jitter += abs(value - 2 * self._last[1] + self._last[0])
        self._last = (self._last[1] if self._last else value, value)
        self.n += 1
        self._open_sum += value
        self._open_count += 1
        if self._open_count < self.stride:
            return False
        self.sums.append(self._open_sum)
        self.jitters.append(self._open_jitter)
        self._open_sum = self._open_jitter = 0.0
        self._open_count = 0
        if len(self.sums) == _HISTORY:
            self.sums = [a + b for a, b in zip(self.sums[::2], self.sums[1::2])]
            self.jitters = [a + b for a, b in zip(self.jitters[::2], self.jitters[1::2])]
            self.stride *= 2
        return True

    def level(self, first: int, stop: int) -> float:
        """Median block-mean loss over blocks ``first`` to ``stop - 1``."""
        return statistics.median(self.sums[first:stop]) / self.stride

    def jitter(self, first: int, stop: int) -> float:
        """Median block-mean |second difference| over blocks ``first`` to ``stop - 1``."""
        return statistics.median(self.jitters[first:stop]) / self.stride


def _relative_drop(before: float, after: float) -> float:
    """How much ``after`` is below ``before``, relative to ``|before|`` (negative: above)."""
    if before == after:
        return 0.0
    if before == 0:
        return math.copysign(math.inf, before - after)
    return (before - after) / abs(before)


def _ratio(part: float, whole: float) -> float:
    """``part / whole`` with ``0 / 0 = 0`` and ``x / 0 = inf``."""
    if whole == 0:
        return 0.0 if part == 0 else math.inf
    return part / whole

