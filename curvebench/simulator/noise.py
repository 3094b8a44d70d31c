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

>>> z = np.array([[0.0, 1.0, -1.0]]); u = np.array([[0.5, 0.5, 0.001]])
>>> standard_noise(z, u, **SHAPES["skewed"]).round(2).tolist()
[[0.0, 1.0, 8.6]]
>>> noisy_loss(np.array([2.0]), np.array([0.5]), np.array([0.1])).tolist()
[2.1]
"""

from __future__ import annotations

import numpy as np

SHAPES: dict[str, dict[str, float]] = {
    "gaussian": {"jump_prob": 0.0, "jump_alpha": 3.0, "jump_min": 2.5, "wide_prob": 0.0, "wide_scale": 1.0},
    "skewed": {"jump_prob": 0.045, "jump_alpha": 3.0, "jump_min": 2.7, "wide_prob": 0.03, "wide_scale": 2.4},
    "symmetric": {"jump_prob": 0.0, "jump_alpha": 3.0, "jump_min": 2.5, "wide_prob": 0.08, "wide_scale": 3.0},
}
"""Named noise shapes: the mixture parameters of :func:`standard_noise`."""

LOWEST_FACTOR = 0.05
"""A noisy loss never falls below this fraction of the expected loss (losses stay positive)."""


def standard_noise(z, u, *, jump_prob, jump_alpha, jump_min, wide_prob, wide_scale) -> np.ndarray:
    """The standardised mixture draw ``eps`` from normals ``z`` and uniforms ``u``, ``(runs, points)``.

    Parameters are per run, shaped ``(runs, 1)`` (or scalars).
    """
    jump_prob, jump_alpha, jump_min = (np.broadcast_to(np.asarray(a, dtype=np.float64), (u.shape[0], 1))
                                       for a in (jump_prob, jump_alpha, jump_min))
    hit = u < jump_prob
    out = np.where((u < jump_prob + wide_prob) & ~hit, z * wide_scale, z)
    rows, cols = np.nonzero(hit)
    r = rows, np.zeros_like(rows)
    out[rows, cols] += jump_min[r] * (u[rows, cols] / jump_prob[r]) ** (-1.0 / jump_alpha[r])
    return out


def noisy_loss(expected: np.ndarray, eps: np.ndarray, sigma: np.ndarray) -> np.ndarray:
    """``expected * (1 + sigma * eps)``, floored at :data:`LOWEST_FACTOR` of ``expected``; NaN stays NaN."""
    factor = np.maximum(1.0 + sigma * eps, LOWEST_FACTOR)
    return expected * factor
