"""Minibatch noise of a logged loss: white, right-skewed and heavy-tailed, like real per-step logs.

A minibatch loss is the model's expected loss times ``1 + sigma * eps``. ``sigma`` is the
relative noise level (about ``example_noise / sqrt(batch_size)``: a mean over a batch), and
``eps`` is a standardised draw (median 0, robust scale about 1) from a three-part mixture:

* a normal core ``z``;
* with probability ``wide_prob``, the core widened ``wide_scale`` times (rare large steps either way);
* with probability ``jump_prob``, an *upward* Pareto jump ``jump_min * U**(-1/jump_alpha)`` (a hard batch).

One uniform ``u`` per step picks the part and, inside the jump part, the jump size, so the
mixture costs one normal and one uniform per logged point. The defaults reproduce the
per-step noise of the modded-nanogpt logs: lag-1 autocorrelation ~0, skew ~+2, excess kurtosis
10-30, ~1.4% of steps above a robust z of 4 and almost none below -4, largest jump ~16-20 robust
units in 6,000 steps (see docs/simulator.md).

A hard batch also raises that step's gradient norm, by ``1 + 3 sigma * jump``.

>>> z, u = np.array([[0.0, 1.0, -1.0]]), np.array([[0.5, 0.5, 0.001]])
>>> train, grad = np.empty((1, 3)), np.ones((1, 3))
>>> minibatch_noise(np.full((1, 3), 2.0), np.full((1, 3), 0.1), z, u, mixture_table(["skewed"], SHAPES["skewed"]), [3], train, grad)
>>> train.round(3).tolist(), grad.round(2).tolist()
([[2.0, 2.2, 3.721]], [[1.0, 1.0, 3.88]])
"""

from __future__ import annotations

import numpy as np
from numba import njit

from curvebench.simulator.parallel import over_runs

SHAPES: dict[str, dict[str, float]] = {
    "gaussian": {"jump_prob": 0.0, "jump_alpha": 3.0, "jump_min": 2.5, "wide_prob": 0.0, "wide_scale": 1.0},
    "skewed": {"jump_prob": 0.045, "jump_alpha": 3.0, "jump_min": 2.7, "wide_prob": 0.03, "wide_scale": 2.4},
    "symmetric": {"jump_prob": 0.0, "jump_alpha": 3.0, "jump_min": 2.5, "wide_prob": 0.08, "wide_scale": 3.0},
}
"""Named noise shapes: the mixture parameters."""
MIXTURE = ("jump_prob", "jump_alpha", "jump_min", "wide_prob", "wide_scale")
"""The mixture parameters, in the column order of :func:`mixture_table`."""

LOWEST_FACTOR = 0.05
"""A noisy loss never falls below this fraction of the expected loss (losses stay positive)."""


def mixture_table(noise_shape, knobs) -> np.ndarray:
    """``(runs, 5)`` mixture parameters of each run's named shape; a ``skewed`` run's jumps come from ``knobs``."""
    skewed = np.asarray(noise_shape) == "skewed"
    columns = []
    for name in MIXTURE:
        named = np.array([SHAPES[shape][name] for shape in noise_shape], dtype=np.float64)
        columns.append(np.where(skewed, knobs[name], named) if name.startswith("jump") and skewed.any() else named)
    return np.stack(columns, axis=1)


def minibatch_noise(expected, sigma, z, u, mixture, counts, train, grad) -> None:
    """Write ``train`` = ``expected * max(1 + sigma * eps, LOWEST_FACTOR)`` (NaN stays NaN) at each run's first
    ``counts`` points, ``eps`` the mixture draw from normals ``z`` and uniforms ``u``; raise ``grad`` on hard batches.

    Arrays are ``(runs, points)``; ``mixture`` is :func:`mixture_table`'s.
    """
    counts = np.asarray(counts, dtype=np.int64)
    over_runs(lambda *turn: _minibatch(*turn, expected, sigma, z, u, mixture, counts, LOWEST_FACTOR, train, grad),
              len(counts))


@njit(cache=True, nogil=True)
def _minibatch(first, stride, block, expected, sigma, z, u, mixture, counts, lowest, train, grad):
    runs = expected.shape[0]
    for b in range(first * block, runs, stride * block):
        for r in range(b, min(b + block, runs)):
            jump_prob, jump_alpha, jump_min = mixture[r, 0], mixture[r, 1], mixture[r, 2]
            wide_prob, wide_scale = mixture[r, 3], mixture[r, 4]
            for j in range(counts[r]):
                eps, uniform = z[r, j], u[r, j]
                if uniform < jump_prob:
                    eps = eps + jump_min * (uniform / jump_prob) ** (-1.0 / jump_alpha)
                elif uniform < jump_prob + wide_prob:
                    eps = eps * wide_scale
                factor = 1.0 + sigma[r, j] * eps
                if factor < lowest:
                    factor = lowest
                train[r, j] = expected[r, j] * factor
                if uniform < jump_prob:
                    grad[r, j] *= 1.0 + 3.0 * sigma[r, j] * (eps - z[r, j])
