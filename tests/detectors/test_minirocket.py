"""minirocket: sktime's MiniRocket rebuilt from plain arrays, reproducible training, scale-free verdicts."""

import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("sktime")

from curvebench.detectors.minirocket import (PARAMS, TRANSFORM, MiniRocketDetector, features,  # noqa: E402
                                             load_params, transformer)
from curvebench.detectors.resample import RunSketch, labeled_sketches  # noqa: E402
from curvebench.run import INSUFFICIENT_DATA, LABELS, Run  # noqa: E402


def test_training_twice_with_the_same_seed_gives_identical_arrays(toy_runs):
    first = MiniRocketDetector(n_features=168, seed=3).fit(toy_runs()).params_
    again = MiniRocketDetector(n_features=168, seed=3).fit(toy_runs()).params_
    assert first.keys() == again.keys()
    assert all(np.array_equal(first[key], again[key]) for key in first)
    other = MiniRocketDetector(n_features=168, seed=4).fit(toy_runs()).params_
    assert not np.array_equal(first["biases"], other["biases"])


def test_the_rebuilt_transform_gives_the_fitted_one_s_features(toy_runs):
    from sktime.transformations.rocket import MiniRocketMultivariate

    X, _, _ = labeled_sketches(toy_runs(1), 64)
    fitted = MiniRocketMultivariate(num_kernels=168, random_state=5).fit(X)
    saved = {key: np.asarray(value) for key, value in zip(TRANSFORM, fitted.parameters)} | {"seed": np.int64(5)}
    assert np.array_equal(features(transformer(saved), X), fitted.transform(X).to_numpy(dtype=np.float64))


def test_shipped_parameters_are_plain_arrays_with_their_recipe():
    with np.load(PARAMS, allow_pickle=False) as data:
        assert all(data[key].dtype != object for key in data.files)
    params = load_params(PARAMS)
    assert params["coef"].shape == (len(LABELS), params["biases"].size)
    assert PARAMS.with_suffix(".json").read_text().count("curvebench train --detector minirocket") == 1


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


def test_the_calibration_split_keeps_every_run_on_one_side(toy_runs):
    from curvebench.detectors.learned import held_out

    _, _, groups = labeled_sketches(toy_runs(4), 64)
    held = held_out(groups, seed=0)
    assert 0 < held.sum() < held.size
    assert all(len(set(held[groups == run].tolist())) == 1 for run in np.unique(groups))


def test_importing_the_detectors_does_not_import_sktime():
    code = "import sys, curvebench.detectors; print('sktime' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip() == "False"
