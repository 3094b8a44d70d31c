"""Knobs: the named, JSON-ready settings of simulated runs, drawn for many runs at once.

A :class:`Knobs` holds one array per knob name, one entry per run. :class:`Draw` turns a
matrix of uniforms (one row per run, drawn from that run's own generator) into knob values:
each call consumes the next column, so a run's knobs depend only on its own row.

>>> draw = Draw(np.array([[0.5, 0.0], [1.0, 0.75]]))
>>> draw.uniform(0.0, 2.0).tolist(), draw.choice({"a": 0.5, "b": 0.5}).tolist()
([1.0, 2.0], ['a', 'b'])
>>> Knobs({"steps": np.array([100, 200])}).take([1])
{'steps': array([200])}
"""

from __future__ import annotations

from typing import Mapping

import numpy as np

UNIFORMS_PER_RUN = 96
"""Uniforms each run draws for its knobs (more than any scenario uses, so adding a knob is free)."""


def log_between(low, high, u: np.ndarray) -> np.ndarray:
    """Log-uniform values between ``low`` and ``high`` from the uniforms ``u`` (one column may serve two ranges).

    >>> log_between(1.0, 100.0, np.array([0.0, 0.5])).round(6).tolist()
    [1.0, 10.0]
    """
    return np.exp(np.log(low) + (np.asarray(np.log(high)) - np.log(low)) * u)


class Draw:
    """Knob values from a ``(runs, columns)`` matrix of uniforms, one column per call."""

    def __init__(self, uniforms: np.ndarray) -> None:
        self._u = uniforms
        self._next = 0

    def _column(self) -> np.ndarray:
        if self._next >= self._u.shape[1]:
            raise IndexError(f"a scenario used more than {self._u.shape[1]} uniforms per run")
        column = self._u[:, self._next]
        self._next += 1
        return column

    def uniform(self, low, high) -> np.ndarray:
        return low + (np.asarray(high) - low) * self._column()

    def log_uniform(self, low, high) -> np.ndarray:
        return log_between(low, high, self._column())

    def chance(self, probability) -> np.ndarray:
        """True with the given probability."""
        return self._column() < probability

    def choice(self, weights: Mapping[str, float]) -> np.ndarray:
        names = list(weights)
        cumulative = np.cumsum([weights[n] for n in names], dtype=np.float64)
        index = np.searchsorted(cumulative / cumulative[-1], self._column(), side="right")
        return np.array(names)[np.minimum(index, len(names) - 1)]


class Knobs(dict):
    """``name -> array``, one entry per run."""

    @property
    def n_runs(self) -> int:
        return len(next(iter(self.values()))) if self else 0

    def take(self, rows) -> "Knobs":
        return Knobs({name: values[rows] for name, values in self.items()})


def overflow_level(knobs) -> np.ndarray:
    """The loss at which each run overflows to NaN: ``overflow`` (a multiple of the chance level) times
    ``chance_loss``; ``inf`` for a run that never overflows.

    >>> overflow_level({"overflow": np.array([1e12, np.inf]), "chance_loss": np.array([2.0, 2.0])}).tolist()
    [2000000000000.0, inf]
    """
    return np.asarray(knobs["overflow"], np.float64) * np.asarray(knobs["chance_loss"], np.float64)
