"""AutoTrainer: AUTOTRAINER's rules on hand-made runs of each label, at several loss scales."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from curvebench.detectors.autotrainer import AutoTrainer
from curvebench.detectors.base import iter_steps
from curvebench.run import INSUFFICIENT_DATA, LABELS, Run

SCALES = [0.01, 1.0, 1000.0]


def decay(n: int) -> np.ndarray:
    """A healthy loss shape: fast then slow decline from 2.3 towards 0.3."""
    t = np.arange(n, dtype=float)
    return 2.0 * np.exp(-t / (n / 4)) + 0.3


def noisy(curve: np.ndarray, sigma: float, seed: int = 0) -> np.ndarray:
    """Multiplicative right-skewed noise of relative size ``sigma``."""
    rng = np.random.default_rng(seed)
    return curve * np.exp(sigma * rng.standard_gamma(2.0, curve.size) / 2.0 - sigma)


def epoch_run(train: np.ndarray, val: np.ndarray, scale: float, **extra: np.ndarray) -> Run:
    """A per-epoch log: one train and one val point every 100 steps."""
    steps = 100 * np.arange(1, train.size + 1)
    return Run.from_columns(steps, train_loss=scale * train, val_loss=scale * val, **extra)


def step_run(train: np.ndarray, scale: float, **extra: np.ndarray) -> Run:
    return Run.from_columns(np.arange(train.size), train_loss=scale * train, **extra)


@pytest.mark.parametrize("scale", SCALES)
def test_healthy_runs_raise_nothing(scale):
    per_epoch = epoch_run(noisy(decay(30), 0.002), noisy(decay(30), 0.002, seed=1) + 0.05, scale)
    per_step = step_run(noisy(decay(2000), 0.01), scale)
    for run in (per_epoch, per_step):
        verdict = AutoTrainer().diagnose(run)
        assert verdict.label == "healthy", verdict.evidence
        assert verdict.onset_step is None


@pytest.mark.parametrize("scale", SCALES)
def test_nan_loss_is_lr_high_at_the_nan_step(scale):
    train = decay(300)
    train[123:] = np.nan
    verdict = AutoTrainer().diagnose(step_run(train, scale))
    assert (verdict.label, verdict.onset_step) == ("lr_high", 123)


@pytest.mark.parametrize("scale", SCALES)
def test_a_loss_a_thousand_times_its_start_is_lr_high(scale):
    train = np.concatenate([decay(100), 0.5 * np.exp(np.arange(100) / 8.0)])
    verdict = AutoTrainer().diagnose(step_run(train, scale))
    assert verdict.label == "lr_high"
    assert scale * train[verdict.onset_step] >= 1e3 * scale * train[0]


@pytest.mark.parametrize("scale", SCALES)
def test_oscillating_loss_is_unstable(scale):
    t = np.arange(40)
    train = decay(40) * (1 + 0.15 * (-1.0) ** t)
    verdict = AutoTrainer().diagnose(epoch_run(train, train + 0.1, scale))
    assert verdict.label == "lr_high"
    assert "unstable loss" in verdict.evidence[0]


@pytest.mark.parametrize("scale", SCALES)
def test_slow_convergence_is_lr_low(scale):
    per_epoch = epoch_run(2.3 - 0.004 * np.arange(30), 2.35 - 0.004 * np.arange(30), scale)
    per_step = step_run(noisy(2.3 - 0.0002 * np.arange(3000), 0.005), scale)
    for run in (per_epoch, per_step):
        verdict = AutoTrainer().diagnose(run)
        assert verdict.label == "lr_low", verdict.evidence
        assert "slow convergence" in verdict.evidence[0]


@pytest.mark.parametrize("scale", SCALES)
def test_validation_turning_bad_is_overfit_after_the_val_minimum(scale):
    train = decay(40)
    val = decay(40) + 0.1
    val[20:] = val[20] + 0.05 * np.arange(20)
    verdict = AutoTrainer().diagnose(epoch_run(train, val, scale))
    assert verdict.label == "overfit"
    assert verdict.onset_step > 100 * 20


def stalled_run(n: int = 400, **extra: np.ndarray) -> Run:
    """Fast drop then flat: loss gains vanish after the first quarter."""
    train = np.maximum(decay(n // 8)[-1], decay(n // 8).tolist() + [0.0] * (n - n // 8))
    return step_run(np.asarray(train), 1.0, **extra)


def test_dying_relu_is_plateau_and_abstains_without_dead_frac():
    verdict = AutoTrainer().diagnose(stalled_run(dead_frac=np.full(400, 0.9)))
    assert verdict.label == "plateau"
    assert "dying ReLU" in verdict.evidence[0]
    without = AutoTrainer().diagnose(stalled_run())
    assert without.label != "plateau"
    assert any("no dead_frac" in line for line in without.evidence)


def test_gradient_ratios_give_vanishing_and_exploding():
    vanishing = {"grad_norm/layer0": np.full(400, 1e-6), "grad_norm/layer9": np.full(400, 1e-2)}
    assert AutoTrainer().diagnose(stalled_run(**vanishing)).label == "plateau"
    exploding = {"grad_norm/layer0": np.full(400, 100.0), "grad_norm/layer9": np.full(400, 1.0)}
    verdict = AutoTrainer().diagnose(stalled_run(**exploding))
    assert verdict.label == "lr_high"
    assert "exploding gradient" in verdict.evidence[0]


def test_the_recorders_channel_names_work_too():
    recorded = {"grad_norm.last_layer": np.full(400, 1e-2), "grad_norm.first_layer": np.full(400, 1e-6)}
    assert AutoTrainer().diagnose(stalled_run(**recorded)).label == "plateau"
    assert AutoTrainer().diagnose(stalled_run(dead_relu_frac=np.full(400, 0.9))).label == "plateau"


def test_total_grad_norm_alone_can_show_vanishing_but_not_exploding():
    verdict = AutoTrainer().diagnose(stalled_run(grad_norm=np.full(400, 1e-6)))
    assert verdict.label == "plateau"
    assert any("gradient-ratio rules abstain" in line for line in verdict.evidence)
    assert AutoTrainer().diagnose(stalled_run(grad_norm=np.full(400, 1e3))).label != "lr_high"


def test_a_nan_gradient_norm_is_lr_high():
    grad = np.ones(400)
    grad[50] = np.inf
    verdict = AutoTrainer().diagnose(stalled_run(grad_norm=grad))
    assert (verdict.label, verdict.onset_step) == ("lr_high", 50)


def test_short_runs_are_insufficient():
    """The rules need 5 epochs: 5 validation points, or 50 train points without validation."""
    verdict = AutoTrainer().diagnose(step_run(decay(49), 1.0))
    assert verdict.label == INSUFFICIENT_DATA
    assert "only 4 epochs" in verdict.evidence[0]
    assert AutoTrainer().diagnose(step_run(decay(50), 1.0)).label != INSUFFICIENT_DATA
    assert AutoTrainer().diagnose(epoch_run(decay(4), decay(4), 1.0)).label == INSUFFICIENT_DATA
    assert AutoTrainer().diagnose(epoch_run(decay(5), decay(5), 1.0)).label != INSUFFICIENT_DATA


@pytest.mark.parametrize("params", [{"beta_3": 0}, {"gamma": 1.5}, {"window": 0}, {"capacity": 7}, {"eta": "x"}])
def test_bad_parameters_are_rejected(params):
    with pytest.raises(ValueError):
        AutoTrainer(**params)


def test_parameters_are_stored_unchanged():
    detector = AutoTrainer(beta_3=50.0, window=7)
    assert (detector.beta_3, detector.window) == (50.0, 7)


finite_or_not = st.floats(allow_nan=True, allow_infinity=True, width=64) | st.floats(-1e6, 1e6)


@st.composite
def random_runs(draw):
    n = draw(st.integers(1, 150))
    steps = np.cumsum(draw(st.lists(st.integers(1, 50), min_size=n, max_size=n)))
    train = draw(st.lists(finite_or_not, min_size=n, max_size=n))
    columns = {"train_loss": train}
    for name in draw(st.sets(st.sampled_from(["val_loss", "grad_norm", "grad_norm/a", "grad_norm/b", "dead_frac"]))):
        columns[name] = draw(st.lists(st.none() | finite_or_not, min_size=n, max_size=n))
    return Run.from_columns(steps, **columns)


@settings(max_examples=150, deadline=None)
@given(random_runs())
def test_random_runs_give_valid_verdicts_equal_to_the_replay(run):
    detector = AutoTrainer()
    verdict = detector.diagnose(run)
    assert verdict.label in LABELS or verdict.label == INSUFFICIENT_DATA
    assert all(math.isfinite(p) for p in verdict.probabilities.values())
    assert math.isclose(sum(verdict.probabilities.values()), 1.0)
    detector.reset()
    last = None
    for step, metrics in iter_steps(run):
        last = detector.update(step, **metrics) or last
    if last is not None:
        assert (last.label, last.onset_step, last.evidence) == (verdict.label, verdict.onset_step, verdict.evidence)
    else:
        assert verdict.label == INSUFFICIENT_DATA
