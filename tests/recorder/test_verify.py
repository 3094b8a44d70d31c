"""The verification rules read labels, modes and onsets from numbers alone (no torch needed)."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from curvebench.datasets.recorder.verify import classify, verify_run
from curvebench.run import Run

STEPS = np.arange(500)


def _run(train, val=None, every=20):
    columns = {"train_loss": train}
    run = Run.from_columns(STEPS[: len(train)], **columns)
    if val is not None:
        from curvebench.run import Channel

        run.channels["val_loss"] = Channel(STEPS[: len(train)][::every][: len(val)], np.asarray(val, float))
    return run


def _noisy(curve, seed=0, scale=0.03):
    return curve * np.exp(np.random.default_rng(seed).normal(0, scale, curve.size))


def test_nan_loss_is_lr_high_with_onset_at_the_first_nan():
    loss = _noisy(2.3 * np.exp(-STEPS / 80) + 0.1)
    loss[317:] = np.nan
    verdict = classify(_run(loss))
    assert (verdict.label, verdict.mode, verdict.onset_step) == ("lr_high", "lr_high/nan", 317)


def test_a_loss_that_climbs_well_above_its_start_is_divergence():
    loss = _noisy(np.where(STEPS < 200, 2.3 - STEPS / 400, 1.8 + (STEPS - 200) / 50))
    verdict = classify(_run(loss))
    assert verdict.mode == "lr_high/divergence"
    assert 200 < verdict.onset_step < 300


def test_wild_oscillation_without_progress_is_lr_high():
    loss = _noisy(2.0 * np.exp(0.4 * np.sin(2.5 * STEPS)))
    assert classify(_run(loss)).mode == "lr_high/oscillation"


@given(st.integers(min_value=100, max_value=500), st.floats(min_value=0.25, max_value=0.6))
@settings(max_examples=20, deadline=None)
def test_a_zig_zag_of_period_two_is_oscillation_whatever_the_run_length(n, swing):
    loss = 1.5 * (1 + swing * (-1.0) ** np.arange(n))
    assert classify(_run(loss)).mode == "lr_high/oscillation"


def test_large_relative_noise_at_a_low_loss_is_not_oscillation():
    loss = (2.3 * np.exp(-STEPS / 60) + 0.05) * np.exp(np.random.default_rng(1).normal(0, 0.5, STEPS.size))
    loss[0] = 2.35
    assert classify(_run(loss)).mode == "healthy/converging"


def test_validation_minimum_then_rise_is_overfit_with_onset_at_the_minimum():
    train = _noisy(2.3 * np.exp(-STEPS / 50) + 0.001)
    val_steps = STEPS[::20]
    val = 1.0 + ((val_steps - 120) / 200.0) ** 2
    val[0] = 2.3
    verdict = classify(_run(train, val))
    assert verdict.mode == "overfit/val_rise"
    assert verdict.onset_step == 120


def test_a_flat_loss_is_a_stuck_plateau():
    assert classify(_run(_noisy(np.full(STEPS.size, 2.303), scale=0.005))).mode == "plateau/stuck"


def test_a_slow_steady_decline_is_lr_low():
    assert classify(_run(_noisy(2.3 - 0.6 * STEPS / STEPS.size, scale=0.01))).mode == "lr_low/slow"


def test_an_early_drop_then_a_flat_line_well_above_zero_is_an_early_plateau():
    verdict = classify(_run(_noisy(1.6 + 0.7 * np.exp(-STEPS / 15), scale=0.01)))
    assert verdict.mode == "plateau/early"
    assert verdict.onset_step < 150


def test_a_fast_converging_curve_is_healthy():
    verdict = classify(_run(_noisy(2.3 * np.exp(-STEPS / 60) + 0.02)))
    assert (verdict.label, verdict.onset_step) == ("healthy", None)


def test_verify_run_passes_only_the_intended_label():
    run = _run(_noisy(np.full(STEPS.size, 2.303), scale=0.005))
    assert verify_run(run, "plateau").passed
    check = verify_run(run, "lr_low")
    assert not check.passed and check.reason == "looks like plateau/stuck"


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(min_value=1e-3, max_value=1e3), min_size=10, max_size=300))
def test_every_verdict_is_a_valid_run_label(values):
    verdict = classify(_run(np.asarray(values)))
    if verdict is not None:
        run = Run.from_columns(STEPS[: len(values)], train_loss=values, label=verdict.label, mode=verdict.mode,
                               onset_step=verdict.onset_step)
        assert run.label == verdict.label


def test_verify_imports_without_torch():
    import subprocess
    import sys

    code = ("import sys; sys.modules['torch'] = None; import curvebench.datasets; "
            "from curvebench.datasets.recorder import verify_run; import curvebench.datasets.corpora\n"
            "try:\n    import curvebench.datasets.recorder.record\nexcept ImportError as e:\n    print(e)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "pip install curvebench[torch]" in out
