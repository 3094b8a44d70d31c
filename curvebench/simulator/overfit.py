"""Memorization solved exactly: the amount that makes an overfit run's validation loss rise as asked.

In the optimizer model a memorization mode's mean decays as ``P_j(t) = prod_i (1 - eta_i h_j)``
and nothing else feeds back into it (overfit runs have no clipping, spikes, weight decay or
dead units). With memorization ``M`` split over two modes, the noiseless losses are *linear*
in ``M``::

    val(t)   = A(t) + M * sum_j (1 - P_j)**2 / 2
    train(t) = C(t) + M * (sum_j P_j**2 / 2 - 1)      (the training floor sits M below)
    grad(t)**2 = B(t) + grad_scale**2 * M * sum_j h_j P_j**2 / 2 * 2

so after one integration :func:`calibrate` finds, by bisection, the ``M`` whose validation
loss (at the run's evaluation steps) ends ``target`` above its minimum, and rewrites the
trajectory for it. ``M`` stays below ``MOST`` of the floor: a training loss cannot go below 0.

>>> factors = np.array([[[1.0, 0.5, 0.25]]])
>>> validation_gain(factors).tolist()
[[0.0, 0.125, 0.28125]]
"""

from __future__ import annotations

import numpy as np

from curvebench.simulator.assemble import MEMORIZATION_MODES

MOST = 0.99
"""Memorization is at most this fraction of the loss floor."""


def remaining(eta: np.ndarray, h_mem: np.ndarray) -> np.ndarray:
    """``P_j(t)``, ``(runs, modes, steps)``: the share of each memorization mode not yet learned before step t."""
    step = 1.0 - eta[:, None, :] * h_mem[:, :, None]
    out = np.ones_like(step)
    out[:, :, 1:] = np.cumprod(step[:, :, :-1], axis=2)
    return out


def validation_gain(factors: np.ndarray) -> np.ndarray:
    """Validation loss per unit of memorization: ``sum_j (1 - P_j)**2 / 2``."""
    return 0.5 * ((1.0 - factors) ** 2).sum(axis=1)


def target_rise(knobs) -> np.ndarray:
    """The noiseless validation rise that keeps the observed one above ``rise`` despite evaluation noise."""
    return 1.1 * knobs["rise"] + 4.0 * knobs["val_noise"] * (1.0 + knobs["rise"])


def calibrate(traj, model, knobs, val_steps: list, rows: slice) -> None:
    """Rewrite ``traj`` (and ``knobs["memorization"]``) at ``rows`` so each validation rise is :func:`target_rise`."""
    params = model.params
    h_mem = params.h[rows, -MEMORIZATION_MODES:]
    factors = remaining(model.eta[rows], h_mem)
    val_gain = validation_gain(factors)
    train_gain = 0.5 * (factors**2).sum(axis=1) - 1.0
    grad_gain = (h_mem[:, :, None] * factors**2).sum(axis=1)
    learnable = knobs["chance_loss"][rows] - knobs["floor_loss"][rows]
    old = knobs["memorization"][rows] * learnable
    new = old.copy()
    target = target_rise(knobs)[rows]
    for i, steps in enumerate(val_steps[rows]):
        r = rows.start + i
        base = traj.val[steps, r] - old[i] * val_gain[i, steps]
        new[i] = _solve(base, val_gain[i, steps], target[i], MOST * knobs["floor_loss"][r])
    change = (new - old)[None, :]
    traj.val[:, rows] += change * val_gain.T
    traj.train[:, rows] += change * train_gain.T
    scale = params.grad_scale[None, rows]
    grad2 = traj.grad_norm[:, rows].astype(np.float64) ** 2 + scale**2 * change * grad_gain.T
    traj.grad_norm[:, rows] = np.sqrt(np.maximum(grad2, 0.0))
    knobs["memorization"][rows] = new / learnable


def _solve(base: np.ndarray, gain: np.ndarray, target: float, most: float) -> float:
    def rise(m):
        val = base + m * gain
        best = val.min()
        return (val[-1] - best) / best

    low, high = 0.0, most
    if rise(high) < target:
        return high
    for _ in range(50):
        mid = 0.5 * (low + high)
        low, high = (low, mid) if rise(mid) >= target else (mid, high)
    return high
