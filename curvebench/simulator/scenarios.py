"""Scenarios: for each label and mode, the distribution of knobs that makes the cause happen.

Every scenario starts from the same healthy *problem* (task, loss scale, learning-curve
family, schedule, noise, logging) and then applies its cause: a learning rate too high or too
low, a small dataset, a saddle, a dead network. ``severity`` in ``[0, 1]`` runs each cause from
borderline to blatant (see :data:`SEVERITY` for what it sets). The registry follows Gymnasium's
pattern: :func:`register`, :func:`spec`, :data:`SCENARIOS` keyed by mode.

>>> sorted(s.mode for s in scenarios_for("plateau"))
['plateau/early', 'plateau/stuck']
>>> spec("lr_high/nan").label
'lr_high'
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Callable

import numpy as np

from curvebench.run import LABELS
from curvebench.simulator.knobs import Draw, Knobs, log_between
from curvebench.simulator.truth import HEALTHY_MAX_VAL_RISE

SEVERITY = {
    "lr_high/nan": "warning before the NaN: a climb over 50% (0) to 1% (1) of the time before it",
    "lr_high/divergence": "how far the loss climbs by the end: 1.15x (0) to 10x (1) its best",
    "lr_high/oscillation": "scale of the sharp direction's loss, so of the zig-zag amplitude",
    "lr_high/spikes": "spike height and the capacity each spike costs (the upward trend)",
    "lr_high/collapse": "how early and how completely the network dies",
    "lr_low/slow": "fraction of the learnable loss learned by the end: 40% (0) to 4% (1), linearly",
    "overfit/memorization": "validation rise after its minimum: 10% (0) to 80% (1) of the minimum",
    "plateau/early": "plateau height above the floor: 30% (0) to 95% (1) of the learnable loss",
    "plateau/stuck": "share of the learnable loss behind the saddle: 99% (0) to 100% (1)",
}
"""What ``severity`` sets, per pathological mode."""


MODE_WEIGHTS = {"healthy/smooth": 2.0, "healthy/eos": 0.5, "healthy/catapult": 0.5,
                "lr_high/collapse": 4.0, "lr_high/nan": 2.0, "lr_high/divergence": 0.5,
                "lr_high/oscillation": 0.5, "lr_high/spikes": 0.5}
"""Relative frequency of modes within their label (1 unless listed). A too-high learning rate most
often shows as an early blow-up that leaves a broken network near the chance level (with Adam), or as
NaN (25-37% of TaskSet runs at LR > 0.1); rarely as a steady climb or a clean growing zig-zag
(REAL-CURVES.md, the TaskSet sweeps and the recorded corpus). Edge-of-stability wiggles and catapults
are the odd healthy runs, not the common ones."""


@dataclass(frozen=True)
class Scenario:
    """One mode: its label, a knob sampler ``apply(draw, knobs, severity)`` and a one-line story."""

    mode: str
    story: str
    apply: Callable[[Draw, Knobs, np.ndarray], None]
    weight: float = 1.0
    """Relative frequency among its label's modes when the mode is drawn."""
    version: int = 1

    @property
    def label(self) -> str:
        return self.mode.split("/")[0]


SCENARIOS: dict[str, Scenario] = {}
"""Registered scenarios by mode (``"lr_high/nan"``)."""


def register(scenario: Scenario) -> Scenario:
    if scenario.label not in LABELS:
        raise ValueError(f"scenario {scenario.mode!r}: label must be one of {', '.join(LABELS)}")
    SCENARIOS[scenario.mode] = scenario
    return scenario


def spec(mode: str) -> Scenario:
    """The scenario for ``mode``; ``KeyError`` naming close matches for an unknown one."""
    try:
        return SCENARIOS[mode]
    except KeyError:
        close = difflib.get_close_matches(mode, list(SCENARIOS), n=3)
        hint = f"; did you mean {' or '.join(close)}?" if close else f"; known: {', '.join(sorted(SCENARIOS))}"
        raise KeyError(f"unknown scenario {mode!r}{hint}") from None


def scenarios_for(label: str) -> list[Scenario]:
    """The scenarios of ``label``, in registration order; ``KeyError`` for an unknown label."""
    found = [s for s in SCENARIOS.values() if s.label == label]
    if not found:
        close = difflib.get_close_matches(label, LABELS, n=2)
        hint = f"; did you mean {' or '.join(close)}?" if close else f"; expected one of {', '.join(LABELS)}"
        raise KeyError(f"unknown label {label!r}{hint}")
    return found


def sample_knobs(mode: str, uniforms: np.ndarray, *, steps=None, severity=None) -> Knobs:
    """Knobs for ``len(uniforms)`` runs of ``mode`` (``steps``/``severity``: fixed values or ``None`` to draw)."""
    scenario = spec(mode)
    draw = Draw(uniforms)
    knobs = problem(draw, steps)
    drawn_severity = draw.uniform(0.0, 1.0)
    sev = drawn_severity if severity is None else np.full(len(uniforms), float(severity))
    knobs["severity"] = np.where(scenario.label == "healthy", np.nan, sev)
    scenario.apply(draw, knobs, sev)
    return knobs


def problem(d: Draw, steps=None) -> Knobs:
    """The healthy problem every scenario starts from."""
    n = d._u.shape[0]
    long_run = d.chance(0.04)
    length = np.where(long_run, d.log_uniform(20000, 100000), d.log_uniform(50, 20000))
    k = Knobs()
    k["steps"] = (np.full(n, int(steps)) if steps is not None else np.round(length)).astype(np.int64)
    task = d.choice({"binary": 0.22, "classes": 0.23, "many_classes": 0.2, "vocabulary": 0.13, "regression": 0.22})
    spread = d.uniform(0.0, 1.0)
    classes = np.select(
        [task == "binary", task == "classes", task == "many_classes", task == "vocabulary"],
        [np.full(n, 2.0), np.exp(np.log(3) + spread * np.log(100 / 3)), np.exp(np.log(100) + spread * np.log(10)),
         np.exp(np.log(1000) + spread * np.log(50.304))],
        0.0,
    )
    k["n_classes"] = np.round(classes).astype(np.int64)
    regression_scale = d.log_uniform(0.01, 100.0)
    chance = np.where(k["n_classes"] > 0, np.log(np.maximum(k["n_classes"], 2)), regression_scale)
    k["chance_loss"] = chance
    init = d.choice({"calibrated": 0.6, "off": 0.3, "far_off": 0.1})
    init_amount = d.uniform(0.0, 1.0)
    k["init_excess"] = chance * np.select(
        [init == "calibrated", init == "off"], [0.03 * init_amount, 0.05 + 0.55 * init_amount], 0.6 + 1.4 * init_amount
    )
    floor_class = d.log_uniform(0.003, 0.7)
    floor_regr = d.log_uniform(0.001, 0.3)
    k["floor_loss"] = chance * np.where(k["n_classes"] > 0, floor_class, floor_regr)
    k["family"] = d.choice({"power_law": 0.5, "mixture": 0.3, "exponential": 0.2})
    k["alpha"] = d.uniform(0.3, 1.5)
    k["share"] = d.uniform(0.2, 0.8)
    k["fast_time"] = d.log_uniform(0.0005, 0.02)
    k["slow_time"] = d.log_uniform(0.4, 6.0)
    k["knee_time"] = np.exp(np.log(k["fast_time"]) + d.uniform(0.05, 0.55) * np.log(k["slow_time"] / k["fast_time"]))
    k["optimizer"] = d.choice({"adam": 0.65, "sgd": 0.35})
    adam = k["optimizer"] == "adam"
    k["lr"] = np.where(adam, d.log_uniform(5e-5, 3e-3), d.log_uniform(3e-3, 0.5))
    k["lr_factor"] = np.ones(n)
    k["stability"] = d.log_uniform(0.25, 1.7)
    k["link_power"] = np.where(adam, d.uniform(0.05, 0.25), 0.5)
    k["schedule"] = d.choice({"constant": 0.15, "step": 0.15, "linear": 0.1, "cosine": 0.3, "onecycle": 0.1, "wsd": 0.2})
    k["warmup"] = np.where(d.chance(0.45), 0.0, d.uniform(0.005, 0.08))
    k["final"] = np.where(d.chance(0.5), 0.0, d.uniform(0.0, 0.1))
    k["gamma"] = d.uniform(0.1, 0.3)
    k["milestone1"] = d.uniform(0.3, 0.6)
    k["milestone2"] = np.minimum(k["milestone1"] + d.uniform(0.15, 0.3), 0.95)
    k["cycle_rise"] = d.uniform(0.2, 0.4)
    k["decay"] = d.uniform(0.15, 0.4)
    k["noise_floor"] = d.log_uniform(0.005, 0.06)
    k["batch_size"] = np.round(2 ** d.uniform(3, 12)).astype(np.int64)
    k["loss_noise"] = d.log_uniform(0.004, 0.06)
    k["noise_shape"] = d.choice({"skewed": 0.45, "gaussian": 0.45, "symmetric": 0.1})
    k["jump_prob"] = 0.045 * d.log_uniform(0.1, 1.6)
    k["jump_alpha"] = d.uniform(2.4, 3.4)
    k["jump_min"] = d.uniform(2.4, 3.2)
    k["noise_power"] = np.where(d.chance(0.7), 1.0, d.uniform(0.5, 1.5))
    k["grad_noise"] = d.log_uniform(0.02, 0.15)
    k["grad_coupling"] = np.where(d.chance(0.6), d.uniform(0.0, 0.6), 0.0)
    k["burst_step"] = np.zeros(n)
    k["burst_height"] = np.zeros(n)
    k["burst_decay"] = np.ones(n)
    k["noise_scaling"] = np.where(d.chance(0.3), 0.0, d.uniform(0.5, 1.0))
    k["val_noise"] = np.where(d.chance(0.2), 0.0, d.log_uniform(0.001, 0.02))
    k["wander"] = np.zeros(n)
    k["wander_steps"] = d.log_uniform(1.0, 20.0)
    k["dead_noise"] = d.log_uniform(0.003, 0.1)
    k["grad_scale"] = d.log_uniform(0.03, 30.0)
    k["clip"] = np.where(d.chance(0.3), d.log_uniform(0.5, 5.0), np.inf)
    k["weight_decay"] = np.where(d.chance(0.5), d.uniform(2.0, 15.0), 0.0)
    multi_epoch = d.chance(0.5)
    k["memorization"] = np.where(multi_epoch, d.log_uniform(0.002, 0.03), 0.0)
    k["memorization_time"] = d.log_uniform(3.0, 20.0)
    k["memorization_spread"] = np.full(n, 2.5)
    k["memorization_split"] = np.full(n, 0.5)
    k["readout_noise"] = np.zeros(n)
    k["val_shift"] = k["floor_loss"] * d.uniform(-0.02, 0.02)
    k["generalization_gap"] = np.where(d.chance(0.7), d.log_uniform(0.02, 4.0), 0.0)
    for name, value in (("sharp_start", 0.5), ("sharp_max", 0.5), ("sharpening", 0.0), ("stabilization", 0.0),
                        ("sharp_scale", 0.0), ("asymmetry", 0.5), ("sharp_floor", 0.0), ("gated", 0.0),
                        ("gate_start", 0.0), ("gate_rate", 0.0), ("death_threshold", np.inf), ("death_rate", 0.0),
                        ("overflow", np.inf), ("chaos", 0.0), ("stop_after_nan", np.inf), ("kicks", 0.0),
                        ("kick_size", 0.0), ("onset_at", np.nan), ("climb", np.nan), ("warning", np.nan),
                        ("rise", np.nan), ("learned_by_end", np.nan), ("sharp_amplitude", np.nan), ("spikes", 0.0),
                        ("spike_stability", np.nan), ("train_residual", np.nan), ("val_memorization", np.nan),
                        ("confidence_at", np.nan), ("confidence_saturation", np.nan), ("dead_grad_fall", 1.0)):
        k[name] = np.full(n, value)
    k["kicks"] = np.where(d.chance(0.25), np.floor(d.uniform(1.0, 3.0)), 0.0)
    k["kick_size"] = d.log_uniform(0.03, 0.3)
    _observation(d, k, multi_epoch)
    return k


def _observation(d: Draw, k: Knobs, multi_epoch: np.ndarray) -> None:
    steps = k["steps"]
    points = d.log_uniform(60, 5000)
    k["log_every"] = np.maximum(1, _nice(steps / points)).astype(np.int64)
    per_epoch = multi_epoch & d.chance(0.3)
    epochs = np.round(d.log_uniform(12, 150))
    k["log_every"] = np.where(per_epoch, np.maximum(1, steps // epochs), k["log_every"]).astype(np.int64)
    k["log_reduce"] = np.where(per_epoch, "mean", "last")
    evals = d.log_uniform(12, 150)
    k["eval_every"] = np.where(per_epoch, k["log_every"], np.maximum(1, _nice(steps / evals))).astype(np.int64)
    k["eval_at_start"] = d.chance(0.5)
    k["has_val"] = d.chance(0.85)
    k["has_grad_norm"] = d.chance(0.7)
    k["has_lr"] = d.chance(0.75)


def _nice(x: np.ndarray) -> np.ndarray:
    """Round to 1, 2, 2.5 or 5 times a power of ten (the intervals people choose)."""
    x = np.maximum(np.asarray(x, dtype=np.float64), 1.0)
    power = 10.0 ** np.floor(np.log10(x))
    mantissa = x / power
    steps = np.array([1.0, 2.0, 2.5, 5.0, 10.0])
    nearest = steps[np.argmin(np.abs(np.log(mantissa[:, None] / steps[None, :])), axis=1)]
    return np.round(nearest * power)


def _blend(low, high, s):
    """Geometric interpolation from ``low`` (severity 0) to ``high`` (severity 1)."""
    return low * (high / low) ** s


# --- healthy ---------------------------------------------------------------------------------------

def _healthy_smooth(d: Draw, k: Knobs, s: np.ndarray) -> None:
    pass


def _healthy_spiky(d: Draw, k: Knobs, s: np.ndarray) -> None:
    k["kicks"] = np.floor(d.uniform(2.0, 7.0))
    k["kick_size"] = d.log_uniform(0.1, 1.0)


def _healthy_eos(d: Draw, k: Knobs, s: np.ndarray) -> None:
    k["sharp_start"] = d.uniform(0.6, 1.5)
    k["sharp_max"] = d.uniform(2.3, 3.2)
    k["sharpening"] = d.log_uniform(3.0, 30.0)
    k["sharp_amplitude"] = d.uniform(0.6, 1.4)
    k["sharp_scale"] = d.log_uniform(0.1, 0.6)
    k["asymmetry"] = d.uniform(0.3, 0.7)
    k["sharp_floor"] = d.log_uniform(0.01, 0.1)


def _healthy_catapult(d: Draw, k: Knobs, s: np.ndarray) -> None:
    k["warmup"] = np.zeros(k.n_runs)
    k["schedule"] = np.where(k["schedule"] == "onecycle", "cosine", k["schedule"])
    k["sharp_start"] = d.uniform(2.1, 2.6)
    k["sharp_max"] = d.uniform(0.8, 1.6)
    k["sharpening"] = d.log_uniform(0.5, 5.0)
    k["stabilization"] = d.log_uniform(0.03, 0.3)
    k["sharp_scale"] = d.log_uniform(1.0, 5.0)
    k["asymmetry"] = d.uniform(0.4, 0.9)
    k["sharp_floor"] = d.log_uniform(1e-4, 1e-3)


def _healthy_saddle(d: Draw, k: Knobs, s: np.ndarray) -> None:
    k["gated"] = d.uniform(0.2, 0.6)
    k["gate_start"] = d.uniform(-6.0, -3.0)
    k["gate_rate"] = -np.log(10.0) * k["gate_start"] / d.uniform(0.15, 0.6)


# --- lr_high ---------------------------------------------------------------------------------------

def _calm_start(d: Draw, k: Knobs) -> None:
    """An unstable run needs a healthy phase: start near chance, no decay that would rescue it."""
    k["init_excess"] = k["chance_loss"] * d.uniform(0.0, 0.02)
    k["schedule"] = np.full(k.n_runs, "constant")
    k["clip"] = np.full(k.n_runs, np.inf)
    k["kicks"] = np.zeros(k.n_runs)
    k["wander"] = np.where(d.chance(0.8), d.log_uniform(0.3, 3.0), 0.0)


def _lr_high_divergence(d: Draw, k: Knobs, s: np.ndarray) -> None:
    _calm_start(d, k)
    k["onset_at"] = d.uniform(0.1, 0.6)
    k["climb"] = _blend(1.15, 10.0, s)
    k["overflow"] = np.full(k.n_runs, np.inf)


def _lr_high_nan(d: Draw, k: Knobs, s: np.ndarray) -> None:
    _calm_start(d, k)
    k["onset_at"] = np.where(d.chance(0.6), d.log_uniform(0.003, 0.02), d.uniform(0.1, 0.9))
    k["warning"] = _blend(0.5, 0.01, s)
    k["overflow"] = d.log_uniform(1e12, 1e36)
    k["link_power"] = np.ones(k.n_runs)
    k["stop_after_nan"] = np.where(d.chance(0.35), np.floor(d.uniform(1.0, 30.0)), np.inf)
    k["chaos"] = np.where(d.chance(0.75), d.log_uniform(0.2, 1.0), 0.0)
    k["wander"] = np.where(k["chaos"] > 0, 0.0, k["wander"])


def _lr_high_oscillation(d: Draw, k: Knobs, s: np.ndarray) -> None:
    _calm_start(d, k)
    onset = d.uniform(0.05, 0.45)
    k["sharp_start"] = d.uniform(0.6, 1.5)
    k["sharp_max"] = d.uniform(3.5, 6.0)
    k["onset_at"] = onset
    k["stabilization"] = np.zeros(k.n_runs)
    k["sharp_scale"] = _blend(0.2, 3.0, s) * d.uniform(0.7, 1.3)
    k["asymmetry"] = d.uniform(0.3, 0.6)
    k["log_every"] = k["log_every"] | 1
    k["log_reduce"] = np.full(k.n_runs, "last")
    k["sharp_floor"] = d.log_uniform(1e-3, 1e-2)


def _lr_high_spikes(d: Draw, k: Knobs, s: np.ndarray) -> None:
    _calm_start(d, k)
    k["onset_at"] = d.uniform(0.05, 0.5)
    k["spikes"] = np.floor(d.uniform(4.0, 16.0))
    k["spike_stability"] = d.uniform(3.0, 4.2)
    k["sharp_start"] = d.uniform(0.6, 1.5)
    k["sharp_max"] = d.uniform(0.8, 1.6)
    k["sharpening"] = d.log_uniform(3.0, 10.0)
    k["stabilization"] = d.log_uniform(0.5, 2.0)
    k["sharp_scale"] = _blend(0.3, 6.0, s) * d.uniform(0.7, 1.3)
    k["asymmetry"] = d.uniform(0.3, 0.8)
    k["sharp_floor"] = d.log_uniform(1e-3, 1e-2)
    k["death_threshold"] = d.uniform(0.3, 0.6)
    k["death_rate"] = _blend(0.003, 0.05, s)
    k["log_reduce"] = np.full(k.n_runs, "last")
    k["log_every"] = np.minimum(k["log_every"], np.floor(d.uniform(1.0, 4.0))).astype(np.int64)


LINGERING_BURSTS = 0.3
"""Share of first-steps bursts that linger, decaying over 5-100% of the run instead of a few steps: the network
stays blown up, its loss far above chance, and recovers slowly (too-high learning rates in the TaskSet sweeps:
the loss jumps 3-10^5x by the first evaluation and stays high; the recorded runs' bursts last a few steps)."""


def _lr_high_collapse(d: Draw, k: Knobs, s: np.ndarray) -> None:
    _calm_start(d, k)
    k["optimizer"] = np.full(k.n_runs, "adam")
    at_once_draw = d.uniform(0.0, 1.0)
    at_once = at_once_draw < 0.75
    lingers = at_once_draw < 0.75 * LINGERING_BURSTS
    k["warmup"] = np.where(~at_once & d.chance(0.6), d.uniform(0.01, 0.1), 0.0)
    k["onset_at"] = np.where(at_once, d.log_uniform(0.0005, 0.01), d.uniform(0.01, 0.15)) + k["warmup"]
    k["readout_noise"] = d.log_uniform(0.01, 0.2)
    k["dead_noise"] = d.log_uniform(0.1, 1.0)
    k["noise_shape"] = np.full(k.n_runs, "skewed")
    k["jump_prob"] = d.log_uniform(0.01, 0.08)
    k["sharp_start"] = d.uniform(0.6, 1.2)
    k["sharp_max"] = _blend(4.0, 20.0, s) * d.uniform(0.8, 1.2)
    k["stabilization"] = np.zeros(k.n_runs)
    k["sharp_scale"] = d.log_uniform(0.1, 1.0)
    k["asymmetry"] = d.uniform(0.3, 0.8)
    k["sharp_floor"] = d.log_uniform(1e-3, 1e-2)
    k["death_threshold"] = d.uniform(0.25, 0.5) * k["sharp_max"] / 2.0
    k["death_rate"] = _blend(1.0, 10.0, s)
    k["n_classes"] = np.where(k["n_classes"] == 0, 2, k["n_classes"])
    k["chance_loss"] = np.log(np.maximum(k["n_classes"], 2))
    k["init_excess"] = k["chance_loss"] * np.where(d.chance(0.85), d.log_uniform(0.1, 1.5), 0.0)
    k["burst_step"] = np.where(at_once, np.maximum(1.0, np.round(k["onset_at"] * k["steps"])), 0.0)
    k["burst_height"] = np.where(at_once, d.log_uniform(3.0, 1e6), 0.0)
    decay = d.uniform(0.0, 1.0)
    k["burst_decay"] = np.where(lingers, k["steps"] * log_between(0.05, 1.0, decay),
                                log_between(1.5, 6.0, decay) * np.maximum(1.0, k["steps"] / 2000.0))
    k["dead_grad_fall"] = np.where(d.chance(0.7), d.log_uniform(1.5, 6.0), 1.0)
    k["weight_decay"] = np.where(k["dead_grad_fall"] > 1.0, 0.0, k["weight_decay"])  # nothing holds the weights


# --- lr_low, overfit, plateau ----------------------------------------------------------------------

def _lr_low_slow(d: Draw, k: Knobs, s: np.ndarray) -> None:
    k["learned_by_end"] = 0.4 + (0.04 - 0.4) * s
    k["kicks"] = np.zeros(k.n_runs)
    k["noise_shape"] = np.full(k.n_runs, "gaussian")
    k["grad_coupling"] = d.uniform(0.3, 2.5)
    k["init_excess"] = k["chance_loss"] * d.uniform(0.0, 0.03)
    k["fast_time"] = k["slow_time"] * d.log_uniform(0.02, 0.3)
    k["knee_time"] = np.exp(np.log(k["fast_time"]) + d.uniform(0.2, 0.8) * np.log(k["slow_time"] / k["fast_time"]))
    k["memorization"] = np.zeros(k.n_runs)
    k["weight_decay"] = np.zeros(k.n_runs)
    # The parameters' jitter, which a fixed validation set sees, shrinks with the learning rate; a
    # resampled validation set keeps its own noise.
    k["val_noise"] = np.where(d.chance(0.5), 0.0, k["val_noise"])


def _overfit(d: Draw, k: Knobs, s: np.ndarray) -> None:
    _memorizing(d, k, d.uniform(0.05, 0.6), _blend(0.1, 0.8, s))


def _healthy_memorizing(d: Draw, k: Knobs, s: np.ndarray) -> None:
    _memorizing(d, k, d.uniform(0.4, 1.0), d.uniform(0.0, 0.8 * HEALTHY_MAX_VAL_RISE))


def _memorizing(d: Draw, k: Knobs, onset: np.ndarray, rise: np.ndarray) -> None:
    """A small training set learned by heart: validation bottoms out at ``onset`` (share of the run), then
    rises by ``rise`` of its minimum. Memorization runs ahead of the onset, or (40%) over the whole run."""
    k["onset_at"] = onset
    k["slow_time"] = onset * d.uniform(0.05, 0.3)
    k["fast_time"] = np.minimum(k["fast_time"], k["slow_time"] / 20)
    k["knee_time"] = np.minimum(k["knee_time"], k["slow_time"])
    k["memorization_time"] = np.where(d.chance(0.4), d.log_uniform(0.2, 2.0), onset * d.log_uniform(0.02, 0.4))
    k["memorization_spread"] = np.maximum(2.0, d.log_uniform(0.15, 1.5) / k["memorization_time"])
    k["train_residual"] = d.log_uniform(1e-12, 0.1)
    k["memorization_split"] = np.minimum(0.5, np.maximum(d.log_uniform(1e-6, 0.05), 10.0 * k["train_residual"]))
    k["confidence_at"] = d.log_uniform(0.1, 1.0)
    k["confidence_saturation"] = np.where(d.chance(0.3), d.log_uniform(0.3, 3.0), np.inf)
    k["rise"] = rise
    k["floor_loss"] = k["chance_loss"] * d.uniform(0.25, 0.7)
    k["noise_scaling"] = d.uniform(1.5, 2.0)
    k["noise_shape"] = np.where(d.chance(0.8), "skewed", k["noise_shape"])
    k["has_val"] = np.ones(k.n_runs, dtype=bool)
    k["clip"] = np.full(k.n_runs, np.inf)
    k["kicks"] = np.zeros(k.n_runs)
    k["weight_decay"] = np.zeros(k.n_runs)
    k["eval_every"] = np.minimum(k["eval_every"], np.maximum(1, k["steps"] // 25))


def _plateau_early(d: Draw, k: Knobs, s: np.ndarray) -> None:
    onset = d.uniform(0.05, 0.4)
    k["onset_at"] = onset
    k["schedule"] = np.full(k.n_runs, "constant")
    k["warmup"] = np.zeros(k.n_runs)
    k["slow_time"] = onset * d.uniform(0.1, 0.3)
    k["fast_time"] = np.minimum(k["fast_time"], k["slow_time"] / 20)
    k["knee_time"] = np.minimum(k["knee_time"], k["slow_time"])
    k["noise_floor"] = _blend(0.3, 0.95, s)
    k["noise_scaling"] = np.zeros(k.n_runs)
    k["memorization"] = np.zeros(k.n_runs)
    k["wander"] = np.where(d.chance(0.3), d.log_uniform(0.3, 3.0), 0.0)
    k["grad_coupling"] = d.uniform(0.2, 1.2)


def _plateau_stuck(d: Draw, k: Knobs, s: np.ndarray) -> None:
    k["n_classes"] = np.where(k["n_classes"] == 0, 2, k["n_classes"])
    k["chance_loss"] = np.log(np.maximum(k["n_classes"], 2))
    k["gated"] = 0.99 + 0.01 * s
    k["init_excess"] = k["chance_loss"] * np.where(d.chance(0.5), d.log_uniform(1e-5, 0.005), d.log_uniform(0.05, 1.0))
    k["gate_start"] = d.uniform(-14.0, -8.0)
    k["gate_rate"] = -np.log(10.0) * k["gate_start"] * d.uniform(0.02, 0.3)
    k["slow_time"] = d.log_uniform(0.01, 0.1)
    k["fast_time"] = np.minimum(k["fast_time"], k["slow_time"] / 20)
    k["knee_time"] = np.minimum(k["knee_time"], k["slow_time"])
    k["dead_noise"] = d.log_uniform(0.002, 0.05)
    k["memorization"] = np.zeros(k.n_runs)
    k["kicks"] = np.zeros(k.n_runs)


for _mode, _story, _apply in (
    ("healthy/smooth", "a well-tuned run: power-law decline, schedule effects, minibatch noise", _healthy_smooth),
    ("healthy/spiky", "a well-tuned run hit by a few bad batches: spikes that fully recover", _healthy_spiky),
    ("healthy/eos", "edge of stability: sharpness hovers at 2/lr, small oscillations on a falling trend", _healthy_eos),
    ("healthy/catapult", "an early catapult: the loss jumps for a few steps, then drops", _healthy_catapult),
    ("healthy/saddle", "a plateau on a saddle that the run escapes: a second drop", _healthy_saddle),
    ("healthy/memorizing", "a small training set learned by heart while validation holds: a widening gap",
     _healthy_memorizing),
    ("lr_high/nan", "the sharpest direction is unstable; the loss overflows to NaN", _lr_high_nan),
    ("lr_high/divergence", "the sharpest direction is unstable; the loss climbs steadily", _lr_high_divergence),
    ("lr_high/oscillation", "sharpness passes 2/lr and the loss zig-zags with growing amplitude", _lr_high_oscillation),
    ("lr_high/spikes", "repeated catapults: spikes that each cost capacity, an upward trend", _lr_high_spikes),
    ("lr_high/collapse", "an early blow-up kills the units; the loss settles (at once or slowly) to hover at chance, "
     "only the output layer learns", _lr_high_collapse),
    ("lr_low/slow", "the learning rate is too small: a tiny, steady decline", _lr_low_slow),
    ("overfit/memorization", "a small dataset: validation loss turns up while training loss falls", _overfit),
    ("plateau/early", "a constant learning rate stalls at its noise floor, far above the best loss", _plateau_early),
    ("plateau/stuck", "a saddle or dead units: flat near chance, vanishing gradient", _plateau_stuck),
):
    register(Scenario(_mode, _story, _apply, weight=MODE_WEIGHTS.get(_mode, 1.0)))
