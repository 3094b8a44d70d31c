"""Learning-rate schedules, many runs at once: one row of multipliers (peak = 1) per run.

Every schedule is a shape in ``[0, 1]`` that multiplies the run's peak learning rate. Rows
of different lengths share one matrix; cells past a run's own length repeat its last value.

* ``constant`` — flat (after any warmup);
* ``step`` — multiplied by ``gamma`` at two milestones (fractions ``milestone1 < milestone2``);
* ``linear`` / ``cosine`` — decay from the peak to ``final`` (a fraction of the peak) at the end;
* ``onecycle`` — cosine rise from ``1/25`` over the first ``cycle_rise`` of the run, then cosine
  down to ``final`` (Smith & Topin, 2019);
* ``wsd`` — warmup, stable, then a linear warm-down over the last ``decay`` fraction (the
  schedule of the modded-nanogpt records).

A linear warmup over the first ``warmup`` fraction multiplies every schedule but ``onecycle``.

>>> shape = schedule_matrix(["cosine", "step"], [5, 4], warmup=[0.4, 0.0], final=[0.0, 0.0],
...                         gamma=[0.1, 0.1], milestone1=[0.5, 0.5], milestone2=[0.75, 0.75])
>>> shape.round(3).tolist()
[[0.5, 1.0, 1.0, 0.5, 0.0], [1.0, 1.0, 0.1, 0.01, 0.01]]
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
from numba import njit

SCHEDULES: tuple[str, ...] = ("constant", "step", "linear", "cosine", "onecycle", "wsd")
"""The schedule kinds :func:`schedule_matrix` knows."""

DEFAULTS = {"warmup": 0.0, "final": 0.0, "gamma": 0.1, "milestone1": 0.5, "milestone2": 0.75,
            "cycle_rise": 0.3, "decay": 0.3}
"""Parameter values used where a caller gives none."""
ONECYCLE_START = 1.0 / 25.0
"""Where ``onecycle`` starts, as a fraction of the peak."""


def schedule_matrix(kinds: Sequence[str], lengths: Sequence[int], **params: Sequence[float]) -> np.ndarray:
    """The ``(runs, max(lengths))`` matrix of learning-rate multipliers, one row per run.

    ``params`` are per-run sequences named as in :data:`DEFAULTS`.
    """
    kinds = list(kinds)
    unknown = sorted(set(kinds) - set(SCHEDULES))
    if unknown:
        raise KeyError(f"unknown schedule {unknown[0]!r}; expected one of {', '.join(SCHEDULES)}")
    lengths = np.asarray(lengths, dtype=np.int64)
    n = len(kinds)
    codes = np.array([SCHEDULES.index(kind) for kind in kinds], dtype=np.int64)
    p = [np.ascontiguousarray(np.broadcast_to(np.asarray(params.get(name, default), dtype=np.float64), (n,)))
         for name, default in DEFAULTS.items()]
    out = np.empty((n, int(lengths.max()) if n else 0))
    _fill(codes, lengths, *p, out)
    return out


@njit(cache=True, nogil=True)
def _fill(codes, lengths, warmup, final, gamma, milestone1, milestone2, cycle_rise, decay, out):
    """Each row of ``out``: its run's schedule; cells past the run's length repeat its last step."""
    for r in range(out.shape[0]):
        total = float(lengths[r])
        warm_steps = warmup[r] * total
        start = np.floor(warmup[r] * total)
        kind = codes[r]
        for j in range(out.shape[1]):
            t = min(float(j), total - 1.0)
            w = min(1.0, (t + 1.0) / max(warm_steps, 1.0)) if warm_steps > 0 else 1.0
            if kind == 0:  # constant
                value = w
            elif kind == 1:  # step
                passed = ((1.0 if t >= np.rint(milestone1[r] * total) else 0.0)
                          + (1.0 if t >= np.rint(milestone2[r] * total) else 0.0))
                value = w * gamma[r] ** passed
            elif kind == 2:  # linear
                value = w * (1.0 - (1.0 - final[r]) * _clip01((t - start) / max(total - 1.0 - start, 1.0)))
            elif kind == 3:  # cosine
                q = _clip01((t - start) / max(total - 1.0 - start, 1.0))
                value = w * (final[r] + (1.0 - final[r]) * 0.5 * (1.0 + np.cos(np.pi * q)))
            elif kind == 4:  # onecycle (no warmup)
                rise = max(np.rint(cycle_rise[r] * total), 1.0)
                if t < rise:
                    value = ONECYCLE_START + (1.0 - ONECYCLE_START) * 0.5 * (1.0 - np.cos(np.pi * _clip01(t / rise)))
                else:
                    down = _clip01((t - rise) / max(total - 1.0 - rise, 1.0))
                    value = final[r] + (1.0 - final[r]) * 0.5 * (1.0 + np.cos(np.pi * down))
            else:  # wsd
                begin = np.floor((1.0 - decay[r]) * total)
                value = w * (1.0 - (1.0 - final[r]) * _clip01((t - begin) / max(total - 1.0 - begin, 1.0)))
            out[r, j] = value


@njit(cache=True, nogil=True)
def _clip01(x):
    return min(max(x, 0.0), 1.0)
