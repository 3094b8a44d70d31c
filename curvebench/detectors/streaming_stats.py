"""A bounded summary of a long series for streaming detectors: block means whose size doubles.

:class:`BlockSeries` keeps the mean of every ``block_size`` consecutive points; when it holds
``capacity`` closed blocks it merges neighbours pairwise and doubles ``block_size``. A series of
any length is thus summarised by ``capacity / 2`` to ``capacity`` blocks (a short series is kept
point by point), each push costs O(1) amortized, and longer blocks average the per-step noise
away. Each point is a tuple of floats of fixed width (a train loss, or a train/val pair).

>>> blocks = BlockSeries(capacity=4)
>>> closed = [blocks.push(step, [float(step)]) for step in range(7)]
>>> blocks.block_size, blocks.means()[:, 0].tolist(), blocks.end_steps
(2, [0.5, 2.5, 4.5], [1, 3, 5])
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Sequence

import numpy as np


class BlockSeries:
    """Means of consecutive blocks of a streamed series, at most ``capacity`` of them (even, >= 2).

    Blocks start ``block_size`` points long and double each time the series fills up.
    """

    def __init__(self, capacity: int = 64, block_size: int = 1) -> None:
        if not isinstance(capacity, int) or capacity < 2 or capacity % 2:
            raise ValueError(f"capacity must be an even integer >= 2, got {capacity!r}")
        if not isinstance(block_size, int) or block_size < 1:
            raise ValueError(f"block_size must be a positive integer, got {block_size!r}")
        self.capacity = capacity
        self.block_size = block_size
        self.end_steps: list[int] = []
        self._means: list[list[float]] = []
        self._sum: list[float] | None = None
        self._count = 0

    def __len__(self) -> int:
        return len(self._means)

    def push(self, step: int, point: Sequence[float]) -> bool:
        """Add one point; ``True`` when it closed a block."""
        if self._sum is None:
            self._sum = list(point)
        else:
            self._sum = [a + b for a, b in zip(self._sum, point)]
        self._count += 1
        if self._count < self.block_size:
            return False
        self._means.append([s / self._count for s in self._sum])
        self.end_steps.append(step)
        self._sum, self._count = None, 0
        if len(self._means) == self.capacity:
            self._halve()
        return True

    def means(self) -> np.ndarray:
        """The closed blocks' means, shape ``(len(self), width)``."""
        return np.array(self._means, dtype=np.float64).reshape(len(self._means), -1)

    def _halve(self) -> None:
        pairs = zip(self._means[0::2], self._means[1::2])
        self._means = [[(a + b) / 2.0 for a, b in zip(left, right)] for left, right in pairs]
        self.end_steps = self.end_steps[1::2]
        self.block_size *= 2


def median(values: np.ndarray) -> float:
    """The median of a non-empty array, by one sort (faster than ``np.median`` on short arrays).

    >>> median(np.array([3.0, 1.0, 2.0, 10.0]))
    2.5
    """
    ordered = np.sort(values)
    mid = ordered.size // 2
    return float(ordered[mid] if ordered.size % 2 else (ordered[mid - 1] + ordered[mid]) / 2.0)


def mann_kendall_z(values: np.ndarray) -> float:
    """The Mann-Kendall trend statistic as a z-score (> 0: rising); 0 for fewer than 3 values.

    S counts rising minus falling pairs; its variance under "no trend" is n(n-1)(2n+5)/18 (ties are
    not corrected for), and z applies the usual continuity correction.

    >>> round(mann_kendall_z(np.arange(10.0)), 2), mann_kendall_z(np.ones(10))
    (3.94, 0.0)
    """
    n = values.size
    if n < 3:
        return 0.0
    first, second = _pairs(n)
    s = float(np.sign(values[second] - values[first]).sum())
    if s == 0:
        return 0.0
    var = n * (n - 1) * (2 * n + 5) / 18.0
    return float((s - np.sign(s)) / np.sqrt(var))


def theil_sen_slope(t: np.ndarray, values: np.ndarray) -> float:
    """The median of all pairwise slopes (Theil-Sen): a trend that ignores outliers; 0 if undefined.

    >>> theil_sen_slope(np.arange(5.0), np.array([0.0, 2.0, 4.0, 60.0, 8.0]))
    2.0
    """
    first, second = _pairs(values.size)
    dt = t[second] - t[first]
    keep = dt != 0
    if not keep.any():
        return 0.0
    return median((values[second] - values[first])[keep] / dt[keep])


@lru_cache(maxsize=256)
def _pairs(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Index arrays (i, j) of all pairs i < j of n items, cached: the tests rerun on the same sizes."""
    first, second = np.triu_indices(n, 1)
    first.flags.writeable = False
    second.flags.writeable = False
    return first, second


def noise_scale(values: np.ndarray) -> float:
    """A robust scale of the white noise on a curve: MAD of second differences, made Gaussian-consistent.

    Second differences cancel any locally linear trend; for white noise of standard deviation
    sigma they have standard deviation sigma * sqrt(6), and 1.4826 * median |.| estimates it.

    >>> rng = np.random.default_rng(0)
    >>> round(noise_scale(np.linspace(5, 1, 4000) + 0.1 * rng.standard_normal(4000)), 1)
    0.1
    """
    if values.size < 3:
        return 0.0
    return 1.4826 * median(np.abs(np.diff(values, 2))) / math.sqrt(6.0)


def best_split(t: np.ndarray, values: np.ndarray, min_size: int = 3) -> int:
    """The index where two straight lines fitted before and from it leave the least squared error.

    One pass of binary segmentation with a piecewise-linear cost, in O(n) from prefix sums;
    ``t`` strictly increasing, ``min_size`` >= 2 points on each side (returns 0 when the series
    is too short to split).

    >>> x = np.r_[np.linspace(3, 1.2, 20), np.ones(30)]
    >>> best_split(np.arange(50.0), x)
    20
    """
    n = values.size
    if n < 2 * min_size:
        return 0
    t = t - t.mean()
    sums = np.cumsum(np.array([t, values, t * t, values * values, t * values]), axis=1)
    splits = np.arange(min_size, n - min_size + 1)
    left = sums[:, splits - 1]
    # rows: sum t, sum x, sum tt, sum xx, sum tx; middle axis: the segment before / from the split
    st, sx, stt, sxx, stx = np.stack([left, sums[:, -1:] - left], axis=1)
    counts = np.array([splits, n - splits], dtype=np.float64)
    sse = (sxx - sx * sx / counts) - (stx - st * sx / counts) ** 2 / (stt - st * st / counts)
    return int(splits[np.argmin(np.maximum(sse, 0.0).sum(axis=0))])


def periodicity(values: np.ndarray, lowest: int = 3, min_amplitude: float = 0.0) -> tuple[float, float, int]:
    """Fisher's g test for one hidden period in a linearly detrended series.

    Returns ``(p_value, amplitude, period)``: the chance that white noise puts so large a share of
    its periodogram into one frequency (Fisher's first-term approximation), the amplitude of that
    sinusoid, and its period in points. Frequencies below ``lowest`` cycles per series are left
    out (they hold what the linear detrend left of the curve's bend). When the residual's
    variance rules out any sinusoid of ``min_amplitude`` (Parseval: amplitude^2 <= 2 variance),
    the answer is ``(1.0, 0.0, 0)`` without a transform.

    >>> t = np.arange(128.0)
    >>> p, amplitude, period = periodicity(np.sin(np.pi * t / 4) + 0.1 * np.random.default_rng(0).standard_normal(128))
    >>> p < 1e-6, round(amplitude, 1), period
    (True, 1.0, 8)
    """
    n = values.size
    if n < 2 * lowest + 4:
        return 1.0, 0.0, 0
    t = np.arange(n, dtype=np.float64) - (n - 1) / 2.0
    slope = float(t @ values) / float(t @ t)
    residual = values - values.mean() - slope * t
    if 2.0 * float(residual @ residual) / n < min_amplitude**2:
        return 1.0, 0.0, 0
    power = np.abs(np.fft.rfft(residual)[lowest : (n - 1) // 2 + 1]) ** 2
    total = float(power.sum())
    if total <= 0:
        return 1.0, 0.0, 0
    k = int(np.argmax(power))
    g = float(power[k]) / total
    m = power.size
    p_value = min(1.0, m * (1.0 - g) ** (m - 1))
    return p_value, float(2.0 * np.sqrt(power[k]) / n), int(round(n / (k + lowest)))
