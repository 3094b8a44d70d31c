"""The written verification rules: a recorded run's label, mode and onset, read from its numbers alone.

The rules look only at ``train_loss`` and ``val_loss``, never at how the run was caused,
and are tried in order; the first that matches names the run. A recorded run is kept only
when that name is the label its cause intended (see :func:`verify_run`).

Notation: ``w = max(5, n // 50)`` for ``n`` training points; ``S`` is the centred rolling
median of the training loss over ``w`` points; ``start`` the first loss (the model as
initialised), ``end`` the median of the last 10% of them; ``drop = ln(start / end)``; ``late`` the
part of ``drop`` made after 70% of the run (``ln S[0.7 n] - ln end``), ``after_early`` the
part made after 30% of it (``ln S[0.3 n] - ln end``); the swing ``A`` is the ``w``-point rolling
median of ``|loss - M|``, ``M`` the centred ``w``-point rolling mean (a mean, so that a zig-zag
of period two shows its half-amplitude whatever the parity of the window).

The swing threshold is set from numbers: over the 729 runs of the first ``recorded-cpu`` corpus,
no run verified as healthy, lr_low, overfit or plateau had a second-half median swing above
0.061 x ``start``; a zig-zag of +-30% around its level gives 0.2 to 0.25.

==========================  ==============================================================  ==========================
rule (mode)                 matches when                                                    onset step
==========================  ==============================================================  ==========================
``lr_high/nan``             a training or validation loss is NaN or infinite                first non-finite step
``lr_high/divergence``      the 5-point rolling median of the loss reaches 1.5 x ``start``  first step it does
``lr_high/oscillation``     in the second half, the median of the swing ``A`` is at least   first step ``A`` reaches
                            0.1 x ``start``                                                 0.1 x ``start`` once ``S``
                                                                                            has come down to its
                                                                                            second-half median (or
                                                                                            from mid-run on)
``overfit/val_rise``        >= 20 evaluations; the validation minimum comes before 70% of   step of the validation
                            the run, is <= 0.9 x the first evaluation, the median of the    minimum
                            last 3 evaluations is >= 1.10 x the minimum, and ``S`` at the
                            end is below ``S`` at the minimum
``plateau/stuck``           ``|end - start| < 0.05 x start``                                first step
``lr_low/slow``             ``end < start``, ``drop < ln 2`` and ``late >= 0.1 x drop``     first step
``plateau/early``           ``end < start``, ``drop < ln 4`` and                            first step where ``ln S``
                            ``after_early <= 0.1 x drop``                                   is within ``0.1 x drop``
                                                                                            of ``ln end``
``healthy/converging``      ``drop >= ln 2``                                                none
==========================  ==============================================================  ==========================

>>> import numpy as np
>>> from curvebench.run import Run
>>> steps = np.arange(400)
>>> loss = 2.3 * np.exp(-steps / 60) + 0.05
>>> loss[250:] = np.nan
>>> verdict = classify(Run.from_columns(steps, train_loss=loss))
>>> verdict.mode, verdict.onset_step
('lr_high/nan', 250)
>>> classify(Run.from_columns(steps, train_loss=2.3 * np.exp(-steps / 60) + 0.05)).mode
'healthy/converging'
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from curvebench.run import Run

DIVERGENCE_FACTOR = 1.5
OSCILLATION_SWING = 0.1
OVERFIT_VAL_RISE = 1.10
OVERFIT_MIN_BEFORE = 0.7
MIN_EVALUATIONS = 20
FLAT = 0.05


@dataclass(frozen=True)
class Verdict:
    """What the rules read from a run: ``label``, ``mode`` (the rule's name) and ``onset_step``."""

    label: str
    mode: str
    onset_step: int | None


@dataclass(frozen=True)
class Check:
    """The outcome of :func:`verify_run`: whether the run shows ``intended``, and what it shows."""

    intended: str
    verdict: Verdict | None

    @property
    def passed(self) -> bool:
        return self.verdict is not None and self.verdict.label == self.intended

    @property
    def reason(self) -> str:
        """``"ok"``, ``"no rule matched"`` or ``"looks like <mode>"``."""
        if self.passed:
            return "ok"
        return "no rule matched" if self.verdict is None else f"looks like {self.verdict.mode}"


def rolling_median(values: np.ndarray, window: int) -> np.ndarray:
    """Centred rolling median, the window shrinking at the edges.

    >>> rolling_median(np.array([1.0, 9.0, 1.0, 1.0, 5.0]), 3)
    array([5., 1., 1., 1., 3.])
    """
    n = values.size
    half = window // 2
    padded = np.pad(values.astype(np.float64), half, constant_values=np.nan)
    windows = np.lib.stride_tricks.sliding_window_view(padded, 2 * half + 1)[:n]
    return np.nanmedian(windows, axis=1)


def rolling_mean(values: np.ndarray, window: int) -> np.ndarray:
    """Centred rolling mean, the window shrinking at the edges.

    >>> rolling_mean(np.array([1.0, 3.0, 1.0, 3.0]), 3)
    array([2.        , 1.66666667, 2.33333333, 2.        ])
    """
    n = values.size
    half = window // 2
    padded = np.pad(values.astype(np.float64), half, constant_values=np.nan)
    return np.nanmean(np.lib.stride_tricks.sliding_window_view(padded, 2 * half + 1)[:n], axis=1)


def classify(run: Run) -> Verdict | None:
    """The first rule in the table above that matches ``run``, or ``None`` when none does."""
    train = run.channel("train_loss")
    steps, loss = train.steps, train.values
    val = run.channels.get("val_loss")
    val_steps = val.steps if val is not None else np.array([], dtype=np.int64)
    val_loss = val.values if val is not None else np.array([])
    if steps.size < 10:
        return None
    return (
        _nan(steps, loss, val_steps, val_loss)
        or _shape(steps, loss, val_steps, val_loss)
    )


def verify_run(run: Run, intended: str) -> Check:
    """Check that ``run``'s numbers show the ``intended`` label.

    >>> from curvebench.run import Run
    >>> verify_run(Run.from_columns([0, 1, 2], train_loss=[1.0, 1.0, 1.0]), "plateau").reason
    'no rule matched'
    """
    return Check(intended, classify(run))


def _nan(steps, loss, val_steps, val_loss) -> Verdict | None:
    bad = [s[~np.isfinite(v)][:1] for s, v in ((steps, loss), (val_steps, val_loss))]
    firsts = np.concatenate(bad)
    if firsts.size == 0:
        return None
    return Verdict("lr_high", "lr_high/nan", int(firsts.min()))


def _shape(steps, loss, val_steps, val_loss) -> Verdict | None:
    n = loss.size
    w = max(5, n // 50)
    smooth = rolling_median(loss, w)
    start = float(loss[0])
    end = float(np.median(loss[-max(1, n // 10):]))

    short = rolling_median(loss, 5)
    high = np.flatnonzero(short >= DIVERGENCE_FACTOR * start)
    if high.size:
        return Verdict("lr_high", "lr_high/divergence", int(steps[high[0]]))

    swing = rolling_median(np.abs(loss - rolling_mean(loss, w)), w)
    if np.median(swing[n // 2:]) >= OSCILLATION_SWING * start:
        settled = min(int(np.flatnonzero(smooth <= np.median(smooth[n // 2:]))[0]), n // 2)
        onset = settled + int(np.flatnonzero(swing[settled:] >= OSCILLATION_SWING * start)[0])
        return Verdict("lr_high", "lr_high/oscillation", int(steps[onset]))

    overfit = _overfit(steps, smooth, val_steps, val_loss)
    if overfit is not None:
        return overfit

    if abs(end - start) < FLAT * start:
        return Verdict("plateau", "plateau/stuck", int(steps[0]))
    if end > start:
        return None
    log_smooth = np.log(np.maximum(smooth, 1e-12))
    drop = np.log(start / max(end, 1e-12))
    late = log_smooth[int(0.7 * n)] - np.log(max(end, 1e-12))
    after_early = log_smooth[int(0.3 * n)] - np.log(max(end, 1e-12))
    if drop < np.log(2) and late >= 0.1 * drop:
        return Verdict("lr_low", "lr_low/slow", int(steps[0]))
    if drop < np.log(4) and after_early <= 0.1 * drop:
        near = np.flatnonzero(log_smooth - np.log(max(end, 1e-12)) <= 0.1 * drop)
        return Verdict("plateau", "plateau/early", int(steps[near[0]]))
    if drop >= np.log(2):
        return Verdict("healthy", "healthy/converging", None)
    return None


def _overfit(steps, smooth, val_steps, val_loss) -> Verdict | None:
    if val_loss.size < MIN_EVALUATIONS:
        return None
    best = int(np.argmin(val_loss))
    best_step = int(val_steps[best])
    if best_step > OVERFIT_MIN_BEFORE * steps[-1]:
        return None
    if val_loss[best] > 0.9 * val_loss[0]:
        return None
    if np.median(val_loss[-3:]) < OVERFIT_VAL_RISE * val_loss[best]:
        return None
    at_best = smooth[min(np.searchsorted(steps, best_step), steps.size - 1)]
    if smooth[-1] >= at_best:
        return None
    return Verdict("overfit", "overfit/val_rise", best_step)
