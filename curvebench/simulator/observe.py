"""What a training script would have logged: logging granularity, evaluation, noise, missing channels.

The model gives noiseless values at every optimizer step; :func:`observe` samples them the way
real scripts log:

* ``train_loss`` every ``log_every`` steps — the minibatch loss at that step (``log_reduce =
  "last"``) or the mean over the window, as per-epoch logs do (``"mean"``, noise shrinks by
  ``sqrt(log_every)``) — times minibatch noise (:mod:`~curvebench.simulator.noise`). The noise
  level is ``loss_noise * (loss / chance) ** (noise_power - 1)`` (heteroscedastic when
  ``noise_power != 1``) and falls to ``dead_noise`` of it as the network dies (a constant
  output has the same loss on every batch);
* a slow wander of the parameters (``wander``, :mod:`~curvebench.simulator.wander`): the training loss
  (before the minibatch noise) and the validation loss move with it;
* the chaos of a climb to NaN (``chaos``, :mod:`~curvebench.simulator.chaos`): the climb swings wildly in
  log space, the gradient norm and the validation loss with it, the swings closing as it nears overflow;
* ``val_loss`` every ``eval_every`` steps (optionally at step 0, always at the last step) with a
  small evaluation noise ``val_noise``;
* ``grad_norm`` at the logged steps, log-normal noise ``grad_noise``, jumping with the loss on
  hard batches, and following the loss as ``(loss / first loss) ** grad_coupling`` (per-example
  gradients shrink with the error: a slow run's gradient norm falls with its loss); ``lr`` at the
  logged steps;
* a first-steps burst (``burst_height``, ``burst_decay``, from step ``burst_step``): the first updates
  of a far too high learning rate throw the weights so far that the loss (and the gradient) jump by
  orders of magnitude for a few steps (or, when ``burst_decay`` is a large share of the run, for much of it)
  before the network settles, dead, near chance. The quadratic model's saturating scale cannot make that
  overshoot, so it multiplies the observed training and validation losses by
  ``(1 + burst_height) ** exp(-(t - burst_step) / burst_decay)`` (its orders of magnitude decay);
* after a NaN a script may stop: ``stop_after_nan`` more logged points, then the log ends;
* ``has_val``, ``has_grad_norm``, ``has_lr`` drop channels.

Draws come from each run's own generator (:func:`noise_draws`, straight into padded rows); a
compiled kernel then observes each run on its own, point by point, so a run's values do not
depend on its batch (the minibatch noise is :mod:`~curvebench.simulator.noise`'s own kernel: numba's
on-disk cache does not notice edits to a kernel's callees in other modules). The runs of a batch are
shared between threads.

>>> logged_steps(10, 4, "last").tolist(), logged_steps(10, 4, "mean").tolist()
([0, 4, 8], [3, 7])
>>> eval_steps(10, 4, at_start=False).tolist()
[4, 8, 9]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from curvebench.simulator import generator
from curvebench.simulator.chaos import apply_chaos
from curvebench.simulator.knobs import overflow_level
from curvebench.simulator.noise import minibatch_noise, mixture_table
from curvebench.simulator.parallel import over_runs
from curvebench.simulator.wander import apply_wander


def logged_steps(steps: int, every: int, reduce: str) -> np.ndarray:
    """Steps at which the training loss is logged."""
    if reduce == "mean":
        return np.arange(every - 1, steps, every, dtype=np.int64)
    return np.arange(0, steps, every, dtype=np.int64)


def eval_steps(steps: int, every: int, *, at_start: bool) -> np.ndarray:
    """Evaluation steps: every ``every`` steps, from 0 if ``at_start``, and the last step."""
    found = np.arange(0 if at_start else every, steps, every, dtype=np.int64)
    if not found.size or found[-1] != steps - 1:
        found = np.append(found, steps - 1)
    return found


@dataclass
class Plan:
    """Per-run logging plan: the logged and evaluation steps."""

    train_steps: list
    val_steps: list


def plan(knobs) -> Plan:
    """The logging plan of every run in ``knobs`` (same-shaped step arrays are shared, not copied)."""
    cache: dict = {}
    train, val = [], []
    columns = (np.asarray(knobs[name]).tolist() for name in ("steps", "log_every", "log_reduce", "eval_every",
                                                              "eval_at_start"))
    for steps, every, reduce, ev, start in zip(*columns):
        key = ("t", int(steps), int(every), str(reduce))
        if key not in cache:
            cache[key] = logged_steps(*key[1:])
        train.append(cache[key])
        key = ("v", int(steps), int(ev), bool(start))
        if key not in cache:
            cache[key] = eval_steps(*key[1:3], at_start=key[3])
        val.append(cache[key])
    return Plan(train, val)


def search_shared(arrays: list, values: np.ndarray, side: str = "left") -> np.ndarray:
    """``np.searchsorted(arrays[i], values[i], side)`` for each ``i``, one call per distinct array (runs of a
    :class:`Plan` share their step arrays)."""
    out = np.empty(len(arrays), dtype=np.int64)
    shared: dict = {}
    for i, a in enumerate(arrays):
        shared.setdefault(id(a), (a, []))[1].append(i)
    for a, rows in shared.values():
        out[rows] = np.searchsorted(a, values[rows], side=side)
    return out


@dataclass
class Draws:
    """Padded ``(runs, points)`` noise draws, each row from its run's own generator: normals for the
    training loss, the gradient norm and the validation loss, uniforms for the noise mixture and normals for
    the sample path (wander or chaos; entries past a run's own points are left undefined: nothing reads them);
    ``owed``: the sample-path normals each run skipped (it neither wanders nor is chaotic)."""

    train: np.ndarray
    grad: np.ndarray
    val: np.ndarray
    uniform: np.ndarray
    wander: np.ndarray
    owed: np.ndarray


def sample_path(knobs) -> np.ndarray:
    """Which runs read sample-path normals: those that wander or are chaotic (:func:`observe`)."""
    return (np.asarray(knobs["wander"]) != 0) | (np.asarray(knobs["chaos"]) != 0)


class Scratch:
    """One float64 buffer handed out again and again, growing when asked for more: chunks modeled one after
    another reuse the memory the first one touched instead of faulting in fresh pages for each (a fresh
    process's first large batch spent ~0.17 s of system time on the draws' pages alone).

    >>> scratch = Scratch()
    >>> a = scratch.take((2, 3)); b = scratch.take((3, 2))
    >>> b.base is a.base, b.shape
    (True, (3, 2))
    """

    def __init__(self) -> None:
        self._flat = np.empty(0)

    def take(self, shape: tuple) -> np.ndarray:
        """An uninitialised array of ``shape`` over the buffer (the previous one taken is overwritten)."""
        size = int(np.prod(shape))
        if self._flat.size < size:
            self._flat = np.empty(size)
        return self._flat[:size].reshape(shape)


def noise_draws(state: np.ndarray, rows: np.ndarray, logging: Plan, reads_path: np.ndarray,
                scratch: Scratch | None = None) -> Draws:
    """Run ``i`` draws from ``state[rows[i]]`` (:mod:`~curvebench.simulator.generator`, in compiled code shared
    between threads), in this order: its train, grad and val normals, its uniforms and its sample-path normals.
    A run whose ``reads_path`` is False (no wander, no chaos: :func:`sample_path`) never reads its sample-path
    normals, so it skips them (and draws them, :func:`~curvebench.simulator.generator.skip_normals`, only if it is
    simulated again). With ``scratch``, the draws are views of its buffer, valid until it is taken again."""
    n_train = np.array([len(s) for s in logging.train_steps], dtype=np.int64)
    n_val = np.array([len(s) for s in logging.val_steps], dtype=np.int64)
    n_path = np.where(np.asarray(reads_path, dtype=bool), n_train, 0)
    counts = np.ascontiguousarray(np.stack([n_train, n_train, n_val, n_train, n_path], axis=1))
    rows = np.asarray(rows, dtype=np.int64)
    shape = (5, len(rows), int(counts.max()))
    out = np.empty(shape) if scratch is None else scratch.take(shape)
    uniform = np.array([False, False, False, True, False])
    over_runs(lambda *turn: generator.fill_rows(*turn, state, rows, out, counts, uniform), len(rows))
    return Draws(*out, owed=n_train - n_path)


@dataclass
class Observed:
    """Padded ``(runs, points)`` arrays of observed values (NaN past a run's own length)."""

    train: np.ndarray
    val: np.ndarray
    grad_norm: np.ndarray
    lr: np.ndarray
    noiseless_train: np.ndarray


MAX_NOISE = 1.0
"""The relative noise level of a logged point is at most this (heteroscedastic noise grows as a loss explodes
or vanishes; a minibatch loss cannot swing more than its own size on the scale of one standard deviation)."""
KNOBS = ("log_every", "chance_loss", "noise_power", "loss_noise", "dead_noise", "grad_noise", "val_noise",
         "grad_coupling", "burst_step", "burst_height", "burst_decay")
"""The knobs the kernel reads, in the column order of its ``table``."""


def observe(traj, schedule: np.ndarray, lr_scale: np.ndarray, knobs, logging: Plan, draws: Draws,
            scratch: Scratch | None = None) -> Observed:
    """Observed values at each run's logged and evaluation steps; the logged learning rate is
    ``lr_scale * schedule``. The relative noise levels, spent here, live in ``scratch`` if one is given."""
    train_steps, n_train = pad_steps(logging.train_steps)
    val_steps, n_val = pad_steps(logging.val_steps)
    runs, width = train_steps.shape
    table = np.stack([np.asarray(knobs[name], dtype=np.float64) for name in KNOBS], axis=1)
    mean = np.ascontiguousarray(knobs["log_reduce"] == "mean")
    schedule = np.ascontiguousarray(schedule, dtype=np.float64)
    lr_scale = np.ascontiguousarray(lr_scale, dtype=np.float64)
    model = [np.ascontiguousarray(a.T) for a in (traj.train, traj.val, traj.grad_norm, traj.capacity)]
    seen = Observed(*(np.empty((runs, w)) for w in (width, val_steps.shape[1], width, width, width)))
    sigma = np.empty((runs, width)) if scratch is None else scratch.take((runs, width))
    over_runs(lambda *turn: _observe(*turn, *model, schedule, lr_scale, train_steps, n_train, val_steps, n_val, table,
                                     mean, draws.grad, draws.val, seen.noiseless_train, sigma, seen.train, seen.val,
                                     seen.grad_norm, seen.lr), runs)
    expected = seen.noiseless_train
    wander, chaos = (np.asarray(knobs[name], np.float64) for name in ("wander", "chaos"))
    if np.any(wander > 0) or np.any(chaos > 0):
        expected = seen.train  # the sample path is made in ``train``, which the minibatch noise then overwrites
        np.copyto(expected, seen.noiseless_train)
    if np.any(wander > 0):
        apply_wander(expected, sigma, draws.wander, train_steps, n_train, wander,
                     np.asarray(knobs["wander_steps"], np.float64), seen.val, val_steps, n_val)
    if np.any(chaos > 0):
        apply_chaos(expected, draws.wander, n_train, chaos, overflow_level(knobs), seen.grad_norm, train_steps,
                    seen.val, val_steps, n_val)
    minibatch_noise(expected, sigma, draws.train, draws.uniform, mixture_table(knobs["noise_shape"], knobs),
                    n_train, seen.train, seen.grad_norm)
    return seen


def pad_steps(arrays: list) -> tuple[np.ndarray, np.ndarray]:
    """``(runs, longest)`` steps (undefined past each run's own) and each run's count; runs that share one
    step array (:func:`plan`) are filled together."""
    counts = np.array([len(a) for a in arrays], dtype=np.int64)
    out = np.empty((len(arrays), int(counts.max())), dtype=np.int64)
    shared: dict = {}
    for i, a in enumerate(arrays):
        shared.setdefault(id(a), (a, []))[1].append(i)
    for a, rows in shared.values():
        out[rows, : len(a)] = a
    return out, counts


@njit(cache=True, nogil=True)
def _burst(at, step, height, decay):
    """The factor a first-steps burst multiplies the losses by at step ``at`` (1 before it or without one)."""
    if height > 0.0 and at >= step:
        return np.exp(np.log1p(height) * np.exp(-(at - step) / decay))
    return 1.0


@njit(cache=True, nogil=True)
def _observe(first, stride, block, model_train, model_val, model_grad, model_capacity, schedule, lr_scale, train_steps,
             n_train, val_steps, n_val, table, mean, z_grad, z_val, expected, sigma, train, val, grad, lr_seen):
    """Blocks ``first, first + stride, ...`` of runs: everything but the minibatch noise of the training loss
    (``expected`` and its relative noise level ``sigma``), and NaN past each run's own points."""
    runs, width = train_steps.shape
    total = np.empty(model_train.shape[1] + 1)
    for b in range(first * block, runs, stride * block):
        for r in range(b, min(b + block, runs)):
            every, chance, power, loss_noise = table[r, 0], table[r, 1], table[r, 2], table[r, 3]
            dead_noise, grad_noise, val_noise, coupling = table[r, 4], table[r, 5], table[r, 6], table[r, 7]
            n = n_train[r]
            start = np.float64(model_train[r, 0])
            burst_step, burst_height, burst_decay = table[r, 8], table[r, 9], table[r, 10]
            if mean[r]:
                total[0] = 0.0
                for t in range(train_steps[r, n - 1] + 1 if n else 0):
                    total[t + 1] = total[t] + np.float64(model_train[r, t])
            for j in range(n):
                at = train_steps[r, j]
                if mean[r]:
                    expected[r, j] = (total[at + 1] - total[max(at + 1 - np.int64(every), 0)]) / every
                else:
                    expected[r, j] = model_train[r, at]
                burst = _burst(at, burst_step, burst_height, burst_decay)
                if burst != 1.0:
                    expected[r, j] *= burst
                level = loss_noise
                if power != 1.0:
                    level *= (abs(expected[r, j]) / chance) ** (power - 1.0)
                level = level * (dead_noise + (1.0 - dead_noise) * model_capacity[r, at])
                if level > MAX_NOISE:
                    level = MAX_NOISE
                sigma[r, j] = level / np.sqrt(every) if mean[r] else level
                grad[r, j] = model_grad[r, at] * np.exp(grad_noise * z_grad[r, j])
                if coupling != 0.0 and start > 0.0 and model_train[r, at] > 0.0:
                    grad[r, j] *= (np.float64(model_train[r, at]) / start) ** coupling
                if burst != 1.0:
                    grad[r, j] *= np.sqrt(burst)
                lr_seen[r, j] = lr_scale[r] * schedule[r, at]
            for j in range(n, width):
                train[r, j] = grad[r, j] = lr_seen[r, j] = expected[r, j] = np.nan
            for j in range(val.shape[1]):
                if j < n_val[r]:
                    at = val_steps[r, j]
                    val[r, j] = model_val[r, at] * (1.0 + val_noise * z_val[r, j])
                    val[r, j] *= _burst(at, burst_step, burst_height, burst_decay)  # as bad on held-out data
                else:
                    val[r, j] = np.nan


def runs_of(observed: Observed, span: slice) -> Observed:
    """The observed values of the runs in ``span``."""
    return Observed(*(getattr(observed, name)[span] for name in ("train", "val", "grad_norm", "lr", "noiseless_train")))
