"""Parametric learning-curve families, written as mixtures of exponentials the optimizer model can run.

Learning-curve extrapolation work fits a run's loss with a few parametric families: power laws,
exponentials and their mixtures (Domhan et al., 2015; Adriaensen et al., 2023). Each is a
mixture of exponential decays ``sum_i w_i exp(-tau / t_i)``, and an exponential decay with time
scale ``t_i`` is exactly what one quadratic mode of the optimizer model does under gradient
flow. So a family here is a rule that spreads a run's initial excess loss over the modes'
time scales ``t_i``:

* ``power_law`` — ``(1 + tau / t0) ** -alpha`` is the Laplace transform of a Gamma(alpha) rate
  density, so mode ``i`` gets weight ``∝ s_i**alpha * exp(-s_i)`` with ``s_i = t0 / t_i``;
* ``exponential`` — one dominant time scale ``t0`` (log-normal weights of width 0.35 decades);
* ``mixture`` — ``share`` of an exponential at ``t0`` plus the rest as a power law at ``t0``.

>>> t = np.array([[1.0, 10.0, 100.0, 1000.0]])
>>> mode_weights(["exponential"], t, t0=[10.0], alpha=[1.0], share=[0.5]).round(3).tolist()
[[0.016, 0.967, 0.016, 0.0]]
>>> float(gradient_flow_curve(np.array([[0.5, 0.5]]), np.array([[1.0, 100.0]]), np.array([[0.0]]))[0, 0])
1.0
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

FAMILIES: tuple[str, ...] = ("power_law", "exponential", "mixture")
"""The learning-curve families :func:`mode_weights` knows."""


def mode_weights(
    families: Sequence[str],
    timescales: np.ndarray,
    *,
    t0: Sequence[float],
    alpha: Sequence[float],
    share: Sequence[float],
) -> np.ndarray:
    """Weights ``(runs, modes)`` summing to 1 per run, spreading a run's excess loss over its modes."""
    unknown = sorted(set(families) - set(FAMILIES))
    if unknown:
        raise KeyError(f"unknown curve family {unknown[0]!r}; expected one of {', '.join(FAMILIES)}")
    t0 = np.asarray(t0, dtype=np.float64)[:, None]
    alpha = np.asarray(alpha, dtype=np.float64)[:, None]
    share = np.asarray(share, dtype=np.float64)[:, None]
    s = t0 / timescales
    power = _normalise(np.exp(alpha * np.log(s) - s))
    exponential = _normalise(np.exp(-0.5 * (np.log10(s) / 0.35) ** 2))
    kind = np.array(list(families))[:, None]
    mixed = share * exponential + (1.0 - share) * power
    return np.where(kind == "power_law", power, np.where(kind == "exponential", exponential, mixed))


def gradient_flow_curve(weights: np.ndarray, timescales: np.ndarray, tau: np.ndarray) -> np.ndarray:
    """The family's curve ``sum_i w_i exp(-tau / t_i)`` at effective times ``tau`` ``(runs, points)``."""
    terms = weights[:, :, None] * np.exp(-tau[:, None, :] / timescales[:, :, None])
    return sum_columns(np.moveaxis(terms, 1, 0))


def sum_columns(columns) -> np.ndarray:
    """``columns[0] + columns[1] + ...`` in that order: the same rounding for a run alone or in a batch."""
    total = columns[0].copy()
    for column in columns[1:]:
        total += column
    return total


def _normalise(w: np.ndarray) -> np.ndarray:
    w = np.where(w > 1e-12 * w.max(axis=1, keepdims=True), w, 0.0)
    return w / sum_columns(w.T)[:, None]
