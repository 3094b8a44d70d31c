"""The rules baseline: each pathology on generated curves, real healthy logs, and its invariants."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from curvebench.datasets.csv_run import read_csv
from curvebench.detectors import RulesDetector, get_detector, iter_steps
from curvebench.run import INSUFFICIENT_DATA, Run

NANOGPT = Path("/work/shared/data/nanogpt")
START = 2.3  # ln(10): a ten-class classifier at chance


def spiky_noise(rng, n, sigma=0.04):
    """Multiplicative noise like real per-step losses: log-normal, plus rare large upward spikes."""
    noise = rng.lognormal(0.0, sigma, n)
    spikes = rng.random(n) < 0.01
    noise[spikes] *= 1 + rng.uniform(0.1, 0.8, spikes.sum())
    return noise


def healthy_curve(rng, n):
    """A power-law decay to a floor, with a linear LR warm-down over the last 30% of the run."""
    t = np.arange(n)
    floor, power, scale = rng.uniform(0.1, 0.8), rng.uniform(0.7, 1.2), rng.uniform(0.02, 0.1) * n
    warm_down = 1 - 0.05 * np.clip((t - 0.7 * n) / (0.3 * n), 0, 1)
    return (floor + (START - floor) * (1 + t / scale) ** -power) * warm_down


def healthy_loss(rng, n, sigma=0.04):
    """:func:`healthy_curve` with per-step noise."""
    return healthy_curve(rng, n) * spiky_noise(rng, n, sigma)


def make_run(loss, **channels):
    return Run.from_columns(np.arange(len(loss)), train_loss=loss, **channels)


def every(k, values):
    """Keep every ``k``-th value (an evaluation every ``k`` steps), the rest missing."""
    return [float(v) if i % k == 0 else None for i, v in enumerate(values)]


def diagnose(run, **params):
    return RulesDetector(**params).diagnose(run)


@pytest.mark.parametrize("n", [40, 300, 3000])
@pytest.mark.parametrize("seed", range(4))
def test_noisy_healthy_decay_with_warm_down_is_healthy(seed, n):
    rng = np.random.default_rng(seed)
    curve = healthy_curve(rng, n)
    val = curve * 1.08 * rng.normal(1.0, 0.005, n)
    diagnosis = diagnose(make_run(curve * spiky_noise(rng, n), val_loss=every(max(1, n // 40), val)))
    assert diagnosis.label == "healthy", diagnosis.evidence
    assert diagnosis.onset_step is None
    assert "still falling" in diagnosis.evidence[0]


@pytest.mark.parametrize("value", [math.nan, math.inf])
def test_non_finite_loss_in_healthy_run_is_lr_high_at_that_step(value):
    loss = healthy_loss(np.random.default_rng(1), 500)
    loss[412:] = value
    diagnosis = diagnose(make_run(loss))
    assert (diagnosis.label, diagnosis.onset_step) == ("lr_high", 412)
    assert diagnosis.evidence == [f"train_loss non-finite ({value}) at step 412"]


def test_exploding_grad_norm_is_lr_high_at_first_crossing():
    rng = np.random.default_rng(2)
    t = np.arange(600)
    grad = np.where(t < 380, rng.uniform(0.5, 2.0, t.size), 2.0 * np.exp((t - 380) / 5.0))
    first = int(np.argmax(grad > 100))
    diagnosis = diagnose(make_run(healthy_loss(rng, t.size), grad_norm=grad))
    assert (diagnosis.label, diagnosis.onset_step) == ("lr_high", first)
    assert diagnosis.evidence == [f"grad_norm {grad[first]:.2g} > 100 at step {first}"]


def u_shaped_val(rng, loss, turn, rise):
    """Validation loss that follows training down to step ``turn``, then climbs by ``rise`` over the rest."""
    t = np.arange(loss.size)
    bottom = loss[turn] * 1.1
    val = np.where(t < turn, np.maximum(loss * 1.1, bottom), bottom * (1 + rise * (t - turn) / (t.size - turn)))
    return val * rng.normal(1.0, 0.005, t.size)


@pytest.mark.parametrize("seed", range(3))
def test_val_u_shape_while_train_falls_is_overfit(seed):
    rng = np.random.default_rng(seed)
    loss = healthy_loss(rng, 2000, sigma=0.02)
    val = every(25, u_shaped_val(rng, loss, turn=800, rise=0.5))
    diagnosis = diagnose(make_run(loss, val_loss=val))
    assert diagnosis.label == "overfit", diagnosis.evidence
    assert 800 < diagnosis.onset_step < 2000
    assert diagnosis.evidence[0].startswith("val_loss rose ")
    assert "while train_loss fell" in diagnosis.evidence[0]


def test_per_epoch_logs_healthy_overfit_and_plateau():
    rng = np.random.default_rng(3)
    epochs = np.arange(30)
    loss = (0.3 + 2.0 * np.exp(-epochs / 8)) * rng.lognormal(0, 0.01, 30)
    steps = epochs * 391
    healthy = Run.from_columns(steps, train_loss=loss, val_loss=loss * 1.1)
    assert diagnose(healthy).label == "healthy"
    overfit = Run.from_columns(steps, train_loss=loss, val_loss=u_shaped_val(rng, loss, turn=12, rise=0.4))
    assert diagnose(overfit).label == "overfit"
    flat = (1.0 + 1.3 * np.exp(-epochs / 2)) * rng.lognormal(0, 0.005, 30)
    assert diagnose(Run.from_columns(steps, train_loss=flat, val_loss=flat * 1.1)).label == "plateau"


@pytest.mark.parametrize("n", [60, 1000])
def test_tiny_linear_decline_is_lr_low(n):
    rng = np.random.default_rng(4)
    loss = START * (1 - 0.08 * np.arange(n) / n) * spiky_noise(rng, n)
    diagnosis = diagnose(make_run(loss))
    assert diagnosis.label == "lr_low", diagnosis.evidence
    assert "barely moves" in diagnosis.evidence[0]


@pytest.mark.parametrize("n", [200, 1000])
def test_fast_drop_then_flat_is_plateau(n):
    t = np.arange(n)
    diagnoses = []
    for seed in range(10):
        noise = spiky_noise(np.random.default_rng(seed), n, 0.02)
        diagnoses.append(diagnose(make_run((1.2 + (START - 1.2) * np.exp(-t / (0.03 * n))) * noise)))
    plateaus = [d for d in diagnoses if d.label == "plateau"]
    assert len(plateaus) >= 9, [d.evidence[0] for d in diagnoses]  # noise can hide a short flat stretch
    assert all(d.evidence[0].endswith("then flattened") for d in plateaus)


def test_flat_start_is_plateau_with_vanishing_grad_norm_and_lr_low_without():
    rng = np.random.default_rng(6)
    loss = START * rng.lognormal(0, 0.01, 400)
    stuck = diagnose(make_run(loss, grad_norm=rng.uniform(1e-9, 1e-7, 400)))
    assert stuck.label == "plateau"
    assert stuck.evidence[0].startswith("grad_norm below 1e-06")
    assert diagnose(make_run(loss)).label == "lr_low"
    assert diagnose(make_run(loss, grad_norm=rng.uniform(0.5, 2, 400))).label == "lr_low"


def test_wild_oscillation_without_decrease_is_lr_high():
    loss = START * np.random.default_rng(7).lognormal(0, 0.6, 500)
    diagnosis = diagnose(make_run(loss))
    assert diagnosis.label == "lr_high", diagnosis.evidence


def test_loss_climbing_above_its_start_is_lr_high():
    n = 500
    loss = START * (1 + 0.8 * np.arange(n) / n) * spiky_noise(np.random.default_rng(8), n)
    diagnosis = diagnose(make_run(loss))
    assert diagnosis.label == "lr_high"
    assert diagnosis.evidence[0].startswith("train_loss rose ")


@pytest.mark.parametrize("seed", range(3))
def test_a_blow_up_that_leaves_a_flat_loss_stays_lr_high(seed):
    """Too high a step kills units: the loss jumps above its start, then sits flat near it. Still the LR's fault."""
    rng = np.random.default_rng(seed)
    n = 1000
    after = np.arange(n - 100)
    loss = np.concatenate([START * (1 - 0.02 * np.arange(100) / 100),
                           START * (0.98 + 0.8 * np.exp(-after / 30))])
    verdict = RulesDetector().diagnose(Run.from_columns(np.arange(n), train_loss=loss * spiky_noise(rng, n, 0.01)))
    assert verdict.label == "lr_high", verdict.evidence
    assert 100 <= verdict.onset_step < 200
    assert "has not fallen again" in verdict.evidence[0]


def test_a_spike_the_run_recovers_from_is_healthy():
    rng = np.random.default_rng(4)
    n = 1000
    loss = healthy_curve(rng, n)
    loss[100:130] *= 3.0
    assert RulesDetector().diagnose(Run.from_columns(np.arange(n), train_loss=loss * spiky_noise(rng, n))).label == "healthy"


def test_too_few_points_is_insufficient_data():
    diagnosis = diagnose(make_run(np.linspace(2.3, 2.0, 9)))
    assert diagnosis.label == INSUFFICIENT_DATA
    assert diagnosis.evidence == ["only 9 train-loss points; at least 10 needed"]
    assert diagnose(make_run(np.linspace(2.3, 2.0, 9)), min_points=8, min_window=4).label != INSUFFICIENT_DATA


def test_missing_channels_make_rules_abstain_and_say_so():
    evidence = diagnose(make_run(healthy_loss(np.random.default_rng(9), 300))).evidence
    assert "no val_loss logged: the overfit rule abstains" in evidence
    assert "no grad_norm logged: the explosion and vanishing-gradient rules abstain" in evidence


def test_parameters_are_stored_unchanged_and_bad_values_rejected():
    detector = RulesDetector(window=0.3, plateau_tol=0.02, grad_norm_max=50.0)
    assert (detector.window, detector.plateau_tol, detector.grad_norm_max) == (0.3, 0.02, 50.0)
    for bad in [
        {"min_points": 3},
        {"min_points": 10.0},
        {"window": 0.0},
        {"window": 0.6},
        {"plateau_tol": -0.1},
        {"grad_norm_max": math.nan},
        {"grad_norm_tiny": 500.0},
        {"lr_low_drop": 1.0},
        {"min_window": True},
        {"overfit_train_fall": -0.5},
    ]:
        with pytest.raises(ValueError, match=next(iter(bad))):
            RulesDetector(**bad)


def test_registered_and_reusable():
    detector = get_detector("rules")
    assert isinstance(detector, RulesDetector)
    runs = [make_run(healthy_loss(np.random.default_rng(s), 200)) for s in range(2)]
    runs[1].channels["train_loss"].values[150] = math.nan
    first = [detector.diagnose(r).to_dict() for r in runs]
    assert [d["label"] for d in first] == ["healthy", "lr_high"]
    assert [detector.diagnose(r).to_dict() for r in runs] == first


@pytest.mark.skipif(not NANOGPT.is_dir(), reason="shared nanoGPT logs not available")
@pytest.mark.parametrize("name", ["001", "002", "003", "004", "005", "006"])
def test_real_nanogpt_runs_are_healthy(name):
    diagnosis = diagnose(read_csv(NANOGPT / f"{name}.csv"))
    assert diagnosis.label == "healthy", diagnosis.evidence


@st.composite
def runs(draw, max_points=120):
    """Positive losses of one of a few shapes, sometimes with a sparse val_loss and a grad_norm."""
    n = draw(st.integers(0, max_points))
    seed = draw(st.integers(0, 2**32 - 1))
    shape = draw(st.sampled_from(["healthy", "flat", "random", "climb"]))
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    loss = {
        "healthy": lambda: healthy_loss(rng, n),
        "flat": lambda: START * rng.lognormal(0, 0.02, n),
        "random": lambda: rng.uniform(1e-3, 1e3, n),
        "climb": lambda: START * (1 + t / max(n, 1)) * rng.lognormal(0, 0.05, n),
    }[shape]()
    channels = {}
    if draw(st.booleans()):
        channels["val_loss"] = every(draw(st.integers(1, 20)), loss * rng.uniform(0.9, 1.5, n))
    if draw(st.booleans()):
        channels["grad_norm"] = rng.choice([1e-8, 1.0, 150.0], p=[0.3, 0.69, 0.01]) * rng.lognormal(0, 0.3, n)
    return make_run(loss, **channels)


@settings(max_examples=60, deadline=None)
@given(runs(), st.integers(-20, 20))
def test_scaling_the_loss_changes_no_verdict(run, power):
    scale = 2.0**power  # exact in floating point, so every ratio is unchanged
    scaled = Run(dict(run.channels), label=run.label)
    for name in ("train_loss", "val_loss"):
        if name in run.channels:
            ch = run.channels[name]
            scaled.channels[name] = type(ch)(ch.steps, ch.values * scale)
    before, after = diagnose(run), diagnose(scaled)
    assert (after.label, after.onset_step) == (before.label, before.onset_step)


@pytest.mark.parametrize("scale", [1e-4, 0.37, 7.3, 1e5])
@pytest.mark.parametrize("seed", range(3))
def test_any_positive_scale_keeps_the_label_of_typical_curves(scale, seed):
    rng = np.random.default_rng(seed)
    n = 800
    t = np.arange(n)
    for loss in [
        healthy_loss(rng, n),
        START * (1 - 0.08 * t / n) * spiky_noise(rng, n),
        (1.2 + 1.1 * np.exp(-t / 20)) * spiky_noise(rng, n, 0.02),
    ]:
        assert diagnose(make_run(loss * scale)).label == diagnose(make_run(loss)).label


@settings(max_examples=60, deadline=None)
@given(runs(), st.data())
def test_non_finite_train_loss_means_lr_high_by_its_step(run, data):
    values = run.channels["train_loss"].values
    if values.size == 0:
        return
    where = data.draw(st.integers(0, values.size - 1))
    values[where] = data.draw(st.sampled_from([math.nan, math.inf, -math.inf]))
    diagnosis = diagnose(run)
    first = int(run.channels["train_loss"].steps[np.flatnonzero(~np.isfinite(values))[0]])
    assert diagnosis.label == "lr_high"
    assert diagnosis.onset_step <= first


@settings(max_examples=60, deadline=None)
@given(runs())
def test_diagnose_equals_the_last_update_of_a_replay_and_onset_is_causal(run):
    detector = RulesDetector()
    updates = [(step, detector.update(step, **metrics)) for step, metrics in iter_steps(run)]
    verdicts = [(step, d) for step, d in updates if d is not None]
    diagnosis = diagnose(run)
    if not verdicts:
        assert diagnosis.label == INSUFFICIENT_DATA
        return
    assert diagnosis.to_dict() == verdicts[-1][1].to_dict()
    if diagnosis.onset_step is not None:
        first = next(step for step, d in verdicts if d.label == diagnosis.label)
        assert diagnosis.onset_step == first
