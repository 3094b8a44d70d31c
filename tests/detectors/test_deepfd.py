"""DeepFDDetector: the shared battery, DeepFD's eight statistics, streaming = offline, the shipped forest."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from curvebench.detectors import available_detectors, register
from curvebench.detectors.base import iter_steps
from curvebench.detectors.deepfd import FEATURE_NAMES, DeepFDDetector, summary_statistics
from curvebench.run import LABELS
from curvebench.simulator import simulate_many

if "deepfd" not in available_detectors():
    register("deepfd", DeepFDDetector)


def _battery():
    path = Path(__file__).with_name("test_battery.py")
    spec = importlib.util.spec_from_file_location("battery_for_deepfd", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


BATTERY = _battery()


@pytest.mark.parametrize("check", [
    "test_any_run_gives_a_valid_verdict_equal_to_the_streamed_one", "test_an_empty_or_one_point_run_is_insufficient",
    "test_same_run_twice_gives_the_same_verdict", "test_a_long_run_streams_without_error",
])
def test_passes_the_shared_battery(check):
    getattr(BATTERY, check)(name="deepfd")


def test_the_eight_statistics_are_deepfds():
    values = np.random.default_rng(0).lognormal(size=50)
    x = summary_statistics({"val_loss": (np.arange(50.0), np.r_[values[:-1], np.nan])})
    v = values[:-1]
    expected = [v.mean(), v.std(), stats.skew(v), np.median(v), v.var(), v.std() / np.sqrt(v.size), v.max(), v.min()]
    start = FEATURE_NAMES.index("val_loss.mean")
    assert np.allclose(x[start:start + 8], expected)
    assert not x[:start].any()  # no train loss given: zeros, as DeepFD's table would hold nothing


def test_offline_diagnose_equals_the_streamed_verdict():
    detector = DeepFDDetector()
    for run in simulate_many(5, seed=515151, steps=200):
        detector.reset()
        last = None
        for step, metrics in iter_steps(run):
            last = detector.update(step, **metrics) or last
        assert detector.diagnose(run).to_dict() == last.to_dict()


def test_shipped_forest_records_its_recipe():
    meta = DeepFDDetector().model_.meta
    assert meta["command"].startswith("curvebench train --detector deepfd --seed ")
    assert meta["features"] == list(FEATURE_NAMES) and meta["labels"] == list(LABELS)
