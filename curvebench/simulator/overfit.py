"""Memorization and confidence growth: the validation cost that makes an overfit run's validation loss rise as asked.

Memorizing a training set drives the *training* loss almost to zero (small networks reach ~1e-5 of
their cross-entropy, while validation rises only by tens of percent: a confident wrong answer costs
far less than the memorized answers saved; the recorded ``overfit`` runs of
``curvebench/datasets/README.md`` show train/validation ratios of 10^1 to 10^11). So an overfit run
has two memorization amounts: ``M_train``, set before integration from ``train_residual`` (the
training loss ends at ``train_residual`` of the floor), and ``M_val``, the validation cost of it,
solved here.

The validation cost does not come with the memorization itself but with the *confidence growth*
after it: once a network separates its training set, the training loss keeps falling only as the
logits grow (the weight norm grows like the log of the inverse loss; Soudry et al., 2018), and the
validation examples it gets wrong then cost in proportion to that margin. So the cost follows the
margin ``m(t) = log(1 + q_c / q(t)) - log(1 + q_c)``, where ``q(t)`` is the training loss of the
memorized part relative to its start (``train_residual + (1 - train_residual) r(t)``, ``r`` the
share of memorization not yet done): near zero while ``q >> q_c``, then linear in ``log(1/q)``, as in
the recorded runs, whose validation rise after the minimum tracks the fall of the log training loss
(digits: validation minimum at 8-17% of the run, when training is already down 300-1,200x). ``q_c``
is ``confidence_at`` times ``q`` at the onset; the cost saturates as ``m / (1 + m / m_sat)``
(``confidence_saturation``; a regression's squared error saturates, the recorded diabetes runs rise
within the first third after their minimum).

In the optimizer model a memorization mode's mean decays as ``P_j(t) = prod_i (1 - eta_i h_j)``
and nothing else feeds back into it (overfit runs have no clipping, spikes, weight decay or
dead units), so the validation cost the dynamics gave the memorization modes is known exactly,
``M_train sum_j w_j (1 - P_j)**2`` (``w``: the modes' shares). :func:`calibrate` takes it out and
finds, by bisection, the ``M_val`` whose validation loss ``base(t) + M_val * cost(t)`` (at the run's
evaluation steps) ends ``target`` above its minimum, and rewrites the validation trajectory for it
(training loss and gradient norm keep ``M_train``). ``M_val`` stays below ``MOST`` times the chance level.

>>> factors = np.array([[[1.0, 0.5, 0.25]]])
>>> validation_gain(factors, np.array([[1.0]])).tolist()
[[0.0, 0.25, 0.5625]]
>>> cost = confidence_cost(np.array([[1.0, 0.1, 1e-3]]), np.array([0.1]), np.array([np.inf]))
>>> [round(float(c), 3) for c in cost[0]]
[0.0, 0.598, 4.52]
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


def validation_gain(factors: np.ndarray, shares: np.ndarray) -> np.ndarray:
    """Validation loss the dynamics gave each unit of memorization: ``sum_j w_j (1 - P_j)**2``
    (``shares``: ``(runs, modes)``)."""
    return (shares[:, :, None] * (1.0 - factors) ** 2).sum(axis=1)


def memorized_share(factors: np.ndarray, shares: np.ndarray, residual: np.ndarray) -> np.ndarray:
    """``q(t)``: the training loss of the memorized part relative to its start, from 1 down to ``residual``."""
    left = (shares[:, :, None] * factors ** 2).sum(axis=1)
    return residual[:, None] + (1.0 - residual[:, None]) * left


def confidence_cost(q: np.ndarray, q_c: np.ndarray, saturation: np.ndarray) -> np.ndarray:
    """Validation cost per unit of ``M_val``: the margin ``log(1 + q_c/q) - log(1 + q_c)``, saturating at
    ``saturation``."""
    margin = np.log1p(q_c[:, None] / q) - np.log1p(q_c)[:, None]
    return margin / (1.0 + margin / saturation[:, None])


def target_rise(knobs) -> np.ndarray:
    """The noiseless validation rise that keeps the observed one above ``rise`` despite evaluation noise."""
    return 1.1 * knobs["rise"] + 4.0 * knobs["val_noise"] * (1.0 + knobs["rise"])


def calibrate(traj, model, knobs, val_steps: list, rows: slice, *, exact: bool = False) -> None:
    """Rewrite the validation loss of ``traj`` at ``rows`` so each validation rise is :func:`target_rise`, or
    ``knobs["rise"]`` itself if ``exact`` (a healthy run's rise is an upper bound, not a floor)
    (``knobs["val_memorization"]`` records the amount, as a fraction of the learnable loss)."""
    params = model.params
    factors = remaining(model.eta(rows), params.h[rows, -MEMORIZATION_MODES:])
    split = knobs["memorization_split"][rows]
    shares = np.stack([1.0 - split, split], axis=1)
    q = memorized_share(factors, shares, knobs["train_residual"][rows])
    at = np.minimum((knobs["onset_at"][rows] * knobs["steps"][rows]).astype(np.int64), q.shape[1] - 1)
    q_c = knobs["confidence_at"][rows] * q[np.arange(len(at)), at]
    cost = confidence_cost(q, q_c, knobs["confidence_saturation"][rows])
    learnable = knobs["chance_loss"][rows] - knobs["floor_loss"][rows]
    old = knobs["memorization"][rows] * learnable
    base = traj.val[:, rows] - (old[:, None] * validation_gain(factors, shares)).T
    new = np.empty_like(old)
    counts = np.array([len(steps) for steps in val_steps[rows]], dtype=np.int64)
    evaluated = np.zeros((len(counts), int(counts.max(initial=0))), dtype=np.int64)
    for i, steps in enumerate(val_steps[rows]):
        evaluated[i, : len(steps)] = steps
    target = knobs["rise"] if exact else target_rise(knobs)
    _solve_runs(base, cost, target[rows], MOST * knobs["chance_loss"][rows], evaluated, counts, new)
    traj.val[:, rows] = base + new[None, :] * cost.T
    knobs["val_memorization"][rows] = new / learnable


@njit(cache=True, nogil=True, error_model="numpy")
def _solve_runs(base, cost, target, most, evaluated, counts, new):
    """``new[i]``: run ``i``'s validation memorization, from its validation loss ``base[:, i]`` without it."""
    for i in range(len(new)):
        n = counts[i]
        at, slope = np.empty(n), np.empty(n)
        for j in range(n):
            s = evaluated[i, j]
            slope[j] = cost[i, s]
            at[j] = base[s, i]
        new[i] = _solve(at, slope, target[i], most[i])


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
