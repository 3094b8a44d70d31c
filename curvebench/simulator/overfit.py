"""Memorization solved exactly: the amount that makes an overfit run's validation loss rise as asked.

Memorizing a training set drives the *training* loss almost to zero (small networks reach ~1e-5 of
their cross-entropy, while validation rises only by tens of percent: a confident wrong answer costs
far less than the memorized answers saved; the recorded ``overfit`` runs of
``curvebench/datasets/README.md`` show train/validation ratios of 10^1 to 10^11). So an overfit run
has two memorization amounts: ``M_train``, set before integration from ``train_residual`` (the
training loss ends at ``train_residual`` of the floor), and ``M_val``, the validation cost of it,
solved here.

In the optimizer model a memorization mode's mean decays as ``P_j(t) = prod_i (1 - eta_i h_j)``
and nothing else feeds back into it (overfit runs have no clipping, spikes, weight decay or
dead units). With memorization split over two modes, the noiseless validation loss is *linear*
in its amount::

    val(t)   = A(t) + M_val * sum_j (1 - P_j)**2 / 2

so after one integration :func:`calibrate` finds, by bisection, the ``M_val`` whose validation
loss (at the run's evaluation steps) ends ``target`` above its minimum, and rewrites the
validation trajectory for it (training loss and gradient norm keep ``M_train``). ``M_val`` stays
below ``MOST`` times the chance level.

>>> factors = np.array([[[1.0, 0.5, 0.25]]])
>>> validation_gain(factors).tolist()
[[0.0, 0.125, 0.28125]]
"""

from __future__ import annotations

import numpy as np
from numba import njit

from curvebench.simulator.assemble import MEMORIZATION_MODES

MOST = 2.0
"""Validation memorization is at most this multiple of the chance level."""


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
    """Rewrite the validation loss of ``traj`` at ``rows`` so each validation rise is :func:`target_rise`
    (``knobs["val_memorization"]`` records the amount, as a fraction of the learnable loss)."""
    params = model.params
    h_mem = params.h[rows, -MEMORIZATION_MODES:]
    val_gain = validation_gain(remaining(model.eta[rows], h_mem))
    learnable = knobs["chance_loss"][rows] - knobs["floor_loss"][rows]
    old = knobs["memorization"][rows] * learnable
    new = np.empty_like(old)
    counts = np.array([len(steps) for steps in val_steps[rows]], dtype=np.int64)
    evaluated = np.zeros((len(counts), int(counts.max(initial=0))), dtype=np.int64)
    for i, steps in enumerate(val_steps[rows]):
        evaluated[i, : len(steps)] = steps
    _solve_runs(traj.val[:, rows], val_gain, old, target_rise(knobs)[rows], MOST * knobs["chance_loss"][rows],
                evaluated, counts, new)
    traj.val[:, rows] += (new - old)[None, :] * val_gain.T
    knobs["val_memorization"][rows] = new / learnable


@njit(cache=True, nogil=True, error_model="numpy")
def _solve_runs(val, gain, old, target, most, evaluated, counts, new):
    """``new[i]``: run ``i``'s validation memorization, from its loss ``val[:, i]`` made with ``old[i]``."""
    for i in range(len(old)):
        n = counts[i]
        base, slope = np.empty(n), np.empty(n)
        for j in range(n):
            s = evaluated[i, j]
            slope[j] = gain[i, s]
            base[j] = np.float64(val[s, i]) - old[i] * gain[i, s]
        new[i] = _solve(base, slope, target[i], most[i])


@njit(cache=True, nogil=True, error_model="numpy")
def _solve(base, gain, target, most):
    """Bisection on the memorization ``m`` whose rise ``(val[-1] - min(val)) / min(val)`` is ``target``."""
    low, high = 0.0, most
    if _rise(base, gain, high) < target:
        return high
    for _ in range(50):
        mid = 0.5 * (low + high)
        if _rise(base, gain, mid) >= target:
            high = mid
        else:
            low = mid
    return high


@njit(cache=True, nogil=True, error_model="numpy")
def _rise(base, gain, m):
    """The relative rise of ``base + m * gain`` from its minimum to its end (NaN if any value is NaN)."""
    best = np.inf
    for j in range(len(base)):
        value = base[j] + m * gain[j]
        if np.isnan(value):
            return np.nan
        best = min(best, value)
    last = base[-1] + m * gain[-1]
    return (last - best) / best
