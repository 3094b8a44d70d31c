"""FeaturesDetector (the shared battery runs in test_battery.py): scale-free features, streaming = offline, saving without pickle, training."""

import io
import zipfile

import numpy as np
import pytest

from curvebench.detectors.base import iter_steps
from curvebench.detectors.curve_features import FEATURE_NAMES, curve_features
from curvebench.detectors.features import FeaturesDetector
from curvebench.detectors.learned import core_series
from curvebench.run import INSUFFICIENT_DATA, LABELS, Run, RunSet
from curvebench.simulator import simulate_many

@pytest.fixture(scope="module")
def sim_runs() -> RunSet:
    return simulate_many(10, seed=424242, steps=300)


def test_features_ignore_the_loss_scale_and_mark_missing_channels(sim_runs):
    for run in sim_runs:
        channels = core_series(run)
        scaled = {name: (s, v * 1e4 if name.endswith("loss") else v) for name, (s, v) in channels.items()}
        assert np.allclose(curve_features(channels), curve_features(scaled), equal_nan=True, atol=1e-9)
    bare = curve_features({"train_loss": core_series(sim_runs[0])["train_loss"]})
    for name in ("val_present", "grad_present", "lr_present"):
        assert bare[FEATURE_NAMES.index(name)] == 0.0


def test_offline_diagnose_equals_the_streamed_verdict(sim_runs):
    detector = FeaturesDetector()
    for run in sim_runs:
        detector.reset()
        last = None
        for step, metrics in iter_steps(run):
            last = detector.update(step, **metrics) or last
        assert detector.diagnose(run).to_dict() == last.to_dict()


def test_a_blow_up_is_called_lr_high_before_the_first_nan():
    t = np.arange(400)
    loss = 2.0 * np.exp(-t / 80) + 0.3
    loss[300:] *= np.exp((t[300:] - 300) / 8.0)
    loss[340:] = np.nan
    grad = np.where(t < 300, 1.0, np.exp((t - 300) / 8.0))
    detector = FeaturesDetector()
    raised = [step for step, metrics in iter_steps(Run.from_columns(t, train_loss=loss, grad_norm=grad))
              if (v := detector.update(step, **metrics)) is not None and v.label == "lr_high"]
    assert raised and raised[0] < 340


def test_too_few_points_are_insufficient_data():
    run = Run.from_columns(range(4), train_loss=[2.0, 1.5, 1.2, 1.0])
    assert FeaturesDetector().diagnose(run).label == INSUFFICIENT_DATA


def test_shipped_parameters_load_without_pickle_and_record_their_recipe():
    detector = FeaturesDetector()
    with zipfile.ZipFile(_shipped()) as archive:
        for name in archive.namelist():
            array = np.lib.format.read_array(io.BytesIO(archive.read(name)), allow_pickle=False)
            assert array.dtype != object
    meta = detector.model_.meta
    assert meta["command"].startswith("curvebench train --detector features --seed ")
    assert meta["features"] == list(FEATURE_NAMES) and meta["labels"] == list(LABELS)


def _shipped() -> str:
    from curvebench.detectors.vector import shipped_params

    return shipped_params("features")


def test_the_train_command_gives_the_same_bytes_twice_and_records_its_recipe(tmp_path, capsys, monkeypatch, sim_runs):
    from argparse import Namespace

    from curvebench.cli.train import run

    monkeypatch.setattr("curvebench.detectors.vector.training_runs", lambda seed, n, families=(): sim_runs)
    for name in ("a", "b"):
        args = Namespace(detector="features", seed=1, n_simulated=10, family=[], out=str(tmp_path / f"{name}.npz"))
        assert run(args) == 0
    assert "simulate_many(10, seed=1)" in capsys.readouterr().out
    for suffix in (".npz", ".json"):
        assert (tmp_path / f"a{suffix}").read_bytes() == (tmp_path / f"b{suffix}").read_bytes()
    loaded = FeaturesDetector(params=str(tmp_path / "a.npz"))
    assert loaded.model_.meta["command"] == "curvebench train --detector features --seed 1 --n-simulated 10"
    assert loaded.diagnose(sim_runs[0]).label in LABELS


def test_parameters_that_are_not_ours_are_refused_by_name(tmp_path):
    from curvebench.errors import InputError

    bogus = tmp_path / "bogus.npz"
    bogus.write_bytes(b"not a zip")
    (tmp_path / "bogus.json").write_text("{}")
    with pytest.raises(InputError, match="bogus"):
        FeaturesDetector(params=str(bogus))


def test_exported_boosting_gives_scikit_learns_probabilities_missing_values_included():
    from sklearn.ensemble import HistGradientBoostingClassifier

    from curvebench.detectors.tree_ensemble import TreeEnsemble

    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 4))
    y = (X[:, 0] > 0).astype(int) + 2 * (X[:, 1] > 0.5)
    X[rng.random(X.shape) < 0.1] = np.nan
    model = HistGradientBoostingClassifier(max_iter=20, max_depth=4, random_state=0).fit(X, y)
    assert np.allclose(TreeEnsemble.from_boosting(model).predict_proba(X), model.predict_proba(X), atol=1e-12)


def test_catch22_describes_the_log_loss_curve_once_it_has_ten_points():
    t = np.arange(300)
    loss = (2.0 * np.exp(-t / 60) + 0.3) * np.exp(0.02 * np.random.default_rng(3).standard_normal(300))
    catch22 = [k for k, name in enumerate(FEATURE_NAMES) if name.startswith("c22_")]
    assert len(catch22) == 22
    assert np.isfinite(curve_features({"train_loss": (t, loss)})[catch22]).all()
    assert np.isnan(curve_features({"train_loss": (t[:9], loss[:9])})[catch22]).all()


def test_fits_on_runs_that_never_log_a_channel(toy_runs):
    """A user's suite without ``grad_norm`` or ``lr`` trains (family-split on their logs), and predicts on it."""
    runs = RunSet([Run({k: c for k, c in run.channels.items() if k in ("train_loss", "val_loss")},
                       label=run.label, onset_step=run.onset_step, run_id=run.run_id)
                   for run in toy_runs(6)])
    detector = FeaturesDetector().fit(runs)
    assert detector.diagnose(runs[0]).label in LABELS
