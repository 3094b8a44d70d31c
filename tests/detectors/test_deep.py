"""The deep detector: deterministic training, a state_dict loaded with weights_only, scale-free verdicts."""

import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("torch")

from curvebench.detectors.deep import PARAMS, DeepDetector, load_params  # noqa: E402
from curvebench.run import INSUFFICIENT_DATA, LABELS, Run  # noqa: E402


def test_training_twice_with_the_same_seed_gives_identical_weights(toy_runs):
    first = DeepDetector(epochs=2, seed=3).fit(toy_runs(1)).network_.state_dict()
    again = DeepDetector(epochs=2, seed=3).fit(toy_runs(1)).network_.state_dict()
    assert first.keys() == again.keys()
    assert all(bool((first[key] == again[key]).all()) for key in first)


def test_shipped_weights_load_with_weights_only():
    state = load_params(PARAMS)
    assert state[next(reversed(state))].shape == (len(LABELS),)


def test_fit_learns_the_toy_labels(toy_runs):
    runs = toy_runs()
    detector = DeepDetector(epochs=60).fit(runs)
    right = sum(detector.diagnose(run).label == run.label for run in runs)
    assert right >= 0.8 * len(runs)


@pytest.mark.parametrize("scale", [1e-6, 1e6])
def test_the_verdict_ignores_the_loss_scale(scale):
    t = np.arange(200)
    loss = (2.0 * np.exp(-t / 50) + 0.3) * np.exp(0.02 * np.random.default_rng(1).standard_normal(200))
    base = DeepDetector().diagnose(Run.from_columns(t, train_loss=loss)).label
    assert DeepDetector().diagnose(Run.from_columns(t, train_loss=loss * scale)).label == base


def test_too_few_points_are_insufficient():
    assert DeepDetector().diagnose(Run.from_columns(range(9), train_loss=np.ones(9))).label == INSUFFICIENT_DATA


def test_importing_the_detectors_does_not_import_torch():
    code = "import sys, curvebench.detectors.deep, curvebench.detectors; print('torch' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip() == "False"
