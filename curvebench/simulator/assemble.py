"""From knobs to a runnable model: schedules, the mode spectrum, and the knobs a severity asks for.

:func:`assemble` turns a :class:`~curvebench.simulator.knobs.Knobs` table into the optimizer
model's parameters and the learning-rate matrices. Knobs are scale-free: time scales are
fractions of the run's *effective length* ``tau_T = sum_t schedule_t`` (steps at the peak
learning rate), so a 50-step run and a 100,000-step run of the same knobs have the same shape.

Where a scenario asks for an *effect* (an onset at 40% of the run, 35% of the learnable loss
learned), the cause that produces it is solved for here, from the model's own solution: the
learning-rate factor of ``lr_low``, the growth rate and noise seed of an unstable direction,
the sharpening rate that crosses ``2/lr`` at the onset, the memorization that leaves an overfit
run's training loss at ``train_residual`` of its floor. (The validation cost of that memorization
is solved exactly after integration, :mod:`~curvebench.simulator.overfit`.)

>>> from curvebench.simulator.scenarios import sample_knobs
>>> knobs = sample_knobs("healthy/smooth", np.full((1, 96), 0.5), steps=200)
>>> model = assemble(knobs, "healthy/smooth", np.full((1, 24), 0.5))
>>> model.eta().shape, model.params.h.shape
((1, 200), (1, 6))
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from curvebench.simulator.curves import gradient_flow_curve, mode_weights, sum_columns
from curvebench.simulator.dynamics import ModelParams
from curvebench.simulator.knobs import Knobs, overflow_level
from curvebench.simulator.schedules import schedule_matrix

SIGNAL_MODES = 5
MEMORIZATION_MODES = 2
EVENT_UNIFORMS = 64
"""Uniforms per run for events (spike times and sizes), drawn after the knobs."""
MAX_KICKS = 6
MAX_SPIKES = 40
ONSET_MARGIN = 0.05
"""An instability is *present* once it adds this fraction to the loss (see :mod:`~curvebench.simulator.truth`)."""


@dataclass
class Model:
    """What :func:`~curvebench.simulator.dynamics.integrate` runs: parameters and each run's learning rates
    as a shared schedule times per-run scales, ``eta = stability * schedule`` (stability units) and the
    logged ``lr = lr_scale * schedule``."""

    params: ModelParams
    schedule: np.ndarray
    stability: np.ndarray
    lr_scale: np.ndarray

    def eta(self, rows: slice = slice(None)) -> np.ndarray:
        """The ``(runs, steps)`` learning rates in stability units of the runs at ``rows``."""
        return self.stability[rows, None] * self.schedule[rows]


SCHEDULE_KNOBS = ("warmup", "final", "gamma", "milestone1", "milestone2", "cycle_rise", "decay")
"""The knobs that shape a run's learning-rate schedule, besides its ``schedule`` kind and ``steps``."""


def schedule_of(tables: list[Knobs]) -> np.ndarray:
    """The schedule matrix of the runs of ``tables``, in order (rows padded to the longest run)."""
    column = lambda name: np.concatenate([t[name] for t in tables])
    return schedule_matrix(list(column("schedule")), column("steps"), **{n: column(n) for n in SCHEDULE_KNOBS})


def assemble(knobs: Knobs, mode: str, events: np.ndarray, schedule: np.ndarray | None = None) -> Model:
    """The model for ``knobs`` (all of one ``mode``); ``events``: ``(runs, EVENT_UNIFORMS)`` uniforms;
    ``schedule``: the runs' :func:`schedule_of`, of any padded width (made here if not given).

    Knobs solved from a severity (``lr_factor``, ``stability``, ``sharpening``, ``memorization``,
    ...) are written back into ``knobs``.
    """
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        return _assemble(knobs, mode, events, schedule_of([knobs]) if schedule is None else schedule)


def _assemble(k: Knobs, mode: str, events: np.ndarray, shape: np.ndarray) -> Model:
    n = k.n_runs
    steps = k["steps"]
    effective = _effective(shape, steps)
    learnable = k["chance_loss"] - k["floor_loss"]
    times = np.exp(np.linspace(0.0, 1.0, SIGNAL_MODES)[None, :] * np.log(k["slow_time"] / k["fast_time"])[:, None])
    times = k["fast_time"][:, None] * times * effective[:, None]
    weights = mode_weights(list(k["family"]), times, t0=k["knee_time"] * effective, alpha=k["alpha"], share=k["share"])

    healthy_stability = k["stability"].copy()
    if mode == "lr_low/slow":
        k["lr_factor"] = _slowdown(weights, times, effective, k["learned_by_end"])
        k["stability"] = healthy_stability * k["lr_factor"]
    elif mode in ("lr_high/divergence", "lr_high/nan"):
        k["stability"] = _unstable_stability(k, learnable, mode)
        k["lr_factor"] = k["stability"] / healthy_stability
    elif mode in ("lr_high/oscillation", "lr_high/spikes", "lr_high/collapse"):
        k["lr_factor"] = 2.0 + 6.0 * events[:, -1]
        healthy_stability = k["stability"] / k["lr_factor"]
    stability = k["stability"]
    cap = np.minimum(0.9, 1.9 / stability)
    signal_h = np.minimum(1.0 / (2.0 * healthy_stability[:, None] * times), cap[:, None])

    if mode in MEMORIZING:
        k["memorization"] = k["floor_loss"] * (1.0 - k["train_residual"]) / learnable
    mem_times = (k["memorization_time"] * effective)[:, None] * np.stack([np.ones(n), k["memorization_spread"]], axis=1)
    memorized = k["memorization"] * learnable
    mem_h = np.minimum(1.0 / (2.0 * healthy_stability[:, None] * mem_times), cap[:, None])
    mem_h = np.where(memorized[:, None] > 0, mem_h, 0.0)
    use_mem = bool(np.any(memorized > 0))

    h_cols = [np.ones((n, 1)), signal_h] + ([mem_h] if use_mem else [])
    h = np.concatenate(h_cols, axis=1)
    energy = [k["init_excess"][:, None], learnable[:, None] * weights]
    if use_mem:
        energy.append(memorized[:, None] * np.stack([1.0 - k["memorization_split"], k["memorization_split"]], axis=1))
    e0 = np.sqrt(2.0 * np.concatenate(energy, axis=1) / np.where(h > 0, h, 1.0))
    delta = -e0[:, -MEMORIZATION_MODES:] if use_mem else np.zeros((n, 0))

    noise = _noise(h, e0, healthy_stability, k["noise_floor"] * learnable)
    tau = _tau(shape, stability, steps)
    eta = stability[:, None] * shape if mode in _NEED_ETA else None

    params = ModelParams.quadratic(h=h, e0=e0, noise=np.zeros(n), floor=k["floor_loss"])
    params.noise = noise
    params.delta = delta
    params.floor_train = k["floor_loss"] - memorized
    params.floor_val = k["floor_loss"] * (1.0 + np.where(memorized > 0, k["generalization_gap"], 0.0)) + k["val_shift"]
    params.learnable_train = learnable + memorized
    params.learnable_val = learnable
    params.link_scale = k["init_excess"] + learnable + memorized
    params.link_power = k["link_power"]
    params.overflow = overflow_level(k)
    if mode in ("lr_high/divergence", "lr_high/nan"):
        _seed_instability(params, k, eta)
    _sharp_direction(params, k, mode, stability, eta, tau)
    params.gated = k["gated"]
    params.gate_share = np.zeros_like(h)
    params.gate_share[:, 1:SIGNAL_MODES + 1] = _gate_share(weights, k["gated"])
    params.gate0 = np.where(k["gated"] > 0, 10.0 ** k["gate_start"], 1.0)
    params.gate_rate = k["gate_rate"] / tau
    params.death_threshold = k["death_threshold"]
    params.death_rate = k["death_rate"]
    params.weight_decay = k["weight_decay"] / tau
    params.weight_injection = 2.0 * params.weight_decay / stability + _weight_growth(k, stability)
    grad0 = np.sqrt(sum_columns((h * h * e0 * e0).T) + sum_columns(noise.T))
    params.grad_scale = k["grad_scale"] / grad0
    params.noise_power = k["noise_scaling"]
    params.noise_reference = k["floor_loss"] + k["noise_floor"] * learnable
    params.readout = k["readout_noise"]
    params.clip = k["clip"] * grad0
    params.kicks += _kicks(k, events, stability)
    return Model(params, shape, stability, k["lr"] * k["lr_factor"])


MEMORIZING = ("overfit/memorization", "healthy/memorizing")
"""Modes that learn their training set by heart; :func:`curvebench.simulator.overfit.calibrate` sets their
validation rise."""
_NEED_ETA = ("lr_high/divergence", "lr_high/nan", "lr_high/oscillation", "lr_high/collapse")
"""Modes whose causes are solved from the learning rates step by step."""


def _valid(matrix: np.ndarray, steps: np.ndarray) -> np.ndarray:
    """Which entries of a ``(runs, padded steps)`` matrix are within each run's own steps."""
    return np.arange(matrix.shape[1])[None, :] < steps[:, None]


def _effective(shape: np.ndarray, steps: np.ndarray) -> np.ndarray:
    """Each run's effective length: its schedule summed over its own steps, in step order."""
    out = np.empty(len(steps))
    _sum_rows(shape, np.ones(len(steps)), np.asarray(steps, dtype=np.int64), 0, out)
    return out


def _tau(shape: np.ndarray, stability: np.ndarray, steps: np.ndarray) -> np.ndarray:
    """Each run's summed learning rate ``stability * shape`` over its own steps, in step order (a padded
    row adds a zero)."""
    out = np.empty(len(steps))
    _sum_rows(shape, np.asarray(stability, dtype=np.float64), np.asarray(steps, dtype=np.int64), shape.shape[1], out)
    return out


@njit(cache=True, nogil=True)
def _sum_rows(matrix, scale, steps, width, out):
    """``out[r]``: ``scale[r] * matrix[r, 0] + scale[r] * matrix[r, 1] + ...`` over the run's own steps, plus
    ``0.0`` if the row is padded to ``width`` (so a ``-0.0`` sum turns ``0.0``): the rounding of the last entry
    of ``np.cumsum`` over ``scale[:, None] * matrix``."""
    for r in range(matrix.shape[0]):
        total = scale[r] * matrix[r, 0]
        for t in range(1, steps[r]):
            total += scale[r] * matrix[r, t]
        if steps[r] < width:
            total += 0.0
        out[r] = total


def _noise(h, e0, stability, floor_energy) -> np.ndarray:
    """Per-mode noise ``n h_k`` (the NQM's gradient covariance ~ curvature) giving a noise floor of
    ``floor_energy`` at the healthy peak learning rate. No signal mode gets a floor above 90% of its
    initial loss (the loss would otherwise dip, then climb back to the floor); the rest goes to the others."""
    response = stability[:, None] * h / (2.0 * np.abs(2.0 - stability[:, None] * h))
    response[:, SIGNAL_MODES + 1:] = 0.0
    cap = 0.9 * 0.5 * h * e0 * e0
    cap[:, 0] = np.inf
    high = floor_energy / np.maximum(response[:, 0], 1e-300)
    _bisect_noise(response, cap, np.asarray(floor_energy, dtype=np.float64), high)
    per_mode = np.minimum(high[:, None] * response, cap)
    return np.where(response > 0, per_mode / np.where(response > 0, response, 1.0), 0.0) * h


@njit(cache=True, nogil=True)
def _bisect_noise(response, cap, floor_energy, high):
    """Bisect each run's noise scale ``m`` in ``[0, high]`` (60 halvings; ``high`` is overwritten with the upper
    end) until ``sum_k min(m * response_k, cap_k)``, summed in mode order, reaches ``floor_energy``."""
    for r in range(response.shape[0]):
        low, up = 0.0, high[r]
        for _ in range(60):
            mid = 0.5 * (low + up)
            total = _smaller(mid * response[r, 0], cap[r, 0])
            for k in range(1, response.shape[1]):
                total += _smaller(mid * response[r, k], cap[r, k])
            if total < floor_energy[r]:
                low = mid
            else:
                up = mid
        high[r] = up


@njit(cache=True, nogil=True)
def _smaller(a, b):
    """``np.minimum(a, b)`` of two floats: NaN if either is NaN."""
    if np.isnan(a) or np.isnan(b):
        return np.nan
    return a if a <= b else b


def _weight_growth(k, stability) -> np.ndarray:
    """Weight-norm growth of a dead network, so its gradient norm falls by ``dead_grad_fall`` over the run.

    Steps on scale-invariant weights with no decay to hold them grow the weight norm,
    ``w**2 <- w**2 + eta**2 c / w**2`` (``w**4 = 1 + 2 eta**2 c t`` at a constant rate), and the
    gradient falls as ``1 / w`` (the effective step shrinks as weights grow: Arora et al., 2019; van
    Laarhoven, 2017): ``c = (fall**4 - 1) / (2 eta**2 steps)``. Recorded collapsed networks' gradient
    keeps falling, 2-5x over the run, while their loss hovers at chance.
    """
    return (k["dead_grad_fall"] ** 4 - 1.0) / (2.0 * stability ** 2 * k["steps"])


def _slowdown(weights, times, effective, learned) -> np.ndarray:
    """The learning-rate factor that learns only ``learned`` of the learnable loss by the end (bisection)."""
    low, high = np.full(len(learned), -12.0), np.zeros(len(learned))
    for _ in range(50):
        mid = 0.5 * (low + high)
        remaining = gradient_flow_curve(weights, times, (effective * np.exp(mid))[:, None])[:, 0]
        too_fast = 1.0 - remaining > learned
        high = np.where(too_fast, mid, high)
        low = np.where(too_fast, low, mid)
    return np.exp(0.5 * (low + high))


def _unstable_stability(k: Knobs, learnable, mode) -> np.ndarray:
    """Peak stability > 2 whose geometric growth of mode 0 gives the asked climb (or NaN warning)."""
    steps = k["steps"].astype(np.float64)
    onset = k["onset_at"] * steps
    level = k["floor_loss"] + 0.5 * learnable
    if mode == "lr_high/nan":
        grow_to = overflow_level(k)
        window = np.maximum(k["warning"] * onset, 2.0)
        k["climb_from"] = onset - window
    else:
        target = k["climb"] * level - k["floor_loss"]
        power = k["link_power"]
        grow_to = np.where(target <= learnable, target,
                           learnable * (1.0 + power * (target / learnable - 1.0)) ** (1.0 / power))
        window = np.maximum(steps - onset, 2.0)
        k["climb_from"] = onset
    growth = np.clip(np.log(grow_to / (ONSET_MARGIN * level)) / window, 1e-4, 2.0 * np.log(6.0))
    return 1.0 + np.exp(0.5 * growth)


def _seed_instability(params: ModelParams, k: Knobs, eta) -> None:
    """Mode-0 noise small enough that its geometric growth reaches the onset margin at ``climb_from``."""
    valid = _valid(eta, k["steps"])
    start = np.round(k.pop("climb_from")).astype(np.int64)
    growth_log = np.where(valid & (eta > 2.0), 2.0 * np.log(np.abs(1.0 - eta)), 0.0)
    cols = np.arange(eta.shape[1])[None, :]
    before = np.cumsum(np.where(cols < start[:, None], growth_log, 0.0), axis=1)
    unstable_steps = before[np.arange(len(start)), np.clip(start, 1, eta.shape[1]) - 1]
    level = k["floor_loss"] + 0.5 * (k["chance_loss"] - k["floor_loss"])
    rho = k["stability"]
    rate = np.exp(2.0 * np.log(rho - 1.0))
    target = ONSET_MARGIN * level
    seed_energy = target * np.exp(-np.minimum(unstable_steps, 60.0)) * (rate - 1.0)
    params.noise[:, 0] = 2.0 * seed_energy / (rho * rho)
    params.e0[:, 0] = 0.0
    k["init_excess"] = np.zeros(k.n_runs)


def _sharp_direction(params: ModelParams, k: Knobs, mode, stability, eta, tau) -> None:
    on = k["sharp_scale"] > 0
    sharp_eos = 2.0 / stability
    level = k["floor_loss"] + 0.2 * (k["chance_loss"] - k["floor_loss"])
    width = np.sqrt(np.where(on, k["sharp_scale"], 1.0) * level / sharp_eos)
    params.width_pos = width
    params.width_neg = width * k["asymmetry"]
    params.sharpness0 = k["sharp_start"] / stability
    params.sharpness_max = k["sharp_max"] / stability
    if mode in ("lr_high/oscillation", "lr_high/collapse"):
        onset_step = np.clip(np.round(k["onset_at"] * k["steps"]).astype(np.int64), 1, k["steps"] - 1)
        cumulative = np.cumsum(np.where(_valid(eta, k["steps"]), eta, 0.0), axis=1)
        tau_on = cumulative[np.arange(len(tau)), onset_step - 1]
        ratio = (k["sharp_max"] - k["sharp_start"]) / (k["sharp_max"] - 2.0)
        k["sharpening"] = np.log(ratio) * tau / tau_on
    params.sharpening = k["sharpening"] / tau
    amplitude = k["sharp_amplitude"]
    eos = np.isfinite(amplitude)
    k["stabilization"] = np.where(
        eos, params.sharpening * (k["sharp_max"] - 2.0) / (2.0 * np.tanh(np.where(eos, amplitude, 1.0)) ** 2),
        k["stabilization"],
    )
    params.stabilization = k["stabilization"]

    params.x_floor = np.where(on, k["sharp_floor"] * width, 0.0)
    params.x0 = params.x_floor.copy()


def _gate_share(weights: np.ndarray, gated: np.ndarray) -> np.ndarray:
    """The share of each signal mode behind the saddle: the slowest modes first, ``gated`` of the weight in all."""
    behind_slower = np.cumsum(weights[:, ::-1], axis=1)[:, ::-1] - weights
    return np.clip((gated[:, None] - behind_slower) / np.maximum(weights, 1e-300), 0.0, 1.0)


def _kicks(k: Knobs, events: np.ndarray, stability: np.ndarray) -> list:
    """Events: benign spikes (``kicks`` bad batches at uniform times, each adding ``~kick_size`` of the
    loss) and, for ``lr_high/spikes``, ``spikes`` jumps of sharpness to ``spike_stability / lr``
    after ``onset_at``."""
    out = []
    for row in np.flatnonzero(k["kicks"] > 0):
        for j in range(int(min(k["kicks"][row], MAX_KICKS))):
            u_time, u_size, u_mode = events[row, 3 * j: 3 * j + 3]
            step = int(k["steps"][row] * (0.05 + 0.8 * u_time))
            out.append((step, int(row), 1 + int(u_mode < 0.5), float(k["kick_size"][row] * (0.5 + u_size))))
    for row in np.flatnonzero(k["spikes"] > 0):
        count = int(min(k["spikes"][row], MAX_SPIKES))
        start = k["onset_at"][row]
        times = np.sort(events[row, 3 * MAX_KICKS: 3 * MAX_KICKS + count])
        times[0] = 0.0
        for u_time in times:
            step = int(k["steps"][row] * (start + (0.97 - start) * u_time))
            out.append((step, int(row), -1, float(k["spike_stability"][row] / stability[row])))
    return out
