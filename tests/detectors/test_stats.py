"""StatsDetector: each label on hand-made runs at several loss scales, real healthy logs, properties."""

import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as scipy_stats

from curvebench.datasets.csv_run import read_csv
from curvebench.detectors.base import iter_steps
from curvebench.detectors.stats import StatsDetector
from curvebench.detectors.streaming_stats import mann_kendall_z, theil_sen_slope
from curvebench.run import INSUFFICIENT_DATA, LABELS, Run

SCALES = [0.01, 1.0, 1000.0]
NANOGPT = sorted(Path("/work/shared/data/nanogpt").glob("0*.csv"))


def real_noise(n: int, sigma: float, seed: int) -> np.ndarray:
    """Multiplicative noise like real logs: heavy-tailed, right-skewed, with rare upward spikes."""
    rng = np.random.default_rng(seed)
    body = 0.7 * sigma * rng.standard_t(4, n)
    spikes = (rng.random(n) < 0.01) * rng.exponential(0.3, n)
    return np.exp(body + spikes)


def decay(n: int) -> np.ndarray:
    t = np.arange(n, dtype=float)
    return 2.0 * np.exp(-t / (n / 5)) + 0.3


def per_step(train: np.ndarray, val: np.ndarray | None, scale: float, seed: int = 0, **extra) -> Run:
    """One point per step, noise of 3%; validation every 50 steps."""
    n = train.size
    columns = {"train_loss": scale * train * real_noise(n, 0.03, seed), **extra}
    if val is not None:
        noisy_val = scale * val * real_noise(n, 0.01, seed + 1)
        columns["val_loss"] = [float(v) if k % 50 == 49 else None for k, v in enumerate(noisy_val)]
    return Run.from_columns(np.arange(n), **columns)


def per_epoch(train: np.ndarray, val: np.ndarray, scale: float, seed: int = 0) -> Run:
    """One train and one val point per epoch of 100 steps, noise of 1%."""
    n = train.size
    steps = 100 * np.arange(1, n + 1)
    return Run.from_columns(steps, train_loss=scale * train * real_noise(n, 0.01, seed),
                            val_loss=scale * val * real_noise(n, 0.005, seed + 1))


def both_kinds(train_shape, val_shape=None):
    """The same shape as a 2,000-step log and as a 40-epoch log."""
    runs = []
    for n, make in ((2000, per_step), (40, per_epoch)):
        train = train_shape(n)
        val = val_shape(n, train) if val_shape else 1.05 * train
        runs.append((make, train, val))
    return runs


def verdicts(train_shape, val_shape=None, scale=1.0):
    runs = both_kinds(train_shape, val_shape)
    return [StatsDetector().diagnose(make(train, val, scale)) for make, train, val in runs]


@pytest.mark.parametrize("scale", SCALES)
def test_noisy_healthy_runs_are_healthy(scale):
    for verdict in verdicts(decay, scale=scale):
        assert verdict.label == "healthy", verdict.evidence
        assert verdict.onset_step is None


@pytest.mark.skipif(not NANOGPT, reason="the shared nanoGPT logs are not on this machine")
@pytest.mark.parametrize("path", NANOGPT, ids=lambda p: p.name)
def test_real_nanogpt_pretraining_logs_are_healthy(path):
    verdict = StatsDetector().diagnose(read_csv(path))
    assert verdict.label == "healthy", verdict.evidence


def diverge(n):
    curve = decay(n)
    half = n // 2
    curve[half:] = curve[half] * np.exp((np.arange(n - half)) / (n / 10))
    return curve


def oscillate(n):
    t = np.arange(n, dtype=float)
    return (1.5 + 0.5 * np.exp(-t / n)) * np.exp(0.4 * np.sin(np.pi * t / 3))


def spike_then_collapse(n):
    curve = decay(n)
    curve[n // 10 : n // 10 + n // 40 + 2] = 8.0
    curve[n // 10 + n // 40 + 2 :] = 2.3
    return curve


@pytest.mark.parametrize("scale", SCALES)
@pytest.mark.parametrize("shape", [diverge, oscillate, spike_then_collapse])
def test_too_high_learning_rate_in_its_several_faces(shape, scale):
    for verdict in verdicts(shape, scale=scale):
        assert verdict.label == "lr_high", verdict.evidence
        assert verdict.onset_step is not None


@pytest.mark.parametrize("scale", SCALES)
def test_repeated_spikes_on_a_rising_trend_are_lr_high(scale):
    t = np.arange(2000.0)
    train = decay(2000) * np.exp(0.0004 * np.maximum(t - 800, 0))
    train[800::15] *= 2.0
    assert StatsDetector().diagnose(per_step(train, None, scale)).label == "lr_high"
    calm = decay(2000)
    calm[800::15] *= 2.0
    assert StatsDetector().diagnose(per_step(calm, None, scale)).label == "healthy"


def test_frequent_big_spikes_let_a_smaller_rise_count():
    """Spikes on 5% of the steps blow up the noise scale; the spike count lets a +14% rise through."""
    rng = np.random.default_rng(1)
    t = np.arange(1000)
    noise = 0.03 * rng.standard_normal(1000)
    jumps = (rng.random(1000) < 0.05) * rng.exponential(1.0, 1000)
    train = decay(1000) * np.exp(0.001 * np.maximum(t - 400, 0) + noise + jumps)
    verdict = StatsDetector().diagnose(Run.from_columns(t, train_loss=train))
    assert verdict.label == "lr_high"
    assert "repeated spikes" in verdict.evidence[0]


@pytest.mark.parametrize("scale", SCALES)
def test_nan_loss_is_lr_high_from_the_nan_step(scale):
    train = decay(500)
    train[321:] = np.nan
    verdict = StatsDetector().diagnose(per_step(train, None, scale))
    assert (verdict.label, verdict.onset_step) == ("lr_high", 321)
    five = StatsDetector().diagnose(Run.from_columns(range(5), train_loss=[1.0, 0.9, math.inf, 1.0, 1.0]))
    assert (five.label, five.onset_step) == ("lr_high", 2)


@pytest.mark.parametrize("scale", SCALES)
def test_tiny_steady_decline_is_lr_low(scale):
    for verdict in verdicts(lambda n: 2.3 * (1 - 0.08 * np.arange(n) / n), scale=scale):
        assert verdict.label == "lr_low", verdict.evidence


def overfit_val(n, train):
    val = 1.02 * train + 0.05
    val[n // 2 :] = val[n // 2] + 0.6 * np.arange(n - n // 2) / n
    return val


@pytest.mark.parametrize("scale", SCALES)
def test_validation_rising_after_its_minimum_is_overfit(scale):
    for (make, train, _), verdict in zip(both_kinds(decay, overfit_val), verdicts(decay, overfit_val, scale)):
        assert verdict.label == "overfit", verdict.evidence
        step_of_the_minimum = train.size // 2 if make is per_step else 100 * (train.size // 2 + 1)
        assert verdict.onset_step > step_of_the_minimum


@pytest.mark.parametrize("scale", SCALES)
def test_fast_drop_then_flat_is_plateau(scale):
    for verdict in verdicts(lambda n: np.maximum(decay(n), 1.2), scale=scale):
        assert verdict.label == "plateau", verdict.evidence


def test_flat_near_the_start_needs_the_gradient_norm_to_tell_plateau_from_lr_low():
    flat = np.full(2000, 2.3)
    vanishing = StatsDetector().diagnose(per_step(flat, None, 1.0, grad_norm=np.exp(-np.arange(2000) / 200)))
    assert vanishing.label == "plateau"
    alive = StatsDetector().diagnose(per_step(flat, None, 1.0, grad_norm=np.ones(2000)))
    assert alive.label == "lr_low"
    assert "gradients alive" in alive.evidence[0]


def test_a_flat_tail_under_a_decayed_learning_rate_is_healthy():
    lr = np.maximum(0.0, 1.0 - np.arange(2000.0) / 1200)
    train = 2.0 * np.exp(-5 * np.cumsum(lr) / lr.sum()) + 0.3
    verdict = StatsDetector().diagnose(per_step(train, None, 1.0, lr=lr))
    assert verdict.label == "healthy"
    assert "lr decayed" in verdict.evidence[0]
    assert StatsDetector().diagnose(per_step(train, None, 1.0)).label == "plateau"


def test_catapult_and_edge_of_stability_are_healthy():
    t = np.arange(2000.0)
    catapult = decay(2000)
    catapult[20:60] *= 1 + 0.8 * np.sin(np.pi * (t[20:60] - 20) / 40)
    edge = decay(2000) * (1 + 0.03 * np.sin(np.pi * t / 2))
    for train in (catapult, edge):
        assert StatsDetector().diagnose(per_step(train, 1.05 * train, 1.0)).label == "healthy"


def test_non_uniform_steps_and_missing_channels():
    rng = np.random.default_rng(3)
    steps = np.cumsum(rng.integers(1, 40, 800))
    train = decay(800) * real_noise(800, 0.03, 3)
    assert StatsDetector().diagnose(Run.from_columns(steps, train_loss=train)).label == "healthy"


def test_long_runs_stay_healthy_and_fast():
    n = 100_000
    run = Run.from_columns(np.arange(n), train_loss=decay(n) * real_noise(n, 0.03, 5))
    assert StatsDetector().diagnose(run).label == "healthy"


def test_below_the_minimum_the_verdict_is_insufficient_data():
    verdict = StatsDetector().diagnose(Run.from_columns(range(9), train_loss=decay(9)))
    assert verdict.label == INSUFFICIENT_DATA
    assert StatsDetector().diagnose(Run.from_columns(range(10), train_loss=decay(10))).label != INSUFFICIENT_DATA


@pytest.mark.parametrize("params", [{"alpha": 0}, {"alpha": 1.5}, {"noise_sigmas": -1}, {"min_points": 3},
                                    {"capacity": 15}, {"recheck": 0}, {"buffer": "x"}])
def test_bad_parameters_are_rejected(params):
    with pytest.raises(ValueError):
        StatsDetector(**params)


def test_parameters_are_stored_unchanged():
    detector = StatsDetector(alpha=0.05, min_points=20)
    assert (detector.alpha, detector.min_points) == (0.05, 20)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(-1e3, 1e3), min_size=3, max_size=60, unique=True))
def test_trend_helpers_agree_with_scipy(values):
    x = np.array(values)
    t = np.arange(x.size, dtype=float)
    n = x.size
    tau = scipy_stats.kendalltau(t, x).statistic
    s = tau * n * (n - 1) / 2
    expected = 0.0 if s == 0 else (s - np.sign(s)) / math.sqrt(n * (n - 1) * (2 * n + 5) / 18)
    assert mann_kendall_z(x) == pytest.approx(expected, abs=1e-9)
    assert theil_sen_slope(t, x) == pytest.approx(scipy_stats.theilslopes(x, t).slope, rel=1e-9, abs=1e-12)


finite_or_not = st.floats(allow_nan=True, allow_infinity=True) | st.floats(-1e6, 1e6)


@st.composite
def random_runs(draw):
    n = draw(st.integers(1, 200))
    steps = np.cumsum(draw(st.lists(st.integers(1, 50), min_size=n, max_size=n)))
    columns = {"train_loss": draw(st.lists(finite_or_not, min_size=n, max_size=n))}
    for name in draw(st.sets(st.sampled_from(["val_loss", "grad_norm", "lr"]))):
        columns[name] = draw(st.lists(st.none() | finite_or_not, min_size=n, max_size=n))
    return Run.from_columns(steps, **columns)


@settings(max_examples=150, deadline=None)
@given(random_runs())
def test_random_runs_give_valid_verdicts_equal_to_the_replay(run):
    detector = StatsDetector()
    verdict = detector.diagnose(run)
    assert verdict.label in LABELS or verdict.label == INSUFFICIENT_DATA
    assert all(math.isfinite(p) and p >= 0 for p in verdict.probabilities.values())
    assert math.isclose(sum(verdict.probabilities.values()), 1.0)
    detector.reset()
    last = None
    for step, metrics in iter_steps(run):
        last = detector.update(step, **metrics) or last
    if last is None:
        assert verdict.label == INSUFFICIENT_DATA
    else:
        assert (last.label, last.onset_step, last.probabilities) == (verdict.label, verdict.onset_step,
                                                                    verdict.probabilities)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.floats(1e-3, 1e3), min_size=10, max_size=300),
    st.integers(-20, 20),
    st.sampled_from(["decay", "raw"]),
)
def test_scaling_the_loss_does_not_change_the_label(values, power, shape):
    """Scaled by a power of two the log-loss is bit-identical; scaled by 1000 it is equal to rounding."""
    train = np.array(values)
    if shape == "decay":
        train = decay(train.size) * train / train.max() + 0.01
    run = Run.from_columns(np.arange(train.size), train_loss=train)
    label = StatsDetector().diagnose(run).label
    scaled = Run.from_columns(np.arange(train.size), train_loss=train * 2.0**power)
    assert StatsDetector().diagnose(scaled).label == label
