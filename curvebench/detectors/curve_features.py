"""A fixed-length, scale-free vector of curve features of a run so far, for learned detectors.

Losses are read as logs relative to the first train losses (median of the first five finite
ones), so multiplying every loss by a constant changes no feature; the gradient norm is read
relative to its own start the same way, the learning rate relative to its own peak. Long
series are summarised by ``BLOCKS`` block means of equal counts, so one call costs about the
same on 50 points as on 100,000 (plus one O(n) pass). A missing channel gives NaN features
and a 0 indicator (the gradient-boosting trees route NaN like any other value).

The groups (names in :data:`FEATURE_NAMES`): length and non-finite counts; relative drops
of log-loss over the last half, quarter and tenth; rise from the running minimum; log-slopes
of both halves and their difference (curvature); the noise-to-trend ratio, spike rate and
biggest jumps, overall and in the last ten points (the blow-up before a NaN); gradient-norm
level, peak, trend and recent jump; validation drop, rise from its minimum, the val-train gap,
its growth, and how much train loss kept falling since the validation minimum; learning-rate
decay; then catch22 (Lubba et al. 2019, via the maintained ``pycatch22`` package), the standard
set of 22 time-series features, of the log train loss summarised to ``CATCH22_BLOCKS`` block
means (named ``c22_`` + catch22's short names; NaN below ``CATCH22_MIN`` points).

>>> import numpy as np
>>> t = np.arange(200)
>>> loss = 2.0 * np.exp(-t / 50) + 0.1
>>> x = curve_features({"train_loss": (t, loss)})
>>> x.shape == (len(FEATURE_NAMES),), float(x[FEATURE_NAMES.index("val_present")])
(True, 0.0)
>>> bool(np.allclose(x, curve_features({"train_loss": (t, 1e6 * loss)}), equal_nan=True))
True
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Mapping

import numpy as np

import pycatch22

from curvebench.detectors.streaming_stats import median

BLOCKS = 32
"""How many block means summarise a long series."""
RECENT = 10
"""How many of the latest points the "recent jump" features look at."""
CATCH22_BLOCKS = 64
"""How many block means of the log train loss catch22 reads."""
CATCH22_MIN = 10
"""Fewer finite train losses than this give NaN catch22 features."""

_TRAIN = ("log_points", "train_nonfinite_share", "train_any_nonfinite", "first_nonfinite_at",
          "drop_total", "drop_last_half", "drop_last_quarter", "drop_last_tenth", "drop_first_tenth",
          "rise_from_min", "argmin_at", "max_rise", "slope_first_half", "slope_second_half", "curvature",
          "slope_last_quarter", "noise", "noise_to_trend", "spike_share", "max_jump", "sign_change_share",
          "tail_wobble", "recent_jump", "recent_max_step")
_GRAD = ("grad_present", "grad_nonfinite_share", "grad_last_rel", "grad_max_rel", "grad_min_rel",
         "grad_slope_last_quarter", "grad_recent_jump", "grad_noise")
_VAL = ("val_present", "val_nonfinite_share", "log_val_points", "val_drop_total", "val_rise_from_min",
        "val_argmin_at", "gap_last", "gap_growth", "gap_rise_from_min", "val_slope_last_half",
        "train_drop_since_val_min")
_LR = ("lr_present", "lr_last_vs_peak", "lr_first_vs_peak")
_CATCH22 = tuple("c22_" + name for name in pycatch22.catch22_all([0.0] * CATCH22_MIN, short_names=True)["short_names"])
FEATURE_NAMES: tuple[str, ...] = _TRAIN + _GRAD + _VAL + _LR + _CATCH22
"""The name of each feature, in vector order."""

Series = tuple[np.ndarray, np.ndarray]


def curve_features(channels: Mapping[str, Series]) -> np.ndarray:
    """The feature vector of a run given as ``{name: (steps, values)}`` (only core channels are read)."""
    steps, loss = _get(channels, "train_loss")
    finite = np.isfinite(loss)
    ref = _reference(loss[finite])
    z = _relative_log(loss[finite], ref)
    zt = steps[finite]
    out = [*_train_features(loss, finite, z), *_grad_features(_get(channels, "grad_norm")),
           *_val_features(_get(channels, "val_loss"), ref, zt, z), *_lr_features(_get(channels, "lr")),
           *_catch22(z)]
    return np.array(out, dtype=np.float64)


def _get(channels: Mapping[str, Series], name: str) -> Series:
    if name in channels:
        steps, values = channels[name]
        return np.asarray(steps, dtype=np.float64), np.asarray(values, dtype=np.float64)
    return np.empty(0), np.empty(0)


def _reference(finite_values: np.ndarray) -> float:
    """A positive scale for the series: median |value| of its first five finite points (1 if none)."""
    ref = median(np.abs(finite_values[:5])) if finite_values.size else 1.0
    return ref if ref > 0 and math.isfinite(ref) else 1.0


def _relative_log(values: np.ndarray, ref: float) -> np.ndarray:
    """log(values / ref), with values floored at 1e-12 ref (a loss at or below zero is read as tiny)."""
    with np.errstate(over="ignore", invalid="ignore"):
        scaled = values / ref
    return np.log(np.clip(scaled, 1e-12, 1e300))


def _blocks(values: np.ndarray, blocks: int = BLOCKS) -> np.ndarray:
    """At most ``blocks`` means of consecutive equal-count blocks (the series itself when shorter)."""
    n = values.size
    if n <= blocks:
        return values
    edges = (np.arange(blocks + 1) * n) // blocks
    return np.add.reduceat(values, edges[:-1]) / np.diff(edges)


def _slope(values: np.ndarray) -> float:
    """Least-squares slope of ``values`` against position scaled to [0, 1] (0 for fewer than 2)."""
    n = values.size
    return float(_centered_positions(n) @ values) if n > 1 else 0.0


@lru_cache(maxsize=128)
def _centered_positions(n: int) -> np.ndarray:
    """Weights w with w @ values = least-squares slope of values against linspace(0, 1, n)."""
    x = np.linspace(0.0, 1.0, n)
    x -= x.sum() / n
    w = x / (x @ x)
    w.flags.writeable = False
    return w


@lru_cache(maxsize=128)
def _unit_positions(n: int) -> np.ndarray:
    """``linspace(0, 1, n)``, cached and read-only."""
    x = np.linspace(0.0, 1.0, n)
    x.flags.writeable = False
    return x


def _mad(values: np.ndarray) -> float:
    return 1.4826 * median(np.abs(values - median(values))) if values.size else 0.0


def _train_features(loss: np.ndarray, finite: np.ndarray, z: np.ndarray) -> list[float]:
    n = loss.size
    bad = n - int(finite.sum())
    first_bad = int(np.argmin(finite)) / n if bad else 1.0
    head = [math.log1p(n), bad / n if n else 0.0, float(bad > 0), first_bad]
    if z.size < 3:
        return head + [math.nan] * (len(_TRAIN) - len(head))
    b = _blocks(z)
    k = b.size
    half, quarter, tenth = b[k // 2:], b[(3 * k) // 4:], b[(9 * k) // 10:]
    steps = np.diff(z)
    noise = _mad(steps[steps.size // 2:]) / math.sqrt(2.0)
    drop_total = float(b[-1] - b[0])
    running_min = np.minimum.accumulate(b)
    slope_1, slope_2 = _slope(b[: k // 2 + 1]), _slope(half)
    recent = z[-RECENT - 1:]
    return head + [
        drop_total, float(b[-1] - half[0]), float(b[-1] - quarter[0]), float(b[-1] - tenth[0]),
        float(b[max(k // 10, 1)] - b[0]), float(b[-1] - running_min[-1]), float(np.argmin(b)) / (k - 1),
        float(np.max(b - running_min)), slope_1, slope_2, slope_2 - slope_1, _slope(quarter),
        noise, noise / (abs(drop_total) + noise + 1e-12),
        float(np.count_nonzero(steps > max(5.0 * noise, 0.05))) / steps.size, float(np.max(steps)),
        float(np.mean(np.diff(np.sign(np.diff(b))) != 0)) if k > 2 else 0.0,
        float(np.std(quarter - quarter[0] - (quarter[-1] - quarter[0]) * _unit_positions(quarter.size))),
        float(z[-1] - median(z[-3 * RECENT:])), float(np.max(np.diff(recent))) if recent.size > 1 else 0.0,
    ]


def _grad_features(series: Series) -> list[float]:
    _, g = series
    if g.size == 0:
        return [0.0] + [math.nan] * (len(_GRAD) - 1)
    finite = np.isfinite(g)
    share = 1.0 - np.count_nonzero(finite) / g.size
    lg = _relative_log(g[finite], _reference(g[finite]))
    if lg.size < 3:
        return [1.0, share] + [math.nan] * (len(_GRAD) - 2)
    b = _blocks(lg)
    return [1.0, share, float(b[-1] - b[0]), float(np.max(b) - b[0]), float(np.min(b) - b[0]),
            _slope(b[(3 * b.size) // 4:]), float(lg[-1] - median(lg[-3 * RECENT:])),
            _mad(np.diff(lg)) / math.sqrt(2.0)]


def _val_features(series: Series, ref: float, train_steps: np.ndarray, z: np.ndarray) -> list[float]:
    steps, v = series
    if v.size == 0:
        return [0.0] + [math.nan] * (len(_VAL) - 1)
    finite = np.isfinite(v)
    head = [1.0, 1.0 - np.count_nonzero(finite) / v.size, math.log1p(v.size)]
    lv, vs = _relative_log(v[finite], ref), steps[finite]
    if lv.size < 2 or z.size < 2:
        return head + [math.nan] * (len(_VAL) - len(head))
    gap = lv - np.interp(vs, train_steps, z)
    lowest = int(np.argmin(lv))
    train_at_min = float(np.interp(vs[lowest], train_steps, z))
    return head + [
        float(lv[-1] - lv[0]), float(lv[-1] - lv[lowest]), lowest / (lv.size - 1), float(gap[-1]),
        float(gap[-1] - gap[gap.size // 2]), float(gap[-1] - np.min(gap)), _slope(lv[lv.size // 2:]),
        float(z[-1] - train_at_min),
    ]


def _lr_features(series: Series) -> list[float]:
    _, lr = series
    lr = lr[np.isfinite(lr) & (lr > 0)]
    if lr.size == 0:
        return [float(series[1].size > 0), math.nan, math.nan]
    peak = math.log(float(np.max(lr)))
    return [1.0, math.log(float(lr[-1])) - peak, math.log(float(lr[0])) - peak]


def _catch22(z: np.ndarray) -> list[float]:
    """catch22 of the log train loss ``z`` in ``CATCH22_BLOCKS`` block means (non-finite results as NaN)."""
    if z.size < CATCH22_MIN:
        return [math.nan] * len(_CATCH22)
    values = pycatch22.catch22_all(_blocks(z, CATCH22_BLOCKS).tolist())["values"]
    return [value if math.isfinite(value) else math.nan for value in values]
