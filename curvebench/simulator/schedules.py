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

SCHEDULES: tuple[str, ...] = ("constant", "step", "linear", "cosine", "onecycle", "wsd")
"""The schedule kinds :func:`schedule_matrix` knows."""

DEFAULTS = {"warmup": 0.0, "final": 0.0, "gamma": 0.1, "milestone1": 0.5, "milestone2": 0.75,
            "cycle_rise": 0.3, "decay": 0.3}
"""Parameter values used where a caller gives none."""


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
    p = {name: np.broadcast_to(np.asarray(params.get(name, default), dtype=np.float64), (n,))[:, None]
         for name, default in DEFAULTS.items()}
    span = int(lengths.max()) if n else 0
    t = np.minimum(np.arange(span, dtype=np.float64)[None, :], (lengths - 1)[:, None].astype(np.float64))
    total = lengths[:, None].astype(np.float64)
    out = np.empty((n, span))
    for kind in set(kinds):
        rows = np.array([k == kind for k in kinds])
        out[rows] = _SHAPES[kind](t[rows], total[rows], {k: v[rows] for k, v in p.items()})
    return out


def _warmup(t, total, p):
    steps = p["warmup"] * total
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(steps > 0, np.minimum(1.0, (t + 1.0) / np.maximum(steps, 1.0)), 1.0)


def _after_warmup(t, total, p):
    start = np.floor(p["warmup"] * total)
    return np.clip((t - start) / np.maximum(total - 1.0 - start, 1.0), 0.0, 1.0)


def _constant(t, total, p):
    return _warmup(t, total, p) * np.ones_like(t)


def _step(t, total, p):
    passed = (t >= np.round(p["milestone1"] * total)).astype(float) + (t >= np.round(p["milestone2"] * total))
    return _warmup(t, total, p) * p["gamma"] ** passed


def _linear(t, total, p):
    q = _after_warmup(t, total, p)
    return _warmup(t, total, p) * (1.0 - (1.0 - p["final"]) * q)


def _cosine(t, total, p):
    q = _after_warmup(t, total, p)
    return _warmup(t, total, p) * (p["final"] + (1.0 - p["final"]) * 0.5 * (1.0 + np.cos(np.pi * q)))


def _onecycle(t, total, p):
    rise = np.maximum(np.round(p["cycle_rise"] * total), 1.0)
    up = np.clip(t / rise, 0.0, 1.0)
    down = np.clip((t - rise) / np.maximum(total - 1.0 - rise, 1.0), 0.0, 1.0)
    start = 1.0 / 25.0
    rising = start + (1.0 - start) * 0.5 * (1.0 - np.cos(np.pi * up))
    falling = p["final"] + (1.0 - p["final"]) * 0.5 * (1.0 + np.cos(np.pi * down))
    return np.where(t < rise, rising, falling)


def _wsd(t, total, p):
    begin = np.floor((1.0 - p["decay"]) * total)
    q = np.clip((t - begin) / np.maximum(total - 1.0 - begin, 1.0), 0.0, 1.0)
    return _warmup(t, total, p) * (1.0 - (1.0 - p["final"]) * q)


_SHAPES = {"constant": _constant, "step": _step, "linear": _linear, "cosine": _cosine,
           "onecycle": _onecycle, "wsd": _wsd}
