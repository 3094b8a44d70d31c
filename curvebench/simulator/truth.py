"""Ground truth: each simulated run's ``onset_step``, and whether the run shows what its mode promises.

Onsets, per label (all are logged steps of the run):

* ``lr_high`` (but ``nan``): the first logged step at or after the first optimizer step where the
  noiseless training loss rises ``ONSET_MARGIN`` (5%) above its best value so far — the loss
  leaves its healthy envelope — or its first-steps burst (``burst_step``), whichever comes first;
* ``lr_high/nan``: the first logged step whose training loss is non-finite;
* ``lr_low``: the first logged step (the cause is there from the start);
* ``overfit``: the step of the lowest logged validation loss;
* ``plateau``: the first logged step at or after the noiseless training loss comes within 10% of
  its total drop of its final value — where the loss flattens;
* ``healthy``: ``None``.

A run is *accepted* when its numbers show the defining property of its mode (see
:func:`accepted`); the simulator redraws a run that does not (a rare event), so every emitted
run does.

>>> rising_onset(np.array([[3.0, 2.0, 2.05, 2.2, 1.0]]).T, np.array([5])).tolist()
[3]
"""

from __future__ import annotations

import numpy as np
from numba import njit

from curvebench.simulator.assemble import ONSET_MARGIN
from curvebench.simulator.observe import pad_steps, search_shared

FLAT_WITHIN = 0.1
"""Plateau onset: the loss is within this fraction of its total drop from its final value."""
HEALTHY_MIN_LEARNED = 0.4
"""A healthy run learns at least this fraction of its learnable loss (an ``lr_low`` run at most this much)."""
HEALTHY_MAX_VAL_RISE = 0.05
"""A healthy run's noiseless validation loss ends within 5% of its minimum (``overfit`` rises >= 10%, the
recorder's rule, :data:`curvebench.datasets.recorder.verify.OVERFIT_VAL_RISE`)."""
MIN_SPIKES = 3
"""An ``lr_high/spikes`` run shows at least this many spikes in its logged loss."""


def rising_onset(loss: np.ndarray, steps: np.ndarray) -> np.ndarray:
    """First step (per run; ``loss`` is ``(steps, runs)``) where the loss exceeds ``(1 + ONSET_MARGIN)``
    times its running minimum; -1 if never."""
    valid = np.arange(loss.shape[0])[:, None] < steps[None, :]
    clean = np.where(valid & np.isfinite(loss), loss, np.inf)
    best = np.minimum.accumulate(clean, axis=0)
    above = valid & np.isfinite(loss) & (loss > (1.0 + ONSET_MARGIN) * best)
    return np.where(above.any(axis=0), above.argmax(axis=0), -1)


def flat_onset(loss: np.ndarray, steps: np.ndarray) -> np.ndarray:
    """First step (per run; ``loss`` is ``(steps, runs)``) where the loss is within ``FLAT_WITHIN`` of its
    total drop from its last value."""
    final = loss[steps - 1, np.arange(len(steps))]
    drop = loss[0] - final
    valid = np.arange(loss.shape[0])[:, None] < steps[None, :]
    near = valid & (loss - final[None, :] <= FLAT_WITHIN * np.maximum(drop, 0.0)[None, :])
    return near.argmax(axis=0)


def onsets(mode: str, traj, observed, logging, knobs) -> list:
    """The onset step of each run (``None`` for healthy runs)."""
    label = mode.split("/")[0]
    n = len(logging.train_steps)
    if label == "healthy":
        return [None] * n
    if label == "lr_low":
        return [int(s[0]) for s in logging.train_steps]
    if mode == "lr_high/nan":
        logged = np.array([len(s) for s in logging.train_steps])
        bad = ~np.isfinite(observed.train) & (np.arange(observed.train.shape[1])[None, :] < logged[:, None])
        return [int(s[b.argmax()]) if b.any() else None for s, b in zip(logging.train_steps, bad)]
    if label == "overfit":
        return [int(s[best]) for s, best in zip(logging.val_steps, _best_evaluation(observed, logging))]
    steps = knobs["steps"]
    if label == "lr_high":
        at = rising_onset(traj.train, steps)
        burst = (knobs["burst_height"] > 0) & ((at < 0) | (at > knobs["burst_step"]))
        at = np.where(burst, knobs["burst_step"], at).astype(np.int64)
    else:
        at = flat_onset(traj.train, steps)
    first = search_shared(logging.train_steps, at)
    return [int(logged[j]) if t >= 0 and j < len(logged) else None
            for logged, t, j in zip(logging.train_steps, at.tolist(), first.tolist())]


def accepted(mode: str, traj, observed, logging, knobs, onset: list) -> np.ndarray:
    """Whether each run shows its mode's defining property (see the module docstring)."""
    with np.errstate(all="ignore"):
        return _accepted(mode, traj, observed, logging, knobs, onset)


def _accepted(mode, traj, observed, logging, k, onset) -> np.ndarray:
    label = mode.split("/")[0]
    n = len(onset)
    rows = np.arange(n)
    steps = k["steps"]
    train = traj.train
    start, end = train[0].astype(np.float64), train[steps - 1, rows].astype(np.float64)
    learnable = start - k["floor_loss"]
    learned = (start - end) / learnable
    logged = np.array([len(s) for s in logging.train_steps], dtype=np.int64)
    finite = finite_prefix(observed.train, logged)
    has_onset = np.array([o is not None for o in onset])
    late_enough = np.array([o is None or o <= 0.97 * s for o, s in zip(onset, steps)])
    if label == "healthy":
        val_steps, _ = pad_steps(logging.val_steps)
        kept = search_shared(logging.val_steps, np.array([t[-1] for t in logging.train_steps]), side="right")
        val_rise = np.empty(n)
        _val_rises(np.ascontiguousarray(traj.val.T), val_steps, kept, val_rise)  # the evaluations a log keeps
        return finite & (learned >= HEALTHY_MIN_LEARNED) & (val_rise <= HEALTHY_MAX_VAL_RISE)
    if label == "lr_low":
        return finite & (learned <= HEALTHY_MIN_LEARNED) & (learned > 0)
    if mode == "lr_high/nan":
        first_finite = np.isfinite(observed.train[:, 0])
        return has_onset & first_finite
    if label == "lr_high":
        ok = finite & has_onset & late_enough
        if mode == "lr_high/collapse":
            ok &= traj.capacity[(0.8 * steps).astype(np.int64), rows] < 0.05
        if mode == "lr_high/oscillation":
            train_steps, _ = pad_steps(logging.train_steps)
            ok &= _swings_grow(observed.noiseless_train, train_steps, logged,
                               np.array([-1 if o is None else o for o in onset], dtype=np.int64))
        if mode == "lr_high/spikes":
            ok &= spike_counts(observed.noiseless_train, logged, ONSET_MARGIN + 4 * k["loss_noise"]) >= MIN_SPIKES
        return ok
    if label == "overfit":
        ok = np.zeros(n, dtype=bool)
        for i, (v, s, t, best) in enumerate(zip(observed.val, logging.val_steps, logging.train_steps,
                                                 _best_evaluation(observed, logging))):
            values = v[: int(np.searchsorted(s, t[-1], side="right"))]  # the evaluations the run's log keeps
            ok[i] = best < len(values) - 1 and (values[-1] - values[best]) / values[best] >= k["rise"][i]
        return ok & finite
    plateau_height = (end - k["floor_loss"]) / (k["chance_loss"] - k["floor_loss"])
    if mode == "plateau/early":
        return finite & has_onset & (np.array([o or 0 for o in onset]) <= 0.7 * steps) & (plateau_height >= 0.1)
    return finite & has_onset & (plateau_height >= 0.8)


@njit(cache=True, nogil=True)
def finite_prefix(values: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Whether each row of ``values`` is finite in its first ``counts`` entries."""
    out = np.ones(values.shape[0], dtype=np.bool_)
    for r in range(values.shape[0]):
        for j in range(counts[r]):
            if not np.isfinite(values[r, j]):
                out[r] = False
                break
    return out


def _best_evaluation(observed, logging) -> list[int]:
    """Each run's ``np.nanargmin`` of its validation losses (``ValueError`` if they are all NaN)."""
    best = _nan_argmin(observed.val, np.array([len(s) for s in logging.val_steps], dtype=np.int64))
    if (best < 0).any():
        raise ValueError("All-NaN slice encountered")
    return best.tolist()


@njit(cache=True, nogil=True)
def _nan_argmin(values: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Per row, ``np.nanargmin`` of the first ``counts`` entries (NaN counts as +inf; -1 if all are NaN)."""
    out = np.full(values.shape[0], -1, dtype=np.int64)
    for r in range(values.shape[0]):
        best, number = np.inf, False
        for j in range(counts[r]):
            x = values[r, j]
            if np.isnan(x):
                x = np.inf
            else:
                number = True
            if j == 0 or x < best:
                best, out[r] = x, j
        if not number:
            out[r] = -1
    return out


@njit(cache=True, nogil=True)
def spike_counts(loss: np.ndarray, counts: np.ndarray, margins: np.ndarray, window: int = 10) -> np.ndarray:
    """Spikes in each row's first ``counts`` logged losses: points ``margins`` above both the lowest of the
    ``window`` points before and the lowest of the 3 after (so a step up to a new level is not a spike); a
    spike is a run of such points. A NaN in either window hides the point.

    >>> spike_counts(np.array([[1.0] * 12 + [2.0, 1.0, 1.0, 1.0, 2.0, 1.0, 1.0, 1.0]]), np.array([20]),
    ...              np.array([0.05])).tolist()
    [2]
    """
    out = np.zeros(loss.shape[0], dtype=np.int64)
    for r in range(loss.shape[0]):
        x, above = loss[r], 1.0 + margins[r]
        high_before = False
        for i in range(window, counts[r] - 3):
            high = x[i] > above * _lowest(x, i - window, i) and x[i] > above * _lowest(x, i + 1, i + 4)
            if high and not high_before:
                out[r] += 1
            high_before = high
    return out


@njit(cache=True, nogil=True)
def _lowest(x, start, stop):
    """``np.min(x[start:stop])``: NaN if any entry is."""
    low = x[start]
    for k in range(start + 1, stop):
        if np.isnan(low):
            break
        if np.isnan(x[k]) or x[k] < low:
            low = x[k]
    return low


@njit(cache=True, nogil=True)
def _swings_grow(loss, steps, counts, onset) -> np.ndarray:
    """Per row: whether step-to-step swings of the logged loss late in the run (its last quarter after the
    onset, at least 5) are at least twice those before the onset (not if there is no onset, ``-1``, or a NaN)."""
    out = np.zeros(loss.shape[0], dtype=np.bool_)
    for r in range(loss.shape[0]):
        n = counts[r]
        if onset[r] < 0 or n < 2 or np.isnan(loss[r, :n]).any():
            continue
        at = np.searchsorted(steps[r, :n], onset[r])
        swing = np.abs(np.diff(loss[r, :n])) / np.median(loss[r, :n])
        late = swing[max(len(swing) - max(5, (len(swing) - at) // 4), 0):]
        out[r] = np.median(late) >= max(2.0 * np.median(swing[:max(at, 5)]), ONSET_MARGIN / 2)
    return out


@njit(cache=True, nogil=True)
def _val_rises(val, steps, counts, out):
    """``out[r]``: ``(last - min) / min`` of row ``r`` of ``val`` (``(runs, steps)``, float32 arithmetic) at its
    first ``counts[r]`` evaluation ``steps``, NaN left out of the minimum; inf if none is finite."""
    for r in range(val.shape[0]):
        best, finite = np.float32(np.inf), False
        for j in range(counts[r]):
            x = val[r, steps[r, j]]
            finite = finite or np.isfinite(x)
            if x < best:
                best = x
        out[r] = (val[r, steps[r, counts[r] - 1]] - best) / best if finite else np.inf
