"""``stats``: statistical tests with thresholds taken from the noise each run shows, not fixed numbers.

Everything is measured on the log of the train loss (relative to the first loss), so a change
of the loss scale changes no verdict, and every "significant" means a test at level ``alpha``
against the run's own noise. The run is summarised by block means of log-loss whose block size
doubles (32 to ``capacity`` blocks, point by point while short); the noise scale sigma is the
MAD of their second differences (robust to heavy-tailed spikes and to any locally linear trend).

The tests, in the order they take precedence (the first that holds names the run):

1. **lr_high**: a NaN or inf loss or gradient norm (at once, for good); or a climb: the
   smoothed loss rose from its lowest point by more than ``noise_sigmas`` sigma and by more
   than ``min_change`` (relative), with a significant Mann-Kendall trend since that low (more
   than ``min_change`` is enough when more than ``spike_rate`` of the points spiked
   ``spike_size`` above the median of the three points before them: repeated spikes on a
   rising trend); or periodic swings: Fisher's g test finds one significant period (``alpha``)
   in the last ``buffer`` points with an amplitude above ``osc_amplitude`` of the loss; or wild
   noise: per-point noise above ``swing_noise`` of the loss and no significant decline. A flat
   tail near the start after the loss (median of three points) spiked more than
   ``noise_sigmas`` point-noise scales and ``low_drop`` above its start is lr_high too, not
   plateau (Adam's collapse to chance level).
2. **overfit**: validation loss has a minimum, then a significant Mann-Kendall rise by more than
   ``noise_sigmas`` sigma of its own noise and ``min_change``, while the train loss over the same
   span has a non-positive Theil-Sen slope.
3. **plateau** / **lr_low**: the tail (from the knee found by a two-line binary segmentation,
   or from the middle of the run if the knee comes earlier; at least the 6 blocks a
   Mann-Kendall test needs to reach significance at 0.01) has no significant decline (the
   evidence gives its Theil-Sen slope). After a drop of at least ``low_drop`` from the start
   that is a plateau; flat near the start it is a plateau when the gradient norm fell below
   ``vanish`` of its early level, else lr_low. A flat tail while ``lr`` has decayed below
   ``lr_decayed`` of its peak is the schedule at work: healthy.
4. **lr_low**: the tail still declines significantly, but the loss has fallen by less than
   ``low_drop`` of its start ("tiny steady decline").
5. **healthy** otherwise.

``onset_step`` is the step of the test round that raised the final label and kept it to the end
(an early verdict on a handful of noisy points that later changed does not count).
Probabilities are graded: the verdict gets 0.6 to 0.95 by how far its statistic clears its
threshold, the label it is most often confused with gets most of the rest.

Streaming cost: each ``update`` is O(1); the tests (O(capacity^2) numpy work on at most
``capacity`` blocks and ``buffer`` points) rerun only when the number of train points has grown
by ``recheck`` (a share, at least one point) since they last ran, so a run of n points pays
O(log n) test rounds: amortized O(1) per update, and ``onset_step`` is resolved to within that
share of the run so far. Fewer than ``min_points`` finite train-loss points give
``insufficient_data`` (unless a NaN already showed). Losses at or below zero are floored at 1e-12
of the first loss (the detector is meant for non-negative losses).

Examples
--------
>>> import numpy as np
>>> from curvebench.run import Run
>>> rng = np.random.default_rng(0)
>>> steps = np.arange(600)
>>> healthy = (2.0 * np.exp(-steps / 150) + 0.3) * np.exp(0.03 * rng.standard_normal(600))
>>> StatsDetector().diagnose(Run.from_columns(steps, train_loss=healthy)).label
'healthy'
>>> stalled = np.maximum(healthy, 1.2 * np.exp(0.03 * rng.standard_normal(600)))
>>> verdict = StatsDetector().diagnose(Run.from_columns(steps, train_loss=stalled))
>>> verdict.label, verdict.onset_step
('plateau', 162)
"""

from __future__ import annotations

import itertools
import math
from numbers import Real

import numpy as np
from scipy import stats as scipy_stats

from curvebench.detectors.base import Detector, Diagnosis
from curvebench.detectors.streaming_stats import (
    BlockSeries,
    best_split,
    mann_kendall_z,
    noise_scale,
    periodicity,
    theil_sen_slope,
)
from curvebench.run import LABELS, Run

_FLOOR = math.log(1e-12)
_WATCHED = ("train_loss", "val_loss", "grad_norm")
_CONFUSED_WITH = {"healthy": "plateau", "lr_high": "healthy", "lr_low": "plateau", "overfit": "healthy",
                  "plateau": "lr_low"}


class StatsDetector(Detector):
    """Trend, change-point, periodicity and validation-gap tests on log-loss; see the module."""

    name = "stats"

    def __init__(
        self,
        alpha: float = 0.01,
        noise_sigmas: float = 4.0,
        min_change: float = 0.05,
        low_drop: float = 0.2,
        osc_amplitude: float = 0.1,
        spike_size: float = 0.5,
        spike_rate: float = 0.01,
        swing_noise: float = 0.2,
        vanish: float = 0.1,
        lr_decayed: float = 0.1,
        min_points: int = 10,
        capacity: int = 64,
        buffer: int = 128,
        recheck: float = 0.1,
    ) -> None:
        for key, value in dict(alpha=alpha, low_drop=low_drop, spike_rate=spike_rate, vanish=vanish,
                               lr_decayed=lr_decayed, recheck=recheck).items():
            if not isinstance(value, Real) or not 0 < value < 1:
                raise ValueError(f"{key} must be in (0, 1), got {value!r}")
        for key, value in dict(noise_sigmas=noise_sigmas, min_change=min_change, osc_amplitude=osc_amplitude,
                               spike_size=spike_size, swing_noise=swing_noise).items():
            if not isinstance(value, Real) or not 0 < value < math.inf:
                raise ValueError(f"{key} must be a positive number, got {value!r}")
        if not isinstance(min_points, int) or min_points < 5:
            raise ValueError(f"min_points must be an integer >= 5, got {min_points!r}")
        if not isinstance(capacity, int) or capacity < 16 or capacity % 2:
            raise ValueError(f"capacity must be an even integer >= 16, got {capacity!r}")
        if not isinstance(buffer, int) or buffer < 16:
            raise ValueError(f"buffer must be an integer >= 16, got {buffer!r}")
        self.alpha = alpha
        self.noise_sigmas = noise_sigmas
        self.min_change = min_change
        self.low_drop = low_drop
        self.osc_amplitude = osc_amplitude
        self.spike_size = spike_size
        self.spike_rate = spike_rate
        self.swing_noise = swing_noise
        self.vanish = vanish
        self.lr_decayed = lr_decayed
        self.min_points = min_points
        self.capacity = capacity
        self.buffer = buffer
        self.recheck = recheck
        super().__init__()

    def _reset(self) -> None:
        self._z_crit = float(scipy_stats.norm.isf(self.alpha / 2))
        self._spike_jump = math.log1p(self.spike_size)
        # the fewest points whose Mann-Kendall test can reach significance (6 at alpha = 0.01)
        self._min_trend = next(k for k in itertools.count(3) if mann_kendall_z(np.arange(k * 1.0)) > self._z_crit)
        self._n = 0
        self._next_check = self.min_points
        self._ref: float | None = None
        self._train = BlockSeries(self.capacity)
        self._val = BlockSeries(self.capacity)
        self._grad = BlockSeries(self.capacity)
        self._since_val = [0.0, 0]
        self._prev = (0.0, 0.0, 0.0)
        self._spikes = 0
        self._start: float | None = None
        self._peak = -math.inf
        self._ring = np.zeros(self.buffer)
        self._point_noise = 0.0
        self._lr_peak = 0.0
        self._lr_last: float | None = None
        self._episode: tuple[str, int] | None = None
        self._broken: Diagnosis | None = None
        self._verdict: Diagnosis | None = None

    def update(self, step: int, **metrics: float) -> Diagnosis | None:
        """Take one logged step; the verdict so far, ``None`` before ``min_points`` train points."""
        if self._broken is not None:
            return self._broken
        loss = metrics.get("train_loss")
        val = metrics.get("val_loss")
        grad = metrics.get("grad_norm")
        if (
            (loss is not None and not math.isfinite(loss))
            or (val is not None and not math.isfinite(val))
            or (grad is not None and not math.isfinite(grad))
        ):
            name, value = next((k, v) for k, v in metrics.items() if k in _WATCHED and not math.isfinite(v))
            self._broken = self._verdict_for("lr_high", step, 1.0, [f"{name} is {value} at step {step}"])
            return self._broken
        if grad is not None:
            self._grad.push(step, [math.log(grad) if grad > 0 else _FLOOR])
        lr = metrics.get("lr")
        if lr is not None and math.isfinite(lr):
            self._lr_peak = max(self._lr_peak, lr)
            self._lr_last = lr
        if loss is not None:
            x = self._log(loss)
            self._ring[self._n % self.buffer] = x
            self._n += 1
            self._track_peak(x)
            self._since_val[0] += x
            self._since_val[1] += 1
            self._train.push(step, [x])
        if val is not None and self._n:
            total, count = self._since_val
            self._val.push(step, [total / count if count else self._prev[2], self._log(val)])
            self._since_val = [0.0, 0]
        if loss is not None and self._n >= self._next_check and len(self._train) >= self._min_trend:
            self._next_check = self._n + max(1, int(self._n * self.recheck))
            self._verdict = self._assess(step)
        return self._verdict

    def finish(self, diagnosis: Diagnosis | None, run: Run) -> Diagnosis:
        """The last verdict; ``insufficient_data`` when the tests never ran."""
        if diagnosis is None:
            return Diagnosis.insufficient(self._n, self.min_points)
        return diagnosis

    def _track_peak(self, x: float) -> None:
        """Count spikes above the median of the three points before; keep the running max of the
        median of the last three points (an isolated one-step spike is noise there)."""
        a, b, c = self._prev
        self._prev = (b, c, x)
        if self._n > 3 and x - max(min(a, b), min(max(a, b), c)) > self._spike_jump:
            self._spikes += 1
        if self._n >= 3:
            middle = max(min(b, c), min(max(b, c), x))
            if self._start is None:
                self._start = middle
            if middle > self._peak:
                self._peak = middle

    def _log(self, loss: float) -> float:
        if self._ref is None and loss != 0:
            self._ref = abs(loss)
        ratio = loss / self._ref if self._ref else 0.0
        if ratio == math.inf:
            return math.log(loss) - math.log(self._ref)
        return math.log(ratio) if ratio > 1e-12 else _FLOOR

    def _assess(self, step: int) -> Diagnosis:
        x = self._train.means()[:, 0]
        t = np.asarray(self._train.end_steps, dtype=np.float64)
        sigma = noise_scale(x)
        smooth = _median3(x)
        change = max(self.noise_sigmas * sigma, math.log1p(self.min_change))
        split = min(max(best_split(t, x, max(3, x.size // 10)), x.size // 2), x.size - self._min_trend)
        tail_z = mann_kendall_z(x[split:])
        tail_slope = theil_sen_slope(t[split:], x[split:])
        stalled = tail_z > -self._z_crit
        notes = [f"noise {sigma:.2%} per block of {self._train.block_size} points; tail from step "
                 f"{int(t[split])}: Mann-Kendall z {tail_z:.1f}, Theil-Sen slope "
                 f"{tail_slope * 1000:+.2%} per 1000 steps"]
        for test in (
            lambda: self._climb(smooth, x, change),
            lambda: self._swings(tail_z),
            self._overfit,
            lambda: self._flat_tail(smooth, stalled, tail_z),
            lambda: self._slow_decline(smooth, tail_z),
        ):
            finding = test()
            if finding is not None:
                label, strength, evidence = finding
                return self._verdict_for(label, step, strength, [*evidence, *notes])
        strength = _strength(-tail_z, self._z_crit)
        return self._verdict_for("healthy", step, strength, ["the loss keeps falling significantly", *notes])

    def _climb(self, smooth: np.ndarray, x: np.ndarray, change: float):
        low = int(np.argmin(smooth))
        rise = float(smooth[-1] - smooth[low])
        z = mann_kendall_z(x[low:]) if x.size - low >= self._min_trend else 0.0
        if z <= self._z_crit or rise <= math.log1p(self.min_change):
            return None
        trend = f"above its low at step {self._train.end_steps[low]} (Mann-Kendall z {z:.1f} > {self._z_crit:.2f})"
        if rise > change:
            return "lr_high", _strength(z, self._z_crit), [f"the loss climbed {_percent(rise)} {trend}"]
        if self._spikes > self.spike_rate * self._n:
            return "lr_high", _strength(z, self._z_crit), [
                f"repeated spikes ({self._spikes} points jumped {_percent(self._spike_jump)} or more over the "
                f"points before) and the loss rose {_percent(rise)} {trend}"
            ]
        return None

    def _swings(self, tail_z: float):
        cut = self._n % self.buffer
        recent = np.concatenate([self._ring[cut:], self._ring[:cut]]) if self._n >= self.buffer else self._ring[:cut]
        p_value, amplitude, period = periodicity(recent, min_amplitude=math.log1p(self.osc_amplitude))
        if p_value < self.alpha and amplitude > math.log1p(self.osc_amplitude):
            return "lr_high", _strength(-math.log10(max(p_value, 1e-300)), -math.log10(self.alpha)), [
                f"the loss swings periodically (period {period} points, amplitude {_percent(amplitude)}; "
                f"Fisher's g p = {p_value:.1e})"
            ]
        self._point_noise = point_noise = noise_scale(recent)
        if tail_z <= -self._z_crit:
            return None
        if point_noise > math.log1p(self.swing_noise):
            return "lr_high", _strength(point_noise, math.log1p(self.swing_noise)), [
                f"wild swings: {_percent(point_noise)} noise per point and no significant decline"
            ]
        return None

    def _overfit(self):
        if len(self._val) < self._min_trend:
            return None
        pairs = self._val.means()
        train, val = pairs[:, 0], pairs[:, 1]
        smooth = _median3(val)
        low = int(np.argmin(smooth))
        if val.size - low < self._min_trend:
            return None
        rise = float(smooth[-1] - smooth[low])
        z = mann_kendall_z(val[low:])
        t = np.asarray(self._val.end_steps[low:], dtype=np.float64)
        train_slope = theil_sen_slope(t, train[low:])
        change = max(self.noise_sigmas * noise_scale(val), math.log1p(self.min_change))
        if rise > change and z > self._z_crit and train_slope <= 0:
            return "overfit", _strength(z, self._z_crit), [
                f"val loss rose {_percent(rise)} since its minimum at step {self._val.end_steps[low]} "
                f"(Mann-Kendall z {z:.1f}) while the train loss did not rise"
            ]
        return None

    def _flat_tail(self, smooth: np.ndarray, stalled: bool, tail_z: float):
        if not stalled:
            return None
        flatness = _strength(self._z_crit - abs(tail_z), self._z_crit)
        if self._lr_last is not None and self._lr_peak > 0 and self._lr_last < self.lr_decayed * self._lr_peak:
            return "healthy", flatness, [
                f"the tail is flat, but lr decayed to {self._lr_last / self._lr_peak:.1%} of its peak: the schedule"
            ]
        drop = float(smooth[0] - smooth[-1])
        near_start = drop < -math.log1p(-self.low_drop)
        peak = self._peak - self._start if self._start is not None else 0.0
        if near_start and peak > max(self.noise_sigmas * self._point_noise, -math.log1p(-self.low_drop)):
            return "lr_high", flatness, [
                f"the loss spiked {_percent(peak)} above its start, then collapsed into a flat line"
            ]
        if not near_start:
            return "plateau", flatness, [f"the loss changed by {_percent(-drop)} from its start, then stopped falling"]
        grads = self._grad.means()[:, 0] if len(self._grad) >= 5 else None
        if grads is not None and grads[-3:].mean() - grads[:3].max() < math.log(self.vanish):
            return "plateau", flatness, ["flat near its start while the gradient norm vanished"]
        reason = "gradients alive" if grads is not None else "no grad_norm to tell a stuck run apart"
        return "lr_low", 0.5 * flatness, [f"flat near its start ({reason})"]

    def _slow_decline(self, smooth: np.ndarray, tail_z: float):
        drop = float(smooth[0] - smooth[-1])
        if drop < -math.log1p(-self.low_drop):
            return "lr_low", _strength(-tail_z, self._z_crit), [
                f"a steady but tiny decline: {_percent(-drop)} from the start (< {self.low_drop:.0%})"
            ]
        return None

    def _verdict_for(self, label: str, step: int, strength: float, evidence: list[str]) -> Diagnosis:
        if self._episode is None or self._episode[0] != label:
            self._episode = (label, step)
        onset = None if label == "healthy" else self._episode[1]
        share = 0.6 + 0.35 * strength
        rest = 1.0 - share
        probabilities = {name: 0.4 * rest / (len(LABELS) - 1) for name in LABELS}
        probabilities[label] = share
        probabilities[_CONFUSED_WITH[label]] += 0.6 * rest
        return Diagnosis(label, probabilities, onset_step=onset, evidence=evidence)


def _median3(values: np.ndarray) -> np.ndarray:
    """Running median of three (ends kept): removes single-block spikes before levels are compared."""
    if values.size < 3:
        return values.copy()
    a, b, c = values[:-2], values[1:-1], values[2:]
    inner = np.maximum(np.minimum(a, b), np.minimum(np.maximum(a, b), c))
    return np.concatenate([values[:1], inner, values[-1:]])


def _percent(log_change: float) -> str:
    """A change of log-loss as a signed percentage of the loss (a factor when it is huge)."""
    if log_change > math.log(100.0):
        return f"x{math.exp(min(log_change, 700.0)):.3g}"
    change = math.expm1(log_change)
    return f"{change:+.0%}" if abs(change) >= 1 else f"{change:+.1%}"


def _strength(statistic: float, threshold: float) -> float:
    """How far a statistic clears its threshold, mapped to [0, 1)."""
    margin = (statistic - threshold) / max(abs(threshold), 1e-12)
    return 1.0 - math.exp(-max(margin, 0.0)) if math.isfinite(margin) else 1.0
