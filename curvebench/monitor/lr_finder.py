"""``LRFinder``: the learning-rate range test (Smith, 2017) and its two usual suggestions.

One training step per learning rate, the rates growing exponentially from ``min_lr`` to
``max_lr``; the sweep stops early once the loss is non-finite or its smoothed value exceeds
``diverge_factor`` times its best. The smoothed loss is a bias-corrected exponential average
(``beta``). Two suggestions come back:

- ``steepest_lr``: where the smoothed loss falls fastest per unit of log learning rate, before
  its minimum;
- ``valley_lr``: the longest stretch over which the smoothed loss keeps falling (its longest
  decreasing subsequence, a robust version of "the valley"), two thirds of the way along it in
  log learning rate, well inside the descent and before the bottom. This is ``suggestion``.

``train_fn(lr)`` runs one step at ``lr`` and returns the loss; :func:`lr_range_test` builds it
for a torch model and puts the model and optimizer back as they were afterwards.

>>> import math
>>> def train_fn(lr):  # a loss that falls fastest near lr = 1e-2 and blows up past 1
...     return 2.0 - math.tanh(math.log10(lr) + 2) + (1e3 if lr > 1 else 0.0)
>>> result = LRFinder(min_lr=1e-6, max_lr=10, steps=71, beta=0.0).run(train_fn)
>>> result.diverged, len(result.lrs) < 71
(True, True)
>>> f"{result.steepest_lr:.0e}", f"{result.valley_lr:.0e}"
('1e-02', '1e-02')
"""

from __future__ import annotations

import copy
import itertools
import math
from dataclasses import dataclass
from typing import Any, Callable, Iterable

import numpy as np


@dataclass(frozen=True, eq=False)
class LRFinderResult:
    """The sweep: learning rates, raw and smoothed losses, the two suggestions, whether it stopped early."""

    lrs: np.ndarray
    losses: np.ndarray
    smoothed: np.ndarray
    steepest_lr: float
    valley_lr: float
    diverged: bool

    @property
    def suggestion(self) -> float:
        """The learning rate to use: ``valley_lr``."""
        return self.valley_lr

    def plot(self, path: str | None = None, figure: Any = None) -> Any:
        """Loss against log learning rate with both suggestions marked; saved as PNG to ``path`` if given."""
        if figure is None:
            from matplotlib.figure import Figure

            figure = Figure(figsize=(7, 4), layout="constrained")
        ax = figure.subplots()
        ax.plot(self.lrs, self.losses, color="tab:blue", alpha=0.35, lw=0.8, label="loss")
        ax.plot(self.lrs, self.smoothed, color="tab:blue", lw=1.6, label="smoothed")
        for lr, name, color in [(self.steepest_lr, "steepest", "tab:red"), (self.valley_lr, "valley", "tab:green")]:
            if math.isfinite(lr):
                ax.axvline(lr, color=color, ls="--", lw=1, label=f"{name} {lr:.2g}")
        ax.set_xscale("log")
        ax.set_xlabel("learning rate")
        ax.set_ylabel("loss")
        ax.legend(fontsize="small")
        if path is not None:
            figure.savefig(path, format="png", dpi=100)
        return figure


class LRFinder:
    """The LR range test; see the module docstring."""

    def __init__(
        self,
        min_lr: float = 1e-7,
        max_lr: float = 10.0,
        steps: int = 100,
        *,
        beta: float = 0.9,
        diverge_factor: float = 4.0,
    ) -> None:
        if not 0 < min_lr < max_lr < math.inf:
            raise ValueError(f"need 0 < min_lr < max_lr, got {min_lr} and {max_lr}")
        if steps < 3:
            raise ValueError(f"steps must be >= 3, got {steps}")
        if not 0 <= beta < 1:
            raise ValueError(f"beta must be in [0, 1), got {beta}")
        if not diverge_factor > 1:
            raise ValueError(f"diverge_factor must be > 1, got {diverge_factor}")
        self.min_lr = min_lr
        self.max_lr = max_lr
        self.steps = steps
        self.beta = beta
        self.diverge_factor = diverge_factor

    def schedule(self) -> np.ndarray:
        """The learning rates of the sweep.

        >>> LRFinder(1e-3, 1e-1, steps=3).schedule().tolist()
        [0.001, 0.01, 0.1]
        """
        return np.geomspace(self.min_lr, self.max_lr, self.steps)

    def run(self, train_fn: Callable[[float], float]) -> LRFinderResult:
        """Sweep: call ``train_fn(lr)`` for each rate until the end or divergence."""
        lrs, losses, smoothed = [], [], []
        average, best, diverged = 0.0, math.inf, False
        for k, lr in enumerate(self.schedule().tolist()):
            loss = float(train_fn(lr))
            lrs.append(lr)
            losses.append(loss)
            if not math.isfinite(loss):
                smoothed.append(loss)
                diverged = True
                break
            average = self.beta * average + (1 - self.beta) * loss
            value = average / (1 - self.beta ** (k + 1))
            smoothed.append(value)
            best = min(best, value)
            if value > self.diverge_factor * best:
                diverged = True
                break
        lrs_a, smooth_a = np.array(lrs), np.array(smoothed)
        return LRFinderResult(
            lrs=lrs_a, losses=np.array(losses), smoothed=smooth_a,
            steepest_lr=_steepest(lrs_a, smooth_a), valley_lr=_valley(lrs_a, smooth_a), diverged=diverged,
        )


def _finite_prefix(lrs: np.ndarray, smoothed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The sweep up to the minimum of the smoothed loss (inclusive)."""
    finite = np.isfinite(smoothed)
    if not finite.any():
        return lrs[:0], smoothed[:0]
    end = int(np.nanargmin(np.where(finite, smoothed, np.nan))) + 1
    return lrs[:end], smoothed[:end]


def _steepest(lrs: np.ndarray, smoothed: np.ndarray) -> float:
    lrs, smoothed = _finite_prefix(lrs, smoothed)
    if lrs.size < 2:
        return math.nan
    slope = np.gradient(smoothed, np.log(lrs))
    return float(lrs[int(np.argmin(slope))])


def _valley(lrs: np.ndarray, smoothed: np.ndarray) -> float:
    finite = np.isfinite(smoothed)
    lrs, smoothed = lrs[finite], smoothed[finite]
    if lrs.size < 2:
        return math.nan
    start, end = _longest_decrease(smoothed)
    position = math.log(lrs[start]) + (math.log(lrs[end]) - math.log(lrs[start])) * 2 / 3
    return float(lrs[int(np.argmin(np.abs(np.log(lrs) - position)))])


def _longest_decrease(values: np.ndarray) -> tuple[int, int]:
    """First and last index of the longest strictly decreasing subsequence (the earliest if tied)."""
    n = values.size
    length = np.ones(n, dtype=int)
    origin = np.arange(n)
    for j in range(n):
        for i in range(j):
            if values[i] > values[j] and length[i] + 1 > length[j]:
                length[j], origin[j] = length[i] + 1, origin[i]
    end = int(np.argmax(length))
    return int(origin[end]), end


def lr_range_test(
    model: Any,
    optimizer: Any,
    loss_fn: Callable[[Any, Any], Any],
    batches: Iterable[tuple[Any, Any]],
    finder: LRFinder | None = None,
) -> LRFinderResult:
    """Run ``finder`` (default ``LRFinder()``) on a torch model, then restore the model's and optimizer's state.

    ``batches`` yields ``(inputs, targets)`` and is cycled; each step sets every parameter group's
    learning rate, computes ``loss_fn(model(inputs), targets)``, back-propagates and steps.
    """
    finder = finder or LRFinder()
    saved_model = copy.deepcopy(model.state_dict())
    saved_optimizer = copy.deepcopy(optimizer.state_dict())
    stream = itertools.cycle(batches)

    def train_fn(lr: float) -> float:
        inputs, targets = next(stream)
        for group in optimizer.param_groups:
            group["lr"] = lr
        optimizer.zero_grad()
        loss = loss_fn(model(inputs), targets)
        loss.backward()
        optimizer.step()
        return float(loss.detach())

    try:
        return finder.run(train_fn)
    finally:
        model.load_state_dict(saved_model)
        optimizer.load_state_dict(saved_optimizer)
