"""The minirocket detector: reproducible training, shipped parameters without pickle, scale-free verdicts."""

import numpy as np
import pytest

from curvebench.detectors.minirocket import PARAMS, MiniRocketDetector, load_params, train_params
from curvebench.detectors.resample import RunSketch
from curvebench.run import INSUFFICIENT_DATA, LABELS, Run


def test_training_twice_with_the_same_seed_gives_identical_arrays(toy_runs):
    first = train_params(seed=3, runs=toy_runs(), n_features=168)
    again = train_params(seed=3, runs=toy_runs(), n_features=168)
    assert first.keys() == again.keys()
    assert all(np.array_equal(first[key], again[key]) for key in first)
    other = train_params(seed=4, runs=toy_runs(), n_features=168)
    assert not np.array_equal(first["biases"], other["biases"])


def test_shipped_parameters_are_plain_arrays():
    with np.load(PARAMS, allow_pickle=False) as data:
        assert all(data[key].dtype != object for key in data.files)
    params = load_params(PARAMS)
    assert params["coef"].shape == (len(LABELS), params["biases"].size)


def test_fit_learns_the_toy_labels(toy_runs):
    runs = toy_runs()
    detector = MiniRocketDetector(n_features=336).fit(runs)
    assert [detector.diagnose(run).label for run in runs[:5]] == list(LABELS)


def test_a_blow_up_is_lr_high_before_the_first_nan():
    t = np.arange(300)
    loss = 2.0 * np.exp(-t / 60) + 0.3
    loss[200:] *= np.exp((t[200:] - 200) / 8.0)
    loss[250:] = np.nan
    grad = np.where(t < 200, 1.0, np.exp((t - 200) / 8.0))
    run = Run.from_columns(t, train_loss=loss, grad_norm=grad)
    verdict = MiniRocketDetector().diagnose(run)
    assert verdict.label == "lr_high"
    assert verdict.onset_step < 250


@pytest.mark.parametrize("scale", [1e-6, 1.0, 1e6])
def test_the_verdict_ignores_the_loss_scale(scale):
    t = np.arange(200)
    loss = (2.0 * np.exp(-t / 50) + 0.3) * np.exp(0.02 * np.random.default_rng(1).standard_normal(200))
    base = MiniRocketDetector().diagnose(Run.from_columns(t, train_loss=loss)).label
    assert MiniRocketDetector().diagnose(Run.from_columns(t, train_loss=loss * scale)).label == base


def test_too_few_points_are_insufficient_and_a_missing_channel_is_masked():
    detector = MiniRocketDetector()
    assert detector.diagnose(Run.from_columns(range(9), train_loss=np.ones(9))).label == INSUFFICIENT_DATA
    sketch = RunSketch(16)
    for step in range(20):
        sketch.add(step, {"train_loss": 1.0})
    assert not sketch.array()[6:].any()  # has_val, has_grad, has_lr all 0
