"""What a training script would have logged: logging granularity, evaluation, noise, missing channels.

The model gives noiseless values at every optimizer step; :func:`observe` samples them the way
real scripts log:

* ``train_loss`` every ``log_every`` steps — the minibatch loss at that step (``log_reduce =
  "last"``) or the mean over the window, as per-epoch logs do (``"mean"``, noise shrinks by
  ``sqrt(log_every)``) — times minibatch noise (:mod:`~curvebench.simulator.noise`). The noise
  level is ``loss_noise * (loss / chance) ** (noise_power - 1)`` (heteroscedastic when
  ``noise_power != 1``) and falls to ``dead_noise`` of it as the network dies (a constant
  output has the same loss on every batch);
* ``val_loss`` every ``eval_every`` steps (optionally at step 0, always at the last step) with a
  small evaluation noise ``val_noise``;
* ``grad_norm`` at the logged steps, log-normal noise ``grad_noise``, jumping with the loss on
  hard batches; ``lr`` at the logged steps;
* after a NaN a script may stop: ``stop_after_nan`` more logged points, then the log ends;
* ``has_val``, ``has_grad_norm``, ``has_lr`` drop channels.

Draws come from each run's own generator (:func:`noise_draws`, straight into padded rows);
the arithmetic is vectorized over the runs of one chunk, padded to the longest.

>>> logged_steps(10, 4, "last").tolist(), logged_steps(10, 4, "mean").tolist()
([0, 4, 8], [3, 7])
>>> eval_steps(10, 4, at_start=False).tolist()
[4, 8, 9]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from curvebench.simulator.noise import SHAPES, noisy_loss, standard_noise


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
    for steps, every, reduce, ev, start in zip(knobs["steps"], knobs["log_every"], knobs["log_reduce"],
                                                knobs["eval_every"], knobs["eval_at_start"]):
        key = ("t", int(steps), int(every), str(reduce))
        train.append(cache.setdefault(key, logged_steps(int(steps), int(every), str(reduce))))
        key = ("v", int(steps), int(ev), bool(start))
        val.append(cache.setdefault(key, eval_steps(int(steps), int(ev), at_start=bool(start))))
    return Plan(train, val)


@dataclass
class Draws:
    """Padded ``(runs, points)`` noise draws, each row from its run's own generator: normals for the
    training loss, the gradient norm and the validation loss, and uniforms for the noise mixture."""

    train: np.ndarray
    grad: np.ndarray
    val: np.ndarray
    uniform: np.ndarray


def noise_draws(rngs: list, logging: Plan) -> Draws:
    """Each run draws, in this order, its train, grad and val normals and its uniforms, into padded rows."""
    n_train = [len(s) for s in logging.train_steps]
    n_val = [len(s) for s in logging.val_steps]
    runs, width, val_width = len(rngs), max(n_train), max(n_val)
    draws = Draws(np.zeros((runs, width)), np.zeros((runs, width)), np.zeros((runs, val_width)),
                  np.ones((runs, width)))
    for i, (rng, m, v) in enumerate(zip(rngs, n_train, n_val)):
        rng.standard_normal(out=draws.train[i, :m])
        rng.standard_normal(out=draws.grad[i, :m])
        rng.standard_normal(out=draws.val[i, :v])
        rng.random(out=draws.uniform[i, :m])
    return draws


@dataclass
class Observed:
    """Padded ``(runs, points)`` arrays of observed values (NaN past a run's own length)."""

    train: np.ndarray
    val: np.ndarray
    grad_norm: np.ndarray
    lr: np.ndarray
    noiseless_train: np.ndarray


def observe(traj, lr: np.ndarray, knobs, logging: Plan, draws: Draws) -> Observed:
    """Observed values at each run's logged and evaluation steps."""
    with np.errstate(all="ignore"):
        return _observe(traj, lr, knobs, logging, draws)


def _pad(arrays: list, fill) -> tuple[np.ndarray, np.ndarray]:
    width = max(len(a) for a in arrays)
    out = np.full((len(arrays), width), fill, dtype=np.result_type(arrays[0], type(fill)))
    mask = np.zeros((len(arrays), width), dtype=bool)
    for i, a in enumerate(arrays):
        out[i, : len(a)] = a
        mask[i, : len(a)] = True
    return out, mask


def _observe(traj, lr, k, logging: Plan, draws: Draws) -> Observed:
    n_train = [len(s) for s in logging.train_steps]
    n_val = [len(s) for s in logging.val_steps]
    idx, mask = _pad(logging.train_steps, 0)
    rows = np.arange(len(n_train))[:, None]
    every = k["log_every"][:, None]
    expected = traj.train[idx, rows].astype(np.float64)
    averaged = np.flatnonzero(k["log_reduce"] == "mean")
    if averaged.size:
        columns = traj.train[:, averaged]
        csum = np.concatenate([np.zeros((1, averaged.size)), np.cumsum(columns, axis=0, dtype=np.float64)])
        at, width, cols = idx[averaged], every[averaged], np.arange(averaged.size)[:, None]
        expected[averaged] = (csum[at + 1, cols] - csum[np.maximum(at + 1 - width, 0), cols]) / width
    z_train, z_grad, z_val, u = draws.train, draws.grad, draws.val, draws.uniform
    val_mask = np.arange(z_val.shape[1])[None, :] < np.array(n_val)[:, None]

    shape = {name: np.array([SHAPES[s][name] for s in k["noise_shape"]]) for name in SHAPES["skewed"]}
    skewed = k["noise_shape"] == "skewed"
    for name in ("jump_prob", "jump_alpha", "jump_min"):
        shape[name] = np.where(skewed, k[name], shape[name])
    eps = standard_noise(z_train, u, **{name: v[:, None] for name, v in shape.items()})
    jumps = np.nonzero(u < shape["jump_prob"][:, None])
    capacity = traj.capacity[idx, rows]
    chance = k["chance_loss"][:, None]
    power = k["noise_power"][:, None]
    sigma = np.repeat(k["loss_noise"][:, None], expected.shape[1], axis=1)
    varying = np.flatnonzero(power[:, 0] != 1.0)
    sigma[varying] *= (np.abs(expected[varying]) / chance[varying]) ** (power[varying] - 1.0)
    sigma = sigma * (k["dead_noise"][:, None] + (1.0 - k["dead_noise"][:, None]) * capacity)
    sigma = np.where((k["log_reduce"] == "mean")[:, None], sigma / np.sqrt(every), sigma)
    train = np.where(mask, noisy_loss(expected, eps, sigma), np.nan)

    grad = traj.grad_norm[idx, rows] * np.exp(k["grad_noise"][:, None] * z_grad)
    grad[jumps] *= 1.0 + 3.0 * sigma[jumps] * (eps[jumps] - z_train[jumps])
    vidx, _ = _pad(logging.val_steps, 0)
    val = traj.val[vidx, rows] * (1.0 + k["val_noise"][:, None] * z_val)
    val = np.where(val_mask, val, np.nan)
    return Observed(train, val, np.where(mask, grad, np.nan), np.where(mask, lr[rows, idx], np.nan), expected)


def runs_of(observed: Observed, span: slice) -> Observed:
    """The observed values of the runs in ``span``."""
    return Observed(*(getattr(observed, name)[span] for name in ("train", "val", "grad_norm", "lr", "noiseless_train")))
